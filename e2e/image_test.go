//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// The container image is built from the Dockerfile and run as a Pod would
// run it: the Pod's variables, the service-account dir mounted read-only at
// the kubelet's path, host networking (never podman's bridge), against the
// real control plane. Also read-only and as an arbitrary user.
func TestImage(t *testing.T) {
	// A tag of this run's own: another run (another checkout) building at
	// the same time cannot retag it under this test's feet.
	image := fmt.Sprintf("localhost/kcurl:e2e-%d", os.Getpid())
	t.Cleanup(func() {
		rmi := exec.Command(filepath.Join(repoRoot, "scripts", "image.sh"), "podman", "rmi", "--force", image)
		if out, err := rmi.CombinedOutput(); err != nil {
			t.Logf("removing %s: %v\n%s", image, err, out)
		}
	})
	build := exec.Command(filepath.Join(repoRoot, "scripts", "image.sh"), "build", image)
	build.Env = os.Environ()
	var stderr bytes.Buffer
	build.Stderr = &stderr
	out, err := build.Output()
	if err != nil {
		t.Fatalf("building the image (scripts/image.sh needs podman, buildah, runc and busybox-static; scripts/test.sh installs them as root): %v\n%s", err, stderr.String())
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
	harness.Expect(t, r, "APIVersions\n", "", 0)
	harness.Expect(t, podman("--read-only", "--user", "12345:12345", image, "cm", "-o", "name"), "", "", 0)
	r = podman("--read-only", "--user", "40001:40001", image, "whoami", "-o", "json")
	var who struct {
		UserInfo struct{ Username string } `json:"userInfo"`
	}
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &who) != nil || who.UserInfo.Username != "system:serviceaccount:"+s.NS+":app" {
		t.Errorf("whoami in the image:\n%s", r)
	}
	imageFileCaps(t, image)
	harness.Expect(t, podman("--cap-drop", "ALL", "--security-opt", "no-new-privileges", image, "/api", "-q", ".kind", "-r"), "APIVersions\n", "", 0)
	imageEphemeralContainer(t, image, s)

	r = podman(image, "version", "-o", "json")
	var v struct{ Version, Commit string }
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &v) != nil || v.Version == "" || v.Version == "dev" {
		t.Errorf("the image's version is not stamped:\n%s", r)
	}
}

// imageFileCaps: the image's binary carries its file capabilities, permitted
// only, through COPY --from into the scratch stage.
func imageFileCaps(t *testing.T, image string) {
	t.Helper()
	script := filepath.Join(repoRoot, "scripts", "image.sh")
	out, err := exec.Command(script, "podman", "image", "mount", image).Output()
	if err != nil {
		t.Fatalf("podman image mount: %v", err)
	}
	defer exec.Command(script, "podman", "image", "unmount", image).Run()
	caps, err := exec.Command("getcap", filepath.Join(strings.TrimSpace(string(out)), "kcurl")).Output()
	if got := strings.Fields(string(caps)); err != nil || len(got) != 2 || got[1] != "cap_dac_override,cap_sys_ptrace=p" {
		t.Errorf("getcap /kcurl in the image: %q, %v; want cap_dac_override,cap_sys_ptrace=p", caps, err)
	}
}

// imageEphemeralContainer is kubectl debug --target with the default
// profile, as podman can make it: the image as it is (user 65532), in the
// target's PID namespace, with SYS_PTRACE added to the runtime's default
// capabilities; the target runs as root, and as another user whose token
// is mode 0600.
func imageEphemeralContainer(t *testing.T, image string, s *sandbox) {
	t.Helper()
	script := filepath.Join(repoRoot, "scripts", "image.sh")
	vars := []string{
		"-e", "KUBERNETES_SERVICE_HOST=" + cluster["KCURL_CLUSTER_HOST"],
		"-e", "KUBERNETES_SERVICE_PORT=" + cluster["KCURL_CLUSTER_PORT"],
		"-e", "KUBERNETES_SERVICE_PORT_HTTPS=" + cluster["KCURL_CLUSTER_PORT"],
	}
	caPEM, err := os.ReadFile(cluster["KCURL_CLUSTER_CA"])
	must(t, err)
	for _, uid := range []int{0, 1000} {
		dir := filepath.Join(t.TempDir(), "serviceaccount")
		writeKubeletDir(t, dir, map[string][]byte{"token": []byte(s.Token), "ca.crt": caPEM, "namespace": []byte(s.NS)})
		if uid != 0 {
			ownBy(t, dir, uid)
		}
		user := fmt.Sprintf("%d:%d", uid, uid)
		// The target: the image itself, as a long-running proxy.
		args := append([]string{"podman", "run", "-d", "--network", "host", "--user", user, "-v", dir + ":" + saMountPath + ":ro"}, vars...)
		out, err := exec.Command(script, append(args, image, "proxy", "-p", "0")...).Output()
		if err != nil {
			t.Fatalf("starting the target as %s: %v", user, err)
		}
		id := strings.TrimSpace(string(out))
		t.Cleanup(func() { _ = exec.Command(script, "podman", "rm", "-f", "-t", "0", id).Run() })
		debug := func(extra ...string) result {
			args := append([]string{"podman", "run", "--rm", "--network", "host", "--pid", "container:" + id}, vars...)
			c := exec.Command(script, append(append(args, extra...), image, "whoami", "-o", "json")...)
			c.Env = os.Environ()
			return runCmd(t, c, "", s.Token)
		}
		r := debug("--cap-add", "SYS_PTRACE")
		if r.Code != 0 || r.Stderr != "kcurl: using the service account of process 1 (kcurl)\n" || !strings.Contains(r.Stdout, `"username": "system:serviceaccount:`+s.NS+`:app"`) {
			t.Errorf("debug container (default profile) for a target running as %s:\n%s", user, r)
		}
		if r := debug("--cap-drop", "ALL"); r.Code != 3 || !strings.Contains(r.Stderr, "is not readable") {
			t.Errorf("debug container with drop ALL, target as %s: starts, and cannot read:\n%s", user, r)
		}
	}
}
