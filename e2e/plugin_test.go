//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// docs/usage.md#as-a-kubectl-plugin: the real kubectl runs kcurl as its
// plugin, found on the PATH as krew installs it (kubectl-kcurl, a link to
// the binary). kubectl passes the words, the output and the exit code
// through; kcurl's usage errors say the commands as the user types them
// there, with no kcurl on the PATH: kubectl kcurl.
func TestAsKubectlPlugin(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(kcurlBin, filepath.Join(dir, "kubectl-kcurl")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATH": dir + ":/usr/bin:/bin", "HOME": dir, "KUBECONFIG": cluster["KCURL_CLUSTER_ADMIN_KUBECONFIG"]}
	kubectl := func(args ...string) result {
		t.Helper()
		return runOutside(t, env, append([]string{cluster["KCURL_CLUSTER_KUBECTL"], "kcurl"}, args...)...)
	}
	harness.Expect(t, kubectl("/api", "-q", ".kind", "-r"), "APIVersions\n", "", 0)
	harness.Expect(t, kubectl("exec", "web"), "",
		"kcurl: exec needs a command for the container: kubectl kcurl exec web -- COMMAND [ARGS...]\nRun 'kubectl kcurl exec --help' for usage.\n", 2)
	harness.Expect(t, kubectl("get", "pods"), "",
		"kcurl: get is kubectl's; in kcurl: kubectl kcurl pods -o table\nRun 'kubectl kcurl --help' for usage.\n", 2)
	r := kubectl("podz")
	harness.Expect(t, r, "", `kcurl: the server doesn't have a resource type "podz"`, 2, harness.Contains)
	harness.Expect(t, r, "", "(kubectl kcurl api-resources lists them)\n", 2, harness.Contains)
	if r.Stdout != "" {
		t.Errorf("an unknown type printed on stdout: %q", r.Stdout)
	}
}
