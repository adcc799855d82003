package cmd

import (
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/debug"
	"github.com/kcurl/kcurl/pkg/exitcode"
)

func debugCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "debug",
		Usage:     "run kcurl in an ephemeral container of a Pod, as a container's service account there; its output and exit code come back",
		UsageText: "kcurl debug POD [--target CONTAINER] [--image IMAGE] [-c NAME] [-- KCURL-ARGS...]",
		Description: "The ephemeral container mounts the target container's service account at " + debug.ServiceAccountDir +
			" (read-only), shares its processes (targetContainerName), and is restricted-compliant: runAsNonRoot, the target's " +
			"user and group (else the image's, 65532), capabilities drop ALL, no privilege escalation, seccomp RuntimeDefault, " +
			"a read-only root filesystem. Its name (kcurl-XXXXX) is said on stderr; ephemeral containers cannot be removed. " +
			"Its log (kcurl's stdout and stderr together) is streamed to stdout to the end, and kcurl debug exits with its exit code. " +
			"Needs get and watch pods, patch pods/ephemeralcontainers and get pods/log in the Pod's namespace.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "target", Usage: "the `CONTAINER` whose service account and processes to share (default: the Pod's default container)"},
			&cli.StringFlag{Name: "image", Usage: "the kcurl `IMAGE` to run, with kcurl at /kcurl (default: $KCURL_IMAGE)"},
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "the ephemeral container's `NAME` (default: kcurl-XXXXX)"},
			&cli.StringFlag{Name: "image-pull-policy", Usage: "`POLICY`: Always, IfNotPresent or Never (default: the server's)"},
			&cli.StringFlag{Name: "timeout", Value: "2m", Usage: "give up if the container has not started within `DURATION` (exit 1)"},
		}, connectionFlags()...),
		Action: func(c *cli.Context) error { return runCommand(c, &debugOptions{streams: s}) },
	}
}

// debugOptions is `kcurl debug`, an options of command.go.
type debugOptions struct {
	streams Streams
	session sessionOptions
	debug   debug.Options
}

// complete reads the flags and the environment ($KCURL_IMAGE).
func (o *debugOptions) complete(c *cli.Context) error {
	var err error
	if o.session, err = newSessionOptions(c, o.streams); err != nil {
		return err
	}
	d := &o.debug
	if c.NArg() > 0 {
		d.Pod = c.Args().First()
		d.Args = c.Args().Tail()
	}
	// kubectl's spellings of a Pod are taken too.
	for _, prefix := range []string{"pod/", "pods/", "po/"} {
		d.Pod = strings.TrimPrefix(d.Pod, prefix)
	}
	d.Target, d.Name, d.PullPolicy = c.String("target"), c.String("container"), c.String("image-pull-policy")
	if d.Image = c.String("image"); d.Image == "" {
		d.Image = o.streams.Getenv("KCURL_IMAGE")
	}
	if d.StartTimeout, err = parseDuration("timeout", c.String("timeout")); err != nil {
		return err
	}
	return nil
}

// dnsLabel is a container's name (and a Pod's name's shape, loosely).
var dnsLabel = lazyRegexp(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// validate checks what was typed; it reads nothing and sends nothing.
func (o *debugOptions) validate() error {
	d := o.debug
	switch {
	case d.Pod == "":
		return usagef("debug needs a POD: kcurl debug POD [-- KCURL-ARGS...]")
	case strings.ContainsAny(d.Pod, "/%") || d.Pod == "." || d.Pod == "..":
		return usagef("%q is not a Pod's name", d.Pod)
	case d.Image == "":
		return usagef("no image to run: give --image IMAGE or set KCURL_IMAGE (an image with kcurl at /kcurl, such as this repository's Dockerfile builds)")
	case d.Name != "" && (len(d.Name) > 63 || !dnsLabel().MatchString(d.Name)):
		return usagef("-c %q is not a container name (lower-case letters, digits and '-', at most 63)", d.Name)
	case d.PullPolicy != "" && d.PullPolicy != "Always" && d.PullPolicy != "IfNotPresent" && d.PullPolicy != "Never":
		return usagef("invalid --image-pull-policy %q: use Always, IfNotPresent or Never", d.PullPolicy)
	case d.StartTimeout <= 0:
		return usagef("--timeout must be more than 0")
	}
	return nil
}

// run connects, then leaves the whole exchange to pkg/debug. The inner
// kcurl's exit code is kcurl debug's, without a word more: its output said
// it.
func (o *debugOptions) run(c *cli.Context) error {
	s := o.streams
	api, err := o.session.connect(c, s)
	if err != nil {
		return err
	}
	defer api.cancel()
	ctx, stop := stopOnSignals(api.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := o.debug
	d.Namespace = api.target.Namespace
	debugger := &debug.Debugger{Client: api.api, Out: s.Out, Notices: s.ErrOut}
	err = debugger.Run(ctx, d)
	var inner *debug.InnerExitError
	if errors.As(err, &inner) {
		return &exitcode.ReportedError{Err: err}
	}
	return api.err(err)
}
