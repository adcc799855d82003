package wsconn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gwebsocket "github.com/gorilla/websocket"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/kcurl/kcurl/pkg/stream/internal/silent"
)

// A server as the apiserver is: an upgrade with the config's credentials
// and a protocol it speaks is switched; an exec the user may not make is
// refused with a Status; a proxy in the way answers with text.
func newServer(t *testing.T) *httptest.Server {
	upgrader := gwebsocket.Upgrader{Subprotocols: []string{"v5.channel.k8s.io"}}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer the-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/forbidden":
			w.Header().Set("Audit-Id", "a1b2")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"web\" is forbidden: User \"u\" cannot get resource \"pods/exec\"","reason":"Forbidden","code":403}`)
		case "/text":
			http.Error(w, "the proxy says no", http.StatusBadGateway)

		default:
			conn, err := upgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer conn.Close()
			kind, msg, err := conn.ReadMessage()
			if err == nil {
				conn.WriteMessage(kind, msg) // echo one message
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func negotiate(t *testing.T, srv *httptest.Server, path string, protocols ...string) (*gwebsocket.Conn, error) {
	t.Helper()
	return negotiateWithin(t, context.Background(), srv, path, protocols...)
}

func negotiateWithin(t *testing.T, ctx context.Context, srv *httptest.Server, path string, protocols ...string) (*gwebsocket.Conn, error) {
	t.Helper()
	cfg := &rest.Config{Host: srv.URL, BearerToken: "the-token", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	rt, holder, err := RoundTripperFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Negotiate(rt, holder, req, protocols...)
}

func TestNegotiateSwitchesProtocols(t *testing.T) {
	conn, err := negotiate(t, newServer(t), "/exec", "v5.channel.k8s.io", "v4.channel.k8s.io")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := conn.Subprotocol(); got != "v5.channel.k8s.io" {
		t.Errorf("protocol %q, want v5.channel.k8s.io", got)
	}
	if err := conn.WriteMessage(gwebsocket.BinaryMessage, []byte("\x00hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != "\x00hi" {
		t.Errorf("echo: %q, %v", msg, err)
	}
}

// The refusal is an UpgradeFailureError (the executors fall back to SPDY
// on it) whose Cause is the server's Status, as with client-go, and the
// answer itself travels with it for -v.
func TestRefusalKeepsTheAnswer(t *testing.T) {
	_, err := negotiate(t, newServer(t), "/forbidden", "v5.channel.k8s.io")
	if !httpstream.IsUpgradeFailure(err) {
		t.Fatalf("error %v (%T), want an UpgradeFailureError", err, err)
	}
	var failure *httpstream.UpgradeFailureError
	errors.As(err, &failure)
	if !apierrors.IsForbidden(failure.Cause) || !strings.Contains(failure.Cause.Error(), `cannot get resource "pods/exec"`) {
		t.Errorf("cause %v (%T), want the server's Forbidden Status", failure.Cause, failure.Cause)
	}
	var refused interface{ UpgradeResponse() *http.Response }
	if !errors.As(err, &refused) {
		t.Fatalf("error %T carries no answer", err)
	}
	resp := refused.UpgradeResponse()
	if resp.Proto != "HTTP/1.1" || resp.Status != "403 Forbidden" || resp.Header.Get("Audit-Id") != "a1b2" {
		t.Errorf("answer %s %s, Audit-Id %q", resp.Proto, resp.Status, resp.Header.Get("Audit-Id"))
	}
	if n, _ := resp.Body.Read(make([]byte, 1)); n != 0 {
		t.Error("the answer's body was read into the error, and is empty here")
	}
}

func TestRefusalInText(t *testing.T) {
	_, err := negotiate(t, newServer(t), "/text", "v5.channel.k8s.io")
	var failure *httpstream.UpgradeFailureError
	if !errors.As(err, &failure) {
		t.Fatalf("error %v (%T), want an UpgradeFailureError", err, err)
	}
	want := "websocket: bad handshake (502 Bad Gateway): the proxy says no"
	if got := failure.Cause.Error(); got != want {
		t.Errorf("cause %q, want %q", got, want)
	}
}

// A server that switches protocols without one the client offered (no
// Sec-WebSocket-Protocol): not a connection kcurl can speak on. Its 101
// travels with the error, for -v.
func TestUnaskedProtocol(t *testing.T) {
	_, err := negotiate(t, newServer(t), "/exec", "v4.channel.k8s.io")
	if !httpstream.IsUpgradeFailure(err) {
		t.Fatalf("error %v (%T), want an UpgradeFailureError", err, err)
	}
	want := `invalid protocol, expected one of ["v4.channel.k8s.io"], got ""`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to say %q", err, want)
	}
	var refused interface{ UpgradeResponse() *http.Response }
	if !errors.As(err, &refused) {
		t.Fatalf("error %T carries no answer", err)
	}
	resp := refused.UpgradeResponse()
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "websocket" || resp.Header.Get("Sec-WebSocket-Protocol") != "" {
		t.Errorf("answer %s, Upgrade %q, protocol %q", resp.Status, resp.Header.Get("Upgrade"), resp.Header.Get("Sec-WebSocket-Protocol"))
	}
}

// A server that never answers the upgrade (a kubelet that hangs behind the
// apiserver), or an HTTPS proxy that never answers the CONNECT: the round
// trip ends when its context does (SIGINT), with the context's cause, and
// closes the connection, which the silent one sees.
func TestSilentUntilTheContextEnds(t *testing.T) {
	silent.EachPeer(t, func(ctx context.Context, cfg *rest.Config) error {
		rt, holder, err := RoundTripperFor(cfg)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/exec", nil)
		if err != nil {
			return err
		}
		_, err = Negotiate(rt, holder, req, "v5.channel.k8s.io")
		return err
	})
}
