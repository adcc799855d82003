package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// requestOptions is `kcurl [flags] PATH`: completed from flags and the
// environment, validated without touching the network, then run.
type requestOptions struct {
	streams Streams

	targetOptions target.Options
	target        *target.Target

	spec   request.Spec
	print  output.Options
	client transport.Options

	include, silent, showCurl bool
	maxTime                   time.Duration
	maxTimeText               string
}

func runRequest(c *cli.Context, s Streams) error {
	o := &requestOptions{streams: s}
	if err := o.complete(c); err != nil {
		return err
	}
	return o.run(c.Context)
}

// complete reads the flags and checks everything that can be checked before
// any credential is read or byte is sent: usage errors come first.
func (o *requestOptions) complete(c *cli.Context) error {
	s := o.streams
	switch c.NArg() {
	case 1:
		o.spec.Path = c.Args().First()
	case 0:
		return usagef("no PATH given: try kcurl /api")
	default:
		return usagef("one PATH at a time, got %d: %s", c.NArg(), strings.Join(c.Args().Slice(), " "))
	}

	var err error
	if o.client.ConnectTimeout, err = parseDuration("connect-timeout", c.String("connect-timeout")); err != nil {
		return err
	}
	o.maxTimeText = c.String("max-time")
	if o.maxTime, err = parseDuration("max-time", o.maxTimeText); err != nil {
		return err
	}
	o.client.UserAgent = userAgent()
	o.client.Compress = true
	if c.Bool("verbose") {
		o.client.Trace = s.ErrOut
	}

	o.spec.Method = c.String("request")
	o.spec.PatchType = c.String("type")
	o.spec.FieldManager = c.String("field-manager")
	o.spec.ForceConflicts = c.Bool("force-conflicts")
	o.spec.DryRun = c.Bool("dry-run")
	o.spec.Headers = c.StringSlice("header")
	o.spec.LabelSelector = c.String("selector")
	o.spec.FieldSelector = c.String("field-selector")
	o.spec.Limit = c.Int64("limit")
	if c.IsSet("data") {
		if o.spec.Body, err = request.LoadBody(c.String("data"), s.In); err != nil {
			return err
		}
	}
	if _, err := o.spec.ResolveMethod(); err != nil {
		return err
	}

	o.include, o.silent, o.showCurl = c.Bool("include"), c.Bool("silent"), c.Bool("curl")
	if o.print, err = printOptions(c, s); err != nil {
		return err
	}
	if o.silent && o.print.Query != nil {
		return usagef("-s prints no body, so -q has nothing to filter: drop one of them")
	}

	o.targetOptions = targetOptions(c, s)
	if o.target, err = target.Resolve(o.targetOptions, s.Getenv); err != nil {
		return err
	}
	o.spec.Namespace = o.target.Namespace
	return nil
}

// printOptions reads the output flags shared by every command that prints
// API answers.
func printOptions(c *cli.Context, s Streams) (output.Options, error) {
	opts := output.Options{
		Format:     output.Format(c.String("output")),
		Indent:     2,
		RawStrings: c.Bool("raw-output"),
		ExitStatus: c.Bool("exit-status"),
		Terminal:   s.OutIsTerminal,
	}
	switch opts.Format {
	case "", output.FormatJSON, output.FormatYAML, output.FormatRaw:
	default:
		return opts, usagef("unknown output format %q: use json, yaml or raw", opts.Format)
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
		for _, flag := range []string{"arg", "argjson", "exit-status"} {
			if c.IsSet(flag) {
				return opts, usagef("--%s goes with a jq expression (-q)", flag)
			}
		}
		return opts, nil
	}
	if opts.Format == output.FormatRaw {
		return opts, usagef("-o raw prints the body untouched, so -q cannot filter it: drop one of them")
	}
	var vars []output.Var
	for _, a := range c.StringSlice("arg") {
		name, value, _ := strings.Cut(a, "=")
		vars = append(vars, output.Var{Name: name, Value: value})
	}
	for _, a := range c.StringSlice("argjson") {
		name, value, _ := strings.Cut(a, "=")
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

func (o *requestOptions) run(ctx context.Context) error {
	s := o.streams
	if o.maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.maxTime)
		defer cancel()
	}
	req, err := o.spec.Build(ctx, o.target.Server)
	if err != nil {
		return err
	}
	if o.showCurl {
		auth := request.CurlAuth{Insecure: o.target.Insecure}
		if o.target.CA != nil {
			auth.CAFile = o.target.CA.Path()
		}
		if o.target.Token != nil {
			auth.TokenFile = o.target.Token.File()
		}
		_, err := io.WriteString(s.Out, request.Curl(req, o.spec.Body, auth))
		return err
	}
	if o.target.Insecure {
		fmt.Fprintln(s.ErrOut, "kcurl: warning: -k: the server's certificate is not verified")
	}

	resp, err := transport.New(o.target, o.client).Do(req)
	if err != nil {
		return o.wrapTimeout(ctx, err)
	}
	defer resp.Body.Close()

	if o.include {
		fmt.Fprintf(s.Out, "%s %s\n", resp.Proto, resp.Status)
		if err := transport.WriteHeaders(s.Out, "", resp.Header); err != nil {
			return err
		}
		fmt.Fprintln(s.Out)
	}
	if resp.StatusCode >= 400 {
		return o.wrapTimeout(ctx, transport.ResponseError(resp))
	}
	if o.silent || req.Method == http.MethodHead {
		return nil
	}
	printer := output.NewPrinter(s.Out, s.ErrOut, o.print)
	if err := printer.Print(ctx, resp.Body, resp.Header.Get("Content-Type")); err != nil {
		return o.wrapTimeout(ctx, err)
	}
	return printer.Done()
}

// wrapTimeout names --max-time when it is what ended the request.
func (o *requestOptions) wrapTimeout(ctx context.Context, err error) error {
	if o.maxTime > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &timeoutError{limit: o.maxTimeText}
	}
	return err
}
