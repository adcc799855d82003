package cmd

import (
	"slices"
	"strings"
	"testing"
)

// FuzzInterspersed: whatever is typed, the argument rewriter does not
// panic, keeps the program name first, loses no word (every argument that
// is not a flag is in the result, maybe joined to its flag), and leaves
// what follows -- as it was, at the end; and the help a usage error points
// at is kcurl's own or one of its commands'.
func FuzzInterspersed(f *testing.F) {
	for _, seed := range []string{
		"/api -v", "/api -n kube-system -q .kind", "/api -XPOST", "/api -d@body.json", "/api -sv",
		"/echo -sXPOST -d {}", "/api --arg name web -q .x", "-v -- /api -x", "pods/web/log -c app",
		"-c app pods/web/log", "-n prod -k can-i list pods", "proxy -p 0 --allow-impersonation",
		"--arg", "-c", "-", "--", "-=", "--=x", "-qq", "whoami -o json -q .x",
		"--kubeconfig f config get-contexts a", "exec web -c", "-n exec pods",
	} {
		f.Add(seed)
	}
	app := newApp(Streams{})
	f.Fuzz(func(t *testing.T, line string) {
		args := append([]string{"kcurl"}, strings.Fields(line)...)
		if topic := helpTopic(slices.Clone(args), app); topic != "" {
			command, sub, _ := strings.Cut(topic, " ")
			if c := app.Command(command); c == nil || (sub != "" && subcommandNamed(c, sub) == nil) {
				t.Fatalf("helpTopic(%q) = %q: no such command", args, topic)
			}
		}
		got, err := interspersed(slices.Clone(args), app)
		if err != nil {
			return // refused: a usage error, which is fine
		}
		if len(got) == 0 || got[0] != "kcurl" {
			t.Fatalf("interspersed(%q) = %q: the program name is not first", args, got)
		}
		joined := strings.Join(got[1:], "\x00")
		for _, a := range args[1:] {
			if !strings.HasPrefix(a, "-") && !strings.Contains(joined, a) {
				t.Fatalf("interspersed(%q) = %q: %q is lost", args, got, a)
			}
		}
		if i := slices.Index(args, "--"); i > 0 {
			rest := args[i+1:]
			if len(got) < len(rest) || !slices.Equal(got[len(got)-len(rest):], rest) {
				t.Fatalf("interspersed(%q) = %q: what follows -- changed", args, got)
			}
		}
	})
}
