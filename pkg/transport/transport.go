// Package transport builds the HTTP client kcurl talks to the API server
// with: TLS verified against the target's CA file only, the bearer token
// re-read as it rotates (and once more after a 401), HTTP/2 with health
// pings, and redaction-safe tracing for -v.
package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/redact"
	"github.com/kcurl/kcurl/pkg/target"
)

// Options tune the client; the zero value is usable.
type Options struct {
	// UserAgent replaces Go's default. It must not look like curl: the API
	// server pretty-prints JSON for curl, which costs time on large lists.
	UserAgent string
	// ConnectTimeout bounds the TCP connect and the TLS handshake.
	ConnectTimeout time.Duration
	// Trace receives request and response headers (-v), credentials redacted.
	Trace io.Writer
	// Compress asks for gzip and decodes it; a proxy passes encodings
	// through instead and leaves this off.
	Compress bool
	// HTTP1 speaks HTTP/1.1 only: connection upgrades (exec, attach,
	// port-forward over SPDY) do not exist in HTTP/2.
	HTTP1 bool
}

// New returns a client for t. Requests made with it carry t's credentials
// only to t's server, never to another host a redirect points at.
func New(t *target.Target, opts Options) *http.Client {
	return &http.Client{Transport: RoundTripper(t, opts), CheckRedirect: checkRedirect}
}

// checkRedirect keeps net/http's limit of 10 redirects, and drops credentials
// the user typed (-H 'Authorization: …', and every header pkg/redact hides:
// X-Auth-Token, Proxy-Authorization, Cookie, …) when a redirect leaves the
// scheme, host and port they were sent to: net/http compares the host name
// alone, and drops Authorization and Cookie only, so they would reach
// another port, or plain http, on the same host. The target's own token is
// added by bearerAuth, which never sends it elsewhere.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return &NetworkError{Err: errRedirectLoop}
	}
	if first := via[0].URL; req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		for name := range req.Header {
			if redact.Secret(name) {
				req.Header.Del(name)
			}
		}
	}
	return nil
}

// errRedirectLoop is a server that redirects on and on: exit 6, as a server
// that cannot be reached (curl's is 47, too many redirects).
var errRedirectLoop = errors.New("stopped after 10 redirects (a redirect loop?)")

// RoundTripper is the chain behind New: defaults (User-Agent, gzip), then
// authentication, then tracing (so -v shows what is really sent), then the
// network.
func RoundTripper(t *target.Target, opts Options) http.RoundTripper {
	if t.REST != nil {
		built := sync.OnceValue(func() http.RoundTripper { return clientGoRoundTripper(t, opts) })
		return &defaults{next: impersonating(t, &onFirstUse{built: built}), userAgent: opts.UserAgent, compress: opts.Compress}
	}
	var rt http.RoundTripper = base(t, opts)
	if opts.Trace != nil {
		rt = &tracer{next: rt, w: opts.Trace}
	}
	if t.Token != nil {
		rt = &bearerAuth{next: rt, tokens: t.Token, scheme: t.Server.Scheme, host: t.Server.Host}
	}
	return &defaults{next: impersonating(t, rt), userAgent: opts.UserAgent, compress: opts.Compress}
}

func base(t *target.Target, opts Options) *http.Transport {
	connectTimeout := opts.ConnectTimeout
	if connectTimeout <= 0 {
		connectTimeout = 10 * time.Second
	}
	dialer := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
	rt := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tlsConfig(t),
		TLSHandshakeTimeout: connectTimeout,
		ForceAttemptHTTP2:   true,
		// Compression is handled by defaults, so that -v shows it and a
		// proxy can pass the client's own Accept-Encoding through.
		DisableCompression:    true,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		// A connection that went silent (node gone, NAT entry dropped) is
		// noticed by a ping within seconds instead of hanging a watch.
		HTTP2: &http.HTTP2Config{SendPingTimeout: 15 * time.Second, PingTimeout: 5 * time.Second},
	}
	if opts.HTTP1 {
		rt.ForceAttemptHTTP2 = false
		rt.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // no h2
	}
	return rt
}

// tlsConfig verifies the server against the target's CA file alone, never the
// system roots, re-reading the file when it changes. The check runs in
// VerifyConnection because the standard verifier takes a fixed pool.
func tlsConfig(t *target.Target) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec // verified below unless -k
	if t.Insecure {
		return cfg
	}
	if t.CA == nil {
		// Only -k may skip verification; a Target without a CA that did not
		// ask for it fails closed rather than trusting any certificate.
		cfg.VerifyConnection = func(tls.ConnectionState) error {
			return &target.CredentialsError{What: "CA", Err: errors.New("no CA certificate to verify the server with (-k skips verification, insecurely)")}
		}
		return cfg
	}
	ca, serverName := t.CA, t.Server.Hostname()
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		pool, err := ca.Pool()
		if err != nil {
			return err
		}
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		intermediates := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			intermediates.AddCert(c)
		}
		_, err = cs.PeerCertificates[0].Verify(x509.VerifyOptions{
			DNSName:       serverName,
			Roots:         pool,
			Intermediates: intermediates,
		})
		if err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
		}
		return nil
	}
	return cfg
}

// bearerAuth adds the token to requests for the target's own server.
type bearerAuth struct {
	next         http.RoundTripper
	tokens       target.TokenSource
	scheme, host string
}

func (a *bearerAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	// A typed Authorization header, even an empty one (-H 'Authorization:'
	// sends the request anonymously), is the user's choice.
	if _, typed := req.Header["Authorization"]; typed || req.URL.Scheme != a.scheme || req.URL.Host != a.host {
		return a.next.RoundTrip(req)
	}
	token, err := a.tokens.Token()
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on errors
		}
		return nil, err
	}
	resp, err := a.next.RoundTrip(withToken(req, token))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// The kubelet may have rotated the token since it was read: read it once
	// more and retry, if it differs from the one sent and the body can be sent
	// again. Comparing with the token sent, not Reload's "changed", matters
	// when requests run concurrently (the proxy): the first 401 reloads the
	// file, and the others must still retry with the token it found.
	if _, err := a.tokens.Reload(); err != nil {
		return resp, nil
	}
	fresh, err := a.tokens.Token()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if err != nil || fresh == token || !replayable {
		return resp, nil
	}
	retry := withToken(req, fresh)
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return a.next.RoundTrip(retry)
}

// CloseIdleConnections reaches the http.Transport through the chain;
// http.Client.CloseIdleConnections only calls it on its own RoundTripper.
func (a *bearerAuth) CloseIdleConnections() { closeIdle(a.next) }
func (t *tracer) CloseIdleConnections()     { closeIdle(t.next) }
func (d *defaults) CloseIdleConnections()   { closeIdle(d.next) }

func closeIdle(rt http.RoundTripper) {
	switch r := rt.(type) {
	case interface{ CloseIdleConnections() }:
		r.CloseIdleConnections()
	case interface{ WrappedRoundTripper() http.RoundTripper }: // client-go's impersonation
		closeIdle(r.WrappedRoundTripper())
	}
}

func withToken(req *http.Request, token string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// NetworkError is a failure to reach the server or to read its answer: DNS,
// connect, TLS, timeouts, resets.
type NetworkError struct {
	Err error
}

func (e *NetworkError) Error() string {
	msg := e.Err.Error()
	var verr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(e.Err, &hostErr):
		return msg + " (the server's certificate does not name this host; use --server with a name it does, or -k to skip verification, insecurely)"
	case errors.As(e.Err, &unknownAuthority):
		return msg + " (the server's certificate is not signed by the CA file; -k skips verification, insecurely)"
	case errors.As(e.Err, &verr):
		// Expired, not yet valid, wrong key usage: the CA may be right.
		return msg + " (-k skips verification, insecurely)"
	case errors.Is(e.Err, io.ErrUnexpectedEOF) && msg == io.ErrUnexpectedEOF.Error():
		return "the connection closed before the answer was complete (unexpected EOF)"
	}
	return msg
}

func (e *NetworkError) Unwrap() error { return e.Err }
func (e *NetworkError) ExitCode() int { return exitcode.Network }

// Classify wraps an error from sending a request or reading its body, so the
// caller can tell network failures from credential problems.
func Classify(err error) error {
	var credErr *target.CredentialsError
	var netErr *NetworkError
	if err == nil || errors.As(err, &credErr) || errors.As(err, &netErr) {
		return err
	}
	return &NetworkError{Err: err}
}

// clientGoRoundTripper is the chain for a kubeconfig target: client-go's
// transport, which knows every kind of credential kubeconfig can hold (client
// certificates, exec plugins, token files it refreshes, basic auth,
// proxy-url, tls-server-name), with kcurl's tracer below its authentication
// (WrapTransport) and kcurl's defaults above it, as for every other target.
//
// client-go authenticates every request it is given, wherever it goes; as
// bearerAuth does for a Pod, sentHome keeps the credentials on the target's
// own scheme, host and port, and off a request whose Authorization the user
// removed (-H 'Authorization:'), by marking the request for noCredentials
// below client-go's authentication.
func clientGoRoundTripper(t *target.Target, opts Options) http.RoundTripper {
	cfg := rest.CopyConfig(t.REST)
	cfg.DisableCompression = true // gzip is asked for and decoded by defaults
	// Impersonation is kcurl's to add (t.Impersonate holds the kubeconfig's
	// merged with the flags), above the tracer as for every target: left
	// to client-go too, a group would be sent twice.
	cfg.Impersonate = rest.ImpersonationConfig{}
	connectTimeout := opts.ConnectTimeout
	if connectTimeout <= 0 {
		connectTimeout = 10 * time.Second
	}
	cfg.Dial = (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext
	if opts.HTTP1 {
		cfg.NextProtos = []string{"http/1.1"}
	}
	if opts.Trace != nil {
		w := opts.Trace
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &tracer{next: rt, w: w} })
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &noCredentials{next: rt} })
	if cfg.CertFile != "" && cfg.KeyFile != "" && len(cfg.CertData) == 0 && len(cfg.KeyData) == 0 {
		// client-go loads a certificate and key given as files at each
		// handshake (to follow their rotation), so a bad one would fail as a
		// network error; load them once here to say what is wrong.
		if _, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile); err != nil {
			return failing{&target.CredentialsError{What: "kubeconfig client certificate", Path: cfg.CertFile + " with key " + cfg.KeyFile, Err: err}}
		}
	}
	// A token file is kcurl's to read, not client-go's: client-go caches it
	// for about a minute and never re-reads it after a 401, where kcurl reads
	// it again when it changes and once more after a 401, whatever the
	// source (docs/usage.md#inside-a-pod).
	tokenFile, ownToken := t.Token.(*target.TokenFile)
	if ownToken && cfg.BearerTokenFile != "" {
		cfg.BearerToken, cfg.BearerTokenFile = "", ""
	} else {
		ownToken = false
	}
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return failing{&target.CredentialsError{What: "kubeconfig credentials", Err: err}}
	}
	rt = &sentHome{next: rt, scheme: t.Server.Scheme, host: t.Server.Host}
	if ownToken {
		rt = &bearerAuth{next: rt, tokens: tokenFile, scheme: t.Server.Scheme, host: t.Server.Host}
	}
	return rt
}

// onFirstUse builds client-go's transport for the first request: reading
// and parsing a kubeconfig's certificate and key, and building its TLS
// configuration, would cost a command that never sends a plain request
// (exec, attach and port-forward speak through their own dialers) about
// half a millisecond of its start for nothing.
type onFirstUse struct {
	built   func() http.RoundTripper
	started atomic.Bool
}

func (o *onFirstUse) RoundTrip(req *http.Request) (*http.Response, error) {
	o.started.Store(true)
	return o.built().RoundTrip(req)
}

func (o *onFirstUse) CloseIdleConnections() {
	if o.started.Load() {
		closeIdle(o.built())
	}
}

// withoutCredentials marks a request's context: noCredentials removes the
// Authorization client-go added.
type withoutCredentials struct{}

type sentHome struct {
	next         http.RoundTripper
	scheme, host string
}

func (h *sentHome) RoundTrip(req *http.Request) (*http.Response, error) {
	_, typed := req.Header["Authorization"]
	if typed && req.Header.Get("Authorization") == "" || req.URL.Scheme != h.scheme || req.URL.Host != h.host {
		req = req.WithContext(context.WithValue(req.Context(), withoutCredentials{}, true))
	}
	return h.next.RoundTrip(req)
}

// CloseIdleConnections reaches the http.Transport through client-go's
// wrappers, which do not pass the call on themselves, and kcurl's below them.
func (h *sentHome) CloseIdleConnections() {
	for rt := h.next; rt != nil; {
		switch r := rt.(type) {
		case *noCredentials:
			rt = r.next
		case *tracer:
			rt = r.next
		case interface{ WrappedRoundTripper() http.RoundTripper }:
			rt = r.WrappedRoundTripper()
		case interface{ CloseIdleConnections() }:
			r.CloseIdleConnections()
			return
		default:
			return
		}
	}
}

type noCredentials struct{ next http.RoundTripper }

func (n *noCredentials) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Context().Value(withoutCredentials{}) != nil {
		if _, ok := req.Header["Authorization"]; ok {
			req = req.Clone(req.Context())
			req.Header.Del("Authorization")
		}
	}
	return n.next.RoundTrip(req)
}

// failing answers every request with the error that kept a transport from
// being built (an unreadable client certificate).
type failing struct{ err error }

func (f failing) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, f.err
}
