package cmd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kcurl/kcurl/pkg/target/targettest"
)

const proxyTestToken = "proxy-test-token-never-printed"

// lockedBuffer is stderr for a proxy: written from the request goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lineWriter hands each line written to it to a channel: stdout, where
// the proxy says where it serves.
type lineWriter struct {
	mu    sync.Mutex
	part  []byte
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.lines <- string(w.part[:i])
		w.part = w.part[i+1:]
	}
}

// proxyBackend is the API server: a TLS HTTP/2 server that answers h, and
// the flags that point kcurl at it with a service account of its own.
func proxyBackend(t *testing.T, h http.HandlerFunc) []string {
	t.Helper()
	ca := targettest.NewCA(t, "proxy-test-ca")
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(t)}}
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	sa := targettest.NewServiceAccount(t, map[string]string{"token": proxyTestToken, "ca.crt": string(ca.CertPEM), "namespace": "ns"})
	return []string{"--server", srv.URL, "--sa-dir", sa.Dir}
}

// runningProxy is `kcurl proxy` run in-process, as Main runs it, but on a
// context the test cancels in place of SIGTERM.
type runningProxy struct {
	addr   string // what it printed after "Starting to serve on "
	stderr *lockedBuffer
	cancel context.CancelFunc
	exit   chan int
}

func startProxyCommand(t *testing.T, args ...string) *runningProxy {
	t.Helper()
	out := &lineWriter{lines: make(chan string, 16)}
	p := &runningProxy{stderr: &lockedBuffer{}, exit: make(chan int, 1)}
	s := Streams{In: strings.NewReader(""), Out: out, ErrOut: p.stderr, Getenv: targettest.Env(nil), Environ: func() []string { return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		app := newApp(s)
		argv, err := interspersed(append([]string{"kcurl", "proxy"}, args...), app)
		if err == nil {
			err = app.RunContext(ctx, argv)
		}
		if err != nil {
			report(s.ErrOut, err, "kcurl", "")
		}
		p.exit <- exitCode(err)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.exit:
		case <-time.After(shutdownGrace + 2*time.Second):
			t.Error("the proxy did not stop")
		}
	})
	select {
	case line := <-out.lines:
		addr, ok := strings.CutPrefix(line, "Starting to serve on ")
		if !ok {
			t.Fatalf("stdout: %q", line)
		}
		p.addr = addr
	case code := <-p.exit:
		p.exit <- code
		t.Fatalf("exit %d before serving: %s", code, p.stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy did not start")
	}
	return p
}

// stop cancels the proxy's context and returns its exit code and how long
// it took to stop.
func (p *runningProxy) stop(t *testing.T) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	p.cancel()
	select {
	case code := <-p.exit:
		p.exit <- code // for Cleanup
		return code, time.Since(start)
	case <-time.After(shutdownGrace + 2*time.Second):
		t.Fatal("the proxy did not stop")
		return 0, 0
	}
}

func proxyGet(t *testing.T, client *http.Client, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProxyUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"port and socket", []string{"-p", "8001", "-u", "/nonexistent/kcurl.sock"}, "--unix-socket and --port cannot be used together"},
		{"negative port", []string{"-p", "-1"}, "invalid --port -1"},
		{"port too large", []string{"--port", "65536"}, "invalid --port 65536"},
		{"port not a number", []string{"--port", "http"}, `invalid value "http" for --port: give a number`},
		{"invalid regexp", []string{"--accept-paths", `^/api,^/apis/(`}, `--accept-paths: invalid regular expression "^/apis/("`},
		{"an argument", []string{"/api"}, "proxy takes no arguments, got /api"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			// The flags are refused before anything is resolved or listened on:
			// no server, no service account.
			s := Streams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr, Getenv: targettest.Env(nil), Environ: func() []string { return nil }}
			code := Main(append([]string{"kcurl", "proxy"}, tc.args...), s)
			if code != ExitUsage || !strings.Contains(stderr.String(), tc.want) || stdout.Len() != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout.String(), stderr.String(), ExitUsage, tc.want)
			}
		})
	}
}

func TestProxyCommand(t *testing.T) {
	backend := func(t *testing.T) []string {
		return proxyBackend(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+proxyTestToken {
				http.Error(w, "wrong token", http.StatusUnauthorized)
				return
			}
			io.WriteString(w, "ok "+r.URL.Path)
		})
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	t.Run("defaults", func(t *testing.T) {
		p := startProxyCommand(t, append(backend(t), "-p", "0")...)
		if host, port, err := net.SplitHostPort(p.addr); err != nil || host != "127.0.0.1" || port == "0" {
			t.Fatalf("serves on %q", p.addr)
		}
		if code, body := proxyGet(t, client, "http://"+p.addr+"/api/v1/namespaces", ""); code != 200 || body != "ok /api/v1/namespaces" {
			t.Errorf("%d %q", code, body)
		}
		if code, body := proxyGet(t, client, "http://"+p.addr+"/api", "attacker.example"); code != 403 || body != "Forbidden\n" {
			t.Errorf("another host: %d %q", code, body)
		}
		if code, _ := proxyGet(t, client, "http://"+p.addr+"/api/v1/namespaces/ns/pods/web/exec", ""); code != 403 {
			t.Errorf("exec: %d", code)
		}
		if code, elapsed := p.stop(t); code != ExitOK || elapsed > time.Second {
			t.Errorf("exit %d after %v", code, elapsed)
		}
		if s := p.stderr.String(); s != "" {
			t.Errorf("stderr: %q", s)
		}
	})
	t.Run("disable-filter", func(t *testing.T) {
		p := startProxyCommand(t, append(backend(t), "-p", "0", "--disable-filter")...)
		if code, body := proxyGet(t, client, "http://"+p.addr+"/api/v1/namespaces/ns/pods/web/exec", "attacker.example"); code != 200 || body != "ok /api/v1/namespaces/ns/pods/web/exec" {
			t.Errorf("%d %q", code, body)
		}
		p.stop(t)
		if s := p.stderr.String(); !strings.HasPrefix(s, "kcurl: warning: --disable-filter: ") || strings.Count(s, "\n") != 1 {
			t.Errorf("stderr: %q", s)
		}
	})
	t.Run("custom filter and prefix", func(t *testing.T) {
		p := startProxyCommand(t, append(backend(t), "-p", "0", "--api-prefix", "/k8s/", "--reject-methods", "^POST$", "--accept-hosts", `^proxy\.local$`)...)
		if code, body := proxyGet(t, client, "http://"+p.addr+"/k8s/api", "proxy.local:8001"); code != 200 || body != "ok /api" {
			t.Errorf("%d %q", code, body)
		}
		if code, _ := proxyGet(t, client, "http://"+p.addr+"/k8s/api", ""); code != 403 {
			t.Errorf("127.0.0.1 is not accepted any more: %d", code)
		}
		if code, _ := proxyGet(t, client, "http://"+p.addr+"/api", "proxy.local"); code != 404 {
			t.Errorf("outside the prefix: %d", code)
		}
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/k8s/api/v1/namespaces", strings.NewReader("{}"))
		req.Host = "proxy.local"
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("POST: %d", resp.StatusCode)
		}
	})
	t.Run("verbose", func(t *testing.T) {
		p := startProxyCommand(t, append(backend(t), "-p", "0", "-v")...)
		proxyGet(t, client, "http://"+p.addr+"/api?timeout=1s", "")
		p.stop(t)
		s := p.stderr.String()
		if !strings.HasPrefix(s, "GET /api?timeout=1s 200 ") || strings.Count(s, "\n") != 1 || strings.Contains(s, proxyTestToken) {
			t.Errorf("stderr: %q", s)
		}
	})
	t.Run("unix socket", func(t *testing.T) {
		socket := filepath.Join(t.TempDir(), "k.sock")
		p := startProxyCommand(t, append(backend(t), "-u", socket)...)
		if p.addr != socket {
			t.Errorf("serves on %q", p.addr)
		}
		if info, err := os.Stat(socket); err != nil || info.Mode().Perm() != 0o600 || info.Mode()&fs.ModeSocket == 0 {
			t.Fatalf("%v %v", info.Mode(), err)
		}
		unix := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		}}}
		defer unix.CloseIdleConnections()
		if code, body := proxyGet(t, unix, "http://localhost/api", ""); code != 200 || body != "ok /api" {
			t.Errorf("%d %q", code, body)
		}
		p.stop(t)
		if _, err := os.Lstat(socket); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the socket is left behind: %v", err)
		}
	})
	t.Run("port taken", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		_, port, _ := net.SplitHostPort(l.Addr().String())
		var stdout, stderr bytes.Buffer
		s := Streams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr, Getenv: targettest.Env(nil), Environ: func() []string { return nil }}
		code := Main(append([]string{"kcurl", "proxy", "-p", port}, backend(t)...), s)
		if code == ExitOK || !strings.HasPrefix(stderr.String(), "kcurl: cannot serve on 127.0.0.1:"+port+": ") || stdout.Len() != 0 {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
		}
	})
}

// TestProxyShutdown: on SIGTERM (the context's end here) the proxy stops
// accepting, lets a short request finish, cuts a watch after the grace
// period, and returns without an error.
func TestProxyShutdown(t *testing.T) {
	arrived := make(chan struct{}, 1)
	args := proxyBackend(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/short":
			arrived <- struct{}{}
			time.Sleep(300 * time.Millisecond)
			io.WriteString(w, "done")
		case "/watch":
			io.WriteString(w, `{"type":"ADDED"}`+"\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	})
	p := startProxyCommand(t, append(args, "-p", "0")...)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	watch, err := client.Get("http://" + p.addr + "/watch")
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Body.Close()
	events := bufio.NewReader(watch.Body)
	if line, err := events.ReadString('\n'); err != nil {
		t.Fatalf("%q %v", line, err)
	}
	type answer struct {
		code int
		body string
		err  error
	}
	short := make(chan answer, 1)
	go func() {
		resp, err := client.Get("http://" + p.addr + "/short")
		if err != nil {
			short <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		short <- answer{resp.StatusCode, string(b), err}
	}()
	<-arrived

	watchEnded := make(chan time.Time, 1)
	go func() {
		io.Copy(io.Discard, events)
		watchEnded <- time.Now()
	}()
	start := time.Now()
	p.cancel()
	if a := <-short; a.err != nil || a.code != 200 || a.body != "done" {
		t.Errorf("the request in flight: %d %q %v", a.code, a.body, a.err)
	}
	// Stopped accepting.
	deadline := time.Now().Add(time.Second)
	for {
		conn, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Error("still accepting connections")
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	code, _ := p.stop(t)
	if elapsed := time.Since(start); code != ExitOK || elapsed < shutdownGrace-100*time.Millisecond || elapsed > shutdownGrace+time.Second {
		t.Errorf("exit %d after %v; the grace period is %v", code, elapsed, shutdownGrace)
	}
	select {
	case end := <-watchEnded:
		if cut := end.Sub(start); cut > shutdownGrace+time.Second {
			t.Errorf("the watch was cut after %v", cut)
		}
	case <-time.After(2 * time.Second):
		t.Error("the watch goes on after the proxy stopped")
	}
	if s := p.stderr.String(); s != "" {
		t.Errorf("stderr: %q", s)
	}
}

func TestListen(t *testing.T) {
	t.Run("tcp port 0", func(t *testing.T) {
		l, err := listen("", "127.0.0.1", 0)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if addr := l.Addr().(*net.TCPAddr); !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) || addr.Port == 0 {
			t.Errorf("%v", addr)
		}
	})
	t.Run("tcp ::1", func(t *testing.T) {
		l, err := listen("", "::1", 0)
		if err != nil {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		if _, err := listen("", "::1", port); err == nil || !strings.HasPrefix(err.Error(), "cannot serve on [::1]:") {
			t.Errorf("port taken: %v", err)
		}
	})
	t.Run("unix socket", func(t *testing.T) {
		socket := filepath.Join(t.TempDir(), "k.sock")
		l, err := listen(socket, "127.0.0.1", 8001)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if info, err := os.Stat(socket); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%v %v", info.Mode(), err)
		}
	})
	t.Run("stale socket", func(t *testing.T) {
		socket := filepath.Join(t.TempDir(), "k.sock")
		old, err := net.Listen("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		old.(*net.UnixListener).SetUnlinkOnClose(false) // as a killed proxy leaves it
		old.Close()
		l, err := listen(socket, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		conn, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	})
	t.Run("a regular file is not removed", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "k.sock")
		if err := os.WriteFile(file, []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := listen(file, "", 0)
		if err == nil {
			l.Close()
			t.Fatal("listened over a regular file")
		}
		if !strings.HasPrefix(err.Error(), "cannot serve on "+file+": ") {
			t.Errorf("%v", err)
		}
		if b, err := os.ReadFile(file); string(b) != "precious" {
			t.Errorf("the file is now %q %v", b, err)
		}
	})
	t.Run("a symlink to a socket is not followed", func(t *testing.T) {
		dir := t.TempDir()
		socket, link := filepath.Join(dir, "real.sock"), filepath.Join(dir, "k.sock")
		other, err := net.Listen("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if err := os.Symlink(socket, link); err != nil {
			t.Fatal(err)
		}
		if l, err := listen(link, "", 0); err == nil {
			l.Close()
			t.Error("listened over a symlink")
		}
		if _, err := os.Lstat(socket); err != nil {
			t.Errorf("the other socket is gone: %v", err)
		}
	})
}

// A local client of the proxy acts as the Pod and no one else: its
// Impersonate-* headers are dropped (as its Authorization is), unless the
// proxy was started with --allow-impersonation.
func TestProxyImpersonation(t *testing.T) {
	backend := func(t *testing.T) []string {
		return proxyBackend(t, func(w http.ResponseWriter, r *http.Request) {
			var seen []string
			for name, values := range r.Header {
				if strings.HasPrefix(name, "Impersonate-") || name == "Authorization" {
					seen = append(seen, name+"="+strings.Join(values, ","))
				}
			}
			slices.Sort(seen)
			io.WriteString(w, strings.Join(seen, " "))
		})
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	get := func(t *testing.T, addr string) string {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/secrets", nil)
		req.Header.Set("Authorization", "Bearer a-client-token")
		req.Header.Set("Impersonate-User", "system:admin")
		req.Header.Add("Impersonate-Group", "system:masters")
		req.Header.Set("Impersonate-Uid", "1")
		req.Header["impersonate-extra-scopes"] = []string{"all"} // as written, not canonical
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	pod := "Authorization=Bearer " + proxyTestToken
	t.Run("dropped by default", func(t *testing.T) {
		p := startProxyCommand(t, append(backend(t), "-p", "0")...)
		if got := get(t, p.addr); got != pod {
			t.Errorf("the server saw %q, want only the Pod's token", got)
		}
	})
	t.Run("--allow-impersonation", func(t *testing.T) {
		p := startProxyCommand(t, append(backend(t), "-p", "0", "--allow-impersonation")...)
		want := pod + " Impersonate-Extra-Scopes=all Impersonate-Group=system:masters Impersonate-Uid=1 Impersonate-User=system:admin"
		if got := get(t, p.addr); got != want {
			t.Errorf("the server saw %q, want %q", got, want)
		}
	})
}
