package cmd

import (
	"slices"
	"testing"

	"github.com/urfave/cli/v2"
)

// Every flag is wrapped (a flag of a new kind would bring urfave's slow
// lookups back silently), with the names and help category it had.
func TestQuickFlagsWrapEveryFlag(t *testing.T) {
	app := newApp(Streams{})
	scopes := map[string][]cli.Flag{"kcurl": app.Flags}
	for _, c := range app.Commands {
		scopes[c.Name] = c.Flags
	}
	for scope, flags := range scopes {
		for _, f := range flags {
			inner := unwrapFlag(f)
			if inner == f {
				t.Errorf("%s: flag %v (%T) is not wrapped: add its kind to wrapFlag", scope, f.Names(), f)
				continue
			}
			if got, want := f.Names(), inner.Names(); !slices.Equal(got, want) {
				t.Errorf("%s: names %v, want %v", scope, got, want)
			}
			if cf, ok := f.(cli.CategorizableFlag); !ok || cf.GetCategory() != "" {
				t.Errorf("%s: flag %v shows urfave a category", scope, f.Names())
			}
			if cf, ok := inner.(cli.CategorizableFlag); ok && flagCategory(f) != cf.GetCategory() {
				t.Errorf("%s: flag %v: category %q, want %q", scope, f.Names(), flagCategory(f), cf.GetCategory())
			}
		}
	}
}
