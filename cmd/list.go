package cmd

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/transport"
)

// runList prints lists that take more than one request: --all follows
// metadata.continue, and a category lists each of its resource types. jq
// sees one merged list, written as the pages arrive and read by the
// printer as it is written, so no page is held; --per-page prints each
// page as it comes, and tables print page by page under one header per
// resource type.
func (o *requestOptions) runList(ctx context.Context, printer *output.Printer, tables *output.TablePrinter) error {
	if o.perPage || tables != nil || o.silent {
		failed, err := o.eachPage(ctx, tables, func(body io.Reader) (output.Page, error) {
			// The page printed as it arrives, its continue token read on
			// the side.
			body, page := output.TeePage(body)
			var err error
			if o.silent {
				err = output.Drain(body, "application/json")
			} else {
				err = o.printBody(ctx, body, "application/json", printer, tables)
			}
			if err != nil {
				return output.Page{}, err
			}
			if _, err := io.Copy(io.Discard, body); err != nil {
				return output.Page{}, err
			}
			return page()
		})
		if err != nil {
			return err
		}
		return failed
	}
	var failed error
	merged := output.PullReader(func(w io.Writer) error {
		merger := output.NewListMerger(w, o.category)
		var err error
		if failed, err = o.eachPage(ctx, nil, merger.Add); err != nil {
			return err
		}
		return merger.Close()
	})
	defer merged.Close()
	if err := printer.Print(ctx, merged, "application/json"); err != nil {
		return err
	}
	return failed
}

// eachPage requests each path, and with --all each page of it, and hands
// every answer's body to page, which reads it and says what comes next. A
// category goes on past the types it may not list; failed then says so.
func (o *requestOptions) eachPage(ctx context.Context, tables *output.TablePrinter, page func(io.Reader) (output.Page, error)) (failed, err error) {
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
			resp, err := o.send(ctx, path, extra)
			var status *transport.StatusError
			if err != nil && o.category && errors.As(err, &status) {
				// As kubectl get all: the lists it may read, and one line
				// for each it may not; the exit code still says 4.
				report(o.streams.ErrOut, err)
				failed = &reportedError{err: err}
				break
			}
			if err != nil {
				return failed, expiredContinue(err, token)
			}
			next, err := page(resp.Body)
			resp.Body.Close()
			if err != nil {
				return failed, err
			}
			if token = next.Continue; !o.all || token == "" {
				break
			}
		}
	}
	return failed, nil
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
