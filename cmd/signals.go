package cmd

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// stopOnSignals is signal.NotifyContext, with two differences. The
// context's cause names the signal (an *exitcode.Signaled, see cutShort).
// And SIGHUP, when kcurl was started ignoring it (nohup), stays ignored:
// Notify would catch it again, and the hangup nohup is there for would
// stop kcurl. SIGINT is caught even when a shell started kcurl ignoring
// it (a script's background job): `kill -INT $!` stops a background
// watch, proxy or port-forward cleanly, as it always has.
func stopOnSignals(parent context.Context, signals ...os.Signal) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	var caught []os.Signal
	for _, sig := range signals {
		if sig != syscall.SIGHUP || !signal.Ignored(sig) {
			caught = append(caught, sig)
		}
	}
	if len(caught) == 0 {
		return ctx, func() { cancel(nil) }
	}
	received := make(chan os.Signal, 1)
	signal.Notify(received, caught...)
	go func() {
		select {
		case sig := <-received:
			cancel(&exitcode.Signaled{Signal: sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(received); cancel(nil) }
}

// cutShort is the signal that ended ctx's stream before its end, or nil.
func cutShort(ctx context.Context) error {
	var sig *exitcode.Signaled
	if errors.As(context.Cause(ctx), &sig) {
		return sig
	}
	return nil
}

// dieOf gives sig back to Go's default (which, for SIGINT, SIGTERM and
// SIGHUP, ends the process by that signal) and sends it to the process,
// then waits for it to land on the thread the kernel picks. A signal the
// process was started ignoring is ignored again: dieOf then returns.
func dieOf(sig os.Signal) {
	n, ok := sig.(syscall.Signal)
	if !ok {
		return
	}
	signal.Reset(sig)
	if syscall.Kill(os.Getpid(), n) == nil {
		time.Sleep(100 * time.Millisecond)
	}
}
