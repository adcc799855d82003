package stream

import (
	"errors"
	"testing"

	"github.com/kcurl/kcurl/pkg/transport"
)

func TestReadPodFirst(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"the command ran", nil, false},
		{"its exit code", &RemoteExitError{Code: 3}, false},
		{"several containers", &transport.StatusError{Code: 400, Reason: "BadRequest", Message: "a container name must be specified for pod web, choose one of: [a b]"}, true},
		{"a container the Pod does not have", &transport.StatusError{Code: 400, Reason: "BadRequest", Message: "container nope is not valid for pod web"}, true},
		{"another bad request", &transport.StatusError{Code: 400, Reason: "BadRequest", Message: "tty and stderr cannot both be true"}, false},
		{"forbidden", &transport.StatusError{Code: 403, Reason: "Forbidden", Message: "denied"}, false},
		{"a completed Pod, through SPDY", errors.New(`unable to upgrade connection: container not found ("done")`), true},
		{"a stream that broke", errors.New("error reading from error stream: EOF"), false},
	} {
		if got := ReadPodFirst(tc.err); got != tc.want {
			t.Errorf("%s: ReadPodFirst(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
