package output

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/limits"
)

func sortBy(t *testing.T, field, body string) (string, error) {
	t.Helper()
	s, err := ParseSortBy(field)
	if err != nil {
		t.Fatalf("ParseSortBy(%q): %v", field, err)
	}
	r, err := s.Sort(strings.NewReader(body))
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(r)
	return string(b), nil
}

// names is the metadata.name of each item (or row's object) in order.
func names(t *testing.T, body string) []string {
	t.Helper()
	type named struct {
		Metadata struct{ Name string } `json:"metadata"`
	}
	var answer struct {
		Items []named `json:"items"`
		Rows  []struct {
			Object named `json:"object"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out []string
	for _, item := range answer.Items {
		out = append(out, item.Metadata.Name)
	}
	for _, row := range answer.Rows {
		out = append(out, row.Object.Metadata.Name)
	}
	return out
}

// The order kubectl 1.37 printed for these ConfigMaps (kubectl get cm
// --sort-by=.data.n, as a table and as -o name): quantities as
// quantities, and the two without the field first, the last one first
// (kubectl's Less puts a missing value before any other, itself included).
func TestSortByIsKubectlsOrder(t *testing.T) {
	items := `{"metadata":{"name":"a"},"data":{"n":"9"}},{"metadata":{"name":"b"},"data":{"n":"10"}},{"metadata":{"name":"c"},"data":{"n":"1k"}},{"metadata":{"name":"d"},"data":{"n":"200m"}},{"metadata":{"name":"e"}},{"metadata":{"name":"kube-root-ca.crt"}}`
	want := []string{"kube-root-ca.crt", "e", "d", "a", "b", "c"}

	list, err := sortBy(t, ".data.n", `{"kind":"ConfigMapList","items":[`+items+`]}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, list); !slices.Equal(got, want) {
		t.Errorf("items %q, want %q", got, want)
	}

	var rows []string
	for _, item := range strings.SplitAfter(items, "}},") {
		rows = append(rows, `{"cells":[],"object":`+strings.TrimSuffix(item, ",")+`}`)
	}
	table, err := sortBy(t, "{.data.n}", `{"kind":"Table","columnDefinitions":[],"rows":[`+strings.Join(rows, ",")+`]}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, table); !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
}

// Only the order changes: every member of the answer, and every item's
// bytes, are the server's.
func TestSortByKeepsTheServersBytes(t *testing.T) {
	body := `{"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[{"spec":{"n":2, "x":1.50},"metadata":{"name":"two"}},{"spec":{"n":1},"metadata":{"name":"one","note":"<&>"}}],"after":"<&>"}`
	got, err := sortBy(t, "spec.n", body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[{"spec":{"n":1},"metadata":{"name":"one","note":"<&>"}},{"spec":{"n":2, "x":1.50},"metadata":{"name":"two"}}],"after":"<&>"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// What kubectl does not sort passes through as it came: one object, a
// table of one row (not checked for the field either), an empty list, an
// answer that is not one JSON object.
func TestSortByPassesThrough(t *testing.T) {
	for _, body := range []string{
		`{"kind":"Pod","metadata":{"name":"web"}}`,
		`{"kind":"Table","rows":[{"cells":["web"],"object":{"metadata":{"name":"web"}}}]}`,
		`{"kind":"Table","rows":[]}`,
		`{"kind":"PodList","items":[]}`,
		`[1,2]`,
		`{"a":1}{"b":2}`,
		`not json`,
	} {
		got, err := sortBy(t, ".spec.missing", body)
		if err != nil || got != body {
			t.Errorf("%s: got %s, %v", body, got, err)
		}
	}
}

func TestSortByErrors(t *testing.T) {
	for _, tc := range []struct {
		field, body, want string
	}{
		{".spec.missing", `{"kind":"PodList","items":[{"metadata":{"name":"web"}}]}`, `couldn't find any field with path "{.spec.missing}" in the list of objects`},
		{".spec.missing", `{"kind":"Table","rows":[{"object":{}},{"object":{}}]}`, `couldn't find any field with path "{.spec.missing}" in the list of objects`},
		{".metadata", `{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}`, `--sort-by {.metadata}: unsortable type: map[string]interface {}`},
		{".spec.n", `{"items":[{"spec":{"n":1}},{"spec":{"n":"1"}}]}`, `--sort-by {.spec.n}: unsortable interface: interface`},
		{".spec.n", `{"items":[{"spec":{"n":1}},{"spec":{"n":1.5}}]}`, `--sort-by {.spec.n}: unsortable interface: interface`},
		{".spec.n", `{"items":[{"spec":{"n":true}},{"spec":{"n":false}}]}`, `--sort-by {.spec.n}: unsortable type: bool`},
	} {
		_, err := sortBy(t, tc.field, tc.body)
		if code, _ := exitcode.Of(err); err == nil || err.Error() != tc.want || code != exitcode.Failed {
			t.Errorf("%s on %s: %v (exit %d), want %q (exit 1)", tc.field, tc.body, err, code, tc.want)
		}
	}
	if _, err := ParseSortBy("{.items["); err == nil || err.Error() != `--sort-by "{.items[": unterminated array` {
		t.Errorf("ParseSortBy: %v", err)
	} else if code, _ := exitcode.Of(err); code != exitcode.Usage {
		t.Errorf("ParseSortBy: exit %d, want 2", code)
	}
}

// The items of a typed list carry no kind: as kubectl's decoder does, they
// get their list's, so that --sort-by=.kind finds one.
func TestSortByGivesItemsTheirListsKind(t *testing.T) {
	got, err := sortBy(t, ".kind", `{"kind":"PodList","apiVersion":"v1","items":[{"metadata":{"name":"b"}},{"metadata":{"name":"a"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b", "a"}; !slices.Equal(names(t, got), want) {
		t.Errorf("items %q, want %q (equal kinds keep their order)", names(t, got), want)
	}
}

func TestSortByHoldsNoMoreThanMaxValue(t *testing.T) {
	limits.SetMaxValue(64)
	defer limits.SetMaxValue(0)
	_, err := sortBy(t, ".metadata.name", `{"kind":"PodList","items":[{"metadata":{"name":"`+strings.Repeat("x", 64)+`"}}]}`)
	if !errors.As(err, new(*limits.ValueTooLargeError)) {
		t.Errorf("err = %v, want the bound's", err)
	}
}
