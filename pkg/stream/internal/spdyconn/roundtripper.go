package spdyconn

// kcurl's own file (not a copy): plain SPDY, the fallback for a server
// that cannot upgrade to a WebSocket, on this package's spdystream copy.

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/rest"
	streamspdy "k8s.io/streaming/pkg/httpstream/spdy"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/stream/internal/wsconn"
)

// pingPeriod is client-go's for SPDY (transport/spdy.RoundTripperFor).
const pingPeriod = 5 * time.Second

// RoundTripper is the streaming module's SPDY round tripper, which dials
// (through a proxy, over TLS), sends the upgrade request and turns a
// refusal into an error, with the upgraded connection made by this
// package: its frames' payloads come from a pool, where the module's
// spdystream allocates every one, and a long port-forward's memory grew
// with what it carried (docs/performance.md). Like the module's, it is
// used for one request.
type RoundTripper struct {
	*streamspdy.SpdyRoundTripper
	conn    net.Conn
	dialing dialWatch
}

// RoundTripperFor is client-go's transport/spdy.RoundTripperFor with this
// package's RoundTripper as the upgrader: the http.RoundTripper to send the
// upgrade through (cfg's credentials and wrappers) and the upgrader itself.
func RoundTripperFor(cfg *rest.Config) (http.RoundTripper, *RoundTripper, error) {
	tlsConfig, err := rest.TLSConfigFor(cfg)
	if err != nil {
		return nil, nil, err
	}
	proxy := http.ProxyFromEnvironment
	if cfg.Proxy != nil {
		proxy = cfg.Proxy
	}
	module, err := streamspdy.NewRoundTripperWithConfig(streamspdy.RoundTripperConfig{
		TLS:        tlsConfig,
		Proxier:    proxy,
		PingPeriod: pingPeriod,
	})
	if err != nil {
		return nil, nil, err
	}
	upgrader := &RoundTripper{SpdyRoundTripper: module}
	module.Dialer = &net.Dialer{ControlContext: upgrader.dialing.control}
	wrapped, err := rest.HTTPWrappersForConfig(cfg, upgrader)
	if err != nil {
		return nil, nil, err
	}
	return wrapped, upgrader, nil
}

// RoundTrip is the module's, keeping the connection for NewConnection.
func (rt *RoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header = req.Header.Clone()
	req.Header.Add(httpstream.HeaderConnection, httpstream.HeaderUpgrade)
	req.Header.Add(httpstream.HeaderUpgrade, streamspdy.HeaderSpdy31)
	rt.dialing.watch(req.Context())
	conn, err := rt.Dial(req)
	if !rt.dialing.stop() {
		if err == nil {
			conn.Close()
		}
		return nil, context.Cause(req.Context())
	}
	if err != nil {
		return nil, err
	}
	// The module's Dial honours the context while it connects and shakes
	// hands; the answer is read with no deadline. Closing the connection
	// when the context ends (SIGINT) stops a server that never answers
	// from holding kcurl.
	stopClosing := context.AfterFunc(req.Context(), func() { conn.Close() })
	// With req, the answer's Request is what was sent, the upgrade's
	// headers too, as -v shows it (pkg/transport's tracer).
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if !stopClosing() {
		return nil, context.Cause(req.Context())
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	rt.conn = conn
	return resp, nil
}

// dialWatch shuts down the connections the module's Dial makes when the
// request's context ends (SIGINT) before Dial returns. Through an HTTP
// proxy, the module reads the answer to its CONNECT with no deadline, and a
// proxy that never answered held kcurl; the other steps of its Dial honour
// the context. A net.Dialer's ControlContext is the module's one hook: it
// sees each socket before its connect. Its context is not the request's
// but the dial's, which net cancels as the dial returns (a deadline per
// address, the fallback address family's race), so the watch takes the
// request's from RoundTrip.
type dialWatch struct {
	mu    sync.Mutex
	ctx   context.Context // the request's; nil: no watch
	stops []func() bool
}

// watch makes the sockets dialled from now on shut down when ctx ends.
func (w *dialWatch) watch(ctx context.Context) {
	w.mu.Lock()
	w.ctx = ctx
	w.mu.Unlock()
}

func (w *dialWatch) control(_ context.Context, _, _ string, socket syscall.RawConn) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx == nil {
		return nil
	}
	w.stops = append(w.stops, context.AfterFunc(w.ctx, func() {
		// Control refuses a closed connection, so this never reaches a
		// descriptor that has since been reused.
		socket.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_RDWR) }) //nolint:errcheck
	}))
	return nil
}

// stop ends the watch once Dial has returned, and says whether what it
// returned is still kcurl's to use (false once the request's context has
// ended, and a connection may have been shut down under it).
func (w *dialWatch) stop() bool {
	w.mu.Lock()
	stops := w.stops
	w.ctx, w.stops = nil, nil
	w.mu.Unlock()
	ours := true
	for _, stop := range stops {
		if !stop() {
			ours = false
		}
	}
	return ours
}

// NewConnection speaks SPDY on the upgraded connection. A response that
// is not the upgrade is a Refusal: the server's Status when its body is
// one, else the module's words with the body (wsconn.RefusalCause, as the
// WebSocket upgrade's), and its status code for kcurl's exit code.
func (rt *RoundTripper) NewConnection(resp *http.Response) (httpstream.Connection, error) {
	connection := strings.ToLower(resp.Header.Get(httpstream.HeaderConnection))
	upgrade := strings.ToLower(resp.Header.Get(httpstream.HeaderUpgrade))
	if resp.StatusCode != http.StatusSwitchingProtocols ||
		!strings.Contains(connection, strings.ToLower(httpstream.HeaderUpgrade)) ||
		!strings.Contains(upgrade, strings.ToLower(streamspdy.HeaderSpdy31)) {
		defer resp.Body.Close() //nolint:errcheck
		return nil, &Refusal{StatusCode: resp.StatusCode, Err: wsconn.RefusalCause(errUpgradeRefused, resp.Body)}
	}
	return NewClientConnectionWithPings(rt.conn, pingPeriod)
}

// errUpgradeRefused is the module's words for an answer that is not the
// upgrade.
var errUpgradeRefused = errors.New("unable to upgrade connection")

// Refusal is the server's answer to the upgrade when it is not one: a 4xx
// is exit 4 and a 5xx exit 5 also when its body is text, not a Status (the
// kubelet's "container not found", the apiserver's "you must specify at
// least 1 of stdin, stdout, stderr"), as for every other request.
type Refusal struct {
	StatusCode int
	Err        error
}

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }
func (r *Refusal) ExitCode() int {
	switch {
	case r.StatusCode >= 500:
		return exitcode.HTTP5xx
	case r.StatusCode >= 400:
		return exitcode.HTTP4xx
	}
	return exitcode.Failed
}
