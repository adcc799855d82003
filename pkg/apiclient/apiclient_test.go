package apiclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// answer is one response of the test server.
type answer struct {
	status int
	body   string
}

// server answers requests in turn, the last answer again after that, and
// records each request's URI.
type server struct {
	*httptest.Server
	mu      sync.Mutex
	answers []answer
	uris    []string
}

func newServer(t testing.TB, answers ...answer) (*server, *Client) {
	s := &server{answers: answers}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		a := s.answers[min(len(s.uris), len(s.answers)-1)]
		s.uris = append(s.uris, r.RequestURI)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if a.status != 0 {
			w.WriteHeader(a.status)
		}
		w.Write([]byte(a.body))
	}))
	t.Cleanup(s.Close)
	u, _ := url.Parse(s.URL)
	return s, &Client{HTTP: s.Client(), Server: u}
}

func (s *server) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.uris)
}

func TestSendChecksTheStatus(t *testing.T) {
	_, c := newServer(t, answer{403, `{"kind":"Status","reason":"Forbidden","message":"pods is forbidden"}`})
	_, err := c.Send(context.Background(), request.Spec{Path: "/api/v1/pods"})
	var status *transport.StatusError
	if !errors.As(err, &status) || status.Error() != "Error from server (Forbidden): pods is forbidden" {
		t.Fatalf("err %v", err)
	}
	if code, _ := exitcode.Of(err); code != exitcode.HTTP4xx {
		t.Errorf("exit %d", code)
	}
}

// A server URL with an escaped path prefix keeps it escaped, for every
// request built from a Spec.
func TestSendUnderAnEscapedPrefix(t *testing.T) {
	s, c := newServer(t, answer{body: `{}`})
	c.Server.Path, c.Server.RawPath = "/a/b", "/a%2Fb"
	resp, err := c.Send(context.Background(), request.Spec{Path: "/api"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := s.requests(); !slices.Equal(got, []string{"/a%2Fb/api"}) {
		t.Errorf("requests %q", got)
	}
}

func TestCreateSaysWhenTheAnswerIsNotJSON(t *testing.T) {
	_, c := newServer(t, answer{body: `<html>`})
	err := c.Create(context.Background(), "/apis/x/v1/reviews", map[string]string{}, &struct{}{})
	if err == nil || !strings.HasPrefix(err.Error(), "the answer to POST /apis/x/v1/reviews: ") {
		t.Fatalf("err %v", err)
	}
	if code, ok := exitcode.Of(err); code != exitcode.Failed || !ok {
		t.Errorf("exit %d, coded %v", code, ok)
	}
}

func TestPagesFollowContinue(t *testing.T) {
	s, c := newServer(t,
		answer{body: `{"metadata":{"continue":"p2"},"items":[1]}`},
		answer{body: `{"metadata":{"continue":"p3"},"items":[2]}`},
		answer{body: `{"metadata":{},"items":[3]}`})
	var pages []string
	err := c.Pages(context.Background(), request.Spec{Path: "/api/v1/pods", Limit: 1}, true, readPage(&pages))
	if err != nil || len(pages) != 3 {
		t.Fatalf("err %v, pages %q", err, pages)
	}
	want := []string{"/api/v1/pods?limit=1", "/api/v1/pods?continue=p2&limit=1", "/api/v1/pods?continue=p3&limit=1"}
	if got := s.requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
}

// A resourceVersion typed in the path is the first page's; the continue
// token carries it on (the server refuses both at once).
func TestPagesAtAResourceVersion(t *testing.T) {
	s, c := newServer(t,
		answer{body: `{"metadata":{"continue":"p2"},"items":[1]}`},
		answer{body: `{"metadata":{},"items":[2]}`})
	err := c.Pages(context.Background(), request.Spec{Path: "/api/v1/pods?resourceVersion=7&resourceVersionMatch=Exact", Limit: 1}, true, readPage(new([]string)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/api/v1/pods?resourceVersion=7&resourceVersionMatch=Exact&limit=1", "/api/v1/pods?continue=p2&limit=1"}
	if got := s.requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
}

func TestPagesExplainAnExpiredContinue(t *testing.T) {
	_, c := newServer(t,
		answer{body: `{"metadata":{"continue":"p2"},"items":[]}`},
		answer{410, `{"kind":"Status","reason":"Expired","message":"too old"}`})
	err := c.Pages(context.Background(), request.Spec{Path: "/api/v1/pods"}, true, readPage(new([]string)))
	if err == nil || !strings.Contains(err.Error(), "its continue token expired") {
		t.Fatalf("err %v", err)
	}
}

func TestPagesRefuseWhatIsNotAList(t *testing.T) {
	_, c := newServer(t, answer{body: `{"kind":"Pod"}`})
	err := c.Pages(context.Background(), request.Spec{Path: "/api/v1/pods/x"}, true, readPage(new([]string)))
	if err == nil || err.Error() != "the answer is not a list: it has no items" {
		t.Fatalf("err %v", err)
	}
}

// readPage keeps each page and reads what it says about the rest.
func readPage(pages *[]string) func(io.Reader) (ListMeta, error) {
	return func(body io.Reader) (ListMeta, error) {
		page, err := io.ReadAll(body)
		if err != nil {
			return ListMeta{}, err
		}
		*pages = append(*pages, string(page))
		return ReadListMeta(page)
	}
}

// The watch resumes from the last resourceVersion it saw, a bookmark's
// included, and says clearly when the server no longer has it.
func TestWatchResumesFromABookmark(t *testing.T) {
	s, c := newServer(t,
		answer{body: `{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}}` + "\n" +
			`{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}` + "\n"},
		answer{body: `{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}` + "\n"})
	var events []string
	err := c.Watch(context.Background(), request.Spec{Path: "/api/v1/pods", Watch: true}, WatchOptions{}, func(e Event) error {
		events = append(events, e.Type+" "+string(e.Object))
		return nil
	})
	var status *transport.StatusError
	if !errors.As(err, &status) || status.Code != 410 || !strings.Contains(status.Message, "resourceVersion 7 is too old") {
		t.Fatalf("err %v", err)
	}
	if len(events) != 1 || !strings.HasPrefix(events[0], "ADDED ") {
		t.Errorf("events %q", events)
	}
	want := []string{"/api/v1/pods?allowWatchBookmarks=true&watch=true", "/api/v1/pods?allowWatchBookmarks=true&resourceVersion=7&watch=true"}
	if got := s.requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
}

// With Relist, a 410 lists once for a current resourceVersion and the
// watch goes on from there, saying so.
func TestWatchRelists(t *testing.T) {
	s, c := newServer(t,
		answer{410, `{"kind":"Status","reason":"Expired","message":"too old"}`},
		answer{body: `{"metadata":{"resourceVersion":"20"},"items":[]}`},
		answer{body: `{"type":"ADDED","object":{"metadata":{"name":"b","resourceVersion":"21"}}}` + "\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var notices bytes.Buffer
	err := c.Watch(ctx, request.Spec{Path: "/api/v1/pods?resourceVersion=1", Watch: true}, WatchOptions{Relist: true, Notices: &notices}, func(Event) error {
		cancel() // one event is enough
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	want := []string{
		"/api/v1/pods?allowWatchBookmarks=true&resourceVersion=1&watch=true",
		"/api/v1/pods?limit=1&resourceVersion=&watch=false",
		"/api/v1/pods?allowWatchBookmarks=true&resourceVersion=20&watch=true",
	}
	if got := s.requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	if !strings.Contains(notices.String(), "listed again at resourceVersion 20") {
		t.Errorf("notices %q", notices.String())
	}
}

// A watch that was connected resumes through the refusals of an API server
// that has just restarted (a 403 before its RBAC caches are warm, a 503),
// and through a relist that is refused the same way; the first request of
// a watch is not retried (TestSendChecksTheStatus, the CLI cases).
func TestWatchResumesThroughARestartedServersRefusals(t *testing.T) {
	s, c := newServer(t,
		answer{body: `{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}}` + "\n"},
		answer{403, `{"kind":"Status","reason":"Forbidden","message":"RBAC: not ready"}`},
		answer{410, `{"kind":"Status","reason":"Expired","message":"too old"}`},
		answer{503, `{"kind":"Status","reason":"ServiceUnavailable","message":"starting"}`},
		// After a refused relist the watch is tried again (still too old).
		answer{410, `{"kind":"Status","reason":"Expired","message":"too old"}`},
		answer{body: `{"metadata":{"resourceVersion":"20"},"items":[]}`},
		answer{body: `{"type":"ADDED","object":{"metadata":{"name":"b","resourceVersion":"21"}}}` + "\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var events []string
	var notices bytes.Buffer
	err := c.Watch(ctx, request.Spec{Path: "/api/v1/pods", Watch: true}, WatchOptions{Relist: true, Notices: &notices}, func(e Event) error {
		events = append(events, e.Type+" "+string(e.Object))
		if len(events) == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || len(events) != 2 || !strings.Contains(events[1], `"b"`) {
		t.Fatalf("err %v, events %q, notices:\n%s", err, events, notices.String())
	}
	want := []string{
		"/api/v1/pods?allowWatchBookmarks=true&watch=true",
		"/api/v1/pods?allowWatchBookmarks=true&resourceVersion=5&watch=true",
		"/api/v1/pods?allowWatchBookmarks=true&resourceVersion=5&watch=true",
		"/api/v1/pods?limit=1&resourceVersion=&watch=false",
		"/api/v1/pods?allowWatchBookmarks=true&resourceVersion=5&watch=true",
		"/api/v1/pods?limit=1&resourceVersion=&watch=false",
		"/api/v1/pods?allowWatchBookmarks=true&resourceVersion=20&watch=true",
	}
	if got := s.requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	for _, say := range []string{"resuming the watch: ", "RBAC: not ready", "listing again after a 410: ", "starting"} {
		if !strings.Contains(notices.String(), say) {
			t.Errorf("notices do not say %q:\n%s", say, notices.String())
		}
	}
}

// The time a broken watch is resumed for counts from when its connection
// was last alive, not from when it was made: a watch that ran for longer
// than that, then met a restarting server's refusal, resumes (a CA
// rotation on a loaded node took the apiserver 31 s to come back after a
// watch of a minute).
func TestWatchResumesAfterALongConnection(t *testing.T) {
	defer func(d time.Duration) { reconnectFor = d }(reconnectFor)
	reconnectFor = 300 * time.Millisecond
	// One watch that stays open longer than reconnectFor, then a refusal,
	// then a watch again.
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Write([]byte(`{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}}` + "\n"))
			w.(http.Flusher).Flush()
			time.Sleep(2 * reconnectFor)
		case 2:
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"kind":"Status","reason":"Forbidden","message":"RBAC: not ready"}`))
		default:
			w.Write([]byte(`{"type":"ADDED","object":{"metadata":{"name":"b","resourceVersion":"6"}}}` + "\n"))
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := &Client{HTTP: srv.Client(), Server: u}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var events []string
	err := c.Watch(ctx, request.Spec{Path: "/api/v1/pods", Watch: true}, WatchOptions{}, func(e Event) error {
		events = append(events, string(e.Object))
		if len(events) == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || len(events) != 2 {
		t.Fatalf("err %v, events %q", err, events)
	}
}

// ChangesOnly (--watch-only) lists once for the current resourceVersion and
// watches from it: what exists already is not given as ADDED.
func TestWatchChangesOnly(t *testing.T) {
	s, c := newServer(t,
		answer{body: `{"metadata":{"resourceVersion":"30"},"items":[{"metadata":{"name":"old"}}]}`},
		answer{body: `{"type":"MODIFIED","object":{"metadata":{"name":"old","resourceVersion":"31"}}}` + "\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var events []string
	err := c.Watch(ctx, request.Spec{Path: "/api/v1/pods", Name: "old", Watch: true}, WatchOptions{ChangesOnly: true}, func(e Event) error {
		events = append(events, e.Type)
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || !slices.Equal(events, []string{"MODIFIED"}) {
		t.Fatalf("err %v, events %q", err, events)
	}
	want := []string{
		"/api/v1/pods?fieldSelector=metadata.name%3Dold&limit=1&resourceVersion=&watch=false",
		"/api/v1/pods?allowWatchBookmarks=true&fieldSelector=metadata.name%3Dold&resourceVersion=30&watch=true",
	}
	if got := s.requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
}

// ListFirst (kubectl get -w's way, for tables) lists what exists, whole,
// gives the list to be printed, and watches from its resourceVersion; a
// resourceVersion typed in the path is watched from as it is, unlisted.
func TestWatchListFirst(t *testing.T) {
	s, c := newServer(t,
		answer{body: `{"kind":"Table","metadata":{"resourceVersion":"30"},"rows":[{"cells":["old"]}]}`},
		answer{body: `{"type":"MODIFIED","object":{"metadata":{"name":"old","resourceVersion":"31"}}}` + "\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var listed string
	var events []string
	opts := WatchOptions{ListFirst: func(list io.Reader) (string, error) {
		b, err := io.ReadAll(list)
		listed = string(b)
		return "30", err
	}}
	err := c.Watch(ctx, request.Spec{Path: "/api/v1/pods", Name: "old", Watch: true}, opts, func(e Event) error {
		events = append(events, e.Type)
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || !slices.Equal(events, []string{"MODIFIED"}) || !strings.Contains(listed, `"cells":["old"]`) {
		t.Fatalf("err %v, events %q, listed %q", err, events, listed)
	}
	want := []string{
		"/api/v1/pods?fieldSelector=metadata.name%3Dold&resourceVersion=&watch=false",
		"/api/v1/pods?allowWatchBookmarks=true&fieldSelector=metadata.name%3Dold&resourceVersion=30&watch=true",
	}
	if got := s.requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}

	s, c = newServer(t, answer{body: `{"type":"MODIFIED","object":{"metadata":{"name":"old","resourceVersion":"8"}}}` + "\n"})
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts.ListFirst = func(io.Reader) (string, error) { return "", errors.New("listed") }
	err = c.Watch(ctx, request.Spec{Path: "/api/v1/pods?resourceVersion=7", Watch: true}, opts, func(Event) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) || len(s.requests()) != 1 || !strings.Contains(s.requests()[0], "resourceVersion=7&watch=true") {
		t.Errorf("a typed resourceVersion: err %v, requests %q", err, s.requests())
	}
}

func TestReadListMeta(t *testing.T) {
	meta, err := ReadListMeta([]byte(`{"kind":"Table","metadata":{"continue":"c","resourceVersion":"9"},"rows":[]}`))
	if err != nil || meta != (ListMeta{Continue: "c", ResourceVersion: "9"}) {
		t.Errorf("%+v %v", meta, err)
	}
	for _, body := range []string{`[]`, `null`, ``, `{"items":`} {
		if _, err := ReadListMeta([]byte(body)); err == nil || err.Error() != "the answer is not a list" {
			t.Errorf("%q: %v", body, err)
		}
	}
}
