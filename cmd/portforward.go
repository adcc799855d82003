package cmd

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/stream"
)

func portForwardCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "port-forward",
		Usage:     "forward local ports to a Pod, as kubectl port-forward (the WebSocket tunnel, SPDY for older servers)",
		UsageText: "kcurl port-forward POD|TYPE/NAME [LOCAL:]REMOTE... [--address 127.0.0.1]",
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "address", Value: cli.NewStringSlice("127.0.0.1"), Usage: "listen on `ADDRESS` (an IP, or localhost for 127.0.0.1 and ::1; repeatable, or comma separated)"},
			podRunningTimeoutFlag(),
		}, connectionFlags()...),
		Action: func(c *cli.Context) error { return runCommand(c, &portForwardOptions{streams: s}) },
	}
}

// portForwardOptions is kcurl port-forward: complete, validate (reads
// nothing), run.
type portForwardOptions struct {
	streams           Streams
	session           sessionOptions
	refText           string
	ref               stream.Ref
	portArgs          []string
	addresses         []string
	podRunningTimeout time.Duration
}

func (o *portForwardOptions) complete(c *cli.Context) error {
	var err error
	if o.session, err = newSessionOptions(c, o.streams); err != nil {
		return err
	}
	if c.NArg() > 0 {
		o.refText, o.portArgs = c.Args().First(), c.Args().Tail()
	}
	for _, a := range c.StringSlice("address") {
		for _, part := range strings.Split(a, ",") {
			if part = strings.TrimSpace(part); part != "" {
				o.addresses = append(o.addresses, part)
			}
		}
	}
	o.podRunningTimeout, err = podRunningTimeout(c)
	return err
}

func (o *portForwardOptions) validate() error {
	if o.refText == "" || len(o.portArgs) == 0 {
		return usagef("port-forward needs a POD (or TYPE/NAME) and at least one port: kcurl port-forward POD [LOCAL:]REMOTE")
	}
	var err error
	if o.ref, err = stream.ParseRef(o.refText); err != nil {
		return err
	}
	// Names are resolved against the Pod later; numbers are checked now.
	if _, err := stream.ParsePorts(o.portArgs, portName, "container or Service port", ""); err != nil {
		return err
	}
	for _, a := range o.addresses {
		if a != "localhost" && !isIP(a) {
			return usagef("--address %q: give an IP address, or localhost", a)
		}
	}
	return nil
}

func (o *portForwardOptions) run(c *cli.Context) error {
	s := o.streams
	ss, err := connectStream(c, s, o.session)
	if err != nil {
		return err
	}
	defer ss.cancel()
	ss.podRunningTimeout = o.podRunningTimeout
	ss.processors.oneNow()
	pod, workload, err := ss.findPod(o.ref)
	if err != nil {
		if cutShort(ss.ctx) != nil {
			return nil // stopped before it listened, as while it waits for the upgrade
		}
		return ss.err(err)
	}
	if !pod.Running() {
		return exitcode.Targetf("unable to forward port because pod is not running. Current status=%s", pod.Status.Phase)
	}
	named, what, owner := pod.NamedPort, "container port", fmt.Sprintf("Pod '%s'", pod.Metadata.Name)
	service := workload != nil && workload.Kind == "Service"
	if service {
		// svc/NAME's ports are the Service's, by number or name.
		named, what, owner = workload.NamedPort, "Service port", fmt.Sprintf("Service '%s'", o.ref.Name)
	}
	ports, err := stream.ParsePorts(o.portArgs, named, what, owner)
	if err != nil {
		return err
	}
	if service {
		// The Service's port is forwarded to the Pod's port behind it.
		for i, p := range ports {
			target, err := workload.TargetPort(int32(p.Remote), pod)
			if err != nil {
				return err
			}
			ports[i].Remote = uint16(target)
		}
	}
	u, err := stream.ForwardURL(ss.target.Server, pod)
	if err != nil {
		return err
	}
	dialer, err := stream.Dialer(ss.ctx, ss.config, u)
	if err != nil {
		return err
	}
	pods := ss.pods()
	f := &stream.Forwarder{Dialer: dialer, Addresses: o.addresses, Ports: ports, Out: s.Out, ErrOut: s.ErrOut,
		PodGone: func(ctx context.Context) error { return pods.Gone(ctx, pod) }}
	return ss.err(f.Run(ss.ctx))
}

func isIP(s string) bool { return net.ParseIP(s) != nil }

// portName stands for the Pod's named ports before the Pod is read: any
// port name may be one.
func portName(string) (int32, bool) { return 1, true }
