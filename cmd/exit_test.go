package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// Every error says its exit code; one that says none is an internal error,
// exit 1 like -e's false but never silent like it.
func TestExitCodeAndReport(t *testing.T) {
	network := &transport.NetworkError{Err: errors.New("connection reset by peer")}
	for _, tc := range []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"success", nil, 0, ""},
		{"-e's false says nothing", output.ErrFalsy, 1, ""},
		{"can-i's no says nothing", errNo{}, 1, ""},
		{"an error with no code is internal", errors.New("boom"), 1, "kcurl: internal error: boom\n"},
		{"a local write that failed is not", fmt.Errorf("printing: %w", &fs.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.ENOSPC}), 1,
			"kcurl: printing: write /dev/stdout: no space left on device\n"},
		{"a usage error points at --help", usagef("no PATH"), 2, "kcurl: no PATH\nRun 'kcurl --help' for usage.\n"},
		{"an exit 2 that is no typo does not", exitcode.Targetf("container db is not valid for pod web out of: app"), 2,
			"kcurl: container db is not valid for pod web out of: app\n"},
		{"an API error is kubectl's line", fmt.Errorf("wrapped: %w", &transport.StatusError{Code: 503, Reason: "ServiceUnavailable", Message: "down"}), 5,
			"Error from server (ServiceUnavailable): down\n"},
		{"a code given to an error keeps a cause's own", exitcode.With(exitcode.Failed, fmt.Errorf("the answer: %w", network)), 6,
			"kcurl: the answer: connection reset by peer\n"},
		{"a code given to an error without one", exitcode.With(exitcode.Failed, errors.New("not a list")), 1, "kcurl: not a list\n"},
		{"a reported error only sets the code", &exitcode.ReportedError{Err: &transport.StatusError{Code: 403}}, 4, ""},
		{"--max-time", &timeoutError{limit: "1s"}, 6, "kcurl: the request did not complete within --max-time 1s\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if tc.err != nil {
				report(&stderr, tc.err, "kcurl", "")
			}
			if code := exitCode(tc.err); code != tc.code || stderr.String() != tc.stderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
}

// The codes the errors of pkg/ say: what exit.go's switch over their types
// used to decide.
func TestErrorsSayTheirCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{&transport.StatusError{Code: 404}, exitcode.HTTP4xx},
		{&transport.StatusError{Code: 500}, exitcode.HTTP5xx},
		{&transport.NetworkError{Err: errors.New("reset")}, exitcode.Network},
		{&target.NotFoundError{}, exitcode.Credentials},
		{&target.CredentialsError{Err: errors.New("unreadable")}, exitcode.Credentials},
		{&target.ProcessChoiceError{}, exitcode.Credentials},
		{&exitcode.UsageError{Err: errors.New("invalid server")}, exitcode.Usage},
		{&output.QueryError{Msg: "invalid jq"}, exitcode.Usage},
		{&output.HaltError{Code: 3}, 3},
		{&output.RuntimeError{Err: errors.New("jq")}, exitcode.Failed},
		{&output.SyntaxError{Msg: "not JSON"}, exitcode.Failed},
		{&discovery.UnknownError{Name: "nope"}, exitcode.Usage},
		{&discovery.AmbiguousError{Name: "ev"}, exitcode.Usage},
	} {
		if code, ok := exitcode.Of(tc.err); code != tc.code || !ok {
			t.Errorf("%T: exit %d (coded %v), want %d", tc.err, code, ok, tc.code)
		}
	}
}

// urfave/cli ignores its help writer's errors: the help that could not be
// written is exit 1, said as any other output's (kcurl --help >/dev/full).
func TestHelpThatCannotBeWritten(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"exec", "--help"}, {"help"}} {
		var stderr bytes.Buffer
		full := fullWriter{}
		code := Main(append([]string{"kcurl"}, args...), Streams{Out: full, ErrOut: &stderr, Getenv: func(string) string { return "" }})
		if want := "kcurl: write /dev/stdout: no space left on device\n"; code != 1 || stderr.String() != want {
			t.Errorf("kcurl %v: exit %d, stderr %q; want 1, %q", args, code, stderr.String(), want)
		}
	}
}

// fullWriter is /dev/full.
type fullWriter struct{}

func (fullWriter) Write([]byte) (int, error) {
	return 0, &fs.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.ENOSPC}
}
