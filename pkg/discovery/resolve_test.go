package discovery

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		resource string
		opts     ResolveOptions
		want     Resolved
		err      string // an exit 2's message
		noHelp   bool   // err is not a UsageError: no pointer at the help
	}{
		{resource: "po", opts: ResolveOptions{Namespace: "ns1"},
			want: Resolved{Paths: []string{"/api/v1/namespaces/ns1/pods"}, Kinds: []string{"pod"}, Namespaced: true}},
		// Each type's kind as kubectl get all prints it before a name.
		{resource: "all", opts: ResolveOptions{Namespace: "ns1"},
			want: Resolved{Paths: []string{"/api/v1/namespaces/ns1/pods", "/api/v1/namespaces/ns1/services", "/apis/apps/v1/namespaces/ns1/deployments", "/apis/stable.example.com/v1/namespaces/ns1/widgets"},
				Kinds: []string{"pod", "service", "deployment.apps", "widget.stable.example.com"}, Category: true, Namespaced: true}},
		{resource: "pods/web/log?tailLines=1", opts: ResolveOptions{Namespace: "ns1"},
			want: Resolved{Paths: []string{"/api/v1/namespaces/ns1/pods/web/log?tailLines=1"}, Namespaced: true}},
		{resource: "pods", opts: ResolveOptions{Namespace: "ns1", AllNamespaces: true},
			want: Resolved{Paths: []string{"/api/v1/pods"}, Namespaced: true}},
		// The server watches lists: TYPE/NAME -w is the list, selected by name.
		{resource: "pods/web", opts: ResolveOptions{Namespace: "ns1", Watch: true},
			want: Resolved{Paths: []string{"/api/v1/namespaces/ns1/pods"}, Name: "web", Namespaced: true}},
		// Types separated by commas, as kubectl get pods,svc: listed as a
		// category's are, in the order typed, each once.
		{resource: "po,svc,pods", opts: ResolveOptions{Namespace: "ns1"},
			want: Resolved{Paths: []string{"/api/v1/namespaces/ns1/pods", "/api/v1/namespaces/ns1/services"}, Kinds: []string{"pod", "service"}, Category: true, Namespaced: true}},
		{resource: "pods,svc/web", err: `"pods,svc" names 2 resource types; name one of them to get or watch a single object`},
		{resource: "pods,nope", err: `the server doesn't have a resource type "nope" (kcurl api-resources lists them)`, noHelp: true},
		{resource: "pods/web", opts: ResolveOptions{All: true}, err: "--all pages through a list; pods/web names one object"},
		{resource: "pods/web", opts: ResolveOptions{AllNamespaces: true},
			err: "-A lists across namespaces; pods/web names one object: drop -A, or give its namespace with -n"},
		// What the type lacks: exit 2, its words say what it has, and the
		// help would not help.
		{resource: "pods/web/nope", err: `pods has no subresource "nope": it has exec, log, status`, noHelp: true},
		{resource: "all/web", err: `"all" is a category of 4 resource types; name one of them to get or watch a single object`},
		{resource: "a/b/c/d", err: `"a/b/c/d" is neither a PATH (/api/…) nor a RESOURCE (TYPE, TYPE/NAME or TYPE/NAME/SUBRESOURCE)`},
	} {
		t.Run(tc.resource, func(t *testing.T) {
			c := &Client{index: testIndex()}
			got, err := c.Resolve(context.Background(), tc.resource, tc.opts)
			var usage *exitcode.UsageError
			switch {
			case tc.err != "":
				if code, _ := exitcode.Of(err); code != exitcode.Usage || err.Error() != tc.err {
					t.Errorf("err %v (exit %d), want exit 2 with %q", err, code, tc.err)
				}
				if errors.As(err, &usage) == tc.noHelp {
					t.Errorf("err %v: a UsageError (which points at the help) is %v, want %v", err, !tc.noHelp, tc.noHelp)
				}
			case err != nil:
				t.Fatal(err)
			case !slices.Equal(got.Paths, tc.want.Paths) || got.Name != tc.want.Name || got.Category != tc.want.Category || got.Namespaced != tc.want.Namespaced,
				tc.want.Kinds != nil && !slices.Equal(got.Kinds, tc.want.Kinds):
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}
