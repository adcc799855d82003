package transport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/redact"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/target/targettest"
)

const testUA = "kcurl/1.2.3 (linux/amd64)"

// newServer starts a TLS server on 127.0.0.1 with a certificate signed by
// ca (for 127.0.0.1 and ::1 unless hosts say otherwise), closed when the
// test ends.
func newServer(t *testing.T, ca *targettest.CA, http2 bool, h http.HandlerFunc, hosts ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(t, hosts...)}}
	srv.EnableHTTP2 = http2
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes failed on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// podTarget resolves srv as kcurl would in a Pod whose service-account
// volume holds token and caPEM.
func podTarget(t *testing.T, srv *httptest.Server, token string, caPEM []byte, insecure bool) (*target.Target, *targettest.ServiceAccount) {
	t.Helper()
	files := map[string]string{"token": token, "namespace": "team-a"}
	if caPEM != nil {
		files["ca.crt"] = string(caPEM)
	}
	sa := targettest.NewServiceAccount(t, files)
	tgt, err := target.Resolve(target.Options{Server: srv.URL, SADir: sa.Dir, Insecure: insecure}, targettest.Env(nil))
	if err != nil {
		t.Fatal(err)
	}
	return tgt, sa
}

func newClient(t *testing.T, tgt *target.Target, opts Options) *http.Client {
	t.Helper()
	c := New(tgt, opts)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func ok(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"kind":"APIVersions"}`) }

func TestTLS(t *testing.T) {
	clusterCA, otherCA := targettest.NewCA(t, "cluster"), targettest.NewCA(t, "other")
	tests := []struct {
		name     string
		http2    bool
		caPEM    []byte
		insecure bool
		hosts    []string // the server certificate's names; 127.0.0.1 and ::1 by default
		wantErr  string   // "" for success
	}{
		{name: "CA file signs the server", caPEM: clusterCA.CertPEM},
		{name: "CA file signs the server, HTTP/2", caPEM: clusterCA.CertPEM, http2: true},
		{name: "bundle with the right CA among others", caPEM: append(append([]byte{}, otherCA.CertPEM...), clusterCA.CertPEM...)},
		{name: "CA that did not sign the server", caPEM: otherCA.CertPEM, wantErr: "certificate signed by unknown authority (the server's certificate is not signed by the CA file; -k skips verification, insecurely)"},
		{name: "CA that did not sign the server, HTTP/2", caPEM: otherCA.CertPEM, http2: true, wantErr: "-k skips verification"},
		{name: "certificate for another host", caPEM: clusterCA.CertPEM, hosts: []string{"kubernetes.default.svc"}, wantErr: "does not name this host"},
		{name: "-k with the wrong CA", caPEM: otherCA.CertPEM, insecure: true},
		{name: "-k without a CA", insecure: true, http2: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, clusterCA, tt.http2, ok, tt.hosts...)
			tgt, _ := podTarget(t, srv, "tok", tt.caPEM, tt.insecure)
			resp, body, err := get(t, newClient(t, tgt, Options{}), srv.URL+"/api")
			if tt.wantErr != "" {
				var ne *NetworkError
				if !errors.As(err, &ne) {
					t.Fatalf("err = %v (%T), want a *NetworkError", err, err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("message %q does not contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "--tls-server-name") {
					t.Errorf("message %q suggests a flag kcurl does not have", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if body != `{"kind":"APIVersions"}` {
				t.Errorf("body %q", body)
			}
			if wantMajor := map[bool]int{false: 1, true: 2}[tt.http2]; resp.ProtoMajor != wantMajor {
				t.Errorf("protocol %s, want HTTP/%d", resp.Proto, wantMajor)
			}
		})
	}
}

// TestTLSExpiredCertificate: the CA is right, so the hint must not blame it.
func TestTLSExpiredCertificate(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.ServerCertValid(t, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tgt, _ := podTarget(t, srv, "tok", ca.CertPEM, false)
	_, _, err := get(t, newClient(t, tgt, Options{}), srv.URL+"/api")
	var ne *NetworkError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "expired") || !strings.HasSuffix(err.Error(), "(-k skips verification, insecurely)") {
		t.Fatalf("err = %v, want a NetworkError about expiry that hints at -k", err)
	}
	if strings.Contains(err.Error(), "not signed by the CA file") {
		t.Errorf("message blames the CA: %v", err)
	}
}

// TestTLSWithoutCAFailsClosed: a Target that has no CA and did not ask for
// -k must not be trusted blindly.
func TestTLSWithoutCAFailsClosed(t *testing.T) {
	srv := newServer(t, targettest.NewCA(t, "cluster"), false, ok)
	tgt, _ := podTarget(t, srv, "tok", nil, true)
	tgt.Insecure = false // as if built by a caller that forgot the CA
	_, _, err := get(t, newClient(t, tgt, Options{}), srv.URL+"/api")
	var ce *target.CredentialsError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "-k skips verification") {
		t.Fatalf("err = %v (%T), want a CredentialsError naming -k", err, err)
	}
}

// TestSystemRootsNeverUsed points the system roots at the server's CA: if
// kcurl fell back to them, the request would succeed.
// The system roots are loaded once per process: the CA they hold must be
// the same in every run of the test (go test -count=N).
var (
	systemRootsOnce sync.Once
	systemRootsCA   *targettest.CA
)

func TestSystemRootsNeverUsed(t *testing.T) {
	systemRootsOnce.Do(func() { systemRootsCA = targettest.NewCA(t, "in the system roots") })
	clusterCA, otherCA := systemRootsCA, targettest.NewCA(t, "other")
	roots := filepath.Join(t.TempDir(), "roots.pem")
	if err := os.WriteFile(roots, clusterCA.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", roots)
	t.Setenv("SSL_CERT_DIR", t.TempDir())

	srv := newServer(t, clusterCA, false, ok)
	leaf := srv.TLS.Certificates[0].Leaf
	if _, err := leaf.Verify(x509VerifyOptions("127.0.0.1")); err != nil {
		t.Fatalf("the system roots do not hold the test CA, so this test proves nothing: %v", err)
	}

	tgt, _ := podTarget(t, srv, "tok", otherCA.CertPEM, false)
	_, _, err := get(t, newClient(t, tgt, Options{}), srv.URL+"/api")
	var ne *NetworkError
	if !errors.As(err, &ne) {
		t.Fatalf("err = %v, want a NetworkError: the system roots were used", err)
	}
}

func TestCAFileRotation(t *testing.T) {
	clusterCA, otherCA := targettest.NewCA(t, "cluster"), targettest.NewCA(t, "other")
	srv := newServer(t, clusterCA, true, ok)
	tgt, sa := podTarget(t, srv, "tok", otherCA.CertPEM, false)
	c := newClient(t, tgt, Options{})

	if _, _, err := get(t, c, srv.URL+"/api"); err == nil {
		t.Fatal("the wrong CA verified the server")
	}
	sa.Rotate(map[string]string{"token": "tok", "ca.crt": string(clusterCA.CertPEM)})
	if _, _, err := get(t, c, srv.URL+"/api"); err != nil {
		t.Fatalf("after the CA file was rotated to the right CA: %v", err)
	}
	sa.Rotate(map[string]string{"token": "tok", "ca.crt": string(otherCA.CertPEM)})
	c.CloseIdleConnections() // the next request needs a new connection, and a new handshake
	if _, _, err := get(t, c, srv.URL+"/api"); err == nil {
		t.Fatal("after the CA file was rotated to another CA, a new connection still verified")
	}
}

func TestTokenRotation(t *testing.T) {
	for _, http2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("http2=%v", http2), func(t *testing.T) {
			ca := targettest.NewCA(t, "cluster")
			var seen []string
			srv := newServer(t, ca, http2, func(w http.ResponseWriter, r *http.Request) {
				seen = append(seen, r.Header.Get("Authorization"))
			})
			tgt, sa := podTarget(t, srv, "token-1", ca.CertPEM, false)
			c := newClient(t, tgt, Options{})
			for _, tok := range []string{"token-1", "token-2", "token-3"} {
				if tok != "token-1" {
					sa.Rotate(map[string]string{"token": tok, "ca.crt": string(ca.CertPEM), "namespace": "team-a"})
				}
				if _, _, err := get(t, c, srv.URL+"/api"); err != nil {
					t.Fatal(err)
				}
			}
			want := []string{"Bearer token-1", "Bearer token-2", "Bearer token-3"}
			if fmt.Sprint(seen) != fmt.Sprint(want) {
				t.Errorf("server saw %q, want %q", seen, want)
			}
		})
	}
}

// countingTokens counts the re-reads the transport asks for.
type countingTokens struct {
	target.TokenSource
	reloads atomic.Int32
}

func (c *countingTokens) Reload() (bool, error) {
	c.reloads.Add(1)
	return c.TokenSource.Reload()
}

func TestRetryAfter401(t *testing.T) {
	const unauthorized = `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`
	tests := []struct {
		name       string
		static     bool // --token: nothing to re-read
		rotate     bool // the kubelet rotates the token while the first request is on its way
		method     string
		body       string
		replayable bool
		always401  bool // the new token is rejected too
		wantSeen   []string
		wantStatus int
		wantReload int32
	}{
		{name: "rotated: one re-read, one retry", rotate: true, method: "GET", wantSeen: []string{"old", "new"}, wantStatus: 200, wantReload: 1},
		{name: "not rotated: no retry", method: "GET", wantSeen: []string{"old"}, wantStatus: 401, wantReload: 1},
		{name: "POST body replayed", rotate: true, method: "POST", body: `{"kind":"ConfigMap"}`, replayable: true, wantSeen: []string{"old", "new"}, wantStatus: 200, wantReload: 1},
		{name: "body that cannot be replayed: no retry", rotate: true, method: "POST", body: `{"kind":"ConfigMap"}`, wantSeen: []string{"old"}, wantStatus: 401, wantReload: 1},
		{name: "new token rejected too: no second retry", rotate: true, always401: true, method: "GET", wantSeen: []string{"old", "new"}, wantStatus: 401, wantReload: 1},
		{name: "static token: no retry", static: true, method: "GET", wantSeen: []string{"old"}, wantStatus: 401, wantReload: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca := targettest.NewCA(t, "cluster")
			var (
				mu     sync.Mutex
				seen   []string
				bodies []string
				sa     *targettest.ServiceAccount
			)
			srv := newServer(t, ca, false, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				defer mu.Unlock()
				tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
				seen, bodies = append(seen, tok), append(bodies, string(b))
				if tok == "old" && tt.rotate {
					sa.Rotate(map[string]string{"token": "new", "ca.crt": string(ca.CertPEM)})
				}
				if tok == "old" || tt.always401 {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusUnauthorized)
					fmt.Fprint(w, unauthorized)
					return
				}
				fmt.Fprint(w, "{}")
			})
			tgt, s := podTarget(t, srv, "old", ca.CertPEM, false)
			sa = s
			if tt.static {
				tgt.Token = target.StaticToken("old")
			}
			tokens := &countingTokens{TokenSource: tgt.Token}
			tgt.Token = tokens

			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
				if !tt.replayable {
					body = io.NopCloser(body) // no GetBody for this one
				}
			}
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+"/api/v1/namespaces/team-a/configmaps", body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := newClient(t, tgt, Options{}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if fmt.Sprint(seen) != fmt.Sprint(tt.wantSeen) {
				t.Errorf("server saw tokens %q, want %q", seen, tt.wantSeen)
			}
			if n := tokens.reloads.Load(); n != tt.wantReload {
				t.Errorf("%d re-reads, want %d", n, tt.wantReload)
			}
			for i, b := range bodies {
				if b != tt.body {
					t.Errorf("request %d carried body %q, want %q", i+1, b, tt.body)
				}
			}
			if resp.StatusCode == http.StatusUnauthorized {
				// The 401 handed back is intact, for the error message.
				err := ResponseError(resp)
				if want := "error: You must be logged in to the server (Unauthorized)"; err == nil || err.Error() != want {
					t.Errorf("ResponseError = %v, want %q", err, want)
				}
			}
		})
	}
}

// TestRetryAfter401Concurrent: when requests sent with the old token are
// rejected together, every one of them retries with the new token, not only
// the one whose re-read noticed the change.
func TestRetryAfter401Concurrent(t *testing.T) {
	const n = 3
	ca := targettest.NewCA(t, "cluster")
	var (
		sa      *targettest.ServiceAccount
		arrived atomic.Int32
		all     = make(chan struct{})
		rotate  sync.Once
	)
	srv := newServer(t, ca, true, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer new" {
			fmt.Fprint(w, "{}")
			return
		}
		if arrived.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
		case <-time.After(5 * time.Second):
		}
		rotate.Do(func() { sa.Rotate(map[string]string{"token": "new", "ca.crt": string(ca.CertPEM)}) })
		w.WriteHeader(http.StatusUnauthorized)
	})
	tgt, s := podTarget(t, srv, "old", ca.CertPEM, false)
	sa = s
	c := newClient(t, tgt, Options{})

	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for range n {
		wg.Go(func() {
			resp, _, err := get(t, c, srv.URL+"/api")
			if err != nil {
				t.Error(err)
				return
			}
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	for code := range statuses {
		if code != http.StatusOK {
			t.Errorf("a request ended with %d, want 200 after its retry", code)
		}
	}
}

func TestTokenErrorIsACredentialsError(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	srv := newServer(t, ca, false, ok)
	tgt, sa := podTarget(t, srv, "tok", ca.CertPEM, false)
	sa.Rotate(map[string]string{"ca.crt": string(ca.CertPEM)}) // the token went away
	_, _, err := get(t, newClient(t, tgt, Options{}), srv.URL+"/api")
	var ce *target.CredentialsError
	var ne *NetworkError
	if !errors.As(err, &ce) || errors.As(err, &ne) {
		t.Fatalf("err = %v, want a CredentialsError and not a NetworkError", err)
	}
}

// TestTokenStaysHome: the token goes to the target's own scheme, host and
// port only, whatever a redirect says, and never into the -v trace.
func TestTokenStaysHome(t *testing.T) {
	const secret = "s3cr3t-token-value"
	ca := targettest.NewCA(t, "cluster")
	var (
		mu   sync.Mutex
		auth = map[string][]string{}
	)
	record := func(name string, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, present := r.Header["Authorization"]
		auth[name] = append(auth[name], fmt.Sprintf("%v:%s", present, r.Header.Get("Authorization")))
	}
	other := newServer(t, ca, false, func(w http.ResponseWriter, r *http.Request) {
		record("other", r)
		fmt.Fprint(w, "{}")
	})
	var home *httptest.Server
	home = newServer(t, ca, false, func(w http.ResponseWriter, r *http.Request) {
		record("home "+r.URL.Path, r)
		switch r.URL.Path {
		case "/to-other":
			http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
		case "/to-home":
			http.Redirect(w, r, home.URL+"/landing", http.StatusFound)
		case "/to-other-via-home":
			http.Redirect(w, r, "/to-other", http.StatusFound)
		default:
			fmt.Fprint(w, "{}")
		}
	})
	tgt, _ := podTarget(t, home, secret, ca.CertPEM, false)

	tests := []struct {
		path      string
		typedAuth string // -H 'Authorization: …'
		want      map[string][]string
	}{
		{path: "/to-other", want: map[string][]string{
			"home /to-other": {"true:Bearer " + secret},
			"other":          {"false:"},
		}},
		{path: "/to-other-via-home", want: map[string][]string{
			"home /to-other-via-home": {"true:Bearer " + secret},
			"home /to-other":          {"true:Bearer " + secret},
			"other":                   {"false:"},
		}},
		{path: "/to-home", want: map[string][]string{
			"home /to-home": {"true:Bearer " + secret},
			"home /landing": {"true:Bearer " + secret},
		}},
		{path: "/to-other", typedAuth: "Bearer typed-" + secret, want: map[string][]string{
			"home /to-other": {"true:Bearer typed-" + secret},
			"other":          {"false:"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.typedAuth, func(t *testing.T) {
			mu.Lock()
			clear(auth)
			mu.Unlock()
			var trace bytes.Buffer
			c := newClient(t, tgt, Options{Trace: &trace, UserAgent: testUA})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, home.URL+tt.path, nil)
			if tt.typedAuth != "" {
				req.Header.Set("Authorization", tt.typedAuth)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(auth) != fmt.Sprint(tt.want) {
				t.Errorf("Authorization seen:\n%v\nwant:\n%v", auth, tt.want)
			}
			if strings.Contains(trace.String(), secret) {
				t.Errorf("the trace shows the token:\n%s", trace.String())
			}
			if !strings.Contains(trace.String(), "> Authorization: Bearer <redacted>\n") {
				t.Errorf("the trace does not show the redacted header:\n%s", trace.String())
			}
		})
	}
}

// TestRemovedAuthorization: -H 'Authorization:' sends the request without
// credentials at all.
func TestRemovedAuthorization(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	var got []string
	srv := newServer(t, ca, false, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Values("Authorization")
	})
	tgt, _ := podTarget(t, srv, "tok", ca.CertPEM, false)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api", nil)
	req.Header["Authorization"] = nil
	resp, err := newClient(t, tgt, Options{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(got) != 0 {
		t.Errorf("server saw Authorization %q", got)
	}
}

func TestTrace(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	for _, http2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("http2=%v", http2), func(t *testing.T) {
			srv := newServer(t, ca, http2, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Set-Cookie", "session=secret")
				w.Header().Set("Audit-Id", "a1")
				w.Header().Add("Warning", "299 - first")
				w.Header().Add("Warning", "299 - second")
				fmt.Fprint(w, "{}")
			})
			tgt, _ := podTarget(t, srv, "s3cr3t", ca.CertPEM, false)
			var trace bytes.Buffer
			c := newClient(t, tgt, Options{Trace: &trace, UserAgent: testUA, Compress: true})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/v1/pods?limit=1", nil)
			req.Header.Set("Accept", "application/json, */*")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			host := strings.TrimPrefix(srv.URL, "https://")
			proto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[http2]
			want := "> GET /api/v1/pods?limit=1\n" +
				"> Host: " + host + "\n" +
				"> Accept: application/json, */*\n" +
				"> Accept-Encoding: gzip\n" +
				"> Authorization: Bearer <redacted>\n" +
				"> User-Agent: " + testUA + "\n" +
				">\n" +
				"< " + proto + " 200 OK\n" +
				"< Audit-Id: a1\n" +
				"< Content-Length: 2\n" +
				"< Content-Type: application/json\n" +
				"< Date: Mon, 02 Jan 2006 15:04:05 GMT\n" +
				"< Set-Cookie: <redacted>\n" +
				"< Warning: 299 - first\n" +
				"< Warning: 299 - second\n" +
				"<\n"
			if trace.String() != want {
				t.Errorf("trace:\n%s\nwant:\n%s", trace.String(), want)
			}
		})
	}
}

func TestUserAgent(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	var got []string
	var present bool
	srv := newServer(t, ca, false, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Values("User-Agent")
		_, present = r.Header["User-Agent"]
	})
	tgt, _ := podTarget(t, srv, "tok", ca.CertPEM, false)
	c := newClient(t, tgt, Options{UserAgent: testUA})
	tests := []struct {
		name   string
		header []string // nil: not typed; []string{}: removed with -H 'User-Agent:'
		want   string
	}{
		{name: "kcurl's by default", want: testUA},
		{name: "typed one kept", header: []string{"my-script/1"}, want: "my-script/1"},
		{name: "removed stays removed", header: []string{}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api", nil)
			if tt.header != nil {
				req.Header["User-Agent"] = tt.header
				if len(tt.header) == 0 {
					req.Header["User-Agent"] = nil
				}
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if strings.Join(got, ",") != tt.want || present != (tt.want != "") {
				t.Errorf("server saw User-Agent %q (present %v), want %q", got, present, tt.want)
			}
			if ua := strings.Join(got, ","); strings.HasPrefix(ua, "curl/") || strings.HasPrefix(ua, "Go-http-client") {
				t.Errorf("User-Agent %q is not kcurl's", ua)
			}
		})
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGzip(t *testing.T) {
	const payload = `{"kind":"ConfigMapList","items":[]}`
	ca := targettest.NewCA(t, "cluster")
	var gotEncoding []string
	srv := newServer(t, ca, true, func(w http.ResponseWriter, r *http.Request) {
		gotEncoding = r.Header.Values("Accept-Encoding")
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/corrupt" {
			w.Header().Set("Content-Encoding", "gzip")
			b := gzipped(t, payload)
			b[len(b)-5] ^= 0xff // the CRC no longer matches
			w.Write(b)
			return
		}
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipped(t, payload))
			return
		}
		fmt.Fprint(w, payload)
	})
	tgt, _ := podTarget(t, srv, "tok", ca.CertPEM, false)

	tests := []struct {
		name         string
		compress     bool
		method       string
		header       http.Header
		path         string
		wantEncoding string // what the server was asked for
		wantBody     string // "" means the gzip bytes, untouched
		wantErr      bool
	}{
		{name: "asked for and decoded", compress: true, wantEncoding: "gzip", wantBody: payload},
		{name: "off for a proxy", compress: false, wantEncoding: "", wantBody: payload},
		{name: "typed Accept-Encoding: passed through undecoded", compress: true, header: http.Header{"Accept-Encoding": {"gzip"}}, wantEncoding: "gzip"},
		{name: "removed with -H 'Accept-Encoding:'", compress: true, header: http.Header{"Accept-Encoding": nil}, wantEncoding: "", wantBody: payload},
		{name: "not for HEAD", compress: true, method: http.MethodHead, wantEncoding: ""},
		{name: "not for a Range", compress: true, header: http.Header{"Range": {"bytes=0-"}}, wantEncoding: "", wantBody: payload},
		{name: "corrupt stream is a network error", compress: true, path: "/corrupt", wantEncoding: "gzip", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			path := tt.path
			if path == "" {
				path = "/api/v1/configmaps"
			}
			req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := newClient(t, tgt, Options{Compress: tt.compress}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if strings.Join(gotEncoding, ",") != tt.wantEncoding {
				t.Errorf("server was asked for Accept-Encoding %q, want %q", gotEncoding, tt.wantEncoding)
			}
			if tt.wantErr {
				var ne *NetworkError
				if !errors.As(err, &ne) {
					t.Errorf("reading the body: %v (%T), want a NetworkError", err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if method == http.MethodHead {
				return
			}
			if tt.wantBody == "" {
				if !bytes.Equal(body, gzipped(t, payload)) || resp.Header.Get("Content-Encoding") != "gzip" {
					t.Errorf("body %q with Content-Encoding %q, want the gzip stream untouched", body, resp.Header.Get("Content-Encoding"))
				}
				return
			}
			if string(body) != tt.wantBody {
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
			if tt.wantEncoding == "gzip" && (resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Length") != "" || resp.ContentLength != -1 || !resp.Uncompressed) {
				t.Errorf("decoded response still describes the gzip stream: %v, ContentLength %d, Uncompressed %v", resp.Header, resp.ContentLength, resp.Uncompressed)
			}
		})
	}
}

func TestNetworkErrors(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		tgt := &target.Target{Server: mustURL(t, "https://"+addr), Token: target.StaticToken("t"), Insecure: true}
		_, _, err = get(t, newClient(t, tgt, Options{ConnectTimeout: 2 * time.Second}), "https://"+addr+"/api")
		var ne *NetworkError
		if !errors.As(err, &ne) || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("err = %v (%T), want a NetworkError saying connection refused", err, err)
		}
	})

	t.Run("silent server: the TLS handshake times out", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		// Accepts and says nothing; every connection is closed when the
		// test ends, and the accepting goroutine has returned by then.
		var mu sync.Mutex
		var conns []net.Conn
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, conn)
				mu.Unlock()
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			<-done
			for _, c := range conns {
				c.Close()
			}
		})
		tgt := &target.Target{Server: mustURL(t, "https://"+ln.Addr().String()), Token: target.StaticToken("t"), Insecure: true}
		start := time.Now()
		_, _, err = get(t, newClient(t, tgt, Options{ConnectTimeout: 200 * time.Millisecond}), tgt.Server.String()+"/api")
		var ne *NetworkError
		if !errors.As(err, &ne) {
			t.Fatalf("err = %v (%T), want a NetworkError", err, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("gave up after %v, want about the 200ms connect timeout", d)
		}
	})

	t.Run("connection closed mid-body", func(t *testing.T) {
		srv := newServer(t, ca, false, func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"items\":[")
			buf.Flush()
			conn.Close()
		})
		tgt, _ := podTarget(t, srv, "tok", ca.CertPEM, false)
		_, _, err := get(t, newClient(t, tgt, Options{}), srv.URL+"/api")
		var ne *NetworkError
		if !errors.As(err, &ne) {
			t.Fatalf("reading the body: %v (%T), want a NetworkError", err, err)
		}
	})

	t.Run("canceled context", func(t *testing.T) {
		srv := newServer(t, ca, false, ok)
		tgt, _ := podTarget(t, srv, "tok", ca.CertPEM, false)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api", nil)
		_, err := newClient(t, tgt, Options{}).Do(req)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled still visible", err)
		}
	})
}

func TestTooManyRedirects(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	srv := newServer(t, ca, false, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/again", http.StatusFound)
	})
	tgt, _ := podTarget(t, srv, "tok", ca.CertPEM, false)
	_, _, err := get(t, newClient(t, tgt, Options{}), srv.URL+"/api")
	if err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Fatalf("err = %v, want the redirect limit", err)
	}
	if code, _ := exitcode.Of(err); code != exitcode.Network {
		t.Errorf("exit %d, want %d", code, exitcode.Network)
	}
}

// TestTypedCredentialsStayHome: every header -v hides as a credential is
// dropped, as Authorization is, when a redirect leaves the origin: for
// another host, another port or plain http.
func TestTypedCredentialsStayHome(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	credentials := []string{"Authorization", "Proxy-Authorization", "X-Auth-Token", "X-Api-Key", "Cookie"}
	var mu sync.Mutex
	seen := map[string]http.Header{}
	record := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[name] = r.Header.Clone()
			mu.Unlock()
			fmt.Fprint(w, "{}")
		}
	}
	other := newServer(t, ca, false, record("other"))
	plain := httptest.NewServer(record("plain"))
	t.Cleanup(plain.Close)
	home := newServer(t, ca, false, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-other":
			http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
		case "/to-plain":
			http.Redirect(w, r, plain.URL+"/landing", http.StatusFound)
		default:
			record("home")(w, r)
		}
	})
	tgt, _ := podTarget(t, home, "tok", ca.CertPEM, false)
	for path, where := range map[string]string{"/to-other": "other", "/to-plain": "plain", "/landing": "home"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, home.URL+path, nil)
		for _, h := range credentials {
			req.Header.Set(h, "typed-secret")
		}
		resp, err := newClient(t, tgt, Options{}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		mu.Lock()
		for _, h := range credentials {
			if got, stays := seen[where].Get(h), where == "home"; (got != "") != stays {
				t.Errorf("%s: %s reached %s as %q", path, h, where, got)
			}
		}
		mu.Unlock()
	}
}

func TestClassify(t *testing.T) {
	plain := errors.New("connection reset by peer")
	cred := &target.CredentialsError{What: "token", Err: plain}
	netErr := &NetworkError{Err: plain}
	tests := []struct {
		in   error
		want error // nil: wrapped in a new NetworkError
	}{
		{in: cred, want: cred},
		{in: fmt.Errorf("wrapped: %w", cred), want: nil},
		{in: netErr, want: netErr},
		{in: plain},
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
	for _, tt := range tests {
		got := Classify(tt.in)
		if tt.want != nil && got != tt.want {
			t.Errorf("Classify(%v) = %v, want it unchanged", tt.in, got)
		}
		var ce *target.CredentialsError
		if tt.want == nil && errors.As(tt.in, &ce) {
			if got != tt.in {
				t.Errorf("Classify(%v) = %T, want a credentials error left alone", tt.in, got)
			}
			continue
		}
		var ne *NetworkError
		if tt.want == nil && (!errors.As(got, &ne) || !errors.Is(got, plain)) {
			t.Errorf("Classify(%v) = %T, want a NetworkError wrapping it", tt.in, got)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"Authorization", "Bearer abc.def", "Bearer <redacted>"},
		{"authorization", "Basic dXNlcg==", "Basic <redacted>"},
		{"Authorization", "abc", "<redacted>"},
		{"Proxy-Authorization", "Basic x", "Basic <redacted>"},
		{"Cookie", "a=b", "<redacted>"},
		{"set-cookie", "a=b", "<redacted>"},
		{"Accept", "application/json", "application/json"},
	}
	for _, tt := range tests {
		if got := redact.Header(tt.name, tt.value); got != tt.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
	var b strings.Builder
	h := http.Header{"B": {"2", "3"}, "A": {"1"}, "Authorization": {"Bearer x"}, "Removed": nil}
	if err := WriteHeaders(&b, "< ", h); err != nil {
		t.Fatal(err)
	}
	if want := "< A: 1\n< Authorization: Bearer <redacted>\n< B: 2\n< B: 3\n"; b.String() != want {
		t.Errorf("WriteHeaders:\n%s\nwant:\n%s", b.String(), want)
	}
}

func x509VerifyOptions(dnsName string) x509.VerifyOptions {
	return x509.VerifyOptions{DNSName: dnsName} // nil Roots: the system's
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// -v and -i escape what a terminal would act on in a header: C1 controls
// are valid UTF-8 that net/http lets through.
func TestHeadersEscaped(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHeaders(&b, "< ", http.Header{"X-Evil": {"a\u009b2Jb\x1b[31m"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), `< X-Evil: a\u009b2Jb\x1b[31m`+"\n"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
