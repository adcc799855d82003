package cmd

import (
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"
)

// Streams are everything kcurl reads from and writes to, and the environment
// it sees. Commands receive them instead of touching os.Std* and os.Getenv,
// so a test decides all of it.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// OutIsTerminal decides colour (--color auto) and whether binary bodies
	// are withheld.
	OutIsTerminal bool
	// Columns is the terminal's width (0: not known), which the help is
	// wrapped to.
	Columns int

	// Getenv is the environment kcurl resolves KUBERNETES_SERVICE_*,
	// KCURL_*, NO_COLOR and the like from.
	Getenv func(string) string
	// Environ lists the environment for jq's $ENV.
	Environ func() []string
	// ProcDir is where other processes are found (/proc), for ephemeral
	// containers that read another container's service account; "" never
	// looks.
	ProcDir string
	// Now is the clock, for "time left" of tokens and certificates; nil is
	// the real one.
	Now func() time.Time
	// DieOf ends the process as sig would have had kcurl not caught it
	// (exitcode.Signaled); nil, or a sig the process cannot die of,
	// leaves the exit code to say it.
	DieOf func(sig os.Signal)
}

func (s Streams) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// OSStreams are the process's own.
func OSStreams() Streams {
	columns, _, err := term.GetSize(int(os.Stdout.Fd()))
	if err != nil {
		columns = 0
	}
	return Streams{
		Columns:       columns,
		In:            os.Stdin,
		Out:           os.Stdout,
		ErrOut:        os.Stderr,
		OutIsTerminal: isatty.IsTerminal(os.Stdout.Fd()) || isatty.IsCygwinTerminal(os.Stdout.Fd()),
		Getenv:        os.Getenv,
		Environ:       os.Environ,
		ProcDir:       "/proc",
		DieOf:         dieOf,
	}
}
