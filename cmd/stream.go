package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"k8s.io/client-go/rest"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/stream"
	"github.com/kcurl/kcurl/pkg/transport"
)

// The streaming commands (exec, attach, port-forward, cp) and the raw
// exec/attach/portforward PATHs share this: the connection as client-go's
// streaming code needs it, and the Pod they name.

// streamCommands are registered with the others in newApp.
func streamCommands(s Streams) []*cli.Command {
	return []*cli.Command{execCommand(s), attachCommand(s), portForwardCommand(s), cpCommand(s)}
}

// streamSession is a connection for the streaming protocols: the
// session's target and client (to read Pods), and the same credentials as
// a rest.Config for client-go's executors and dialers.
type streamSession struct {
	*apiSession
	config     *rest.Config
	processors *processors
	// podRunningTimeout is how long a workload's Pod is waited for
	// (--pod-running-timeout); a Pod named is not.
	podRunningTimeout time.Duration
}

// connectStream resolves the target; ctx ends on SIGINT, SIGTERM and
// SIGHUP as well as at --max-time, so that every stream stops cleanly. Once the
// streams carry bulk (processors), and until the session's cancel, Go
// runs on one processor.
func connectStream(c *cli.Context, s Streams, o sessionOptions) (*streamSession, error) {
	api, err := o.connect(c, s)
	if err != nil {
		return nil, err
	}
	cfg, err := transport.RESTConfig(api.target, o.transport)
	if err != nil {
		api.cancel()
		return nil, err
	}
	ctx, stop := stopOnSignals(api.ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	cancel, procs := api.cancel, &processors{getenv: s.Getenv}
	api.ctx, api.cancel = ctx, func() { stop(); cancel(); procs.end() }
	return &streamSession{apiSession: api, config: cfg, processors: procs}, nil
}

// oneProcessor runs the Go scheduler on one processor until the returned
// func restores it, unless GOMAXPROCS is set. Every chunk a stream carries
// passes through several goroutines (exec: the WebSocket's reader, the
// channel's pipe, the copy to stdout; port-forward: SPDY's reader, its
// frame worker, the stream's reader, the socket's writer; cp: those of
// exec, then the untar). On one processor these are switches on one
// thread; on two, each hand-off wakes a thread (futex, spinning), which
// cost 30-40% more CPU per byte with no more throughput: 100 MB through
// exec's stdout took 0.23-0.25 s of CPU instead of 0.32-0.39 s, through cp
// 0.30-0.37 s instead of 0.43-0.50 s (docs/performance.md).
func oneProcessor(getenv func(string) string) (restore func()) {
	if getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	previous := runtime.GOMAXPROCS(1)
	return func() { runtime.GOMAXPROCS(previous) }
}

// bulk is what a stream carries before Go moves to one processor. The
// move stops the world and frees the other processor's caches: ~2 ms of
// a short exec's wall here (`exec -- true` takes ~120 ms), for nothing
// when little passes; past a MiB it is paid back many times.
const bulk = 1 << 20

// processors moves Go to one processor (oneProcessor) once: when the
// streams it counts have carried bulk, or at once for the commands that
// carry bulk by nature (port-forward, cp). end gives the processors back
// and moves no more.
type processors struct {
	getenv  func(string) string
	carried atomic.Int64
	once    sync.Once
	restore func()
}

func (p *processors) oneNow() {
	p.once.Do(func() { p.restore = oneProcessor(p.getenv) })
}

func (p *processors) count(n int) {
	if p.carried.Add(int64(n)) >= bulk {
		p.oneNow()
	}
}

func (p *processors) end() {
	p.once.Do(func() {})
	if p.restore != nil {
		p.restore()
	}
}

// counted returns rio with its streams counted toward bulk.
func (p *processors) counted(rio stream.IO) stream.IO {
	if rio.Stdin != nil {
		rio.Stdin = countedReader{rio.Stdin, p}
	}
	if rio.Stdout != nil {
		rio.Stdout = countedWriter{rio.Stdout, p}
	}
	if rio.Stderr != nil {
		rio.Stderr = countedWriter{rio.Stderr, p}
	}
	return rio
}

type countedReader struct {
	io.Reader
	p *processors
}

func (r countedReader) Read(b []byte) (int, error) {
	n, err := r.Reader.Read(b)
	r.p.count(n)
	return n, err
}

type countedWriter struct {
	io.Writer
	p *processors
}

func (w countedWriter) Write(b []byte) (int, error) {
	n, err := w.Writer.Write(b)
	w.p.count(n)
	return n, err
}

func (ss *streamSession) pods() stream.Pods {
	return stream.Pods{Client: ss.api, Namespace: ss.target.Namespace}
}

// findPod is stream.Pods.Find with the command's --pod-running-timeout,
// which exec, attach and port-forward set on their session.
func (ss *streamSession) findPod(ref stream.Ref) (*stream.Pod, *stream.Workload, error) {
	return ss.pods().Find(ss.ctx, ref, ss.podRunningTimeout)
}

// podRead says when remote reads the Pod before the stream.
type podRead int

const (
	// readUnlessNamed: a Pod named with its container (-c) is not read
	// first: the server checks both when the stream is asked for, which
	// saves a request and a connection. When it refuses the container, or
	// a completed Pod's, the Pod is read then (stream.ReadPodFirst), to
	// say so as kubectl does: the Pod's containers, or its phase.
	readUnlessNamed podRead = iota
	// guessFirst (exec): a Pod named without its container is not read
	// either: the server picks the container of a Pod that has one, as
	// kubectl would, and refuses the others, which are then read and
	// picked for (stream.ReadPodFirst).
	guessFirst
	// readFirst: always (attach: the container's spec says whether it
	// has a terminal).
	readFirst
)

// remote finds the Pod ref names, checks that it runs, and picks its
// container as kubectl does (say names the command for the error); read
// says whether the Pod is read first.
func (ss *streamSession) remote(ref stream.Ref, container, say string, notices io.Writer, read podRead) (*stream.Remote, error) {
	if podUnread(ref, container, read) {
		pod := &stream.Pod{}
		pod.Metadata.Name, pod.Metadata.Namespace = ref.Name, ss.target.Namespace
		return &stream.Remote{Config: ss.config, Server: ss.target.Server, Pod: pod, Container: container}, nil
	}
	pod, _, err := ss.findPod(ref)
	if err != nil {
		return nil, ss.err(err)
	}
	if pod.Status.Phase == "Succeeded" || pod.Status.Phase == "Failed" {
		return nil, exitcode.Targetf("cannot %s a container in a completed pod; current phase is %s", say, pod.Status.Phase)
	}
	name, err := pod.Container(container, notices)
	if err != nil {
		return nil, err
	}
	return &stream.Remote{Config: ss.config, Server: ss.target.Server, Pod: pod, Container: name}, nil
}

// podUnread says whether remote asks for the stream before reading the Pod.
func podUnread(ref stream.Ref, container string, read podRead) bool {
	return ref.Kind == "" && ((container != "" && read != readFirst) || read == guessFirst)
}

// retryReadingPod runs fn on remote; when the stream was refused before
// the Pod was read, in a way the Pod explains (stream.ReadPodFirst), it
// reads the Pod and runs fn once more on the container picked, or says
// why there is none. Nothing was read from stdin: no stream started.
func (ss *streamSession) retryReadingPod(remote *stream.Remote, ref stream.Ref, container, say string, notices io.Writer, read podRead, fn func(*stream.Remote) error) error {
	err := fn(remote)
	if !podUnread(ref, container, read) || !stream.ReadPodFirst(err) {
		return err
	}
	if remote, err = ss.remote(ref, container, say, notices, readFirst); err != nil {
		return err
	}
	return fn(remote)
}

// remoteOptions are what exec and attach share (kubectl's StreamOptions):
// the Pod, the container, -i, -t, -q.
type remoteOptions struct {
	streams           Streams
	session           sessionOptions
	refText           string
	ref               stream.Ref
	container         string
	stdin             bool
	tty               bool
	quiet             bool
	podRunningTimeout time.Duration
	// guess: try the stream before reading the Pod (exec; see remote).
	guess bool
	// containerTTY (attach): the container's spec decides the remote TTY.
	// -t needs a container that has a terminal, as kubectl attach checks
	// (without one, kubectl's error line and no TTY); a container that has
	// one is attached to through it, -t or not.
	containerTTY bool
}

func containerFlag() cli.Flag {
	return &cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "the `CONTAINER` (default: the kubectl.kubernetes.io/default-container annotation's, then the first)"}
}

func remoteFlags(what string) []cli.Flag {
	return append([]cli.Flag{
		containerFlag(),
		&cli.BoolFlag{Name: "stdin", Aliases: []string{"i"}, Usage: "pass stdin to the " + what},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "with -i: stdin is a terminal, raw while the " + what + " runs"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only print what the " + what + " prints"},
		podRunningTimeoutFlag(),
	}, connectionFlags()...)
}

// podRunningTimeoutFlag is kubectl's flag of exec, attach and
// port-forward, with its default.
func podRunningTimeoutFlag() cli.Flag {
	return &cli.StringFlag{Name: "pod-running-timeout", Value: "1m", Usage: "for TYPE/NAME: wait up to `DURATION` (more than 0) for one of its Pods to run (exit 1 after)"}
}

// podRunningTimeout reads --pod-running-timeout: kubectl refuses 0, which
// would give up on a Pod about to run before looking.
func podRunningTimeout(c *cli.Context) (time.Duration, error) {
	d, err := parseDuration("pod-running-timeout", c.String("pod-running-timeout"))
	if err == nil && d <= 0 {
		err = usagef("--pod-running-timeout must be more than 0")
	}
	return d, err
}

// completeRemote reads the shared flags; the arguments are the command's.
func (o *remoteOptions) completeRemote(c *cli.Context) error {
	var err error
	if o.session, err = newSessionOptions(c, o.streams); err != nil {
		return err
	}
	o.container, o.stdin, o.tty, o.quiet = c.String("container"), c.Bool("stdin"), c.Bool("tty"), c.Bool("quiet")
	o.podRunningTimeout, err = podRunningTimeout(c)
	return err
}

// runRemote connects, finds the container and runs fn on it with the
// streams (a raw terminal with -t, restored however it ends).
func (o *remoteOptions) runRemote(c *cli.Context, say string, fn func(ctx context.Context, r *stream.Remote, rio stream.IO) error) error {
	s := o.streams
	ss, err := connectStream(c, s, o.session)
	if err != nil {
		return err
	}
	defer ss.cancel()
	ss.podRunningTimeout = o.podRunningTimeout
	var notices io.Writer = s.ErrOut
	if o.quiet {
		notices = nil
	}
	read, tty := readUnlessNamed, o.tty
	switch {
	case o.containerTTY:
		read = readFirst
	case o.guess:
		read = guessFirst
	}
	remote, err := ss.remote(o.ref, o.container, say, notices, read)
	if err != nil {
		return remoteExit(ss.ctx, s, err) // a signal while the Pod is waited for ends kcurl too
	}
	hasTTY := o.containerTTY && remote.Pod.HasTTY(remote.Container)
	if o.containerTTY && tty && !hasTTY {
		if !o.quiet {
			fmt.Fprintf(s.ErrOut, "error: Unable to use a TTY - container %s did not allocate one\n", remote.Container)
		}
		tty = false
	}
	rio, restore, err := remoteIO(s, o.stdin, tty, o.quiet)
	defer restore()
	if err != nil {
		return err
	}
	if hasTTY && !rio.TTY {
		// A container with a terminal is attached to through it, whose
		// one stream is stdout, whether or not ours is one (no -t):
		// kubectl asks for stderr as well and is refused ("tty and
		// stderr cannot both be true").
		rio.TTY, rio.Stderr = true, nil
	}
	rio = ss.processors.counted(rio)
	err = ss.retryReadingPod(remote, o.ref, o.container, say, notices, read, func(r *stream.Remote) error {
		return fn(ss.ctx, r, rio)
	})
	restore() // cooked before the exit code is said, or its line ends without a carriage return
	return remoteExit(ss.ctx, s, ss.err(err))
}

// remoteIO is the IO of exec and attach: stdin only with -i, and with -t
// a raw local terminal when stdin is one (else kubectl's warning and no
// TTY). restore gives the terminal back; call it on every path, and
// before anything more is written to it (it may be called again).
func remoteIO(s Streams, stdin, tty, quiet bool) (rio stream.IO, restore func(), err error) {
	rio = stream.IO{Stdout: s.Out, Stderr: s.ErrOut}
	restore = func() {}
	if stdin {
		rio.Stdin = s.In
	}
	if !tty || !stdin {
		return rio, restore, nil
	}
	in, out, ok := stream.IsTerminal(s.In, s.Out)
	if !ok {
		if !quiet {
			fmt.Fprintln(s.ErrOut, "Unable to use a TTY - input is not a terminal or the right kind of file")
		}
		return rio, restore, nil
	}
	term := &stream.Terminal{In: in, Out: out}
	if err := term.Raw(); err != nil {
		return rio, restore, err
	}
	rio.TTY, rio.Sizes, rio.Stderr = true, term, nil
	return rio, term.Restore, nil
}

// rawTerminal says whether our terminal is raw for rio: remoteIO follows
// its size only then (a remote TTY may also be spoken without one).
func rawTerminal(rio stream.IO) bool { return rio.Sizes != nil }

// remoteExit is how exec and attach end: the remote command's exit code
// said as kubectl says it; cut short by a signal, as that signal ends
// kubectl (cutShort, exitcode.Signaled).
func remoteExit(ctx context.Context, s Streams, err error) error {
	var exit *stream.RemoteExitError
	switch {
	case err != nil && ctx.Err() == context.Canceled:
		return cutShort(ctx)
	case errors.As(err, &exit):
		fmt.Fprintln(s.ErrOut, exit.Error())
		return &exitcode.ReportedError{Err: exit}
	}
	return err
}
