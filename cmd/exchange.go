package cmd

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/exchange"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/request"
)

// exchangeOptions is `kcurl [flags] PATH|RESOURCE`, in kubectl's order:
// completed from the flags (complete), checked without reading a file or
// touching the network (validate), then run: the credentials (connect),
// and one call into pkg/exchange for discovery and the whole exchange.
type exchangeOptions struct {
	streams Streams
	session sessionOptions
	x       exchange.Options

	method        string
	include       bool
	showCurl      bool
	relist        bool
	timeoutGiven  bool
	followGiven   bool
	logFlagsGiven []string // log flags, which only a pod's log takes
}

// complete reads the flags (and -d's file): usage errors come before any
// credential is read or byte is sent.
func (o *exchangeOptions) complete(c *cli.Context) error {
	s := o.streams
	x := &o.x
	switch c.NArg() {
	case 1:
		x.PathOrResource = c.Args().First()
	case 0:
		return usagef("no PATH or RESOURCE given: try kcurl /api, or kcurl pods")
	default:
		return manyArguments(c.Args().Slice(), c.App.Commands)
	}

	var err error
	if o.session, err = newSessionOptions(c, s); err != nil {
		return err
	}
	if x.Timeout, err = parseDuration("timeout", c.String("timeout")); err != nil {
		return err
	}
	o.timeoutGiven = c.IsSet("timeout")

	x.Spec = request.Spec{
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
		if x.Spec.Body, err = request.LoadBody(c.String("data"), s.In); err != nil {
			return err
		}
	}
	if o.method, err = x.Spec.ResolveMethod(); err != nil {
		return err
	}
	if err := o.completeKubectl(c); err != nil {
		return err
	}

	o.include, o.showCurl, x.Silent = c.Bool("include"), c.Bool("curl"), c.Bool("silent")
	x.All, x.PerPage, x.AllNamespaces = c.Bool("all"), c.Bool("per-page"), c.Bool("all-namespaces")
	x.IgnoreNotFound = c.Bool("ignore-not-found")
	o.relist = c.Bool("relist")
	if c.Bool("watch") || c.Bool("watch-only") || typedWatch(x.PathOrResource) {
		x.Watch = &apiclient.WatchOptions{ChangesOnly: c.Bool("watch-only")}
	}
	if err := o.completeOutput(c); err != nil {
		return err
	}
	for _, flag := range []string{"follow", "container", "tail", "since", "timestamps", "previous"} {
		if c.IsSet(flag) {
			o.logFlagsGiven = append(o.logFlagsGiven, flag)
		}
	}
	o.followGiven = c.Bool("follow")
	if isLog(x.PathOrResource) {
		if err := o.completeLog(c); err != nil {
			return err
		}
	}
	if x.Watch != nil {
		x.Watch.Relist = o.relist
		if !s.OutIsTerminal && !c.IsSet("compact-output") {
			x.Print.Indent = 0 // NDJSON: one event per line in a pipe
		}
		x.Print.FlushEachValue = true
	}
	x.Streaming = x.Watch != nil || x.Spec.Log.Follow
	return nil
}

// completeKubectl reads --subresource and --field-validation, as
// kubectl's flags.
func (o *exchangeOptions) completeKubectl(c *cli.Context) error {
	x := &o.x
	if sub := c.String("subresource"); sub != "" {
		if !slices.Contains([]string{"status", "scale", "resize"}, sub) {
			return usagef("invalid --subresource %q: use status, scale or resize", sub)
		}
		if strings.HasPrefix(x.PathOrResource, "/") || strings.Count(x.PathOrResource, "/") != 1 || strings.HasSuffix(x.PathOrResource, "/") {
			return usagef("--subresource goes with a RESOURCE/NAME: kcurl deploy/web --subresource scale")
		}
		x.PathOrResource += "/" + sub
	}
	write := o.method == http.MethodPost || o.method == http.MethodPut || o.method == http.MethodPatch
	mode := c.String("field-validation")
	switch {
	case c.IsSet("field-validation") && !write:
		return usagef("--field-validation goes with a write: POST, PUT or PATCH, not %s", o.method)
	case c.IsSet("field-validation"):
		i := slices.IndexFunc(fieldValidations, func(m string) bool { return strings.EqualFold(m, mode) })
		if i < 0 {
			return usagef("invalid --field-validation %q: use Strict, Warn or Ignore", mode)
		}
		x.Spec.FieldValidation = fieldValidations[i]
	case write && !strings.HasPrefix(x.PathOrResource, "/") && !strings.Contains(x.PathOrResource, "/proxy"):
		// kubectl's default (--validate=strict) for the objects it
		// writes; a PATH is sent as typed, and a proxy passes its query on.
		x.Spec.FieldValidation = "Strict"
	}
	return nil
}

var fieldValidations = []string{"Strict", "Warn", "Ignore"}

// completeOutput reads -o and the flags that shape what is printed: a
// table's, --sort-by's.
func (o *exchangeOptions) completeOutput(c *cli.Context) error {
	x := &o.x
	var err error
	if x.Print, err = printOptions(c, o.streams); err != nil {
		return err
	}
	if x.Table, err = tableOptions(c, x.Print); err != nil {
		return err
	}
	if x.Table != nil {
		x.Spec.Accept = output.TableAccept
		x.ShowKind = c.Bool("show-kind")
	}
	by := c.String("sort-by")
	if by == "" {
		return nil
	}
	if x.SortBy, err = output.ParseSortBy(by); err != nil {
		return err
	}
	if x.Table != nil {
		// As kubectl: the rows carry their whole objects, whose fields
		// they are sorted by.
		x.Spec.Query = url.Values{"includeObject": {"Object"}}
	}
	return nil
}

// completeLog maps the log flags to a pod's log options.
func (o *exchangeOptions) completeLog(c *cli.Context) error {
	l := &o.x.Spec.Log
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
func (o *exchangeOptions) validate() error {
	x := &o.x
	watch := x.Watch != nil
	switch {
	case x.Silent && x.Print.Query != nil:
		return usagef("-s prints no body, so -q has nothing to filter: drop one of them")
	case x.Table != nil && x.Print.Query != nil:
		return usagef("-o %s prints the server's table, so -q has nothing to filter: use -o json", x.Print.Format)
	case watch && x.All:
		return usagef("--all pages through a list and -w watches: choose one")
	case x.PerPage && !x.All:
		return usagef("--per-page goes with --all")
	case x.SortBy != nil && x.Print.Format == output.FormatRaw:
		return usagef("-o raw prints the server's bytes as they came, so --sort-by has nothing to sort: use -o json")
	case x.SortBy != nil && x.All && (x.Table != nil || x.PerPage):
		return usagef("--sort-by sorts one table, read in one request as kubectl does: drop --all (or use -o json, whose pages are merged)")
	case o.relist && !watch:
		return usagef("--relist goes with -w")
	case o.timeoutGiven && !watch && !o.followGiven:
		return usagef("--timeout ends a watch (-w) or a followed log (-f); for any request use --max-time")
	case (watch || x.All) && o.method != http.MethodGet:
		return usagef("-w and --all are for GET, not %s", o.method)
	case len(o.logFlagsGiven) > 0 && !isLog(x.PathOrResource):
		flag := o.logFlagsGiven[0]
		return usagef("--%s goes with a pod's log: kcurl pods/NAME/log --%s …", flag, flag)
	}
	return o.validateTarget()
}

// validateTarget refuses, before sending, a write to a RESOURCE that the
// server would answer with 405 (a PATCH of a whole collection) or that
// does more than was likely meant (a DELETE of every object of a type).
// A PATH is sent as typed.
func (o *exchangeOptions) validateTarget() error {
	arg, _, _ := strings.Cut(o.x.PathOrResource, "?")
	if strings.HasPrefix(arg, "/") {
		return nil
	}
	segments := strings.Split(strings.TrimSuffix(arg, "/"), "/")
	typ, selected := segments[0], o.x.Spec.LabelSelector != "" || o.x.Spec.FieldSelector != ""
	switch {
	case len(segments) == 1 && o.x.Spec.PatchType == "apply":
		return usagef("server-side apply names its object: kcurl %s/NAME --type apply -d …", typ)
	case len(segments) == 1 && (o.method == http.MethodPatch || o.method == http.MethodPut):
		return usagef("a %s changes one object: name it, kcurl %s/NAME -X %s -d …", o.method, typ, o.method)
	case len(segments) == 1 && o.method == http.MethodDelete && !selected:
		return usagef("-X DELETE on %s would delete every one of them: name one (kcurl %s/NAME -X DELETE) or select them with -l", typ, typ)
	case len(segments) == 2 && o.method == http.MethodPost:
		return usagef("a POST creates an object in its collection: kcurl %s -d … (the name in metadata.name); to change %s, -X PATCH or -X PUT", typ, arg)
	}
	return nil
}

// run connects, then leaves the whole exchange to pkg/exchange.
func (o *exchangeOptions) run(c *cli.Context) error {
	s := o.streams
	api, err := o.session.connect(c, s)
	if err != nil {
		return err
	}
	defer api.cancel()
	ctx := api.ctx
	if o.x.Streaming {
		// Ctrl-C ends a watch or a followed log; that is success.
		var stop func()
		ctx, stop = stopOnSignals(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	x := o.x // the options as completed, and what connecting found
	x.Namespace, x.Include = api.target.Namespace, o.include
	x.Out, x.ErrOut = s.Out, s.ErrOut
	if o.showCurl {
		auth := exchange.CurlAuth(api.target)
		x.Curl = &auth
	}
	err = exchange.Run(ctx, api.api, api.discovery(), x)
	suggestCommand(err, c.App.Commands)
	return api.err(err)
}

// suggestCommand adds the command a misspelt one meant (kcurl exce: the
// resource type exce) to what the server's unknown type suggests.
func suggestCommand(err error, commands []*cli.Command) {
	var unknown *discovery.UnknownError
	if errors.As(err, &unknown) {
		if command := nearestCommand(unknown.Name, commands); command != "" {
			unknown.Suggestions = append(unknown.Suggestions, "the command kcurl "+command)
		}
	}
}

// manyArguments refuses more than one PATH or RESOURCE, saying the one
// kubectl's TYPE NAME means (`kcurl pods web` is kcurl pods/web), or
// what a kubectl habit or a misspelt command meant.
func manyArguments(args []string, commands []*cli.Command) error {
	typ, name := args[0], args[1]
	switch {
	case strings.Contains(typ, "://"):
		// kubectl -s URL: kcurl's -s, curl's, took no value.
		return usagef("one PATH or RESOURCE at a time, got %d: %s (kcurl's -s is curl's --silent; the server is --server URL)", len(args), strings.Join(args, " "))
	case kubectlLevel(typ):
		return usagef("one PATH or RESOURCE at a time, got %d: %s (%s)", len(args), strings.Join(args, " "), verboseHasNoLevel)
	}
	if command := nearestCommand(typ, commands); command != "" {
		return usagef("%s is not a command; did you mean kcurl %s?", typ, command)
	}
	if !strings.ContainsAny(typ, "/?") && !strings.ContainsAny(name, "/?") && !strings.HasPrefix(name, "-") {
		return usagef("one PATH or RESOURCE at a time: kcurl %s/%s names %s %s", typ, name, typ, name)
	}
	return usagef("one PATH or RESOURCE at a time, got %d: %s", len(args), strings.Join(args, " "))
}

// kubectlLevel: word is one of kubectl's -v levels (0 to 10), left as an
// argument by kcurl's -v, which takes none.
func kubectlLevel(word string) bool {
	n, err := strconv.Atoi(word)
	return err == nil && n >= 0 && n <= 10 && strconv.Itoa(n) == word
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

// tableOptions are -o table's and -o wide's (the server's Table), with
// kubectl's label columns; nil for another output, with which those are a
// mistake: kcurl prints the answer's JSON unless -o says otherwise.
func tableOptions(c *cli.Context, printing output.Options) (*output.TableOptions, error) {
	if printing.Format != "table" && printing.Format != "wide" {
		for _, flag := range []string{"show-labels", "label-columns", "show-kind"} {
			if c.IsSet(flag) {
				return nil, usagef("--%s goes with a table, as kubectl's: add -o table or -o wide", flag)
			}
		}
		return nil, nil
	}
	return &output.TableOptions{
		Wide: printing.Format == "wide", Color: printing.Color, NoHeaders: c.Bool("no-headers"),
		ShowLabels: c.Bool("show-labels"), LabelColumns: commaList(c.StringSlice("label-columns")),
	}, nil
}

// commaList is a repeatable flag's values, each comma separated (-L
// app,tier -L zone; --verbs list,watch), as kubectl reads them; kcurl's
// slice flags do not split on commas themselves (--header's values hold
// them).
func commaList(values []string) []string {
	var keys []string
	for _, v := range values {
		for key := range strings.SplitSeq(v, ",") {
			if key != "" {
				keys = append(keys, key)
			}
		}
	}
	return keys
}
