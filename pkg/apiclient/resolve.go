package apiclient

import "context"

// Resolver turns a RESOURCE (pods, deploy/web, deployments.apps/web/scale)
// into API paths; discovery.Client is the one kcurl uses.
type Resolver interface {
	Resolve(ctx context.Context, resource string, opts ResolveOptions) (*Resolved, error)
}

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
	// Name, for a watch of TYPE/NAME: Paths are the list's, and the watch
	// selects the object by this name (request.Spec.Name).
	Name string
	// Category: the lists of several resource types, merged into one v1
	// List as kubectl get all prints it.
	Category bool
	// Namespaced is true when the (first) resource type is namespaced.
	Namespaced bool
}
