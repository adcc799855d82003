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

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// streamerRules may read Pods (and Services, to find theirs) and open
// their streams.
const streamerRules = `- apiGroups: [""]
  resources: [pods, services]
  verbs: [get, list]
- apiGroups: [""]
  resources: [pods/exec, pods/attach, pods/portforward]
  verbs: [get, create]`

// kcurl's own exec, attach, port-forward and cp, and a raw exec PATH,
// against a real kubelet: what the user sees (stdout, stderr, exit code).
func kcurlStreams(t *testing.T) {
	ns := namespace(t)
	serviceAccount(t, ns, "streamer", streamerRules)
	serviceAccount(t, ns, "reader", `- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]`)
	apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: %[1]s
  annotations: {kubectl.kubernetes.io/default-container: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: %[2]s
    command: [sh, -c, 'mkdir -p /www && echo hello-through-port-forward > /www/index.html && head -c 104857600 /dev/urandom > /www/big && touch /www/ready && exec httpd -f -p 8080 -h /www']
    readinessProbe:
      exec: {command: [test, -f, /www/ready]}
      periodSeconds: 1
  - name: echo
    image: %[2]s
    stdin: true
    command: [sh, -c, 'while read line; do echo "got $line"; done']
  - name: notar
    image: %[3]s
    args: [proxy, --port=8001]
  - name: term
    image: %[2]s
    stdin: true
    tty: true
    command: [sh]
  - name: ticker
    image: %[2]s
    command: [sh, -c, 'while true; do echo tick; sleep 1; done']
  - name: tty-ticker
    image: %[2]s
    stdin: true
    tty: true
    command: [sh, -c, 'while true; do echo tick; sleep 1; done']
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: only
    image: %[2]s
    command: [sleep, '3600']
---
apiVersion: v1
kind: Pod
metadata: {name: done, namespace: %[1]s}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: %[2]s
    command: ['true']
`, ns, shellImage, kcurlImage))
	waitReady(t, ns, "web")
	waitReady(t, ns, "solo")

	tokenFor := func(sa string) string {
		token := mustKubectl(t, "create", "token", sa, "-n", ns, "--duration=1h")
		file := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(file, []byte(strings.TrimSpace(token)), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	streamer, reader := tokenFor("streamer"), tokenFor("reader")
	connect := func(tokenFile string) []string {
		return []string{kcurlBin, "--server=https://127.0.0.1:443", "--cacert=" + node["KCURL_CLUSTER_CA"], "--token-file=" + tokenFile, "-n", ns}
	}
	kc := func(stdin string, args ...string) result {
		t.Helper()
		return inNode(t, stdin, append(connect(streamer), args...)...)
	}
	remoteSum := func(path string) string {
		t.Helper()
		r := kc("", "exec", "web", "--", "sha256sum", path)
		if r.Code != 0 {
			t.Fatalf("sha256sum in the container:\n%s", r)
		}
		return strings.Fields(r.Stdout)[0]
	}
	sum := func(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }

	t.Run("exec", func(t *testing.T) {
		expectContains(t, kc("", "exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 3"),
			"out\n", "err\ncommand terminated with exit code 3\n", 3)
		r := kc("", "exec", "web", "--", "sh", "-c", "echo out; echo err >&2")
		if r.Stdout != "out\n" || r.Stderr != "err\n" || r.Code != 0 {
			t.Errorf("want out, err and exit 0; got\n%s", r)
		}
		expectContains(t, kc("ping\npong\n", "exec", "-i", "web", "--", "cat"), "ping\npong\n", "", 0)
		// The server refuses the container; the Pod, read then, lists its own.
		harness.Expect(t, kc("", "exec", "web", "-c", "nope", "--", "true"), "",
			"kcurl: container nope is not valid for pod web out of: web, echo, notar, term, ticker, tty-ticker\n", 2)
		// A completed Pod named with its container: the kubelet's refusal
		// ("container not found"), then the Pod's phase, in kubectl's words.
		if r := kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Succeeded", "--timeout=90s", "pod/done"); r.Code != 0 {
			t.Fatalf("pod done did not complete:\n%s\n%s", r, describe(t, ns, "done"))
		}
		// Not a typo: no pointer at the help, as kubectl gives none.
		harness.Expect(t, kc("", "exec", "done", "-c", "c", "--", "true"), "",
			"kcurl: cannot exec into a container in a completed pod; current phase is Succeeded\n", 2)
		if r := kc("", "exec", "web", "--", "no-such-command"); r.Code == 0 || !strings.Contains(r.Stderr, "no-such-command") {
			t.Errorf("a command the container does not have:\n%s", r)
		}
		// Output that cannot be written here (a full disk) is no success.
		full := append([]string{"sh", "-c", `"$@" >/dev/full`, "sh"}, append(connect(streamer), "exec", "web", "--", "head", "-c", "3000000", "/dev/zero")...)
		expectContains(t, inNode(t, "", full...), "", "kcurl: writing the command's stdout: write /dev/stdout: no space left on device\n", 1)
	})

	// A Pod of one container, named without -c, is not read first: the
	// server picks its container.
	t.Run("exec-one-container", func(t *testing.T) {
		expectContains(t, kc("", "exec", "solo", "--", "sh", "-c", "echo out; echo err >&2"), "out\n", "err\n", 0)
		expectContains(t, kc("", "exec", "solo", "--", "sh", "-c", "exit 3"), "", "command terminated with exit code 3\n", 3)
		expectContains(t, kc("ping\n", "exec", "-i", "solo", "--", "cat"), "ping\n", "", 0)
		r := kc("", "exec", "-v", "solo", "--", "true")
		expectContains(t, r, "", "> GET /api/v1/namespaces/"+ns+"/pods/solo/exec?command=true&stderr=true&stdout=true\n", 0)
		// The upgrade as it was sent, the WebSocket's own headers too.
		expectContains(t, r, "", "> Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\n> Sec-WebSocket-Version: 13\n> Upgrade: websocket\n", 0)
		expectContains(t, r, "", "\n< HTTP/1.1 101 Switching Protocols\n", 0)
		if strings.Contains(r.Stderr, "> GET /api/v1/namespaces/"+ns+"/pods/solo\n") {
			t.Errorf("the Pod was read first:\n%s", r)
		}
	})

	// A Deployment with no Pod yet: exec waits (--pod-running-timeout)
	// until one runs, where kubectl takes the first Pod that appears,
	// still Pending, and fails ("container not found"). It needs to watch
	// Pods, as kubectl does.
	t.Run("exec-waits-for-a-pod", func(t *testing.T) {
		serviceAccount(t, ns, "waiter", `- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [pods/exec, pods/portforward]
  verbs: [get, create]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get]`)
		apply(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: zero, namespace: %[1]s}
spec:
  replicas: 0
  selector: {matchLabels: {app: zero}}
  template:
    metadata: {labels: {app: zero}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: shell
        image: %[2]s
        command: [sleep, '3600']
`, ns, shellImage))
		waiter := connect(tokenFor("waiter"))
		watching := regexp.MustCompile(`^> GET /api/v1/namespaces/` + ns + `/pods\?.*watch=true`)

		start := time.Now()
		expectContains(t, inNode(t, "", append(waiter, "exec", "deploy/zero", "--pod-running-timeout", "2s", "--", "true")...), "",
			"kcurl: no Pod of deploy/zero matched its selector app=zero within 2s (--pod-running-timeout)\n", 1)
		if took := time.Since(start); took < 2*time.Second || took > 20*time.Second {
			t.Errorf("--pod-running-timeout 2s gave up after %v", took)
		}

		// Ctrl-C still ends the wait: exec by the signal, port-forward
		// with 0, as before it listens.
		exec := startInNode(t, append(waiter, "-v", "exec", "deploy/zero", "--", "true")...)
		exec.waitFor(t, watching, 20*time.Second)
		exec.cmd.Process.Signal(syscall.SIGINT)
		exec.endedBy(t, syscall.SIGINT, 20*time.Second)
		fwd := startInNode(t, append(waiter, "-v", "port-forward", "deploy/zero", ":8080")...)
		fwd.waitFor(t, watching, 20*time.Second)
		fwd.cmd.Process.Signal(syscall.SIGTERM)
		if code := fwd.exitCode(t, 20*time.Second); code != 0 {
			t.Errorf("port-forward stopped while it waited for a Pod: exit %d, want 0\n%s", code, fwd.output())
		}

		// Scaled to 1 while kcurl waits: the exec runs in the new Pod
		// once it runs (kubectl's KIND.GROUP name of the Deployment).
		exec = startInNode(t, append(waiter, "-v", "exec", "deployments.apps/zero", "--", "sh", "-c", "echo in-$(hostname)")...)
		exec.waitFor(t, watching, 20*time.Second)
		time.Sleep(2 * time.Second)
		mustKubectl(t, "scale", "-n", ns, "deploy/zero", "--replicas=1")
		if code := exec.exitCode(t, 90*time.Second); code != 0 {
			t.Fatalf("exec into a Deployment scaled from 0: exit %d\n%s", code, exec.output())
		}
		exec.waitFor(t, regexp.MustCompile(`^in-zero-`), time.Second)
	})

	t.Run("exec-3MB-binary", func(t *testing.T) {
		r := kc("", "exec", "web", "--", "head", "-c", "3145728", "/www/big")
		want := kc("", "exec", "web", "--", "sh", "-c", "head -c 3145728 /www/big | sha256sum")
		if r.Code != 0 || len(r.Stdout) != 3145728 || !strings.HasPrefix(want.Stdout, sum(r.Stdout)) {
			t.Errorf("3 MB through exec: exit %d, %d bytes, sha256 %s, want %s; stderr %s", r.Code, len(r.Stdout), sum(r.Stdout), want.Stdout, r.Stderr)
		}
	})

	t.Run("exec-tty", func(t *testing.T) {
		// script(1) gives kcurl a pseudo-terminal; after kcurl ends, stty
		// shows that the terminal is not left raw.
		// The size reaches the remote terminal just after the command
		// starts (as with kubectl, measured the same way): the command
		// waits for it. Before it, busybox's stty size says "stty:
		// standard input" on stderr and exits 0 with nothing on stdout.
		remote := `'tty; for i in 1 2 3 4 5 6 7 8 9 10; do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.2; done; echo "$s"'`
		cmd := fmt.Sprintf("stty cols 91 rows 37; %s exec -it web -- sh -c %s; echo kcurl-exit=$?; stty -a",
			strings.Join(connect(streamer), " "), remote)
		r := inNode(t, "", "script", "-qec", cmd, "/dev/null")
		for _, want := range []string{"/dev/pts/", "37 91\r\n", "kcurl-exit=0"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("-t through a pseudo-terminal: no %q in\n%s", want, r)
			}
		}
		if _, after, _ := strings.Cut(r.Stdout, "kcurl-exit"); !strings.Contains(after, " icanon ") || !strings.Contains(after, " echo ") {
			t.Errorf("the terminal was left raw:\n%s", after)
		}
		// Said once the terminal is cooked again, as kubectl says it: its
		// newline becomes "\r\n" there, where a raw terminal would leave
		// the next prompt indented.
		r = inNode(t, "", "script", "-qec", strings.Join(connect(streamer), " ")+" exec -it web -- sh -c 'exit 4'", "/dev/null")
		if !strings.Contains(r.Stdout, "command terminated with exit code 4\r\n") {
			t.Errorf("-t with an exit code:\n%q", r.Stdout)
		}
	})

	// A real pseudo-terminal of the test's own: the size is sent at the
	// start and again each time ours changes (SIGWINCH), for exec -t and
	// attach -t alike.
	size := func(rows, cols int) *regexp.Regexp {
		return regexp.MustCompile(fmt.Sprintf(`^(size=)?%d %d\r?$`, rows, cols))
	}
	t.Run("exec-tty-resize", func(t *testing.T) {
		run, terminal := startOnTerminal(t, 24, 80, append(connect(streamer), "exec", "-it", "web", "--",
			"sh", "-c", `while read line; do echo "size=$(stty size)"; done`)...)
		run.typeUntil(t, terminal, "?\r", size(24, 80), 20*time.Second)
		for _, s := range []pty.Winsize{{Rows: 50, Cols: 120}, {Rows: 30, Cols: 100}} {
			if err := pty.Setsize(terminal, &s); err != nil {
				t.Fatal(err)
			}
			run.typeUntil(t, terminal, "?\r", size(int(s.Rows), int(s.Cols)), 20*time.Second)
		}
		terminal.WriteString("\x04") // Ctrl-D: the loop's read ends
		if code := run.exitCode(t, 20*time.Second); code != 0 {
			t.Errorf("exec -it ended with %d; output:\n%s", code, run.output())
		}
	})

	t.Run("attach-tty", func(t *testing.T) {
		run, terminal := startOnTerminal(t, 24, 80, append(connect(streamer), "attach", "-it", "web", "-c", "term")...)
		run.waitFor(t, regexp.MustCompile(`If you don't see a command prompt, try pressing enter`), 20*time.Second)
		run.typeUntil(t, terminal, "stty size\r", size(24, 80), 20*time.Second)
		if err := pty.Setsize(terminal, &pty.Winsize{Rows: 42, Cols: 132}); err != nil {
			t.Fatal(err)
		}
		run.typeUntil(t, terminal, "stty size\r", size(42, 132), 20*time.Second)
		// The container's shell stays: SIGTERM ends kcurl as it ends
		// kubectl, once kcurl has given the terminal back (raw until then).
		cooked := func() bool {
			modes, err := unix.IoctlGetTermios(int(terminal.Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			return modes.Lflag&unix.ICANON != 0 && modes.Lflag&unix.ECHO != 0
		}
		if cooked() {
			t.Fatal("attach -it: the terminal is not raw")
		}
		run.cmd.Process.Signal(syscall.SIGTERM)
		run.endedBy(t, syscall.SIGTERM, 20*time.Second)
		if !cooked() {
			t.Error("attach -it ended by SIGTERM left the terminal raw")
		}
	})

	t.Run("port-forward", func(t *testing.T) {
		// DEBUG=1, as containers often set for their own app: the SPDY
		// library logs every frame when it sees it (below, at the end).
		fwd := startInNode(t, append(append([]string{"DEBUG=1"}, connect(streamer)...), "port-forward", "web", ":8080", ":9999")...)
		port := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`), 20*time.Second)
		closed := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 9999`), 5*time.Second)
		get := func(port, path string) result {
			return inNode(t, "", "curl", "-q", "--noproxy", "*", "-fsS", "--max-time", "60", "http://127.0.0.1:"+port+path)
		}
		expectContains(t, get(port, "/index.html"), "hello-through-port-forward\n", "", 0)

		// A second forwarder on the same local port cannot listen: exit 1.
		r := kc("", "port-forward", "web", port+":8080")
		expectContains(t, r, "", "Unable to listen on 127.0.0.1:"+port+": ", 1)
		expectContains(t, r, "", "kcurl: unable to listen on any of the requested ports\n", 1)

		// Nothing listens on 9999 in the Pod: that connection fails, is
		// reported, and the forwarder goes on.
		if r := get(closed, "/"); r.Code == 0 {
			t.Errorf("a connection to a closed port succeeded:\n%s", r)
		}
		fwd.waitFor(t, regexp.MustCompile(`error: forwarding port \d+ -> 9999: .*`), 10*time.Second)
		expectContains(t, get(port, "/index.html"), "hello-through-port-forward\n", "", 0)

		// Many at once.
		r = inNode(t, "", "sh", "-c", `for i in 1 2 3 4 5 6 7 8 9 10; do curl -q --noproxy '*' -fsS --max-time 60 http://127.0.0.1:$0/index.html & done; wait`, port)
		if got := strings.Count(r.Stdout, "hello-through-port-forward\n"); got != 10 {
			t.Errorf("10 connections at once: %d answers\n%s", got, r)
		}

		// 100 MB intact.
		want := remoteSum("/www/big")
		big := inNode(t, "", "sh", "-c", `curl -q --noproxy '*' -fsS --max-time 120 http://127.0.0.1:$0/big | sha256sum`, port)
		if !strings.HasPrefix(big.Stdout, want) {
			t.Errorf("100 MB through port-forward: sha256 %q, want %s\n%s", big.Stdout, want, big)
		}

		// What the forwarder said, and nothing else.
		said := regexp.MustCompile(`^(Forwarding from 127\.0\.0\.1:\d+ -> (8080|9999)|Handling connection for \d+|error: forwarding port \d+ -> 9999: .*)$`)
		for _, line := range strings.Split(fwd.output(), "\n") {
			if !said.MatchString(line) {
				t.Errorf("port-forward with DEBUG=1 in its environment printed %q", line)
				break
			}
		}
	})

	// A Pod deleted under a port-forward (a rollout replaces Pods so)
	// leaves the tunnel up, and every later connection fails: the first
	// that does ends the forwarder, exit 6, as kubectl's ends.
	t.Run("port-forward-pod-gone", func(t *testing.T) {
		apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: going, namespace: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: %s
    command: [sh, -c, 'mkdir -p /www && echo going > /www/index.html && exec httpd -f -p 8080 -h /www']
`, ns, shellImage))
		waitReady(t, ns, "going")
		fwd := startInNode(t, append(connect(streamer), "port-forward", "going", ":8080", "--address", "127.0.0.1,127.0.0.2")...)
		port := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`), 20*time.Second)
		// :8080 on two addresses: one free port, the same on both.
		fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.2:(`+port+`) -> 8080`), 5*time.Second)
		get := func(host string) result {
			return inNode(t, "", "curl", "-q", "--noproxy", "*", "-fsS", "--max-time", "20", "http://"+host+":"+port+"/index.html")
		}
		expectContains(t, get("127.0.0.2"), "going\n", "", 0)
		mustKubectl(t, "delete", "pod", "-n", ns, "going", "--wait=true", "--timeout=60s")
		if r := get("127.0.0.1"); r.Code == 0 {
			t.Errorf("a connection to a deleted Pod succeeded:\n%s", r)
		}
		if code := fwd.exitCode(t, 20*time.Second); code != 6 {
			t.Errorf("port-forward to a deleted Pod: exit %d, want 6\n%s", code, fwd.output())
		}
		fwd.waitFor(t, regexp.MustCompile(`^kcurl: lost connection to pod: pod going was deleted$`), time.Second)
	})

	// svc/NAME's ports are the Service's, by number or by name, as
	// kubectl takes them; a container port's name is not one.
	t.Run("port-forward-service-port-name", func(t *testing.T) {
		apply(t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: %s}
spec:
  selector: {app: web-svc}
  ports: [{name: front, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-svc, namespace: %[1]s, labels: {app: web-svc}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: %s
    ports: [{name: http, containerPort: 8080}]
    command: [sh, -c, 'mkdir -p /www && echo behind-the-service > /www/index.html && exec httpd -f -p 8080 -h /www']
`, ns, shellImage))
		waitReady(t, ns, "web-svc")
		fwd := startInNode(t, append(connect(streamer), "port-forward", "svc/web", ":front")...)
		port := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`), 20*time.Second)
		expectContains(t, inNode(t, "", "curl", "-q", "--noproxy", "*", "-fsS", "--max-time", "20", "http://127.0.0.1:"+port+"/index.html"), "behind-the-service\n", "", 0)
		// A container port's name is not the Service's: kubectl's words.
		harness.Expect(t, kc("", "port-forward", "svc/web", "18080:http"), "",
			"kcurl: Service 'web' does not have a named port 'http'\n", 2)
	})

	t.Run("recipe-debug-role", func(t *testing.T) {
		// docs/recipes.md's debug Pod: its Role, as the recipe has it, is
		// enough for the recipe's commands (a Deployment, a Service, cp).
		b, err := os.ReadFile(filepath.Join(repoRoot, "docs/recipes.md"))
		if err != nil {
			t.Fatal(err)
		}
		_, recipe, _ := strings.Cut(string(b), "## A debug Pod that reaches its neighbours")
		_, manifest, _ := strings.Cut(recipe, "```yaml\n")
		manifest, _, _ = strings.Cut(manifest, "```")
		if !strings.Contains(manifest, "kind: Role") {
			t.Fatalf("no Role in the recipe's manifest:\n%s", manifest)
		}
		if r := kubectlIn(t, manifest, "apply", "-n", ns, "-f", "-"); r.Code != 0 {
			t.Fatalf("kubectl apply of the recipe:\n%s", r)
		}
		apply(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: recipe-web, namespace: %[1]s}
spec:
  selector: {matchLabels: {app: recipe-web}}
  template:
    metadata: {labels: {app: recipe-web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: %[2]s
        command: [sh, -c, 'mkdir -p /www && echo from-the-recipe > /www/index.html && exec httpd -f -p 8080 -h /www']
---
apiVersion: v1
kind: Service
metadata: {name: recipe-db, namespace: %[1]s}
spec:
  selector: {app: recipe-web}
  ports: [{port: 5432, targetPort: 8080}]
`, ns, shellImage))
		if r := kubectl(t, "wait", "-n", ns, "--for=condition=Available", "--timeout=90s", "deploy/recipe-web"); r.Code != 0 {
			t.Fatalf("deploy/recipe-web:\n%s", r)
		}
		debug := connect(tokenFor("debug"))
		expectContains(t, inNode(t, "", append(debug, "exec", "deploy/recipe-web", "--", "cat", "/www/index.html")...), "from-the-recipe\n", "", 0)
		fwd := startInNode(t, append(debug, "port-forward", "svc/recipe-db", ":5432")...)
		port := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`), 20*time.Second)
		expectContains(t, inNode(t, "", "curl", "-q", "--noproxy", "*", "-fsS", "--max-time", "20", "http://127.0.0.1:"+port+"/index.html"), "from-the-recipe\n", "", 0)
		pod := strings.TrimPrefix(strings.TrimSpace(mustKubectl(t, "get", "pods", "-n", ns, "-l", "app=recipe-web", "-o", "name")), "pod/")
		local := filepath.Join(t.TempDir(), "index.html")
		expectContains(t, inNode(t, "", append(debug, "cp", pod+":/www/index.html", local)...), "", "", 0)
		if b, _ := os.ReadFile(local); string(b) != "from-the-recipe\n" {
			t.Errorf("cp as the recipe's debug: %q", b)
		}
	})

	t.Run("port-forward-address-family", func(t *testing.T) {
		// --address 0.0.0.0 is IPv4's every address, not IPv6's too: Go's
		// "tcp" would take [::] with it. As kubectl: tcp4 for IPv4.
		fwd := startInNode(t, append(connect(streamer), "port-forward", "web", ":8080", "--address", "0.0.0.0")...)
		port := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 0\.0\.0\.0:(\d+) -> 8080`), 20*time.Second)
		if r := inNode(t, "", "curl", "-q", "--noproxy", "*", "-fsS", "--max-time", "20", "-o", "/dev/null", "http://127.0.0.1:"+port+"/"); r.Code != 0 {
			t.Errorf("IPv4 through 0.0.0.0:\n%s", r)
		}
		// curl's 7: could not connect, where a forwarder on ::1 serves:
		// the node's namespace has IPv6.
		v6 := startInNode(t, append(connect(streamer), "port-forward", "web", ":8080", "--address", "::1")...)
		port6 := v6.waitFor(t, regexp.MustCompile(`Forwarding from \[::1\]:(\d+) -> 8080`), 20*time.Second)
		if r := inNode(t, "", "curl", "-q", "--noproxy", "*", "-fsS", "--max-time", "20", "-o", "/dev/null", "http://[::1]:"+port6+"/"); r.Code != 0 {
			t.Errorf("IPv6 through --address ::1:\n%s", r)
		}
		if r := inNode(t, "", "curl", "-q", "--noproxy", "*", "-sS", "--max-time", "20", "-o", "/dev/null", "http://[::1]:"+port+"/"); r.Code != 7 {
			t.Errorf("IPv6 through --address 0.0.0.0, want refused (curl exit 7):\n%s", r)
		}
	})

	t.Run("port-forward upload", func(t *testing.T) {
		// What goes into a forwarded connection arrives intact: 20 MB of
		// random bytes to nc in the container, summed there. nc's stdin
		// is a FIFO it holds open itself, so it never sends: at EOF on its
		// stdin it would shut down its side, and containerd closes a
		// forwarded connection one second after either side has finished,
		// cutting the upload short. The pause halfway through proves the
		// test does not depend on an upload finishing within that second.
		r := kc("", "exec", "web", "--", "sh", "-c", "rm -f /tmp/upload.sum /tmp/upload.in && mkfifo /tmp/upload.in && (nc -l -p 9000 <>/tmp/upload.in | sha256sum > /tmp/upload.sum) </dev/null >/dev/null 2>&1 &")
		if r.Code != 0 {
			t.Fatalf("starting nc in the container:\n%s", r)
		}
		listening := func() bool {
			r := kc("", "exec", "web", "--", "grep", "-qE", ":2328 [0-9A-F]+:0000 0A", "/proc/net/tcp", "/proc/net/tcp6")
			return r.Code == 0
		}
		for deadline := time.Now().Add(20 * time.Second); !listening(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("nc in the container did not listen on 9000 within 20 s")
			}
		}
		upload := make([]byte, 20<<20)
		rand.Read(upload)
		file := filepath.Join(t.TempDir(), "upload")
		if err := os.WriteFile(file, upload, 0o644); err != nil {
			t.Fatal(err)
		}
		fwd := startInNode(t, append(connect(streamer), "port-forward", "web", ":9000")...)
		port := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 9000`), 20*time.Second)
		send := `exec 3>/dev/tcp/127.0.0.1/$1 && head -c 10485760 "$0" >&3 && sleep 1.5 && tail -c +10485761 "$0" >&3`
		if r := inNode(t, "", "bash", "-c", send, file, port); r.Code != 0 {
			t.Fatalf("sending 20 MB through port-forward:\n%s\nthe forwarder said:\n%s", r, fwd.output())
		}
		want := sum(string(upload))
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			got := kc("", "exec", "web", "--", "cat", "/tmp/upload.sum")
			if strings.HasPrefix(got.Stdout, want+" ") {
				break
			}
			if got.Stdout != "" || time.Now().After(deadline) {
				t.Fatalf("20 MB through port-forward arrived with sha256 %q, want %s\n%s", got.Stdout, want, fwd.output())
			}
		}
	})

	t.Run("cp", func(t *testing.T) {
		dir := t.TempDir()
		expectContains(t, kc("", "cp", "web:/www/index.html", filepath.Join(dir, "index.html")), "", "", 0)
		if b, _ := os.ReadFile(filepath.Join(dir, "index.html")); string(b) != "hello-through-port-forward\n" {
			t.Errorf("cp from the container: %q", b)
		}
		// A container the Pod does not have: said as exec says it.
		expectContains(t, kc("", "cp", "-c", "nope", "web:/www/index.html", filepath.Join(dir, "nope")), "",
			"kcurl: container nope is not valid for pod web out of: web, echo, notar, term, ticker, tty-ticker", 2)
		expectContains(t, kc("", "cp", ns+"/web:/www", filepath.Join(dir, "www")), "", "", 0)
		if b, err := os.ReadFile(filepath.Join(dir, "www", "big")); err != nil || sum(string(b)) != remoteSum("/www/big") {
			t.Errorf("cp of a directory with 100 MB: %v", err)
		}

		up := filepath.Join(dir, "up")
		os.MkdirAll(filepath.Join(up, "sub"), 0o755)
		os.WriteFile(filepath.Join(up, "sub", "f.txt"), []byte("uploaded\n"), 0o644)
		expectContains(t, kc("", "cp", up, "web:/tmp/"), "", "", 0)
		expectContains(t, kc("", "exec", "web", "--", "cat", "/tmp/up/sub/f.txt"), "uploaded\n", "", 0)
		expectContains(t, kc("", "cp", filepath.Join(up, "sub", "f.txt"), "web:/tmp/renamed.txt"), "", "", 0)
		expectContains(t, kc("", "exec", "web", "--", "cat", "/tmp/renamed.txt"), "uploaded\n", "", 0)

		expectContains(t, kc("", "cp", "web:/etc/hosts", filepath.Join(dir, "hosts"), "-c", "notar"), "", "the container has no tar", 1)

		// A symbolic link in the container's directory is not copied, and
		// the warning names where it would have gone, as kubectl cp's does.
		expectContains(t, kc("", "exec", "web", "--", "sh", "-c", "mkdir -p /tmp/links && echo x > /tmp/links/a && ln -sf a /tmp/links/l"), "", "", 0)
		links := filepath.Join(dir, "links")
		harness.Expect(t, kc("", "cp", "web:/tmp/links", links), "", "warning: skipping symlink: \""+filepath.Join(links, "l")+"\" -> \"a\"\n", 0)
		// A local source that is not there: kubectl's words, exit 2, and no
		// pointer at the help, which would not help.
		missing := filepath.Join(dir, "missing")
		harness.Expect(t, kc("", "cp", missing, "web:/tmp/"), "", "kcurl: "+missing+" doesn't exist in local filesystem\n", 2)

		// As kubectl cp: a destination's missing parents are made here; a
		// directory there that is not there yet (trailing slash or not)
		// is the copy's name.
		expectContains(t, kc("", "cp", "web:/www/index.html", filepath.Join(dir, "a", "b", "index.html")), "", "", 0)
		if b, _ := os.ReadFile(filepath.Join(dir, "a", "b", "index.html")); string(b) != "hello-through-port-forward\n" {
			t.Errorf("cp into missing parents: %q", b)
		}
		expectContains(t, kc("", "cp", up, "web:/tmp/new-dir/"), "", "", 0)
		expectContains(t, kc("", "exec", "web", "--", "cat", "/tmp/new-dir/sub/f.txt"), "uploaded\n", "", 0)

		// --no-preserve: tar in the container does not give the copy its
		// owner here (kubectl's flag).
		owned := filepath.Join(dir, "owned")
		os.WriteFile(owned, []byte("owned\n"), 0o640)
		if err := os.Chown(owned, 1234, 1234); err != nil {
			t.Fatal(err)
		}
		expectContains(t, kc("", "cp", owned, "web:/tmp/owned-kept"), "", "", 0)
		expectContains(t, kc("", "exec", "web", "--", "stat", "-c", "%u:%g", "/tmp/owned-kept"), "1234:1234\n", "", 0)
		expectContains(t, kc("", "cp", "--no-preserve", owned, "web:/tmp/owned-not"), "", "", 0)
		expectContains(t, kc("", "exec", "web", "--", "stat", "-c", "%u:%g", "/tmp/owned-not"), "0:0\n", "", 0)
	})

	// The connection to the apiserver cut 10 MB into a copy of 100 MB, by a
	// proxy in between: the copy fails, or with --retries resumes where it
	// broke and arrives whole.
	t.Run("cp-retries", func(t *testing.T) {
		dir := t.TempDir()
		through := func(port int) []string {
			return []string{kcurlBin, fmt.Sprintf("--server=https://127.0.0.1:%d", port), "--cacert=" + node["KCURL_CLUSTER_CA"], "--token-file=" + streamer, "-n", ns}
		}
		port, cuts := cuttingProxy(t, 10<<20)
		r := inNode(t, "", append(through(port), "cp", "web:/www/big", filepath.Join(dir, "once"))...)
		if cuts.Load() != 1 {
			t.Errorf("the proxy cut %d connections, want 1", cuts.Load())
		}
		expectContains(t, r, "", "unexpected EOF", 6) // a stream cut short is a network failure
		if strings.Contains(r.Stderr, "Resuming") {
			t.Errorf("resumed without --retries: %s", r)
		}

		port, cuts = cuttingProxy(t, 10<<20)
		r = inNode(t, "", append(through(port), "cp", "--retries", "3", "web:/www/big", filepath.Join(dir, "resumed"))...)
		if cuts.Load() != 1 {
			t.Errorf("the proxy cut %d connections, want 1", cuts.Load())
		}
		expectContains(t, r, "", "Resuming copy at ", 0)
		if !regexp.MustCompile(`Resuming copy at \d+ bytes, retry 1/3\n`).MatchString(r.Stderr) {
			t.Errorf("stderr: %q", r.Stderr)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "resumed")); err != nil || sum(string(b)) != remoteSum("/www/big") {
			t.Errorf("the resumed copy: %v, %d bytes, not the container's /www/big", err, len(b))
		}

		// The kubelet stopped as the stream breaks, as when it restarts
		// (the proxy cuts the stream, and holds the next connection until
		// the kubelet is down): the apiserver refuses the resumption
		// ("error dialing backend", a 500), which is a try, and the next
		// one, a second later, reaches the kubelet once it is back.
		port, cut, release := holdingProxy(t, 10<<20)
		cp := startInNode(t, append(through(port), "cp", "--retries", "60", "web:/www/big", filepath.Join(dir, "kubelet-down"))...)
		select {
		case <-cut:
		case <-time.After(60 * time.Second):
			t.Fatalf("no cut within 60 s; output:\n%s", cp.output())
		}
		kubeletDown := true
		t.Cleanup(func() {
			if kubeletDown {
				nodeScript(t, "restart-kubelet")
			}
		})
		nodeScript(t, "stop-kubelet")
		release()
		cp.waitFor(t, regexp.MustCompile(`retry (2)/60$`), 30*time.Second)
		nodeScript(t, "restart-kubelet")
		kubeletDown = false
		if code := cp.exitCode(t, 120*time.Second); code != 0 {
			t.Fatalf("cp exited %d; output:\n%s", code, cp.output())
		}
		t.Logf("cp with the kubelet stopped:\n%s", cp.output())
		resumes := regexp.MustCompile(`(?m)^Resuming copy at (\d+) bytes, retry (\d+)/60$`).FindAllStringSubmatch(cp.output(), -1)
		if len(resumes) < 2 || resumes[0][2] != "1" || resumes[1][2] != "2" || resumes[1][1] != resumes[0][1] {
			t.Errorf("want a resumption refused (retry 2 at the same byte as retry 1); output:\n%s", cp.output())
		}
		if b, err := os.ReadFile(filepath.Join(dir, "kubelet-down")); err != nil || sum(string(b)) != remoteSum("/www/big") {
			t.Errorf("the copy resumed past the kubelet's stop: %v, %d bytes, not the container's /www/big", err, len(b))
		}
	})

	t.Run("raw-exec-path", func(t *testing.T) {
		path := "/api/v1/namespaces/" + ns + "/pods/web/exec?container=web&command=sh&command=-c&command=echo+raw%3B+echo+oops+>%262%3B+exit+5&stdout=true&stderr=true"
		expectContains(t, kc("", path), "raw\n", "oops\ncommand terminated with exit code 5\n", 5)
		in := "/api/v1/namespaces/{namespace}/pods/web/exec?container=web&command=cat&stdin=true&stdout=true"
		expectContains(t, kc("through stdin\n", in), "through stdin\n", "", 0)
		expectContains(t, kc("", path, "--curl"), "", "curl cannot speak exec", 2)
		fwd := "/api/v1/namespaces/" + ns + "/pods/web/portforward?ports=8080"
		expectContains(t, kc("GET /index.html HTTP/1.0\r\n\r\n", fwd), "hello-through-port-forward", "", 0)
		// Nothing listens on 9999: a connection that could not be made.
		closed := "/api/v1/namespaces/" + ns + "/pods/web/portforward?ports=9999"
		expectContains(t, kc("GET / HTTP/1.0\r\n\r\n", closed), "", "connection refused", 6)
	})

	// Cut short by a signal, exec ends as kubectl does, which does not
	// catch it: ended by that signal (a shell's loop stops on Ctrl-C),
	// with nothing of its own (nor client-go's logs) on stderr.
	t.Run("exec-interrupted", func(t *testing.T) {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			exec := startInNode(t, append(connect(streamer), "exec", "web", "--", "sh", "-c", "echo started; sleep 60")...)
			exec.waitFor(t, regexp.MustCompile(`^started$`), 20*time.Second)
			exec.cmd.Process.Signal(sig)
			exec.endedBy(t, sig, 20*time.Second)
			if out := exec.output(); out != "started" {
				t.Errorf("exec ended by %v printed %q, want only the command's \"started\"", sig, out)
			}
		}

		// Under nohup, the hangup does not end it (kcurl leaves alone a
		// signal it was started ignoring); SIGTERM still does.
		exec := startInNode(t, append(append([]string{"nohup"}, connect(streamer)...), "exec", "web", "--", "sh", "-c", "echo started; sleep 60")...)
		exec.waitFor(t, regexp.MustCompile(`^started$`), 20*time.Second)
		exec.cmd.Process.Signal(syscall.SIGHUP)
		select {
		case <-exec.exited:
			t.Fatalf("exec under nohup ended on SIGHUP: %v; output:\n%s", exec.cmd.ProcessState, exec.output())
		case <-time.After(2 * time.Second):
		}
		exec.cmd.Process.Signal(syscall.SIGTERM)
		exec.endedBy(t, syscall.SIGTERM, 20*time.Second)
	})

	// attach -t to a container without a terminal: kubectl's error line,
	// and the attach goes on without a TTY (the local terminal stays
	// cooked, the output is the container's lines).
	t.Run("attach-tty-without-one", func(t *testing.T) {
		run, terminal := startOnTerminal(t, 24, 80, append(connect(streamer), "attach", "-it", "web", "-c", "ticker")...)
		run.waitFor(t, regexp.MustCompile(`^error: Unable to use a TTY - container ticker did not allocate one\r?$`), 20*time.Second)
		run.waitFor(t, regexp.MustCompile(`^tick\r?$`), 20*time.Second)
		modes, err := unix.IoctlGetTermios(int(terminal.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if modes.Lflag&unix.ICANON == 0 {
			t.Error("attach -it to a container without a TTY made the terminal raw")
		}
		run.cmd.Process.Signal(syscall.SIGTERM)
		run.endedBy(t, syscall.SIGTERM, 20*time.Second)
	})

	// kubectl attach's two lines before the stream, then the stream.
	t.Run("attach-notices", func(t *testing.T) {
		attach := startInNode(t, append(connect(streamer), "attach", "web", "-c", "ticker")...)
		attach.waitFor(t, regexp.MustCompile(`^All commands and output from this session will be recorded in container logs, including credentials and sensitive information passed through the command prompt\.$`), 20*time.Second)
		attach.waitFor(t, regexp.MustCompile(`^If you don't see a command prompt, try pressing enter\.$`), 5*time.Second)
		attach.waitFor(t, regexp.MustCompile(`^tick$`), 20*time.Second)
		attach.cmd.Process.Signal(syscall.SIGINT)
		attach.endedBy(t, syscall.SIGINT, 20*time.Second)
	})

	// attach without -t to a container that has a terminal: through it,
	// where kubectl is refused ("tty and stderr cannot both be true").
	t.Run("attach-through-its-terminal", func(t *testing.T) {
		attach := startInNode(t, append(connect(streamer), "attach", "web", "-c", "tty-ticker", "-q")...)
		attach.waitFor(t, regexp.MustCompile(`^tick$`), 20*time.Second)
		attach.cmd.Process.Signal(syscall.SIGINT)
		attach.endedBy(t, syscall.SIGINT, 20*time.Second)
		if out := attach.output(); strings.Contains(out, "stderr") {
			t.Errorf("attach to a container with a terminal:\n%s", out)
		}
	})

	t.Run("raw-attach-path", func(t *testing.T) {
		attach := startInNode(t, append(connect(streamer), "/api/v1/namespaces/"+ns+"/pods/web/attach?container=ticker&stdout=true")...)
		attach.waitFor(t, regexp.MustCompile(`^tick$`), 20*time.Second)
		attach.cmd.Process.Signal(syscall.SIGTERM)
		attach.endedBy(t, syscall.SIGTERM, 20*time.Second)
		expectContains(t, kc("", "/api/v1/namespaces/"+ns+"/pods/web/attach?container=nope&stdout=true"),
			"", "Error from server (BadRequest): container nope is not valid for pod web", 4)
	})

	t.Run("forbidden", func(t *testing.T) {
		// -v: the refused upgrade's answer too, as for any other request.
		r := inNode(t, "", append(connect(reader), "-v", "exec", "web", "--", "true")...)
		expectContains(t, r, "", `Error from server (Forbidden): pods "web" is forbidden: User "system:serviceaccount:`+ns+`:reader" cannot `, 4)
		expectContains(t, r, "", ">\n< HTTP/1.1 403 Forbidden\n< Audit-Id: ", 4)
		if !strings.Contains(r.Stderr, "pods/exec") {
			t.Errorf("the Forbidden line does not name pods/exec:\n%s", r)
		}
		r = inNode(t, "", append(connect(reader), "-v", "port-forward", "web", ":8080")...)
		expectContains(t, r, "", "Error from server (Forbidden)", 4)
		expectContains(t, r, "", ">\n< HTTP/1.1 403 Forbidden\n< Audit-Id: ", 4)
		if strings.Contains(r.Stdout, "Forwarding from") {
			t.Errorf("port-forward listened before it was refused:\n%s", r)
		}
	})

	// A Role that grants create alone on the streams, as kubectl exec's
	// RBAC is often written (and docs/security.md asks): the WebSocket's
	// GET is refused as `get`, SPDY's POST is allowed as `create`.
	t.Run("create-only-role", func(t *testing.T) {
		serviceAccount(t, ns, "creator", `- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
- apiGroups: [""]
  resources: [pods/exec, pods/attach, pods/portforward]
  verbs: [create]`)
		creator := tokenFor("creator")
		as := func(stdin string, args ...string) result {
			return inNode(t, stdin, append(connect(creator), args...)...)
		}
		expectContains(t, as("", "exec", "web", "--", "sh", "-c", "echo out; exit 3"), "out\n", "command terminated with exit code 3\n", 3)
		expectContains(t, as("in\n", "exec", "-i", "web", "-c", "web", "--", "cat"), "in\n", "", 0)
		dir := t.TempDir()
		expectContains(t, as("", "cp", "web:/www/index.html", filepath.Join(dir, "index.html")), "", "", 0)
		if b, _ := os.ReadFile(filepath.Join(dir, "index.html")); string(b) != "hello-through-port-forward\n" {
			t.Errorf("cp with create alone: %q", b)
		}
		fwd := startInNode(t, append(connect(creator), "port-forward", "web", ":8080")...)
		port := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`), 20*time.Second)
		expectContains(t, inNode(t, "", "curl", "-q", "--noproxy", "*", "-fsS", "--max-time", "20", "http://127.0.0.1:"+port+"/index.html"), "hello-through-port-forward\n", "", 0)
	})

	t.Run("port-forward-to-a-silent-node", func(t *testing.T) {
		// The apiserver hands a port-forward's upgrade to the Pod's
		// kubelet and answers once the kubelet has. This one takes the
		// connection and says nothing: SIGINT still stops kcurl, before it
		// listens, with exit 0 (kubectl port-forward waits on past SIGINT
		// here), and the apiserver then lets the kubelet go.
		accepted := silentKubelet(t, "silent-"+ns)
		ghostPod(t, ns, "ghost", "silent-"+ns)
		for _, argv := range [][]string{
			{"port-forward", "ghost", ":8080"},
			{"/api/v1/namespaces/" + ns + "/pods/ghost/portforward?ports=8080"},
		} {
			fwd := startInNode(t, append(connect(streamer), argv...)...)
			kubelet := reachedBy(t, accepted, fwd)
			fwd.cmd.Process.Signal(syscall.SIGINT)
			if code := fwd.exitCode(t, 20*time.Second); code != 0 {
				t.Errorf("%q stopped by SIGINT before the kubelet answered: exit %d, want 0\n%s", argv, code, fwd.output())
			}
			if out := fwd.output(); out != "" {
				t.Errorf("%q printed %q, want nothing (it never listened)", argv, out)
			}
			if !closedWithin(kubelet, 20*time.Second) {
				t.Errorf("%q: the apiserver still held the silent kubelet's connection 20 s after kcurl left", argv)
			}
		}
	})

	t.Run("kubeconfig-and-as", func(t *testing.T) {
		admin := []string{kcurlBin, "--kubeconfig=" + node["KCURL_NODE_KUBECONFIG"], "-n", ns}
		expectContains(t, inNode(t, "", append(admin, "exec", "web", "--", "echo", "admin")...), "admin\n", "", 0)
		expectContains(t, inNode(t, "", append(admin, "--as=system:serviceaccount:"+ns+":reader", "exec", "web", "--", "true")...),
			"", `User "system:serviceaccount:`+ns+`:reader" cannot`, 4)
		expectContains(t, inNode(t, "", append(admin, "--as=system:serviceaccount:"+ns+":streamer", "exec", "web", "--", "echo", "as")...), "as\n", "", 0)

		// Each of the others, with the admin's kubeconfig as the streamer
		// and as the reader (who may read Pods but open none of their
		// streams: refused before any stream starts).
		as := func(sa string) []string { return append(admin, "--as=system:serviceaccount:"+ns+":"+sa) }
		dir := t.TempDir()
		expectContains(t, inNode(t, "", append(as("streamer"), "cp", "web:/www/index.html", filepath.Join(dir, "index.html"))...), "", "", 0)
		if b, _ := os.ReadFile(filepath.Join(dir, "index.html")); string(b) != "hello-through-port-forward\n" {
			t.Errorf("cp --as: %q", b)
		}
		expectContains(t, inNode(t, "", append(as("reader"), "cp", "web:/www/index.html", filepath.Join(dir, "no"))...), "", "(Forbidden)", 4)

		raw := "/api/v1/namespaces/" + ns + "/pods/web/exec?container=web&command=echo&command=raw-as&stdout=true"
		expectContains(t, inNode(t, "", append(as("streamer"), raw)...), "raw-as\n", "", 0)
		expectContains(t, inNode(t, "", append(as("reader"), raw)...), "", "(Forbidden)", 4)

		attach := startInNode(t, append(as("streamer"), "attach", "web", "-c", "ticker")...)
		attach.waitFor(t, regexp.MustCompile(`^tick$`), 20*time.Second)
		expectContains(t, inNode(t, "", append(as("reader"), "attach", "web", "-c", "ticker")...), "", "(Forbidden)", 4)

		fwd := startInNode(t, append(as("streamer"), "port-forward", "web", ":8080")...)
		port := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`), 20*time.Second)
		expectContains(t, inNode(t, "", "curl", "-q", "--noproxy", "*", "-fsS", "--max-time", "60", "http://127.0.0.1:"+port+"/index.html"),
			"hello-through-port-forward\n", "", 0)
		r := inNode(t, "", append(as("reader"), "port-forward", "web", ":8080")...)
		expectContains(t, r, "", "(Forbidden)", 4)
		if strings.Contains(r.Stdout, "Forwarding from") {
			t.Errorf("port-forward --as the reader listened before it was refused:\n%s", r)
		}
	})

	t.Run("through-kcurl-proxy", func(t *testing.T) {
		p := startInNode(t, append(connect(streamer), "proxy", "--port=0", "--reject-paths=")...)
		server := "http://" + p.waitFor(t, regexp.MustCompile(`Starting to serve on (127\.0\.0\.1:\d+)`), 10*time.Second)
		expectContains(t, inNode(t, "", kcurlBin, "--server="+server, "-n", ns, "exec", "web", "--", "echo", "proxied"), "proxied\n", "", 0)
		expectContains(t, inNode(t, "a\n", kcurlBin, "--server="+server, "-n", ns, "exec", "-i", "web", "--", "cat"), "a\n", "", 0)

		// port-forward (the WebSocket tunnel) through the proxy, 100 MB
		// intact, and the raw PATH.
		fwd := startInNode(t, kcurlBin, "--server="+server, "-n", ns, "port-forward", "web", ":8080")
		port := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`), 20*time.Second)
		expectContains(t, inNode(t, "", "curl", "-q", "--noproxy", "*", "-fsS", "--max-time", "60", "http://127.0.0.1:"+port+"/index.html"),
			"hello-through-port-forward\n", "", 0)
		big := inNode(t, "", "sh", "-c", `curl -q --noproxy '*' -fsS --max-time 120 http://127.0.0.1:$0/big | sha256sum`, port)
		if want := remoteSum("/www/big"); !strings.HasPrefix(big.Stdout, want) {
			t.Errorf("100 MB through port-forward and kcurl proxy: sha256 %q, want %s\n%s", big.Stdout, want, big)
		}
		expectContains(t, inNode(t, "GET /index.html HTTP/1.0\r\n\r\n", kcurlBin, "--server="+server,
			"/api/v1/namespaces/"+ns+"/pods/web/portforward?ports=8080"), "hello-through-port-forward", "", 0)
	})

	// kcurl proxy's default filter refuses the streams (403, in words):
	// the WebSocket upgrade, then SPDY's, and nothing more (the Pod would
	// not change that answer).
	t.Run("through-kcurl-proxy-filter", func(t *testing.T) {
		p := startInNode(t, append(connect(streamer), "proxy", "--port=0")...)
		server := "http://" + p.waitFor(t, regexp.MustCompile(`Starting to serve on (127\.0\.0\.1:\d+)`), 10*time.Second)
		r := inNode(t, "", kcurlBin, "--server="+server, "-n", ns, "-v", "exec", "web", "--", "true")
		expectContains(t, r, "", "kcurl: unable to upgrade connection: Forbidden\n", 4)
		if gets, posts := strings.Count(r.Stderr, "\n> GET "), strings.Count(r.Stderr, "\n> POST "); !strings.HasPrefix(r.Stderr, "> GET ") || gets != 0 || posts != 1 {
			t.Errorf("want the WebSocket's GET and SPDY's POST, nothing more:\n%s", r.Stderr)
		}
	})

	// A container that ended, in a running Pod: the kubelet's refusal in
	// words (a 500), exit 5 as for any 5xx.
	t.Run("exec-into-an-ended-container", func(t *testing.T) {
		apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: halfdone, namespace: %s}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: ended, image: %[2]s, command: ['true']}
  - {name: runs, image: %[2]s, command: [sleep, '3600']}
`, ns, shellImage))
		if r := kubectl(t, "wait", "-n", ns, `--for=jsonpath={.status.containerStatuses[?(@.name=="ended")].state.terminated.reason}=Completed`, "--timeout=90s", "pod/halfdone"); r.Code != 0 {
			t.Fatalf("container ended did not end:\n%s\n%s", r, describe(t, ns, "halfdone"))
		}
		expectContains(t, kc("", "exec", "halfdone", "-c", "ended", "--", "true"), "", `container not found ("ended")`, 5)
	})

	t.Run("in-a-pod", func(t *testing.T) {
		apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: client, namespace: %[1]s}
spec:
  serviceAccountName: streamer
  restartPolicy: Never
  containers:
  - name: kcurl
    image: %[2]s
    args: [exec, web, --, sh, -c, 'echo from-a-pod; exit 6']
`, ns, kcurlImage))
		code, logs := terminated(t, ns, "client")
		if code != 6 || !strings.Contains(logs, "from-a-pod") {
			t.Errorf("kcurl exec in a Pod: exit %d, logs\n%s", code, logs)
		}
	})

	// Last: the echo container ends when its stdin does.
	t.Run("attach", func(t *testing.T) {
		// stdin a second late: containerd copies it into the container
		// before it adds the attach to the container's stdout, and an
		// answer made in between goes to the log alone (see
		// streams_test.go).
		r := inNode(t, "", append([]string{"sh", "-c", `(sleep 1; echo one; echo two; sleep 3) | "$@" attach -i web -c echo -q`, "sh"}, connect(streamer)...)...)
		if !strings.Contains(r.Stdout, "got one\ngot two\n") {
			t.Errorf("attach:\n%s", r)
		}
	})

	// Last too: the term container's shell ends, and with it an
	// interactive attach, which then says kubectl's line on how to come
	// back, and exits 0.
	t.Run("attach-session-ended", func(t *testing.T) {
		run, terminal := startOnTerminal(t, 24, 80, append(connect(streamer), "attach", "-it", "web", "-c", "term")...)
		run.waitFor(t, regexp.MustCompile(`If you don't see a command prompt, try pressing enter`), 20*time.Second)
		terminal.WriteString("exit\r")
		if code := run.exitCode(t, 20*time.Second); code != 0 {
			t.Errorf("attach -it ended by the shell's exit: exit %d; output:\n%s", code, run.output())
		}
		run.waitFor(t, regexp.MustCompile(`^Session ended, resume using 'kcurl attach web -c term -n `+ns+` -i -t' command\r?$`), 5*time.Second)
	})
}

// expectContains: stdout and stderr each contain what is given, and the
// exit code is code.
func expectContains(t *testing.T, r result, stdout, stderr string, code int) {
	t.Helper()
	harness.Expect(t, r, stdout, stderr, code, harness.Contains)
}
