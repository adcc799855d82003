package transport

import (
	"bufio"
	"compress/gzip"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/kcurl/kcurl/pkg/redact"
)

// tracer writes what goes over the wire for -v, in curl's `> ` / `< ` form.
// It sits below authentication, so it sees the real Authorization header, and
// writes it redacted.
type tracer struct {
	next http.RoundTripper
	w    io.Writer
	mu   sync.Mutex // a proxy traces concurrent requests; keep each block whole
}

func (t *tracer) RoundTrip(req *http.Request) (*http.Response, error) {
	if upgrading(req) {
		return t.upgrade(req)
	}
	t.writeRequest(req)
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.writeResponse(resp)
	return resp, nil
}

// upgrading: req is kcurl's own upgrade to a stream (exec, attach,
// port-forward), by WebSocket or SPDY, whose protocol library adds the
// upgrade's headers as it sends it. A request passed on by kcurl proxy has
// its Upgrade header already.
func upgrading(req *http.Request) bool {
	return req.Header.Get("Upgrade") == "" &&
		(req.Header.Get("Sec-Websocket-Protocol") != "" || req.Header.Get("X-Stream-Protocol-Version") != "")
}

// upgrade traces an upgrade once it is answered: the WebSocket library
// adds its own headers (Upgrade, Connection, Sec-WebSocket-Key,
// Sec-WebSocket-Version, the protocols on one line), SPDY's round tripper
// Connection and Upgrade, as they send the request, and the answer's
// Request is what was sent. An upgrade that gets no answer shows the
// request as kcurl handed it over. A refused WebSocket upgrade comes back
// as an error, with the answer kept in it (pkg/stream/internal/wsconn).
func (t *tracer) upgrade(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	answer := resp
	var refused interface{ UpgradeResponse() *http.Response }
	if err != nil && errors.As(err, &refused) {
		answer = refused.UpgradeResponse()
	}
	sent := req
	if answer != nil && answer.Request != nil {
		sent = answer.Request
	}
	t.writeRequest(sent)
	if answer != nil {
		t.writeResponse(answer)
	}
	return resp, err
}

func (t *tracer) writeRequest(req *http.Request) {
	var b strings.Builder
	b.WriteString("> " + req.Method + " " + req.URL.RequestURI() + "\n")
	b.WriteString("> Host: " + req.URL.Host + "\n")
	writeHeaders(&b, "> ", req.Header)
	b.WriteString(">\n")
	t.write(b.String())
}

func (t *tracer) writeResponse(resp *http.Response) {
	var b strings.Builder
	b.WriteString("< " + Printable(resp.Proto+" "+resp.Status) + "\n")
	writeHeaders(&b, "< ", resp.Header)
	b.WriteString("<\n")
	t.write(b.String())
}

func (t *tracer) write(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = io.WriteString(t.w, s)
}

// WriteHeaders writes h sorted by name, one "Name: value" line per value,
// each line after prefix, with credentials redacted. Used by -v and -i.
func WriteHeaders(w io.Writer, prefix string, h http.Header) error {
	var b strings.Builder
	writeHeaders(&b, prefix, h)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			// C1 controls (U+009B reads as ESC [) are valid UTF-8 that
			// net/http lets through: escaped, as in a Status message.
			b.WriteString(prefix + Printable(name+": "+redact.Header(name, v)) + "\n")
		}
	}
}

// defaults sets kcurl's User-Agent and, for the CLI, asks for gzip and
// decodes it: a 5,000-object list arrives faster compressed even on loopback.
type defaults struct {
	next      http.RoundTripper
	userAgent string
	compress  bool
}

func (d *defaults) RoundTrip(req *http.Request) (*http.Response, error) {
	// A header present without values was removed by the user (-H 'Name:',
	// as httputil.ReverseProxy marks it): kcurl does not add it back.
	_, hasUA := req.Header["User-Agent"]
	_, hasEncoding := req.Header["Accept-Encoding"]
	setUA := d.userAgent != "" && !hasUA
	setGzip := d.compress && req.Method != http.MethodHead && !hasEncoding && req.Header.Get("Range") == ""
	if setUA || setGzip {
		req = req.Clone(req.Context())
		if setUA {
			req.Header.Set("User-Agent", d.userAgent)
		}
		if setGzip {
			req.Header.Set("Accept-Encoding", "gzip")
		}
	}
	resp, err := d.next.RoundTrip(req)
	if err != nil {
		return nil, Classify(err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// An upgraded connection's body is the connection itself (an
		// io.ReadWriteCloser a proxy relays); wrapping it would hide that.
		return resp, nil
	}
	resp.Body = &classifiedBody{resp.Body}
	if !setGzip || !strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		return resp, nil
	}
	// As net/http does for the encoding it asked for itself: the body is
	// decoded, so its length and encoding headers no longer describe it.
	resp.Body = &gzipBody{body: resp.Body}
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
	return resp, nil
}

// gzipBody starts decoding on the first Read, so that reading the headers of
// a response never waits for its body.
type gzipBody struct {
	body io.ReadCloser
	zr   *gzip.Reader
	err  error
}

func (g *gzipBody) Read(p []byte) (int, error) {
	if g.zr == nil && g.err == nil {
		g.zr, g.err = gzip.NewReader(bufio.NewReaderSize(g.body, 32<<10))
		if g.err != nil && g.err != io.EOF {
			g.err = Classify(g.err)
		}
	}
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		// A truncated or corrupt stream is the server's or the network's
		// doing, like a reset; the body's own errors are classified already.
		err = Classify(err)
	}
	return n, err
}

func (g *gzipBody) Close() error { return g.body.Close() }

// classifiedBody marks errors while reading a body (a reset, a timeout) as
// network errors, so that they are told apart from errors writing output.
type classifiedBody struct{ io.ReadCloser }

func (b *classifiedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = Classify(err)
	}
	return n, err
}
