package apiclient

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/limits"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// WatchOptions say what a watch does when the server lets it down.
type WatchOptions struct {
	// Relist: after a 410 Gone, list once for a current resourceVersion
	// and watch on from there, instead of failing.
	Relist bool
	// ChangesOnly starts from a list's resourceVersion, so that what
	// exists already is not given as ADDED first (kubectl's --watch-only).
	ChangesOnly bool
	// ListFirst, unless ChangesOnly or a resourceVersion is typed in the
	// path, lists what exists first (one request, the whole list) and
	// gives it to ListFirst, which prints it and returns its
	// resourceVersion, where the watch then starts. This is kubectl get
	// -w's way: the objects that exist come as one list (one table,
	// aligned as a whole), then the changes.
	ListFirst func(list io.Reader) (resourceVersion string, err error)
	// Notices gets one line for each resumption that loses or may lose
	// events (a relist, a broken connection).
	Notices io.Writer
}

// Event is one watch event: Raw as the server sent it, Object its object.
type Event struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
	Raw    json.RawMessage `json:"-"`
}

// errGone is the server saying the watch's resourceVersion is too old.
var errGone = errors.New("gone")

// minWatch is how long a watch must last to count as progress: one that
// ends sooner is resumed after a backoff even when it brought events.
const minWatch = time.Second

// reconnectFor is how long a broken watch is retried since its connection
// was last alive, before kcurl gives up with exit 6. (A variable: the
// tests shorten it.)
var reconnectFor = time.Minute

// Watch sends spec (with Watch set) and gives each event to each as it
// arrives, until ctx ends or each fails. When the server ends the watch
// (its timeout, a restart), it resumes from the last resourceVersion seen,
// bookmarks included, so no event is lost or given twice; bookmarks and
// errors are not events.
func (c *Client) Watch(ctx context.Context, spec request.Spec, opts WatchOptions, each func(Event) error) error {
	rv, err := c.startVersion(ctx, spec, opts)
	if err != nil {
		return err
	}
	quiet := 0 // watches in a row that ended without an event or a bookmark; pause waits longer each time
	pause := func() error {
		quiet++
		return sleepCtx(ctx, backoff(quiet))
	}
	var lastAlive time.Time // a connection was last seen working (made, or ended)
	notices := cmp.Or[io.Writer](opts.Notices, io.Discard)
	for {
		attempt := spec
		if rv != "" {
			attempt.Query = withParams(spec.Query, url.Values{"resourceVersion": {rv}})
		}
		resp, err := c.Send(ctx, attempt)
		// refused: the server answered this request with an error status,
		// as a restarting server does for a moment; an ERROR event inside a
		// watch that was accepted is the watch's own end, never retried.
		refused := err != nil
		if err == nil {
			before, connected := rv, time.Now()
			rv, err = readEvents(ctx, resp.Body, rv, each)
			resp.Body.Close()
			lastAlive = time.Now()
			// A watch that moved on and lasted is progress; one that
			// ended at once, events or not (a server that ends every
			// watch as it starts), is resumed ever more slowly.
			switch {
			case rv != before && time.Since(connected) >= minWatch:
				quiet = 0
			case err == nil:
				quiet++
			}
		}
		if h, ok := err.(handedOn); ok {
			return h.err
		}
		err = asGone(err)
		recently := !lastAlive.IsZero() && time.Since(lastAlive) < reconnectFor
		switch {
		case errors.Is(err, errGone) && opts.Relist:
			if rv, err = c.relist(ctx, spec, rv, &quiet, recently, notices); err != nil {
				return err
			}
		case errors.Is(err, errGone):
			return &transport.StatusError{Code: http.StatusGone, Reason: "Expired",
				Message: "the watch fell too far behind: " + tooOld(rv) + " (410 Gone); watch again, or use --relist to list again and go on"}
		case ctx.Err() != nil:
			return ctx.Err()
		case recently && (brokenConnection(err) || refused && resumable(err)):
			// The connection broke (an API server restarting, a load
			// balancer, a failed HTTP/2 ping), or a server that just came
			// back refused for a moment: resume where the events stopped,
			// as when the server ends the watch itself.
			if brokenConnection(err) {
				fmt.Fprintf(notices, "kcurl: the watch's connection broke: %v; resuming from %s\n", err, resumePoint(rv))
			} else {
				fmt.Fprintf(notices, "kcurl: resuming the watch: %v; trying again from %s\n", err, resumePoint(rv))
			}
			if err := pause(); err != nil {
				return err
			}
		case err != nil:
			return err
		case quiet > 0:
			// A watch that ends as soon as it starts (a proxy that cuts
			// long requests) is not resumed in a busy loop.
			if err := sleepCtx(ctx, backoff(quiet)); err != nil {
				return err
			}
		}
	}
}

// relist lists again after a 410 for a resourceVersion to watch on from,
// ever more slowly when the server answers 410 to every watch (quiet
// counts them); a list the server refuses for a moment, while the watch
// was connected recently, is tried again and rv kept.
func (c *Client) relist(ctx context.Context, spec request.Spec, rv string, quiet *int, recently bool, notices io.Writer) (string, error) {
	if *quiet++; *quiet > 1 {
		if err := sleepCtx(ctx, backoff(*quiet-1)); err != nil {
			return rv, err
		}
	}
	next, err := c.relistVersion(ctx, spec)
	if err != nil && recently && resumable(err) {
		fmt.Fprintf(notices, "kcurl: listing again after a 410: %v; trying again\n", err)
		return rv, sleepCtx(ctx, backoff(*quiet))
	}
	if err != nil {
		return rv, err
	}
	fmt.Fprintf(notices, "kcurl: the watch fell behind (410 Gone); listed again at resourceVersion %s and watching on: changes in between are not shown\n", next)
	return next, nil
}

// readEvents reads the events of one watch response and returns the last
// resourceVersion seen; io.EOF (the server ended the watch) is no error.
func readEvents(ctx context.Context, body io.Reader, rv string, each func(Event) error) (string, error) {
	limited := &eventLimit{r: body}
	dec := json.NewDecoder(limited)
	for {
		var raw json.RawMessage
		limited.next(dec)
		if err := dec.Decode(&raw); errors.As(err, new(*limits.ValueTooLargeError)) {
			return rv, err
		} else if err == io.EOF {
			return rv, nil
		} else if err != nil {
			if ctx.Err() != nil {
				return rv, ctx.Err()
			}
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) {
				return rv, exitcode.With(exitcode.Failed, fmt.Errorf("the watch stream is not JSON: %v", err)) // not resumed
			}
			return rv, transport.Classify(err)
		}
		var event Event
		if err := json.Unmarshal(raw, &event); err != nil || event.Type == "" {
			return rv, exitcode.With(exitcode.Failed, fmt.Errorf("the server sent something that is not a watch event: %.200s", raw))
		}
		event.Raw = raw
		var object struct {
			Kind     string `json:"kind"`
			Code     int    `json:"code"`
			Reason   string `json:"reason"`
			Message  string `json:"message"`
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(event.Object, &object)
		switch event.Type {
		case "ERROR":
			if object.Code == http.StatusGone {
				return rv, errGone
			}
			return rv, &transport.StatusError{Code: object.Code, Reason: object.Reason, Message: object.Message}
		case "BOOKMARK":
			// Progress without a change: only where to resume from.
			rv = object.Metadata.ResourceVersion
			continue
		}
		if object.Metadata.ResourceVersion != "" {
			rv = object.Metadata.ResourceVersion
		}
		if err := each(event); err != nil {
			return rv, handedOn{err}
		}
	}
}

// handedOn is the error of Watch's each: Watch ends with it as it is,
// whatever else ended (a jq filter stopped by a deadline says so).
type handedOn struct{ err error }

func (h handedOn) Error() string { return h.err.Error() }

// eventLimit fails the read once more than limits.MaxValue bytes arrived
// for one event (n counts them; readEvents sets it as each event starts):
// the one bound on a value held in memory.
type eventLimit struct {
	r io.Reader
	n int64
}

// next starts counting the next event dec reads: what dec read ahead
// belongs to it.
func (l *eventLimit) next(dec *json.Decoder) {
	l.n = 0
	if ahead, ok := dec.Buffered().(interface{ Len() int }); ok {
		l.n = int64(ahead.Len())
	}
}

func (l *eventLimit) Read(p []byte) (int, error) {
	if l.n > limits.MaxValue() {
		return 0, &limits.ValueTooLargeError{}
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// asGone is err, or errGone when it is the server's 410: the watch's
// resourceVersion is too old.
func asGone(err error) error {
	var status *transport.StatusError
	if errors.As(err, &status) && status.Code == http.StatusGone {
		return errGone
	}
	return err
}

// startVersion is where a watch starts: a resourceVersion typed in the
// path, or with ChangesOnly or ListFirst a list's; "" is the server's
// choice (the objects that exist, as ADDED, then the changes).
func (c *Client) startVersion(ctx context.Context, spec request.Spec, opts WatchOptions) (string, error) {
	rv := typedResourceVersion(spec.Path)
	if rv != "" || spec.Query.Get("resourceVersion") != "" {
		return rv, nil
	}
	switch {
	case opts.ChangesOnly:
		return c.relistVersion(ctx, spec)
	case opts.ListFirst != nil:
		return c.listFirst(ctx, spec, opts.ListFirst)
	}
	return "", nil
}

// listFirst lists the watch's resource once, whole, and gives the list to
// print; the watch starts at the resourceVersion it returns.
func (c *Client) listFirst(ctx context.Context, spec request.Spec, print func(io.Reader) (string, error)) (string, error) {
	resp, err := c.Send(ctx, currentList(spec, nil))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	return print(resp.Body)
}

// relistVersion lists the resource once to learn a current resourceVersion
// to watch from.
func (c *Client) relistVersion(ctx context.Context, spec request.Spec) (string, error) {
	body, err := c.Read(ctx, currentList(spec, url.Values{"limit": {"1"}}))
	if err != nil {
		return "", err
	}
	meta, err := ReadListMeta(body)
	return meta.ResourceVersion, err
}

// currentList is a watch's spec made a plain list of the current state,
// with extra parameters.
func currentList(spec request.Spec, extra url.Values) request.Spec {
	spec.Watch = false
	spec.Query = withParams(withParams(spec.Query, url.Values{"watch": {"false"}, "allowWatchBookmarks": nil, "resourceVersion": {""}}), extra)
	return spec
}

// typedResourceVersion is ?resourceVersion= typed in the path, where a
// watch starts.
func typedResourceVersion(path string) string {
	if _, query, ok := strings.Cut(path, "?"); ok {
		q, _ := url.ParseQuery(query)
		return q.Get("resourceVersion")
	}
	return ""
}

func tooOld(rv string) string {
	if rv == "" {
		return "the server no longer has the history it asked for"
	}
	return "resourceVersion " + rv + " is too old"
}

// resumable is what a watch that was connected within reconnectFor
// retries: a broken connection, and the answers of an API server that has
// just restarted and whose caches are not warm yet (401, 403, 429, 5xx).
// A right that is really gone stays refused and is reported once
// reconnectFor has passed; the first request of a watch is never retried.
func resumable(err error) bool {
	if brokenConnection(err) {
		return true
	}
	var status *transport.StatusError
	if errors.As(err, &status) {
		switch status.Code {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
	}
	return false
}

func brokenConnection(err error) bool {
	var network *transport.NetworkError
	return errors.As(err, &network)
}

func resumePoint(rv string) string {
	if rv == "" {
		return "the start (no event seen yet)"
	}
	return "resourceVersion " + rv
}

// backoff is the wait before reconnection attempt n (from 1) of every
// reconnect loop: 100 ms, doubling, at most 5 s.
func backoff(attempt int) time.Duration {
	return min(100*time.Millisecond<<min(attempt-1, 6), 5*time.Second)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
