package discovery

import (
	"context"
	"slices"
	"strings"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/request"
)

// ResolveOptions are the flags that decide what a RESOURCE means.
type ResolveOptions struct {
	Namespace     string // for namespaced resources, unless AllNamespaces
	AllNamespaces bool   // -A
	All           bool   // --all pages through a list: no NAME
	Watch         bool   // -w: a NAME is the list, selected by that name
}

// Resolved is what a RESOURCE means.
type Resolved struct {
	// Paths are one, or one per resource type of a category, each with
	// the query that was typed.
	Paths []string
	// Kinds are the Paths' kinds, qualified as kubectl get prints them
	// before a name when it lists several resource types (pod,
	// deployment.apps).
	Kinds []string
	// Name, for a watch of TYPE/NAME: Paths are the list's, and the watch
	// selects the object by this name (request.Spec.Name).
	Name string
	// Category: the lists of several resource types, merged into one v1
	// List as kubectl get all prints it.
	Category bool
	// Namespaced is true when the (first) resource type is namespaced.
	Namespaced bool
}

// lookupTypes looks up TYPE, or each TYPE of TYPE,TYPE… (kubectl get
// pods,svc), whose lists are then printed as a category's: the resource
// types in the order typed, each once.
func (c *Client) lookupTypes(ctx context.Context, typ string) ([]Resource, error) {
	if !strings.Contains(typ, ",") {
		return c.Lookup(ctx, typ)
	}
	var all []Resource
	for part := range strings.SplitSeq(typ, ",") {
		found, err := c.Lookup(ctx, part)
		if err != nil {
			return nil, err
		}
		for _, r := range found {
			if !slices.ContainsFunc(all, func(seen Resource) bool { return seen.Group == r.Group && seen.Name == r.Name }) {
				all = append(all, r)
			}
		}
	}
	return all, nil
}

// Resolve turns a RESOURCE (pods, deploy/web, deployments.apps/web/scale,
// a category such as all) into its API paths, as kubectl get does. What
// cannot be meant is a usage error.
func (c *Client) Resolve(ctx context.Context, resource string, opts ResolveOptions) (*Resolved, error) {
	ref, query, _ := strings.Cut(resource, "?")
	parts := strings.Split(ref, "/")
	if len(parts) > 3 || slices.Contains(parts, "") {
		return nil, exitcode.Usagef("%q is neither a PATH (/api/…) nor a RESOURCE (TYPE, TYPE/NAME or TYPE/NAME/SUBRESOURCE)", resource)
	}
	typ, name, sub := parts[0], "", ""
	if len(parts) > 1 {
		name = parts[1]
	}
	if len(parts) > 2 {
		sub = parts[2]
	}
	if opts.Namespace != "" && !opts.AllNamespaces {
		if err := request.CheckName("namespace", opts.Namespace); err != nil {
			return nil, err
		}
	}
	for i, what := range []string{"resource", "name", "subresource"}[:len(parts)] {
		if err := request.CheckName(what, parts[i]); err != nil {
			return nil, err
		}
	}
	if opts.All && name != "" {
		return nil, exitcode.Usagef("--all pages through a list; %s names one object", ref)
	}
	found, err := c.lookupTypes(ctx, typ)
	if err != nil {
		return nil, err
	}
	unqualified, _, _ := strings.Cut(typ, ".")
	out := &Resolved{Category: len(found) > 1 || !found[0].AnswersTo(unqualified), Namespaced: found[0].Namespaced}
	if out.Category && (name != "" || opts.Watch) {
		what := "is a category of"
		if strings.Contains(typ, ",") {
			what = "names"
		}
		return nil, exitcode.Usagef("%q %s %d resource types; name one of them to get or watch a single object", typ, what, len(found))
	}
	for _, r := range found {
		if sub != "" && !slices.Contains(r.Subresources, sub) {
			if len(r.Subresources) == 0 {
				return nil, exitcode.Targetf("%s has no subresources", r.QualifiedName())
			}
			return nil, exitcode.Targetf("%s has no subresource %q: it has %s", r.QualifiedName(), sub, strings.Join(r.Subresources, ", "))
		}
		namespace := opts.Namespace
		if opts.AllNamespaces {
			if name != "" && r.Namespaced {
				return nil, exitcode.Usagef("-A lists across namespaces; %s/%s names one object: drop -A, or give its namespace with -n", typ, name)
			}
			namespace = ""
		}
		object := name
		if opts.Watch && name != "" && sub == "" {
			object, out.Name = "", name // the server watches lists, not objects
		}
		path := r.Path(namespace, object, sub)
		if query != "" {
			path += "?" + query
		}
		out.Paths = append(out.Paths, path)
		out.Kinds = append(out.Kinds, r.QualifiedKind())
	}
	return out, nil
}
