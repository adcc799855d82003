package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// Exit codes: a contract with every script that runs kcurl. Never renumber
// them; docs/exit-codes.md describes each.
const (
	ExitOK          = 0
	ExitFalse       = 1 // -e: the last jq result was false or null, or none; or an internal error
	ExitUsage       = 2 // bad flag or argument, invalid jq expression, invalid body
	ExitCredentials = 3 // no cluster or credentials found, or unreadable
	ExitHTTP4xx     = 4
	ExitHTTP5xx     = 5
	ExitNetwork     = 6 // DNS, connect, TLS, timeout, connection reset
)

// usageError is a mistake in what the user typed.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// reportedError was written to stderr where it happened (one line per
// resource type of a category); it only sets the exit code.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// timeoutError is --max-time running out.
type timeoutError struct{ limit string }

func (e *timeoutError) Error() string {
	return "the request did not complete within --max-time " + e.limit
}

// exitCode is the one place where an error becomes an exit code.
func exitCode(err error) int {
	var (
		status     *transport.StatusError
		network    *transport.NetworkError
		notFound   *target.NotFoundError
		credErr    *target.CredentialsError
		targetErr  *target.UsageError
		usage      *usageError
		reqUsage   *request.UsageError
		queryErr   *output.QueryError
		halt       *output.HaltError
		timeoutErr *timeoutError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &status):
		if status.Code >= 500 {
			return ExitHTTP5xx
		}
		return ExitHTTP4xx
	case errors.As(err, &halt):
		return halt.Code
	case errors.As(err, &usage), errors.As(err, &reqUsage), errors.As(err, &queryErr), errors.As(err, &targetErr):
		return ExitUsage
	case errors.As(err, &notFound), errors.As(err, &credErr), errors.As(err, new(*target.ProcessChoiceError)):
		return ExitCredentials
	case errors.As(err, &timeoutErr), errors.As(err, &network):
		return ExitNetwork
	default:
		return ExitFalse
	}
}

// report writes err the way a user should read it: API errors exactly as
// kubectl prints them, everything else after "kcurl: ".
func report(w io.Writer, err error) {
	var (
		status *transport.StatusError
		halt   *output.HaltError
		usage  *usageError
	)
	switch {
	case errors.As(err, new(*reportedError)):
		return
	case errors.Is(err, output.ErrFalsy), errors.Is(err, context.Canceled), errors.As(err, new(errNo)):
		return // -e's and can-i's answer is the exit code alone; Ctrl-C needs no words
	case errors.As(err, &status):
		fmt.Fprintln(w, status.Error())
	case errors.As(err, &halt):
		fmt.Fprint(w, halt.Message)
	case errors.As(err, &usage):
		fmt.Fprintf(w, "kcurl: %s\nRun 'kcurl --help' for usage.\n", strings.TrimSpace(usage.msg))
	default:
		// Network and TLS errors quote what a server sent (a certificate's
		// names): escaped as a Status message is.
		fmt.Fprintf(w, "kcurl: %s\n", transport.Printable(strings.TrimSpace(err.Error())))
	}
}
