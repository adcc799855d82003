// Package wsconn is client-go's transport/websocket, the WebSocket upgrade
// under exec, attach and port-forward's tunnel, with one difference: the
// answer of a server that refuses the upgrade is kept with the error, so
// that -v prints it (its status line and headers, Audit-Id among them) as it
// prints every other answer. client-go's round tripper reads that answer
// into the error's text and drops it, and -v showed the upgrade request
// followed by no response at all.
//
// kcurl's own file (not a copy); RoundTrip follows client-go v0.37.2's line
// for line otherwise (UPSTREAM.md).
package wsconn

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	gwebsocket "github.com/gorilla/websocket"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

// ConnectionHolder gives the WebSocket connection a round trip made.
type ConnectionHolder interface {
	DataBufferSize() int
	Connection() *gwebsocket.Conn
}

// RoundTripper dials a WebSocket upgrade once (it must not be reused) and
// keeps the connection for Negotiate.
type RoundTripper struct {
	TLSConfig *tls.Config
	Proxier   func(req *http.Request) (*url.URL, error)
	Conn      *gwebsocket.Conn
}

var (
	_ utilnet.TLSClientConfigHolder = &RoundTripper{}
	_ http.RoundTripper             = &RoundTripper{}
	_ ConnectionHolder              = &RoundTripper{}
)

// RefusedUpgrade is the error of an upgrade that gave no connection kcurl
// can speak on: the server answered without switching protocols, or
// switched to a protocol kcurl did not offer. Err is client-go's (an
// UpgradeFailureError whose Cause is the server's Status when it sent one),
// Response the answer, its body already read into Err.
type RefusedUpgrade struct {
	Response *http.Response
	Err      error
}

func (e *RefusedUpgrade) Error() string { return e.Err.Error() }
func (e *RefusedUpgrade) Unwrap() error { return e.Err }

// UpgradeResponse is the server's answer, for -v (pkg/transport's tracer
// looks for this method, so that it needs no import of this package).
func (e *RefusedUpgrade) UpgradeResponse() *http.Response { return e.Response }

// RoundTripperFor is client-go's websocket.RoundTripperFor with this
// package's RoundTripper.
func RoundTripperFor(config *rest.Config) (http.RoundTripper, ConnectionHolder, error) {
	transportCfg, err := config.TransportConfig()
	if err != nil {
		return nil, nil, err
	}
	tlsConfig, err := transport.TLSConfigFor(transportCfg)
	if err != nil {
		return nil, nil, err
	}
	proxy := config.Proxy
	if proxy == nil {
		proxy = utilnet.NewProxierWithNoProxyCIDR(http.ProxyFromEnvironment)
	}
	upgradeRoundTripper := &RoundTripper{TLSConfig: tlsConfig, Proxier: proxy}
	wrapper, err := transport.HTTPWrappersForConfig(transportCfg, upgradeRoundTripper)
	if err != nil {
		return nil, nil, err
	}
	return wrapper, upgradeRoundTripper, nil
}

// Negotiate is client-go's websocket.Negotiate: the upgrade through rt,
// whose innermost round tripper is connectionInfo, and the connection.
func Negotiate(rt http.RoundTripper, connectionInfo ConnectionHolder, req *http.Request, protocols ...string) (*gwebsocket.Conn, error) {
	req.Header[wsstream.WebSocketProtocolHeader] = protocols
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if err := resp.Body.Close(); err != nil {
		connectionInfo.Connection().Close()
		return nil, fmt.Errorf("error closing response body: %v", err)
	}
	return connectionInfo.Connection(), nil
}

func (rt *RoundTripper) TLSClientConfig() *tls.Config { return rt.TLSConfig }
func (rt *RoundTripper) Connection() *gwebsocket.Conn { return rt.Conn }
func (rt *RoundTripper) DataBufferSize() int          { return 32 * 1024 }

func (rt *RoundTripper) RoundTrip(request *http.Request) (retResp *http.Response, retErr error) {
	defer func() {
		if request.Body != nil {
			err := request.Body.Close()
			if retErr == nil {
				retErr = err
			}
		}
	}()

	// The protocols go to the dialer, which sends them itself.
	protocolVersions := request.Header[wsstream.WebSocketProtocolHeader]
	delete(request.Header, wsstream.WebSocketProtocolHeader)

	dial, stopWatching := closedWhenDone()
	dialer := gwebsocket.Dialer{
		NetDialContext:  dial,
		Proxy:           rt.Proxier,
		TLSClientConfig: rt.TLSConfig,
		Subprotocols:    protocolVersions,
		// Room for the byte naming each message's channel.
		ReadBufferSize:  rt.DataBufferSize() + 1024,
		WriteBufferSize: rt.DataBufferSize() + 1024,
	}
	switch request.URL.Scheme {
	case "https":
		request.URL.Scheme = "wss"
	case "http":
		request.URL.Scheme = "ws"
	default:
		return nil, fmt.Errorf("unknown url scheme: %s", request.URL.Scheme)
	}
	ctx := request.Context()
	wsConn, resp, err := dialer.DialContext(ctx, request.URL.String(), request.Header)
	if !stopWatching() {
		// ctx ended before the answer, and the connection was closed
		// under the dialer: the error is ctx's, not a closed read's.
		if err == nil {
			wsConn.Close() // nolint:errcheck
		}
		return nil, context.Cause(ctx)
	}
	if err != nil {
		// A bad handshake is an UpgradeFailureError, which the executors
		// fall back to SPDY on.
		if !errors.Is(err, gwebsocket.ErrBadHandshake) {
			return nil, err
		}
		if resp == nil || resp.Status == "" {
			return nil, &httpstream.UpgradeFailureError{Cause: err}
		}
		defer resp.Body.Close() //nolint:errcheck
		cause := RefusalCause(fmt.Errorf("%w (%s)", err, resp.Status), resp.Body)
		answer := *resp
		answer.Body = http.NoBody
		return nil, &RefusedUpgrade{Response: &answer, Err: &httpstream.UpgradeFailureError{Cause: cause}}
	}

	foundProtocol := false
	for _, protocolVersion := range protocolVersions {
		if protocolVersion == wsConn.Subprotocol() {
			foundProtocol = true
			break
		}
	}
	if !foundProtocol {
		wsConn.Close() // nolint:errcheck
		// The 101 goes with the error: -v shows which protocol (or none)
		// the server switched to.
		answer := *resp
		answer.Body = http.NoBody
		return nil, &RefusedUpgrade{Response: &answer, Err: &httpstream.UpgradeFailureError{Cause: fmt.Errorf("invalid protocol, expected one of %q, got %q", protocolVersions, wsConn.Subprotocol())}}
	}
	rt.Conn = wsConn
	return resp, nil
}

// closedWhenDone is a dial function for gorilla's Dialer that closes the
// connection it makes when the dial's context ends, until stop is called.
// gorilla honours the context only while it connects and shakes hands (TLS):
// waiting for the upgrade's answer it reads with no deadline, and a server
// (or a kubelet behind it) that never answers held kcurl past SIGINT, which
// ends the context. stop says whether the connection is still kcurl's to
// use (false once the context has ended and it was closed). The dial gets
// the context given to DialContext only while the Dialer sets no
// HandshakeTimeout (gorilla would derive one it cancels on return).
func closedWhenDone() (dial func(ctx context.Context, network, addr string) (net.Conn, error), stop func() bool) {
	var stopClosing func() bool
	dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			stopClosing = context.AfterFunc(ctx, func() { conn.Close() }) //nolint:errcheck
		}
		return conn, err
	}
	stop = func() bool {
		if stopClosing == nil {
			return true
		}
		return stopClosing()
	}
	return dial, stop
}

// RefusalCause is client-go's: the server's Status when the body is one,
// else the body's text after cause. spdyconn says SPDY's refusals with it
// too.
func RefusalCause(cause error, body io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(body, 64*1024))
	if err != nil {
		return fmt.Errorf("%w: unable to read error from server response", cause)
	}
	text := strings.TrimSpace(string(b))
	if text == "" {
		return cause
	}
	// client-go decodes with a scheme that knows only Status (it also takes
	// a JSON object naming no kind, as an empty Status; the text says more).
	var status metav1.Status
	if json.Unmarshal(b, &status) == nil && status.Kind == "Status" {
		return &apierrors.StatusError{ErrStatus: status}
	}
	return fmt.Errorf("%w: %s", cause, text)
}
