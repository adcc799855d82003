//go:build e2e

package node

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// background is a process of the test's own in the node's namespace,
// stopped by its pid when the test ends.
type background struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	more   chan struct{}
	exited chan struct{} // closed once cmd.Wait returned
}

func startInNode(t *testing.T, argv ...string) *background {
	t.Helper()
	b := newBackground(t, argv)
	pr, pw := io.Pipe()
	b.cmd.Stdout, b.cmd.Stderr = pw, pw
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b.collect(pr)
	b.stopAtCleanup(t, pw)
	return b
}

// startOnTerminal is startInNode with a pseudo-terminal of rows×cols as the
// process's stdin, stdout, stderr and controlling terminal, as a user's
// shell gives it; the test holds the other side (typing, resizing).
func startOnTerminal(t *testing.T, rows, cols uint16, argv ...string) (*background, *os.File) {
	t.Helper()
	b := newBackground(t, argv)
	terminal, err := pty.StartWithSize(b.cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	b.collect(terminal)
	b.stopAtCleanup(t, terminal)
	return b, terminal
}

func newBackground(t *testing.T, argv []string) *background {
	full := append([]string{"--net=/run/netns/" + node["KCURL_NODE_NETNS"], "env", "-i",
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + t.TempDir()}, argv...)
	return &background{cmd: exec.Command("nsenter", full...), more: make(chan struct{}, 1), exited: make(chan struct{})}
}

// collect keeps the output's lines; it runs from Start until Wait.
func (b *background) collect(r io.Reader) {
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			b.mu.Lock()
			b.lines = append(b.lines, sc.Text())
			b.mu.Unlock()
			select {
			case b.more <- struct{}{}:
			default:
			}
		}
	}()
	go func() { _ = b.cmd.Wait(); close(b.exited) }()
}

func (b *background) stopAtCleanup(t *testing.T, output io.Closer) {
	t.Cleanup(func() {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(10 * time.Second):
			_ = b.cmd.Process.Kill()
			<-b.exited
		}
		output.Close()
	})
}

// exitCode waits up to d for the process to end by itself.
func (b *background) exitCode(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-b.exited:
		return b.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		t.Fatalf("still running after %s; output:\n%s", d, b.output())
		return -1
	}
}

// endedBy waits up to d for the process to be ended by sig (a shell's
// exit code 128+N, its loop stopped).
func (b *background) endedBy(t *testing.T, sig syscall.Signal, d time.Duration) {
	t.Helper()
	b.exitCode(t, d)
	status, ok := b.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !status.Signaled() || status.Signal() != sig {
		t.Errorf("ended with %v, want ended by %v; output:\n%s", b.cmd.ProcessState, sig, b.output())
	}
}

func (b *background) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// waitFor returns the first submatch of re in the output, waiting up to d.
func (b *background) waitFor(t *testing.T, re *regexp.Regexp, d time.Duration) string {
	t.Helper()
	m, ok := b.find(re, d)
	if !ok {
		t.Fatalf("no line matching %s within %s; output:\n%s", re, d, b.output())
	}
	return m
}

// typeUntil types text on the terminal until a line matches re, up to d:
// a resize reaches the container's terminal a moment after ours.
func (b *background) typeUntil(t *testing.T, terminal *os.File, text string, re *regexp.Regexp, d time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(d); ; {
		if _, err := terminal.WriteString(text); err != nil {
			t.Fatalf("typing on the terminal: %v; output:\n%s", err, b.output())
		}
		if _, ok := b.find(re, time.Second); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line matching %s within %s; output:\n%s", re, d, b.output())
		}
	}
}

func (b *background) find(re *regexp.Regexp, d time.Duration) (string, bool) {
	deadline := time.After(d)
	for {
		b.mu.Lock()
		for _, l := range b.lines {
			if m := re.FindStringSubmatch(l); m != nil {
				b.mu.Unlock()
				return m[len(m)-1], true
			}
		}
		b.mu.Unlock()
		select {
		case <-b.more:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			return "", false
		}
	}
}

// kubectl's own exec (with stdin), attach and port-forward through kcurl
// proxy, as a client of http://127.0.0.1:PORT: refused by the default
// filter, passed through when the filter allows them.
func kubectlThroughProxy(t *testing.T) {
	ns := namespace(t)
	serviceAccount(t, ns, "streamer", streamerRules)
	apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web, namespace: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: %[2]s
    command: [sh, -c, 'mkdir -p /www && echo hello-through-port-forward > /www/index.html && exec httpd -f -p 8080 -h /www']
  - name: echo
    image: %[2]s
    stdin: true
    command: [sh, -c, 'while read line; do echo "got $line"; done']
`, ns, shellImage))
	waitReady(t, ns, "web")

	token := mustKubectl(t, "create", "token", "streamer", "-n", ns, "--duration=1h")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(strings.TrimSpace(token)), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := regexp.MustCompile(`Starting to serve on (127\.0\.0\.1:\d+)`)
	proxy := func(t *testing.T, flags ...string) string {
		p := startInNode(t, append([]string{kcurlBin, "--server=https://127.0.0.1:443", "--cacert=" + node["KCURL_CLUSTER_CA"],
			"--token-file=" + tokenFile, "proxy", "--port=0"}, flags...)...)
		return "http://" + p.waitFor(t, serve, 10*time.Second)
	}
	viaProxy := func(server, stdin string, args ...string) result {
		return inNode(t, stdin, append([]string{node["KCURL_NODE_KUBECTL"], "--server=" + server, "-n", ns}, args...)...)
	}

	t.Run("refused-by-default", func(t *testing.T) {
		server := proxy(t)
		harness.Expect(t, viaProxy(server, "", "get", "pod", "web", "-o", "name"), "pod/web", "", 0, harness.Contains)
		r := viaProxy(server, "ping\n", "exec", "-i", "web", "-c", "web", "--", "cat")
		if r.Code == 0 || strings.Contains(r.Stdout, "ping") || !strings.Contains(r.Stderr, "Forbidden") {
			t.Errorf("exec through the default filter was not refused:\n%s", r)
		}
		r = viaProxy(server, "", "port-forward", "pod/web", ":8080")
		if r.Code == 0 || !strings.Contains(r.Stderr, "Forbidden") {
			t.Errorf("port-forward through the default filter was not refused:\n%s", r)
		}
	})

	t.Run("allowed", func(t *testing.T) {
		server := proxy(t, "--reject-paths=")
		harness.Expect(t, viaProxy(server, "ping\npong\n", "exec", "-i", "web", "-c", "web", "--", "cat"), "ping\npong\n", "", 0, harness.Contains)
		harness.Expect(t, viaProxy(server, "", "exec", "web", "-c", "web", "--", "sh", "-c", "exit 7"), "", "", 7, harness.Contains)

		fwd := startInNode(t, node["KCURL_NODE_KUBECTL"], "--server="+server, "-n", ns, "port-forward", "--address=127.0.0.1", "pod/web", ":8080")
		port := fwd.waitFor(t, regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`), 20*time.Second)
		harness.Expect(t, inNode(t, "", "curl", "-q", "--noproxy", "*", "-fsS", "--max-time", "10", "http://127.0.0.1:"+port+"/"),
			"hello-through-port-forward\n", "", 0, harness.Contains)

		// Last: the echo container ends when its stdin does.
		// stdin stays open a moment: kubectl attach ends when stdin does,
		// and would not wait for the answer. It starts a second late:
		// containerd starts copying an attach's stdin into the container
		// before it adds the attach to the container's stdout (Attach in
		// internal/cri/io/container_io.go), and an answer made in between
		// goes to the log alone (CI lost both lines once).
		attach := inNode(t, "", "sh", "-c", `(sleep 1; echo one; echo two; sleep 3) | "$0" --server="$1" -n "$2" attach -i web -c echo --quiet`,
			node["KCURL_NODE_KUBECTL"], server, ns)
		if !strings.Contains(attach.Stdout, "got one\ngot two\n") {
			t.Errorf("attach through the proxy:\n%s", attach)
		}
	})
}
