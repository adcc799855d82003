package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/stream"
)

// atLeastTwoProcessors gives the test two processors or more (restored
// at its end) and says how many, so that a move to one shows.
func atLeastTwoProcessors(t *testing.T) int {
	before := runtime.GOMAXPROCS(0)
	if before >= 2 {
		return before
	}
	runtime.GOMAXPROCS(2)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	return 2
}

// TestOneProcessor: a stream runs Go on one processor, and the session's
// end gives back what there was; GOMAXPROCS set by the user is left alone.
func TestOneProcessor(t *testing.T) {
	before := atLeastTwoProcessors(t)
	restore := oneProcessor(func(string) string { return "" })
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Errorf("during the stream GOMAXPROCS = %d, want 1", n)
	}
	restore()
	if n := runtime.GOMAXPROCS(0); n != before {
		t.Errorf("after the stream GOMAXPROCS = %d, want %d again", n, before)
	}

	restore = oneProcessor(func(name string) string {
		if name == "GOMAXPROCS" {
			return "2"
		}
		return ""
	})
	if n := runtime.GOMAXPROCS(0); n != before {
		t.Errorf("with GOMAXPROCS set, GOMAXPROCS = %d, want %d (left alone)", n, before)
	}
	restore()
}

// TestProcessorsMoveOnceTheStreamsCarryBulk: a short exec keeps both
// processors (the move costs more than it saves); a MiB through stdin,
// stdout and stderr together moves Go to one; the session's end gives
// them back and moves no more.
func TestProcessorsMoveOnceTheStreamsCarryBulk(t *testing.T) {
	before := atLeastTwoProcessors(t)
	procs := &processors{getenv: func(string) string { return "" }}
	rio := procs.counted(stream.IO{Stdin: strings.NewReader(strings.Repeat("i", bulk/2)), Stdout: io.Discard, Stderr: io.Discard})
	if _, err := io.Copy(rio.Stdout, io.LimitReader(rio.Stdin, bulk/4)); err != nil {
		t.Fatal(err)
	}
	if n := runtime.GOMAXPROCS(0); n != before {
		t.Fatalf("after %d bytes GOMAXPROCS = %d, want %d still", bulk/2, n, before)
	}
	if _, err := io.Copy(rio.Stderr, rio.Stdin); err != nil {
		t.Fatal(err)
	}
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("after %d bytes GOMAXPROCS = %d, want 1", bulk, n)
	}
	procs.end()
	if n := runtime.GOMAXPROCS(0); n != before {
		t.Fatalf("after the session GOMAXPROCS = %d, want %d again", n, before)
	}
	procs.count(bulk)
	if n := runtime.GOMAXPROCS(0); n != before {
		t.Errorf("a stream's last bytes after the session's end moved GOMAXPROCS to %d", n)
	}
}

// TestProcessorsForBulkCommands: port-forward and cp move at once.
func TestProcessorsForBulkCommands(t *testing.T) {
	before := atLeastTwoProcessors(t)
	procs := &processors{getenv: func(string) string { return "" }}
	procs.oneNow()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Errorf("GOMAXPROCS = %d, want 1", n)
	}
	procs.end()
	if n := runtime.GOMAXPROCS(0); n != before {
		t.Errorf("after the session GOMAXPROCS = %d, want %d again", n, before)
	}
}

// TestCutShort: a stream that a signal ended says so (exec, attach and
// cp then end as that signal would have, exit 128+N where they cannot);
// ended otherwise, it does not.
func TestCutShort(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&exitcode.Signaled{Signal: syscall.SIGTERM})
	err := remoteExit(ctx, Streams{}, context.Canceled)
	if code, _ := exitcode.Of(err); code != 143 {
		t.Errorf("a stream SIGTERM ended: %v, exit %d, want 143", err, code)
	}
	var out bytes.Buffer
	report(&out, err, "kcurl", "")
	if out.Len() != 0 {
		t.Errorf("a stream a signal ended says %q, want nothing", out.String())
	}

	ctx, cancel = context.WithCancelCause(context.Background())
	cancel(nil)
	if err := remoteExit(ctx, Streams{}, context.Canceled); err != nil {
		t.Errorf("a stream the session ended: %v, want nil", err)
	}
}

// kubectl attach's last line after an interactive session, word for word
// (kubectl's attach_test.go), under kcurl's name.
func TestReattachHint(t *testing.T) {
	var pod stream.Pod
	if err := json.Unmarshal([]byte(`{"metadata":{"name":"foo","namespace":"test"},"spec":{"containers":[{"name":"bar"}],"ephemeralContainers":[{"name":"debugger"}]}}`), &pod); err != nil {
		t.Fatal(err)
	}
	for container, want := range map[string]string{
		"bar":      "Session ended, resume using 'kcurl attach foo -c bar -n test -i -t' command",
		"debugger": "Session ended, the ephemeral container will not be restarted but may be reattached using 'kcurl attach foo -c debugger -n test -i -t' if it is still running",
	} {
		if got := reattachHint("kcurl attach", &stream.Remote{Pod: &pod, Container: container}); got != want {
			t.Errorf("reattachHint for %s:\n got %s\nwant %s", container, got, want)
		}
	}
}
