//go:build e2e

// Package e2e runs the built kcurl binary against a real kube-apiserver and
// etcd (scripts/cluster.sh) on 127.0.0.1, inside a Pod-like sandbox: the
// service-account files at their real path in a private mount namespace, the
// Pod's environment variables, and a real bound token from the TokenRequest
// API. Nothing here is mocked.
//
// Every file here has the build constraint e2e, so that `go test ./...`
// runs the unit tests alone; scripts/test.sh runs these with -tags e2e, and
// so does `go test -tags e2e -run TestWatch ./e2e/` for a few of them.
package e2e

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// cluster is the control plane of this test run, read from cluster.sh's env
// file (KCURL_CLUSTER_SERVER, KCURL_CLUSTER_CA, ...).
var cluster map[string]string

// kcurlBin is the binary under test, built once for the run.
var kcurlBin string

// repoRoot is the checkout the tests run from.
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = root
	work, err := os.MkdirTemp("", "kcurl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)

	kcurlBin = filepath.Join(work, "kcurl")
	if err := harness.BuildKcurl(repoRoot, kcurlBin); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}

	// A cluster of this run's own, in its own state dir: never one the
	// machine or the developer already has.
	clusterDir := filepath.Join(work, "cluster")
	if err := clusterScript(clusterDir, "up"); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: starting the control plane: %v\n", err)
		_ = clusterScript(clusterDir, "logs")
		_ = clusterScript(clusterDir, "down")
		return 1
	}
	defer func() { _ = clusterScript(clusterDir, "down") }()
	if cluster, err = harness.ReadEnvFile(filepath.Join(clusterDir, "env")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if err := initAdmin(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}

	code := m.Run()
	if code != 0 {
		fmt.Fprintln(os.Stderr, "e2e: a test failed; the control plane's logs end with:")
		_ = clusterScript(clusterDir, "logs")
	}
	return code
}

// clusterScript runs scripts/cluster.sh with a state dir of the test's own,
// in an environment that names no cluster of the machine's.
func clusterScript(stateDir string, args ...string) error {
	c := exec.Command(filepath.Join(repoRoot, "scripts", "cluster.sh"), args...)
	c.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"KCURL_CLUSTER_DIR=" + stateDir,
	}
	for _, keep := range []string{"KCURL_BIN_CACHE", "XDG_CACHE_HOME", "GOPATH", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOFLAGS"} {
		if v, ok := os.LookupEnv(keep); ok {
			c.Env = append(c.Env, keep+"="+v)
		}
	}
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if args[0] == "up" {
		c.Stdout = io.Discard // the env file it prints is read from disk
	}
	return c.Run()
}
