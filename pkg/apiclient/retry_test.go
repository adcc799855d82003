package apiclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/limits"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// retryServer answers with status (and Retry-After, when not "") the first
// refusals requests, then 200, and records each request's body.
type retryServer struct {
	mu       sync.Mutex
	bodies   []string
	refusals int
	status   int
	after    string
}

func (s *retryServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(body))
	n := len(s.bodies)
	s.mu.Unlock()
	if n <= s.refusals {
		if s.after != "" {
			w.Header().Set("Retry-After", s.after)
		}
		w.WriteHeader(s.status)
		w.Write([]byte(`{"kind":"Status","code":429,"reason":"TooManyRequests","message":"too many requests, please try again later"}`))
		return
	}
	w.Write([]byte(`{"kind":"ConfigMapList","items":[]}`))
}

func (s *retryServer) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func retryClient(t *testing.T, s *retryServer, retry Retry) *Client {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	retry.base = time.Millisecond
	return &Client{HTTP: srv.Client(), Server: u, Retry: retry}
}

func TestRetryAfterAsClientGo(t *testing.T) {
	s := &retryServer{refusals: 1, status: http.StatusTooManyRequests, after: "1"}
	var notes bytes.Buffer
	c := retryClient(t, s, Retry{Notes: &notes})
	start := time.Now()
	if _, err := c.Read(context.Background(), request.Spec{Path: "/api/v1/configmaps"}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < time.Second || took > 5*time.Second {
		t.Errorf("took %s, want the server's 1 s", took)
	}
	if got := len(s.sent()); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
	want := "kcurl: 429 Too Many Requests, Retry-After: 1: retrying GET /api/v1/configmaps in 1s (retry 1 of 10 on Retry-After)\n"
	if notes.String() != want {
		t.Errorf("notes %q, want %q", notes.String(), want)
	}
}

func TestRetryAfterReplaysTheBody(t *testing.T) {
	s := &retryServer{refusals: 2, status: http.StatusServiceUnavailable, after: "0"}
	c := retryClient(t, s, Retry{})
	spec := request.Spec{Method: http.MethodPost, Path: "/api/v1/namespaces/default/configmaps", Body: []byte(`{"kind":"ConfigMap"}`)}
	if _, err := c.Read(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if got := s.sent(); len(got) != 3 || got[0] != got[2] || got[2] != `{"kind":"ConfigMap"}` {
		t.Errorf("bodies %q, want the same one three times", got)
	}
}

func TestRetryAfterAtMostTenTimes(t *testing.T) {
	s := &retryServer{refusals: 100, status: http.StatusTooManyRequests, after: "0"}
	c := retryClient(t, s, Retry{})
	_, err := c.Read(context.Background(), request.Spec{Path: "/api"})
	var status *transport.StatusError
	if !errors.As(err, &status) || status.Code != http.StatusTooManyRequests {
		t.Fatalf("err %v, want the 429", err)
	}
	if got := len(s.sent()); got != 1+MaxServerRetries {
		t.Errorf("%d requests, want %d", got, 1+MaxServerRetries)
	}
}

func TestNoRetryWithoutRetryAfter(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		s := &retryServer{refusals: 100, status: status}
		c := retryClient(t, s, Retry{})
		if _, err := c.Read(context.Background(), request.Spec{Path: "/api"}); err == nil {
			t.Fatal("no error")
		}
		if got := len(s.sent()); got != 1 {
			t.Errorf("%d: %d requests, want 1", status, got)
		}
	}
}

func TestRetryZeroSendsOnce(t *testing.T) {
	s := &retryServer{refusals: 100, status: http.StatusTooManyRequests, after: "0"}
	c := retryClient(t, s, Retry{Off: true})
	if _, err := c.Read(context.Background(), request.Spec{Path: "/api"}); err == nil {
		t.Fatal("no error")
	}
	if got := len(s.sent()); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}

func TestRetryTransientStatus(t *testing.T) {
	s := &retryServer{refusals: 3, status: http.StatusBadGateway}
	c := retryClient(t, s, Retry{Transient: 3})
	if _, err := c.Read(context.Background(), request.Spec{Path: "/api"}); err != nil {
		t.Fatal(err)
	}
	if got := len(s.sent()); got != 4 {
		t.Errorf("%d requests, want 4", got)
	}

	// Not for a POST: it may have been done.
	s = &retryServer{refusals: 3, status: http.StatusBadGateway}
	c = retryClient(t, s, Retry{Transient: 3})
	if _, err := c.Read(context.Background(), request.Spec{Method: http.MethodPost, Path: "/api", Body: []byte(`{}`)}); err == nil {
		t.Fatal("no error")
	}
	if got := len(s.sent()); got != 1 {
		t.Errorf("POST: %d requests, want 1", got)
	}

	// N retries, no more.
	s = &retryServer{refusals: 100, status: http.StatusGatewayTimeout}
	c = retryClient(t, s, Retry{Transient: 2})
	if _, err := c.Read(context.Background(), request.Spec{Path: "/api"}); err == nil {
		t.Fatal("no error")
	}
	if got := len(s.sent()); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
}

func TestRetryConnectionRefusedThenUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // refused until the server below starts
	u, _ := url.Parse("http://" + addr)
	var notes bytes.Buffer
	c := &Client{HTTP: &http.Client{}, Server: u, Retry: Retry{Transient: 5, base: 200 * time.Millisecond, Notes: &notes}}
	up := make(chan *http.Server, 1)
	go func() {
		time.Sleep(150 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			up <- nil
			return
		}
		srv := &http.Server{Handler: &retryServer{}}
		up <- srv
		srv.Serve(l)
	}()
	_, err = c.Read(context.Background(), request.Spec{Path: "/api"})
	if srv := <-up; srv != nil {
		defer srv.Close()
	} else {
		t.Skip("the port was taken meanwhile")
	}
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes.String(), "connection refused: retrying GET /api") {
		t.Errorf("notes %q", notes.String())
	}

	// Without --retry, a refused connection is the error at once.
	c.Retry = Retry{}
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closed.Close()
	c.Server, _ = url.Parse("http://" + closed.Addr().String())
	if _, err := c.Read(context.Background(), request.Spec{Path: "/api"}); err == nil {
		t.Fatal("no error")
	}
}

func TestRetryStopsAtTheDeadline(t *testing.T) {
	s := &retryServer{refusals: 100, status: http.StatusTooManyRequests, after: "30"}
	c := retryClient(t, s, Retry{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Read(ctx, request.Spec{Path: "/api"})
	var status *transport.StatusError
	if !errors.As(err, &status) || status.Code != http.StatusTooManyRequests {
		t.Fatalf("err %v, want the 429", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s: a wait past the deadline is not begun", took)
	}
}

// watchCounter ends every watch at once, after one event with a new
// resourceVersion (or with 410 Gone when gone), and counts the watches and
// lists.
func watchCounter(t *testing.T, gone bool) (*Client, func() (watches, lists int)) {
	var mu sync.Mutex
	watches, lists := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("watch") != "true" {
			lists++
			w.Write([]byte(`{"kind":"ConfigMapList","metadata":{"resourceVersion":"1"},"items":[]}`))
			return
		}
		watches++
		if gone {
			w.WriteHeader(http.StatusGone)
			w.Write([]byte(`{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}`))
			return
		}
		w.Write([]byte(`{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"` + strconv.Itoa(watches+1) + `"}}}` + "\n"))
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return &Client{HTTP: srv.Client(), Server: u}, func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return watches, lists
	}
}

func TestWatchEndedAtOnceBacksOff(t *testing.T) {
	c, count := watchCounter(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := c.Watch(ctx, request.Spec{Path: "/api/v1/configmaps", Watch: true}, WatchOptions{}, func(Event) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if watches, _ := count(); watches > 8 {
		t.Errorf("%d watches in 2 s: no backoff", watches)
	}
}

func TestRelistAgainstConstant410BacksOff(t *testing.T) {
	c, count := watchCounter(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var notes bytes.Buffer
	err := c.Watch(ctx, request.Spec{Path: "/api/v1/configmaps", Watch: true}, WatchOptions{Relist: true, Notices: &notes}, func(Event) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if watches, lists := count(); watches > 8 || lists > 8 {
		t.Errorf("%d watches and %d lists in 2 s: no backoff", watches, lists)
	}
}

// One watch event is held whole: one larger than limits.MaxValue ends the watch
// with exit 1 instead of growing until kcurl runs out of memory.
func TestWatchEventBounded(t *testing.T) {
	defer limits.SetMaxValue(0)
	limits.SetMaxValue(1 << 20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"type":"ADDED","object":{"metadata":{"name":"small","resourceVersion":"2"}}}` + "\n"))
		w.Write([]byte(`{"type":"ADDED","object":{"data":"`))
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for range 64 { // 4 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := &Client{HTTP: srv.Client(), Server: u}
	events := 0
	err := c.Watch(context.Background(), request.Spec{Path: "/api/v1/configmaps", Watch: true}, WatchOptions{}, func(Event) error { events++; return nil })
	if !errors.As(err, new(*limits.ValueTooLargeError)) || events != 1 {
		t.Fatalf("err %v after %d events, want the bound after 1", err, events)
	}
	if code, _ := exitcode.Of(err); code != exitcode.Failed {
		t.Errorf("exit %d, want 1", code)
	}
}
