package cmd

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/stream"
)

func attachCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "attach",
		Usage:     "attach to a container's running process, as kubectl attach",
		UsageText: "kcurl attach POD|TYPE/NAME [-c CONTAINER] [-i] [-t]",
		Flags:     remoteFlags("process"),
		Action: func(c *cli.Context) error {
			return runCommand(c, &attachOptions{remoteOptions: remoteOptions{streams: s, containerTTY: true}})
		},
	}
}

// attachOptions is kcurl attach: complete, validate (reads nothing), run.
type attachOptions struct {
	remoteOptions
	extra []string
}

func (o *attachOptions) complete(c *cli.Context) error {
	if c.NArg() > 0 {
		o.refText, o.extra = c.Args().First(), c.Args().Tail()
	}
	return o.completeRemote(c)
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
	var ended *stream.Remote // an interactive session on a terminal that ended well
	err := o.runRemote(c, "attach", func(ctx context.Context, r *stream.Remote, rio stream.IO) error {
		if !o.quiet {
			eol := "\n"
			if rawTerminal(rio) {
				eol = "\r\n" // the terminal is raw already
			}
			fmt.Fprint(o.streams.ErrOut, attachNotice+eol+"If you don't see a command prompt, try pressing enter."+eol)
		}
		err := r.Attach(ctx, rio)
		if err == nil && rawTerminal(rio) && rio.Stdin != nil {
			ended = r
		}
		return err
	})
	// After runRemote: the terminal is cooked again.
	if err == nil && ended != nil && !o.quiet {
		fmt.Fprintln(o.streams.Out, reattachHint(c.App.Name+" attach", ended))
	}
	return err
}

// reattachHint is kubectl's line after an interactive session ends: how
// to come back to the process, which a container restarts (the main
// process of an ephemeral container is not restarted).
func reattachHint(command string, r *stream.Remote) string {
	again := fmt.Sprintf("'%s %s -c %s -n %s -i -t'", command, r.Pod.Metadata.Name, r.Container, r.Pod.Metadata.Namespace)
	if r.Pod.IsEphemeral(r.Container) {
		return "Session ended, the ephemeral container will not be restarted but may be reattached using " + again + " if it is still running"
	}
	return "Session ended, resume using " + again + " command"
}

// attachNotice is kubectl attach's (1.37) warning before every attach.
const attachNotice = "All commands and output from this session will be recorded in container logs, " +
	"including credentials and sensitive information passed through the command prompt."
