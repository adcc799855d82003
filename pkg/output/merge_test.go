package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// The pages of one ConfigMap list as the API server sends them with
// limit=2: items keep their bytes (key order, number literals, spacing
// inside them), the list's metadata says where to go on.
var configMapPages = []string{
	`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"700","continue":"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NzAwLCJzdGFydCI6ImIifQ","remainingItemCount":3},"items":[{"metadata":{"name":"a","namespace":"ns1"},"data":{"n":"1"}},{"metadata":{"name":"b","namespace":"ns1"},"data":{"big":12345678901234567890,"f":1.50}}]}`,
	`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"700","continue":"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NzAwLCJzdGFydCI6ImQifQ","remainingItemCount":1},"items":[ {"metadata":{"name":"c"} , "data":{}} ,{"metadata":{"name":"d"}}]}`,
	`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"700"},"items":[{"metadata":{"name":"e"}}]}`,
}

// merge runs pages through a ListMerger, each read a few bytes at a time.
func merge(t *testing.T, mixed bool, pages []string) (string, []Page) {
	t.Helper()
	var out bytes.Buffer
	m := NewListMerger(&out, mixed)
	var read []Page
	for _, p := range pages {
		page, err := m.Add(iotest.HalfReader(strings.NewReader(p)))
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, page)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String(), read
}

func TestListMergerPages(t *testing.T) {
	got, pages := merge(t, false, configMapPages)
	var continues []string
	for _, page := range pages {
		if page.ResourceVersion != "700" {
			t.Errorf("resourceVersion %q", page.ResourceVersion)
		}
		continues = append(continues, page.Continue)
	}
	if continues[0] != "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NzAwLCJzdGFydCI6ImIifQ" || continues[1] != "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NzAwLCJzdGFydCI6ImQifQ" || continues[2] != "" {
		t.Errorf("continue tokens %q", continues)
	}
	// The list's metadata after its items, as a streaming list writes it.
	want := `{"kind":"ConfigMapList","apiVersion":"v1","items":[` +
		`{"metadata":{"name":"a","namespace":"ns1"},"data":{"n":"1"}},{"metadata":{"name":"b","namespace":"ns1"},"data":{"big":12345678901234567890,"f":1.50}},` +
		`{"metadata":{"name":"c"} , "data":{}},{"metadata":{"name":"d"}},` +
		`{"metadata":{"name":"e"}}],"metadata":{"resourceVersion":"700"}}`
	if got != want {
		t.Errorf("merged\n got %s\nwant %s", got, want)
	}
}

func TestListMergerEdges(t *testing.T) {
	tests := []struct {
		name  string
		pages []string
		want  string
	}{
		{"one page", []string{`{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[{"a":1}]}`},
			`{"kind":"PodList","apiVersion":"v1","items":[{"a":1}],"metadata":{"resourceVersion":"5"}}`},
		{"empty pages are skipped", []string{
			`{"kind":"PodList","metadata":{"resourceVersion":"5","continue":"x"},"items":[]}`,
			`{"kind":"PodList","metadata":{"resourceVersion":"5","continue":"y"},"items":[{"a":1}]}`,
			`{"kind":"PodList","metadata":{"resourceVersion":"5"},"items":[ ]}`},
			`{"kind":"PodList","items":[{"a":1}],"metadata":{"resourceVersion":"5"}}`},
		{"no items at all", []string{`{"kind":"PodList","metadata":{"resourceVersion":"5"},"items":[]}`, `{"kind":"PodList","metadata":{},"items":null}`},
			`{"kind":"PodList","items":[],"metadata":{"resourceVersion":"5"}}`},
		{"no metadata", []string{`{"items":[1],"kind":"X"}`, `{"items":[2]}`},
			`{"items":[1,2],"kind":"X"}`},
		{"metadata without a resourceVersion", []string{`{"metadata":{"continue":"x","remainingItemCount":1},"items":[1]}`, `{"metadata":{},"items":[2]}`},
			`{"items":[1,2],"metadata":{}}`},
		{"other fields of the first page kept as sent", []string{`{"kind":"L","extra":{"b":2.0,"a":[ 1 ]},"items":[1],"metadata":{"resourceVersion":"1"}}`, `{"items":[2],"extra":"ignored"}`},
			`{"kind":"L","extra":{"b":2.0,"a":[ 1 ]},"items":[1,2],"metadata":{"resourceVersion":"1"}}`},
		{"the list's metadata last, after fields that follow the items", []string{`{"kind":"L","metadata":{"resourceVersion":"1","continue":"c"},"items":[1],"extra":2}`, `{"metadata":{"resourceVersion":"1"},"items":[2]}`},
			`{"kind":"L","items":[1,2],"extra":2,"metadata":{"resourceVersion":"1"}}`},
		{"whitespace around the body", []string{"\n {\"items\" : [ 1 ] }\n"},
			`{"items":[1]}`},
		{"Table pages are merged by rows", []string{
			`{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"9","continue":"c"},"columnDefinitions":[{"name":"Name"}],"rows":[{"cells":["a"]}]}`,
			`{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"9"},"columnDefinitions":[{"name":"Name"}],"rows":[{"cells":["b"]}]}`},
			`{"kind":"Table","apiVersion":"meta.k8s.io/v1","columnDefinitions":[{"name":"Name"}],"rows":[{"cells":["a"]},{"cells":["b"]}],"metadata":{"resourceVersion":"9"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := merge(t, false, tt.pages)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not JSON: %s", got)
			}
		})
	}
}

func TestListMergerNotAList(t *testing.T) {
	for _, body := range []string{
		`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"}}`,
		`[{"a":1}]`,
		`"text"`,
		``,
		`{"items":`,
		`{"kind":"Status","status":"Failure","code":410}`,
	} {
		if _, err := PageOf([]byte(body)); err == nil {
			t.Errorf("%q: no error", body)
		}
	}

	m := NewListMerger(io.Discard, false)
	if _, err := m.Add(strings.NewReader(`{"items":[1]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(strings.NewReader(`{"kind":"Table","rows":[]}`)); err == nil || !strings.Contains(err.Error(), "cannot merge") {
		t.Errorf("a list, then a Table: %v", err)
	}
}

// A category (kcurl all) merges lists of several kinds into a v1 List, as
// kubectl get -o json prints it: each item gets the kind and apiVersion of
// its list, written first, unless it has its own.
func TestListMergerMixed(t *testing.T) {
	pages := []string{
		`{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"10"},"items":[{"metadata":{"name":"web","namespace":"ns1"},"spec":{"priority":0}},{}]}`,
		`{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"10"},"items":[]}`,
		`{"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"11","continue":"tok"},"items":[{"metadata":{"name":"web"},"spec":{"replicas":3}}, { } ]}`,
		`{"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"11"},"items":[{"kind":"Deployment","apiVersion":"apps/v1beta2","metadata":{"name":"old"}}]}`,
		`{"kind":"WidgetList","apiVersion":"stable.example.com/v1","metadata":{},"items":[{"apiVersion":"stable.example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1.50}},null,"odd"]}`,
	}
	got, read := merge(t, true, pages)
	var continues []string
	for _, page := range read {
		continues = append(continues, page.Continue)
	}
	if continues[2] != "tok" {
		t.Errorf("continue tokens %q", continues)
	}
	want := `{"apiVersion":"v1","items":[` +
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"ns1"},"spec":{"priority":0}},` +
		`{"apiVersion":"v1","kind":"Pod"},` +
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3}},` +
		`{"apiVersion":"apps/v1","kind":"Deployment"},` +
		`{"kind":"Deployment","apiVersion":"apps/v1beta2","metadata":{"name":"old"}},` +
		`{"apiVersion":"stable.example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":1.50}},` +
		`null,"odd"],"kind":"List","metadata":{"resourceVersion":""}}`
	if got != want {
		t.Errorf("merged\n got %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Errorf("not JSON: %s", got)
	}
}

// A custom resource's list says its kind after its items (keys in order),
// and a streaming list of them is one long page: items that carry their
// own kind are written as they are read, not held until the kind.
func TestListMergerMixedDoesNotHoldTypedItems(t *testing.T) {
	var out bytes.Buffer
	m := NewListMerger(&out, true)
	body := io.MultiReader(strings.NewReader(`{"apiVersion":"ex.com/v1","items":[{"apiVersion":"ex.com/v1","kind":"Widget","metadata":{"name":"w"}},`), iotest.ErrReader(errors.New("the connection broke")))
	if _, err := m.Add(body); err == nil || !strings.Contains(out.String(), `"name":"w"`) {
		t.Errorf("err %v, written before the break: %s", err, out.String())
	}
}

func TestListMergerCategoryOfNone(t *testing.T) {
	if got, _ := merge(t, true, nil); got != `{"apiVersion":"v1","items":[],"kind":"List","metadata":{"resourceVersion":""}}` {
		t.Errorf("got %s", got)
	}
}

// TestPullReaderMergesPagesAsTheyAreRead: the next page is only asked for
// once the reader has read the one before, and closing it stops the pages.
func TestPullReaderMergesPagesAsTheyAreRead(t *testing.T) {
	var asked []int
	merged := PullReader(func(w io.Writer) error {
		m := NewListMerger(w, false)
		for i, p := range configMapPages {
			asked = append(asked, i)
			if _, err := m.Add(strings.NewReader(p)); err != nil {
				return err
			}
		}
		return m.Close()
	})
	head := make([]byte, 10)
	if _, err := io.ReadFull(merged, head); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 {
		t.Errorf("pages asked for after 10 bytes: %v", asked)
	}
	rest, err := io.ReadAll(merged)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := merge(t, false, configMapPages); string(head)+string(rest) != want {
		t.Errorf("got %s", append(head, rest...))
	}

	stopped := errors.New("never returned")
	var produceErr error = stopped
	early := PullReader(func(w io.Writer) error {
		_, err := w.Write([]byte("{"))
		if err == nil {
			_, err = w.Write([]byte("}"))
		}
		produceErr = err
		return err
	})
	if _, err := early.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	early.Close()
	if produceErr == nil || produceErr == stopped {
		t.Errorf("produce went on after Close: %v", produceErr)
	}
}

func TestTeePageReadsThePageOnTheSide(t *testing.T) {
	through, page := TeePage(iotest.HalfReader(strings.NewReader(configMapPages[0])))
	got, err := io.ReadAll(iotest.OneByteReader(through))
	if err != nil || string(got) != configMapPages[0] {
		t.Fatalf("passed through %q, %v", got, err)
	}
	p, err := page()
	if err != nil || p.Continue != "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NzAwLCJzdGFydCI6ImIifQ" || p.ResourceVersion != "700" {
		t.Errorf("page %+v, %v", p, err)
	}

	through, page = TeePage(strings.NewReader(`{"kind":"Pod"}`))
	if _, err := io.ReadAll(through); err != nil {
		t.Fatal(err)
	}
	if _, err := page(); err == nil {
		t.Error("a Pod read as a page")
	}

	through, page = TeePage(strings.NewReader(configMapPages[1]))
	if _, err := through.Read(make([]byte, 20)); err != nil {
		t.Fatal(err)
	}
	if _, err := page(); err == nil {
		t.Error("a page read only in part gave no error")
	}
}
