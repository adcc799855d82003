package output

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestPrinterNames(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"a core list: kind from the list, no group", `{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"web"}},{"metadata":{"name":"db"}}]}`,
			"pod/web\npod/db\n"},
		{"a group's list: kind.group", `{"kind":"DeploymentList","apiVersion":"apps/v1","items":[{"metadata":{"name":"web"}}]}`,
			"deployment.apps/web\n"},
		{"a custom resource", `{"kind":"WidgetList","apiVersion":"stable.example.com/v1","items":[{"metadata":{"name":"w1"}}]}`,
			"widget.stable.example.com/w1\n"},
		{"a single object", `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"ns1"}}`,
			"pod/web\n"},
		{"a single object of a group", `{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web"}}`,
			"deployment.apps/web\n"},
		{"a v1 List of mixed items, each with its kind", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}},{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}}]}`,
			"service/s\ndeployment.apps/d\n"},
		{"an item's own kind beats the list's", `{"kind":"PodList","apiVersion":"v1","items":[{"kind":"Event","apiVersion":"events.k8s.io/v1","metadata":{"name":"e"}}]}`,
			"event.events.k8s.io/e\n"},
		{"kind after the items (not the API server's order) still names them", `{"items":[{"metadata":{"name":"a"}}],"apiVersion":"apps/v1","kind":"DeploymentList"}`,
			"deployment.apps/a\n"},
		{"watch events, one per line", `{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}}}
{"type":"DELETED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"b"}}}
{"type":"MODIFIED","object":{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"c"}}}`,
			"pod/a\nconfigmap/b\ndeployment.apps/c\n"},
		{"an empty list", `{"kind":"PodList","apiVersion":"v1","items":[]}`, ""},
		{"objects without a name are skipped", `{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{}},{"metadata":{"name":"x"}},7]}`, "pod/x\n"},
		{"something that is no object", `[1,2]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, notices, err := printWith(t, Options{Format: FormatName}, tt.body, "application/json")
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.want || notices != "" {
				t.Errorf("got %q (notices %q), want %q", out, notices, tt.want)
			}
		})
	}
}

// In a watch, each name is written through as its event arrives, before
// the next one is read.
func TestPrinterNamesFlushEachEvent(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(writerOnly{&out}, io.Discard, Options{Format: FormatName, FlushEachValue: true})
	events := []string{
		`{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}}}` + "\n",
		`{"type":"DELETED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"b"}}}` + "\n",
	}
	body := &queryPacedReader{t: t, chunks: events, out: &out, want: []string{"", "pod/a\n", "pod/a\nconfigmap/b\n"}}
	if err := p.Print(context.Background(), body, "application/json;stream=watch"); err != nil {
		t.Fatal(err)
	}
}

func TestPrinterNamesNotJSON(t *testing.T) {
	out, _, err := printWith(t, Options{Format: FormatName}, "plain log line\n", "text/plain")
	if err != nil || out != "plain log line\n" {
		t.Errorf("text goes through untouched: %q %v", out, err)
	}
	if _, _, err := printWith(t, Options{Format: FormatName}, `{"kind":`, "application/json"); err == nil {
		t.Errorf("a truncated body: %v", err)
	}
}

// TestPrinterNamesStream: a list's first name is printed before the rest
// of the list has arrived.
func TestPrinterNamesStream(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(&out, io.Discard, Options{Format: FormatName})
	broken := errors.New("the rest never came")
	body := io.MultiReader(strings.NewReader(`{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"first"}},`), iotest.ErrReader(broken))
	if err := p.Print(context.Background(), body, "application/json"); !errors.Is(err, broken) {
		t.Fatalf("error %v", err)
	}
	if out.String() != "pod/first\n" {
		t.Errorf("printed %q before the body broke", out.String())
	}
}
