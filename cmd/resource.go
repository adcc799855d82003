package cmd

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kcurl/kcurl/pkg/discovery"
)

// resolvePaths turns the argument into API paths: a PATH as typed, or a
// RESOURCE (pods, deploy/web, deployments.apps/web/scale) through discovery.
func (o *requestOptions) resolvePaths(ctx context.Context) error {
	if strings.HasPrefix(o.arg, "/") {
		if o.allNamespaces {
			return usagef("-A goes with a RESOURCE (kcurl pods -A); a PATH names its namespace itself")
		}
		o.paths = []string{o.arg}
		return nil
	}
	ref, query, _ := strings.Cut(o.arg, "?")
	parts := strings.Split(ref, "/")
	if len(parts) > 3 || slices.Contains(parts, "") {
		return usagef("%q is neither a PATH (/api/…) nor a RESOURCE (TYPE, TYPE/NAME or TYPE/NAME/SUBRESOURCE)", o.arg)
	}
	name, sub := "", ""
	if len(parts) > 1 {
		name = parts[1]
	}
	if len(parts) > 2 {
		sub = parts[2]
	}

	if o.all && name != "" {
		return usagef("--all pages through a list; %s names one object", ref)
	}
	disco := o.discovery()
	found, err := disco.Lookup(ctx, parts[0])
	if err != nil {
		return lookupError(err)
	}
	typed, _, _ := strings.Cut(parts[0], ".")
	o.category = len(found) > 1 || !found[0].AnswersTo(typed)
	if o.category && (name != "" || o.watch) {
		return usagef("%q is a category of %d resource types; name one of them to get or watch a single object", parts[0], len(found))
	}
	for _, r := range found {
		if sub != "" && !slices.Contains(r.Subresources, sub) {
			if len(r.Subresources) == 0 {
				return usagef("%s has no subresources", r.QualifiedName())
			}
			return usagef("%s has no subresource %q: it has %s", r.QualifiedName(), sub, strings.Join(r.Subresources, ", "))
		}
		namespace := o.target.Namespace
		if o.allNamespaces {
			if name != "" && r.Namespaced {
				return usagef("-A lists across namespaces; %s/%s names one object: drop -A, or give its namespace with -n", parts[0], name)
			}
			namespace = ""
		}
		object := name
		if o.watch && name != "" && sub == "" {
			// The API server watches lists, not objects (a GET of one
			// ignores watch=true): watch the list, selected by name, as
			// kubectl get NAME -w does.
			object = ""
			o.spec.FieldSelector = strings.TrimPrefix(o.spec.FieldSelector+",metadata.name="+name, ",")
		}
		path := r.Path(namespace, object, sub)
		if query != "" {
			path += "?" + query
		}
		o.paths = append(o.paths, path)
		o.resources = append(o.resources, r)
	}
	return nil
}

// discovery is the discovery client of this invocation, caching under the
// user's cache dir when there is one.
func (o *requestOptions) discovery() *discovery.Client {
	return newDiscovery(o.streams, o.client, o.target.Server)
}

// newDiscovery is the discovery client every command uses: the user's
// cache when there is one.
func newDiscovery(s Streams, client *http.Client, server *url.URL) *discovery.Client {
	return &discovery.Client{HTTP: client, Server: server, CacheDir: discoveryCacheDir(s)}
}

// discoveryCacheDir is $XDG_CACHE_HOME/kcurl/discovery or
// ~/.cache/kcurl/discovery; "" (no cache) without either.
func discoveryCacheDir(s Streams) string {
	if d := s.Getenv("KCURL_CACHE_DIR"); d != "" {
		return filepath.Join(d, "discovery")
	}
	if d := s.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "kcurl", "discovery")
	}
	if h := s.Getenv("HOME"); h != "" && h != "/" {
		return filepath.Join(h, ".cache", "kcurl", "discovery")
	}
	return ""
}

// lookupError makes an unknown or ambiguous name a usage error (exit 2).
func lookupError(err error) error {
	switch err.(type) {
	case *discovery.UnknownError, *discovery.AmbiguousError:
		return &usageError{msg: err.Error()}
	}
	return err
}
