// Package silent is for tests: a server that takes requests and never
// answers them, as a kubelet that hangs does behind the apiserver's proxy,
// and a way to stop a call to it as SIGINT does.
package silent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// Server is a TLS server that answers nothing. A request's handler ends
// when its client closes the connection, or when the test does.
type Server struct {
	*httptest.Server
	leftOnce sync.Once
	left     chan struct{}
}

// NewServer starts a Server, stopped when t ends.
func NewServer(t testing.TB) *Server {
	s := &Server{left: make(chan struct{})}
	release := make(chan struct{})
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			s.leftOnce.Do(func() { close(s.left) })
		case <-release:
		}
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(release) }) // first, or Close would wait on the handlers
	return s
}

// ClientLeft says whether a client closed its connection within d.
func (s *Server) ClientLeft(d time.Duration) bool {
	select {
	case <-s.left:
		return true
	case <-time.After(d):
		return false
	}
}

// WantStopped fails t unless err is the cause Stop ended the context with,
// and the client has closed its connection to s within 20 s.
func (s *Server) WantStopped(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, ErrStopped) {
		t.Errorf("error %v (%T), want the context's cause", err, err)
	}
	if !s.ClientLeft(20 * time.Second) {
		t.Error("the server still has the connection 20 s after the call stopped")
	}
}

// ErrStopped is the cause Stop ends the context with.
var ErrStopped = errors.New("stopped, as by SIGINT")

// Stop calls fn with a context that ends, with ErrStopped as its cause, a
// moment after fn starts, and returns fn's error; t fails if fn has not
// returned 20 s after that.
func Stop(t testing.TB, fn func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	time.AfterFunc(200*time.Millisecond, func() { cancel(ErrStopped) })
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("still waiting on a silent server 20 s after the context ended")
		return nil
	}
}

// EachPeer runs roundTrip against a silent Server, then through one as its
// HTTPS proxy (a CONNECT never answered), each in a subtest, and stops it
// as SIGINT does: it must end with the context's cause and close its
// connection (WantStopped). roundTrip dials with cfg, cfg.Host its URL.
func EachPeer(t *testing.T, roundTrip func(ctx context.Context, cfg *rest.Config) error) {
	for _, viaProxy := range []bool{false, true} {
		t.Run(fmt.Sprintf("via a proxy %v", viaProxy), func(t *testing.T) {
			srv := NewServer(t)
			cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
			if viaProxy {
				cfg.Host = "https://kubernetes.example:6443"
				cfg.Proxy = func(*http.Request) (*url.URL, error) { return url.Parse(srv.URL) }
			}
			srv.WantStopped(t, Stop(t, func(ctx context.Context) error { return roundTrip(ctx, cfg) }))
		})
	}
}
