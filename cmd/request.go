package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// requestOptions is `kcurl [flags] PATH|RESOURCE`: completed from flags and
// the environment, validated without touching the network, then run.
type requestOptions struct {
	streams Streams

	target    *target.Target
	client    *http.Client
	transport transport.Options

	arg  string       // PATH or RESOURCE as typed
	spec request.Spec // the request; Path is set per resolved path
	// paths are what arg resolved to: one, or one per resource of a
	// category. resources holds the discovery entries behind them.
	paths     []string
	resources []discovery.Resource
	category  bool // arg named a category: its lists merge into one v1 List

	print         output.Options
	table         *output.TableOptions // -o table|wide
	allNamespaces bool

	include, silent, showCurl bool
	all, perPage              bool
	watch, relist             bool
	streaming                 bool // a watch or a followed log: Ctrl-C ends it cleanly
	maxTime, timeout          time.Duration
	maxTimeText               string
	// deadline is when --max-time runs out: it counts from the start, so
	// that discovery and the request share it.
	deadline time.Time
}

// defaultPageSize is --all's limit= when none is given.
const defaultPageSize = 500

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
		o.arg = c.Args().First()
	case 0:
		return usagef("no PATH or RESOURCE given: try kcurl /api, or kcurl pods")
	default:
		return usagef("one PATH or RESOURCE at a time, got %d: %s", c.NArg(), strings.Join(c.Args().Slice(), " "))
	}

	var err error
	if o.transport, err = clientOptions(c, s); err != nil {
		return err
	}
	o.maxTimeText = c.String("max-time")
	if o.maxTime, err = parseDuration("max-time", o.maxTimeText); err != nil {
		return err
	}
	if o.maxTime > 0 {
		o.deadline = time.Now().Add(o.maxTime)
	}
	if o.timeout, err = parseDuration("timeout", c.String("timeout")); err != nil {
		return err
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
	if c.Bool("all") && !c.IsSet("limit") {
		o.spec.Limit = defaultPageSize // pages of a bounded size, as kubectl's --chunk-size
	}
	o.spec.Query = url.Values{}
	if c.IsSet("data") {
		if o.spec.Body, err = request.LoadBody(c.String("data"), s.In); err != nil {
			return err
		}
	}
	method, err := o.spec.ResolveMethod()
	if err != nil {
		return err
	}

	o.include, o.silent, o.showCurl = c.Bool("include"), c.Bool("silent"), c.Bool("curl")
	o.all, o.perPage, o.allNamespaces = c.Bool("all"), c.Bool("per-page"), c.Bool("all-namespaces")
	o.relist = c.Bool("relist")
	o.watch = c.Bool("watch") || typedWatch(o.arg)
	if o.print, err = printOptions(c, s); err != nil {
		return err
	}
	switch o.print.Format {
	case "table", "wide":
		o.table = &output.TableOptions{Wide: o.print.Format == "wide", Color: o.print.Color}
		o.spec.Accept = output.TableAccept
	}
	if err := o.checkCombinations(c, method); err != nil {
		return err
	}
	if o.watch {
		o.streaming = true
		o.spec.Query.Set("watch", "true")
		o.spec.Query.Set("allowWatchBookmarks", "true")
		if !s.OutIsTerminal && !c.IsSet("compact-output") {
			o.print.Indent = 0 // NDJSON: one event per line in a pipe
		}
		o.print.FlushEachValue = true
	}
	if isLogTarget(o.arg) {
		if err := o.logQuery(c); err != nil {
			return err
		}
	} else {
		for _, flag := range []string{"follow", "container", "tail", "since", "timestamps", "previous"} {
			if c.IsSet(flag) {
				return usagef("--%s goes with a pod's log: kcurl pods/NAME/log --%s …", flag, flag)
			}
		}
	}

	if o.target, err = resolveTarget(c, s); err != nil {
		return err
	}
	o.spec.Namespace = o.target.Namespace
	o.client = transport.New(o.target, o.transport)
	ctx := c.Context
	if !o.deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, o.deadline)
		defer cancel()
	}
	if err := o.resolvePaths(ctx); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &timeoutError{limit: o.maxTimeText}
		}
		return err
	}
	return nil
}

func (o *requestOptions) checkCombinations(c *cli.Context, method string) error {
	if o.silent && o.print.Query != nil {
		return usagef("-s prints no body, so -q has nothing to filter: drop one of them")
	}
	if o.table != nil && o.print.Query != nil {
		return usagef("-o %s prints the server's table, so -q has nothing to filter: use -o json", o.print.Format)
	}
	if o.watch && o.all {
		return usagef("--all pages through a list and -w watches: choose one")
	}
	if o.perPage && !o.all {
		return usagef("--per-page goes with --all")
	}
	if o.relist && !o.watch {
		return usagef("--relist goes with -w")
	}
	if c.IsSet("timeout") && !o.watch && !c.Bool("follow") {
		return usagef("--timeout ends a watch (-w) or a followed log (-f); for any request use --max-time")
	}
	if (o.watch || o.all) && method != http.MethodGet {
		return usagef("-w and --all are for GET, not %s", method)
	}
	return nil
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

// logQuery maps the log flags to pods/log's query parameters.
func (o *requestOptions) logQuery(c *cli.Context) error {
	q := o.spec.Query
	if c.Bool("follow") {
		q.Set("follow", "true")
		o.streaming = true
	}
	if v := c.String("container"); v != "" {
		q.Set("container", v)
	}
	if c.IsSet("tail") {
		q.Set("tailLines", strconv.FormatInt(c.Int64("tail"), 10))
	}
	if v := c.String("since"); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			q.Set("sinceTime", t.UTC().Format(time.RFC3339))
		} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
			q.Set("sinceSeconds", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
		} else {
			return usagef("invalid --since %q: give a duration such as 5m or 1h, or an RFC 3339 time", v)
		}
	}
	if c.Bool("timestamps") {
		q.Set("timestamps", "true")
	}
	if c.Bool("previous") {
		q.Set("previous", "true")
	}
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

func (o *requestOptions) run(ctx context.Context) error {
	s := o.streams
	if o.streaming {
		// Ctrl-C ends a watch or a followed log; that is success.
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	limited := ctx // --max-time: running out is an error
	if o.maxTime > 0 {
		var cancel context.CancelFunc
		limited, cancel = context.WithDeadline(ctx, o.deadline)
		defer cancel()
	}
	ctx = limited
	if o.timeout > 0 { // --timeout: running out ends a stream cleanly
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	if o.showCurl {
		return o.printCurl(ctx)
	}

	printer := output.NewPrinter(s.Out, s.ErrOut, o.print)
	var tables *output.TablePrinter
	if o.table != nil {
		o.table.WithNamespace = o.allNamespaces && len(o.resources) > 0 && o.resources[0].Namespaced
		o.table.Empty = o.emptyMessage()
		tables = output.NewTablePrinter(s.Out, s.ErrOut, *o.table)
	}
	var err error
	switch {
	case o.watch:
		err = o.runWatch(ctx, printer, tables)
	case o.all || o.category:
		err = o.runList(ctx, printer, tables)
	default:
		err = o.runOne(ctx, o.paths[0], printer, tables)
	}
	switch {
	case errors.Is(limited.Err(), context.DeadlineExceeded):
		// Checked first: a body cut short by the deadline can read as a
		// clean end.
		return &timeoutError{limit: o.maxTimeText}
	case err == nil:
		if tables != nil {
			tables.Done() // "No resources found", when no table had a row
		}
		return printer.Done()
	case o.streaming && ctx.Err() != nil:
		return printer.Done() // Ctrl-C or --timeout: the stream ended as asked
	}
	return err
}

func (o *requestOptions) printCurl(ctx context.Context) error {
	spec := o.spec
	spec.Path = o.paths[0]
	req, err := spec.Build(ctx, o.target.Server)
	if err != nil {
		return err
	}
	t := o.target
	auth := request.CurlAuth{Insecure: t.Insecure && t.Server.Scheme == "https", NoToken: t.Token == nil}
	if t.CA != nil {
		auth.CAFile = t.CA.Path()
	}
	if t.Token != nil {
		auth.TokenFile = t.Token.File()
	}
	if r := t.REST; r != nil {
		auth.CertFile, auth.KeyFile = r.CertFile, r.KeyFile
		if len(r.CAData) > 0 && t.CA == nil && !t.Insecure {
			auth.CAFile = "ca.crt"
			auth.Notes = append(auth.Notes, "ca.crt: the kubeconfig's certificate-authority-data, saved as a file")
		}
		if len(r.CertData) > 0 {
			auth.Notes = append(auth.Notes, "the kubeconfig's client certificate is inline data: save it and its key, and add --cert and --key")
		}
		if r.ExecProvider != nil && t.Token == nil {
			auth.NoToken = false
			auth.Notes = append(auth.Notes, "TOKEN: what the kubeconfig's exec plugin ("+r.ExecProvider.Command+") prints as status.token")
		}
	}
	_, err = io.WriteString(o.streams.Out, request.Curl(req, o.spec.Body, auth))
	return err
}

// send makes one request for path, with extra query parameters, and returns
// the response once its status is known to be a success.
func (o *requestOptions) send(ctx context.Context, path string, extra url.Values) (*http.Response, error) {
	spec := o.spec
	spec.Path = path
	if len(extra) > 0 {
		spec.Query = url.Values{}
		for k, v := range o.spec.Query {
			spec.Query[k] = v
		}
		for k, v := range extra {
			spec.Query[k] = v
		}
	}
	req, err := spec.Build(ctx, o.target.Server)
	if err != nil {
		return nil, err
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, err
	}
	if o.include {
		fmt.Fprintf(o.streams.Out, "%s %s\n", resp.Proto, resp.Status)
		if err := transport.WriteHeaders(o.streams.Out, "", resp.Header); err != nil {
			resp.Body.Close()
			return nil, err
		}
		fmt.Fprintln(o.streams.Out)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, transport.ResponseError(resp)
	}
	return resp, nil
}

// runOne is the plain request: one answer, streamed to the printer.
func (o *requestOptions) runOne(ctx context.Context, path string, printer *output.Printer, tables *output.TablePrinter) error {
	resp, err := o.send(ctx, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.Request.Method == http.MethodHead {
		return nil
	}
	if o.silent {
		return output.Drain(resp.Body, resp.Header.Get("Content-Type"))
	}
	return o.printBody(ctx, resp.Body, resp.Header.Get("Content-Type"), printer, tables)
}

func (o *requestOptions) printBody(ctx context.Context, body io.Reader, contentType string, printer *output.Printer, tables *output.TablePrinter) error {
	if tables != nil && output.IsJSON(contentType) {
		err := tables.Print(body)
		var notTable *output.ErrNotTable
		if !errors.As(err, &notTable) {
			return err
		}
		// Not every path can be a table (/api, /version): print it as JSON.
		body = notTable.Body
	}
	return printer.Print(ctx, body, contentType)
}

// emptyMessage is kubectl's line for a table without rows.
func (o *requestOptions) emptyMessage() string {
	if len(o.resources) == 0 {
		return ""
	}
	if o.resources[0].Namespaced && !o.allNamespaces {
		return "No resources found in " + o.target.Namespace + " namespace."
	}
	return "No resources found"
}
