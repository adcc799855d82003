package transport

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestResponseError(t *testing.T) {
	const forbidden = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"system:serviceaccount:team-a:default\" cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\"","reason":"Forbidden","details":{"kind":"pods"},"code":403}`
	long := "<html>" + strings.Repeat("<p>bad gateway</p>\n", 100) + "</html>"
	tests := []struct {
		name   string
		method string
		code   int
		body   string
		want   string
	}{
		{name: "Forbidden Status", code: 403, body: forbidden,
			want: `Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:team-a:default" cannot list resource "pods" in API group "" in the namespace "kube-system"`},
		{name: "NotFound Status", code: 404, body: `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"web\" not found","reason":"NotFound","details":{"name":"web","kind":"pods"},"code":404}`,
			want: `Error from server (NotFound): pods "web" not found`},
		{name: "Unauthorized Status", code: 401, body: `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`,
			want: `error: You must be logged in to the server (Unauthorized)`},
		{name: "AlreadyExists Status on POST", method: "POST", code: 409, body: `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps \"cfg\" already exists","reason":"AlreadyExists","details":{"name":"cfg","kind":"configmaps"},"code":409}`,
			want: `Error from server (AlreadyExists): configmaps "cfg" already exists`},
		{name: "Status without a reason", code: 500, body: `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"something broke","code":500}`,
			want: `Error from server: something broke`},
		{name: "Status without a message", code: 404, body: `{"kind":"Status","status":"Failure","reason":"NotFound","code":404}`,
			want: `Error from server (NotFound): the server could not find the requested resource`},
		{name: "InternalError Status", code: 500, body: `{"kind":"Status","status":"Failure","message":"Internal error occurred: etcd unavailable","reason":"InternalError","code":500}`,
			want: `Error from server (InternalError): Internal error occurred: etcd unavailable`},
		{name: "plain 404", code: 404, body: "404 page not found\n",
			want: `Error from server (NotFound): the server could not find the requested resource`},
		{name: "plain 409 on POST", method: "POST", code: 409, body: "conflict",
			want: `Error from server (AlreadyExists): the server reported a conflict`},
		{name: "plain 409 on PUT", method: "PUT", code: 409, body: "conflict",
			want: `Error from server (Conflict): the server reported a conflict`},
		{name: "plain 400", code: 400, body: "bad",
			want: `Error from server (BadRequest): the server rejected our request for an unknown reason`},
		{name: "plain 401", code: 401, body: "Unauthorized",
			want: `error: You must be logged in to the server (the server has asked for the client to provide credentials)`},
		{name: "plain 403 keeps the server's words", code: 403, body: "forbidden: no entry\n",
			want: `Error from server (Forbidden): forbidden: no entry`},
		{name: "empty 403", code: 403,
			want: `Error from server (Forbidden): unknown`},
		{name: "plain 405", code: 405, body: "x",
			want: `Error from server (MethodNotAllowed): the server does not allow this method on the requested resource`},
		{name: "plain 406 unknown", code: 406, body: "unknown",
			want: `Error from server (NotAcceptable): the server was unable to respond with a content type that the client supports`},
		{name: "plain 415", code: 415, body: "only json",
			want: `Error from server (UnsupportedMediaType): only json`},
		{name: "plain 422", code: 422, body: "x",
			want: `Error from server (Invalid): the server rejected our request due to an error in our request`},
		{name: "plain 429", code: 429, body: "slow down",
			want: `Error from server (TooManyRequests): the server has received too many requests and has asked us to try again later`},
		{name: "plain 500", code: 500, body: "etcd\n  down",
			want: `Error from server (InternalError): an error on the server ("etcd down") has prevented the request from succeeding`},
		{name: "empty 500", code: 500,
			want: `Error from server (InternalError): an error on the server ("unknown") has prevented the request from succeeding`},
		{name: "plain 503", code: 503, body: "x",
			want: `Error from server (ServiceUnavailable): the server is currently unable to handle the request`},
		{name: "plain 504", code: 504, body: "x",
			want: `Error from server (Timeout): the server was unable to return a response in the time allotted, but may still be processing the request`},
		{name: "other code", code: 418, body: "teapot",
			want: `Error from server: the server responded with the status code 418 but did not return more information`},
		{name: "JSON that is not a Status", code: 400, body: `{"kind":"Pod"}`,
			want: `Error from server (BadRequest): the server rejected our request for an unknown reason`},
		{name: "long HTML is shortened", code: 502, body: long,
			want: `Error from server (InternalError): an error on the server ("<html><p>bad gateway</p> <p>bad gateway</p> `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req, _ := http.NewRequest(method, "https://127.0.0.1/api", nil)
			resp := &http.Response{StatusCode: tt.code, Body: io.NopCloser(strings.NewReader(tt.body)), Request: req, Header: http.Header{}}
			err := ResponseError(resp)
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want a *StatusError", err, err)
			}
			if se.Code != tt.code {
				t.Errorf("Code = %d, want %d", se.Code, tt.code)
			}
			if strings.HasPrefix(tt.name, "long") {
				if !strings.HasPrefix(err.Error(), tt.want) || !strings.Contains(err.Error(), "…") || len(err.Error()) > 700 {
					t.Errorf("got %q", err)
				}
				return
			}
			if err.Error() != tt.want {
				t.Errorf("got  %q\nwant %q", err, tt.want)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

func TestResponseErrorUnreadable(t *testing.T) {
	resp := &http.Response{StatusCode: 500, Body: io.NopCloser(failingReader{}), Header: http.Header{}}
	var ne *NetworkError
	if err := ResponseError(resp); !errors.As(err, &ne) {
		t.Fatalf("err = %v (%T), want a NetworkError", err, err)
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, with\ttab\nand newline": "plain text, with\ttab\nand newline",
		"\x1b[31mred\x1b[0m":                 `\x1b[31mred\x1b[0m`,
		"bell\a, cr\r, del\x7f":              `bell\x07, cr\x0d, del\x7f`,
		"csi \u009b2J":                       `csi \u009b2J`,
		"bad \xff utf-8":                     "bad \uFFFD utf-8",
		"ünïcode ✓":                          "ünïcode ✓",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
