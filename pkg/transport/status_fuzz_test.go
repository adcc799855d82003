package transport

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzResponseError: whatever a server answers with an error code, the
// Status decoder returns a StatusError with that code whose line holds no
// character a terminal acts on (but newline and tab) and is valid UTF-8.
func FuzzResponseError(f *testing.F) {
	for _, seed := range []string{
		`{"kind":"Status","message":"pods is forbidden","reason":"Forbidden","code":403}`,
		`{"kind":"Status","message":"\u001b[31mred\u001b[0m","reason":"Bad\u009b","code":400}`,
		`{"kind":"Status","reason":"NotFound"}`,
		"404 page not found\n",
		"<html>\x1b]0;title\x07</html>",
		"\xff\xfe",
		`{"kind":"Status","message":`,
	} {
		f.Add(403, []byte(seed))
		f.Add(500, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		if code < 400 || code > 599 {
			return
		}
		resp := &http.Response{StatusCode: code, Body: io.NopCloser(bytes.NewReader(body)), Request: &http.Request{Method: http.MethodGet}}
		err := ResponseError(resp)
		status, ok := err.(*StatusError)
		if !ok || status.Code != code {
			t.Fatalf("ResponseError(%d, %q) = %v (%T)", code, body, err, err)
		}
		line := status.Error()
		if !utf8.ValidString(line) {
			t.Fatalf("not UTF-8: %q", line)
		}
		if i := strings.IndexFunc(line, isControl); i >= 0 {
			t.Fatalf("a control character at %d: %q", i, line)
		}
	})
}
