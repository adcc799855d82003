package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/transport"
)

// The exit codes main returns; pkg/exitcode names them all, and
// docs/exit-codes.md describes each.
const (
	ExitOK    = exitcode.OK
	ExitUsage = exitcode.Usage
)

// usagef is a mistake in what the user typed, reported with a pointer to
// --help.
func usagef(format string, args ...any) error { return exitcode.Usagef(format, args...) }

// exitCode is the one place where an error becomes an exit code: the one
// it says. One that says none is an internal error, exit 1 (report says
// so, so that it does not read as -e's false).
func exitCode(err error) int {
	if err == nil {
		return exitcode.OK
	}
	code, _ := exitcode.Of(err)
	return code
}

// report writes err the way a user should read it: API errors exactly as
// kubectl prints them, everything else after "kcurl: ". A usage error
// points at the help of the command it is in (topic, helpTopic's). name is
// the program as the user runs it (programName's): kubectl kcurl as
// kubectl's plugin, where no command kcurl may exist.
func report(w io.Writer, err error, name, topic string) {
	var (
		status *transport.StatusError
		halt   *output.HaltError
		usage  *exitcode.UsageError
	)
	code, coded := exitcode.Of(err)
	switch {
	case errors.As(err, new(*exitcode.ReportedError)):
		return
	case errors.Is(err, output.ErrFalsy), errors.Is(err, context.Canceled), errors.As(err, new(errNo)),
		errors.As(err, new(*exitcode.Signaled)):
		return // -e's and can-i's answer is the exit code alone; Ctrl-C needs no words
	case errors.As(err, &status):
		fmt.Fprintln(w, status.Error())
	case errors.As(err, &halt):
		fmt.Fprint(w, halt.Message)
	case errors.As(err, &usage):
		// A mistake in what was typed points at the help
		// (docs/exit-codes.md). Other exit 2s name what the target lacks
		// (exitcode.Targetf: a container, a port name, a running Pod, a
		// subresource or field the server lacks, a local file), say
		// where to look (a resource type: kcurl api-resources), or where a
		// jq expression breaks, as jq does: the help would not help.
		message := asTyped(strings.TrimSpace(err.Error()), name)
		fmt.Fprintf(w, "kcurl: %s\nRun '%s --help' for usage.\n", transport.Printable(message), strings.TrimSpace(name+" "+topic))
	case !coded && !localWrite(err):
		fmt.Fprintf(w, "kcurl: internal error: %s\n", strings.TrimSpace(err.Error()))
	default:
		// Network and TLS errors quote what a server sent (a certificate's
		// names): escaped as a Status message is, and never renamed. An
		// exit 2 of what the target lacks is kcurl's own words, which may
		// say where to look (kcurl api-resources lists them).
		message := strings.TrimSpace(err.Error())
		if code == exitcode.Usage {
			message = asTyped(message, name)
		}
		fmt.Fprintf(w, "kcurl: %s\n", transport.Printable(message))
	}
}

// asTyped makes the kcurl commands a message of kcurl's own suggests say
// the program as the user runs it, as the help does (renameApp).
func asTyped(message, name string) string {
	if name == "kcurl" {
		return message
	}
	return kcurlCommand().ReplaceAllString(message, "${1}"+name+"${2}")
}

// localWrite: err is writing to a local file (stdout on a full disk), not
// a bug of kcurl's: exit 1, said as it is.
func localWrite(err error) bool {
	var pathErr *fs.PathError
	return errors.As(err, &pathErr) && pathErr.Op == "write"
}
