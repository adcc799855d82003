// Package apiclient speaks the API server's protocol: a request built from
// a request.Spec (request.Spec.URL is the one place where a server URL and
// an API path are joined, and where query parameters are made), sent, its
// status checked, its answer decoded; lists paged through `continue`;
// watches resumed from bookmarks and reported clearly when the server says
// 410, or, for a wait, listed again (FollowList). Discovery, explain, the
// reviews, wait and the exchange of `kcurl PATH|RESOURCE` all talk to the
// server through one Client. It prints nothing (but -i's headers, to the
// writer it is given) and knows nothing of the command line.
package apiclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// Client talks to one API server.
type Client struct {
	HTTP   *http.Client
	Server *url.URL
	// Include, when set, gets each response's status line and headers as
	// soon as they arrive (-i), before the body is read.
	Include io.Writer
	// Retry says when a request is sent again (client-go's default, or
	// --retry).
	Retry Retry
	// Warnings, when set, prints the server's warnings of every answer,
	// a page's, a watch's and an error's too.
	Warnings *Warnings
}

// Warnings prints the server's warnings (Warning headers of code 299: a
// deprecated API, an unknown field under --field-validation Warn) as
// kubectl does: "Warning: TEXT", each text once however many answers
// carry it.
type Warnings struct {
	w    io.Writer
	mu   sync.Mutex
	seen map[string]bool
}

// NewWarnings prints warnings to w.
func NewWarnings(w io.Writer) *Warnings {
	return &Warnings{w: w, seen: map[string]bool{}}
}

// print prints the warnings of one answer's headers not printed yet.
func (p *Warnings) print(headers []string) {
	if p == nil || len(headers) == 0 {
		return
	}
	warnings, _ := utilnet.ParseWarningHeaders(headers)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range warnings {
		if w.Code != 299 || w.Text == "" || p.seen[w.Text] {
			continue
		}
		p.seen[w.Text] = true
		fmt.Fprintf(p.w, "Warning: %s\n", transport.Printable(w.Text))
	}
}

// Send makes the request spec describes, again as c.Retry says, and
// returns the response once its status is known to be a success; 400 or
// more is a transport.StatusError.
func (c *Client) Send(ctx context.Context, spec request.Spec) (*http.Response, error) {
	req, err := spec.Build(ctx, c.Server)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	c.Warnings.print(resp.Header.Values("Warning"))
	if c.Include != nil {
		fmt.Fprintf(c.Include, "%s\n", transport.Printable(resp.Proto+" "+resp.Status))
		if err := transport.WriteHeaders(c.Include, "", resp.Header); err != nil {
			resp.Body.Close()
			return nil, err
		}
		fmt.Fprintln(c.Include)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, transport.ResponseError(resp)
	}
	return resp, nil
}

// Read sends spec and reads the whole answer.
func (c *Client) Read(ctx context.Context, spec request.Spec) ([]byte, error) {
	resp, err := c.Send(ctx, spec)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// Create POSTs in as JSON to path and decodes the answer into out: how a
// review (SelfSubjectReview, SelfSubjectAccessReview) is asked.
func (c *Client) Create(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	spec := request.Spec{Method: http.MethodPost, Path: path, Body: body, Accept: "application/json"}
	resp, err := c.Send(ctx, spec)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := DecodeJSON(resp.Body, out); err != nil {
		return fmt.Errorf("the answer to POST %s: %w", path, err)
	}
	return nil
}

// DecodeJSON decodes an answer into out. A read that failed is the
// transport's NetworkError already; anything else is an answer that is not
// what it claims to be (exit 1).
func DecodeJSON(body io.Reader, out any) error {
	return exitcode.With(exitcode.Failed, json.NewDecoder(body).Decode(out))
}
