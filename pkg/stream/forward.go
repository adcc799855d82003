package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport/spdy"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/stream/internal/portforward"
	"github.com/kcurl/kcurl/pkg/stream/internal/spdyconn"
)

// The port-forward protocol's stream headers (k8s.io/api/core/v1's
// constants, spelt out).
const (
	protocolV1        = "portforward.k8s.io"
	headerStreamType  = "streamType"
	headerPort        = "port"
	headerRequestID   = "requestID"
	streamTypeError   = "error"
	streamTypeData    = "data"
	networkClosedText = "use of closed network connection"
)

// Dialer connects to a portforward URL as kubectl does: SPDY tunnelled
// over a WebSocket (KEP-4006) first, plain SPDY when the server refuses
// the WebSocket upgrade itself. Both run on kcurl's copy of spdystream
// (pooled frames, DEBUG never read: pkg/stream/internal/UPSTREAM.md).
//
// client-go's dialers make their upgrade requests without a context; they
// are made in ctx here, so that an upgrade the server has not answered
// when ctx ends (SIGINT) is given up and its connection closed.
func Dialer(ctx context.Context, cfg *rest.Config, u *url.URL) (httpstream.Dialer, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return requestsIn{ctx: ctx, next: rt} })
	rt, upgrader, err := spdyconn.RoundTripperFor(cfg)
	if err != nil {
		return nil, err
	}
	plain := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, "POST", u)
	tunnel, err := portforward.NewSPDYOverWebsocketDialer(u, cfg)
	if err != nil {
		return nil, err
	}
	return portforward.NewFallbackDialer(tunnel, plain, shouldFallback), nil
}

// requestsIn sends every request in ctx.
type requestsIn struct {
	ctx  context.Context
	next http.RoundTripper
}

func (r requestsIn) RoundTrip(req *http.Request) (*http.Response, error) {
	return r.next.RoundTrip(req.WithContext(r.ctx))
}

// Port is one LOCAL:REMOTE pair; Local 0 picks a free port.
type Port struct {
	Local, Remote uint16
}

// ParsePorts reads kubectl's [LOCAL:]REMOTE forms (":REMOTE" picks a free
// local port). A REMOTE that is a name is looked up by named, which knows
// the names of what (a container port, a Service port) that owner has
// ("Pod 'web'", "Service 'web'"); a name it lacks is said in kubectl's
// words, exit 2, as a container the Pod lacks.
func ParsePorts(args []string, named func(string) (int32, bool), what, owner string) ([]Port, error) {
	var ports []Port
	for _, a := range args {
		local, remote, pair := strings.Cut(a, ":")
		if !pair {
			local, remote = a, a
		}
		r, err := strconv.ParseUint(remote, 10, 16)
		// A name as Kubernetes names ports (IANA_SVC_NAME), not a number
		// typed wrong (70000, 8o80 stay "invalid port").
		if err != nil && named != nil && len(validation.IsValidPortName(remote)) == 0 {
			n, ok := named(remote)
			if !ok {
				return nil, exitcode.Targetf("%s does not have a named port '%s'", owner, remote)
			}
			r, err = uint64(n), nil
			if !pair {
				local = strconv.Itoa(int(n))
			}
		}
		if err != nil || r == 0 {
			return nil, exitcode.Usagef("invalid port %q in %q: REMOTE is a port number (1-65535) or a %s's name", remote, a, what)
		}
		l := uint64(0)
		if local != "" {
			if l, err = strconv.ParseUint(local, 10, 16); err != nil {
				return nil, exitcode.Usagef("invalid local port %q in %q", local, a)
			}
		}
		ports = append(ports, Port{Local: uint16(l), Remote: uint16(r)})
	}
	return ports, nil
}

// Forwarder listens on local ports and forwards each connection to the
// Pod's port over one upgraded connection, as kubectl port-forward does;
// unlike client-go's forwarder, a connection the Pod refuses is reported
// and ends alone: the others, and the listeners, go on.
type Forwarder struct {
	Dialer    httpstream.Dialer
	Addresses []string // 127.0.0.1 by default; localhost is both loopbacks
	Ports     []Port
	// Out gets kubectl's "Forwarding from …" and "Handling connection for
	// …" lines; ErrOut the errors of single connections.
	Out, ErrOut io.Writer
	// Ready, if set, is called with the listeners' addresses once they
	// listen.
	Ready func([]net.Addr)
	// PodGone, if set, is asked after a connection failed whether the Pod
	// went away (deleted, replaced, no longer running: Pods.Gone); an
	// answer ends Run with ErrLostConnection. Another failure (nothing
	// listens on the port yet) ends that connection alone.
	PodGone func(context.Context) error

	conn      httpstream.Connection
	requestID atomic.Int64
	mu        sync.Mutex // Out and ErrOut
	gone      chan error
	checked   atomic.Int64 // when PodGone was last asked (Unix nanoseconds)
}

// podCheckInterval: PodGone is asked at most once in it. A client that
// retries a port nothing listens on yet (an app still starting) fails many
// connections a second; each would read the Pod again.
const podCheckInterval = time.Second

// ErrLostConnection is the upgraded connection ending under the forwarder
// (the Pod or its node went away).
var ErrLostConnection = errors.New("lost connection to pod")

// Run forwards until ctx ends (nil) or the connection to the Pod is lost.
func (f *Forwarder) Run(ctx context.Context) error {
	conn, err := dial(f.Dialer)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before the server answered
		}
		return err
	}
	f.conn, f.gone = conn, make(chan error, 1)
	defer conn.Close()
	addresses := f.Addresses
	if len(addresses) == 0 {
		addresses = []string{"127.0.0.1"}
	}
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	var addrs []net.Addr
	for _, p := range f.Ports {
		opened := 0
		for _, a := range addresses {
			hosts := []string{a}
			if a == "localhost" {
				hosts = []string{"127.0.0.1", "::1"}
			}
			for _, h := range hosts {
				l, err := net.Listen(ipFamily(h), net.JoinHostPort(h, strconv.Itoa(int(p.Local))))
				if err != nil {
					if a != "localhost" || h == "127.0.0.1" {
						f.printf(f.ErrOut, "Unable to listen on %s: %v\n", net.JoinHostPort(h, strconv.Itoa(int(p.Local))), err)
					}
					continue
				}
				opened++
				listeners, addrs = append(listeners, l), append(addrs, l.Addr())
				local := l.Addr().(*net.TCPAddr)
				// A free port (:REMOTE) is picked once, on the first
				// address, and is the same on the others, as kubectl's.
				p.Local = uint16(local.Port)
				f.printf(f.Out, "Forwarding from %s -> %d\n", local.String(), p.Remote)
				go f.accept(ctx, l, uint16(local.Port), p.Remote)
			}
		}
		if opened == 0 {
			f.printf(f.ErrOut, "Unable to listen on port %d\n", p.Local)
		}
	}
	if len(listeners) == 0 {
		return exitcode.With(exitcode.Failed, fmt.Errorf("unable to listen on any of the requested ports"))
	}
	if f.Ready != nil {
		f.Ready(addrs)
	}
	select {
	case <-ctx.Done():
		return nil
	case <-conn.CloseChan():
		return exitcode.With(exitcode.Network, ErrLostConnection)
	case why := <-f.gone:
		return exitcode.With(exitcode.Network, fmt.Errorf("%w: %v", ErrLostConnection, why))
	}
}

// ipFamily is the network that listens on host alone, as kubectl's: tcp4
// for an IPv4 address, tcp6 for IPv6. With "tcp", Go listens on 0.0.0.0
// with an IPv6 socket that takes [::] too: more than --address asked.
func ipFamily(host string) string {
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return "tcp6"
	}
	return "tcp4"
}

func dial(d httpstream.Dialer) (httpstream.Connection, error) {
	conn, protocol, err := d.Dial(protocolV1)
	if err != nil {
		return nil, Classify(err)
	}
	if protocol != protocolV1 {
		conn.Close()
		return nil, exitcode.With(exitcode.Failed, fmt.Errorf("unable to negotiate protocol: kcurl speaks %q, the server %q", protocolV1, protocol))
	}
	return conn, nil
}

func (f *Forwarder) printf(w io.Writer, format string, args ...any) {
	if w == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(w, format, args...)
}

func (f *Forwarder) accept(ctx context.Context, l net.Listener, local, remote uint16) {
	for {
		c, err := l.Accept()
		if err != nil {
			if !strings.Contains(err.Error(), networkClosedText) {
				f.printf(f.ErrOut, "error accepting connection on port %d: %v\n", local, err)
			}
			return
		}
		go func() {
			defer c.Close()
			f.printf(f.Out, "Handling connection for %d\n", local)
			if err := pipe(f.conn, remote, int(f.requestID.Add(1)), c, c); err != nil {
				f.printf(f.ErrOut, "error: forwarding port %d -> %d: %v\n", local, remote, err)
				f.checkPod(ctx)
			}
		}()
	}
}

// checkPod ends Run if the Pod went away: a Pod deleted or replaced
// (a rollout) leaves the tunnel up, and every later connection fails
// ("failed to find sandbox"); kubectl's forwarder ends at any failure.
func (f *Forwarder) checkPod(ctx context.Context) {
	if f.PodGone == nil || ctx.Err() != nil {
		return
	}
	now, last := time.Now().UnixNano(), f.checked.Load()
	if now-last < int64(podCheckInterval) || !f.checked.CompareAndSwap(last, now) {
		return
	}
	if why := f.PodGone(ctx); why != nil {
		select {
		case f.gone <- why:
		default:
		}
	}
}

// pipe carries one local connection (in, out) to remote over conn: an
// error stream and a data stream, as the protocol has it. What the Pod
// says on the error stream (nothing is listening, say) is the error.
func pipe(conn httpstream.Connection, remote uint16, requestID int, in io.Reader, out io.Writer) error {
	headers := http.Header{}
	headers.Set(headerStreamType, streamTypeError)
	headers.Set(headerPort, strconv.Itoa(int(remote)))
	headers.Set(headerRequestID, strconv.Itoa(requestID))
	errorStream, err := conn.CreateStream(headers)
	if err != nil {
		return fmt.Errorf("creating the error stream: %w", err)
	}
	errorStream.Close() // nothing is written on it
	defer conn.RemoveStreams(errorStream)
	remoteErr := make(chan error, 1)
	go func() {
		msg, err := io.ReadAll(errorStream)
		switch {
		case err != nil:
			remoteErr <- fmt.Errorf("reading the error stream: %w", err)
		case len(msg) > 0:
			remoteErr <- errors.New(string(msg))
		default:
			remoteErr <- nil
		}
	}()

	headers.Set(headerStreamType, streamTypeData)
	data, err := conn.CreateStream(headers)
	if err != nil {
		return fmt.Errorf("creating the data stream: %w", err)
	}
	defer conn.RemoveStreams(data)

	remoteDone := make(chan struct{})
	localFailed := make(chan struct{})
	go func() {
		_, _ = io.Copy(out, data)
		close(remoteDone)
	}()
	go func() {
		defer data.Close() // no more data from us
		if _, err := io.Copy(data, in); err != nil && !strings.Contains(strings.ToLower(err.Error()), networkClosedText) {
			close(localFailed)
		}
	}()
	select {
	case <-remoteDone:
	case <-localFailed:
	}
	// Unsent data would hold the error stream back.
	_ = data.Reset()
	return <-remoteErr
}

// Pipe forwards one connection to remote: in to the Pod's port, what it
// answers to out, until the Pod closes it (a raw portforward PATH).
func Pipe(ctx context.Context, d httpstream.Dialer, remote uint16, in io.Reader, out io.Writer) error {
	conn, err := dial(d)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer conn.Close()
	done := make(chan error, 1)
	go func() { done <- pipe(conn, remote, 0, in, out) }()
	select {
	case <-ctx.Done():
		return nil
	case err := <-done:
		// What the Pod said (nothing listens on the port, say): a
		// connection that could not be made.
		return exitcode.With(exitcode.Network, err)
	}
}

// ForwardURL is the Pod's portforward URL.
func ForwardURL(server *url.URL, pod *Pod) (*url.URL, error) {
	return request.Spec{Path: pod.Path("portforward")}.URL(server)
}
