//go:build e2e

package e2e

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// The bash completion script, loaded as a user would, completes commands,
// flag values and the resource names the real server serves.
func TestBashCompletion(t *testing.T) {
	s := newSandbox(t)
	s.Env["PATH"] = filepath.Dir(kcurlBin) + ":" + s.Env["PATH"]
	complete := func(words string, cword int) result {
		t.Helper()
		// bash by name: sh may be another shell.
		return s.exec("", "bash", "-c", `source <(kcurl completion bash)
COMP_WORDS=(`+words+`); COMP_CWORD=`+strconv.Itoa(cword)+`
_kcurl; printf '%s\n' "${COMPREPLY[@]}"`)
	}
	harness.Expect(t, complete(`kcurl api-`, 1), "api-resources\n", "", 0)
	harness.Expect(t, complete(`kcurl deploy`, 1), "deploy\ndeployments\n", "", 0)
	harness.Expect(t, complete(`kcurl pods -o ya`, 3), "yaml\n", "", 0)
	harness.Expect(t, complete(`kcurl can-i list configm`, 3), "configmaps\n", "", 0)
	harness.Expect(t, complete(`kcurl wait configm`, 2), "configmaps\n", "", 0)
	harness.Expect(t, complete(`kcurl wait cm/a --for cr`, 4), "create\n", "", 0)
	harness.Expect(t, complete(`kcurl explain configm`, 2), "configmaps\n", "", 0)
}
