//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// running is kcurl started in the sandbox in the background (a watch, a
// followed log), read line by line as its output arrives.
type running struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	mu     sync.Mutex
	stderr bytes.Buffer
	all    strings.Builder // every stdout line, for the final result
	done   chan struct{}
	token  string
}

// start runs kcurl in the background; the test stops it (SIGINT, as Ctrl-C)
// or waits for it, and it is killed by its pid when the test ends.
func (s *sandbox) start(args ...string) *running {
	s.t.Helper()
	c := s.command(append([]string{kcurlBin}, args...)...)
	out, err := c.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	r := &running{t: s.t, cmd: c, lines: make(chan string, 1024), done: make(chan struct{}), token: s.Token}
	c.Stderr = &lockedWriter{mu: &r.mu, w: &r.stderr}
	if err := c.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	go func() { _ = c.Wait(); close(r.done) }()
	s.t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = c.Process.Kill()
			<-r.done
		}
	})
	return r
}

// next returns the next line of stdout, failing the test if none arrives
// within d.
func (r *running) next(d time.Duration) string {
	r.t.Helper()
	select {
	case line, ok := <-r.lines:
		if !ok {
			r.t.Fatalf("kcurl ended instead of printing a line; stderr:\n%s", r.errText())
		}
		r.all.WriteString(line + "\n")
		return line
	case <-time.After(d):
		r.t.Fatalf("no line within %v; stderr:\n%s", d, r.errText())
		return ""
	}
}

// quiet checks that no line arrives for d.
func (r *running) quiet(d time.Duration) {
	r.t.Helper()
	select {
	case line, ok := <-r.lines:
		if ok {
			r.t.Errorf("unexpected line %q", line)
		}
	case <-time.After(d):
	}
}

// interrupt sends SIGINT, as Ctrl-C would, and waits for kcurl to end.
func (r *running) interrupt() result {
	r.t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGINT)
	return r.wait(10 * time.Second)
}

// wait waits for kcurl to end by itself.
func (r *running) wait(d time.Duration) result {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(d):
		r.t.Fatalf("kcurl did not end within %v", d)
	}
	for line := range r.lines {
		r.all.WriteString(line + "\n")
	}
	res := result{Stdout: r.all.String(), Stderr: r.errText(), Code: r.cmd.ProcessState.ExitCode()}
	if r.token != "" && strings.Contains(res.Stdout+res.Stderr, r.token) {
		r.t.Errorf("the token appears in the output")
	}
	return res
}

func (r *running) errText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
