package spdy

// kcurl's test of its change to the copy: a data frame of up to 32 KiB is
// one Write (UPSTREAM.md).

import (
	"bytes"
	"testing"
)

// writes records each Write apart, as port-forward's WebSocket tunnel
// makes each one a message of its own.
type writes struct {
	all   bytes.Buffer
	calls int
}

func (w *writes) Write(p []byte) (int, error) {
	w.calls++
	return w.all.Write(p)
}

func TestDataFrameIsOneWrite(t *testing.T) {
	for _, tc := range []struct {
		size  int
		flags DataFlags
		calls int
	}{
		{size: 0, calls: 1},
		{size: 1000, flags: DataFlagFin, calls: 1},
		{size: dataBufferSize, calls: 1},
		{size: dataBufferSize + 1, calls: 3}, // over the pool's buffers: upstream's three writes
	} {
		w := &writes{}
		framer, err := NewFramer(w, &w.all)
		if err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte{'x', 'y', 'z'}, tc.size/3+1)[:tc.size]
		if err := framer.WriteFrame(&DataFrame{StreamId: 7, Flags: tc.flags, Data: data}); err != nil {
			t.Fatal(err)
		}
		if w.calls != tc.calls {
			t.Errorf("a data frame of %d bytes took %d writes, want %d", tc.size, w.calls, tc.calls)
		}
		frame, err := framer.ReadFrame()
		if err != nil {
			t.Fatalf("reading back the frame of %d bytes: %v", tc.size, err)
		}
		got, ok := frame.(*DataFrame)
		if !ok || got.StreamId != 7 || got.Flags != tc.flags || !bytes.Equal(got.Data, data) {
			t.Errorf("the frame of %d bytes read back as %T %+v", tc.size, frame, frame)
		}
		if w.all.Len() != 0 {
			t.Errorf("%d bytes left after the frame of %d bytes", w.all.Len(), tc.size)
		}
	}
}
