package output

import (
	"io"
	"strings"
	"testing"
)

// FuzzSortBy: whatever the answer and the field, --sort-by prints or says
// why, and never panics (kubectl's comparison meets every JSON shape).
func FuzzSortBy(f *testing.F) {
	f.Add(".spec.n", `{"kind":"List","items":[{"spec":{"n":1}},{"spec":{"n":"x"}},{"spec":{}}]}`)
	f.Add("{.spec.c[*].name}", `{"kind":"Table","rows":[{"object":{"spec":{"c":[{"name":"b"},{"name":"a"}]}}},{"object":{"spec":{"c":[]}}}]}`)
	f.Add("{..name}", `{"items":[{"a":{"name":[1,2]}},{"b":{"name":null}},{"name":true}]}`)
	f.Add(`{.items[?(@.a=="b")]}`, `{"items":[[1],{"a":"b"}]}`)
	f.Fuzz(func(t *testing.T, field, body string) {
		s, err := ParseSortBy(field)
		if err != nil {
			return
		}
		r, err := s.Sort(strings.NewReader(body))
		if err == nil {
			io.Copy(io.Discard, r)
		}
	})
}
