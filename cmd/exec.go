package cmd

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/stream"
)

func execCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command in a container, as kubectl exec (WebSocket, SPDY for older servers); exits with the command's code",
		UsageText: "kcurl exec POD|TYPE/NAME [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]",
		Flags:     remoteFlags("command"),
		Action: func(c *cli.Context) error {
			return runCommand(c, &execOptions{remoteOptions: remoteOptions{streams: s, guess: true}})
		},
	}
}

// execOptions is kcurl exec, as requestOptions is the request: complete,
// validate (reads nothing), run.
type execOptions struct {
	remoteOptions
	command []string
}

func (o *execOptions) complete(c *cli.Context) error {
	if args := c.Args().Slice(); len(args) > 0 {
		o.refText, o.command = args[0], args[1:]
	}
	return o.completeRemote(c)
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
	return nil
}

func (o *execOptions) run(c *cli.Context) error {
	return o.runRemote(c, "exec into", func(ctx context.Context, r *stream.Remote, rio stream.IO) error {
		return r.Exec(ctx, o.command, rio)
	})
}
