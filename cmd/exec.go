package cmd

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/stream"
)

func execCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:  "exec",
		Usage: "run a command in a container, as kubectl exec (WebSocket, SPDY for older servers); exits with the command's code",
		UsageText: "kcurl exec POD|TYPE/NAME [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]\n" +
			"   kcurl exec web -- ls /\n" +
			"   kcurl exec -it deploy/web -c app -- sh\n" +
			"   echo hi | kcurl exec -i web -- cat",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "the `CONTAINER` (default: the kubectl.kubernetes.io/default-container annotation's, then the first)"},
			&cli.BoolFlag{Name: "stdin", Aliases: []string{"i"}, Usage: "pass stdin to the container"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "with -i: stdin is a terminal, raw while the command runs"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only print what the command prints"},
		}, connectionFlags()...),
		Action: func(c *cli.Context) error { return runExec(c, s) },
	}
}

// execOptions is kcurl exec, as requestOptions is the request: complete,
// validate (reads nothing), run.
type execOptions struct {
	streams   Streams
	session   sessionOptions
	ref       stream.Ref
	refText   string
	container string
	command   []string
	stdin     bool
	tty       bool
	quiet     bool
}

func runExec(c *cli.Context, s Streams) error {
	o := &execOptions{streams: s}
	if err := o.complete(c); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	return o.run(c)
}

func (o *execOptions) complete(c *cli.Context) error {
	var err error
	if o.session, err = newSessionOptions(c, o.streams); err != nil {
		return err
	}
	args := c.Args().Slice()
	if len(args) > 0 {
		o.refText, o.command = args[0], args[1:]
	}
	o.container, o.stdin, o.tty, o.quiet = c.String("container"), c.Bool("stdin"), c.Bool("tty"), c.Bool("quiet")
	return nil
}

func (o *execOptions) validate() error {
	if o.refText == "" {
		return usagef("exec needs a POD (or TYPE/NAME) and a command: kcurl exec POD -- COMMAND [ARGS...]")
	}
	var err error
	if o.ref, err = stream.ParseRef(o.refText); err != nil {
		return err
	}
	if len(o.command) == 0 {
		return usagef("exec needs a command for the container: kcurl exec %s -- COMMAND [ARGS...]", o.refText)
	}
	if strings.HasPrefix(o.refText, "-") {
		return usagef("unknown flag %s", o.refText)
	}
	return nil
}

func (o *execOptions) run(c *cli.Context) error {
	s := o.streams
	ss, err := connectStream(c, s, o.session)
	if err != nil {
		return err
	}
	defer ss.cancel()
	remote, err := ss.remote(o.ref, o.container, "exec into", quietly(o.quiet, s))
	if err != nil {
		return err
	}
	rio, restore, err := remoteIO(s, o.stdin, o.tty, o.quiet)
	defer restore()
	if err != nil {
		return err
	}
	return remoteExit(ss.ctx, s, ss.err(remote.Exec(ss.ctx, o.command, rio)))
}

// quietly is where notices go: nowhere with -q.
func quietly(quiet bool, s Streams) io.Writer {
	if quiet {
		return nil
	}
	return s.ErrOut
}
