package spdystream

// kcurl's tests of its change to the copy: data frames' payloads come from
// a pool and go back to it once read whole (UPSTREAM.md).

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"net"
	"net/http"
	"testing"
	"time"
)

// pipeStream is a client's stream to a server that echoes it
// (MirrorStreamHandler), over an in-memory connection.
func pipeStream(t *testing.T) *Stream {
	t.Helper()
	serverSide, clientSide := net.Pipe()
	server, err := NewConnection(serverSide, true)
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve(MirrorStreamHandler)
	client, err := NewConnection(clientSide, false)
	if err != nil {
		t.Fatal(err)
	}
	go client.Serve(NoOpStreamHandler)
	// A test that stalls (a frame lost or garbled) fails when the
	// connections close under it, rather than hanging.
	watchdog := time.AfterFunc(time.Minute, func() {
		clientSide.Close()
		serverSide.Close()
	})
	t.Cleanup(func() {
		watchdog.Stop()
		client.Close()
		server.Close()
	})
	stream, err := client.CreateStream(http.Header{}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.WaitTimeout(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	return stream
}

// A payload goes back to the pool only once read whole: read in pieces
// smaller than the frames, while the connection reads the next frames
// into pooled buffers, every byte comes back as it was sent.
func TestReadInPiecesKeepsEveryByte(t *testing.T) {
	stream := pipeStream(t)
	random := rand.New(rand.NewSource(1))
	var sent bytes.Buffer
	for sent.Len() < 4<<20 {
		frame := make([]byte, 1+random.Intn(40<<10)) // some over the pool's 32 KiB
		random.Read(frame)
		sent.Write(frame)
	}
	go func() {
		rest := sent.Bytes()
		for len(rest) > 0 {
			n := min(len(rest), 1+random.Intn(40<<10))
			if _, err := stream.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
	}()
	got := make([]byte, 0, sent.Len())
	piece := make([]byte, 1000)
	for len(got) < sent.Len() {
		n, err := stream.Read(piece)
		got = append(got, piece[:n]...)
		if err != nil {
			t.Fatalf("after %d of %d bytes: %v", len(got), sent.Len(), err)
		}
	}
	if i := firstDifference(got, sent.Bytes()); i >= 0 {
		t.Fatalf("%d bytes echoed, differing from byte %d on", len(got), i)
	}
}

// sendRandom writes size random bytes to the stream in writes of
// random sizes, some over the pool's 32 KiB, and returns what it sends.
func sendRandom(stream *Stream, size int, then func()) []byte {
	random := rand.New(rand.NewSource(2))
	sent := make([]byte, size)
	random.Read(sent)
	go func() {
		rest := sent
		for len(rest) > 0 {
			n := min(len(rest), 1+random.Intn(40<<10))
			if _, err := stream.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
		then()
	}()
	return sent
}

// slowWriter keeps a copy of what it is given, after a pause in which the
// connection goes on reading frames into pooled buffers: a payload given
// back to the pool before its Write returned would change under it.
type slowWriter struct{ got []byte }

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(50 * time.Microsecond)
	w.got = append(w.got, p...)
	return len(p), nil
}

// io.Copy writes the stream through WriteTo, each payload as it came, and
// every byte arrives as it was sent.
func TestWriteToKeepsEveryByte(t *testing.T) {
	stream := pipeStream(t)
	if _, ok := any(stream).(io.WriterTo); !ok {
		t.Fatal("a Stream should be an io.WriterTo")
	}
	// The echo ends once the stream, closed on our side, is mirrored whole.
	sent := sendRandom(stream, 4<<20, func() { stream.Close() })
	w := &slowWriter{}
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(w, stream)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after %d of %d bytes: %v", len(w.got), len(sent), err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("after a minute, %d of %d bytes", len(w.got), len(sent))
	}
	if i := firstDifference(w.got, sent); i >= 0 {
		t.Fatalf("%d bytes echoed, differing from byte %d on", len(w.got), i)
	}
}

// A writer that fails takes part of a payload: the rest stays the stream's,
// and Read gives it next, the bytes unchanged.
func TestWriteToKeepsWhatTheWriterRefused(t *testing.T) {
	stream := pipeStream(t)
	sent := sendRandom(stream, 200<<10, func() { stream.Close() })
	w := &failingWriter{take: 1000}
	n, err := stream.WriteTo(w)
	if err != errRefused || n != 1000 {
		t.Fatalf("WriteTo to a writer that takes 1000 bytes: %d, %v", n, err)
	}
	rest := make([]byte, len(sent)-1000)
	if _, err := io.ReadFull(stream, rest); err != nil {
		t.Fatal(err)
	}
	got := append(w.got, rest...)
	if i := firstDifference(got, sent); i >= 0 {
		t.Fatalf("%d bytes, differing from byte %d on", len(got), i)
	}
}

var errRefused = errors.New("refused")

type failingWriter struct {
	take int
	got  []byte
}

func (w *failingWriter) Write(p []byte) (int, error) {
	n := min(len(p), w.take-len(w.got))
	w.got = append(w.got, p[:n]...)
	if n < len(p) {
		return n, errRefused
	}
	return n, nil
}

// ReadData hands the whole payload over: it stays the caller's, unchanged
// by the frames read after it.
func TestReadDataKeepsItsPayload(t *testing.T) {
	stream := pipeStream(t)
	first := bytes.Repeat([]byte{'a'}, 1000)
	if _, err := stream.Write(first); err != nil {
		t.Fatal(err)
	}
	kept, err := stream.ReadData()
	if err != nil || !bytes.Equal(kept, first) {
		t.Fatalf("ReadData: %q, %v", kept, err)
	}
	for i := 0; i < 100; i++ {
		if _, err := stream.Write(bytes.Repeat([]byte{'b'}, 1000)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(stream, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(kept, first) {
		t.Errorf("the payload ReadData returned changed after later reads: %q…", kept[:20])
	}
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
