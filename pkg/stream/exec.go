// Package stream is the streaming half of the API: exec, attach and
// port-forward, which upgrade a connection (WebSocket first, SPDY for older
// servers) and carry several channels over it, and cp, which is tar through
// exec. The protocols are client-go's (tools/remotecommand,
// tools/portforward), as kubectl's are; what is kcurl's own is how the
// pieces are found (a Pod of a Deployment, the default container), how
// errors become exit codes, the port forwarder that keeps going when one
// connection fails, and the untar that never writes outside its destination.
package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	gwebsocket "github.com/gorilla/websocket"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/httpstream"
	remoteprotocol "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/rest"
	utilexec "k8s.io/client-go/util/exec"
	streamhttp "k8s.io/streaming/pkg/httpstream"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/stream/internal/remotecommand"
	"github.com/kcurl/kcurl/pkg/stream/internal/spdyconn"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// IO is what a remote command reads and writes. Stdin nil sends nothing;
// with TTY, the remote side has one terminal and Stderr is unused.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	TTY            bool
	// Sizes follows the local terminal's size (TTY only); nil keeps the
	// remote default.
	Sizes remotecommand.TerminalSizeQueue
}

// Executor returns client-go's executor for an exec or attach URL:
// WebSocket (v5.channel.k8s.io, then v4) first, SPDY when the server
// refuses the WebSocket upgrade itself (an older server, an HTTPS proxy
// that cannot upgrade), as kubectl does. The server's refusal of the
// request (a Status of 4xx) is final: SPDY would be refused too.
//
// With stdin, v4 is not offered. Only v5 can say that stdin has ended: a
// node that speaks v4 alone (before 1.30, the apiserver passes the
// WebSocket on to the runtime's own server) would keep `cat` or cp's tar
// waiting for more input forever. Such a server refuses v5, and SPDY,
// which can, takes over, as it does for kubectl, which never offers v4.
func Executor(cfg *rest.Config, u *url.URL, stdin bool) (remotecommand.Executor, error) {
	protocols := []string{remoteprotocol.StreamProtocolV5Name}
	if !stdin {
		protocols = append(protocols, remoteprotocol.StreamProtocolV4Name)
	}
	ws, err := remotecommand.NewWebSocketExecutorForProtocols(cfg, "GET", u.String(), protocols...)
	if err != nil {
		return nil, err
	}
	spdy := laterExecutor(func() (remotecommand.Executor, error) {
		rt, upgrader, err := spdyconn.RoundTripperFor(cfg)
		if err != nil {
			return nil, err
		}
		return remotecommand.NewSPDYExecutorForTransports(rt, upgrader, "POST", u)
	})
	return remotecommand.NewFallbackExecutor(ws, spdy, shouldFallback)
}

// laterExecutor makes its executor when it is first used: the SPDY one,
// whose transport (TLS configuration, a kubeconfig's certificate files
// read and parsed) a server that speaks WebSockets never needs.
type laterExecutor func() (remotecommand.Executor, error)

func (l laterExecutor) Stream(options remotecommand.StreamOptions) error {
	return l.StreamWithContext(context.Background(), options)
}

func (l laterExecutor) StreamWithContext(ctx context.Context, options remotecommand.StreamOptions) error {
	exec, err := l()
	if err != nil {
		return err
	}
	return exec.StreamWithContext(ctx, options)
}

func shouldFallback(err error) bool {
	if refused(err) {
		return false
	}
	return streamhttp.IsUpgradeFailure(err) || streamhttp.IsHTTPSProxyError(err) ||
		httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
}

// refused: the server answered the upgrade with its own Status of 4xx
// (NotFound, a container the Pod does not have): SPDY would be refused the
// same way. A server or proxy that cannot upgrade to a WebSocket does not
// answer with a Kubernetes Status. A 403 is not final: the WebSocket
// upgrade is a GET, authorized as `get` on pods/exec (attach,
// portforward), and SPDY's a POST, authorized as `create`, which is what
// a Role for kubectl exec often grants alone; kubectl falls back there too
// (and says SPDY's refusal, which names `create`, when both are refused).
func refused(err error) bool {
	var status *apierrors.StatusError
	if !errors.As(upgradeCause(err), &status) {
		return false
	}
	code := status.ErrStatus.Code
	return code >= 400 && code < 500 && code != http.StatusForbidden
}

// Run runs a remote command (an exec or attach URL) with io until it ends.
// The remote command's own exit code comes back as a *RemoteExitError;
// everything before the stream starts keeps kcurl's codes (Forbidden is 4).
func Run(ctx context.Context, cfg *rest.Config, u *url.URL, rio IO) error {
	exec, err := Executor(cfg, u, rio.Stdin != nil)
	if err != nil {
		return err
	}
	var lost writeError
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{
		Stdin: rio.Stdin, Stdout: lost.watch("stdout", rio.Stdout), Stderr: lost.watch("stderr", rio.Stderr),
		Tty: rio.TTY, TerminalSizeQueue: rio.Sizes,
	})
	if err == nil {
		// The command succeeded, and what it printed did not all arrive.
		return lost.get()
	}
	return Classify(err)
}

// writeError keeps the first error of writing the command's output here (a
// full disk, say): client-go's copies only log it, and kubectl exits 0
// with the output lost.
type writeError struct {
	mu  sync.Mutex
	err error
}

func (w *writeError) watch(name string, dst io.Writer) io.Writer {
	if dst == nil {
		return nil
	}
	return writeFunc(func(p []byte) (int, error) {
		n, err := dst.Write(p)
		if err != nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = exitcode.With(exitcode.Failed, fmt.Errorf("writing the command's %s: %w", name, err))
			}
			w.mu.Unlock()
		}
		return n, err
	})
}

func (w *writeError) get() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

type writeFunc func([]byte) (int, error)

func (f writeFunc) Write(p []byte) (int, error) { return f(p) }

// RemoteExitError is the remote command's non-zero exit code; kcurl exits
// with it, as kubectl does, after saying so on stderr.
type RemoteExitError struct{ Code int }

func (e *RemoteExitError) Error() string {
	return fmt.Sprintf("command terminated with exit code %d", e.Code)
}
func (e *RemoteExitError) ExitCode() int { return e.Code }

// Classify turns the errors of client-go's streaming code into kcurl's:
// the remote exit code, the server's Status (kubectl's "Error from server
// (Forbidden): …", exit 4), a network error or a stream cut short (6).
// Others are the stream failing after it started (exit 1), said as they
// are.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var credErr *target.CredentialsError
	if errors.As(err, &credErr) {
		return credErr
	}
	var exit utilexec.ExitError
	if errors.As(err, &exit) {
		return &RemoteExitError{Code: exit.ExitStatus()}
	}
	var status *apierrors.StatusError
	if errors.As(upgradeCause(err), &status) {
		s := status.ErrStatus
		return &transport.StatusError{Code: int(s.Code), Reason: string(s.Reason), Message: s.Message}
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) || cutShort(err) {
		return &transport.NetworkError{Err: err}
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if streamhttp.IsUpgradeFailure(err) || httpstream.IsUpgradeFailure(err) {
		return exitcode.With(exitcode.HTTP4xx, err)
	}
	return exitcode.With(exitcode.Failed, err)
}

// cutShort: the connection ended in the middle of the stream, with no
// close or status (a proxy or a node that went away): a network failure,
// as an answer's body cut short is. The WebSocket reader says so as an
// abnormal closure (1006) between messages, as an unexpected EOF inside
// one.
func cutShort(err error) bool {
	var closed *gwebsocket.CloseError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &closed) && closed.Code == gwebsocket.CloseAbnormalClosure
}

// ReadPodFirst: a stream asked for before its Pod was read did not start,
// and reading the Pod would help: the server wants a container named (the
// Pod has several), does not know the one named (kubectl lists the Pod's),
// or refused the upgrade without a Status of its own (a completed Pod's
// container is "not found"), which the Pod's phase explains as kubectl
// does. Another Status (Forbidden, NotFound) or the command's own exit is
// final.
func ReadPodFirst(err error) bool {
	if err == nil {
		return false
	}
	var status *transport.StatusError
	if errors.As(err, &status) {
		return status.Code == http.StatusBadRequest &&
			(strings.HasPrefix(status.Message, "a container name must be specified") || unknownContainer(status.Message))
	}
	// SPDY's refusal (tried when the WebSocket upgrade failed) in words:
	// the Pod explains a completed one's ("container not found"), but not
	// a 403 (kcurl proxy's filter). No stream starts before a 101.
	var refusal *spdyconn.Refusal
	if errors.As(err, &refusal) {
		return refusal.StatusCode != http.StatusForbidden
	}
	return streamhttp.IsUpgradeFailure(err) || httpstream.IsUpgradeFailure(err)
}

// unknownContainer: the apiserver's refusal of a container the Pod does not
// have, "container NAME is not valid for pod POD" (pkg/registry/core/pod).
func unknownContainer(message string) bool {
	return strings.HasPrefix(message, "container ") && strings.Contains(message, " is not valid for pod ")
}

// Remote is one container of a Pod, and the connection to reach it.
type Remote struct {
	Config    *rest.Config
	Server    *url.URL
	Pod       *Pod
	Container string
}

// Exec runs command in the container (pods/exec).
func (r *Remote) Exec(ctx context.Context, command []string, rio IO) error {
	u, err := r.url("exec", command, rio)
	if err != nil {
		return err
	}
	return Run(ctx, r.Config, u, rio)
}

// Attach connects to the container's main process (pods/attach).
func (r *Remote) Attach(ctx context.Context, rio IO) error {
	u, err := r.url("attach", nil, rio)
	if err != nil {
		return err
	}
	return Run(ctx, r.Config, u, rio)
}

// url is the subresource's URL with kubectl's query: the container, each
// word of the command, and which streams to open.
func (r *Remote) url(subresource string, command []string, rio IO) (*url.URL, error) {
	q := url.Values{}
	if r.Container != "" {
		q.Set("container", r.Container)
	}
	for _, c := range command {
		q.Add("command", c)
	}
	if rio.Stdin != nil {
		q.Set("stdin", "true")
	}
	if rio.Stdout != nil {
		q.Set("stdout", "true")
	}
	if rio.Stderr != nil && !rio.TTY {
		q.Set("stderr", "true")
	}
	if rio.TTY {
		q.Set("tty", "true")
	}
	return request.Spec{Path: r.Pod.Path(subresource), Query: q}.URL(r.Server)
}

// upgradeCause is why an upgrade failed: client-go's UpgradeFailureError
// holds the server's Status as its Cause, without unwrapping to it.
func upgradeCause(err error) error {
	var streamErr *streamhttp.UpgradeFailureError
	if errors.As(err, &streamErr) && streamErr.Cause != nil {
		return streamErr.Cause
	}
	var machineryErr *httpstream.UpgradeFailureError
	if errors.As(err, &machineryErr) && machineryErr.Cause != nil {
		return machineryErr.Cause
	}
	return err
}
