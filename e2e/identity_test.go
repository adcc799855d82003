//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

func TestWhoami(t *testing.T) {
	s := newSandbox(t)
	var pod struct {
		Metadata struct{ UID string } `json:"metadata"`
	}
	adminMust(t, "GET", "/api/v1/namespaces/"+s.NS+"/pods/"+s.Pod, nil, &pod)

	r := s.run("whoami")
	for _, want := range []string{
		`(?m)^Username: +system:serviceaccount:` + s.NS + `:app$`,
		`(?m)^Groups: +system:serviceaccounts\n +system:serviceaccounts:` + s.NS + `\n +system:authenticated$`,
		`(?m)^ +authentication.kubernetes.io/pod-name=app-pod$`,
		`(?m)^Service account: +` + s.NS + `/app$`,
		`(?m)^Bound to: +Pod app-pod \(uid ` + pod.Metadata.UID + `\)$`,
		`(?m)^Issuer: +` + regexp.QuoteMeta(cluster["KCURL_CLUSTER_ISSUER"]) + `$`,
		`(?m)^Audiences: +` + regexp.QuoteMeta(cluster["KCURL_CLUSTER_AUDIENCE"]) + `$`,
		`(?m)^Expires: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \((59m\d+s|1h0m0s) left\)$`,
	} {
		if !regexp.MustCompile(want).MatchString(r.Stdout) {
			t.Errorf("whoami lacks %s:\n%s", want, r)
		}
	}
	if r.Code != 0 || r.Stderr != "" {
		t.Errorf("whoami:\n%s", r)
	}

	r = s.run("whoami", "-o", "json")
	var doc struct {
		UserInfo struct{ Username string } `json:"userInfo"`
		Token    struct {
			Sub        string `json:"sub"`
			Kubernetes struct {
				Pod struct{ Name, UID string } `json:"pod"`
			} `json:"kubernetes.io"`
		} `json:"token"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || r.Code != 0 {
		t.Fatalf("whoami -o json: %v\n%s", err, r)
	}
	if doc.UserInfo.Username != "system:serviceaccount:"+s.NS+":app" || doc.Token.Sub != doc.UserInfo.Username || doc.Token.Kubernetes.Pod.UID != pod.Metadata.UID {
		t.Errorf("whoami -o json: %+v", doc)
	}
}

func TestCanI(t *testing.T) {
	s := newSandbox(t, configMapRules,
		obj{"apiGroups": []string{""}, "resources": []string{"pods/log"}, "resourceNames": []string{"app-pod"}, "verbs": []string{"get"}})
	for _, tc := range []struct {
		args   []string
		stdout string
		code   int
	}{
		{[]string{"list", "configmaps"}, "yes\n", 0},
		{[]string{"delete", "cm/some-name"}, "yes\n", 0},
		{[]string{"list", "secrets"}, "no\n", 1},
		{[]string{"create", "deploy"}, "no\n", 1},
		{[]string{"get", "pods/app-pod", "--subresource", "log"}, "yes\n", 0},
		{[]string{"get", "pods/other", "--subresource", "log"}, "no\n", 1},
		{[]string{"list", "configmaps", "-A"}, "no\n", 1},
		{[]string{"list", "configmaps", "-n", "kube-system"}, "no\n", 1},
		{[]string{"get", "/healthz"}, "yes\n", 0},
		{[]string{"-q", "list", "configmaps"}, "", 0},
		{[]string{"-q", "list", "secrets"}, "", 1},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			harness.Expect(t, s.run(append([]string{"can-i"}, tc.args...)...), tc.stdout, "", tc.code)
		})
	}
	t.Run("--list shows the rules the test granted", func(t *testing.T) {
		r := s.run("can-i", "--list")
		for _, want := range []string{
			`(?m)^Resources +Non-Resource URLs +Resource Names +Verbs$`,
			`(?m)^configmaps +\[\] +\[\] +\[get list watch create update patch delete\]$`,
			`(?m)^pods/log +\[\] +\[app-pod\] +\[get\]$`,
			`(?m)^selfsubjectaccessreviews.authorization.k8s.io +\[\] +\[\] +\[create\]$`,
		} {
			if !regexp.MustCompile(want).MatchString(r.Stdout) {
				t.Errorf("can-i --list lacks %s:\n%s", want, r)
			}
		}
	})
}

func TestConfig(t *testing.T) {
	s := newSandbox(t)
	r := s.run("config")
	sa := regexp.QuoteMeta(saMountPath)
	for _, want := range []string{
		`(?m)^Server: +https://127.0.0.1:` + cluster["KCURL_CLUSTER_PORT"] + ` +from \$KUBERNETES_SERVICE_HOST, \$KUBERNETES_SERVICE_PORT_HTTPS$`,
		`(?m)^Namespace: +` + s.NS + ` +from service account \(` + sa + `/namespace\)$`,
		`(?m)^CA: +CN=\S+ +from service account \(` + sa + `/ca.crt\)$`,
		`(?m)^Token: +system:serviceaccount:` + s.NS + `:app +from service account \(` + sa + `/token\)$`,
	} {
		if !regexp.MustCompile(want).MatchString(r.Stdout) {
			t.Errorf("config lacks %s:\n%s", want, r)
		}
	}
	s.Env["POD_NAMESPACE"] = "from-env"
	if r := s.run("config"); !regexp.MustCompile(`(?m)^Namespace: +from-env +from \$POD_NAMESPACE$`).MatchString(r.Stdout) {
		t.Errorf("$POD_NAMESPACE beats the service account's namespace:\n%s", r)
	}
	if r := s.run("config", "-n", "from-flag"); !regexp.MustCompile(`(?m)^Namespace: +from-flag +from --namespace$`).MatchString(r.Stdout) {
		t.Errorf("-n beats $POD_NAMESPACE:\n%s", r)
	}
}

// target starts a container's main process for an ephemeral-container test:
// in a PID namespace of its own, with the service-account dir mounted and
// the Pod's environment. It returns the host pid of that namespace's init.
// argv, when given, is the command that ends in sleep (setpriv … sleep 600,
// for a target that runs as another user).
func startTarget(t *testing.T, s *sandbox, saDir string, argv ...string) int {
	t.Helper()
	if len(argv) == 0 {
		argv = []string{"sleep", "600"}
	}
	c := exec.Command(filepath.Join(repoRoot, "scripts", "sandbox.sh"), append([]string{"--sa-dir", saDir, "--pid-ns", "--"}, argv...)...)
	c.Env = []string{"PATH=" + s.Env["PATH"]}
	for k, v := range s.Env {
		if strings.HasPrefix(k, "KUBERNETES_SERVICE_") {
			c.Env = append(c.Env, k+"="+v)
		}
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	// unshare --kill-child: killing unshare kills the namespace's init.
	t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	children := fmt.Sprintf("/proc/%d/task/%d/children", c.Process.Pid, c.Process.Pid)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(children)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			// Wait until it runs sleep, its mounts done.
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == "sleep" {
				return pid
			}
		}
	}
	t.Fatal("the target process did not start")
	return 0
}

// An ephemeral debug container shares the Pod's PID namespace but has no
// service-account mount and (here) none of the Pod's variables: kcurl finds
// the target's through /proc/1/root, resolving /var/run -> /run inside the
// target's root, and takes KUBERNETES_SERVICE_* from /proc/1/environ.
func TestEphemeralContainer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the ephemeral-container test joins PID namespaces: run it as root")
	}
	s := newSandbox(t, configMapRules)
	targetPid := startTarget(t, s, s.Dir)

	debug := *s
	debug.JoinPID = targetPid
	debug.Env = map[string]string{"PATH": s.Env["PATH"], "HOME": s.Tmp}
	using := "kcurl: using the service account of process 1 (sleep)\n"

	harness.Expect(t, debug.run("/api/v1/namespaces/{namespace}/configmaps", "-q", ".kind", "-r"), "ConfigMapList\n", using, 0)
	harness.Expect(t, debug.run("/api", "--from-pid", "1", "-q", ".kind", "-r"), "APIVersions\n", using, 0)

	// From the host, the target is a container of some Pod in a PID
	// namespace of its own: kcurl must not take its identity, and finds
	// none (exit 3). Another test run sharing the machine has sandboxes
	// that are mount namespaces in the host's PID namespace: one alone is
	// a candidate kcurl rightly takes (ci-10 met that), never the target.
	r := kcurlOnHost(t, map[string]string{"HOME": t.TempDir()}, "/api")
	switch {
	case strings.Contains(r.Stderr, fmt.Sprintf("process %d (", targetPid)):
		t.Errorf("on the host, kcurl took the target container's service account:\n%s", r)
	case strings.Contains(r.Stderr, "using the service account of process "):
		t.Logf("on the host, another sandbox was the one candidate (another test run?):\n%s", r)
	case r.Code != 3:
		t.Errorf("on the host, kcurl should find no credentials (exit 3):\n%s", r)
	}

	r = debug.run("config")
	if !regexp.MustCompile(`(?m)^Token: +system:serviceaccount:` + s.NS + `:app +from service account of process 1 \(sleep\) \(` + regexp.QuoteMeta(saMountPath) + `/token\)$`).MatchString(r.Stdout) {
		t.Errorf("config should say whose credentials these are:\n%s", r)
	}

	// The kubelet rotates the token in the target's mount: the next request
	// uses the new one. A token of another ServiceAccount makes it visible.
	adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/serviceaccounts", obj{"metadata": obj{"name": "rotated"}}, nil)
	rotated := requestToken(t, s.NS, "rotated", nil)
	caPEM, _ := os.ReadFile(cluster["KCURL_CLUSTER_CA"])
	swapKubeletData(t, s.Dir, map[string][]byte{"token": []byte(rotated), "ca.crt": caPEM, "namespace": []byte(s.NS)})
	debug.Token = rotated
	r = debug.run("whoami", "-o", "json")
	if !strings.Contains(r.Stdout, `"username": "system:serviceaccount:`+s.NS+`:rotated"`) {
		t.Errorf("after the rotation, whoami should show the new token's account:\n%s", r)
	}

	// Two other containers with different service accounts: kcurl cannot
	// choose, and says which there are.
	other := newSandbox(t)
	second := *other
	second.JoinPID = targetPid
	secondPid := startJoined(t, &second)
	r = debug.run("/api")
	want := fmt.Sprintf("kcurl: no service account of our own, and several other containers have one; choose with --from-pid PID:\n  process 1 (sleep)\n  process %d (sleep)\n", secondPid)
	harness.Expect(t, r, "", want, 3)
}

// startJoined starts a second container's process in the target's PID
// namespace, with its own service account; it returns its pid there.
func startJoined(t *testing.T, s *sandbox) int {
	t.Helper()
	args := []string{"--join-pid", strconv.Itoa(s.JoinPID), "--sa-dir", s.Dir, "--", "sh", "-c", "echo $$; exec sleep 600"}
	c := exec.Command(filepath.Join(repoRoot, "scripts", "sandbox.sh"), args...)
	c.Env = []string{"PATH=" + s.Env["PATH"]}
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killTree(c.Process.Pid); _ = c.Wait() })
	var pid int
	if _, err := fmt.Fscan(out, &pid); err != nil {
		t.Fatalf("the second container did not start: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // until sh has exec'd sleep
	return pid
}

// killTree kills a process and its children by pid: nsenter forks the
// joined process, so it is nsenter's child.
func killTree(pid int) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, f := range strings.Fields(string(b)) {
		if child, err := strconv.Atoi(f); err == nil {
			killTree(child)
		}
	}
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

// kubectl debug --target with kubectl's default profile, for a target that
// runs as another user (uid 1000, its projected token mode 0600): the image
// runs kcurl as uid 65532, whose binary carries cap_sys_ptrace and
// cap_dac_override as file capabilities, permitted only (the Dockerfile's
// scripts/filecap). Exec'd as a non-root user with the two in its bounding
// set (the profile adds SYS_PTRACE; DAC_OVERRIDE is in containerd's default
// set), kcurl holds them permitted and not effective, raises them only to
// open the target's files, and reads the token; the same binary without
// file capabilities cannot. Token rotations are read the same way.
func TestEphemeralContainerAsAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the ephemeral-container test joins PID namespaces and changes users: run it as root")
	}
	s := newSandbox(t, configMapRules)
	caPEM, err := os.ReadFile(cluster["KCURL_CLUSTER_CA"])
	if err != nil {
		t.Fatal(err)
	}
	// The target's service-account volume: its files the target user's
	// own, mode 0600, as the kubelet writes a projected token for a
	// container with runAsUser and no fsGroup.
	owned := filepath.Join(t.TempDir(), "serviceaccount")
	writeKubeletDir(t, owned, map[string][]byte{"token": []byte(s.Token), "ca.crt": caPEM, "namespace": []byte(s.NS)})
	ownBy(t, owned, 1000)
	targetPid := startTarget(t, s, owned, "setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups", "--", "sleep", "600")

	// The image's binary, with and without its file capabilities, where
	// uid 65532 may run it.
	bin := t.TempDir()
	must(t, os.Chmod(bin, 0o755))
	withCaps, sidecar, plain := filepath.Join(bin, "kcurl"), filepath.Join(bin, "kcurl-sidecar"), filepath.Join(bin, "kcurl-plain")
	for _, dst := range []string{withCaps, sidecar, plain} {
		b, err := os.ReadFile(kcurlBin)
		must(t, err)
		must(t, os.WriteFile(dst, b, 0o755))
		if dst == plain {
			continue
		}
		filecap := exec.Command("go", "run", "./scripts/filecap", dst, "cap_sys_ptrace,cap_dac_override")
		filecap.Dir = repoRoot
		if out, err := filecap.CombinedOutput(); err != nil {
			t.Fatalf("scripts/filecap: %v\n%s", err, out)
		}
	}

	debug := *s
	debug.JoinPID = targetPid
	debug.Env = map[string]string{"PATH": s.Env["PATH"], "HOME": "/nonexistent"}
	for k, v := range s.Env {
		if strings.HasPrefix(k, "KUBERNETES_SERVICE_") {
			debug.Env[k] = v // an ephemeral container gets the Pod's variables
		}
	}
	// As the container runtime starts the image's user: uid 65532, no
	// capabilities of its own, only the two in its bounding set.
	asImageUser := func(binary string, args ...string) []string {
		return append([]string{"setpriv", "--reuid", "65532", "--regid", "65532", "--clear-groups",
			"--inh-caps", "-all", "--bounding-set", "-all,+sys_ptrace,+dac_override", "--", binary}, args...)
	}
	using := "kcurl: using the service account of process 1 (sleep)\n"

	r := debug.exec("", asImageUser(plain, "whoami")...)
	if r.Code != 3 || !strings.Contains(r.Stderr, "/proc/1/root (process 1 (sleep)) is not readable") {
		t.Errorf("without file capabilities, as uid 65532:\n%s", r)
	}
	harness.Expect(t, debug.exec("", asImageUser(withCaps, "/api/v1/namespaces/{namespace}/configmaps", "-q", ".kind", "-r")...), "ConfigMapList\n", using, 0)
	r = debug.exec("", asImageUser(withCaps, "whoami", "-o", "json")...)
	if r.Code != 0 || r.Stderr != using || !strings.Contains(r.Stdout, `"username": "system:serviceaccount:`+s.NS+`:app"`) {
		t.Errorf("whoami with file capabilities, as uid 65532:\n%s", r)
	}

	// A proxy that lives on: its capabilities stay permitted and never
	// effective between reads; the rotated token is read as the first was.
	proxy := debug.command(asImageUser(withCaps, "proxy", "-p", "0")...)
	stdout, err := proxy.StdoutPipe()
	must(t, err)
	var proxyErr strings.Builder
	proxy.Stderr = &proxyErr
	must(t, proxy.Start())
	t.Cleanup(func() { killTree(proxy.Process.Pid); _ = proxy.Wait() })
	var addr string
	if _, err := fmt.Fscanf(stdout, "Starting to serve on %s\n", &addr); err != nil {
		t.Fatalf("the proxy did not start: %v\n%s", err, proxyErr.String())
	}
	expectCaps(t, findExe(t, withCaps), 1<<19|1<<1)
	whoami := func() string {
		t.Helper()
		body := `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`
		resp, err := http.Post("http://"+addr+"/apis/authentication.k8s.io/v1/selfsubjectreviews", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var review struct {
			Status struct {
				UserInfo struct{ Username string } `json:"userInfo"`
			} `json:"status"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&review); err != nil || resp.StatusCode != 201 {
			t.Fatalf("through the proxy: %d %v\n%s", resp.StatusCode, err, proxyErr.String())
		}
		return review.Status.UserInfo.Username
	}
	if got := whoami(); got != "system:serviceaccount:"+s.NS+":app" {
		t.Errorf("through the proxy: %q", got)
	}
	adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/serviceaccounts", obj{"metadata": obj{"name": "rotated"}}, nil)
	swapKubeletData(t, owned, map[string][]byte{"token": []byte(requestToken(t, s.NS, "rotated", nil)), "ca.crt": caPEM, "namespace": []byte(s.NS)})
	ownBy(t, owned, 1000)
	time.Sleep(1500 * time.Millisecond) // the proxy looks at the token file once a second
	if got := whoami(); got != "system:serviceaccount:"+s.NS+":rotated" {
		t.Errorf("after the rotation, through the proxy: %q\n%s", got, proxyErr.String())
	}

	// The same binary as a sidecar, with a service account of its own,
	// needs no other process's files: it drops the capabilities at once.
	own := *s
	own.Env = debug.Env
	sidecarProxy := own.command(asImageUser(sidecar, "proxy", "-p", "0")...)
	sidecarOut, err := sidecarProxy.StdoutPipe()
	must(t, err)
	must(t, sidecarProxy.Start())
	t.Cleanup(func() { killTree(sidecarProxy.Process.Pid); _ = sidecarProxy.Wait() })
	if _, err := fmt.Fscanf(sidecarOut, "Starting to serve on %s\n", &addr); err != nil {
		t.Fatalf("the sidecar proxy did not start: %v", err)
	}
	expectCaps(t, findExe(t, sidecar), 0)
}

// expectCaps: every thread of process pid has exactly permitted in CapPrm
// and nothing in CapEff.
func expectCaps(t *testing.T, pid int, permitted uint64) {
	t.Helper()
	for _, task := range listTasks(t, pid) {
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, task))
		prm, eff := capField(string(status), "CapPrm"), capField(string(status), "CapEff")
		if prm != permitted || eff != 0 {
			t.Errorf("thread %s of process %d: CapPrm %#x CapEff %#x, want %#x and 0", task, pid, prm, eff, permitted)
		}
	}
}

// ownBy makes a service-account dir the given user's, its files mode 0600,
// as the kubelet writes a projected token for a container with runAsUser
// and no fsGroup.
func ownBy(t *testing.T, dir string, uid int) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			if err := os.Chmod(p, 0o600); err != nil {
				return err
			}
		}
		return os.Lchown(p, uid, uid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// findExe returns the pid of the one process running the binary at path.
func findExe(t *testing.T, path string) int {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe == path {
				return pid
			}
		}
	}
	t.Fatalf("no process runs %s", path)
	return 0
}

func listTasks(t *testing.T, pid int) []string {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	must(t, err)
	var tasks []string
	for _, e := range entries {
		tasks = append(tasks, e.Name())
	}
	return tasks
}

// capField reads a capability set (CapPrm, CapEff) from a status file.
func capField(status, name string) uint64 {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return n
		}
	}
	return 1 << 63
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
