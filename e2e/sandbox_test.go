//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// saMountPath is where the kubelet mounts the token; the sandbox puts the
// test's service-account dir exactly there.
const saMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

// sandbox is one Pod as kcurl sees it from the inside: a namespace, a
// ServiceAccount with the RBAC the test grants, a Pod object the token is
// bound to, and the service-account dir the kubelet would write.
type sandbox struct {
	t      *testing.T
	NS, SA string
	Pod    string
	Dir    string // the service-account dir on the host, kubelet layout
	Tmp    string // a scratch dir visible inside the sandbox
	Token  string

	// Env is the Pod's environment; tests may change it before run.
	Env map[string]string
	// Hosts, when set, is bind-mounted over /etc/hosts.
	Hosts string
	// JoinPID, when set, runs kcurl in that process's PID namespace with no
	// service account of its own: an ephemeral debug container.
	JoinPID int
}

var sandboxCount atomic.Int64

// newSandbox creates a namespace with a ServiceAccount "app", a Role with
// the given rules bound to it (none: no RBAC at all), a Pod using it, and a
// token from the TokenRequest API bound to that Pod.
func newSandbox(t *testing.T, rules ...obj) *sandbox {
	t.Helper()
	s := &sandbox{t: t, SA: "app", Pod: "app-pod", Tmp: t.TempDir()}
	s.NS = namespaceFor(t)
	adminMust(t, "POST", "/api/v1/namespaces", obj{"metadata": obj{"name": s.NS}}, nil)
	t.Cleanup(func() { adminDo(t, "DELETE", "/api/v1/namespaces/"+s.NS, nil) })
	adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/serviceaccounts", obj{"metadata": obj{"name": s.SA}}, nil)
	if len(rules) > 0 {
		grant(t, s.NS, s.SA, rules...)
	}
	s.bindToPod(t)
	return s
}

// bindToPod creates the Pod s.Pod running as s.SA, a token bound to it, the
// service-account dir the kubelet would write, and the Pod's environment.
func (s *sandbox) bindToPod(t *testing.T) {
	t.Helper()
	var pod struct {
		Metadata struct{ UID string } `json:"metadata"`
	}
	adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/pods", obj{
		"metadata": obj{"name": s.Pod},
		"spec": obj{
			"serviceAccountName": s.SA,
			"containers":         []obj{{"name": "app", "image": "kcurl:e2e"}},
		},
	}, &pod)
	s.Token = requestToken(t, s.NS, s.SA, obj{"kind": "Pod", "apiVersion": "v1", "name": s.Pod, "uid": pod.Metadata.UID})

	s.Dir = filepath.Join(t.TempDir(), "serviceaccount")
	caPEM, err := os.ReadFile(cluster["KCURL_CLUSTER_CA"])
	if err != nil {
		t.Fatal(err)
	}
	writeKubeletDir(t, s.Dir, map[string][]byte{"token": []byte(s.Token), "ca.crt": caPEM, "namespace": []byte(s.NS)})

	s.Env = map[string]string{
		"PATH":                          "/usr/local/bin:/usr/bin:/bin",
		"HOME":                          s.Tmp,
		"KUBERNETES_SERVICE_HOST":       cluster["KCURL_CLUSTER_HOST"],
		"KUBERNETES_SERVICE_PORT":       cluster["KCURL_CLUSTER_PORT"],
		"KUBERNETES_SERVICE_PORT_HTTPS": cluster["KCURL_CLUSTER_PORT"],
	}
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

func namespaceFor(t *testing.T) string {
	name := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 40 {
		name = strings.TrimRight(name[:40], "-")
	}
	return fmt.Sprintf("e2e-%s-%d", name, sandboxCount.Add(1))
}

// grant binds a Role with rules to the ServiceAccount. The cluster has no
// controller-manager, so the aggregated view/edit/admin ClusterRoles are
// empty: tests grant exactly what they need.
func grant(t *testing.T, ns, sa string, rules ...obj) {
	t.Helper()
	adminMust(t, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/"+ns+"/roles", obj{
		"metadata": obj{"name": sa}, "rules": rules,
	}, nil)
	adminMust(t, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/"+ns+"/rolebindings", obj{
		"metadata": obj{"name": sa},
		"roleRef":  obj{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa},
		"subjects": []obj{{"kind": "ServiceAccount", "name": sa, "namespace": ns}},
	}, nil)
}

// requestToken asks the TokenRequest API for a token of the ServiceAccount,
// bound to the given object (a Pod, or a Secret a test deletes to make the
// token really invalid).
func requestToken(t *testing.T, ns, sa string, boundTo obj) string {
	t.Helper()
	spec := obj{"audiences": []string{cluster["KCURL_CLUSTER_AUDIENCE"]}, "expirationSeconds": 3600}
	if boundTo != nil {
		spec["boundObjectRef"] = boundTo
	}
	var tr struct {
		Status struct{ Token string } `json:"status"`
	}
	adminMust(t, "POST", "/api/v1/namespaces/"+ns+"/serviceaccounts/"+sa+"/token",
		obj{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}, &tr)
	if tr.Status.Token == "" {
		t.Fatal("TokenRequest returned no token")
	}
	return tr.Status.Token
}

// writeKubeletDir lays files out as the kubelet's atomic writer does: each
// name is a symlink to ..data/NAME, ..data a symlink to a timestamped dir.
func writeKubeletDir(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	swapKubeletData(t, dir, files)
	for name := range files {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// swapKubeletData writes a new timestamped dir and renames a new ..data link
// over the old one: the kubelet's rotation, atomic for readers.
func swapKubeletData(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	stamp := ".." + time.Now().UTC().Format("2006_01_02_15_04_05.000000000")
	if err := os.Mkdir(filepath.Join(dir, stamp), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, stamp, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmpLink := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(stamp, tmpLink); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmpLink, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
}

// result is what a user sees of one run.
type result = harness.Result

// command prepares argv to run inside the sandbox (scripts/sandbox.sh, the
// project's one implementation of it) with exactly s.Env.
func (s *sandbox) command(argv ...string) *exec.Cmd {
	args := []string{"--sa-dir", s.Dir}
	if s.JoinPID != 0 {
		args = []string{"--join-pid", strconv.Itoa(s.JoinPID)}
	}
	if s.Hosts != "" {
		args = append(args, "--hosts", s.Hosts)
	}
	c := exec.Command(filepath.Join(repoRoot, "scripts", "sandbox.sh"), append(append(args, "--"), argv...)...)
	c.Dir = s.Tmp
	for k, v := range s.Env {
		c.Env = append(c.Env, k+"="+v)
	}
	return c
}

// run runs kcurl in the sandbox and checks that the token shows nowhere.
func (s *sandbox) run(args ...string) result {
	s.t.Helper()
	return s.runWithStdin("", args...)
}

func (s *sandbox) runWithStdin(stdin string, args ...string) result {
	s.t.Helper()
	return s.exec(stdin, append([]string{kcurlBin}, args...)...)
}

// shell runs a shell script in the sandbox (to run what --curl printed).
func (s *sandbox) shell(script string) result {
	s.t.Helper()
	return s.exec("", "sh", "-c", script)
}

func (s *sandbox) exec(stdin string, argv ...string) result {
	s.t.Helper()
	return runCmd(s.t, s.command(argv...), stdin, s.Token)
}

// runCmd runs c to its end and returns what a user sees, failing the test
// if secret (a token) shows anywhere in it.
func runCmd(t *testing.T, c *exec.Cmd, stdin, secret string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c.Stdin, c.Stdout, c.Stderr = strings.NewReader(stdin), &stdout, &stderr
	err := c.Run()
	r := result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.Code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running %q: %v", c.Args, err)
	}
	if secret != "" && strings.Contains(r.Stdout+r.Stderr, secret) {
		t.Errorf("the token appears in the output of %q", c.Args)
	}
	return r
}

// forward listens on 127.0.0.1:port and relays every connection to the
// test cluster's apiserver, until the test ends.
func forward(t *testing.T, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("the sandbox needs 127.0.0.1:%d for kubernetes.default.svc: %v", port, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	upstream := net.JoinHostPort(cluster["KCURL_CLUSTER_HOST"], cluster["KCURL_CLUSTER_PORT"])
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", upstream)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(out, in); out.Close() }()
			go func() { defer wg.Done(); io.Copy(in, out); in.Close() }()
		}
	}()
}
