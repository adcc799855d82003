package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/output"
)

// options is every command, in kubectl's order
// (docs/architecture.md#how-to-add-a-command): complete reads the flags (and what they name: -d's
// file); validate checks their combination and reads nothing, sends
// nothing; run connects and makes one call into pkg/. So a typo is exit 2
// even where no credentials exist.
type options interface {
	complete(c *cli.Context) error
	validate() error
	run(c *cli.Context) error
}

// runCommand is every command's Action: o complete, validate, then run.
func runCommand(c *cli.Context, o options) error {
	if err := o.complete(c); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	return o.run(c)
}

// outputFormat is the one place -o is checked: the format given, when the
// command prints it, or def when none is given.
func outputFormat(given, def string, formats ...string) (string, error) {
	if given == "" {
		return def, nil
	}
	if slices.Contains(formats, given) {
		return given, nil
	}
	list := strings.Join(formats[:len(formats)-1], ", ") + " or " + formats[len(formats)-1]
	return "", usagef("unknown output format %q: use %s", given, list)
}

// printDocument prints a document of kcurl's own (a review's status, the
// resolved target, a schema) as an answer is printed: -o json or yaml,
// in colour when color.
func printDocument(ctx context.Context, s Streams, format string, color bool, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return output.NewPrinter(s.Out, s.ErrOut, output.Options{Format: output.Format(format), Indent: 2, Color: color}).
		Print(ctx, bytes.NewReader(doc), "application/json")
}

// noArguments refuses arguments to a command that takes none.
func noArguments(command string, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %s", command, strings.Join(args, " "))
	}
	return nil
}

// printOptions reads the output flags shared by every command that prints
// API answers.
func printOptions(c *cli.Context, s Streams) (output.Options, error) {
	opts := output.Options{
		Indent:     2,
		RawStrings: c.Bool("raw-output"),
		ExitStatus: c.Bool("exit-status"),
		Terminal:   s.OutIsTerminal,
	}
	given := c.String("output")
	if c.IsSet("template") && slices.Contains([]string{"jsonpath", "jsonpath-as-json", "jsonpath-file", "go-template", "go-template-file", "template", "templatefile"}, given) {
		given += "=" + c.String("template") // kubectl's -o go-template --template '…'
	} else if c.IsSet("template") {
		return opts, usagef("--template goes with -o jsonpath, jsonpath-file, go-template, go-template-file or template, without their own =TEMPLATE")
	}
	if output.IsKubectlFormat(given) {
		k, err := output.ParseKubectlFormat(given, output.KubectlOptions{
			AllowMissingKeys:  c.Bool("allow-missing-template-keys"),
			ShowManagedFields: c.Bool("show-managed-fields"),
			NoHeaders:         c.Bool("no-headers"),
		})
		if err != nil {
			return opts, err
		}
		opts.Kubectl = k
	} else {
		format, err := outputFormat(given, "", "json", "yaml", "raw", "table", "wide", "name", "kyaml", "jsonpath=…", "custom-columns=…", "go-template=…")
		if err != nil {
			return opts, err
		}
		opts.Format = output.Format(format)
	}
	if c.Bool("compact-output") {
		opts.Indent = 0
	}
	color, err := useColor(c.String("color"), s)
	if err != nil {
		return opts, err
	}
	opts.Color = color

	expr := c.String("jq")
	if expr == "" {
		for _, flag := range []string{"arg", "argjson", "exit-status", "raw-output"} {
			if c.IsSet(flag) {
				return opts, usagef("--%s goes with a jq expression (-q)", flag)
			}
		}
		return opts, nil
	}
	if opts.Format == output.FormatRaw || opts.Format == output.FormatName {
		return opts, usagef("-o %s cannot be filtered with -q: drop one of them", opts.Format)
	}
	if opts.Kubectl != nil {
		return opts, usagef("-o %s and -q each choose what to print: drop one of them", opts.Kubectl.Name)
	}
	var vars []output.Var
	for _, a := range c.StringSlice("arg") {
		name, value, ok := strings.Cut(a, "\x00")
		if !ok {
			return opts, usagef("--arg takes a NAME and a VALUE: --arg %s VALUE", a)
		}
		vars = append(vars, output.Var{Name: name, Value: value})
	}
	for _, a := range c.StringSlice("argjson") {
		name, value, ok := strings.Cut(a, "\x00")
		if !ok {
			return opts, usagef("--argjson takes a NAME and a JSON value: --argjson %s VALUE", a)
		}
		v, err := output.ParseJSONArg(name, value)
		if err != nil {
			return opts, err
		}
		vars = append(vars, v)
	}
	opts.Query, err = output.CompileQuery(expr, vars, s.Environ)
	return opts, err
}

// useColor decides colour once: the flag, then NO_COLOR and TERM=dumb, then
// whether stdout is a terminal.
func useColor(mode string, s Streams) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		if s.Getenv("NO_COLOR") != "" || s.Getenv("TERM") == "dumb" {
			return false, nil
		}
		return s.OutIsTerminal, nil
	}
	return false, usagef("invalid --color %q: use auto, always or never", mode)
}
