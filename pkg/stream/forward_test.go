package stream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/rest"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/stream/internal/silent"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// A port-forward whose upgrade the server never answers (the apiserver
// proxies it to a kubelet that hangs) stops when its context ends, as on
// SIGINT, and closes the connection: client-go's dialers make their
// requests without a context, and kubectl port-forward waits on there
// past SIGINT.
func TestForwardStopsOnASilentServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context, srv *silent.Server) error
	}{
		{"port-forward", func(ctx context.Context, srv *silent.Server) error {
			d := silentDialer(t, ctx, srv)
			f := &Forwarder{Dialer: d, Ports: []Port{{Remote: 8080}}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
			return f.Run(ctx)
		}},
		{"a raw portforward PATH", func(ctx context.Context, srv *silent.Server) error {
			return Pipe(ctx, silentDialer(t, ctx, srv), 8080, strings.NewReader(""), &bytes.Buffer{})
		}},
		// An HTTPS proxy that never answers the CONNECT.
		{"through an HTTPS proxy", func(ctx context.Context, srv *silent.Server) error {
			d := silentDialer(t, ctx, srv, func(cfg *rest.Config) {
				proxy, _ := url.Parse(srv.URL)
				cfg.Proxy = http.ProxyURL(proxy)
			})
			f := &Forwarder{Dialer: d, Ports: []Port{{Remote: 8080}}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
			return f.Run(ctx)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := silent.NewServer(t)
			if err := silent.Stop(t, func(ctx context.Context) error { return tc.run(ctx, srv) }); err != nil {
				t.Errorf("error %v, want none (stopped, as on SIGINT)", err)
			}
			if !srv.ClientLeft(20 * time.Second) {
				t.Error("the server still has the connection 20 s after the forwarder stopped")
			}
		})
	}
}

func silentDialer(t *testing.T, ctx context.Context, srv *silent.Server, options ...func(*rest.Config)) httpstream.Dialer {
	t.Helper()
	server, _ := url.Parse(srv.URL)
	cfg, err := transport.RESTConfig(&target.Target{Server: server, Insecure: true}, transport.Options{UserAgent: "kcurl/test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, option := range options {
		option(cfg)
	}
	u, _ := url.Parse(srv.URL + "/api/v1/namespaces/ns/pods/web/portforward")
	d, err := Dialer(ctx, cfg, u)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fakeTunnel is an upgraded port-forward connection on which every
// connection's error stream says refusal: a Pod whose port is closed, or
// whose sandbox is gone.
type fakeTunnel struct {
	refusal string
	closed  chan bool
}

func (c *fakeTunnel) CreateStream(headers http.Header) (httpstream.Stream, error) {
	s := &fakeStream{headers: headers}
	if headers.Get(headerStreamType) == streamTypeError {
		s.Reader = strings.NewReader(c.refusal)
	} else {
		s.Reader = strings.NewReader("")
	}
	return s, nil
}
func (c *fakeTunnel) Close() error                       { return nil }
func (c *fakeTunnel) CloseChan() <-chan bool             { return c.closed }
func (c *fakeTunnel) SetIdleTimeout(time.Duration)       {}
func (c *fakeTunnel) RemoveStreams(...httpstream.Stream) {}
func (c *fakeTunnel) Dial(...string) (httpstream.Connection, string, error) {
	return c, protocolV1, nil
}

type fakeStream struct {
	io.Reader
	headers http.Header
}

func (s *fakeStream) Write(p []byte) (int, error) { return len(p), nil }
func (s *fakeStream) Close() error                { return nil }
func (s *fakeStream) Reset() error                { return nil }
func (s *fakeStream) Headers() http.Header        { return s.headers }
func (s *fakeStream) Identifier() uint32          { return 0 }

// forwarding runs f until stop, and gives the addresses it listens on.
func forwarding(t *testing.T, f *Forwarder) (addrs []net.Addr, result <-chan error, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan []net.Addr, 1), make(chan error, 1)
	f.Ready = func(a []net.Addr) { ready <- a }
	go func() { done <- f.Run(ctx) }()
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("Run ended before it listened: %v", err)
	}
	t.Cleanup(cancel)
	return addrs, done, cancel
}

// A connection the Pod refuses is said and ends alone; when the Pod is
// gone (deleted, replaced by a rollout), the forwarder ends: every later
// connection would fail, and a loop around kcurl port-forward would never
// reach the new Pod.
func TestForwardEndsWhenThePodIsGone(t *testing.T) {
	for _, tc := range []struct {
		name string
		gone error
	}{
		{"the port refused", nil},
		{"the Pod gone", errors.New("pod web was deleted")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tunnel := &fakeTunnel{refusal: `failed to find sandbox "1234" in store: not found`, closed: make(chan bool)}
			var errOut syncBuffer
			f := &Forwarder{Dialer: tunnel, Ports: []Port{{Remote: 8080}}, Out: io.Discard, ErrOut: &errOut,
				PodGone: func(context.Context) error { return tc.gone }}
			addrs, result, stop := forwarding(t, f)
			for i := 0; i < 2; i++ {
				if c, err := net.Dial("tcp", addrs[0].String()); err == nil {
					io.Copy(io.Discard, c)
					c.Close()
				}
			}
			select {
			case err := <-result:
				code, _ := exitcode.Of(err)
				if tc.gone == nil || !errors.Is(err, ErrLostConnection) || code != exitcode.Network || !strings.Contains(err.Error(), "lost connection to pod: pod web was deleted") {
					t.Errorf("Run: %v (exit %d)", err, code)
				}
			case <-time.After(2 * time.Second):
				if tc.gone != nil {
					t.Error("Run goes on after the Pod is gone")
				}
				stop()
				if err := <-result; err != nil {
					t.Errorf("Run: %v after it was stopped", err)
				}
			}
			if !strings.Contains(errOut.String(), "failed to find sandbox") {
				t.Errorf("stderr %q does not say why the connection failed", errOut.String())
			}
		})
	}
}

// A client that retries a port nothing listens on yet (an app still
// starting) fails many connections a second: the Pod is read again at most
// once a second, not for each.
func TestForwardReadsThePodAtMostOnceASecond(t *testing.T) {
	tunnel := &fakeTunnel{refusal: "connection refused", closed: make(chan bool)}
	var asked atomic.Int32
	f := &Forwarder{Dialer: tunnel, Ports: []Port{{Remote: 8080}}, Out: io.Discard, ErrOut: io.Discard,
		PodGone: func(context.Context) error { asked.Add(1); return nil }}
	addrs, _, _ := forwarding(t, f)
	start := time.Now()
	for i := 0; i < 20; i++ {
		if c, err := net.Dial("tcp", addrs[0].String()); err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}
	time.Sleep(100 * time.Millisecond) // the last connection's goroutine
	// Once, and once more for each second the connections took (a loaded
	// machine).
	took := time.Since(start)
	if n, most := asked.Load(), 1+int32(took/podCheckInterval); n < 1 || n > most {
		t.Errorf("20 failed connections in %v read the Pod %d times, want 1 to %d", took, n, most)
	}
}

// :REMOTE on several addresses listens on one free port, picked on the
// first, as kubectl does.
func TestForwardPicksOneFreePortForEveryAddress(t *testing.T) {
	tunnel := &fakeTunnel{closed: make(chan bool)}
	var out syncBuffer
	f := &Forwarder{Dialer: tunnel, Addresses: []string{"127.0.0.1", "127.0.0.2"}, Ports: []Port{{Remote: 8080}}, Out: &out, ErrOut: io.Discard}
	addrs, _, _ := forwarding(t, f)
	if len(addrs) != 2 || addrs[0].(*net.TCPAddr).Port != addrs[1].(*net.TCPAddr).Port {
		t.Errorf("listening on %v, want one port on both addresses\n%s", addrs, out.String())
	}
}

// syncBuffer is a bytes.Buffer for several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Each address is listened on in its own family, as kubectl does: 0.0.0.0
// with "tcp" would be an IPv6 socket that takes [::] too
// (e2e port-forward-address-family).
func TestListenFamily(t *testing.T) {
	for host, want := range map[string]string{"0.0.0.0": "tcp4", "127.0.0.1": "tcp4", "::": "tcp6", "::1": "tcp6", "fe80::1": "tcp6"} {
		if got := ipFamily(host); got != want {
			t.Errorf("ipFamily(%q) = %s, want %s", host, got, want)
		}
	}
}
