// Package exitcode names kcurl's exit codes, a contract with every script
// that runs it (docs/exit-codes.md; never renumbered). An error says its own
// code with an ExitCode() int method, as gojq's errors do; cmd/exit.go is
// the one place that asks. An error that says none is an internal error.
package exitcode

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

const (
	OK = 0
	// Failed is an answer that did not satisfy: -e's false, null or no
	// result, can-i's "no", a jq runtime error, an answer that is not what
	// it claims to be. Internal errors, which say no code, exit 1 too.
	Failed      = 1
	Usage       = 2 // bad flag or argument, invalid jq expression, invalid body
	Credentials = 3 // no cluster or credentials found, or unreadable
	HTTP4xx     = 4
	HTTP5xx     = 5
	Network     = 6 // DNS, connect, TLS, timeout, connection reset
)

// Coder is an error that knows its exit code.
type Coder interface {
	error
	ExitCode() int
}

// Of is the exit code err says, from the first error in its chain that says
// one; ok is false when none does (an internal error).
func Of(err error) (code int, ok bool) {
	var coder Coder
	if errors.As(err, &coder) {
		return coder.ExitCode(), true
	}
	return Failed, false
}

// Error gives an error that has no type of its own an exit code: Code,
// unless Err already says one (a body that failed to read is a network
// error whatever was reading it).
type Error struct {
	Code int
	Err  error
}

// With wraps err with code; nil stays nil.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) ExitCode() int {
	if code, ok := Of(e.Err); ok {
		return code
	}
	return e.Code
}

// UsageError is a mistake in what the user typed (exit 2): a bad flag or
// argument, an invalid jq expression or body, an option that cannot be
// used as given; nothing was sent. It is kcurl's one usage error, and
// cmd/exit.go follows its message with a pointer to `kcurl --help`.
type UsageError struct{ Err error }

// Usagef is a UsageError with a formatted message (%w wraps).
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }
func (e *UsageError) ExitCode() int { return Usage }

// Targetf is exit 2 for a command typed right whose target lacks what it
// names, or cannot do it: a container the Pod does not have, a completed
// Pod, a port name, a subresource or a field the server's schema does not
// have, a local file that is not there. Unlike a UsageError, cmd/exit.go
// adds no pointer at the help, which would not help (kubectl gives none
// for these either).
func Targetf(format string, args ...any) error {
	return &Error{Code: Usage, Err: fmt.Errorf(format, args...)}
}

// ReportedError was told to the user where it happened (one line for each
// resource type of a category that could not be listed): only its exit
// code, its cause's, is left to say.
type ReportedError struct{ Err error }

func (e *ReportedError) Error() string { return e.Err.Error() }
func (e *ReportedError) Unwrap() error { return e.Err }

// Signaled is a command cut short by a signal (SIGINT, SIGTERM, SIGHUP):
// an exec, attach or cp whose remote side had not finished. kcurl catches
// the signal to close the stream and give the terminal back, then ends as
// the signal would have ended it (cmd.Streams.DieOf), as kubectl, which
// does not catch it, is ended: the calling shell sees a process the
// signal ended, and stops its loop on Ctrl-C. Where kcurl cannot die of
// it (a test, a signal it was started ignoring), it exits with the
// shell's code for that: 128+N.
type Signaled struct{ Signal os.Signal }

func (e *Signaled) Error() string { return e.Signal.String() + " signal received" }

func (e *Signaled) ExitCode() int {
	if n, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return Failed
}
