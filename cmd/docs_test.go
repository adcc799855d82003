package cmd

import (
	"flag"
	"os"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/kcurl.1 and docs/reference.md from the app")

// The man page and the Markdown reference are generated from the urfave/cli
// app itself; this fails when they drift from it. Regenerate with
//
//	go test ./cmd -run TestGeneratedDocs -update-docs
func TestGeneratedDocs(t *testing.T) {
	app := newApp(Streams{})
	man, err := app.ToManWithSection(1)
	if err != nil {
		t.Fatal(err)
	}
	md, err := app.ToMarkdown()
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"../docs/kcurl.1": man, "../docs/reference.md": md} {
		if *updateDocs {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is not what the app generates (err %v): run go test ./cmd -run TestGeneratedDocs -update-docs", path, err)
		}
	}
}
