package cmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/transport"
)

// runList prints lists that take more than one request: --all follows
// metadata.continue, and a category lists each of its resource types. jq
// sees one merged list, unless --per-page asks for each page as it comes;
// tables print page by page under one header per resource type.
func (o *requestOptions) runList(ctx context.Context, printer *output.Printer, tables *output.TablePrinter) error {
	merged := &output.ListMerger{Mixed: o.category}
	pageByPage := o.perPage || tables != nil || o.silent
	var failed error // a category goes on past the types it may not list
	for i, path := range o.paths {
		if tables != nil && i > 0 {
			tables.Separate()
		}
		token := ""
		for {
			var extra url.Values
			if token != "" {
				extra = url.Values{"continue": {token}}
			}
			body, err := o.fetch(ctx, path, extra)
			var status *transport.StatusError
			if err != nil && o.category && errors.As(err, &status) {
				// As kubectl get all: the lists it may read, and one line
				// for each it may not; the exit code still says 4.
				report(o.streams.ErrOut, err)
				failed = &reportedError{err: err}
				break
			}
			if err != nil {
				return expiredContinue(err, token)
			}
			merger := merged
			if pageByPage {
				merger = &output.ListMerger{} // only to read the continue token
			}
			page, err := merger.Add(body)
			if err != nil {
				return exitcode.With(exitcode.Failed, err)
			}
			if pageByPage && !o.silent {
				if err := o.printBody(ctx, bytes.NewReader(body), "application/json", printer, tables); err != nil {
					return err
				}
			}
			if token = page.Continue; !o.all || token == "" {
				break
			}
		}
	}
	if !pageByPage {
		if err := printer.Print(ctx, merged.Reader(), "application/json"); err != nil {
			return err
		}
	}
	return failed
}

// fetch sends one request and reads its whole answer.
func (o *requestOptions) fetch(ctx context.Context, path string, extra url.Values) ([]byte, error) {
	resp, err := o.send(ctx, path, extra)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// expiredContinue explains a 410 in the middle of paging in one line.
func expiredContinue(err error, token string) error {
	var status *transport.StatusError
	if token != "" && errors.As(err, &status) && status.Code == http.StatusGone {
		return &transport.StatusError{Code: status.Code, Reason: "Expired",
			Message: "the list changed too much while kcurl paged through it, and its continue token expired; run it again (a larger --limit needs fewer pages)"}
	}
	return err
}
