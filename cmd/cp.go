package cmd

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/stream"
)

func cpCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "cp",
		Usage:     "copy files to and from a container, as kubectl cp (tar in the container; nothing is written outside the destination)",
		UsageText: "kcurl cp [NS/]POD:PATH LOCAL | LOCAL [NS/]POD:PATH [-c CONTAINER] [--no-preserve] [--retries N]",
		Flags: append([]cli.Flag{
			containerFlag(),
			&cli.BoolFlag{Name: "no-preserve", Usage: "do not give the copy the owners and permissions of its source: tar in the container does not (kubectl's); copies here get 0666 and 0777, less the umask"},
			&cli.IntFlag{Name: "retries", Usage: "resume a copy from the container whose stream breaks, up to `N` times, where it broke (needs sh and tail there, as kubectl's does); negative: until it completes"},
		}, connectionFlags()...),
		Action: func(c *cli.Context) error { return runCommand(c, &cpOptions{streams: s}) },
	}
}

// cpOptions is kcurl cp: complete, validate (sends nothing), run.
type cpOptions struct {
	streams   Streams
	session   sessionOptions
	args      []string
	container string
	copier    stream.Copier

	local  string
	remote podPath
	toPod  bool
}

// podPath is [NS/]POD:PATH.
type podPath struct {
	namespace, pod, path string
}

// parsePodPath reads [NS/]POD:PATH; ok is false for a local path (no
// colon, or one that starts as a path does: /, ./, ../, ~).
func parsePodPath(arg string) (podPath, bool) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") || strings.HasPrefix(arg, "~") {
		return podPath{}, false
	}
	pod, path, ok := strings.Cut(arg, ":")
	if !ok || pod == "" {
		return podPath{}, false
	}
	p := podPath{pod: pod, path: path}
	if ns, name, nested := strings.Cut(pod, "/"); nested {
		if strings.Contains(name, "/") {
			return podPath{}, false
		}
		p.namespace, p.pod = ns, name
	}
	return p, true
}

func (o *cpOptions) complete(c *cli.Context) error {
	var err error
	if o.session, err = newSessionOptions(c, o.streams); err != nil {
		return err
	}
	o.args, o.container = c.Args().Slice(), c.String("container")
	o.copier = stream.Copier{Stderr: o.streams.ErrOut, Notices: o.streams.ErrOut, NoPreserve: c.Bool("no-preserve"), Retries: c.Int("retries")}
	return nil
}

func (o *cpOptions) validate() error {
	if len(o.args) != 2 {
		return usagef("cp takes a source and a destination: kcurl cp POD:PATH LOCAL, or kcurl cp LOCAL POD:PATH")
	}
	src, srcRemote := parsePodPath(o.args[0])
	dest, destRemote := parsePodPath(o.args[1])
	switch {
	case srcRemote && destRemote:
		return usagef("cp copies between a container and here, not between two containers (a local path with a colon: start it with ./)")
	case !srcRemote && !destRemote:
		return usagef("cp needs one side in a container: [NS/]POD:PATH")
	case srcRemote:
		o.remote, o.local = src, o.args[1]
	default:
		o.remote, o.local, o.toPod = dest, o.args[0], true
	}
	if o.remote.path == "" {
		return usagef("%s: give a path in the container after the colon", o.args[map[bool]int{false: 0, true: 1}[o.toPod]])
	}
	if o.local == "" {
		return usagef("cp needs a local path")
	}
	if o.toPod {
		return stream.CheckSource(o.local) // before anything is sent
	}
	return nil
}

func (o *cpOptions) run(c *cli.Context) error {
	s := o.streams
	ss, err := connectStream(c, s, o.session)
	if err != nil {
		return err
	}
	defer ss.cancel()
	ss.processors.oneNow()
	if o.remote.namespace != "" {
		ss.target.Namespace = o.remote.namespace
	}
	ref, say := stream.Ref{Name: o.remote.pod}, "copy files with"
	remote, err := ss.remote(ref, o.container, say, s.ErrOut, readUnlessNamed)
	if err != nil {
		return err
	}
	err = ss.retryReadingPod(remote, ref, o.container, say, s.ErrOut, readUnlessNamed, func(r *stream.Remote) error {
		copier := o.copier
		copier.Exec = r.Exec
		if o.toPod {
			return copier.To(ss.ctx, o.local, o.remote.path)
		}
		return copier.From(ss.ctx, o.remote.path, o.local)
	})
	if sig := cutShort(ss.ctx); err != nil && sig != nil {
		return sig // a copy cut short is no success
	}
	return ss.err(err)
}
