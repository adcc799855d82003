package discovery

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kcurl/kcurl/pkg/transport"

	"github.com/kcurl/kcurl/pkg/apiclient"
)

// testIndex is a cluster with the name clashes kubectl users meet: events in
// the core group and in events.k8s.io, deployments in apps and in a custom
// group, a custom group whose non-preferred version is listed first, and
// two custom groups that both serve "certificates".
func testIndex() *Index {
	crud := []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	return &Index{Resources: []Resource{
		{Version: "v1", Name: "pods", Singular: "pod", Kind: "Pod", Namespaced: true, ShortNames: []string{"po"}, Categories: []string{"all"}, Verbs: crud, Subresources: []string{"exec", "log", "status"}, Preferred: true},
		{Version: "v1", Name: "podtemplates", Singular: "podtemplate", Kind: "PodTemplate", Namespaced: true, Verbs: crud, Preferred: true},
		{Version: "v1", Name: "services", Singular: "service", Kind: "Service", Namespaced: true, ShortNames: []string{"svc"}, Categories: []string{"all"}, Verbs: crud, Subresources: []string{"proxy", "status"}, Preferred: true},
		{Version: "v1", Name: "events", Singular: "event", Kind: "Event", Namespaced: true, ShortNames: []string{"ev"}, Verbs: crud, Preferred: true},
		{Version: "v1", Name: "namespaces", Singular: "namespace", Kind: "Namespace", ShortNames: []string{"ns"}, Verbs: crud, Subresources: []string{"finalize", "status"}, Preferred: true},
		{Group: "apps", Version: "v1beta2", Name: "deployments", Singular: "deployment", Kind: "Deployment", Namespaced: true, ShortNames: []string{"deploy"}, Categories: []string{"all"}, Verbs: crud},
		{Group: "apps", Version: "v1", Name: "deployments", Singular: "deployment", Kind: "Deployment", Namespaced: true, ShortNames: []string{"deploy"}, Categories: []string{"all"}, Verbs: crud, Subresources: []string{"scale", "status"}, Preferred: true},
		{Group: "events.k8s.io", Version: "v1", Name: "events", Singular: "event", Kind: "Event", Namespaced: true, ShortNames: []string{"ev"}, Verbs: crud, Preferred: true},
		{Group: "networking.k8s.io", Version: "v1", Name: "networkpolicies", Singular: "networkpolicy", Kind: "NetworkPolicy", Namespaced: true, ShortNames: []string{"netpol"}, Verbs: crud, Preferred: true},
		{Group: "example.com", Version: "v1", Name: "deployments", Singular: "deployment", Kind: "Deployment", Namespaced: true, Verbs: crud, Preferred: true},
		{Group: "stable.example.com", Version: "v1beta1", Name: "widgets", Singular: "widget", Kind: "Widget", Namespaced: true, ShortNames: []string{"wd"}, Categories: []string{"all", "gadgets"}, Verbs: crud},
		{Group: "stable.example.com", Version: "v1", Name: "widgets", Singular: "widget", Kind: "Widget", Namespaced: true, ShortNames: []string{"wd"}, Categories: []string{"all", "gadgets"}, Verbs: crud, Preferred: true},
		{Group: "stable.example.com", Version: "v1", Name: "gizmos", Singular: "gizmo", Kind: "Gizmo", ShortNames: []string{"gz"}, Categories: []string{"gadgets"}, Verbs: crud, Preferred: true},
		{Group: "cert-manager.io", Version: "v1", Name: "certificates", Singular: "certificate", Kind: "Certificate", Namespaced: true, ShortNames: []string{"cert", "certs"}, Verbs: crud, Preferred: true},
		{Group: "networking.internal.knative.dev", Version: "v1alpha1", Name: "certificates", Singular: "certificate", Kind: "Certificate", Namespaced: true, ShortNames: []string{"kcert"}, Verbs: crud, Preferred: true},
		{Group: "policy.example.org", Version: "v1", Name: "netpol", Singular: "netpol", Kind: "Netpol", Namespaced: true, Verbs: crud, Preferred: true},
		{Group: "tools.example.net", Version: "v1", Name: "hammers", Singular: "hammer", Kind: "Hammer", Namespaced: true, ShortNames: []string{"tool"}, Verbs: crud, Preferred: true},
		{Group: "tools.example.net", Version: "v1", Name: "saws", Singular: "saw", Kind: "Saw", Namespaced: true, ShortNames: []string{"tool"}, Verbs: crud, Preferred: true},
	}}
}

// id names a resource in test expectations: deployments.apps/v1.
func id(r Resource) string {
	return r.QualifiedName() + "/" + r.Version
}

func TestLookup(t *testing.T) {
	tests := []struct {
		arg  string
		want []string
	}{
		{"pods", []string{"pods/v1"}},
		{"pod", []string{"pods/v1"}},
		{"po", []string{"pods/v1"}},
		{"Pod", []string{"pods/v1"}},
		{"PODS", []string{"pods/v1"}},
		{"namespaces", []string{"namespaces/v1"}},
		{"pods.v1", []string{"pods/v1"}},
		{"po.v1", []string{"pods/v1"}},

		// The preferred version of a group, wherever the server lists it.
		{"deployment.apps", []string{"deployments.apps/v1"}},
		{"deployments.v1beta2.apps", []string{"deployments.apps/v1beta2"}},
		{"deploy.v1.apps", []string{"deployments.apps/v1"}},
		{"widgets", []string{"widgets.stable.example.com/v1"}},
		{"Widget", []string{"widgets.stable.example.com/v1"}},
		{"wd.v1beta1.stable.example.com", []string{"widgets.stable.example.com/v1beta1"}},
		{"wd.stable.example.com", []string{"widgets.stable.example.com/v1"}},

		// The core group before the others, built-in groups before custom ones.
		{"events", []string{"events/v1"}},
		{"ev", []string{"events/v1"}},
		{"Event", []string{"events/v1"}},
		{"events.events.k8s.io", []string{"events.events.k8s.io/v1"}},
		{"ev.v1.events.k8s.io", []string{"events.events.k8s.io/v1"}},
		{"deployments", []string{"deployments.apps/v1"}},
		{"deploy", []string{"deployments.apps/v1"}},
		{"Deployment", []string{"deployments.apps/v1"}},
		{"deployments.example.com", []string{"deployments.example.com/v1"}},

		// One group's short name does not hide another's exact name, as
		// with kubectl's shortcut expander.
		{"netpol", []string{"netpol.policy.example.org/v1"}},
		{"networkpolicies", []string{"networkpolicies.networking.k8s.io/v1"}},
		{"netpol.networking.k8s.io", []string{"networkpolicies.networking.k8s.io/v1"}},
		{"certificates.cert-manager.io", []string{"certificates.cert-manager.io/v1"}},
		{"cert", []string{"certificates.cert-manager.io/v1"}},
		{"kcert", []string{"certificates.networking.internal.knative.dev/v1alpha1"}},

		// A category is each of its members, in their preferred version.
		{"all", []string{"pods/v1", "services/v1", "deployments.apps/v1", "widgets.stable.example.com/v1"}},
		{"gadgets", []string{"widgets.stable.example.com/v1", "gizmos.stable.example.com/v1"}},
	}
	idx := testIndex()
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			found, err := idx.Lookup(tt.arg)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range found {
				got = append(got, id(r))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Lookup(%q) = %q, want %q", tt.arg, got, tt.want)
			}
		})
	}
}

func TestLookupAmbiguous(t *testing.T) {
	tests := []struct {
		arg        string
		candidates []string
	}{
		// Two custom groups, neither of them built in.
		{"certificates", []string{"certificates.cert-manager.io", "certificates.networking.internal.knative.dev"}},
		{"Certificate", []string{"certificates.cert-manager.io", "certificates.networking.internal.knative.dev"}},
		// Two resources of one group that share a short name.
		{"tool", []string{"hammers.tools.example.net", "saws.tools.example.net"}},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			_, err := testIndex().Lookup(tt.arg)
			var ambiguous *AmbiguousError
			if !errors.As(err, &ambiguous) {
				t.Fatalf("got %v, want an AmbiguousError", err)
			}
			if ambiguous.Name != tt.arg || !slices.Equal(ambiguous.Candidates, tt.candidates) {
				t.Errorf("got %q %q, want %q", ambiguous.Name, ambiguous.Candidates, tt.candidates)
			}
			for _, c := range tt.candidates {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("the message %q does not name %s", err, c)
				}
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	tests := []struct {
		arg         string
		suggestions []string
		message     string
	}{
		{"podz", []string{"pods"}, `the server doesn't have a resource type "podz"; did you mean pods? (kcurl api-resources lists them)`},
		{"dep", []string{"deployments.apps", "deployments.example.com"}, `the server doesn't have a resource type "dep"; did you mean deployments.apps, deployments.example.com? (kcurl api-resources lists them)`},
		{"flux", nil, `the server doesn't have a resource type "flux" (kcurl api-resources lists them)`},
		{"pods.apps", []string{"pods"}, `the server doesn't have a resource type "pods.apps"; did you mean pods? (kcurl api-resources lists them)`},
		{"widgets.v2.stable.example.com", []string{"widgets.stable.example.com"}, `the server doesn't have a resource type "widgets.v2.stable.example.com"; did you mean widgets.stable.example.com? (kcurl api-resources lists them)`},
		{"deployments.v1", []string{"deployments.apps", "deployments.example.com"}, `the server doesn't have a resource type "deployments.v1"; did you mean deployments.apps, deployments.example.com? (kcurl api-resources lists them)`},
		{"all.apps", nil, `the server doesn't have a resource type "all.apps" (kcurl api-resources lists them)`},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			_, err := testIndex().Lookup(tt.arg)
			var unknown *UnknownError
			if !errors.As(err, &unknown) {
				t.Fatalf("got %v, want an UnknownError", err)
			}
			if unknown.Name != tt.arg || !slices.Equal(unknown.Suggestions, tt.suggestions) {
				t.Errorf("got %q %q, want %q", unknown.Name, unknown.Suggestions, tt.suggestions)
			}
			if err.Error() != tt.message {
				t.Errorf("message\n got %s\nwant %s", err, tt.message)
			}
		})
	}
}

func TestResourcePath(t *testing.T) {
	pods := Resource{Version: "v1", Name: "pods", Namespaced: true}
	nodes := Resource{Version: "v1", Name: "nodes"}
	deployments := Resource{Group: "apps", Version: "v1", Name: "deployments", Namespaced: true}
	crds := Resource{Group: "apiextensions.k8s.io", Version: "v1", Name: "customresourcedefinitions"}
	tests := []struct {
		r                    Resource
		namespace, name, sub string
		want                 string
	}{
		{pods, "ns1", "", "", "/api/v1/namespaces/ns1/pods"},
		{pods, "", "", "", "/api/v1/pods"},
		{pods, "ns1", "web", "", "/api/v1/namespaces/ns1/pods/web"},
		{pods, "ns1", "web", "log", "/api/v1/namespaces/ns1/pods/web/log"},
		{pods, "ns1", "", "log", "/api/v1/namespaces/ns1/pods"}, // no subresource without a name
		{nodes, "ns1", "", "", "/api/v1/nodes"},
		{nodes, "ns1", "n1", "proxy", "/api/v1/nodes/n1/proxy"},
		{deployments, "ns1", "", "", "/apis/apps/v1/namespaces/ns1/deployments"},
		{deployments, "", "", "", "/apis/apps/v1/deployments"},
		{deployments, "ns1", "web", "scale", "/apis/apps/v1/namespaces/ns1/deployments/web/scale"},
		{crds, "ns1", "widgets.stable.example.com", "", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.stable.example.com"},
		// Names and namespaces are one path segment each, whatever they hold.
		{pods, "a b", "x y", "", "/api/v1/namespaces/a%20b/pods/x%20y"},
		{pods, "ns1", "50%?", "", "/api/v1/namespaces/ns1/pods/50%25%3F"},
		{pods, "ns1", "{namespace}", "", "/api/v1/namespaces/ns1/pods/%7Bnamespace%7D"},
		{pods, "ns1", "a/b", "", "/api/v1/namespaces/ns1/pods/a%2Fb"},
	}
	for _, tt := range tests {
		if got := tt.r.Path(tt.namespace, tt.name, tt.sub); got != tt.want {
			t.Errorf("%s.Path(%q, %q, %q) = %q, want %q", tt.r.QualifiedName(), tt.namespace, tt.name, tt.sub, got, tt.want)
		}
	}
}

func TestResourceNames(t *testing.T) {
	core := Resource{Version: "v1", Name: "pods"}
	apps := Resource{Group: "apps", Version: "v1", Name: "deployments"}
	if core.GroupVersion() != "v1" || core.QualifiedName() != "pods" {
		t.Errorf("core: %s %s", core.GroupVersion(), core.QualifiedName())
	}
	if apps.GroupVersion() != "apps/v1" || apps.QualifiedName() != "deployments.apps" {
		t.Errorf("apps: %s %s", apps.GroupVersion(), apps.QualifiedName())
	}
}

// discoveryServer is an API server's discovery endpoints: path → answer.
// It records every request and counts them per path.
type discoveryServer struct {
	*httptest.Server
	mu       sync.Mutex
	routes   map[string]route
	requests []*http.Request
}

type route struct {
	status      int
	contentType string
	body        string
	// aggregated, when set, is the answer to a client that asks for
	// aggregated discovery; body is the classic one.
	aggregated string
}

const aggregatedType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

func newDiscoveryServer(t *testing.T, routes map[string]route) *discoveryServer {
	t.Helper()
	s := &discoveryServer{routes: routes}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		rt, ok := s.routes[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","code":404}`))
			return
		}
		if rt.aggregated != "" && strings.Contains(r.Header.Get("Accept"), "as=APIGroupDiscoveryList") {
			rt = route{contentType: aggregatedType, body: rt.aggregated}
		}
		w.Header().Set("Content-Type", rt.contentType)
		if rt.status != 0 {
			w.WriteHeader(rt.status)
		}
		w.Write([]byte(rt.body))
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // connections the client drops at the end
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *discoveryServer) setRoutes(routes map[string]route) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes = routes
}

// paths is every path asked for, in order.
func (s *discoveryServer) paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.requests {
		out = append(out, r.URL.Path)
	}
	return out
}

func (s *discoveryServer) url(t *testing.T) *url.URL {
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func aggregatedRoutes(t *testing.T) map[string]route {
	return map[string]route{
		"/api":  {contentType: aggregatedType, body: readFixture(t, "aggregated-api.json")},
		"/apis": {contentType: aggregatedType, body: readFixture(t, "aggregated-apis.json")},
	}
}

// find returns the resources of the index named name, in each version.
func find(idx *Index, group, name string) []Resource {
	var out []Resource
	for _, r := range idx.Resources {
		if r.Group == group && r.Name == name {
			out = append(out, r)
		}
	}
	return out
}

func TestFetchAggregated(t *testing.T) {
	s := newDiscoveryServer(t, aggregatedRoutes(t))
	idx, err := Fetch(context.Background(), &apiclient.Client{HTTP: s.Client(), Server: s.url(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.paths(); !slices.Equal(got, []string{"/api", "/apis"}) {
		t.Errorf("requests %q, want one for /api and one for /apis", got)
	}
	for _, r := range s.requests {
		if accept := r.Header.Get("Accept"); !strings.HasPrefix(accept, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,") {
			t.Errorf("Accept %q does not ask for aggregated discovery first", accept)
		}
	}

	var names []string
	for _, r := range idx.Resources {
		names = append(names, id(r))
	}
	want := []string{"configmaps/v1", "events/v1", "namespaces/v1", "nodes/v1", "pods/v1", "services/v1",
		"deployments.apps/v1", "replicasets.apps/v1", "events.events.k8s.io/v1",
		"customresourcedefinitions.apiextensions.k8s.io/v1",
		"widgets.stable.example.com/v1", "widgets.stable.example.com/v1beta1"}
	if !slices.Equal(names, want) {
		t.Errorf("resources, in the server's order:\n got %q\nwant %q", names, want)
	}

	pods := find(idx, "", "pods")[0]
	if pods.Kind != "Pod" || pods.Singular != "pod" || !pods.Namespaced || !pods.Preferred ||
		!slices.Equal(pods.ShortNames, []string{"po"}) || !slices.Equal(pods.Categories, []string{"all"}) ||
		!slices.Contains(pods.Verbs, "watch") ||
		!slices.Equal(pods.Subresources, []string{"attach", "binding", "ephemeralcontainers", "eviction", "exec", "log", "portforward", "proxy", "status"}) {
		t.Errorf("pods: %+v", pods)
	}
	if ns := find(idx, "", "namespaces")[0]; ns.Namespaced {
		t.Errorf("namespaces are cluster-scoped: %+v", ns)
	}
	if deploy := find(idx, "apps", "deployments")[0]; deploy.Kind != "Deployment" || !slices.Equal(deploy.Subresources, []string{"scale", "status"}) {
		t.Errorf("deployments: %+v", deploy)
	}
	widgets := find(idx, "stable.example.com", "widgets")
	if len(widgets) != 2 || !widgets[0].Preferred || widgets[0].Version != "v1" || widgets[1].Preferred {
		t.Errorf("widgets: the first version listed is the preferred one: %+v", widgets)
	}

	for arg, want := range map[string]string{"po": "pods/v1", "deploy": "deployments.apps/v1", "ev": "events/v1", "crd": "customresourcedefinitions.apiextensions.k8s.io/v1", "wd": "widgets.stable.example.com/v1"} {
		found, err := idx.Lookup(arg)
		if err != nil || len(found) != 1 || id(found[0]) != want {
			t.Errorf("Lookup(%q) = %v, %v; want %s", arg, found, err, want)
		}
	}
}

// classicRoutes are a server without aggregated discovery: the group list,
// then one APIResourceList per group version, subresources among them.
func classicRoutes() map[string]route {
	j := func(body string) route { return route{contentType: "application/json", body: body} }
	return map[string]route{
		"/api": j(`{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"10.0.0.1:6443"}]}`),
		"/apis": j(`{"kind":"APIGroupList","apiVersion":"v1","groups":[
			{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}},
			{"name":"metrics.k8s.io","versions":[{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}],"preferredVersion":{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}},
			{"name":"stable.example.com","versions":[{"groupVersion":"stable.example.com/v1beta1","version":"v1beta1"},{"groupVersion":"stable.example.com/v1","version":"v1"}],"preferredVersion":{"groupVersion":"stable.example.com/v1","version":"v1"}}]}`),
		"/api/v1": j(`{"kind":"APIResourceList","groupVersion":"v1","resources":[
			{"name":"configmaps","singularName":"configmap","namespaced":true,"kind":"ConfigMap","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["cm"]},
			{"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace","verbs":["create","delete","get","list","patch","update","watch"],"shortNames":["ns"]},
			{"name":"namespaces/finalize","singularName":"","namespaced":false,"kind":"Namespace","verbs":["update"]},
			{"name":"namespaces/status","singularName":"","namespaced":false,"kind":"Namespace","verbs":["get","patch","update"]},
			{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["po"],"categories":["all"]},
			{"name":"pods/exec","singularName":"","namespaced":true,"kind":"PodExecOptions","verbs":["create","get"]},
			{"name":"pods/log","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]},
			{"name":"pods/status","singularName":"","namespaced":true,"kind":"Pod","verbs":["get","patch","update"]}]}`),
		"/apis/apps/v1": j(`{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[
			{"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["deploy"],"categories":["all"]},
			{"name":"deployments/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale","verbs":["get","patch","update"]},
			{"name":"deployments/status","singularName":"","namespaced":true,"kind":"Deployment","verbs":["get","patch","update"]}]}`),
		// An aggregated API whose backend is down.
		"/apis/metrics.k8s.io/v1beta1": {status: http.StatusServiceUnavailable, contentType: "text/plain", body: "service unavailable\n"},
		"/apis/stable.example.com/v1beta1": j(`{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"stable.example.com/v1beta1","resources":[
			{"name":"widgets","singularName":"widget","namespaced":true,"kind":"Widget","verbs":["get","list","watch"],"shortNames":["wd"]}]}`),
		"/apis/stable.example.com/v1": j(`{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"stable.example.com/v1","resources":[
			{"name":"widgets","singularName":"widget","namespaced":true,"kind":"Widget","verbs":["get","list","watch"],"shortNames":["wd"],"categories":["gadgets"]}]}`),
	}
}

func TestFetchClassic(t *testing.T) {
	s := newDiscoveryServer(t, classicRoutes())
	idx, err := Fetch(context.Background(), &apiclient.Client{HTTP: s.Client(), Server: s.url(t)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range idx.Resources {
		names = append(names, id(r))
	}
	want := []string{"configmaps/v1", "namespaces/v1", "pods/v1", "deployments.apps/v1",
		"widgets.stable.example.com/v1beta1", "widgets.stable.example.com/v1"}
	if !slices.Equal(names, want) {
		t.Errorf("resources (subresources folded in, the unavailable group skipped):\n got %q\nwant %q", names, want)
	}
	// /api once for aggregated discovery, then the classic walk; the group
	// versions in parallel.
	paths := s.paths()
	if len(paths) > 3 {
		slices.Sort(paths[3:])
	}
	wantPaths := []string{"/api", "/api", "/apis", "/api/v1", "/apis/apps/v1", "/apis/metrics.k8s.io/v1beta1", "/apis/stable.example.com/v1", "/apis/stable.example.com/v1beta1"}
	if !slices.Equal(paths, wantPaths) {
		t.Errorf("requests\n got %q\nwant %q", paths, wantPaths)
	}

	pods := find(idx, "", "pods")[0]
	if !slices.Equal(pods.Subresources, []string{"exec", "log", "status"}) || pods.Kind != "Pod" || !pods.Namespaced || !pods.Preferred || !slices.Equal(pods.Categories, []string{"all"}) {
		t.Errorf("pods: %+v", pods)
	}
	if ns := find(idx, "", "namespaces")[0]; ns.Namespaced || !slices.Equal(ns.Subresources, []string{"finalize", "status"}) {
		t.Errorf("namespaces: %+v", ns)
	}
	if deploy := find(idx, "apps", "deployments")[0]; deploy.Kind != "Deployment" || !slices.Equal(deploy.Subresources, []string{"scale", "status"}) {
		t.Errorf("deployments: %+v", deploy)
	}
	if cm := find(idx, "", "configmaps")[0]; cm.Subresources != nil {
		t.Errorf("configmaps have no subresources: %+v", cm)
	}
	widgets := find(idx, "stable.example.com", "widgets")
	if len(widgets) != 2 || widgets[0].Preferred || !widgets[1].Preferred {
		t.Errorf("widgets: v1 is preferred as preferredVersion says, not the first listed: %+v", widgets)
	}
	if found, err := idx.Lookup("wd"); err != nil || id(found[0]) != "widgets.stable.example.com/v1" {
		t.Errorf("Lookup(wd) = %v, %v", found, err)
	}
	if found, err := idx.Lookup("gadgets"); err != nil || len(found) != 1 || id(found[0]) != "widgets.stable.example.com/v1" {
		t.Errorf("Lookup(gadgets) = %v, %v", found, err)
	}
}

// A server that serves aggregated /api but classic /apis is walked the
// classic way, wholly.
func TestFetchMixedFallsBackToClassic(t *testing.T) {
	routes := classicRoutes()
	core := routes["/api"]
	core.aggregated = readFixture(t, "aggregated-api.json")
	routes["/api"] = core
	s := newDiscoveryServer(t, routes)
	idx, err := Fetch(context.Background(), &apiclient.Client{HTTP: s.Client(), Server: s.url(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(find(idx, "apps", "deployments")) != 1 || len(find(idx, "", "pods")) != 1 {
		t.Errorf("resources: %+v", idx.Resources)
	}
}

func TestFetchErrors(t *testing.T) {
	forbidden := route{status: http.StatusForbidden, contentType: "application/json",
		body: `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"forbidden: User \"system:anonymous\" cannot get path \"/api\"","reason":"Forbidden","code":403}`}
	for _, tt := range []struct {
		name   string
		routes map[string]route
		code   int
	}{
		{"the core root refused", map[string]route{"/api": forbidden}, 403},
		{"the group list unavailable", func() map[string]route {
			r := aggregatedRoutes(t)
			r["/apis"] = route{status: http.StatusServiceUnavailable, contentType: "text/plain", body: "down"}
			return r
		}(), 503},
		{"the classic group list missing", func() map[string]route {
			r := classicRoutes()
			delete(r, "/apis")
			return r
		}(), 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newDiscoveryServer(t, tt.routes)
			_, err := Fetch(context.Background(), &apiclient.Client{HTTP: s.Client(), Server: s.url(t)})
			var status *transport.StatusError
			if !errors.As(err, &status) || status.Code != tt.code {
				t.Errorf("got %v, want a StatusError %d", err, tt.code)
			}
		})
	}

	s := newDiscoveryServer(t, map[string]route{"/api": {contentType: aggregatedType, body: `{"items":[`}})
	if _, err := Fetch(context.Background(), &apiclient.Client{HTTP: s.Client(), Server: s.url(t)}); err == nil || !strings.Contains(err.Error(), "discovery /api") {
		t.Errorf("a truncated answer: got %v", err)
	}
}

// A server behind a path prefix (kubectl proxy --api-prefix, a gateway) is
// asked under it.
func TestFetchUnderPrefix(t *testing.T) {
	routes := map[string]route{}
	for p, r := range aggregatedRoutes(t) {
		routes["/k8s"+p] = r
	}
	s := newDiscoveryServer(t, routes)
	base := s.url(t)
	base.Path = "/k8s/"
	idx, err := Fetch(context.Background(), &apiclient.Client{HTTP: s.Client(), Server: base})
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Resources) == 0 || !slices.Equal(s.paths(), []string{"/k8s/api", "/k8s/apis"}) {
		t.Errorf("requests %q, %d resources", s.paths(), len(idx.Resources))
	}
}
