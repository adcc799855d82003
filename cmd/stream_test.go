package cmd

import (
	"runtime"
	"testing"
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
