package request

import (
	"context"
	"errors"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantUsageError(t *testing.T, err error, want string) {
	t.Helper()
	var ue *exitcode.UsageError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v (%T), want a *exitcode.UsageError", err, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not contain %q", err, want)
	}
}

func TestResolveMethod(t *testing.T) {
	obj, list := []byte(`{"spec":{"replicas":3}}`), []byte(`[{"op":"replace","path":"/spec/replicas","value":3}]`)
	tests := []struct {
		name    string
		spec    Spec
		want    string
		wantErr string
	}{
		{name: "GET by default", spec: Spec{}, want: "GET"},
		{name: "POST with a body", spec: Spec{Body: obj}, want: "POST"},
		{name: "PATCH with --type", spec: Spec{Body: obj, PatchType: "merge"}, want: "PATCH"},
		{name: "PATCH with --type apply", spec: Spec{Body: obj, PatchType: "apply", ForceConflicts: true}, want: "PATCH"},
		{name: "-X PATCH without --type", spec: Spec{Method: "PATCH", Body: obj}, want: "PATCH"},
		{name: "JSON patch", spec: Spec{Body: list, PatchType: "json"}, want: "PATCH"},
		{name: "-X in lower case", spec: Spec{Method: "put", Body: obj}, want: "PUT"},
		{name: "DELETE without a body", spec: Spec{Method: "DELETE"}, want: "DELETE"},
		{name: "DELETE with options", spec: Spec{Method: "delete", Body: []byte(`{"propagationPolicy":"Foreground"}`)}, want: "DELETE"},
		{name: "POST without a body", spec: Spec{Method: "POST"}, want: "POST"},
		{name: "HEAD", spec: Spec{Method: "HEAD"}, want: "HEAD"},

		{name: "GET with a body", spec: Spec{Method: "GET", Body: obj}, wantErr: "a GET request has no body"},
		{name: "HEAD with a body", spec: Spec{Method: "HEAD", Body: obj}, wantErr: "a HEAD request has no body"},
		{name: "--type with -X POST", spec: Spec{Method: "POST", Body: obj, PatchType: "merge"}, wantErr: "--type is a patch type; it goes with -X PATCH, not POST"},
		{name: "--type with -X GET", spec: Spec{Method: "GET", PatchType: "merge"}, wantErr: "not GET"},
		{name: "PATCH without a body", spec: Spec{Method: "PATCH"}, wantErr: "PATCH needs a body (-d)"},
		{name: "--type without a body", spec: Spec{PatchType: "strategic"}, wantErr: "PATCH needs a body"},
		{name: "JSON patch with an empty body", spec: Spec{PatchType: "json", Body: []byte{}}, wantErr: "PATCH needs a body"},
		{name: "JSON patch that is not a list", spec: Spec{Body: obj, PatchType: "json"}, wantErr: "a JSON patch (--type json) is a list of operations"},
		{name: "--force-conflicts without apply", spec: Spec{Body: obj, ForceConflicts: true}, wantErr: "--force-conflicts goes with server-side apply"},
		{name: "--force-conflicts with merge", spec: Spec{Body: obj, PatchType: "merge", ForceConflicts: true}, wantErr: "--force-conflicts goes with server-side apply"},
		{name: "unknown method", spec: Spec{Method: "FETCH"}, wantErr: `unsupported method "FETCH": use one of GET, HEAD, POST, PUT, PATCH, DELETE`},
		{name: "OPTIONS", spec: Spec{Method: "options"}, wantErr: `unsupported method "options"`},
		{name: "unknown --type", spec: Spec{Body: obj, PatchType: "yaml"}, wantErr: `unknown --type "yaml": use json, merge, strategic or apply`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.spec.ResolveMethod()
			if tt.wantErr != "" {
				wantUsageError(t, err, tt.wantErr)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ResolveMethod() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestURL(t *testing.T) {
	tests := []struct {
		name    string
		server  string
		spec    Spec
		want    string
		wantErr string
	}{
		{name: "plain path", server: "https://10.96.0.1:443", spec: Spec{Path: "/api"}, want: "https://10.96.0.1:443/api"},
		{name: "server path prefix kept", server: "https://rancher.example/k8s/clusters/c-1", spec: Spec{Path: "/api/v1/pods"}, want: "https://rancher.example/k8s/clusters/c-1/api/v1/pods"},
		{name: "escaped server prefix kept", server: "https://h/a%2Fb", spec: Spec{Path: "/api"}, want: "https://h/a%2Fb/api"},
		{name: "IPv6 server", server: "https://[fd00::1]:443", spec: Spec{Path: "/api"}, want: "https://[fd00::1]:443/api"},
		{
			name: "{namespace} and {ns}", server: "https://h",
			spec: Spec{Path: "/api/v1/namespaces/{namespace}/configmaps?fieldSelector=metadata.namespace%3D{ns}", Namespace: "team-a"},
			want: "https://h/api/v1/namespaces/team-a/configmaps?fieldSelector=metadata.namespace%3Dteam-a",
		},
		{name: "escaped name kept", server: "https://h", spec: Spec{Path: "/api/v1/namespaces/default/configmaps/a%2Fb"}, want: "https://h/api/v1/namespaces/default/configmaps/a%2Fb"},
		{name: "fragment dropped", server: "https://h", spec: Spec{Path: "/api#x"}, want: "https://h/api"},
		{
			name: "query flags after the typed query", server: "https://h",
			spec: Spec{Path: "/api/v1/pods?watch=1&resourceVersion=10", LabelSelector: "app=web,tier!=db", FieldSelector: "status.phase=Running", Limit: 50},
			want: "https://h/api/v1/pods?watch=1&resourceVersion=10&fieldSelector=status.phase%3DRunning&labelSelector=app%3Dweb%2Ctier%21%3Ddb&limit=50",
		},
		{name: "query flags without a typed query", server: "https://h", spec: Spec{Path: "/api/v1/pods", Limit: 1}, want: "https://h/api/v1/pods?limit=1"},
		{name: "--dry-run", server: "https://h", spec: Spec{Path: "/api/v1/namespaces/x/configmaps", Body: []byte("{}"), DryRun: true}, want: "https://h/api/v1/namespaces/x/configmaps?dryRun=All"},
		{name: "apply: fieldManager kcurl by default", server: "https://h", spec: Spec{Path: "/x", PatchType: "apply"}, want: "https://h/x?fieldManager=kcurl"},
		{name: "apply: --field-manager and --force-conflicts", server: "https://h", spec: Spec{Path: "/x?pretty=1", PatchType: "apply", FieldManager: "ci", ForceConflicts: true, DryRun: true}, want: "https://h/x?pretty=1&dryRun=All&fieldManager=ci&force=true"},
		{name: "--field-manager without apply", server: "https://h", spec: Spec{Path: "/x", FieldManager: "ci"}, want: "https://h/x?fieldManager=ci"},
		{name: "no fieldManager for merge", server: "https://h", spec: Spec{Path: "/x", PatchType: "merge"}, want: "https://h/x"},

		{name: "not a path", server: "https://h", spec: Spec{Path: "api/v1"}, wantErr: `"api/v1" is not an API path: paths start with /`},
		{name: "another host", server: "https://h", spec: Spec{Path: "//evil.example/api"}, wantErr: `invalid path "//evil.example/api"`},
		{name: "bad escape", server: "https://h", spec: Spec{Path: "/api/%zz"}, wantErr: `invalid path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := mustURL(t, tt.server)
			before := server.String()
			got, err := tt.spec.URL(server)
			if tt.wantErr != "" {
				wantUsageError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("URL = %q\nwant  %q", got, tt.want)
			}
			if server.String() != before {
				t.Errorf("the server URL was changed to %q", server)
			}
		})
	}
}

func TestBuildHeaders(t *testing.T) {
	obj := []byte(`{"a":1}`)
	tests := []struct {
		name     string
		spec     Spec
		want     http.Header // exactly; a nil value is a header removed with -H 'Name:'
		wantHost string
		wantErr  string
	}{
		{name: "GET", spec: Spec{}, want: http.Header{"Accept": {DefaultAccept}}},
		{name: "--accept", spec: Spec{Accept: "application/json;as=Table;g=meta.k8s.io;v=v1"}, want: http.Header{"Accept": {"application/json;as=Table;g=meta.k8s.io;v=v1"}}},
		{name: "POST", spec: Spec{Body: obj}, want: http.Header{"Accept": {DefaultAccept}, "Content-Type": {"application/json"}}},
		{name: "PUT", spec: Spec{Method: "PUT", Body: obj}, want: http.Header{"Accept": {DefaultAccept}, "Content-Type": {"application/json"}}},
		{name: "-X PATCH: merge", spec: Spec{Method: "PATCH", Body: obj}, want: http.Header{"Accept": {DefaultAccept}, "Content-Type": {"application/merge-patch+json"}}},
		{name: "--type json", spec: Spec{PatchType: "json", Body: []byte(`[]`)}, want: http.Header{"Accept": {DefaultAccept}, "Content-Type": {"application/json-patch+json"}}},
		{name: "--type merge", spec: Spec{PatchType: "merge", Body: obj}, want: http.Header{"Accept": {DefaultAccept}, "Content-Type": {"application/merge-patch+json"}}},
		{name: "--type strategic", spec: Spec{PatchType: "strategic", Body: obj}, want: http.Header{"Accept": {DefaultAccept}, "Content-Type": {"application/strategic-merge-patch+json"}}},
		{name: "--type apply", spec: Spec{PatchType: "apply", Body: obj}, want: http.Header{"Accept": {DefaultAccept}, "Content-Type": {"application/apply-patch+yaml"}}},
		{name: "-H replaces a default", spec: Spec{Headers: []string{"accept: text/plain"}}, want: http.Header{"Accept": {"text/plain"}}},
		{name: "-H replaces Content-Type", spec: Spec{Body: obj, Headers: []string{"Content-Type: application/yaml"}}, want: http.Header{"Accept": {DefaultAccept}, "Content-Type": {"application/yaml"}}},
		{name: "repeated -H adds", spec: Spec{Headers: []string{"Accept: a", "X-Trace: 1", "accept: b", "X-Trace: 2"}}, want: http.Header{"Accept": {"a", "b"}, "X-Trace": {"1", "2"}}},
		{name: "value keeps its colons and inner spaces", spec: Spec{Headers: []string{"X-Url:  https://h:1/a b  "}}, want: http.Header{"Accept": {DefaultAccept}, "X-Url": {"https://h:1/a b"}}},
		{name: "'Name:' removes", spec: Spec{Body: obj, Headers: []string{"Accept:", "content-type:  "}}, want: http.Header{"Accept": nil, "Content-Type": nil}},
		{name: "'Name:' removes a header kcurl adds later", spec: Spec{Headers: []string{"User-Agent:", "Authorization:"}}, want: http.Header{"Accept": {DefaultAccept}, "User-Agent": nil, "Authorization": nil}},
		{name: "removed, then set again", spec: Spec{Headers: []string{"X-A: 1", "X-A:", "X-A: 2"}}, want: http.Header{"Accept": {DefaultAccept}, "X-A": {"2"}}},
		{name: "Host", spec: Spec{Headers: []string{"Host: api.internal"}}, want: http.Header{"Accept": {DefaultAccept}}, wantHost: "api.internal"},

		{name: "no colon", spec: Spec{Headers: []string{"Accept application/json"}}, wantErr: `invalid header "Accept application/json": write -H 'Name: value'`},
		{name: "no name", spec: Spec{Headers: []string{": value"}}, wantErr: "invalid header"},
		{name: "space in the name", spec: Spec{Headers: []string{"X Y: 1"}}, wantErr: "invalid header"},
		{name: "separator in the name", spec: Spec{Headers: []string{"X(Y): 1"}}, wantErr: "invalid header"},
		{name: "non-ASCII name", spec: Spec{Headers: []string{"Ä: 1"}}, wantErr: "invalid header"},
		{name: "newline in the value", spec: Spec{Headers: []string{"X-A: 1\r\nX-Injected: 2"}}, wantErr: "invalid header"},
		{name: "NUL in the value", spec: Spec{Headers: []string{"X-A: 1\x002"}}, wantErr: "invalid header"},
		{name: "invalid method combination first", spec: Spec{Method: "GET", Body: obj}, wantErr: "has no body"},
		{name: "invalid path", spec: Spec{Path: "api"}, wantErr: "is not an API path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			if spec.Path == "" {
				spec.Path = "/api"
			}
			req, err := spec.Build(context.Background(), mustURL(t, "https://127.0.0.1:6443"))
			if tt.wantErr != "" {
				wantUsageError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameHeader(req.Header, tt.want) {
				t.Errorf("headers %#v\nwant    %#v", req.Header, tt.want)
			}
			if tt.wantHost == "" {
				tt.wantHost = "127.0.0.1:6443"
			}
			if req.Host != tt.wantHost {
				t.Errorf("Host %q, want %q", req.Host, tt.wantHost)
			}
		})
	}
}

// sameHeader compares exactly, telling a removed header (nil) from an
// absent one.
func sameHeader(got, want http.Header) bool {
	if len(got) != len(want) {
		return false
	}
	for k, wv := range want {
		gv, ok := got[k]
		if !ok || (gv == nil) != (wv == nil) || strings.Join(gv, "\x00") != strings.Join(wv, "\x00") {
			return false
		}
	}
	return true
}

func TestBuildBody(t *testing.T) {
	type ctxKey struct{}
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")
	body := []byte(`{"kind":"ConfigMap","data":{"a":"1"}}`)
	req, err := Spec{Path: "/api/v1/namespaces/{ns}/configmaps", Namespace: "team-a", Body: body}.Build(ctx, mustURL(t, "https://127.0.0.1:6443/prefix"))
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "POST" || req.URL.String() != "https://127.0.0.1:6443/prefix/api/v1/namespaces/team-a/configmaps" {
		t.Errorf("%s %s", req.Method, req.URL)
	}
	if req.Context().Value(ctxKey{}) != "v" {
		t.Error("the context was not kept")
	}
	if req.ContentLength != int64(len(body)) || req.GetBody == nil {
		t.Fatalf("ContentLength %d, GetBody %v: the body cannot be replayed", req.ContentLength, req.GetBody != nil)
	}
	for range 2 { // as the transport's retry after a 401 reads it
		rc, err := req.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(rc); string(b) != string(body) {
			t.Errorf("GetBody gave %q", b)
		}
	}

	get, err := Spec{Path: "/api"}.Build(ctx, mustURL(t, "https://127.0.0.1:6443"))
	if err != nil {
		t.Fatal(err)
	}
	if get.Body != nil || get.ContentLength != 0 {
		t.Errorf("GET has body %v, length %d", get.Body, get.ContentLength)
	}
}

// TestBuildOnTheWire sends built requests to a local server, to see what
// net/http makes of them: removed headers are not sent at all.
func TestBuildOnTheWire(t *testing.T) {
	var got *http.Request
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, gotBody = r, string(b)
	}))
	defer srv.Close()
	rt := &http.Transport{}
	defer rt.CloseIdleConnections()

	spec := Spec{
		Path: "/apis/apps/v1/namespaces/{namespace}/deployments/web", Namespace: "team-a",
		Body: []byte(`{"spec":{"replicas":2}}`), PatchType: "apply", ForceConflicts: true,
		Headers: []string{"Accept:", "User-Agent:", "X-Request-Id: 42", "Host: api.internal"},
	}
	req, err := spec.Build(t.Context(), mustURL(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Method != "PATCH" || got.URL.String() != "/apis/apps/v1/namespaces/team-a/deployments/web?fieldManager=kcurl&force=true" {
		t.Errorf("%s %s", got.Method, got.URL)
	}
	if gotBody != `{"spec":{"replicas":2}}` || got.Header.Get("Content-Type") != "application/apply-patch+yaml" {
		t.Errorf("body %q as %q", gotBody, got.Header.Get("Content-Type"))
	}
	for _, name := range []string{"Accept", "User-Agent"} {
		if v, ok := got.Header[name]; ok {
			t.Errorf("removed header %s was sent: %q", name, v)
		}
	}
	if got.Header.Get("X-Request-Id") != "42" || got.Host != "api.internal" {
		t.Errorf("X-Request-Id %q, Host %q", got.Header.Get("X-Request-Id"), got.Host)
	}
}
