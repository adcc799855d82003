package explain

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// testdata/core_v1.json is a small cut of the real core/v1 document.
func testDocument(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/core_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

var pods = GVR{Version: "v1", Resource: "pods"}

func TestRender(t *testing.T) {
	doc := testDocument(t)
	var b strings.Builder
	if err := Render(&b, doc, pods, []string{"spec", "containers"}, false, 0); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"KIND:       Pod\nVERSION:    v1\n\nFIELD: containers <[]Container>\n", "  name\t<string> -required-\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
	for _, tc := range []struct {
		gvr    GVR
		fields []string
		msg    string
	}{
		{pods, []string{"spec", "nope"}, `field "nope" does not exist`},
		{GVR{Version: "v1", Resource: "nodes"}, nil, "GVR (/v1, Resource=nodes) not found in OpenAPI schema"},
	} {
		b.Reset()
		err := Render(&b, doc, tc.gvr, tc.fields, false, 0)
		if code, _ := exitcode.Of(err); code != exitcode.Usage || err.Error() != tc.msg || b.Len() != 0 {
			t.Errorf("%v %v: %v (exit %d), printed %q", tc.gvr, tc.fields, err, code, b.String())
		}
	}
}

func TestSchema(t *testing.T) {
	doc := testDocument(t)
	s, err := Schema(doc, pods, []string{"spec"})
	if err != nil {
		t.Fatal(err)
	}
	if s["description"] != "Specification of the desired behavior of the pod." || s["required"] == nil || s["allOf"] != nil {
		t.Errorf("spec's schema, its reference resolved: %v", s)
	}
	if _, err := Schema(doc, pods, []string{"spec", "nope"}); err == nil || err.Error() != `field "nope" does not exist` {
		t.Errorf("err %v", err)
	}
}

// A description is the server's text: what a terminal would act on in it
// (ESC, C1 controls) is escaped; newlines stay.
func TestRenderEscapesDescriptions(t *testing.T) {
	b, err := os.ReadFile("testdata/core_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	evil := strings.Replace(string(b), `"description":"`, `"description":"\u001b]0;pwned\u0007\u009b2J`, 1)
	if err := json.Unmarshal([]byte(evil), &doc); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := Render(&out, doc, pods, nil, true, 0); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), "\x1b\x07\u009b") || !strings.Contains(out.String(), `\x1b]0;pwned\x07\u009b2J`) {
		t.Errorf("raw escapes, or the description not escaped, in\n%q", out.String())
	}
}
