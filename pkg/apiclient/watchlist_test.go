package apiclient

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/limits"
	"github.com/kcurl/kcurl/pkg/request"
)

const (
	watchListURI = "/api/v1/configmaps?allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&timeoutSeconds=86400&watch=true"
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
// So too for a Table's, and a Table that is not one.
func TestStreamListFailsAfterTheFirstObject(t *testing.T) {
	added := `{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}}` + "\n"
	for _, tc := range []struct {
		after string
		code  int
		msg   string
		table bool
	}{
		{`{"type":"DELETED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}}`, exitcode.Failed, "the server sent a DELETED event before the end of its streaming list", false},
		{``, exitcode.Network, "the streaming list ended before its last object", false},
		{`{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}`, 4, "too old", false},
		{``, exitcode.Network, "the streaming list ended before its last object", true},
		{`{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}`, 4, "too old", true},
		{`{"type":"ADDED","object":{"kind":"Table","apiVersion":"meta.k8s.io/v1","rows":{"cells":[]}}}`, exitcode.Failed, "not a watch event", true},
	} {
		before := added
		if tc.table {
			before = tableEvents
		}
		s, c := newServer(t, answer{body: before + tc.after})
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

// The streaming list sets timeoutSeconds, so that the API server does not
// end it after its --min-request-timeout: what is left of -m (the
// context's deadline), rounded up, else a day.
func TestStreamListSetsItsTimeout(t *testing.T) {
	for _, tc := range []struct {
		deadline time.Duration
		path     string
		want     string
	}{
		{0, "/api/v1/configmaps", "timeoutSeconds=86400"},
		{90 * time.Second, "/api/v1/configmaps", "timeoutSeconds=90"},
		{300 * time.Millisecond, "/api/v1/configmaps", "timeoutSeconds=1"},
		// A PATH's own is the user's, kept.
		{90 * time.Second, "/api/v1/configmaps?timeoutSeconds=5&x=1", "timeoutSeconds=5"},
	} {
		s, c := newServer(t, answer{body: endBookmark})
		ctx := context.Background()
		if tc.deadline > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, tc.deadline)
			defer cancel()
		}
		if err := c.StreamList(ctx, request.Spec{Path: tc.path}, 500, readPage(new([]string))); err != nil {
			t.Fatal(err)
		}
		if got := s.requests(); len(got) != 1 || !strings.Contains(got[0], tc.want+"&") || strings.Count(got[0], "timeoutSeconds") != 1 {
			t.Errorf("deadline %v: requests %q, want %s", tc.deadline, got, tc.want)
		}
	}
}

// tableEvents is a streaming list asked for as a Table, as kube-apiserver
// 1.37 sends it: a Table of one row an event, the columns with the first
// only, and the bookmark rendered as a row of its own.
const tableEvents = `{"type":"ADDED","object":{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"212"},"columnDefinitions":[{"name":"Name","type":"string","format":"name","priority":0},{"name":"Data","type":"string","format":"","priority":0}],"rows":[{"cells":["c1",1],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"c1"}}}]}}
{"type":"BOOKMARK","object":{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"213"},"columnDefinitions":null,"rows":[{"cells":["",0],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"213"}}}]}}
{"type":"ADDED","object":{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"214"},"columnDefinitions":null,"rows":[{"cells":["c2",2],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"c2"}}}]}}
`

const tableEnd = `{"type":"BOOKMARK","object":{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"216"},"columnDefinitions":null,"rows":[{"cells":["",0],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"216","annotations":{"k8s.io/initial-events-end":"true"}}}}]}}`

// Asked for as a Table, the streaming list is one Table: the first
// event's columns, every row (the bookmarks' not), the bookmark's
// resourceVersion; without rows, a Table without rows.
func TestStreamListOfTables(t *testing.T) {
	for _, tc := range []struct{ events, want string }{
		{tableEvents + tableEnd, `{"kind":"Table","apiVersion":"meta.k8s.io/v1","columnDefinitions":[{"name":"Name","type":"string","format":"name","priority":0},{"name":"Data","type":"string","format":"","priority":0}],"rows":[` +
			`{"cells":["c1",1],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"c1"}}},` +
			`{"cells":["c2",2],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"c2"}}}],"metadata":{"resourceVersion":"216"}}`},
		{tableEnd, `{"kind":"Table","apiVersion":"meta.k8s.io/v1","columnDefinitions":[],"rows":[],"metadata":{"resourceVersion":"216"}}`},
	} {
		s, c := newServer(t, answer{body: tc.events})
		var pages []string
		if err := c.StreamList(context.Background(), request.Spec{Path: "/api/v1/configmaps", Accept: "application/json;as=Table;g=meta.k8s.io;v=v1,application/json"}, 500, readPage(&pages)); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pages, []string{tc.want}) {
			t.Errorf("pages %q, want %q", pages, tc.want)
		}
		if got := s.requests(); len(got) != 1 {
			t.Errorf("requests %q, want the watch only", got)
		}
	}
}

// A custom resource's objects come with their keys in order (apiVersion
// first), and so does their list as the API server pages it: apiVersion,
// items, kind, metadata. The streaming list follows, so that --all prints
// the same either way.
func TestStreamListOfCustomResources(t *testing.T) {
	crEnd := `{"type":"BOOKMARK","object":{"apiVersion":"ex.com/v1","kind":"Widget","metadata":{"annotations":{"k8s.io/initial-events-end":"true"},"resourceVersion":"291"}}}`
	for _, tc := range []struct{ events, want string }{
		{`{"type":"ADDED","object":{"apiVersion":"ex.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":1}}}` + "\n" + crEnd,
			`{"apiVersion":"ex.com/v1","items":[{"apiVersion":"ex.com/v1","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":1}}],"kind":"WidgetList","metadata":{"resourceVersion":"291"}}`},
		{crEnd, `{"apiVersion":"ex.com/v1","items":[],"kind":"WidgetList","metadata":{"resourceVersion":"291"}}`},
	} {
		_, c := newServer(t, answer{body: tc.events})
		var pages []string
		if err := c.StreamList(context.Background(), request.Spec{Path: "/apis/ex.com/v1/widgets"}, 500, readPage(&pages)); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pages, []string{tc.want}) {
			t.Errorf("pages %q, want %q", pages, tc.want)
		}
	}
}
