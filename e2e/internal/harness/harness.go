// Package harness is what the e2e suites (e2e/ and e2e/node/) share: the
// binary under test, built once per run, the env files the cluster
// scripts write, what a run shows a user (Result) and the one way to check
// it (Expect), and the order of tests that must run last (Last).
package harness

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// BuildKcurl builds the kcurl of the checkout at repoRoot into out, static
// (CGO off) as the image's is.
func BuildKcurl(repoRoot, out string) error {
	build := exec.Command("go", "build", "-tags", "urfave_cli_no_docs", "-trimpath", "-o", out, ".")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building kcurl: %v\n%s", err, b)
	}
	return nil
}

// ReadEnvFile reads the plain KEY=VALUE file that scripts/cluster.sh and
// scripts/node.sh write (never sourced: values are taken as they stand).
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	return env, sc.Err()
}

// Result is what a user sees of one run: stdout, stderr and the exit code.
type Result struct {
	Stdout, Stderr string
	Code           int
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.Code, r.Stdout, r.Stderr)
}

// Match is how Expect compares stdout and stderr: Exact by default.
type Match int

const (
	// Exact: stdout and stderr are exactly what is given.
	Exact Match = iota
	// Contains: stdout and stderr each contain what is given ("" matches
	// anything): for what a real node adds around kcurl's own words.
	Contains
)

// Expect checks the three things a user sees: stdout and stderr (exactly,
// or with Contains each containing what is given) and the exit code.
func Expect(t testing.TB, got Result, stdout, stderr string, code int, match ...Match) {
	t.Helper()
	ok := got.Stdout == stdout && got.Stderr == stderr
	how := ""
	if len(match) > 0 && match[0] == Contains {
		ok, how = strings.Contains(got.Stdout, stdout) && strings.Contains(got.Stderr, stderr), " containing"
	}
	if !ok || got.Code != code {
		t.Errorf("got:\n%s\nwant:\nexit %d\n--- stdout%s\n%s--- stderr%s\n%s", got, code, how, stdout, how, stderr)
	}
}
