package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// ListMeta is what one page of a list says about the rest of it.
type ListMeta struct {
	Continue        string
	ResourceVersion string
}

// ReadListMeta reads what a list (or one page of it) says about itself,
// and fails on an answer that is not a list (no items, or a Table's rows).
func ReadListMeta(body []byte) (ListMeta, error) {
	var list struct {
		Metadata struct {
			Continue        string `json:"continue"`
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items json.RawMessage `json:"items"`
		Rows  json.RawMessage `json:"rows"`
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(body, &list) != nil {
		return ListMeta{}, exitcode.With(exitcode.Failed, errors.New("the answer is not a list"))
	}
	if list.Items == nil && list.Rows == nil {
		return ListMeta{}, exitcode.With(exitcode.Failed, errors.New("the answer is not a list: it has no items"))
	}
	return ListMeta{Continue: list.Metadata.Continue, ResourceVersion: list.Metadata.ResourceVersion}, nil
}

// Pages sends spec, a list, and hands each page's body to page, which
// reads it and says what the page says about the rest; with all, Pages
// follows metadata.continue to the end of the list.
func (c *Client) Pages(ctx context.Context, spec request.Spec, all bool, page func(body io.Reader) (ListMeta, error)) error {
	token := ""
	seen := map[string]bool{}
	for {
		next := spec
		if token != "" {
			// The token holds the list's resourceVersion: one asked for
			// too is refused ("specifying resource version is not
			// allowed when using continue"), as client-go's pager knows.
			next.Query = withParams(spec.Query, url.Values{"continue": {token}, "resourceVersion": nil, "resourceVersionMatch": nil})
		}
		resp, err := c.Send(ctx, next)
		if err != nil {
			return expiredContinue(err, token)
		}
		meta, err := page(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if token = meta.Continue; !all || token == "" {
			return nil
		}
		if seen[token] {
			return exitcode.With(exitcode.Failed, errors.New("the server gave the continue token of an earlier page again: the list would never end"))
		}
		seen[token] = true
	}
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

// withParams is q with extra's parameters set, q itself unchanged.
func withParams(q, extra url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
