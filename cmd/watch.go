package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/transport"
)

// errGone is the server saying the watch's resourceVersion is too old.
var errGone = errors.New("gone")

// runWatch prints each event as it arrives. When the server ends the watch
// (its timeout, a restart), it resumes from the last resourceVersion seen,
// bookmarks included, so no event is lost or printed twice.
func (o *requestOptions) runWatch(ctx context.Context, printer *output.Printer, tables *output.TablePrinter) error {
	path := o.paths[0]
	rv := typedResourceVersion(path)
	quiet := 0 // watches in a row that ended without an event or a bookmark
	var lastConnected time.Time
	for {
		var extra url.Values
		if rv != "" {
			extra = url.Values{"resourceVersion": {rv}}
		}
		resp, err := o.send(ctx, path, extra)
		if err == nil {
			lastConnected = time.Now()
			before := rv
			rv, err = o.readEvents(ctx, resp.Body, rv, printer, tables)
			resp.Body.Close()
			if err == nil && rv == before {
				quiet++
			} else {
				quiet = 0
			}
		}
		var status *transport.StatusError
		if errors.As(err, &status) && status.Code == http.StatusGone {
			err = errGone
		}
		switch {
		case errors.Is(err, errGone) && o.relist:
			if rv, err = o.relistVersion(ctx, path); err != nil {
				return err
			}
			fmt.Fprintf(o.streams.ErrOut, "kcurl: the watch fell behind (410 Gone); listed again at resourceVersion %s and watching on: changes in between are not shown\n", rv)
		case errors.Is(err, errGone):
			return &transport.StatusError{Code: http.StatusGone, Reason: "Expired",
				Message: "the watch fell too far behind: " + tooOld(rv) + " (410 Gone); watch again, or use --relist to list again and go on"}
		case ctx.Err() != nil:
			return ctx.Err()
		case brokenConnection(err) && !lastConnected.IsZero() && time.Since(lastConnected) < reconnectFor:
			// The connection broke (an API server restarting, a load
			// balancer, a failed HTTP/2 ping): resume where the events
			// stopped, as when the server ends the watch itself.
			fmt.Fprintf(o.streams.ErrOut, "kcurl: the watch's connection broke: %v; resuming from %s\n", err, resumePoint(rv))
			quiet++
			if err := sleepCtx(ctx, min(100*time.Millisecond<<min(quiet-1, 6), 5*time.Second)); err != nil {
				return err
			}
		case err != nil:
			return err
		case quiet > 0:
			// A watch that ends as soon as it starts (a proxy that cuts
			// long requests) is not resumed in a busy loop.
			if err := sleepCtx(ctx, min(100*time.Millisecond<<min(quiet-1, 6), 5*time.Second)); err != nil {
				return err
			}
		}
	}
}

type watchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// readEvents prints the events of one watch response and returns the last
// resourceVersion seen; io.EOF (the server ended the watch) is no error.
func (o *requestOptions) readEvents(ctx context.Context, body io.Reader, rv string, printer *output.Printer, tables *output.TablePrinter) (string, error) {
	dec := json.NewDecoder(body)
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			return rv, nil
		} else if err != nil {
			if ctx.Err() != nil {
				return rv, ctx.Err()
			}
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) {
				return rv, fmt.Errorf("the watch stream is not JSON: %v", err) // not resumed
			}
			return rv, transport.Classify(err)
		}
		var event watchEvent
		if err := json.Unmarshal(raw, &event); err != nil || event.Type == "" {
			return rv, fmt.Errorf("the server sent something that is not a watch event: %.200s", raw)
		}
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
		if o.silent {
			continue
		}
		var err error
		if tables != nil {
			err = o.printBody(ctx, bytes.NewReader(event.Object), "application/json", printer, tables)
		} else {
			err = printer.Print(ctx, bytes.NewReader(raw), "application/json")
		}
		if err != nil {
			return rv, err
		}
	}
}

// relistVersion lists the resource once to learn a current resourceVersion
// to watch from.
func (o *requestOptions) relistVersion(ctx context.Context, path string) (string, error) {
	body, err := o.fetch(ctx, path, url.Values{"watch": {"false"}, "allowWatchBookmarks": nil, "resourceVersion": {""}, "limit": {"1"}})
	if err != nil {
		return "", err
	}
	page, err := output.PageOf(body)
	return page.ResourceVersion, err
}

// typedResourceVersion is ?resourceVersion= typed in the path, where a
// watch starts.
func typedResourceVersion(path string) string {
	if i := bytes.IndexByte([]byte(path), '?'); i >= 0 {
		q, _ := url.ParseQuery(path[i+1:])
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

// reconnectFor is how long a broken watch is retried since it last
// connected, before kcurl gives up with exit 6.
const reconnectFor = time.Minute

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

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
