package cmd

import (
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/request"
)

// requestOptions is `kcurl [flags] PATH|RESOURCE`, in kubectl's order:
// completed from the flags (complete), checked without reading a file or
// touching the network (validate), then run: the credentials (connect),
// and one call into pkg/apiclient for discovery and the whole exchange.
type requestOptions struct {
	streams Streams
	session sessionOptions
	req     apiclient.Request

	method        string
	include       bool
	showCurl      bool
	relist        bool
	timeoutGiven  bool
	followGiven   bool
	logFlagsGiven []string // log flags, which only a pod's log takes
}

func runRequest(c *cli.Context, s Streams) error {
	if kind := rawStreamKind(c); kind != "" {
		return runRawStream(c, s, kind) // exec, attach, portforward: upgraded
	}
	o := &requestOptions{streams: s}
	if err := o.complete(c); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	return o.run(c)
}

// complete reads the flags (and -d's file): usage errors come before any
// credential is read or byte is sent.
func (o *requestOptions) complete(c *cli.Context) error {
	s := o.streams
	r := &o.req
	switch c.NArg() {
	case 1:
		r.Target = c.Args().First()
	case 0:
		return usagef("no PATH or RESOURCE given: try kcurl /api, or kcurl pods")
	default:
		return usagef("one PATH or RESOURCE at a time, got %d: %s", c.NArg(), strings.Join(c.Args().Slice(), " "))
	}

	var err error
	if o.session, err = newSessionOptions(c, s); err != nil {
		return err
	}
	if r.Timeout, err = parseDuration("timeout", c.String("timeout")); err != nil {
		return err
	}
	o.timeoutGiven = c.IsSet("timeout")

	r.Spec = request.Spec{
		Method:         c.String("request"),
		PatchType:      c.String("type"),
		FieldManager:   c.String("field-manager"),
		ForceConflicts: c.Bool("force-conflicts"),
		DryRun:         c.Bool("dry-run"),
		Headers:        c.StringSlice("header"),
		LabelSelector:  c.String("selector"),
		FieldSelector:  c.String("field-selector"),
		Limit:          c.Int64("limit"),
	}
	if c.IsSet("data") {
		if r.Spec.Body, err = request.LoadBody(c.String("data"), s.In); err != nil {
			return err
		}
	}
	if o.method, err = r.Spec.ResolveMethod(); err != nil {
		return err
	}

	o.include, o.showCurl, r.Silent = c.Bool("include"), c.Bool("curl"), c.Bool("silent")
	r.All, r.PerPage, r.AllNamespaces = c.Bool("all"), c.Bool("per-page"), c.Bool("all-namespaces")
	o.relist = c.Bool("relist")
	if c.Bool("watch") || c.Bool("watch-only") || typedWatch(r.Target) {
		r.Watch = &apiclient.WatchOptions{ChangesOnly: c.Bool("watch-only")}
	}
	if r.Print, err = printOptions(c, s); err != nil {
		return err
	}
	switch r.Print.Format {
	case "table", "wide":
		r.Table = &output.TableOptions{Wide: r.Print.Format == "wide", Color: r.Print.Color}
		r.Spec.Accept = output.TableAccept
	}
	for _, flag := range []string{"follow", "container", "tail", "since", "timestamps", "previous"} {
		if c.IsSet(flag) {
			o.logFlagsGiven = append(o.logFlagsGiven, flag)
		}
	}
	o.followGiven = c.Bool("follow")
	if isLogTarget(r.Target) {
		if err := o.completeLog(c); err != nil {
			return err
		}
	}
	if r.Watch != nil {
		r.Watch.Relist = o.relist
		if !s.OutIsTerminal && !c.IsSet("compact-output") {
			r.Print.Indent = 0 // NDJSON: one event per line in a pipe
		}
		r.Print.FlushEachValue = true
	}
	r.Streaming = r.Watch != nil || r.Spec.Log.Follow
	return nil
}

// completeLog maps the log flags to a pod's log options.
func (o *requestOptions) completeLog(c *cli.Context) error {
	l := &o.req.Spec.Log
	l.Follow, l.Container = c.Bool("follow"), c.String("container")
	l.Timestamps, l.Previous = c.Bool("timestamps"), c.Bool("previous")
	if c.IsSet("tail") {
		tail := c.Int64("tail")
		l.TailLines = &tail
	}
	if v := c.String("since"); v != "" {
		var err error
		if l.Since, err = request.ParseSince(v); err != nil {
			return err
		}
	}
	return nil
}

// validate checks the combination of flags; it reads nothing and sends
// nothing.
func (o *requestOptions) validate() error {
	r := &o.req
	watch := r.Watch != nil
	switch {
	case r.Silent && r.Print.Query != nil:
		return usagef("-s prints no body, so -q has nothing to filter: drop one of them")
	case r.Table != nil && r.Print.Query != nil:
		return usagef("-o %s prints the server's table, so -q has nothing to filter: use -o json", r.Print.Format)
	case watch && r.All:
		return usagef("--all pages through a list and -w watches: choose one")
	case r.PerPage && !r.All:
		return usagef("--per-page goes with --all")
	case o.relist && !watch:
		return usagef("--relist goes with -w")
	case o.timeoutGiven && !watch && !o.followGiven:
		return usagef("--timeout ends a watch (-w) or a followed log (-f); for any request use --max-time")
	case (watch || r.All) && o.method != http.MethodGet:
		return usagef("-w and --all are for GET, not %s", o.method)
	case len(o.logFlagsGiven) > 0 && !isLogTarget(r.Target):
		flag := o.logFlagsGiven[0]
		return usagef("--%s goes with a pod's log: kcurl pods/NAME/log --%s …", flag, flag)
	}
	return nil
}

// run connects, then leaves the whole exchange to pkg/apiclient.
func (o *requestOptions) run(c *cli.Context) error {
	s := o.streams
	api, err := o.session.connect(c, s)
	if err != nil {
		return err
	}
	defer api.cancel()
	ctx := api.ctx
	if o.req.Streaming {
		// Ctrl-C ends a watch or a followed log; that is success.
		var stop func()
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	r := o.req
	r.Namespace, r.Resources = api.target.Namespace, api.discovery()
	r.Out, r.ErrOut = s.Out, s.ErrOut
	if o.showCurl {
		auth := apiclient.CurlAuth(api.target)
		r.Curl = &auth
	}
	client := api.apiClient()
	if o.include {
		client.Include = s.Out
	}
	return api.err(client.Do(ctx, r))
}

// typedWatch: ?watch=true (or 1) in a typed path is a watch too.
func typedWatch(arg string) bool {
	_, query, ok := strings.Cut(arg, "?")
	if !ok {
		return false
	}
	q, _ := url.ParseQuery(query)
	w := q.Get("watch")
	return w == "true" || w == "1"
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
	case "", output.FormatJSON, output.FormatYAML, output.FormatRaw, output.FormatName, "table", "wide":
	default:
		return opts, usagef("unknown output format %q: use json, yaml, raw, table, wide or name", opts.Format)
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
