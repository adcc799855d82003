package apiclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/transport"
)

// Retry says when Send sends a request again. The zero value is client-go's
// default: a 429, or a 5xx with Retry-After, is sent again after the
// server's delay (at most MaxRetryAfterWait), up to MaxServerRetries times,
// whatever the method, its body replayed (http.Request.GetBody).
type Retry struct {
	// Off sends every request once (--retry 0).
	Off bool
	// Transient (--retry N) also retries, up to N times, curl's transient
	// failures of idempotent methods: connection refused or reset, a
	// timeout, 408, 429, 500, 502, 503, 504; after Retry-After when the
	// server gives one, else with exponential backoff and jitter.
	Transient int
	// Notes, when set (-v), gets one line for each retry.
	Notes io.Writer
	// base is the first transient backoff (1 s when 0); tests shorten it.
	base time.Duration
}

const (
	// MaxServerRetries is client-go's: a request is sent at most 11 times
	// on the server's Retry-After.
	MaxServerRetries = 10
	// MaxRetryAfterWait bounds the wait one Retry-After asks for.
	MaxRetryAfterWait = time.Minute
	// maxBackoff bounds one transient backoff.
	maxBackoff = 30 * time.Second
)

// retries counts the retries of one request.
type retries struct{ server, transient int }

// do sends req, again while r says so, and returns the last answer.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	var n retries
	for {
		resp, err := c.HTTP.Do(req)
		wait, why, again := c.Retry.next(req, resp, err, &n)
		if !again {
			return resp, err
		}
		if deadline, ok := req.Context().Deadline(); ok && time.Now().Add(wait).After(deadline) {
			return resp, err // the answer says more than a timeout would
		}
		next, rerr := replay(req)
		if rerr != nil {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if c.Retry.Notes != nil {
			// The status line is the server's text: escaped.
			fmt.Fprintln(c.Retry.Notes, transport.Printable(fmt.Sprintf("kcurl: %s: retrying %s %s in %s (%s)", why, req.Method, req.URL.Path, wait.Round(time.Millisecond), n.String(c.Retry))))
		}
		if err := sleepCtx(req.Context(), wait); err != nil {
			return nil, err
		}
		req = next
	}
}

func (n retries) String(r Retry) string {
	if n.transient == 0 {
		return fmt.Sprintf("retry %d of %d on Retry-After", n.server, MaxServerRetries)
	}
	return fmt.Sprintf("retry %d of %d, --retry %d", n.server+n.transient, MaxServerRetries+r.Transient, r.Transient)
}

// next says whether and after how long the request that got resp or err
// is sent again, and why, counting the retry in n.
func (r Retry) next(req *http.Request, resp *http.Response, err error, n *retries) (time.Duration, string, bool) {
	if r.Off || req.Context().Err() != nil || !replayable(req) {
		return 0, "", false
	}
	if err == nil {
		if secs, ok := retryAfter(resp); ok && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) && n.server < MaxServerRetries {
			n.server++
			return min(time.Duration(secs)*time.Second, MaxRetryAfterWait), fmt.Sprintf("%s, Retry-After: %d", resp.Status, secs), true
		}
	}
	if n.transient >= r.Transient || !idempotent(req.Method) {
		return 0, "", false
	}
	if err != nil {
		if !transientError(err) {
			return 0, "", false
		}
		n.transient++
		return r.backoff(n.transient), err.Error(), true
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return 0, "", false
	}
	n.transient++
	if secs, ok := retryAfter(resp); ok {
		return min(time.Duration(secs)*time.Second, MaxRetryAfterWait), fmt.Sprintf("%s, Retry-After: %d", resp.Status, secs), true
	}
	return r.backoff(n.transient), resp.Status, true
}

// backoff is the wait before transient retry n (from 1): base doubled each
// time, at most maxBackoff, the upper half of it at random (jitter), so
// that clients that failed together do not come back together.
func (r Retry) backoff(n int) time.Duration {
	d := min(cmp.Or(r.base, time.Second)<<min(n-1, 16), maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// retryAfter is Retry-After in seconds, as client-go reads it: a
// non-negative integer, no date.
func retryAfter(resp *http.Response) (int, bool) {
	h := resp.Header.Get("Retry-After")
	if h == "" {
		return 0, false
	}
	secs, err := strconv.Atoi(h)
	return secs, err == nil && secs >= 0
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// replayable: a request without a body, or one net/http can make again.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// replay is req once more, with a fresh copy of its body.
func replay(req *http.Request) (*http.Request, error) {
	next := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		next.Body = body
	}
	return next, nil
}

// transientError is a failure that may pass: a connection refused or
// reset, a timeout, a connection that closed early. A certificate, a
// credential or a name that does not resolve will not pass by waiting.
func transientError(err error) bool {
	if code, ok := exitcode.Of(err); ok && code == exitcode.Credentials || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var netErr net.Error
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &netErr) && netErr.Timeout()
}
