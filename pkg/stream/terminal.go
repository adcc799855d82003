package stream

import (
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/term"

	"github.com/kcurl/kcurl/pkg/stream/internal/remotecommand"
)

// Terminal is the local terminal of -t: raw while the remote one is used,
// its size following the window's (SIGWINCH), restored however the
// command ends.
type Terminal struct {
	In, Out *os.File

	state *term.State
	once  sync.Once
	sizes chan remotecommand.TerminalSize
	stop  chan struct{}
}

// IsTerminal: both sides are terminals, so -t can make one of them raw.
func IsTerminal(in, out any) (*os.File, *os.File, bool) {
	i, ok1 := in.(*os.File)
	o, ok2 := out.(*os.File)
	if !ok1 || !ok2 || !term.IsTerminal(int(i.Fd())) {
		return nil, nil, false
	}
	return i, o, true
}

// Raw puts the terminal in raw mode and starts following its size. Call
// Restore (deferred) on every path.
func (t *Terminal) Raw() error {
	state, err := term.MakeRaw(int(t.In.Fd()))
	if err != nil {
		return err
	}
	t.state = state
	t.sizes = make(chan remotecommand.TerminalSize, 1)
	t.stop = make(chan struct{})
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	t.send()
	go func() {
		defer signal.Stop(winch)
		for {
			select {
			case <-winch:
				t.send()
			case <-t.stop:
				close(t.sizes)
				return
			}
		}
	}()
	return nil
}

func (t *Terminal) send() {
	fd := int(t.Out.Fd())
	if !term.IsTerminal(fd) {
		fd = int(t.In.Fd())
	}
	w, h, err := term.GetSize(fd)
	if err != nil || w <= 0 || h <= 0 {
		return
	}
	select {
	case <-t.sizes: // an older size not yet sent is replaced
	default:
	}
	t.sizes <- remotecommand.TerminalSize{Width: uint16(w), Height: uint16(h)}
}

// Next is the TerminalSizeQueue client-go reads; nil ends it.
func (t *Terminal) Next() *remotecommand.TerminalSize {
	s, ok := <-t.sizes
	if !ok {
		return nil
	}
	return &s
}

// Restore gives the terminal back as it was.
func (t *Terminal) Restore() {
	t.once.Do(func() {
		if t.stop != nil {
			close(t.stop)
		}
		if t.state != nil {
			_ = term.Restore(int(t.In.Fd()), t.state)
		}
	})
}
