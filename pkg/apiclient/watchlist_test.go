package apiclient

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/limits"
	"github.com/kcurl/kcurl/pkg/request"
)

const (
	watchListURI = "/api/v1/configmaps?allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&watch=true"
	endBookmark  = `{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}}`
)

// A streaming list is one watch: its ADDED objects, as a list's items
// (a built-in object's kind and apiVersion left out, a custom resource's
// kept), until the annotated bookmark, whose resourceVersion is the list's.
// A bookmark without the annotation is progress only.
func TestStreamListReadsOneWatch(t *testing.T) {
	s, c := newServer(t, answer{body: `{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"10"},"data":{"k":"1"}}}
{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"11"}}}
{"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}}
` + endBookmark + `
{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"after-the-list"}}}
`})
	var pages []string
	if err := c.StreamList(context.Background(), request.Spec{Path: "/api/v1/configmaps"}, 500, readPage(&pages)); err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"ConfigMapList","apiVersion":"v1","items":[{"metadata":{"name":"a","resourceVersion":"10"},"data":{"k":"1"}},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}],"metadata":{"resourceVersion":"12"}}`
	if !slices.Equal(pages, []string{want}) {
		t.Errorf("pages %q, want %q", pages, want)
	}
	if got := s.requests(); !slices.Equal(got, []string{watchListURI}) {
		t.Errorf("requests %q", got)
	}
}

func TestStreamListOfNothing(t *testing.T) {
	_, c := newServer(t, answer{body: endBookmark})
	var pages []string
	if err := c.StreamList(context.Background(), request.Spec{Path: "/api/v1/configmaps"}, 500, readPage(&pages)); err != nil {
		t.Fatal(err)
	}
	if want := `{"kind":"ConfigMapList","apiVersion":"v1","items":[],"metadata":{"resourceVersion":"12"}}`; !slices.Equal(pages, []string{want}) {
		t.Errorf("pages %q, want %q", pages, want)
	}
}

// Where the server will not stream the list, before any object, kcurl
// pages instead, and says so under -v: a refusal (WatchList off is 422,
// no watch right 403, a resource without watch 405), an ERROR event first,
// a watch that ends at once, an answer that is not a watch.
func TestStreamListFallsBackToPages(t *testing.T) {
	for _, refusal := range []answer{
		{422, `{"kind":"Status","code":422,"reason":"Invalid","message":"ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"}`},
		{403, `{"kind":"Status","code":403,"reason":"Forbidden","message":"configmaps is forbidden: cannot watch"}`},
		{200, `{"type":"ERROR","object":{"kind":"Status","code":500,"message":"a watch stream was requested by the client but the required storage feature RequestWatchProgress is disabled"}}`},
		{200, ``},
		{200, `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{},"items":[]}`},
		{200, `{"type":"MODIFIED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}}`},
		{200, "{\n  \"type\": \"ADDED\",\n  \"object\": {}\n}\n"},
	} {
		s, c := newServer(t, refusal,
			answer{body: `{"kind":"ConfigMapList","metadata":{"continue":"p2","resourceVersion":"5"},"items":[1]}`},
			answer{body: `{"kind":"ConfigMapList","metadata":{"resourceVersion":"5"},"items":[2]}`})
		var notes bytes.Buffer
		c.Retry.Notes = &notes
		var pages []string
		if err := c.StreamList(context.Background(), request.Spec{Path: "/api/v1/configmaps"}, 500, readPage(&pages)); err != nil || len(pages) != 2 {
			t.Errorf("after %d %s: err %v, pages %q", refusal.status, refusal.body, err, pages)
			continue
		}
		want := []string{watchListURI, "/api/v1/configmaps?limit=500", "/api/v1/configmaps?continue=p2&limit=500"}
		if got := s.requests(); !slices.Equal(got, want) {
			t.Errorf("after %d %s: requests %q", refusal.status, refusal.body, got)
		}
		if !strings.HasPrefix(notes.String(), "kcurl: no streaming list, paging instead: ") || strings.Count(notes.String(), "\n") != 1 {
			t.Errorf("after %d %s: notes %q", refusal.status, refusal.body, notes.String())
		}
	}
}

// Once an object was given, the list cannot start again: a change before
// the end (an older server) is exit 1, a watch that ends before the
// bookmark exit 6 (a body cut short), an ERROR event the server's status.
func TestStreamListFailsAfterTheFirstObject(t *testing.T) {
	added := `{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}}` + "\n"
	for _, tc := range []struct {
		after string
		code  int
		msg   string
	}{
		{`{"type":"DELETED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}}`, exitcode.Failed, "the server sent a DELETED event before the end of its streaming list"},
		{``, exitcode.Network, "the streaming list ended before its last object"},
		{`{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}`, 4, "too old"},
	} {
		s, c := newServer(t, answer{body: added + tc.after})
		err := c.StreamList(context.Background(), request.Spec{Path: "/api/v1/configmaps"}, 500, readPage(new([]string)))
		if code, _ := exitcode.Of(err); err == nil || code != tc.code || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("after %s: err %v (exit %d), want exit %d with %q", tc.after, err, code, tc.code, tc.msg)
		}
		if got := s.requests(); len(got) != 1 {
			t.Errorf("after %s: requests %q, want the watch only", tc.after, got)
		}
	}
}

// One event is one value held whole: bounded as a watch's are.
func TestStreamListEventBounded(t *testing.T) {
	defer limits.SetMaxValue(0)
	limits.SetMaxValue(1 << 20)
	big := `{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"b"},"data":{"a":"` + strings.Repeat("x", 2<<20) + `"}}}`
	_, c := newServer(t, answer{body: `{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}}` + "\n" + big + "\n" + endBookmark})
	err := c.StreamList(context.Background(), request.Spec{Path: "/api/v1/configmaps"}, 500, readPage(new([]string)))
	if code, _ := exitcode.Of(err); code != exitcode.Failed || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Fatalf("err %v (exit %d)", err, code)
	}
}

func TestWithoutTypeMeta(t *testing.T) {
	for in, want := range map[string]string{
		`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}}`:                `{"metadata":{"name":"a"}}`,
		`{"kind":"Pod","apiVersion":"v1"}`:                                        `{}`,
		`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}`: `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}`,
		`{"kind":"Pod","metadata":{}}`:                                            `{"kind":"Pod","metadata":{}}`,
		`{"kind":{"x":1},"apiVersion":"v1","metadata":{}}`:                        `{"kind":{"x":1},"apiVersion":"v1","metadata":{}}`,
		`[1]`: `[1]`,
	} {
		if got := string(withoutTypeMeta([]byte(in))); got != want {
			t.Errorf("withoutTypeMeta(%s) = %s, want %s", in, got, want)
		}
	}
}
