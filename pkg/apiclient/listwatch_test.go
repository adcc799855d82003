package apiclient

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// A watch that fell behind (410) lists again through Relist, says so, and
// watches on from the new list's resourceVersion until Event says done.
func TestFollowListRelistsAfterGone(t *testing.T) {
	s, c := newServer(t,
		answer{body: `{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 7 (8)"}}` + "\n"},
		answer{body: `{"metadata":{"resourceVersion":"9"},"items":[]}`},
		answer{body: `{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"10"}}}` + "\n"})
	collection := request.Spec{Path: "/api/v1/namespaces/ns1/configmaps", LabelSelector: "app=web"}
	var notices bytes.Buffer
	var events []string
	err := c.FollowList(context.Background(), "7", ListWatch{
		Collection: collection, Describe: "configmaps -l app=web", Notices: &notices,
		Relist: func(ctx context.Context) (string, bool, error) {
			body, err := c.Read(ctx, collection)
			if err != nil {
				return "", false, err
			}
			meta, err := ReadListMeta(body)
			return meta.ResourceVersion, false, err
		},
		Event: func(e Event) (bool, error) {
			events = append(events, e.Type)
			return true, nil
		},
	})
	if err != nil || !slices.Equal(events, []string{"ADDED"}) {
		t.Fatalf("FollowList: %v after events %q, want nil after one ADDED", err, events)
	}
	want := []string{
		"/api/v1/namespaces/ns1/configmaps?allowWatchBookmarks=true&labelSelector=app%3Dweb&resourceVersion=7&watch=true",
		"/api/v1/namespaces/ns1/configmaps?labelSelector=app%3Dweb",
		"/api/v1/namespaces/ns1/configmaps?allowWatchBookmarks=true&labelSelector=app%3Dweb&resourceVersion=9&watch=true",
	}
	if got := s.requests(); !slices.Equal(got, want) {
		t.Errorf("requests:\n got %q\nwant %q", got, want)
	}
	if got := notices.String(); got != "kcurl: the watch fell behind (410 Gone); listing configmaps -l app=web again\n" {
		t.Errorf("notices %q", got)
	}
}

// A server that answers 410 to every watch is listed again ever more
// slowly, and the wait ends with its context's error.
func TestFollowListBacksOffWhileEveryWatchIsGone(t *testing.T) {
	c, count := watchCounter(t, true)
	relists := followForAWhile(t, c)
	if watches, _ := count(); relists < 2 || relists > 8 || watches > 9 {
		t.Errorf("%d relists and %d watches in 1.5 s, want a few: backoff", relists, watches)
	}
}

// followForAWhile follows a collection for 1.5 s, whose every list says
// resourceVersion 1, and counts the relists.
func followForAWhile(t *testing.T, c *Client) (relists int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	err := c.FollowList(ctx, "1", ListWatch{
		Collection: request.Spec{Path: "/api/v1/configmaps"},
		Relist:     func(context.Context) (string, bool, error) { relists++; return "1", false, nil },
		Event:      func(Event) (bool, error) { return false, nil },
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's deadline", err)
	}
	return relists
}

// What Event ends the watch with is the caller's, never taken for the
// server's 410, nor what Relist answers.
func TestFollowListHandsOnEventsError(t *testing.T) {
	_, c := newServer(t, answer{body: `{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}` + "\n"})
	own := &transport.StatusError{Code: http.StatusGone, Message: "the caller's own"}
	err := c.FollowList(context.Background(), "1", ListWatch{
		Collection: request.Spec{Path: "/api/v1/configmaps"},
		Relist: func(context.Context) (string, bool, error) {
			t.Error("listed again")
			return "", true, nil
		},
		Event: func(Event) (bool, error) { return false, own },
	})
	if err != own {
		t.Errorf("err %v, want the event's own", err)
	}
}

// A server that sends an event, then 410, on every watch makes no progress
// either: it is listed again ever more slowly, not in a tight loop.
func TestFollowListBacksOffWhenEveryWatchEndsInGoneAfterAnEvent(t *testing.T) {
	var mu sync.Mutex
	watches := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		watches++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"2"}}}` + "\n" +
			`{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}}` + "\n"))
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	relists := followForAWhile(t, &Client{HTTP: srv.Client(), Server: u})
	mu.Lock()
	defer mu.Unlock()
	if relists < 2 || relists > 8 || watches > 9 {
		t.Errorf("%d relists and %d watches in 1.5 s, want a few: backoff", relists, watches)
	}
}
