//go:build e2e

package node

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// kcurl's streams on a node as clusters before 1.30 have it: the apiserver
// passes a WebSocket upgrade on untranslated, the kubelet passes it to
// containerd's own streaming server, which speaks WebSocket v4 (where stdin
// cannot be said to have ended) and has no port-forward tunnel. kubectl
// falls back to SPDY there; so must kcurl, and the same commands must work.
func olderNodeStreams(t *testing.T) {
	nodeScript(t, "restart-apiserver", "--feature-gates", "TranslateStreamCloseWebsocketRequests=false,PortForwardWebsockets=false")
	t.Cleanup(func() { nodeScript(t, "restart-apiserver") })
	nodeScript(t, "restart-kubelet", "--feature-gates", "ExtendWebSocketsToKubelet=false")
	t.Cleanup(func() { nodeScript(t, "restart-kubelet") })

	ns := namespace(t)
	apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: old, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: %[2]s
    command: [sh, -c, 'mkdir -p /www && echo hello-over-spdy > /www/index.html && head -c 31457280 /dev/urandom > /www/big && touch /www/ready && exec httpd -f -p 8080 -h /www']
    readinessProbe:
      exec: {command: [test, -f, /www/ready]}
      periodSeconds: 1
  - name: echo
    image: %[2]s
    stdin: true
    stdinOnce: true
    command: [sh, -c, 'while read l; do echo "got $l"; done; echo bye']
`, ns, shellImage))
	waitReady(t, ns, "old")

	// A hang (stdin that never ends remotely) is exit 124 here, not a
	// test that waits for its deadline.
	kc := func(stdin string, args ...string) result {
		t.Helper()
		return inNode(t, stdin, append([]string{"timeout", "60", kcurlBin, "--kubeconfig", node["KCURL_NODE_KUBECONFIG"], "-n", ns}, args...)...)
	}
	sum := func(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }
	remoteSum := func(path string) string {
		t.Helper()
		r := kc("", "exec", "old", "--", "sha256sum", path)
		if r.Code != 0 {
			t.Fatalf("sha256sum in the container:\n%s", r)
		}
		return strings.Fields(r.Stdout)[0]
	}

	t.Run("exec", func(t *testing.T) {
		// Without stdin, v4 is spoken: the node is the older kind.
		r := kc("", "-v", "exec", "old", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
		expectContains(t, r, "out\n", "err\ncommand terminated with exit code 3\n", 3)
		expectContains(t, r, "", "< Sec-Websocket-Protocol: v4.channel.k8s.io\n", 3)
		// With stdin, SPDY, which can say that stdin ended.
		r = kc("ping\npong\n", "-v", "exec", "-i", "old", "--", "cat")
		expectContains(t, r, "ping\npong\n", "< Upgrade: SPDY/3.1\n", 0)
		expectContains(t, r, "", "> Connection: Upgrade\n", 0) // as sent: SPDY's round tripper adds it
		expectContains(t, r, "", "> Upgrade: SPDY/3.1\n", 0)
		// A raw exec PATH that asks for stdin: SPDY too, and the remote code.
		r = kc("x\ny\n", "-v", "/api/v1/namespaces/"+ns+"/pods/old/exec?container=web&command=sh&command=-c&command=cat%3Bexit%203&stdin=true&stdout=true&stderr=true")
		expectContains(t, r, "x\ny\n", "< Upgrade: SPDY/3.1\n", 3)
		expectContains(t, r, "", "\ncommand terminated with exit code 3\n", 3)
	})

	t.Run("cp", func(t *testing.T) {
		dir := t.TempDir()
		upload := make([]byte, 3<<20)
		rand.Read(upload)
		local := filepath.Join(dir, "up")
		if err := os.WriteFile(local, upload, 0o644); err != nil {
			t.Fatal(err)
		}
		expectContains(t, kc("", "cp", local, "old:/tmp/up"), "", "", 0)
		if got := remoteSum("/tmp/up"); got != sum(upload) {
			t.Errorf("cp into the container: sha256 %s, want %s", got, sum(upload))
		}
		expectContains(t, kc("", "cp", "old:/tmp/up", filepath.Join(dir, "back")), "", "", 0)
		if b, err := os.ReadFile(filepath.Join(dir, "back")); err != nil || sum(b) != sum(upload) {
			t.Errorf("cp from the container: %v, %d bytes", err, len(b))
		}
	})

	t.Run("port-forward", func(t *testing.T) {
		// DEBUG=1: the SPDY library kcurl runs on must not log frames.
		fwd := startInNode(t, "DEBUG=1", kcurlBin, "--kubeconfig", node["KCURL_NODE_KUBECONFIG"], "-n", ns, "-v", "port-forward", "old", ":8080")
		port := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`), 20*time.Second)
		get := func(path string) result {
			return inNode(t, "", "sh", "-c", `curl -q --noproxy '*' -fsS --max-time 60 http://127.0.0.1:$0$1 | sha256sum`, port, path)
		}
		if r := get("/index.html"); !strings.HasPrefix(r.Stdout, sum([]byte("hello-over-spdy\n"))) {
			t.Errorf("GET /index.html through port-forward:\n%s", r)
		}
		if r, want := get("/big"), remoteSum("/www/big"); !strings.HasPrefix(r.Stdout, want) {
			t.Errorf("30 MB through port-forward: sha256 %q, want %s", r.Stdout, want)
		}
		out := fwd.output()
		if !strings.Contains(out, "\n< Upgrade: SPDY/3.1\n") {
			t.Errorf("port-forward did not fall back to plain SPDY:\n%s", out)
		}
		said := regexp.MustCompile(`^([<>]( .*)?|Forwarding from 127\.0\.0\.1:\d+ -> 8080|Handling connection for \d+)$`)
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if !said.MatchString(line) {
				t.Errorf("port-forward -v with DEBUG=1 in its environment printed %q", line)
				break
			}
		}
	})

	// Last: the container ends once its stdin has (stdinOnce), and restarts.
	t.Run("exec-to-a-silent-node", func(t *testing.T) {
		// This apiserver hands an exec's upgrade to the Pod's kubelet and
		// answers once the kubelet has (the newer one answers itself and
		// translates). Against a kubelet that never answers, SIGINT still
		// ends kcurl, by that signal, and the apiserver lets the kubelet go.
		accepted := silentKubelet(t, "silent-"+ns)
		ghostPod(t, ns, "ghost", "silent-"+ns)
		exec := startInNode(t, kcurlBin, "--kubeconfig", node["KCURL_NODE_KUBECONFIG"], "-n", ns, "exec", "ghost", "--", "true")
		kubelet := reachedBy(t, accepted, exec)
		exec.cmd.Process.Signal(syscall.SIGINT)
		exec.endedBy(t, syscall.SIGINT, 20*time.Second)
		if out := exec.output(); out != "" {
			t.Errorf("exec printed %q, want nothing", out)
		}
		if !closedWithin(kubelet, 20*time.Second) {
			t.Error("the apiserver still held the silent kubelet's connection 20 s after kcurl left")
		}
	})

	t.Run("attach", func(t *testing.T) {
		// stdin a second late, as in streams_test.go: containerd copies it
		// into the container before the attach gets its stdout.
		r := inNode(t, "", "sh", "-c", `(sleep 1; printf 'a\nb\n') | timeout 60 "$@" -v attach -i old -c echo`,
			"sh", kcurlBin, "--kubeconfig", node["KCURL_NODE_KUBECONFIG"], "-n", ns)
		expectContains(t, r, "got a\ngot b\nbye\n", "< Upgrade: SPDY/3.1\n", 0)
	})
}
