//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// startProxy runs `kcurl proxy` in the sandbox and returns its address
// (127.0.0.1:PORT) once it says it serves.
func startProxy(t *testing.T, s *sandbox, args ...string) (*running, string) {
	t.Helper()
	p := s.start(append([]string{"proxy"}, args...)...)
	line := p.next(10 * time.Second)
	addr, ok := strings.CutPrefix(line, "Starting to serve on ")
	if !ok {
		t.Fatalf("proxy said %q", line)
	}
	return p, addr
}

// curl is the client of these tests, as it is for people's sidecars.
func curl(t *testing.T, args ...string) (body string, code int) {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-sS", "--noproxy", "*", "-w", "\n%{http_code}"}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %q: %v", args, err)
	}
	text := string(out)
	i := strings.LastIndexByte(text, '\n')
	fmt.Sscan(text[i+1:], &code)
	return text[:i], code
}

func TestProxy(t *testing.T) {
	s := newSandbox(t, configMapRules)
	p, addr := startProxy(t, s, "-p", "0", "-v")
	base := "http://" + addr + "/api/v1/namespaces/" + s.NS + "/configmaps"

	t.Run("GET, POST, PATCH, DELETE go through with the Pod's identity", func(t *testing.T) {
		// curl's User-Agent makes the API server pretty-print: compare values.
		var cm struct {
			Metadata struct{ Name string } `json:"metadata"`
			Data     map[string]string     `json:"data"`
		}
		decode := func(what, body string, code, want int) {
			t.Helper()
			cm.Data = nil
			if err := json.Unmarshal([]byte(body), &cm); code != want || err != nil {
				t.Fatalf("%s: %d %v %s", what, code, err, body)
			}
		}
		body, code := curl(t, "-X", "POST", "-H", "Content-Type: application/json", "-d", `{"metadata":{"name":"via-proxy"},"data":{"a":"1"}}`, base)
		if decode("POST", body, code, 201); cm.Metadata.Name != "via-proxy" {
			t.Errorf("POST made %q", cm.Metadata.Name)
		}
		body, code = curl(t, "-X", "PATCH", "-H", "Content-Type: application/merge-patch+json", "-d", `{"data":{"b":"2"}}`, base+"/via-proxy")
		decode("PATCH", body, code, 200)
		body, code = curl(t, base+"/via-proxy")
		if decode("GET", body, code, 200); cm.Data["a"] != "1" || cm.Data["b"] != "2" {
			t.Errorf("GET after PATCH: %v", cm.Data)
		}
		if _, code = curl(t, "-X", "DELETE", base+"/via-proxy"); code != 200 {
			t.Fatalf("DELETE: %d", code)
		}
		// What RBAC forbids the Pod is forbidden through the proxy too.
		if body, code = curl(t, "http://"+addr+"/api/v1/namespaces/"+s.NS+"/secrets"); code != 403 || !strings.Contains(body, `system:serviceaccount:`+s.NS+`:app`) {
			t.Errorf("secrets: %d %s", code, body)
		}
	})
	t.Run("kcurl is a client of the proxy too, with no credentials of its own", func(t *testing.T) {
		harness.Expect(t, kcurlOutside(t, map[string]string{"HOME": t.TempDir()}, "--server", "http://"+addr, "-n", s.NS, "cm", "-q", ".kind", "-r"),
			"ConfigMapList\n", "", 0)
	})
	t.Run("a client's own Authorization is dropped", func(t *testing.T) {
		if body, code := curl(t, "-H", "Authorization: Bearer not-a-token", base); code != 200 {
			t.Errorf("with a bogus Authorization: %d %s", code, body)
		}
	})
	t.Run("rejected paths, methods and hosts get 403 as with kubectl proxy", func(t *testing.T) {
		for _, path := range []string{"exec", "attach", "portforward"} {
			if body, code := curl(t, "-X", "POST", "http://"+addr+"/api/v1/namespaces/"+s.NS+"/pods/app-pod/"+path); code != 403 || body != "Forbidden\n" {
				t.Errorf("%s: %d %q", path, code, body)
			}
		}
		if body, code := curl(t, "-H", "Host: rebind.example.com", base); code != 403 || body != "Forbidden\n" {
			t.Errorf("foreign Host: %d %q", code, body)
		}
		if _, code := curl(t, "-H", "Host: localhost:8001", base); code != 200 {
			t.Errorf("Host localhost: %d", code)
		}
	})
	t.Run("a watch's events arrive within a second of the change", func(t *testing.T) {
		w := exec.Command("curl", "-sSN", "--noproxy", "*", base+"?watch=true")
		out, err := w.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = w.Process.Kill(); _ = w.Wait() }()
		lines := make(chan string, 16)
		go func() {
			sc := bufio.NewScanner(out)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		time.Sleep(300 * time.Millisecond)
		for i, change := range []func(){
			func() {
				adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/configmaps", obj{"metadata": obj{"name": "watched"}}, nil)
			},
			func() { adminDoPatch(t, "/api/v1/namespaces/"+s.NS+"/configmaps/watched", `{"data":{"x":"y"}}`) },
			func() { adminMust(t, "DELETE", "/api/v1/namespaces/"+s.NS+"/configmaps/watched", nil, nil) },
		} {
			start := time.Now()
			change()
			select {
			case line := <-lines:
				want := []string{`{"type":"ADDED"`, `{"type":"MODIFIED"`, `{"type":"DELETED"`}[i]
				if !strings.HasPrefix(line, want) {
					t.Errorf("event %d: %.300s, want %s", i, line, want)
				}
				if d := time.Since(start); d > time.Second {
					t.Errorf("event %d took %v through the proxy", i, d)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("event %d did not arrive", i)
			}
		}
	})
	t.Run("SIGTERM: stops accepting and exits within 5 s, with exit 0", func(t *testing.T) {
		// A watch still open does not hold the exit beyond the grace period.
		w := exec.Command("curl", "-sSN", "--noproxy", "*", base+"?watch=true")
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = w.Process.Kill(); _ = w.Wait() }()
		time.Sleep(300 * time.Millisecond)
		start := time.Now()
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		r := p.wait(10 * time.Second)
		if d := time.Since(start); d > 5*time.Second || r.Code != 0 {
			t.Errorf("exit %d after %v:\n%s", r.Code, d, r)
		}
		for _, want := range []string{"POST /api/v1/namespaces/" + s.NS + "/configmaps 201 ", "GET /api/v1/namespaces/" + s.NS + "/pods/app-pod/exec 403 "} {
			if !strings.Contains(r.Stderr, want) && !strings.Contains(r.Stderr, strings.Replace(want, "GET", "POST", 1)) {
				t.Errorf("-v log lacks %q:\n%s", want, r.Stderr)
			}
		}
		if strings.Contains(r.Stderr, "Bearer") || strings.Contains(r.Stderr, s.Token) {
			t.Errorf("the log shows a credential:\n%s", r.Stderr)
		}
	})
}

// The kubelet rotates the token while the proxy runs, and the old token is
// made really invalid (its bound Secret deleted): requests keep succeeding.
func TestProxyTokenRotation(t *testing.T) {
	s := newSandbox(t, configMapRules)
	// Tokens bound to Secrets die with them: the honest way to make the old
	// token invalid in a test.
	secretToken := func(name string) string {
		var secret struct {
			Metadata struct{ UID string } `json:"metadata"`
		}
		adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/secrets", obj{"metadata": obj{"name": name}}, &secret)
		return requestToken(t, s.NS, s.SA, obj{"kind": "Secret", "apiVersion": "v1", "name": name, "uid": secret.Metadata.UID})
	}
	caPEM, err := os.ReadFile(cluster["KCURL_CLUSTER_CA"])
	if err != nil {
		t.Fatal(err)
	}
	old := secretToken("token-a")
	swapKubeletData(t, s.Dir, map[string][]byte{"token": []byte(old), "ca.crt": caPEM, "namespace": []byte(s.NS)})
	s.Token = old

	socket := filepath.Join(s.Tmp, "proxy.sock")
	p, _ := startProxy(t, s, "-u", socket)
	if info, err := os.Stat(socket); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the socket's mode: %v %v", info, err)
	}
	get := func() int {
		_, code := curl(t, "--unix-socket", socket, "http://localhost/api/v1/namespaces/"+s.NS+"/configmaps")
		return code
	}
	if code := get(); code != 200 {
		t.Fatalf("before rotation: %d", code)
	}

	fresh := secretToken("token-b")
	swapKubeletData(t, s.Dir, map[string][]byte{"token": []byte(fresh), "ca.crt": caPEM, "namespace": []byte(s.NS)})
	adminMust(t, "DELETE", "/api/v1/namespaces/"+s.NS+"/secrets/token-a", nil, nil)

	// The API server caches a token's authentication for about 10 s: until
	// it rejects the old token itself, the test is not yet honest.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code := directStatus(t, old); code == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the old token still works a minute after its Secret was deleted")
		}
		if code := get(); code != 200 {
			t.Fatalf("during rotation: %d", code)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for i := 0; i < 5; i++ {
		if code := get(); code != 200 {
			t.Fatalf("after the old token died: %d", code)
		}
	}
	p.interrupt()
}

// directStatus asks the API server with a token, bypassing kcurl.
func directStatus(t *testing.T, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", cluster["KCURL_CLUSTER_SERVER"]+"/api", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	tr := admin.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.Certificates = nil
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
