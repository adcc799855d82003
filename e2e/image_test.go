//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The container image is built from the Dockerfile and run as a Pod would
// run it: the Pod's variables, the service-account dir mounted read-only at
// the kubelet's path, host networking (never podman's bridge), against the
// real control plane. Also read-only and as an arbitrary user.
func TestImage(t *testing.T) {
	image := "localhost/kcurl:e2e"
	build := exec.Command(filepath.Join(repoRoot, "scripts", "image.sh"), "build", image)
	build.Env = os.Environ()
	var stderr bytes.Buffer
	build.Stderr = &stderr
	out, err := build.Output()
	if err != nil {
		t.Fatalf("building the image (scripts/image.sh needs podman, buildah, runc and busybox-static; .ci/run installs them): %v\n%s", err, stderr.String())
	}
	size, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if size <= 0 || size > 25<<20 {
		t.Errorf("the image is %d bytes, want at most 25 MiB", size)
	}
	t.Logf("image size: %.1f MB", float64(size)/1e6)

	s := newSandbox(t, configMapRules)
	podman := func(args ...string) result {
		t.Helper()
		base := []string{"podman", "run", "--rm", "--network", "host",
			"-e", "KUBERNETES_SERVICE_HOST=" + cluster["KCURL_CLUSTER_HOST"],
			"-e", "KUBERNETES_SERVICE_PORT=" + cluster["KCURL_CLUSTER_PORT"],
			"-e", "KUBERNETES_SERVICE_PORT_HTTPS=" + cluster["KCURL_CLUSTER_PORT"],
			"-v", s.Dir + ":" + saMountPath + ":ro"}
		c := exec.Command(filepath.Join(repoRoot, "scripts", "image.sh"), append(base, args...)...)
		c.Env = os.Environ()
		return runCmd(t, c, "", s.Token)
	}

	r := podman(image, "/api", "-q", ".kind", "-r")
	expect(t, r, "APIVersions\n", "", 0)
	expect(t, podman("--read-only", "--user", "12345:12345", image, "cm", "-o", "name"), "", "", 0)
	r = podman("--read-only", "--user", "40001:40001", image, "whoami", "-o", "json")
	var who struct {
		UserInfo struct{ Username string } `json:"userInfo"`
	}
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &who) != nil || who.UserInfo.Username != "system:serviceaccount:"+s.NS+":app" {
		t.Errorf("whoami in the image:\n%s", r)
	}
	r = podman(image, "version", "-o", "json")
	var v struct{ Version, Commit string }
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &v) != nil || v.Version == "" || v.Version == "dev" {
		t.Errorf("the image's version is not stamped:\n%s", r)
	}
}
