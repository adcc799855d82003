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

// TeePage passes body through to whoever reads the returned reader, and
// reads the list page in it on the side, as the bytes go by: page, once the
// body has been read to its end, says what the page says about the rest of
// the list. So a page is printed as it arrives and never held.
func TeePage(body io.Reader) (through io.Reader, page func() (Page, error)) {
	t := &pageTee{}
	t.next, t.stop = iter.Pull(func(yield func(struct{}) bool) {
		in := readerFunc(func(p []byte) (int, error) {
			for len(t.in) == 0 {
				if t.eof || !yield(struct{}{}) {
					return 0, io.EOF
				}
			}
			n := copy(p, t.in)
			t.in = t.in[n:]
			return n, nil
		})
		t.page, t.err = NewListMerger(io.Discard, false).Add(in)
	})
	t.more = true
	return io.TeeReader(body, t), t.result
}

type pageTee struct {
	next func() (struct{}, bool)
	stop func()
	in   []byte
	eof  bool
	more bool // the page is still being read
	page Page
	err  error
}

// Write hands p to the page reader and waits until it has taken all of it.
func (t *pageTee) Write(p []byte) (int, error) {
	if t.more {
		t.in = p
		_, t.more = t.next()
	}
	return len(p), nil
}

func (t *pageTee) result() (Page, error) {
	if t.more {
		t.eof = true
		_, t.more = t.next()
	}
	t.stop()
	return t.page, t.err
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
