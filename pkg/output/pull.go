package output

import (
	"errors"
	"io"
	"iter"
)

// PullReader reads what produce writes, as it writes it: produce runs as a
// coroutine of Read, only while a Read waits for its next bytes, so what it
// does (sending the request for the next page) happens when the reader has
// got that far, never beside it. Close stops produce: its next write fails.
func PullReader(produce func(w io.Writer) error) io.ReadCloser {
	r := &pullReader{}
	r.next, r.stop = iter.Pull(func(yield func([]byte) bool) {
		r.err = produce(writerFunc(func(p []byte) (int, error) {
			if !yield(p) {
				return 0, errStopped
			}
			return len(p), nil
		}))
	})
	return r
}

var errStopped = errors.New("the reader was closed")

type pullReader struct {
	next    func() ([]byte, bool)
	stop    func()
	pending []byte
	err     error // what produce returned
	done    bool
}

func (r *pullReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.done {
			return 0, r.result()
		}
		chunk, ok := r.next()
		if !ok {
			r.done = true
			return 0, r.result()
		}
		r.pending = chunk
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func (r *pullReader) result() error {
	if r.err == nil {
		return io.EOF
	}
	return r.err
}

func (r *pullReader) Close() error {
	r.stop()
	return nil
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
