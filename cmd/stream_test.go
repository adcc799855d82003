package cmd

import (
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/kcurl/kcurl/pkg/stream"
)

// TestOneProcessor: a stream runs Go on one processor, and the session's
// end gives back what there was; GOMAXPROCS set by the user is left alone.
func TestOneProcessor(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	if before < 2 {
		runtime.GOMAXPROCS(2)
		defer runtime.GOMAXPROCS(before)
		before = 2
	}
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
	before := runtime.GOMAXPROCS(0)
	if before < 2 {
		runtime.GOMAXPROCS(2)
		defer runtime.GOMAXPROCS(before)
		before = 2
	}
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
	before := runtime.GOMAXPROCS(0)
	if before < 2 {
		runtime.GOMAXPROCS(2)
		defer runtime.GOMAXPROCS(before)
		before = 2
	}
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
