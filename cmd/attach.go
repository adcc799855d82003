package cmd

import (
	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/stream"
)

func attachCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:  "attach",
		Usage: "attach to a container's running process, as kubectl attach",
		UsageText: "kcurl attach POD|TYPE/NAME [-c CONTAINER] [-i] [-t]\n" +
			"   kcurl attach web\n" +
			"   kcurl attach -it web -c shell",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "the `CONTAINER` (default: the kubectl.kubernetes.io/default-container annotation's, then the first)"},
			&cli.BoolFlag{Name: "stdin", Aliases: []string{"i"}, Usage: "pass stdin to the container (it must have stdin: true)"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "with -i: stdin is a terminal (the container must have tty: true)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only print what the process prints"},
		}, connectionFlags()...),
		Action: func(c *cli.Context) error { return runAttach(c, s) },
	}
}

// attachOptions is kcurl attach: complete, validate (reads nothing), run.
type attachOptions struct {
	streams   Streams
	session   sessionOptions
	refText   string
	ref       stream.Ref
	container string
	stdin     bool
	tty       bool
	quiet     bool
	extra     []string
}

func runAttach(c *cli.Context, s Streams) error {
	o := &attachOptions{streams: s}
	if err := o.complete(c); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	return o.run(c)
}

func (o *attachOptions) complete(c *cli.Context) error {
	var err error
	if o.session, err = newSessionOptions(c, o.streams); err != nil {
		return err
	}
	if c.NArg() > 0 {
		o.refText, o.extra = c.Args().First(), c.Args().Tail()
	}
	o.container, o.stdin, o.tty, o.quiet = c.String("container"), c.Bool("stdin"), c.Bool("tty"), c.Bool("quiet")
	return nil
}

func (o *attachOptions) validate() error {
	switch {
	case o.refText == "":
		return usagef("attach needs a POD (or TYPE/NAME): kcurl attach POD")
	case len(o.extra) > 0:
		return usagef("attach takes one POD, got more: %v (to run a command, use kcurl exec)", o.extra)
	}
	var err error
	o.ref, err = stream.ParseRef(o.refText)
	return err
}

func (o *attachOptions) run(c *cli.Context) error {
	s := o.streams
	ss, err := connectStream(c, s, o.session)
	if err != nil {
		return err
	}
	defer ss.cancel()
	remote, err := ss.remote(o.ref, o.container, "attach", quietly(o.quiet, s))
	if err != nil {
		return err
	}
	rio, restore, err := remoteIO(s, o.stdin, o.tty, o.quiet)
	defer restore()
	if err != nil {
		return err
	}
	if !o.quiet && rio.TTY {
		s.ErrOut.Write([]byte("If you don't see a command prompt, try pressing enter.\r\n"))
	}
	return remoteExit(ss.ctx, s, ss.err(remote.Attach(ss.ctx, rio)))
}
