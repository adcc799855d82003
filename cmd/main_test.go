package cmd

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgramName(t *testing.T) {
	for argv0, want := range map[string]string{
		"kcurl":                           "kcurl",
		"/usr/local/bin/kcurl":            "kcurl",
		"./kcurl-v1.0.0-linux-amd64":      "kcurl",
		"/home/u/.krew/bin/kubectl-kcurl": "kubectl kcurl",
		"kubectl-kcurl.exe":               "kubectl kcurl",
		"kubectl-api-curl":                "kubectl api curl",
		"kubectl-api_curl":                "kubectl api-curl",
		"kubectl-":                        "kcurl",
	} {
		if got := programName([]string{argv0}); got != want {
			t.Errorf("programName(%q) = %q, want %q", argv0, got, want)
		}
	}
	if got := programName(nil); got != "kcurl" {
		t.Errorf("programName(nil) = %q", got)
	}
}

// Run by kubectl as its plugin, kcurl's help says `kubectl kcurl` wherever
// it shows a command to type.
func TestHelpAsKubectlPlugin(t *testing.T) {
	help := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := Main(args, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: func(string) string { return "" }}); code != 0 {
			t.Fatalf("%q: exit %d, stderr %q", args, code, errOut.String())
		}
		return out.String()
	}
	plugin := help("/home/u/.krew/bin/kubectl-kcurl", "--help")
	for _, want := range []string{
		"kubectl kcurl - curl for the Kubernetes API",
		"\n  kubectl kcurl /api\n",
		"\n  kubectl kcurl [flags] PATH|RESOURCE [flags]\n",
		"(kubectl kcurl config shows what was found)",
		"\n  kubectl get pods              kubectl kcurl pods -o table\n",
	} {
		if !strings.Contains(plugin, want) {
			t.Errorf("kubectl-kcurl --help lacks %q:\n%s", want, plugin)
		}
	}
	for _, line := range strings.Split(plugin, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "kcurl ") {
			t.Errorf("kubectl-kcurl --help still says kcurl: %q", line)
		}
	}
	if got := help("kubectl-kcurl", "whoami", "--help"); !strings.Contains(got, "kubectl kcurl whoami [-o json|yaml]") {
		t.Errorf("kubectl-kcurl whoami --help:\n%s", got)
	}
	if got := help("kcurl", "whoami", "--help"); !strings.Contains(got, "\n  kcurl whoami [-o json|yaml]") {
		t.Errorf("kcurl whoami --help:\n%s", got)
	}
}

// kubectl completes `kubectl kcurl …` through kubectl_complete-kcurl, in
// Cobra's format: candidates, then the directive.
func TestKubectlPluginCompletion(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main([]string{"/home/u/.krew/bin/kubectl_complete-kcurl", "pods", "--kubec"},
		Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, Getenv: func(string) string { return "" }})
	if code != 0 || out.String() != "--kubeconfig\n:0\n" || errOut.Len() != 0 {
		t.Errorf("kubectl_complete-kcurl pods --kubec: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
