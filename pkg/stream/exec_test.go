package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	gwebsocket "github.com/gorilla/websocket"
	"k8s.io/client-go/rest"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/stream/internal/silent"
	"github.com/kcurl/kcurl/pkg/stream/internal/spdyconn"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

func TestReadPodFirst(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"the command ran", nil, false},
		{"its exit code", &RemoteExitError{Code: 3}, false},
		{"several containers", &transport.StatusError{Code: 400, Reason: "BadRequest", Message: "a container name must be specified for pod web, choose one of: [a b]"}, true},
		{"a container the Pod does not have", &transport.StatusError{Code: 400, Reason: "BadRequest", Message: "container nope is not valid for pod web"}, true},
		{"another bad request", &transport.StatusError{Code: 400, Reason: "BadRequest", Message: "tty and stderr cannot both be true"}, false},
		{"forbidden", &transport.StatusError{Code: 403, Reason: "Forbidden", Message: "denied"}, false},
		{"a completed Pod, through SPDY", &spdyconn.Refusal{StatusCode: 500, Err: errors.New(`unable to upgrade connection: container not found ("done")`)}, true},
		{"kcurl proxy's filter, in words", &spdyconn.Refusal{StatusCode: 403, Err: errors.New("unable to upgrade connection: Forbidden")}, false},
		{"a stream that broke", errors.New("error reading from error stream: EOF"), false},
	} {
		if got := ReadPodFirst(tc.err); got != tc.want {
			t.Errorf("%s: ReadPodFirst(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// A node that speaks WebSocket v4 and not v5 (before 1.30 the apiserver
// hands the upgrade to the runtime's own server) cannot be told that
// stdin has ended. With stdin, only v5 is offered, so such a server
// refuses it and SPDY takes over; without, v4 is offered too.
func TestExecutorOffersV4OnlyWithoutStdin(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.Header.Get("Upgrade")+" "+strings.Join(r.Header.Values("Sec-WebSocket-Protocol"), ","))
		mu.Unlock()
		if r.Method == http.MethodGet {
			// What the runtime's legacy WebSocket server says to a
			// protocol it does not speak.
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"spdy reached","reason":"Forbidden","code":403}`)
	}))
	defer srv.Close()
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	u, _ := url.Parse(srv.URL + "/api/v1/namespaces/ns/pods/web/exec?command=cat&stdout=true")

	for _, tc := range []struct {
		name  string
		stdin io.Reader
		want  []string
	}{
		{"with stdin", strings.NewReader("data\n"), []string{
			"GET websocket v5.channel.k8s.io",
			"POST SPDY/3.1 ",
		}},
		{"without stdin", nil, []string{
			"GET websocket v5.channel.k8s.io, v4.channel.k8s.io",
			"POST SPDY/3.1 ",
		}},
	} {
		seen = nil
		err := Run(context.Background(), cfg, u, IO{Stdin: tc.stdin, Stdout: io.Discard, Stderr: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "spdy reached") {
			t.Errorf("%s: err = %v, want SPDY's answer", tc.name, err)
		}
		if !slices.Equal(seen, tc.want) {
			t.Errorf("%s: requests\n%q\nwant\n%q", tc.name, seen, tc.want)
		}
	}
}

// tracedExec runs `true` through srv with -v's tracer writing to trace.
func tracedExec(t *testing.T, srv *httptest.Server, trace io.Writer) error {
	t.Helper()
	server, _ := url.Parse(srv.URL)
	cfg, err := transport.RESTConfig(&target.Target{Server: server, Insecure: true}, transport.Options{Trace: trace, UserAgent: "kcurl/test"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL + "/api/v1/namespaces/ns/pods/web/exec?command=true&stdout=true")
	return Run(context.Background(), cfg, u, IO{Stdout: io.Discard, Stderr: io.Discard})
}

// -v on an exec the server refuses: the upgrade request, then the server's
// answer (its status and headers; the Status in its body is the error).
func TestTraceShowsARefusedUpgrade(t *testing.T) {
	const body = `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"web\" is forbidden","reason":"Forbidden","code":403}`
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Audit-Id", "a1b2")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	var trace strings.Builder
	err := tracedExec(t, srv, &trace)
	var status *transport.StatusError
	if !errors.As(err, &status) || status.Code != 403 {
		t.Errorf("err = %v (%T), want the server's Forbidden", err, err)
	}
	want := "< HTTP/1.1 403 Forbidden\n" +
		"< Audit-Id: a1b2\n" +
		"< Content-Length: " + fmt.Sprint(len(body)) + "\n" +
		"< Content-Type: application/json\n" +
		"< Date: Mon, 02 Jan 2006 15:04:05 GMT\n" +
		"<\n"
	if !strings.Contains(trace.String(), ">\n"+want) {
		t.Errorf("trace:\n%s\nwant the request followed by\n%s", trace.String(), want)
	}
}

// -v on a server that switches to a protocol kcurl did not offer (here
// none): its 101 is shown, as its answer, before the SPDY fallback's
// request.
func TestTraceShowsAnUnofferedProtocol(t *testing.T) {
	upgrader := gwebsocket.Upgrader{} // speaks no subprotocol
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if conn, err := upgrader.Upgrade(w, r, http.Header{"Audit-Id": {"a1b2"}}); err == nil {
				conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"spdy reached","reason":"Forbidden","code":403}`)
	}))
	defer srv.Close()
	var trace strings.Builder
	err := tracedExec(t, srv, &trace)
	if err == nil || !strings.Contains(err.Error(), "spdy reached") {
		t.Errorf("err = %v, want SPDY's answer", err)
	}
	want := ">\n< HTTP/1.1 101 Switching Protocols\n" +
		"< Audit-Id: a1b2\n" +
		"< Connection: Upgrade\n"
	got := trace.String()
	if !strings.Contains(got, want) || !strings.Contains(got, "< Upgrade: websocket\n<\n> POST ") {
		t.Errorf("trace:\n%s\nwant the WebSocket request followed by\n%s…< Upgrade: websocket, then SPDY's request", got, want)
	}
}

// An exec whose upgrade the server never answers stops when its context
// ends, as on SIGINT, and closes the connection.
func TestExecStopsOnASilentServer(t *testing.T) {
	srv := silent.NewServer(t)
	server, _ := url.Parse(srv.URL)
	cfg, err := transport.RESTConfig(&target.Target{Server: server, Insecure: true}, transport.Options{UserAgent: "kcurl/test"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL + "/api/v1/namespaces/ns/pods/web/exec?command=true&stdout=true")
	err = silent.Stop(t, func(ctx context.Context) error {
		return Run(ctx, cfg, u, IO{Stdout: io.Discard, Stderr: io.Discard})
	})
	srv.WantStopped(t, err)
}

// A stream whose connection ends with no close and no status, between
// messages or inside one (a proxy or a node gone), is a network failure:
// exit 6, as an answer's body cut short is.
func TestAStreamCutShortIsANetworkFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  func(c *gwebsocket.Conn)
	}{
		{"between messages", func(c *gwebsocket.Conn) {
			c.WriteMessage(gwebsocket.BinaryMessage, []byte("\x01some output\n"))
		}},
		{"inside a message", func(c *gwebsocket.Conn) {
			w, _ := c.NextWriter(gwebsocket.BinaryMessage)
			w.Write([]byte("\x01" + strings.Repeat("x", 100_000))) // flushed in frames; the last never comes
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			upgrader := gwebsocket.Upgrader{Subprotocols: []string{"v5.channel.k8s.io"}}
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := upgrader.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				tc.cut(c)
				c.NetConn().Close()
			}))
			defer srv.Close()
			cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
			u, _ := url.Parse(srv.URL + "/api/v1/namespaces/ns/pods/web/exec?command=cat&stdout=true")
			err := Run(context.Background(), cfg, u, IO{Stdout: io.Discard, Stderr: io.Discard})
			if code, _ := exitcode.Of(err); code != exitcode.Network {
				t.Errorf("err = %v (exit %d), want exit 6", err, code)
			}
		})
	}
}

// A refusal whose body is text, not a Status (the kubelet's "container
// not found" for a container that ended, a 500; the apiserver's 400 for
// an exec PATH with no stream), keeps its status's exit code: 5, 4.
func TestATextRefusalKeepsItsStatusCode(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		code   int
	}{
		{500, `container not found ("ended")`, exitcode.HTTP5xx},
		{400, `you must specify at least 1 of stdin, stdout, stderr`, exitcode.HTTP4xx},
	} {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		}))
		cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
		u, _ := url.Parse(srv.URL + "/api/v1/namespaces/ns/pods/web/exec?command=true&stdout=true")
		err := Run(context.Background(), cfg, u, IO{Stdout: io.Discard, Stderr: io.Discard})
		if code, _ := exitcode.Of(err); code != tc.code || !strings.Contains(fmt.Sprint(err), tc.body) {
			t.Errorf("%d %s: %v (exit %d), want exit %d", tc.status, tc.body, err, code, tc.code)
		}
		srv.Close()
	}
}

// A command that succeeded, whose output could not be written here (a full
// disk), is no success: exit 1, saying so. kubectl exits 0 and the output
// is lost.
func TestOutputThatCannotBeWrittenIsAFailure(t *testing.T) {
	upgrader := gwebsocket.Upgrader{Subprotocols: []string{"v5.channel.k8s.io"}}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteMessage(gwebsocket.BinaryMessage, []byte("\x01output"))
		c.WriteMessage(gwebsocket.BinaryMessage, []byte("\x03"+`{"metadata":{},"status":"Success"}`))
		c.WriteMessage(gwebsocket.CloseMessage, gwebsocket.FormatCloseMessage(gwebsocket.CloseNormalClosure, ""))
	}))
	defer srv.Close()
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	u, _ := url.Parse(srv.URL + "/api/v1/namespaces/ns/pods/web/exec?command=cat&stdout=true")
	full := writeFunc(func([]byte) (int, error) { return 0, syscall.ENOSPC })
	err := Run(context.Background(), cfg, u, IO{Stdout: full, Stderr: io.Discard})
	if code, _ := exitcode.Of(err); code != exitcode.Failed || fmt.Sprint(err) != "writing the command's stdout: no space left on device" {
		t.Errorf("err = %v (exit %d), want the write's, exit 1", err, code)
	}
	if err := Run(context.Background(), cfg, u, IO{Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Errorf("with somewhere to write: %v", err)
	}
}
