package proxy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/target/targettest"
	"github.com/kcurl/kcurl/pkg/transport"
)

const (
	podToken    = "pod-token-never-logged"
	clientToken = "client-token-never-forwarded"
)

// syncBuffer is a writer several goroutines may share (the Log and Errors
// writers, a server's ErrorLog).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lines waits up to a second for at least n lines, then returns them all.
func (s *syncBuffer) lines(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		text := s.String()
		lines := strings.SplitAfter(text, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if len(lines) >= n || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// seenRequest is what the API server received.
type seenRequest struct {
	Method, URI, Proto, Host string
	Header                   http.Header
	Body                     string
}

// fixture is a TLS HTTP/2 backend standing in for the API server, a Pod's
// service-account dir for it, and the proxy in front of it.
type fixture struct {
	backend *httptest.Server
	sa      *targettest.ServiceAccount
	caPEM   string
	front   *httptest.Server
	client  *http.Client
	errs    *syncBuffer // Options.Errors
	log     *syncBuffer // Options.Log, when verbose

	mu   sync.Mutex
	seen []seenRequest
}

type fixtureConfig struct {
	ServerPath string  // after the backend's URL: --server https://host:port/prefix
	APIPrefix  string  // "/" when empty
	Filter     *Filter // kubectl's defaults when nil, unless NoFilter
	NoFilter   bool    // --disable-filter
	Verbose    bool    // -v: Options.Log
	Server     string  // --server instead of the backend (unreachable ones)
}

func defaultFilter(t testing.TB) *Filter {
	t.Helper()
	return mustFilter(t, DefaultAcceptHosts, DefaultAcceptPaths, DefaultRejectPaths, DefaultRejectMethods)
}

func mustFilter(t testing.TB, hosts, paths, rejectPaths, rejectMethods string) *Filter {
	t.Helper()
	f := &Filter{}
	for _, x := range []struct {
		list string
		dst  *[]*regexp.Regexp
	}{{hosts, &f.AcceptHosts}, {paths, &f.AcceptPaths}, {rejectPaths, &f.RejectPaths}, {rejectMethods, &f.RejectMethods}} {
		res, err := Regexps(x.list)
		if err != nil {
			t.Fatal(err)
		}
		*x.dst = res
	}
	return f
}

func newFixture(t *testing.T, cfg fixtureConfig, handler http.HandlerFunc) *fixture {
	t.Helper()
	f := &fixture{errs: &syncBuffer{}, log: &syncBuffer{}}
	ca := targettest.NewCA(t, "test-ca")
	f.caPEM = string(ca.CertPEM)
	f.backend = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.seen = append(f.seen, seenRequest{r.Method, r.RequestURI, r.Proto, r.Host, r.Header.Clone(), string(body)})
		f.mu.Unlock()
		handler(w, r)
	}))
	f.backend.TLS = &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(t)}}
	f.backend.EnableHTTP2 = true
	f.backend.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.backend.StartTLS()
	t.Cleanup(f.backend.Close)

	f.sa = targettest.NewServiceAccount(t, map[string]string{"token": podToken, "ca.crt": f.caPEM, "namespace": "ns"})
	server := cfg.Server
	if server == "" {
		server = f.backend.URL + cfg.ServerPath
	}
	tgt, err := target.Resolve(target.Options{Server: server, SADir: f.sa.Dir}, targettest.Env(nil))
	if err != nil {
		t.Fatal(err)
	}
	streaming, upgrade := Transports(tgt, transport.Options{UserAgent: "kcurl/test", ConnectTimeout: 5 * time.Second})
	opts := Options{APIPrefix: cfg.APIPrefix, Filter: cfg.Filter, Errors: f.errs, Transport: streaming, Upgrade: upgrade}
	if opts.APIPrefix == "" {
		opts.APIPrefix = "/"
	}
	if opts.Filter == nil && !cfg.NoFilter {
		opts.Filter = defaultFilter(t)
	}
	if cfg.Verbose {
		opts.Log = f.log
	}
	serverLog := &syncBuffer{}
	f.front = httptest.NewUnstartedServer(New(tgt, opts))
	f.front.Config.ErrorLog = log.New(serverLog, "", 0)
	f.front.Start()
	t.Cleanup(func() {
		f.front.Close()
		// A panic in a handler, a superfluous WriteHeader: the proxy's
		// mistakes that its clients would not see.
		if s := serverLog.String(); s != "" {
			t.Errorf("the proxy's server logged:\n%s", s)
		}
	})
	f.client = &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(f.client.CloseIdleConnections)
	return f
}

func (f *fixture) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func (f *fixture) addr() string { return strings.TrimPrefix(f.front.URL, "http://") }

// do sends a request through the proxy and returns what the client sees.
func (f *fixture) do(t *testing.T, method, path string, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.front.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// raw sends a request exactly as written (request line and headers) on a
// new connection, and returns the answer with the connection's reader.
func raw(t *testing.T, addr, request string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return conn, br, resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ok(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }

func TestFilter(t *testing.T) {
	const (
		exec = "/api/v1/namespaces/ns/pods/web/exec?command=sh&stdin=true"
		list = "/api/v1/namespaces/ns/configmaps"
	)
	custom := func(hosts, paths, rejectPaths, rejectMethods string) func(testing.TB) *Filter {
		return func(t testing.TB) *Filter { return mustFilter(t, hosts, paths, rejectPaths, rejectMethods) }
	}
	kubectl := custom(DefaultAcceptHosts, DefaultAcceptPaths, DefaultRejectPaths, DefaultRejectMethods)
	for _, tc := range []struct {
		name         string
		filter       func(testing.TB) *Filter // nil: --disable-filter
		method, path string
		host         string // the Host header
		want         int
		location     string // of a redirect
	}{
		{"localhost", kubectl, "GET", list, "localhost", 200, ""},
		{"localhost with port", kubectl, "GET", list, "localhost:8001", 200, ""},
		{"127.0.0.1", kubectl, "GET", list, "127.0.0.1", 200, ""},
		{"127.0.0.1 with port", kubectl, "GET", list, "127.0.0.1:8001", 200, ""},
		{"[::1]", kubectl, "GET", list, "[::1]", 200, ""},
		// kubectl strips the brackets with the port, so that its own
		// ^\[::1\]$ never matches what curl http://[::1]:8001 sends.
		{"[::1] with port", kubectl, "GET", list, "[::1]:8001", 200, ""},
		{"bare ::1", kubectl, "GET", list, "::1", 403, ""},
		{"another IPv6 address", kubectl, "GET", list, "[fd00::1]:8001", 403, ""},
		{"a name that rebinds to 127.0.0.1", kubectl, "GET", list, "attacker.example:8001", 403, ""},
		{"localhost as a prefix", kubectl, "GET", list, "localhost.attacker.example", 403, ""},
		{"127.0.0.1 as a prefix", kubectl, "GET", list, "127.0.0.1.nip.io:8001", 403, ""},
		{"no Host", kubectl, "GET", list, "", 403, ""},
		{"exec", kubectl, "GET", exec, "localhost", 403, ""},
		{"exec POST", kubectl, "POST", exec, "localhost", 403, ""},
		{"attach", kubectl, "POST", "/api/v1/namespaces/ns/pods/web/attach", "localhost", 403, ""},
		{"portforward", kubectl, "GET", "/api/v1/namespaces/ns/pods/web/portforward?ports=80", "localhost", 403, ""},
		{"exec escaped", kubectl, "GET", "/api/v1/namespaces/ns/pods/web/%65xec", "localhost", 403, ""},
		{"exec behind %2F", kubectl, "GET", "/api/v1/namespaces/ns/pods/web%2Fexec", "localhost", 403, ""},
		// The API server's router ignores empty segments: a path that is not
		// clean would name exec while missing ^/api/. Redirected to the clean
		// path, as the ServeMux in front of kubectl proxy does.
		{"exec behind //", kubectl, "GET", "//api/v1/namespaces/ns/pods/web/exec", "localhost", 301, "/api/v1/namespaces/ns/pods/web/exec"},
		{"exec behind ..", kubectl, "POST", "/x/../api/v1/namespaces/ns/pods/web/exec?command=sh", "localhost", 301, "/api/v1/namespaces/ns/pods/web/exec?command=sh"},
		{"exec behind .", kubectl, "GET", "/./api/v1/namespaces/ns/pods/web/exec", "localhost", 301, "/api/v1/namespaces/ns/pods/web/exec"},
		// The kubelet's own exec, run, attach and port-forward, through
		// the node proxy, with the Pod's token: rejected as a Pod's exec is.
		{"node proxy exec", kubectl, "POST", "/api/v1/nodes/n1/proxy/exec/ns/web/app?command=sh", "localhost", 403, ""},
		{"node proxy run", kubectl, "POST", "/api/v1/nodes/n1/proxy/run/ns/web/app?cmd=id", "localhost", 403, ""},
		{"node proxy attach", kubectl, "POST", "/api/v1/nodes/n1:10250/proxy/attach/ns/web/app", "localhost", 403, ""},
		{"node proxy portForward", kubectl, "GET", "/api/v1/nodes/n1/proxy/portForward/ns/web", "localhost", 403, ""},
		{"node proxy run escaped", kubectl, "POST", "/api/v1/nodes/n1/proxy/%72un/ns/web/app", "localhost", 403, ""},
		{"node proxy stats", kubectl, "GET", "/api/v1/nodes/n1/proxy/stats/summary", "localhost", 200, ""},
		{"node proxy exec allowed", custom(DefaultAcceptHosts, DefaultAcceptPaths, "", ""), "POST", "/api/v1/nodes/n1/proxy/exec/ns/web/app", "localhost", 200, ""},
		{"log", kubectl, "GET", "/api/v1/namespaces/ns/pods/web/log?follow=true", "localhost", 200, ""},
		{"a pod named exec", kubectl, "GET", "/api/v1/namespaces/ns/pods/exec", "localhost", 200, ""},
		{"DELETE", kubectl, "DELETE", list + "/x", "localhost", 200, ""},
		{"PATCH", kubectl, "PATCH", list + "/x", "localhost", 200, ""},
		{"apis", kubectl, "GET", "/apis/apps/v1/deployments", "localhost", 200, ""},
		{"root", kubectl, "GET", "/", "localhost", 200, ""},

		{"rejected method", custom(DefaultAcceptHosts, DefaultAcceptPaths, "", "^POST$,^DELETE$"), "DELETE", list + "/x", "localhost", 403, ""},
		{"other method", custom(DefaultAcceptHosts, DefaultAcceptPaths, "", "^POST$,^DELETE$"), "GET", list, "localhost", 200, ""},
		{"accepted path", custom(DefaultAcceptHosts, "^/api/v1/namespaces/ns/configmaps", "", ""), "GET", list, "localhost", 200, ""},
		{"path not accepted", custom(DefaultAcceptHosts, "^/api/v1/namespaces/ns/configmaps", "", ""), "GET", "/api/v1/namespaces/ns/secrets", "localhost", 403, ""},
		{"exec allowed", custom(DefaultAcceptHosts, DefaultAcceptPaths, "", ""), "POST", exec, "localhost", 200, ""},
		{"custom host", custom(`^proxy\.local$`, DefaultAcceptPaths, "", ""), "GET", list, "proxy.local:8001", 200, ""},
		{"custom host, localhost", custom(`^proxy\.local$`, DefaultAcceptPaths, "", ""), "GET", list, "localhost:8001", 403, ""},
		// kubectl's lists strip the brackets: theirs still work.
		{"kubectl-style bare ::1", custom(`^::1$`, DefaultAcceptPaths, "", ""), "GET", list, "[::1]:8001", 200, ""},
		{"no hosts accepted", custom("", DefaultAcceptPaths, "", ""), "GET", list, "localhost", 403, ""},

		{"disabled: any host", nil, "GET", list, "attacker.example", 200, ""},
		{"disabled: exec", nil, "POST", exec, "attacker.example", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixtureConfig{NoFilter: tc.filter == nil}
			if tc.filter != nil {
				cfg.Filter = tc.filter(t)
			}
			f := newFixture(t, cfg, ok)
			host := ""
			if tc.host != "" {
				host = "Host: " + tc.host + "\r\n"
			}
			// HTTP/1.0 so that a missing Host is allowed.
			_, _, resp := raw(t, f.addr(), tc.method+" "+tc.path+" HTTP/1.0\r\n"+host+"Content-Length: 0\r\n\r\n")
			body := readBody(t, resp)
			if resp.StatusCode != tc.want {
				t.Fatalf("%d %q, want %d", resp.StatusCode, body, tc.want)
			}
			seen := f.requests()
			switch tc.want {
			case 200:
				if body != "ok" || len(seen) != 1 {
					t.Errorf("body %q, %d requests reached the server", body, len(seen))
				}
			case 403:
				if body != "Forbidden\n" || len(seen) != 0 {
					t.Errorf("body %q, %d requests reached the server", body, len(seen))
				}
			case 301:
				if loc := resp.Header.Get("Location"); loc != tc.location || len(seen) != 0 {
					t.Errorf("Location %q, want %q; %d requests reached the server", loc, tc.location, len(seen))
				}
			}
		})
	}
}

func TestRegexps(t *testing.T) {
	res, err := Regexps(DefaultRejectPaths)
	if err != nil || len(res) != 4 {
		t.Fatalf("%v %v", res, err)
	}
	// kubectl would compile the empty piece into a regexp that matches
	// everything; an empty piece is nothing here.
	if res, err := Regexps("^a$,,^b$"); err != nil || len(res) != 2 {
		t.Errorf("%v %v", res, err)
	}
	if res, err := Regexps(""); err != nil || len(res) != 0 {
		t.Errorf("empty: %v %v", res, err)
	}
	if _, err := Regexps(`^/api,^/apis/(`); err == nil || !strings.Contains(err.Error(), `"^/apis/("`) {
		t.Errorf("invalid: %v", err)
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestForwarding(t *testing.T) {
	const object = `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}`
	f := newFixture(t, fixtureConfig{}, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipped(t, object))
			return
		}
		io.WriteString(w, object)
	})
	header := http.Header{
		"Authorization":       {"Bearer " + clientToken},
		"Proxy-Authorization": {"Basic " + clientToken},
		"Accept-Encoding":     {"gzip"},
		"User-Agent":          {"curl/8.11.0"},
		"Accept":              {"application/json;as=Table;v=v1;g=meta.k8s.io"},
	}
	resp, body := f.do(t, "GET", "/api/v1/namespaces/ns/configmaps/a", header, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the body is not gzip: %v", err)
	}
	if plain, _ := io.ReadAll(zr); string(plain) != object {
		t.Errorf("body %q", plain)
	}
	seen := f.requests()
	if len(seen) != 1 {
		t.Fatalf("%d requests", len(seen))
	}
	got := seen[0]
	if got.Header.Get("Authorization") != "Bearer "+podToken || len(got.Header.Values("Authorization")) != 1 {
		t.Errorf("Authorization: %q", got.Header.Values("Authorization"))
	}
	if v, ok := got.Header["Proxy-Authorization"]; ok {
		t.Errorf("Proxy-Authorization reached the server: %q", v)
	}
	for name, want := range map[string]string{"Accept-Encoding": "gzip", "User-Agent": "curl/8.11.0", "Accept": header.Get("Accept")} {
		if v := got.Header.Get(name); v != want {
			t.Errorf("%s: %q, want %q", name, v, want)
		}
	}
	if got.Proto != "HTTP/2.0" || got.Host != strings.TrimPrefix(f.backend.URL, "https://") {
		t.Errorf("%s, Host %q", got.Proto, got.Host)
	}
	for _, name := range []string{"X-Forwarded-For", "X-Forwarded-Host", "Forwarded"} {
		if v := got.Header.Get(name); v != "" {
			t.Errorf("%s: %q", name, v)
		}
	}

	// Without Accept-Encoding or User-Agent from the client, none is added:
	// the body is not compressed behind its back.
	req, _ := http.NewRequest("GET", f.front.URL+"/api", nil)
	req.Header["User-Agent"] = nil
	resp, err = f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, resp); b != object || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("%q %v", b, resp.Header)
	}
	last := f.requests()[1]
	if v, ok := last.Header["Accept-Encoding"]; ok {
		t.Errorf("Accept-Encoding added: %q", v)
	}
}

func TestPaths(t *testing.T) {
	for _, tc := range []struct {
		name       string
		serverPath string
		apiPrefix  string
		method     string
		path       string
		body       string
		want       int
		wantURI    string // what the server gets; "" for nothing
	}{
		{"query", "", "", "GET", "/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb%2Ctier%20in%20(a)&limit=5", "", 200, "/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb%2Ctier%20in%20(a)&limit=5"},
		{"escaped slash", "", "", "GET", "/api/v1/namespaces/ns/configmaps/a%2Fb?x=1", "", 200, "/api/v1/namespaces/ns/configmaps/a%2Fb?x=1"},
		{"server prefix", "/prefix", "", "GET", "/api/v1/namespaces/ns/pods?limit=1", "", 200, "/prefix/api/v1/namespaces/ns/pods?limit=1"},
		{"server prefix, escaped slash", "/prefix", "", "GET", "/api/v1/namespaces/ns/configmaps/a%2Fb", "", 200, "/prefix/api/v1/namespaces/ns/configmaps/a%2Fb"},
		{"api prefix", "", "/k8s/", "GET", "/k8s/api/v1/namespaces/ns/pods?limit=1", "", 200, "/api/v1/namespaces/ns/pods?limit=1"},
		{"api prefix, escaped slash", "", "/k8s/", "GET", "/k8s/api/v1/namespaces/ns/configmaps/a%2Fb", "", 200, "/api/v1/namespaces/ns/configmaps/a%2Fb"},
		{"api prefix alone", "", "/k8s/", "GET", "/k8s", "", 200, "/"},
		{"api prefix with slash", "", "/k8s/", "GET", "/k8s/", "", 200, "/"},
		{"api prefix without its slash", "", "/k8s", "GET", "/k8s/api", "", 200, "/api"},
		{"outside the api prefix", "", "/k8s/", "GET", "/api/v1/pods", "", 404, ""},
		{"api prefix as a name's prefix", "", "/k8s/", "GET", "/k8sx/api", "", 404, ""},
		{"api prefix and server prefix", "/prefix", "/k8s/", "GET", "/k8s/api/v1/pods", "", 200, "/prefix/api/v1/pods"},
		{"rejected under the api prefix", "", "/k8s/", "POST", "/k8s/api/v1/namespaces/ns/pods/web/exec", "", 403, ""},
		{"HEAD", "", "", "HEAD", "/api/v1/namespaces/ns/configmaps/a", "", 200, "/api/v1/namespaces/ns/configmaps/a"},
		{"POST", "", "", "POST", "/api/v1/namespaces/ns/configmaps", `{"metadata":{"name":"a"}}`, 201, "/api/v1/namespaces/ns/configmaps"},
		{"PUT", "", "", "PUT", "/api/v1/namespaces/ns/configmaps/a", `{"metadata":{"name":"a"},"data":{"k":"v"}}`, 200, "/api/v1/namespaces/ns/configmaps/a"},
		{"PATCH", "", "", "PATCH", "/api/v1/namespaces/ns/configmaps/a?fieldManager=me", `{"data":{"k":"w"}}`, 200, "/api/v1/namespaces/ns/configmaps/a?fieldManager=me"},
		{"DELETE with a body", "", "", "DELETE", "/api/v1/namespaces/ns/configmaps/a", `{"propagationPolicy":"Foreground"}`, 200, "/api/v1/namespaces/ns/configmaps/a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fixtureConfig{ServerPath: tc.serverPath, APIPrefix: tc.apiPrefix}, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", fmt.Sprint(len(`{"echo":""}`)+len(b)))
				if r.Method == "POST" {
					w.WriteHeader(http.StatusCreated)
				}
				fmt.Fprintf(w, `{"echo":"%s"}`, b)
			})
			header := http.Header{"Content-Type": {"application/merge-patch+json"}}
			resp, body := f.do(t, tc.method, tc.path, header, tc.body)
			if resp.StatusCode != tc.want {
				t.Fatalf("%d %q, want %d", resp.StatusCode, body, tc.want)
			}
			seen := f.requests()
			if tc.wantURI == "" {
				if len(seen) != 0 {
					t.Errorf("the server got %s %s", seen[0].Method, seen[0].URI)
				}
				return
			}
			if len(seen) != 1 {
				t.Fatalf("%d requests", len(seen))
			}
			got := seen[0]
			if got.Method != tc.method || got.URI != tc.wantURI || got.Body != tc.body {
				t.Errorf("the server got %s %s %q, want %s %s %q", got.Method, got.URI, got.Body, tc.method, tc.wantURI, tc.body)
			}
			if tc.body != "" && got.Header.Get("Content-Type") != "application/merge-patch+json" {
				t.Errorf("Content-Type %q", got.Header.Get("Content-Type"))
			}
			wantBody := fmt.Sprintf(`{"echo":"%s"}`, tc.body)
			if tc.method == "HEAD" {
				wantBody = ""
			}
			if body != wantBody || resp.ContentLength != int64(len(`{"echo":""}`)+len(tc.body)) {
				t.Errorf("client got %q, Content-Length %d", body, resp.ContentLength)
			}
		})
	}
}

func TestStreaming(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		t.Run(fmt.Sprintf("verbose=%v", verbose), func(t *testing.T) {
			// The server writes the next event only once the client has the
			// previous one: buffering anywhere would stall the watch.
			next := make(chan struct{})
			f := newFixture(t, fixtureConfig{Verbose: verbose}, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/whole" {
					w.Header().Set("Content-Length", "10")
					io.WriteString(w, "01234")
					w.(http.Flusher).Flush()
					io.WriteString(w, "56789")
					return
				}
				w.Header().Set("Content-Type", "application/json")
				for i := range 3 {
					fmt.Fprintf(w, "{\"type\":\"ADDED\",\"object\":{\"n\":%d}}\n", i)
					w.(http.Flusher).Flush()
					select {
					case <-next:
					case <-r.Context().Done():
						return
					case <-time.After(5 * time.Second):
						t.Errorf("event %d did not reach the client", i)
						return
					}
				}
			})
			resp, err := f.client.Get(f.front.URL + "/api/v1/namespaces/ns/configmaps?watch=true")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.ContentLength != -1 {
				t.Errorf("Content-Length %d", resp.ContentLength)
			}
			events := bufio.NewReader(resp.Body)
			for i := range 3 {
				line, err := events.ReadString('\n')
				if want := fmt.Sprintf("{\"type\":\"ADDED\",\"object\":{\"n\":%d}}\n", i); line != want || err != nil {
					t.Fatalf("event %d: %q %v", i, line, err)
				}
				next <- struct{}{}
			}
			if rest, err := io.ReadAll(events); len(rest) != 0 || err != nil {
				t.Errorf("after the events: %q %v", rest, err)
			}

			resp, body := f.do(t, "GET", "/whole", nil, "")
			if body != "0123456789" || resp.ContentLength != 10 || len(resp.TransferEncoding) != 0 {
				t.Errorf("%q, Content-Length %d, %v", body, resp.ContentLength, resp.TransferEncoding)
			}
		})
	}
}

// rotating answers 401 to the first token it sees, after rotating the
// service account's token to "rotated", as when the kubelet rotates it
// between the proxy's read and the server's check.
func rotating(f **fixture) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer rotated" {
			(*f).sa.Rotate(map[string]string{"token": "rotated", "ca.crt": (*f).caPEM, "namespace": "ns"})
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"kind":"Status","code":401}`)
			return
		}
		io.WriteString(w, "ok")
	}
}

func TestTokenRotation(t *testing.T) {
	f := newFixture(t, fixtureConfig{}, ok)
	f.do(t, "GET", "/api", nil, "")
	f.sa.Rotate(map[string]string{"token": "second", "ca.crt": f.caPEM, "namespace": "ns"})
	f.do(t, "GET", "/api", nil, "")
	seen := f.requests()
	if a, b := seen[0].Header.Get("Authorization"), seen[1].Header.Get("Authorization"); a != "Bearer "+podToken || b != "Bearer second" {
		t.Errorf("tokens sent: %q, then %q", a, b)
	}
}

// TestRetryAfter401: a request without a body is sent again with the
// rotated token; one with a body cannot be (the proxy streams it to the
// server and keeps no copy), so the client gets the 401 and its own retry
// goes out with the new token.
func TestRetryAfter401(t *testing.T) {
	for _, tc := range []struct {
		method, body string
		want         []int // statuses the client sees, one request after the other
		sent         int   // requests the server gets
	}{
		{"GET", "", []int{200}, 2},
		{"DELETE", "", []int{200}, 2},
		{"POST", `{"metadata":{"name":"a"}}`, []int{401, 200}, 2},
		{"PATCH", `{"data":{}}`, []int{401, 200}, 2},
	} {
		t.Run(tc.method, func(t *testing.T) {
			var f *fixture
			f = newFixture(t, fixtureConfig{}, rotating(&f))
			for i, want := range tc.want {
				if resp, body := f.do(t, tc.method, "/api/v1/namespaces/ns/configmaps", nil, tc.body); resp.StatusCode != want {
					t.Errorf("request %d: %d %q, want %d", i+1, resp.StatusCode, body, want)
				}
			}
			seen := f.requests()
			if len(seen) != tc.sent {
				t.Fatalf("the server got %d requests, want %d", len(seen), tc.sent)
			}
			if seen[1].Header.Get("Authorization") != "Bearer rotated" || seen[1].Body != tc.body {
				t.Errorf("retried with %q %q", seen[1].Header.Get("Authorization"), seen[1].Body)
			}
		})
	}
}

func TestRedirectKeepsTheToken(t *testing.T) {
	var elsewhere []http.Header
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Header.Clone())
		mu.Unlock()
	}))
	defer other.Close()
	f := newFixture(t, fixtureConfig{}, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	resp, _ := f.do(t, "GET", "/api/v1/namespaces", nil, "")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != other.URL+"/steal" {
		t.Errorf("%d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhere) != 0 {
		t.Errorf("the other host got %d requests: %v", len(elsewhere), elsewhere)
	}
}

// echoUpgrade switches protocols as the API server does for exec or
// port-forward, then echoes every byte.
func echoUpgrade(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") == "" || r.ProtoMajor != 1 {
		http.Error(w, "an upgrade needs HTTP/1.1, got "+r.Proto, http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + r.Header.Get("Upgrade") + "\r\n\r\n")
	brw.Flush()
	io.Copy(conn, brw.Reader)
}

func TestUpgrade(t *testing.T) {
	const (
		log  = "/api/v1/namespaces/ns/pods/web/log"
		exec = "/api/v1/namespaces/ns/pods/web/exec?command=sh&stdin=true"
	)
	upgrade := func(path string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: localhost:8001\r\nAuthorization: Bearer " + clientToken +
			"\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n"
	}
	for _, tc := range []struct {
		name    string
		filter  func(testing.TB) *Filter
		path    string
		verbose bool
		want    int
	}{
		{"upgraded", defaultFilter, log, false, 101},
		{"upgraded, verbose", defaultFilter, log, true, 101},
		{"exec allowed by the filter", func(t testing.TB) *Filter {
			return mustFilter(t, DefaultAcceptHosts, DefaultAcceptPaths, "", "")
		}, exec, true, 101},
		{"exec rejected", defaultFilter, exec, true, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fixtureConfig{Filter: tc.filter(t), Verbose: tc.verbose}, echoUpgrade)
			conn, br, resp := raw(t, f.addr(), upgrade(tc.path))
			if resp.StatusCode != tc.want {
				t.Fatalf("%d %q", resp.StatusCode, readBody(t, resp))
			}
			seen := f.requests()
			if tc.want == 403 {
				if body := readBody(t, resp); body != "Forbidden\n" || len(seen) != 0 {
					t.Errorf("%q, %d requests reached the server", body, len(seen))
				}
				return
			}
			if resp.Header.Get("Upgrade") != "SPDY/3.1" {
				t.Errorf("Upgrade: %q", resp.Header.Get("Upgrade"))
			}
			for _, msg := range []string{"ping\n", "pong\n"} {
				io.WriteString(conn, msg)
				if echo, err := br.ReadString('\n'); echo != msg || err != nil {
					t.Fatalf("echo: %q %v", echo, err)
				}
			}
			if len(seen) != 1 {
				t.Fatalf("%d requests", len(seen))
			}
			got := seen[0]
			if got.Proto != "HTTP/1.1" || got.Header.Get("Authorization") != "Bearer "+podToken ||
				got.Header.Get("X-Stream-Protocol-Version") != "v4.channel.k8s.io" {
				t.Errorf("the server got %s, Authorization %q, %v", got.Proto, got.Header.Get("Authorization"), got.Header)
			}
			conn.Close()
			if tc.verbose {
				lines := f.log.lines(t, 1)
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "POST "+tc.path+" 101 ") {
					t.Errorf("log: %q", lines)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Run("server unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := l.Addr().String()
		l.Close()
		f := newFixture(t, fixtureConfig{Server: "https://" + closed}, ok)
		resp, body := f.do(t, "GET", "/api/v1/namespaces?limit=1", nil, "")
		if resp.StatusCode != http.StatusBadGateway || !strings.HasPrefix(body, "kcurl proxy: ") ||
			!strings.Contains(body, "connection refused") || strings.Count(body, "\n") != 1 {
			t.Errorf("%d %q", resp.StatusCode, body)
		}
		if lines := f.errs.lines(t, 1); len(lines) != 1 || !strings.HasPrefix(lines[0], "kcurl proxy: GET /api/v1/namespaces: ") {
			t.Errorf("errors: %q", lines)
		}
	})
	t.Run("token file gone", func(t *testing.T) {
		f := newFixture(t, fixtureConfig{}, ok)
		if err := os.Remove(f.sa.Path("token")); err != nil {
			t.Fatal(err)
		}
		resp, body := f.do(t, "GET", "/api/v1/namespaces", nil, "")
		if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, f.sa.Path("token")) || strings.Count(body, "\n") != 1 {
			t.Errorf("%d %q", resp.StatusCode, body)
		}
		if lines := f.errs.lines(t, 1); len(lines) != 1 || !strings.Contains(lines[0], f.sa.Path("token")) {
			t.Errorf("errors: %q", lines)
		}
		if n := len(f.requests()); n != 0 {
			t.Errorf("%d requests reached the server", n)
		}
	})
	t.Run("client gone mid-watch", func(t *testing.T) {
		gone := make(chan struct{})
		f := newFixture(t, fixtureConfig{Verbose: true}, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"type":"ADDED"}`+"\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			close(gone)
		})
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", f.front.URL+"/api/v1/pods?watch=1", nil)
		resp, err := f.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
			t.Fatalf("%q %v", line, err)
		}
		cancel()
		resp.Body.Close()
		select {
		case <-gone:
		case <-time.After(5 * time.Second):
			t.Fatal("the server's watch went on after the client left")
		}
		// The request is logged (-v) all the same, once.
		if lines := f.log.lines(t, 1); len(lines) != 1 || !strings.HasPrefix(lines[0], "GET /api/v1/pods?watch=1 200 ") {
			t.Errorf("log: %q", lines)
		}
		if s := f.errs.String(); s != "" {
			t.Errorf("errors: %q", s)
		}
	})
}

func TestLog(t *testing.T) {
	f := newFixture(t, fixtureConfig{Verbose: true}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=secret-cookie")
		if r.URL.Path == "/hints" {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
		}
		if r.Method == "POST" {
			w.WriteHeader(http.StatusCreated)
		}
		io.WriteString(w, "{}")
	})
	header := http.Header{"Authorization": {"Bearer " + clientToken}, "X-Secret": {"header-value-never-logged"}}
	f.do(t, "GET", "/api/v1/namespaces/ns/configmaps?labelSelector=a%3Db", header, "")
	f.do(t, "POST", "/api/v1/namespaces/ns/configmaps", header, `{"data":{"k":"body-never-logged"}}`)
	f.do(t, "POST", "/api/v1/namespaces/ns/pods/web/exec?command=sh", header, "")
	f.do(t, "GET", "//api", header, "")
	if resp, _ := f.do(t, "GET", "/hints", header, ""); resp.StatusCode != 200 {
		t.Errorf("after Early Hints: %d", resp.StatusCode)
	}
	want := []string{
		"GET /api/v1/namespaces/ns/configmaps?labelSelector=a%3Db 200 ",
		"POST /api/v1/namespaces/ns/configmaps 201 ",
		"POST /api/v1/namespaces/ns/pods/web/exec?command=sh 403 ",
		"GET //api 301 ",
		"GET /hints 200 ",
	}
	lines := f.log.lines(t, len(want))
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s", strings.Join(lines, ""))
	}
	duration := regexp.MustCompile(`^[0-9.]+(ms|s)\n$`)
	for i, line := range lines {
		rest, ok := strings.CutPrefix(line, want[i])
		if !ok || !duration.MatchString(rest) {
			t.Errorf("line %d: %q, want %q and a duration", i+1, line, want[i])
		}
	}
	all := f.log.String() + f.errs.String()
	for _, secret := range []string{podToken, clientToken, "header-value-never-logged", "body-never-logged", "secret-cookie"} {
		if strings.Contains(all, secret) {
			t.Errorf("the log shows %q:\n%s", secret, all)
		}
	}
}

// TestLogAndErrorsShareAWriter: -v gives both to stderr; their lines are
// written one at a time (the race detector would see two at once).
func TestLogAndErrorsShareAWriter(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	ca := targettest.NewCA(t, "test-ca")
	sa := targettest.NewServiceAccount(t, map[string]string{"token": podToken, "ca.crt": string(ca.CertPEM)})
	tgt, err := target.Resolve(target.Options{Server: "https://" + closed, SADir: sa.Dir}, targettest.Env(nil))
	if err != nil {
		t.Fatal(err)
	}
	streaming, upgrade := Transports(tgt, transport.Options{})
	var stderr bytes.Buffer // not safe for concurrent writes, as an io.Writer need not be
	front := httptest.NewServer(New(tgt, Options{Log: &stderr, Errors: &stderr, Transport: streaming, Upgrade: upgrade}))
	defer front.Close()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := http.Get(front.URL + "/api")
			if err != nil {
				t.Error(err)
				return
			}
			readBody(t, resp)
		})
	}
	wg.Wait()
	front.Close()
	if n := strings.Count(stderr.String(), "\n"); n != 40 {
		t.Errorf("%d lines:\n%s", n, stderr.String())
	}
}

// TestRecorder: what the log wraps around the ResponseWriter still
// flushes and hijacks, through http.ResponseController.
func TestRecorder(t *testing.T) {
	var flushErr, hijackErr error
	var buf syncBuffer
	h := logRequests(&buf, &sync.Mutex{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.URL.Path == "/flush" {
			io.WriteString(w, "a")
			flushErr = rc.Flush()
			return
		}
		conn, brw, err := rc.Hijack()
		if hijackErr = err; err != nil {
			return
		}
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n")
		brw.Flush()
		conn.Close()
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/flush")
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if flushErr != nil || resp.ContentLength != -1 {
		t.Errorf("flush: %v, Content-Length %d", flushErr, resp.ContentLength)
	}
	_, _, resp = raw(t, strings.TrimPrefix(srv.URL, "http://"), "GET /hijack HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n")
	if hijackErr != nil || resp.StatusCode != 101 {
		t.Errorf("hijack: %v, %d", hijackErr, resp.StatusCode)
	}
	lines := buf.lines(t, 2)
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "GET /flush 200 ") || !strings.HasPrefix(lines[1], "GET /hijack 101 ") {
		t.Errorf("log: %q", lines)
	}
}

// The proxy passes the server's 429 and its Retry-After to its client
// unchanged, once, as kubectl proxy does: retrying is the client's to do.
func TestTooManyRequestsPassedOn(t *testing.T) {
	f := newFixture(t, fixtureConfig{}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"kind":"Status","code":429}`)
	})
	resp, body := f.do(t, "GET", "/api/v1/namespaces/ns/configmaps", nil, "")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || body != `{"kind":"Status","code":429}` {
		t.Errorf("%d Retry-After %q %q", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("the server got %d requests, want 1", n)
	}
}

// LimitListener serves at most n connections at once; the next waits
// until one closes.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := LimitListener(inner, 2)
	defer l.Close()
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	var clients []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	first := <-accepted
	<-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted while two were open")
	case <-time.After(200 * time.Millisecond):
	}
	first.Close()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the third connection was not accepted when one closed")
	}
}
