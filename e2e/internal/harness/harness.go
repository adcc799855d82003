// Package harness is what the e2e suites (e2e/ and e2e/node/) share: the
// binary under test, built once per run, and the env files the cluster
// scripts write.
package harness

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// BuildKcurl builds the kcurl of the checkout at repoRoot into out, static
// (CGO off) as the image's is.
func BuildKcurl(repoRoot, out string) error {
	build := exec.Command("go", "build", "-trimpath", "-o", out, ".")
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
