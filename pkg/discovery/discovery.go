// Package discovery learns which resources an API server serves, and turns
// kubectl-style names (po, deploy, deployments.apps, Widget) into API paths.
// It asks for aggregated discovery (one request each for /api and /apis)
// and falls back to walking every group version on servers without it.
package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/xrash/smetrics"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// Resource is one resource type the server serves.
type Resource struct {
	Group        string   `json:"group"`
	Version      string   `json:"version"`
	Name         string   `json:"name"` // plural: deployments
	Singular     string   `json:"singularName"`
	Kind         string   `json:"kind"`
	Namespaced   bool     `json:"namespaced"`
	ShortNames   []string `json:"shortNames,omitempty"`
	Categories   []string `json:"categories,omitempty"`
	Verbs        []string `json:"verbs"`
	Subresources []string `json:"subresources,omitempty"`
	// Preferred is true for the group's preferred version.
	Preferred bool `json:"preferred"`
}

// GroupVersion is "v1" for the core group, "apps/v1" otherwise.
func (r Resource) GroupVersion() string {
	if r.Group == "" {
		return r.Version
	}
	return r.Group + "/" + r.Version
}

// QualifiedName is the name kubectl prints for ambiguities: deployments.apps.
func (r Resource) QualifiedName() string {
	if r.Group == "" {
		return r.Name
	}
	return r.Name + "." + r.Group
}

// QualifiedKind is the kind as kubectl get prints it before a name when it
// lists several resource types at once: pod, deployment.apps.
func (r Resource) QualifiedKind() string {
	if r.Group == "" {
		return strings.ToLower(r.Kind)
	}
	return strings.ToLower(r.Kind) + "." + r.Group
}

// Index is everything discovery found, in the server's order.
type Index struct {
	Resources []Resource `json:"resources"`
}

// Aggregated discovery (KEP-3352): one answer per root instead of one per
// group version.
const aggregatedAccept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"

// Fetch asks the server for its resources.
func Fetch(ctx context.Context, api *apiclient.Client) (*Index, error) {
	idx := &Index{}
	classic := false
	for _, root := range []string{"/api", "/apis"} {
		var list aggregatedList
		aggregated, err := getJSON(ctx, api, root, aggregatedAccept, &list)
		if err != nil {
			return nil, err
		}
		if !aggregated {
			classic = true
			break
		}
		idx.Resources = append(idx.Resources, list.resources()...)
	}
	if classic {
		return fetchClassic(ctx, api)
	}
	return idx, nil
}

type aggregatedList struct {
	Items []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Versions []struct {
			Version   string `json:"version"`
			Resources []struct {
				Resource     string `json:"resource"`
				ResponseKind *struct {
					Kind string `json:"kind"`
				} `json:"responseKind"`
				Scope            string   `json:"scope"`
				SingularResource string   `json:"singularResource"`
				Verbs            []string `json:"verbs"`
				ShortNames       []string `json:"shortNames"`
				Categories       []string `json:"categories"`
				Subresources     []struct {
					Subresource string `json:"subresource"`
				} `json:"subresources"`
			} `json:"resources"`
		} `json:"versions"`
	} `json:"items"`
}

func (l aggregatedList) resources() []Resource {
	var out []Resource
	for _, g := range l.Items {
		for vi, v := range g.Versions {
			for _, r := range v.Resources {
				res := Resource{
					Group: g.Metadata.Name, Version: v.Version, Name: r.Resource, Singular: r.SingularResource,
					Namespaced: r.Scope == "Namespaced", ShortNames: r.ShortNames, Categories: r.Categories,
					Verbs: r.Verbs, Preferred: vi == 0,
				}
				if r.ResponseKind != nil {
					res.Kind = r.ResponseKind.Kind
				}
				for _, s := range r.Subresources {
					res.Subresources = append(res.Subresources, s.Subresource)
				}
				out = append(out, res)
			}
		}
	}
	return out
}

// groupVersion is one group version of classic discovery.
type groupVersion struct {
	path, group, version string
	preferred            bool
}

// fetchClassic walks /api, /apis and every group version, as kubectl does on
// servers older than aggregated discovery; the group versions in parallel.
func fetchClassic(ctx context.Context, api *apiclient.Client) (*Index, error) {
	gvs, err := classicGroupVersions(ctx, api)
	if err != nil {
		return nil, err
	}
	lists := make([][]Resource, len(gvs))
	errs := make([]error, len(gvs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, gv := range gvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			lists[i], errs[i] = fetchGroupVersion(ctx, api, gv)
		}()
	}
	wg.Wait()
	idx := &Index{}
	for i := range gvs {
		if errs[i] != nil {
			// An unavailable aggregated API (metrics-server down) must not
			// hide every other resource, as with kubectl.
			continue
		}
		idx.Resources = append(idx.Resources, lists[i]...)
	}
	return idx, nil
}

// classicGroupVersions lists every group version /api and /apis serve.
func classicGroupVersions(ctx context.Context, api *apiclient.Client) ([]groupVersion, error) {
	var gvs []groupVersion
	var core struct {
		Versions []string `json:"versions"`
	}
	if _, err := getJSON(ctx, api, "/api", "application/json", &core); err != nil {
		return nil, err
	}
	for i, v := range core.Versions {
		gvs = append(gvs, groupVersion{"/api/" + v, "", v, i == 0})
	}
	var groups struct {
		Groups []struct {
			Name     string `json:"name"`
			Versions []struct {
				Version string `json:"version"`
			} `json:"versions"`
			PreferredVersion struct {
				Version string `json:"version"`
			} `json:"preferredVersion"`
		} `json:"groups"`
	}
	if _, err := getJSON(ctx, api, "/apis", "application/json", &groups); err != nil {
		return nil, err
	}
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			gvs = append(gvs, groupVersion{"/apis/" + g.Name + "/" + v.Version, g.Name, v.Version, v.Version == g.PreferredVersion.Version})
		}
	}
	return gvs, nil
}

// fetchGroupVersion reads the resources of one group version, their
// subresources folded in.
func fetchGroupVersion(ctx context.Context, api *apiclient.Client, gv groupVersion) ([]Resource, error) {
	var list struct {
		Resources []struct {
			Name         string   `json:"name"`
			SingularName string   `json:"singularName"`
			Namespaced   bool     `json:"namespaced"`
			Kind         string   `json:"kind"`
			Verbs        []string `json:"verbs"`
			ShortNames   []string `json:"shortNames"`
			Categories   []string `json:"categories"`
		} `json:"resources"`
	}
	if _, err := getJSON(ctx, api, gv.path, "application/json", &list); err != nil {
		return nil, err
	}
	subresources := map[string][]string{}
	for _, r := range list.Resources {
		if parent, sub, ok := strings.Cut(r.Name, "/"); ok {
			subresources[parent] = append(subresources[parent], sub)
		}
	}
	var out []Resource
	for _, r := range list.Resources {
		if strings.Contains(r.Name, "/") {
			continue
		}
		out = append(out, Resource{
			Group: gv.group, Version: gv.version, Name: r.Name, Singular: r.SingularName, Kind: r.Kind,
			Namespaced: r.Namespaced, ShortNames: r.ShortNames, Categories: r.Categories, Verbs: r.Verbs,
			Subresources: subresources[r.Name], Preferred: gv.preferred,
		})
	}
	return out, nil
}

// getJSON GETs path and decodes it into out. It reports whether the answer
// was aggregated discovery, by its Content-Type.
func getJSON(ctx context.Context, api *apiclient.Client, path, accept string, out any) (bool, error) {
	resp, err := api.Send(ctx, request.Spec{Path: path, Accept: accept})
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	aggregated := params["g"] == "apidiscovery.k8s.io" && params["as"] == "APIGroupDiscoveryList"
	if accept == aggregatedAccept && !aggregated {
		_, _ = io.Copy(io.Discard, resp.Body)
		return false, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return false, fmt.Errorf("discovery %s: %w", path, transport.Classify(err))
	}
	return aggregated, nil
}

// AmbiguousError is a name that more than one resource answers to.
type AmbiguousError struct {
	Name       string
	Candidates []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%q is ambiguous: it could be %s; qualify it with the group", e.Name, strings.Join(e.Candidates, ", "))
}

func (e *AmbiguousError) ExitCode() int { return exitcode.Usage }

// UnknownError is a name no resource answers to. It and AmbiguousError
// are exit 2 with no pointer at the help, as kubectl's are: their words
// say where to look (kcurl api-resources, or the candidates).
type UnknownError struct {
	Name        string
	Suggestions []string
}

func (e *UnknownError) Error() string {
	msg := fmt.Sprintf("the server doesn't have a resource type %q", e.Name)
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + strings.Join(e.Suggestions, ", ") + "?"
	}
	return msg + " (kcurl api-resources lists them)"
}

func (e *UnknownError) ExitCode() int { return exitcode.Usage }

// Lookup finds the resources a kubectl-style name means: a plural, singular,
// short name or kind, optionally qualified as NAME.GROUP or
// NAME.VERSION.GROUP. One resource for a resource name; several for a
// category (all of them, as kubectl get does).
func (idx *Index) Lookup(arg string) ([]Resource, error) {
	name, qualifier, _ := strings.Cut(arg, ".")
	lname := strings.ToLower(name)
	var exact, short []Resource
	for _, r := range idx.Resources {
		switch {
		case !r.qualifiedBy(qualifier):
		case r.Name == lname || r.Singular == lname || strings.ToLower(r.Kind) == lname:
			exact = append(exact, r)
		case slices.Contains(r.ShortNames, lname):
			short = append(short, r)
		}
	}
	// Exact names before short names: as with kubectl's shortcut expander,
	// a short name means nothing where a resource bears that name itself.
	matches := exact
	if len(matches) == 0 {
		matches = short
	}
	if len(matches) == 0 {
		if qualifier == "" {
			if byCategory := idx.category(lname); len(byCategory) > 0 {
				return byCategory, nil
			}
		}
		return nil, &UnknownError{Name: arg, Suggestions: idx.suggest(lname)}
	}
	return pick(arg, matches)
}

func (r Resource) answersTo(lname string) bool {
	return r.Name == lname || r.Singular == lname || strings.ToLower(r.Kind) == lname || slices.Contains(r.ShortNames, lname)
}

// qualifiedBy: "" matches all; "apps" the group; "v1.apps" version and group.
func (r Resource) qualifiedBy(q string) bool {
	switch {
	case q == "":
		return true
	case q == r.Group:
		return true
	default:
		version, group, ok := strings.Cut(q, ".")
		if ok && version == r.Version && group == r.Group {
			return true
		}
		// "deployments.v1" for the core group's versions is not a thing,
		// but "pods.v1" is: a version with no group means the core group.
		return !ok && q == r.Version && r.Group == ""
	}
}

// pick chooses among matches as kubectl's priority RESTMapper would: the
// preferred version of a group (a typed version left only one); the core group
// before others, built-in groups before custom ones (Lookup has already put
// exact names before short names). What stays tied is ambiguous.
func pick(arg string, matches []Resource) ([]Resource, error) {
	// One entry per resource (group and name), in its preferred version:
	// two resources of one group that share a short name are a tie too.
	byResource := map[string]Resource{}
	var order []string
	for _, r := range matches {
		key := r.Group + "/" + r.Name
		cur, seen := byResource[key]
		if !seen {
			order = append(order, key)
		}
		if !seen || (r.Preferred && !cur.Preferred) {
			byResource[key] = r
		}
	}
	if len(order) == 1 {
		return []Resource{byResource[order[0]]}, nil
	}
	for _, rank := range []func(Resource) bool{
		func(r Resource) bool { return r.Group == "" },
		func(r Resource) bool { return builtinGroup(r.Group) },
	} {
		var best []string
		for _, k := range order {
			if rank(byResource[k]) {
				best = append(best, k)
			}
		}
		if len(best) == 1 {
			return []Resource{byResource[best[0]]}, nil
		}
		if len(best) > 1 {
			order = best
			break
		}
	}
	candidates := make([]string, len(order))
	for i, k := range order {
		candidates[i] = byResource[k].QualifiedName()
	}
	return nil, &AmbiguousError{Name: arg, Candidates: candidates}
}

// builtinGroup: Kubernetes' own groups have no dot (apps, batch) or end in
// .k8s.io; custom resources live in their owners' domains.
func builtinGroup(g string) bool {
	return !strings.Contains(g, ".") || strings.HasSuffix(g, ".k8s.io")
}

func (idx *Index) category(lname string) []Resource {
	seen := map[string]bool{}
	var out []Resource
	for _, r := range idx.Resources {
		if !slices.Contains(r.Categories, lname) || seen[r.Group+"/"+r.Name] {
			continue
		}
		// The group's preferred version stands for the group.
		best := r
		for _, other := range idx.Resources {
			if other.Group == r.Group && other.Name == r.Name && other.Preferred {
				best = other
			}
		}
		seen[r.Group+"/"+r.Name] = true
		out = append(out, best)
	}
	return out
}

// suggest lists names that start like the one typed, or are a typo or
// two away from it (confgimaps, deploymnets, secert).
func (idx *Index) suggest(lname string) []string {
	var out []string
	near := func(r Resource) bool {
		if len(lname) < 4 {
			return false
		}
		for _, n := range []string{r.Name, r.Singular} {
			if n != "" && smetrics.WagnerFischer(lname, n, 1, 1, 1) <= min(2, len(lname)/4) {
				return true
			}
		}
		return false
	}
	for _, r := range idx.Resources {
		if !r.Preferred || len(lname) < 2 {
			continue
		}
		if strings.HasPrefix(r.Name, lname) || strings.HasPrefix(lname, r.Singular) && r.Singular != "" || near(r) {
			if q := r.QualifiedName(); !slices.Contains(out, q) {
				out = append(out, q)
			}
		}
	}
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}

// Path is the API path of the resource: a list when name is "", in the
// namespace unless it is "" (all namespaces) or the resource is
// cluster-scoped, then the object and its subresource.
func (r Resource) Path(namespace, name, subresource string) string {
	var b strings.Builder
	if r.Group == "" {
		b.WriteString("/api/" + r.Version)
	} else {
		b.WriteString("/apis/" + r.Group + "/" + r.Version)
	}
	if r.Namespaced && namespace != "" {
		b.WriteString("/namespaces/" + url.PathEscape(namespace))
	}
	b.WriteString("/" + r.Name)
	if name != "" {
		b.WriteString("/" + url.PathEscape(name))
		if subresource != "" {
			b.WriteString("/" + subresource)
		}
	}
	return b.String()
}

// AnswersTo reports whether name (without a group) names this resource
// itself, rather than a category it belongs to.
func (r Resource) AnswersTo(name string) bool { return r.answersTo(strings.ToLower(name)) }
