// Package exchange is one `kcurl PATH|RESOURCE`: the argument resolved to
// API paths (a RESOURCE through discovery), sent through apiclient (one
// request, every page of a list, or a watch and its resumptions), and the
// answer printed as it arrives through pkg/output; with --curl, the
// equivalent curl command printed instead. It sits above the protocol
// client (apiclient), which prints nothing.
package exchange

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// Resolver turns a RESOURCE into API paths: a discovery.Client, which
// sends through the same apiclient.Client; a test may stand in for it.
type Resolver interface {
	Resolve(ctx context.Context, resource string, opts discovery.ResolveOptions) (*discovery.Resolved, error)
}

// Options are one `kcurl PATH|RESOURCE`: what to ask, and how to print the
// answer.
type Options struct {
	PathOrResource string       // the argument, as typed
	Spec           request.Spec // what is sent; its Path is each resolved path in turn
	// Namespace is where a RESOURCE's namespaced types are, unless
	// AllNamespaces, and {namespace} in a PATH.
	Namespace     string
	AllNamespaces bool

	All     bool                    // follow metadata.continue and print one merged list
	PerPage bool                    // with All: print each page as it arrives
	Silent  bool                    // -s: print no body
	Watch   *apiclient.WatchOptions // -w: watch (Spec.Watch follows it)
	// Streaming: a watch or a followed log; the end of ctx (Ctrl-C) or of
	// Timeout ends it successfully.
	Streaming bool
	Timeout   time.Duration

	Print output.Options
	Table *output.TableOptions // -o table|wide: the server's Table
	// ShowKind is --show-kind: a RESOURCE's table names each object
	// after its kind (pod/web), as tables of several types always do.
	ShowKind bool
	// SortBy is --sort-by: each answer's items (a Table's rows) in
	// kubectl's order before they are printed; not a watch's events.
	SortBy *output.SortBy
	// IgnoreNotFound is kubectl's --ignore-not-found: a NotFound answer
	// is success with nothing printed, and an empty table says nothing.
	IgnoreNotFound bool
	Include        bool // -i: each answer's status line and headers before its body
	Out            io.Writer
	ErrOut         io.Writer // notices: a withheld binary body, a watch resumed
	// Curl, when set, prints the equivalent curl command and sends nothing.
	Curl *request.CurlAuth
}

// Run resolves the argument (a RESOURCE through resources), sends the
// request through api (every page, or the watch with its resumptions) and
// prints the answer as it arrives. An error once ctx is done is ctx's own
// (--max-time is the caller's to name).
func Run(ctx context.Context, api *apiclient.Client, resources Resolver, r Options) error {
	r.Spec.Namespace, r.Spec.Watch = r.Namespace, r.Watch != nil
	resolved, err := r.resolve(ctx, resources)
	if err != nil {
		return err
	}
	if r.Curl != nil {
		return printCurl(ctx, api, r, resolved)
	}
	if r.Include { // the exchange's answers only, not discovery's
		with := *api
		with.Include = r.Out
		api = &with
	}
	streamCtx := ctx
	if r.Timeout > 0 { // --timeout: running out ends a stream cleanly
		var cancel context.CancelFunc
		streamCtx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	if r.SortBy != nil && r.Watch != nil {
		// kubectl's words; a table's first list is still sorted, as
		// kubectl's is.
		if r.Watch.ChangesOnly {
			fmt.Fprintln(r.ErrOut, "warning: --watch-only requested, --sort-by will be ignored")
		} else {
			fmt.Fprintln(r.ErrOut, "warning: --watch requested, --sort-by will be ignored for watch events received")
		}
	}
	x := &running{Client: api, r: r, resolved: resolved, printer: output.NewPrinter(r.Out, r.ErrOut, r.Print)}
	if r.Table != nil {
		table := *r.Table
		table.WithNamespace = r.AllNamespaces && resolved.Namespaced && r.isResource()
		// Sorted, the table is held whole anyway: aligned as a whole.
		table.AlignAll = r.SortBy != nil
		if r.Watch == nil && !r.IgnoreNotFound { // kubectl get -w says nothing of an empty list
			table.Empty = r.emptyMessage(resolved)
		}
		x.tables = output.NewTablePrinter(r.Out, r.ErrOut, table)
		if r.ShowKind && len(resolved.Kinds) == 1 {
			x.tables.NameKind(resolved.Kinds[0]) // several have theirs already
		}
	}
	switch {
	case r.Watch != nil:
		err = x.watch(streamCtx)
	case r.All || resolved.Category:
		err = x.list(streamCtx)
	default:
		err = x.one(streamCtx)
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.As(err, new(*output.OutOfTimeError)):
		return err // jq, not the network, was running when -m ran out
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		// Checked first: a body cut short by the deadline can read as a
		// clean end.
		return ctx.Err()
	case r.IgnoreNotFound && notFound(err):
		return nil
	case err == nil:
		if x.tables != nil {
			x.tables.Done() // "No resources found", when no table had a row
		}
		return x.printer.Done()
	case r.Streaming && errors.Is(streamCtx.Err(), context.DeadlineExceeded) && errors.As(err, new(*output.OutOfTimeError)):
		// --timeout ended the stream while jq was still on an event: what
		// it printed is not all there is to say.
		return &output.OutOfTimeError{Limit: "--timeout " + r.Timeout.String()}
	case r.Streaming && streamCtx.Err() != nil:
		return x.printer.Done() // Ctrl-C or --timeout: the stream ended as asked
	}
	return err
}

// notFound is kubectl's apierrors.IsNotFound: the answer's reason is
// NotFound, or it is a 404 that gives none.
func notFound(err error) bool {
	var status *transport.StatusError
	return errors.As(err, &status) && (status.Reason == "NotFound" || status.Reason == "" && status.Code == http.StatusNotFound)
}

// printCurl prints the curl command for the (first) resolved path and
// sends nothing.
func printCurl(ctx context.Context, api *apiclient.Client, r Options, resolved *discovery.Resolved) error {
	spec := r.Spec
	spec.Path, spec.Name = resolved.Paths[0], resolved.Name
	req, err := spec.Build(ctx, api.Server)
	if err != nil {
		return err
	}
	_, err = io.WriteString(r.Out, request.Curl(req, spec.Body, *r.Curl))
	return err
}

func (r Options) isResource() bool { return !strings.HasPrefix(r.PathOrResource, "/") }

// resolve is the paths the argument means: a PATH as typed, a RESOURCE
// through discovery.
func (r Options) resolve(ctx context.Context, resources Resolver) (*discovery.Resolved, error) {
	if !r.isResource() {
		if r.AllNamespaces {
			return nil, exitcode.Usagef("-A goes with a RESOURCE (kcurl pods -A); a PATH names its namespace itself")
		}
		return &discovery.Resolved{Paths: []string{r.PathOrResource}}, nil
	}
	return resources.Resolve(ctx, r.PathOrResource, discovery.ResolveOptions{
		Namespace: r.Namespace, AllNamespaces: r.AllNamespaces, All: r.All, Watch: r.Watch != nil,
	})
}

// emptyMessage is kubectl's line for a table without rows.
func (r Options) emptyMessage(resolved *discovery.Resolved) string {
	switch {
	case !r.isResource():
		return ""
	case resolved.Namespaced && !r.AllNamespaces:
		return "No resources found in " + r.Namespace + " namespace."
	}
	return "No resources found"
}

// running is one exchange under way.
type running struct {
	*apiclient.Client
	r        Options
	resolved *discovery.Resolved
	printer  *output.Printer
	tables   *output.TablePrinter
}

func (x *running) spec(path string) request.Spec {
	spec := x.r.Spec
	spec.Path, spec.Name = path, x.resolved.Name
	return spec
}

// one is the plain request: one answer, streamed to the printer.
func (x *running) one(ctx context.Context) error {
	resp, err := x.Send(ctx, x.spec(x.resolved.Paths[0]))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.Request.Method == http.MethodHead {
		return nil
	}
	if x.r.Silent {
		return output.Drain(resp.Body, resp.Header.Get("Content-Type"))
	}
	return x.print(ctx, resp.Body, resp.Header.Get("Content-Type"))
}

// print prints an answer: its items sorted first with --sort-by.
func (x *running) print(ctx context.Context, body io.Reader, contentType string) error {
	if x.r.SortBy != nil && output.IsJSON(contentType) {
		var err error
		if body, err = x.r.SortBy.Sort(body); err != nil {
			return err
		}
	}
	return x.show(ctx, body, contentType)
}

// show prints an answer or a watch event's object as it comes: a table,
// or through the printer.
func (x *running) show(ctx context.Context, body io.Reader, contentType string) error {
	if x.tables != nil && output.IsJSON(contentType) {
		err := x.tables.Print(body)
		var notTable *output.ErrNotTable
		if !errors.As(err, &notTable) {
			return err
		}
		// Not every path can be a table (/api, /version): print it as JSON.
		body = notTable.Body
	}
	return x.printer.Print(ctx, body, contentType)
}

// DefaultPageSize is --all's limit= when none is given: kubectl's
// --chunk-size, so that a page is never the whole list.
const DefaultPageSize = 500

// list prints lists that take more than one request: --all follows
// metadata.continue, and a category lists each of its resource types. jq
// sees one merged list, written as the pages arrive and read by the
// printer as it is written (the next page is asked for once the printer
// has read the last), so no page is held. --per-page prints each page as
// it comes, and tables print page by page under one header per resource
// type.
func (x *running) list(ctx context.Context) error {
	if x.r.PerPage || x.tables != nil || x.r.Silent {
		return x.pages(ctx, func(body io.Reader) (apiclient.ListMeta, error) { return x.printPage(ctx, body) })
	}
	var failed error
	merged := output.PullReader(func(w io.Writer) error {
		merger := output.NewListMerger(w, x.resolved.Category)
		if failed = x.pages(ctx, func(body io.Reader) (apiclient.ListMeta, error) {
			next, err := merger.Add(body)
			return apiclient.ListMeta(next), exitcode.With(exitcode.Failed, err)
		}); failed != nil && !errors.As(failed, new(*exitcode.ReportedError)) {
			return failed
		}
		return merger.Close()
	})
	defer merged.Close()
	if err := x.print(ctx, merged, "application/json"); err != nil {
		return err
	}
	return failed
}

// printPage prints a list, or one page of it, as it arrives, and reads what
// it says of the rest on the side: its continue token, its
// resourceVersion.
func (x *running) printPage(ctx context.Context, body io.Reader) (apiclient.ListMeta, error) {
	body, page := output.TeePage(body)
	var err error
	if x.r.Silent {
		err = output.Drain(body, "application/json")
	} else {
		err = x.print(ctx, body, "application/json")
	}
	if err == nil {
		_, err = io.Copy(io.Discard, body)
	}
	if err != nil {
		return apiclient.ListMeta{}, err
	}
	next, err := page()
	return apiclient.ListMeta(next), exitcode.With(exitcode.Failed, err)
}

// pages hands each page of each path to page. A category goes on past
// the types it may not list, and then says so at the end.
func (x *running) pages(ctx context.Context, page func(body io.Reader) (apiclient.ListMeta, error)) error {
	var failed error
	for i, path := range x.resolved.Paths {
		if x.tables != nil && i > 0 {
			x.tables.Separate()
		}
		if x.tables != nil && len(x.resolved.Paths) > 1 {
			x.tables.NameKind(x.resolved.Kinds[i]) // as kubectl get all: pod/web, service/web
		}
		spec := x.spec(path)
		var err error
		if x.streamable(spec) {
			err = x.StreamList(ctx, spec, DefaultPageSize, page)
		} else {
			if x.r.All && spec.Limit == 0 {
				spec.Limit = DefaultPageSize
			}
			err = x.Pages(ctx, spec, x.r.All, page)
		}
		var status *transport.StatusError
		if err != nil && x.resolved.Category && errors.As(err, &status) {
			// As kubectl get all: the lists it may read, and one line
			// for each it may not; the exit code still says 4.
			fmt.Fprintln(x.r.ErrOut, status.Error())
			failed = &exitcode.ReportedError{Err: err}
			continue
		}
		if err != nil {
			return err
		}
	}
	return failed
}

// streamable says whether --all reads spec with a streaming list
// (apiclient.StreamList), one consistent snapshot, rather than page by
// page. The two print the same: a merged list puts its metadata after its
// items, where a streaming list learns its resourceVersion, and a table
// gets its rows in the same chunks (rowsAtOnce, DefaultPageSize). Pages
// stay for -o raw (the server's own bytes), -i (each answer's headers),
// --per-page and -s, an explicit --limit (as client-go lists when a limit
// is set), and a PATH that asks for a resourceVersion or a continue token
// itself.
func (x *running) streamable(spec request.Spec) bool {
	switch {
	case !x.r.All, x.r.PerPage, x.r.Silent, x.r.Include, spec.Limit != 0:
		return false
	case x.r.Print.Format == output.FormatRaw:
		return false
	}
	if _, query, ok := strings.Cut(spec.Path, "?"); ok {
		q, _ := url.ParseQuery(query)
		for _, own := range []string{"limit", "continue", "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "watch"} {
			if q.Has(own) {
				return false
			}
		}
	}
	return true
}

// watch prints each event as it arrives.
func (x *running) watch(ctx context.Context) error {
	opts := *x.r.Watch
	if opts.Notices == nil {
		opts.Notices = x.r.ErrOut
	}
	if x.tables != nil && !x.r.Silent {
		// As kubectl get -w: the objects that exist, listed and printed as
		// one table (aligned as a whole, where ADDED events one by one
		// would widen the columns row after row), then each change as a row
		// under it.
		opts.ListFirst = func(list io.Reader) (string, error) {
			meta, err := x.printPage(ctx, list)
			return meta.ResourceVersion, err
		}
	}
	return x.Watch(ctx, x.spec(x.resolved.Paths[0]), opts, func(e apiclient.Event) error {
		switch {
		case x.r.Silent:
			return nil
		case x.tables != nil, x.r.Print.Kubectl != nil:
			// As kubectl get -w: the event's object, in the table or
			// the format.
			return x.show(ctx, bytes.NewReader(e.Object), "application/json")
		}
		return x.printer.Print(ctx, bytes.NewReader(e.Raw), "application/json")
	})
}
