package cmd

import (
	"bytes"
	"strings"
	"testing"
)

// The help fits the terminal it is printed to (80 columns elsewhere),
// leads with the common flags, says no empty defaults, and points at
// nothing a Pod does not have.
func TestHelpFits(t *testing.T) {
	app := newApp(Streams{})
	commands := []string{""}
	for _, c := range app.VisibleCommands() {
		commands = append(commands, c.Name)
	}
	for _, width := range []int{0, 60, 100} {
		for _, command := range commands {
			args := []string{"kcurl", "--help"}
			if command != "" {
				args = []string{"kcurl", command, "--help"}
			}
			var out bytes.Buffer
			s := Streams{Out: &out, ErrOut: &out, Getenv: func(string) string { return "" }, OutIsTerminal: width > 0, Columns: width}
			if code := Main(args, s); code != 0 {
				t.Fatalf("%q: exit %d: %s", args, code, out.String())
			}
			help, limit := out.String(), max(width, 80)
			for _, line := range strings.Split(help, "\n") {
				// A word longer than the line (a path) cannot be broken.
				if len([]rune(line)) > limit && strings.Contains(strings.TrimSpace(line), " ") {
					t.Errorf("%q at %d columns: a line of %d: %q", args, limit, len([]rune(line)), line)
				}
			}
			for _, banned := range []string{"(default: false)", "(default: 0)", "(default: -1)", `(default: "`, "docs/", "man page", "[ --"} {
				if strings.Contains(help, banned) {
					t.Errorf("%q says %q", args, banned)
				}
			}
			if command != "" && (!strings.Contains(help, "\nEXAMPLES:\n  # ") || !strings.Contains(help, "\nEXIT CODES:\n")) {
				t.Errorf("%q has no commented examples or exit codes:\n%s", args, help)
			}
		}
	}
	var out bytes.Buffer
	Main([]string{"kcurl", "--help"}, Streams{Out: &out, Getenv: func(string) string { return "" }})
	common := "\nCOMMON FLAGS:\n  -q, --jq EXPR"
	if help := out.String(); !strings.Contains(help, common) || !strings.Contains(help, "\nKUBECTL → KCURL:\n  kubectl get pods") {
		t.Errorf("kcurl --help does not lead with the common flags or lacks the kubectl block:\n%s", help)
	}
	for _, flag := range []string{"-o, --output", "-d, --data", "-X, --request", "-n, --namespace", "-l, --selector", "-w, --watch"} {
		if i := strings.Index(out.String(), "\n  "+flag); i < 0 || i > strings.Index(out.String(), "\nConnection") {
			t.Errorf("%s is not among the common flags", flag)
		}
	}
	out.Reset()
	Main([]string{"kcurl", "wait", "--help"}, Streams{Out: &out, Getenv: func(string) string { return "" }})
	if !strings.Contains(out.String(), "\nEXIT CODES:\n  0 met\n  1 not met within --timeout") {
		t.Errorf("kcurl wait --help does not say its exit 1:\n%s", out.String())
	}
}
