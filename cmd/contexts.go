package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/yaml"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/target"
)

// kubectl config's commands that read the kubeconfig, which scripts and
// habits reach for: its contexts, the current one, its clusters and users,
// and the whole of it. kcurl has no
// commands that write it (use-context, set-context): kubectl's are there
// for that.
func configSubcommands(s Streams) []*cli.Command {
	// The connection flags, as config's: --kubeconfig says which file is
	// read; the others are taken, as kubectl takes its global flags here,
	// and change nothing.
	return []*cli.Command{
		{
			Name:      "get-contexts",
			Usage:     "list the kubeconfig's contexts, the current one marked *, as kubectl config get-contexts (sends nothing)",
			UsageText: "kcurl config get-contexts [NAME...] [-o name] [--no-headers]",
			Flags: append([]cli.Flag{
				&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`FORMAT`: name (the names alone), or the table by default"},
				&cli.BoolFlag{Name: "no-headers", Usage: "the table without its header line"},
			}, connectionFlags()...),
			Action: func(c *cli.Context) error { return runCommand(c, &getContextsOptions{streams: s}) },
		},
		{
			Name:      "view",
			Usage:     "print the kubeconfig, its secrets redacted, as kubectl config view (sends nothing)",
			UsageText: "kcurl config view [--minify] [-o yaml|json|jsonpath=…|go-template=…]",
			Flags: append([]cli.Flag{
				&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`FORMAT`: yaml (default), json, or kubectl's jsonpath=…, go-template=… and the others"},
				&cli.BoolFlag{Name: "minify", Usage: "only what the current context (or --context) uses, as kubectl's"},
				// kubectl's, which print the secrets: refused (complete).
				&cli.BoolFlag{Name: "raw", Hidden: true},
				&cli.BoolFlag{Name: "flatten", Hidden: true},
			}, connectionFlags()...),
			Action: func(c *cli.Context) error { return runCommand(c, &configViewOptions{streams: s}) },
		},
		{
			Name:      "current-context",
			Usage:     "print the kubeconfig's current-context, as kubectl config current-context (sends nothing)",
			UsageText: "kcurl config current-context",
			Flags:     connectionFlags(),
			Action:    func(c *cli.Context) error { return runCommand(c, &currentContextOptions{streams: s}) },
		},
		namesCommand(s, "get-clusters", "clusters", func(k *target.Contexts) []string { return k.Clusters }),
		namesCommand(s, "get-users", "users", func(k *target.Contexts) []string { return k.Users }),
	}
}

// namesCommand is `kcurl config get-clusters` or `get-users`: the names
// of the kubeconfig's clusters or users.
func namesCommand(s Streams, name, what string, names func(*target.Contexts) []string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     fmt.Sprintf("list the kubeconfig's %s, as kubectl config %s (sends nothing)", what, name),
		UsageText: "kcurl config " + name,
		Flags:     connectionFlags(),
		Action: func(c *cli.Context) error {
			return runCommand(c, &namesOptions{streams: s, command: name, names: names})
		},
	}
}

// namesOptions is `kcurl config get-clusters` and `get-users`: kubectl's
// list, a NAME header and a name a line, sorted (kubectl's get-clusters
// lists them in whatever order its map gives, from run to run).
type namesOptions struct {
	streams Streams
	command string
	names   func(*target.Contexts) []string
}

func (o *namesOptions) complete(c *cli.Context) error {
	return noArguments("config "+o.command, c.Args().Slice())
}

func (o *namesOptions) validate() error { return nil }

func (o *namesOptions) run(c *cli.Context) error {
	s := o.streams
	contexts, err := target.ReadContexts(targetOptions(c, s), s.Getenv)
	if err != nil {
		return err
	}
	var list strings.Builder
	list.WriteString("NAME\n")
	for _, name := range o.names(contexts) {
		list.WriteString(name + "\n")
	}
	_, err = io.WriteString(s.Out, list.String())
	return err
}

// getContextsOptions is `kcurl config get-contexts`: kubectl's table of
// the kubeconfig's contexts, byte for byte.
type getContextsOptions struct {
	streams   Streams
	names     []string // the contexts asked for; none: every one
	nameOnly  bool     // -o name
	noHeaders bool
}

func (o *getContextsOptions) complete(c *cli.Context) error {
	switch format := c.String("output"); format {
	case "", "name":
		o.nameOnly = format == "name"
	default:
		return usagef("-o %s is not available in config get-contexts: -o name prints the names alone, no -o the table", format)
	}
	o.names, o.noHeaders = c.Args().Slice(), c.Bool("no-headers")
	return nil
}

func (o *getContextsOptions) validate() error { return nil }

func (o *getContextsOptions) run(c *cli.Context) error {
	s := o.streams
	contexts, err := target.ReadContexts(targetOptions(c, s), s.Getenv)
	if err != nil {
		return err
	}
	names, missing := contexts.Select(o.names)
	// kubectl's tabwriter, so that the columns are its own.
	w := printers.GetNewTabWriter(s.Out)
	if !o.nameOnly && !o.noHeaders {
		fmt.Fprintln(w, "CURRENT\tNAME\tCLUSTER\tAUTHINFO\tNAMESPACE")
	}
	for _, name := range names {
		if o.nameOnly {
			fmt.Fprintln(w, name)
			continue
		}
		current, ctx := " ", contexts.ByName[name]
		if name == contexts.Current {
			current = "*"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", current, name, ctx.Cluster, ctx.AuthInfo, ctx.Namespace)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(missing) > 0 {
		return exitcode.With(exitcode.Credentials, fmt.Errorf("context %s not found in the kubeconfig", strings.Join(missing, ", ")))
	}
	return nil
}

// currentContextOptions is `kcurl config current-context`.
type currentContextOptions struct{ streams Streams }

func (o *currentContextOptions) complete(c *cli.Context) error {
	return noArguments("config current-context", c.Args().Slice())
}

func (o *currentContextOptions) validate() error { return nil }

func (o *currentContextOptions) run(c *cli.Context) error {
	s := o.streams
	contexts, err := target.ReadContexts(targetOptions(c, s), s.Getenv)
	if err != nil {
		return err
	}
	if contexts.Current == "" {
		return exitcode.With(exitcode.Credentials, fmt.Errorf("current-context is not set"))
	}
	_, err = fmt.Fprintln(s.Out, contexts.Current)
	return err
}

// configViewOptions is `kcurl config view`: the kubeconfig as kubectl
// config view prints it, byte for byte.
type configViewOptions struct {
	streams Streams
	minify  bool
	format  string                // yaml or json, when kubectl is nil
	kubectl *output.KubectlFormat // -o jsonpath=…, go-template=…
}

func (o *configViewOptions) complete(c *cli.Context) error {
	if err := noArguments("config view", c.Args().Slice()); err != nil {
		return err
	}
	for _, flag := range []string{"raw", "flatten"} {
		if c.Bool(flag) {
			return usagef("--%s would print the kubeconfig's secrets, which kcurl never prints: read the file itself", flag)
		}
	}
	o.minify = c.Bool("minify")
	given := c.String("output")
	if output.IsKubectlFormat(given) {
		var err error
		o.kubectl, err = output.ParseKubectlFormat(given, output.KubectlOptions{AllowMissingKeys: true})
		return err
	}
	var err error
	o.format, err = outputFormat(given, "yaml", "yaml", "json", "jsonpath=…", "go-template=…")
	return err
}

func (o *configViewOptions) validate() error { return nil }

func (o *configViewOptions) run(c *cli.Context) error {
	s := o.streams
	view, err := target.KubeconfigView(targetOptions(c, s), s.Getenv, o.minify)
	if err != nil {
		return err
	}
	switch {
	case o.kubectl != nil:
		printer := output.NewPrinter(s.Out, s.ErrOut, output.Options{Kubectl: o.kubectl})
		if err := printer.Print(c.Context, bytes.NewReader(view), "application/json"); err != nil {
			return err
		}
		return printer.Done()
	case o.format == "json":
		// kubectl's JSON printer: four spaces, a newline at the end.
		var b bytes.Buffer
		if err := json.Indent(&b, view, "", "    "); err != nil {
			return err
		}
		b.WriteByte('\n')
		_, err = s.Out.Write(b.Bytes())
		return err
	}
	// kubectl's YAML printer: the JSON as YAML, its keys sorted.
	y, err := yaml.JSONToYAML(view)
	if err != nil {
		return err
	}
	_, err = s.Out.Write(y)
	return err
}
