package apiclient

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
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
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	relists := 0
	err := c.FollowList(ctx, "1", ListWatch{
		Collection: request.Spec{Path: "/api/v1/configmaps"},
		Relist:     func(context.Context) (string, bool, error) { relists++; return "1", false, nil },
		Event:      func(Event) (bool, error) { return false, nil },
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's deadline", err)
	}
	if watches, _ := count(); relists < 2 || relists > 8 || watches > 9 {
		t.Errorf("%d relists and %d watches in 1.5 s, want a few: backoff", relists, watches)
	}
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
