package transport

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/target/targettest"
)

// kubeTarget resolves a kubeconfig of one context (cluster, user, in
// namespace "kc-ns") as kcurl does outside a Pod: no service account, an
// environment of HOME alone, pointing at an empty directory.
func kubeTarget(t *testing.T, cluster *clientcmdapi.Cluster, user *clientcmdapi.AuthInfo, opts target.Options) *target.Target {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["cluster"] = cluster
	cfg.AuthInfos["user"] = user
	cfg.Contexts["context"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "user", Namespace: "kc-ns"}
	cfg.CurrentContext = "context"
	opts.Kubeconfig = filepath.Join(t.TempDir(), "config")
	if err := clientcmd.WriteToFile(*cfg, opts.Kubeconfig); err != nil {
		t.Fatal(err)
	}
	opts.SADir = t.TempDir()
	tgt, err := target.Resolve(opts, targettest.Env(map[string]string{"HOME": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if tgt.REST == nil {
		t.Fatal("not a kubeconfig target")
	}
	return tgt
}

// fileWith writes content to a new file in a temporary directory.
func fileWith(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// seen records what a test server was sent.
type seen struct {
	mu      sync.Mutex
	headers []http.Header
	cn      []string // the client certificate's CN, "" without one
	proto   []int
}

func (s *seen) record(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.headers = append(s.headers, r.Header.Clone())
	s.proto = append(s.proto, r.ProtoMajor)
	cn := ""
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		cn = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	s.cn = append(s.cn, cn)
}

func (s *seen) auth() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var auth []string
	for _, h := range s.headers {
		auth = append(auth, h.Get("Authorization"))
	}
	return auth
}

func (s *seen) last() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers[len(s.headers)-1]
}

func recordingServer(t *testing.T, ca *targettest.CA, s *seen, hosts ...string) *httptest.Server {
	return newServer(t, ca, true, func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		ok(w, r)
	}, hosts...)
}

// TestKubeconfigTokenDefaults: a kubeconfig token goes through client-go's
// transport with kcurl's defaults on top and its tracer below the
// authentication: the same trace, User-Agent and gzip as for a Pod.
func TestKubeconfigTokenDefaults(t *testing.T) {
	const secret = "kc-s3cr3t-token"
	const payload = `{"kind":"ConfigMapList","items":[]}`
	ca := targettest.NewCA(t, "cluster")
	var s seen
	srv := newServer(t, ca, true, func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipped(t, payload))
	})
	tgt := kubeTarget(t, &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthority: fileWith(t, "ca.crt", ca.CertPEM)},
		&clientcmdapi.AuthInfo{Token: secret}, target.Options{})
	var trace bytes.Buffer
	c := newClient(t, tgt, Options{Trace: &trace, UserAgent: testUA, Compress: true})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/v1/configmaps?limit=1", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != payload {
		t.Errorf("body %q, %v; want it decoded: %s", body, err, payload)
	}
	if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("Content-Encoding %q left on a decoded body", resp.Header.Get("Content-Encoding"))
	}

	h := s.last()
	if got := h.Get("Authorization"); got != "Bearer "+secret {
		t.Errorf("server saw Authorization %q", got)
	}
	if got := h.Get("User-Agent"); got != testUA {
		t.Errorf("server saw User-Agent %q, want kcurl's", got)
	}
	if got := h.Values("Accept-Encoding"); strings.Join(got, ",") != "gzip" {
		t.Errorf("server saw Accept-Encoding %q", got)
	}
	host := strings.TrimPrefix(srv.URL, "https://")
	want := "> GET /api/v1/configmaps?limit=1\n" +
		"> Host: " + host + "\n" +
		"> Accept: application/json\n" +
		"> Accept-Encoding: gzip\n" +
		"> Authorization: Bearer <redacted>\n" +
		"> User-Agent: " + testUA + "\n" +
		">\n" +
		"< HTTP/2.0 200 OK\n" +
		"< Content-Encoding: gzip\n" +
		"< Content-Length: " + fmt.Sprint(len(gzipped(t, payload))) + "\n" +
		"< Content-Type: application/json\n" +
		"< Date: Mon, 02 Jan 2006 15:04:05 GMT\n" +
		"<\n"
	if trace.String() != want {
		t.Errorf("trace:\n%s\nwant:\n%s", trace.String(), want)
	}
	if strings.Contains(trace.String(), secret) {
		t.Error("the trace shows the token")
	}

	t.Run("HTTP1", func(t *testing.T) {
		resp, _, err := get(t, newClient(t, tgt, Options{HTTP1: true}), srv.URL+"/api")
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 1 {
			t.Errorf("spoke %s with HTTP1", resp.Proto)
		}
	})
}

// TestKubeconfigTokenFile: client-go reads a kubeconfig token file when the
// transport is built and then caches what it read for about a minute
// (transport.NewCachedFileTokenSource: a period of one minute, less ten
// seconds of leeway), without re-reading it after a 401. A new transport
// (the next kcurl) reads the new token at once.
func TestKubeconfigTokenFile(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	var s seen
	var mu sync.Mutex
	valid := "first-token"
	srv := newServer(t, ca, true, func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+valid {
			http.Error(w, `{"kind":"Status","code":401}`, http.StatusUnauthorized)
			return
		}
		ok(w, r)
	})
	tokenFile := fileWith(t, "token", []byte("first-token\n"))
	tgt := kubeTarget(t, &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthority: fileWith(t, "ca.crt", ca.CertPEM)},
		&clientcmdapi.AuthInfo{TokenFile: tokenFile}, target.Options{})
	if tgt.Token == nil || tgt.Token.File() != tokenFile {
		t.Fatalf("Target.Token = %v, want the token file", tgt.Token)
	}
	c := newClient(t, tgt, Options{})
	status := func(c *http.Client) int {
		t.Helper()
		resp, _, err := get(t, c, srv.URL+"/api")
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	if code := status(c); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}

	// The token rotates: kcurl reads a kubeconfig's token file itself, as it
	// reads a Pod's, so the next request carries the new token. (client-go
	// would cache the old one for about a minute, even after a 401.)
	if err := os.WriteFile(tokenFile, []byte("second-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	valid = "second-token"
	mu.Unlock()
	if token, err := tgt.Token.Token(); err != nil || token != "second-token" {
		t.Errorf("Target.Token = %q, %v", token, err)
	}
	if code := status(c); code != http.StatusOK {
		t.Errorf("status %d after the token file changed, want 200 with the new token", code)
	}
	want := []string{"Bearer first-token", "Bearer second-token"}
	if got := s.auth(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("server saw %q, want %q", got, want)
	}
}

// clientCA signs client certificates, which targettest's CA does not.
type clientCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newClientCA(t *testing.T) *clientCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "client CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &clientCA{cert: cert, key: key}
}

// issue returns the PEM certificate and key of a client cn.
func (ca *clientCA) issue(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"kcurl-testers"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// mTLSServer requires a client certificate signed by clients.
func mTLSServer(t *testing.T, ca *targettest.CA, clients *clientCA, s *seen) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		ok(w, r)
	}))
	pool := x509.NewCertPool()
	pool.AddCert(clients.cert)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(t)}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestKubeconfigClientCertificate(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	clients := newClientCA(t)
	var s seen
	srv := mTLSServer(t, ca, clients, &s)
	certPEM, keyPEM := clients.issue(t, "alice")
	cluster := &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: ca.CertPEM}

	tests := []struct {
		name string
		user *clientcmdapi.AuthInfo
	}{
		{name: "files", user: &clientcmdapi.AuthInfo{ClientCertificate: fileWith(t, "alice.crt", certPEM), ClientKey: fileWith(t, "alice.key", keyPEM)}},
		{name: "inline data", user: &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tgt := kubeTarget(t, cluster, tt.user, target.Options{})
			if tgt.Token != nil || tgt.CA != nil {
				t.Errorf("Target.Token %v, CA %v: inline data and certificates have no token or CA file to show", tgt.Token, tgt.CA)
			}
			var trace bytes.Buffer
			if _, _, err := get(t, newClient(t, tgt, Options{Trace: &trace}), srv.URL+"/api"); err != nil {
				t.Fatal(err)
			}
			s.mu.Lock()
			cn := s.cn[len(s.cn)-1]
			s.mu.Unlock()
			if cn != "alice" {
				t.Errorf("server saw client certificate %q, want alice", cn)
			}
			if got := s.last().Get("Authorization"); got != "" || strings.Contains(trace.String(), "Authorization") {
				t.Errorf("Authorization %q sent beside the certificate:\n%s", got, trace.String())
			}
		})
	}

	t.Run("--token replaces the certificate", func(t *testing.T) {
		tgt := kubeTarget(t, cluster, tests[0].user, target.Options{Token: "flag-token"})
		if _, _, err := get(t, newClient(t, tgt, Options{}), srv.URL+"/api"); err == nil {
			t.Fatal("the server that requires a certificate accepted a request with none")
		}
		var s2 seen
		plain := recordingServer(t, ca, &s2)
		tgt = kubeTarget(t, &clientcmdapi.Cluster{Server: plain.URL, CertificateAuthorityData: ca.CertPEM}, tests[0].user, target.Options{Token: "flag-token"})
		if _, _, err := get(t, newClient(t, tgt, Options{}), plain.URL+"/api"); err != nil {
			t.Fatal(err)
		}
		s2.mu.Lock()
		defer s2.mu.Unlock()
		if s2.cn[0] != "" || s2.headers[0].Get("Authorization") != "Bearer flag-token" {
			t.Errorf("server saw certificate %q, Authorization %q", s2.cn[0], s2.headers[0].Get("Authorization"))
		}
	})
}

// TestKubeconfigUnusableClientKey: a client key that passes clientcmd's
// checks (it can be opened) but cannot be used fails every request with a
// CredentialsError (exit 3), not a network error.
func TestKubeconfigUnusableClientKey(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	clients := newClientCA(t)
	var s seen
	srv := mTLSServer(t, ca, clients, &s)
	certPEM, _ := clients.issue(t, "alice")
	certFile := fileWith(t, "alice.crt", certPEM)
	keyDir := t.TempDir() // opens, but does not read: an unreadable key, even for root

	for name, keyFile := range map[string]string{"unreadable": keyDir, "not a key": fileWith(t, "alice.key", []byte("garbage"))} {
		t.Run(name, func(t *testing.T) {
			tgt := kubeTarget(t, &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: ca.CertPEM},
				&clientcmdapi.AuthInfo{ClientCertificate: certFile, ClientKey: keyFile}, target.Options{})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api", strings.NewReader("{}"))
			body := &closeRecorder{Reader: req.Body}
			req.Body = body
			_, err := newClient(t, tgt, Options{}).Do(req)
			var ce *target.CredentialsError
			var ne *NetworkError
			if !errors.As(err, &ce) || errors.As(err, &ne) {
				t.Fatalf("err = %v, want a CredentialsError and not a NetworkError", err)
			}
			if !strings.Contains(err.Error(), "kubeconfig client certificate "+certFile+" with key "+keyFile+": ") {
				t.Errorf("message %q does not say what failed", err)
			}
			if !body.closed {
				t.Error("the request body was not closed")
			}
		})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.headers) != 0 {
		t.Errorf("the server saw %d requests", len(s.headers))
	}
}

// TestKubeconfigTransportBuiltOnFirstRequest: client-go's transport (the
// client certificate read and parsed) is built for the first request, not
// with the client, so that exec, attach and port-forward, which never send
// one through it, do not pay for it at start-up. A key written between the
// two is the one used; built eagerly, the garbage before it would fail.
func TestKubeconfigTransportBuiltOnFirstRequest(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	clients := newClientCA(t)
	var s seen
	srv := mTLSServer(t, ca, clients, &s)
	certPEM, keyPEM := clients.issue(t, "alice")
	certFile := fileWith(t, "alice.crt", certPEM)
	keyFile := fileWith(t, "alice.key", []byte("not a key yet"))
	tgt := kubeTarget(t, &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: ca.CertPEM},
		&clientcmdapi.AuthInfo{ClientCertificate: certFile, ClientKey: keyFile}, target.Options{})
	client := newClient(t, tgt, Options{})
	client.CloseIdleConnections() // before any request: builds nothing either

	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(srv.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cn) != 1 || s.cn[0] != "alice" {
		t.Errorf("the server saw client certificates %q, want [alice]", s.cn)
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// TestKubeconfigExecPlugin: an exec credential plugin (a shell script
// printing an ExecCredential) provides the token.
func TestKubeconfigExecPlugin(t *testing.T) {
	const secret = "exec-s3cr3t"
	ca := targettest.NewCA(t, "cluster")
	var s seen
	srv := recordingServer(t, ca, &s)
	dir := t.TempDir()
	plugin := filepath.Join(dir, "get-token")
	script := "#!/bin/sh\necho run >> " + filepath.Join(dir, "runs") + "\n" +
		`printf '%s\n' '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"` + secret + `"}}'` + "\n"
	if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tgt := kubeTarget(t, &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthority: fileWith(t, "ca.crt", ca.CertPEM)},
		&clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
			APIVersion: "client.authentication.k8s.io/v1", Command: plugin, InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
		}}, target.Options{})
	if tgt.Token != nil {
		t.Errorf("Target.Token = %v, want none: the plugin is run by the transport", tgt.Token)
	}
	var trace bytes.Buffer
	c := newClient(t, tgt, Options{Trace: &trace, UserAgent: testUA})
	for range 2 {
		if _, _, err := get(t, c, srv.URL+"/api"); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.auth(); strings.Join(got, ",") != "Bearer "+secret+",Bearer "+secret {
		t.Errorf("server saw Authorization %q", got)
	}
	if runs, _ := os.ReadFile(filepath.Join(dir, "runs")); string(runs) != "run\n" {
		t.Errorf("the plugin ran %d times for two requests, want once", strings.Count(string(runs), "run"))
	}
	if strings.Contains(trace.String(), secret) || !strings.Contains(trace.String(), "> Authorization: Bearer <redacted>\n") {
		t.Errorf("trace:\n%s", trace.String())
	}
}

func TestKubeconfigBasicAuth(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	var s seen
	srv := recordingServer(t, ca, &s)
	tgt := kubeTarget(t, &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: ca.CertPEM},
		&clientcmdapi.AuthInfo{Username: "admin", Password: "pa55word"}, target.Options{})
	var trace bytes.Buffer
	if _, _, err := get(t, newClient(t, tgt, Options{Trace: &trace}), srv.URL+"/api"); err != nil {
		t.Fatal(err)
	}
	req := &http.Request{Header: s.last()}
	if user, pass, ok := req.BasicAuth(); !ok || user != "admin" || pass != "pa55word" {
		t.Errorf("server saw basic auth %q %q (%v)", user, pass, ok)
	}
	if !strings.Contains(trace.String(), "> Authorization: Basic <redacted>\n") || strings.Contains(trace.String(), "YWRtaW46") {
		t.Errorf("trace:\n%s", trace.String())
	}
}

// TestKubeconfigServerVerification: tls-server-name and
// insecure-skip-tls-verify as kubeconfig says, and a failed verification
// is a network error with its hint.
func TestKubeconfigServerVerification(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	unknown := targettest.NewCA(t, "unknown")
	var s seen
	inCluster := recordingServer(t, ca, &s, "kubernetes.default.svc") // not valid for 127.0.0.1
	stranger := recordingServer(t, unknown, &s)
	caFile := fileWith(t, "ca.crt", ca.CertPEM)

	tests := []struct {
		name    string
		srv     *httptest.Server
		cluster clientcmdapi.Cluster
		opts    target.Options
		wantErr string
	}{
		{name: "tls-server-name", srv: inCluster, cluster: clientcmdapi.Cluster{CertificateAuthority: caFile, TLSServerName: "kubernetes.default.svc"}},
		{name: "without tls-server-name", srv: inCluster, cluster: clientcmdapi.Cluster{CertificateAuthority: caFile}, wantErr: "does not name this host"},
		{name: "insecure-skip-tls-verify", srv: stranger, cluster: clientcmdapi.Cluster{InsecureSkipTLSVerify: true}},
		{name: "-k", srv: stranger, cluster: clientcmdapi.Cluster{CertificateAuthority: caFile}, opts: target.Options{Insecure: true}},
		{name: "an unknown authority", srv: stranger, cluster: clientcmdapi.Cluster{CertificateAuthority: caFile}, wantErr: "not signed by the CA file"},
		{name: "--cacert", srv: stranger, cluster: clientcmdapi.Cluster{CertificateAuthority: caFile}, opts: target.Options{CAFile: fileWith(t, "unknown.crt", unknown.CertPEM)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cluster := tt.cluster
			cluster.Server = tt.srv.URL
			tgt := kubeTarget(t, &cluster, &clientcmdapi.AuthInfo{Token: "tok"}, tt.opts)
			_, _, err := get(t, newClient(t, tgt, Options{}), tt.srv.URL+"/api")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ne *NetworkError
			if !errors.As(err, &ne) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want a NetworkError saying %q", err, tt.wantErr)
			}
		})
	}
}

// connectProxy is an HTTP proxy on 127.0.0.1 that tunnels CONNECT to
// 127.0.0.1 only, recording each target.
func connectProxy(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var targets []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		targets = append(targets, r.Method+" "+r.Host)
		mu.Unlock()
		host, _, _ := net.SplitHostPort(r.Host)
		if r.Method != http.MethodConnect || host != "127.0.0.1" {
			http.Error(w, "CONNECT to 127.0.0.1 only", http.StatusForbidden)
			return
		}
		upstream, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer upstream.Close()
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		done := make(chan struct{})
		go func() {
			io.Copy(upstream, buf)
			upstream.(*net.TCPConn).CloseWrite()
			close(done)
		}()
		io.Copy(conn, upstream)
		<-done
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), targets...)
	}
}

func TestKubeconfigProxyURL(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	var s seen
	srv := recordingServer(t, ca, &s)
	proxy, targets := connectProxy(t)
	tgt := kubeTarget(t, &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: ca.CertPEM, ProxyURL: proxy.URL},
		&clientcmdapi.AuthInfo{Token: "tok"}, target.Options{})
	c := newClient(t, tgt, Options{})
	if _, _, err := get(t, c, srv.URL+"/api"); err != nil {
		t.Fatal(err)
	}
	c.CloseIdleConnections()
	if got, want := targets(), "CONNECT "+strings.TrimPrefix(srv.URL, "https://"); len(got) != 1 || got[0] != want {
		t.Errorf("the proxy saw %q, want [%s]", got, want)
	}
	if got := s.auth(); len(got) != 1 || got[0] != "Bearer tok" {
		t.Errorf("server saw Authorization %q", got)
	}
}

// TestKubeconfigTokenStaysHome: as for a Pod, the credentials go to the
// target's own scheme, host and port only, whatever a redirect says, and
// -H 'Authorization:' sends a request without them.
func TestKubeconfigTokenStaysHome(t *testing.T) {
	const secret = "kc-s3cr3t"
	ca := targettest.NewCA(t, "cluster")
	var other seen
	otherSrv := recordingServer(t, ca, &other)
	var home seen
	homeSrv := newServer(t, ca, true, func(w http.ResponseWriter, r *http.Request) {
		home.record(r)
		switch r.URL.Path {
		case "/to-other":
			http.Redirect(w, r, otherSrv.URL+"/landing", http.StatusFound)
		case "/to-home":
			http.Redirect(w, r, "/landing", http.StatusFound)
		default:
			ok(w, r)
		}
	})
	users := map[string]*clientcmdapi.AuthInfo{
		"token":      {Token: secret},
		"basic auth": {Username: "admin", Password: secret},
	}
	for name, user := range users {
		t.Run(name, func(t *testing.T) {
			tgt := kubeTarget(t, &clientcmdapi.Cluster{Server: homeSrv.URL, CertificateAuthorityData: ca.CertPEM}, user, target.Options{})
			var trace bytes.Buffer
			c := newClient(t, tgt, Options{Trace: &trace})
			for _, path := range []string{"/to-home", "/to-other"} {
				if _, _, err := get(t, c, homeSrv.URL+path); err != nil {
					t.Fatal(err)
				}
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, homeSrv.URL+"/anonymous", nil)
			req.Header["Authorization"] = nil
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()

			home.mu.Lock()
			var sent []string
			for _, h := range home.headers[len(home.headers)-4:] {
				sent = append(sent, fmt.Sprint(h.Get("Authorization") != ""))
			}
			home.mu.Unlock()
			// /to-home, /landing, /to-other, /anonymous
			if strings.Join(sent, ",") != "true,true,true,false" {
				t.Errorf("credentials sent home: %v, want true,true,true,false", sent)
			}
			if got := other.last().Get("Authorization"); got != "" {
				t.Errorf("the other host got Authorization %q", got)
			}
			if strings.Contains(trace.String(), secret) {
				t.Errorf("the trace shows the secret:\n%s", trace.String())
			}
		})
	}

	t.Run("a typed Authorization is sent home", func(t *testing.T) {
		tgt := kubeTarget(t, &clientcmdapi.Cluster{Server: homeSrv.URL, CertificateAuthorityData: ca.CertPEM}, users["token"], target.Options{})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, homeSrv.URL+"/typed", nil)
		req.Header.Set("Authorization", "Bearer typed")
		resp, err := newClient(t, tgt, Options{}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := home.last().Get("Authorization"); got != "Bearer typed" {
			t.Errorf("server saw Authorization %q", got)
		}
	})
}

// TestKubeconfigCloseIdleConnections: http.Client.CloseIdleConnections
// reaches client-go's http.Transport through its wrappers.
func TestKubeconfigCloseIdleConnections(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	closed := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(t)}}
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateClosed {
			select {
			case closed <- struct{}{}:
			default:
			}
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tgt := kubeTarget(t, &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: ca.CertPEM}, &clientcmdapi.AuthInfo{Token: "tok"}, target.Options{})
	for _, trace := range []io.Writer{nil, io.Discard} {
		c := New(tgt, Options{Trace: trace})
		if _, _, err := get(t, c, srv.URL+"/api"); err != nil {
			t.Fatal(err)
		}
		c.CloseIdleConnections()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("trace %v: the idle connection stayed open", trace != nil)
		}
	}
}
