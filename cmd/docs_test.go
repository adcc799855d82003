package cmd

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/cpuguy83/go-md2man/v2/md2man"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/kcurl.1 and docs/reference.md from the app")

// The man page and the Markdown reference are kcurl's own help, word for
// word, as `kcurl --help` and `kcurl COMMAND --help` print it at 80
// columns; this fails when they drift from it. Regenerate with
//
//	go test ./cmd -run TestGeneratedDocs -update-docs
func TestGeneratedDocs(t *testing.T) {
	md, manSource := referenceDocs(t)
	for path, want := range map[string]string{"../docs/kcurl.1": string(md2man.Render([]byte(manSource))), "../docs/reference.md": md} {
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

// referenceDocs renders every help text through Main, as a user sees it:
// as Markdown for docs/reference.md, and as go-md2man's input for the man
// page (its help texts indented, which md2man keeps as they are).
func referenceDocs(t *testing.T) (markdown, man string) {
	help := func(args ...string) string {
		var out bytes.Buffer
		if code := Main(append([]string{"kcurl"}, args...), Streams{Out: &out, ErrOut: &out, Getenv: func(string) string { return "" }}); code != 0 {
			t.Fatalf("kcurl %s: exit %d: %s", strings.Join(args, " "), code, out.String())
		}
		return out.String()
	}
	indent := func(text string) string {
		return "    " + strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n    ") + "\n"
	}
	app := newApp(Streams{})
	var md, mn strings.Builder
	md.WriteString("# kcurl reference\n\nWhat `kcurl --help` and `kcurl COMMAND --help` print (at 80 columns), generated from them.\n\n")
	md.WriteString("## kcurl\n\n```text\n" + help("--help") + "```\n")
	mn.WriteString("% kcurl 1\n\n# NAME\n\nkcurl - " + app.Usage + "\n\n# SYNOPSIS\n\n" + app.UsageText + "\n\n# DESCRIPTION\n\n" + indent(help("--help")))
	mn.WriteString("\n# COMMANDS\n")
	for _, c := range app.VisibleCommands() {
		text := help(c.Name, "--help")
		md.WriteString("\n## kcurl " + c.Name + "\n\n```text\n" + text + "```\n")
		mn.WriteString("\n## kcurl " + c.Name + "\n\n" + indent(text))
		for _, sub := range c.VisibleCommands() {
			text := help(c.Name, sub.Name, "--help")
			md.WriteString("\n### kcurl " + c.Name + " " + sub.Name + "\n\n```text\n" + text + "```\n")
			mn.WriteString("\n### kcurl " + c.Name + " " + sub.Name + "\n\n" + indent(text))
		}
	}
	return md.String(), mn.String()
}
