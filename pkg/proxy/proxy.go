// Package proxy is kcurl's replacement for kubectl proxy in a sidecar: it
// exposes the API server on localhost to the other containers of the Pod,
// with the Pod's credentials added to every request, behind kubectl proxy's
// filters (host, path, method).
package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// kubectl proxy's defaults (k8s.io/kubectl/pkg/proxy), with port-forward
// rejected too: like exec and attach it hands a shell or a socket of the Pod
// to whoever reaches the proxy.
const (
	DefaultAcceptHosts = `^localhost$,^127\.0\.0\.1$,^\[::1\]$`
	DefaultAcceptPaths = `^.*`
	DefaultRejectPaths = `^/api/.*/pods/.*/exec,^/api/.*/pods/.*/attach,^/api/.*/pods/.*/portforward,^/api/.*/nodes/.*/proxy/(exec|run|attach|portForward)`
	// DefaultMaxClients bounds the connections served at once.
	DefaultMaxClients    = 1024
	DefaultRejectMethods = `^$`
)

// Filter is kubectl proxy's request filter. A request passes when its path
// matches AcceptPaths and no RejectPaths, its method no RejectMethods, and
// its Host header (without the port) AcceptHosts: the last check keeps a web
// page in a browser from reaching the proxy through DNS rebinding.
type Filter struct {
	AcceptHosts, AcceptPaths, RejectPaths, RejectMethods []*regexp.Regexp
}

// Regexps parses kubectl's comma-separated list of regular expressions.
func Regexps(list string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, expr := range strings.Split(list, ",") {
		if expr == "" {
			continue
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q: %v", expr, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func matchesAny(s string, res []*regexp.Regexp) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// Accepts applies the filter to one request.
func (f *Filter) Accepts(r *http.Request) bool {
	return !matchesAny(r.URL.Path, f.RejectPaths) &&
		!matchesAny(r.Method, f.RejectMethods) &&
		matchesAny(r.URL.Path, f.AcceptPaths) &&
		f.acceptsHost(r.Host)
}

// acceptsHost matches the Host header without its port. An IPv6 literal is
// matched bracketed, as the default list spells it: kubectl proxy strips
// the brackets with the port, so that its own ^\[::1\]$ never matches what
// a client of [::1]:8001 sends. The bare form is tried too, so that lists
// written for kubectl (^::1$) keep working.
func (f *Filter) acceptsHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	switch {
	case err != nil:
		return matchesAny(hostport, f.AcceptHosts)
	case strings.Contains(host, ":"):
		return matchesAny("["+host+"]", f.AcceptHosts) || matchesAny(host, f.AcceptHosts)
	}
	return matchesAny(host, f.AcceptHosts)
}

// Options shape the proxy.
type Options struct {
	// APIPrefix is where the API is served ("/" as kubectl's default);
	// it is removed before the request goes on.
	APIPrefix string
	// Filter rejects requests with 403; nil accepts everything
	// (--disable-filter).
	Filter *Filter
	// Log gets one line per request (-v): method, path, status, duration.
	Log io.Writer
	// Errors gets one line per request the proxy could not forward. It may
	// be the same writer as Log: lines are written one at a time.
	Errors io.Writer
	// AllowImpersonation passes a client's Impersonate-User, -Group, -Uid
	// and -Extra-* headers on (--allow-impersonation); by default they are
	// dropped, as Authorization always is.
	AllowImpersonation bool
	// Transport is the chain that adds the Pod's credentials; Upgrade is
	// an HTTP/1.1-only one for exec, attach and port-forward.
	Transport, Upgrade http.RoundTripper
}

// New returns the handler that serves the proxy for t.
func New(t *target.Target, opts Options) http.Handler {
	server := t.Server
	rewrite := func(pr *httputil.ProxyRequest) {
		pr.SetURL(server)
		pr.Out.Host = server.Host
		// The Pod's credentials, and only they, reach the server: whatever a
		// client sends would otherwise be used instead (transport leaves a
		// typed Authorization alone).
		pr.Out.Header.Del("Authorization")
		pr.Out.Header.Del("Proxy-Authorization")
		// Impersonation headers would let any local client act as
		// whichever user, group or service account the Pod may
		// impersonate; they pass only when the proxy was told so.
		if !opts.AllowImpersonation {
			for name := range pr.Out.Header {
				if isImpersonation(name) {
					delete(pr.Out.Header, name)
				}
			}
		}
	}
	lines := &sync.Mutex{} // one for Log and Errors, often both stderr
	onError := errorHandler(opts.Errors, lines)
	// A client that hangs up in the middle of a watch is routine, not worth
	// a line: failures before the answer go to the ErrorHandler instead.
	quiet := log.New(io.Discard, "", 0)
	// Answers of unknown length (watches, logs, every chunked answer) are
	// flushed as each piece arrives: ReverseProxy does that by itself when
	// the length is unknown. Answers with a Content-Length are written whole,
	// which saves a write and the chunked framing on each small request.
	streaming := &httputil.ReverseProxy{
		Rewrite:      rewrite,
		Transport:    opts.Transport,
		ErrorHandler: onError,
		ErrorLog:     quiet,
	}
	upgrading := &httputil.ReverseProxy{
		Rewrite:       rewrite,
		Transport:     opts.Upgrade,
		FlushInterval: -1,
		ErrorHandler:  onError,
		ErrorLog:      quiet,
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opts.Upgrade != nil && isUpgrade(r) {
			upgrading.ServeHTTP(w, r)
			return
		}
		streaming.ServeHTTP(w, r)
	})
	if f := opts.Filter; f != nil {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !f.Accepts(r) {
				http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	if prefix := strings.TrimSuffix(opts.APIPrefix, "/"); prefix != "" {
		h = stripPrefix(prefix, h)
	}
	h = cleanPaths(h)
	if opts.Log != nil {
		h = logRequests(opts.Log, lines, h)
	}
	return h
}

// cleanPaths answers a path with empty, "." or ".." segments with a
// redirect to its clean form, as the ServeMux in front of kubectl proxy
// does. The filter reads the path as written, and what stands behind the
// proxy may not: go-restful ignores leading slashes, a front proxy at a
// --server path may resolve dot segments, and //api/v1/namespaces/ns/pods/
// web/exec would then be exec, past ^/api/.*/pods/.*/exec.
func cleanPaths(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if clean := cleanPath(r.URL.Path); clean != r.URL.Path {
			u := url.URL{Path: clean, RawQuery: r.URL.RawQuery}
			http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// cleanPath is net/http's: path.Clean, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}

// isImpersonation: Impersonate-User, -Group, -Uid, -Extra-KEY, in any case.
func isImpersonation(name string) bool {
	return len(name) >= len("Impersonate-") && strings.EqualFold(name[:len("Impersonate-")], "Impersonate-")
}

func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Connection") {
		for _, token := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(token), "upgrade") {
				return true
			}
		}
	}
	return false
}

// stripPrefix serves only paths under prefix, without it (the leading slash
// kept); others are 404, as with kubectl proxy --api-prefix.
func stripPrefix(prefix string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || (rest != "" && rest[0] != '/') {
			http.NotFound(w, r)
			return
		}
		if rest == "" {
			rest = "/"
		}
		r2 := r.Clone(r.Context())
		r2.URL = &url.URL{Path: rest, RawQuery: r.URL.RawQuery}
		if r.URL.RawPath != "" {
			if raw, ok := strings.CutPrefix(r.URL.RawPath, prefix); ok {
				r2.URL.RawPath = raw
			}
		}
		h.ServeHTTP(w, r2)
	})
}

func errorHandler(w io.Writer, mu *sync.Mutex) func(http.ResponseWriter, *http.Request, error) {
	return func(rw http.ResponseWriter, r *http.Request, err error) {
		if errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
			return // the client went away
		}
		if w != nil {
			mu.Lock()
			fmt.Fprintf(w, "kcurl proxy: %s %s: %v\n", r.Method, r.URL.Path, err)
			mu.Unlock()
		}
		code := http.StatusBadGateway
		var credErr *target.CredentialsError
		if errors.As(err, &credErr) {
			code = http.StatusInternalServerError
		}
		http.Error(rw, "kcurl proxy: "+err.Error(), code)
	}
}

// logRequests writes one line per request; no header, so no credential,
// ever reaches it.
func logRequests(w io.Writer, mu *sync.Mutex, h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: rw, status: http.StatusOK}
		// Deferred: a stream cut short (the client left in the middle of a
		// watch) ends the handler with http.ErrAbortHandler's panic, and is
		// a request all the same.
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "%s %s %d %s\n", r.Method, r.URL.RequestURI(), rec.status, time.Since(start).Round(time.Millisecond))
		}()
		h.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// WriteHeader records the final status: informational ones (103 Early
// Hints, which ReverseProxy passes on) come before it.
func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

// Hijack hands the connection over for an upgrade: ReverseProxy writes the
// server's 101 Switching Protocols on it directly, so it is recorded here.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err == nil && !s.wrote {
		s.status, s.wrote = http.StatusSwitchingProtocols, true
	}
	return conn, brw, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack beneath.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Transports builds the two chains the proxy forwards through, both with
// kcurl's transport (the token re-read as it rotates, TLS against the CA
// file): one as the client asked (HTTP/2), one HTTP/1.1 for upgrades.
//
// A 401 after the token rotated between reading it and the server checking
// it is retried with the new token only for requests without a body (GET,
// DELETE, watches, upgrades): a body (POST, PUT, PATCH) streams from the
// client to the server and is not kept, so that client gets the 401, and
// its own retry goes out with the new token.
func Transports(t *target.Target, opts transport.Options) (streaming, upgrade http.RoundTripper) {
	opts.Compress = false // the client's Accept-Encoding goes through untouched
	streaming = transport.RoundTripper(t, opts)
	opts.HTTP1 = true
	return streaming, transport.RoundTripper(t, opts)
}

// LimitListener accepts at most n connections at once: more clients wait in
// the kernel's backlog until one goes, instead of each costing a goroutine,
// buffers and a connection to the API server (5,000 clients once made 4,700
// of them and 552 MB).
func LimitListener(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots chan struct{}
	done  chan struct{}
	once  sync.Once
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: sync.OnceFunc(func() { <-l.slots })}, nil
}

type limitConn struct {
	net.Conn
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
