package identity

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/exitcode"
)

// ResourceAttributesOf names the resource as RBAC sees it: its plural and
// group, from the same shorthand requests take. A name discovery does not
// know is asked about as typed (RESOURCE or RESOURCE.GROUP), with a warning,
// as kubectl does; "*" means every resource.
func ResourceAttributesOf(ctx context.Context, disco *discovery.Client, warnings io.Writer, verb, what, namespace, subresource string) (*ResourceAttributes, error) {
	typ, name, _ := strings.Cut(what, "/") // the caller refused a second "/"
	attrs := &ResourceAttributes{Namespace: namespace, Verb: verb, Name: name, Subresource: subresource}
	if typ == "*" {
		attrs.Resource, attrs.Group = "*", "*"
		return attrs, nil
	}
	found, err := disco.Lookup(ctx, typ)
	switch err.(type) {
	case nil:
		if len(found) != 1 || !found[0].AnswersTo(strings.SplitN(typ, ".", 2)[0]) {
			return nil, exitcode.Usagef("%q is a category; ask about one resource type", typ)
		}
		r := found[0]
		attrs.Resource, attrs.Group = r.Name, r.Group
		if !r.Namespaced {
			attrs.Namespace = ""
		}
		if attrs.Subresource != "" && !slices.Contains(r.Subresources, attrs.Subresource) {
			fmt.Fprintf(warnings, "Warning: %s has no subresource %q\n", r.QualifiedName(), attrs.Subresource)
		}
	case *discovery.UnknownError:
		attrs.Resource, attrs.Group, _ = strings.Cut(typ, ".")
		fmt.Fprintf(warnings, "Warning: the server doesn't have a resource type '%s'\n", typ)
	default:
		return nil, err
	}
	return attrs, nil
}

// Rows lays the rules out as kubectl auth can-i --list does (printStatus):
// each rule broken down into one per group, resource, verb and resource
// name, or per path and verb (rbac.BreakdownRule); the resource ones merged
// again where only their verbs differ (rbac.CompactRules), the paths not;
// sorted by the rule's text (rbac.SortableRuleSlice).
func (rules *Rules) Rows() [][]string {
	type simple struct {
		group, resource, name string
		named                 bool
	}
	var compact []policyRule
	merged := map[simple]int{} // index in compact
	for _, r := range rules.ResourceRules {
		names := []*string{nil}
		if len(r.ResourceNames) > 0 {
			names = names[:0]
			for i := range r.ResourceNames {
				names = append(names, &r.ResourceNames[i])
			}
		}
		for _, g := range r.APIGroups { // none: kubectl shows nothing either
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					for _, name := range names {
						k := simple{group: g, resource: res}
						rule := policyRule{Verbs: []string{v}, APIGroups: []string{g}, Resources: []string{res}}
						if name != nil {
							k.name, k.named = *name, true
							rule.ResourceNames = []string{*name}
						}
						if i, ok := merged[k]; !ok {
							merged[k] = len(compact)
							compact = append(compact, rule)
						} else if !slices.Contains(compact[i].Verbs, v) {
							compact[i].Verbs = append(compact[i].Verbs, v)
						}
					}
				}
			}
		}
	}
	for _, r := range rules.NonResourceRules {
		for _, u := range r.NonResourceURLs {
			for _, v := range r.Verbs {
				compact = append(compact, policyRule{Verbs: []string{v}, NonResourceURLs: []string{u}})
			}
		}
	}
	slices.SortStableFunc(compact, func(a, b policyRule) int { return strings.Compare(a.String(), b.String()) })

	rows := [][]string{{"Resources", "Non-Resource URLs", "Resource Names", "Verbs"}}
	for _, r := range compact {
		resource := ""
		if len(r.Resources) > 0 {
			resource = combineResourceGroup(r.Resources[0], r.APIGroups[0])
		}
		rows = append(rows, []string{resource, fmt.Sprint(r.NonResourceURLs), fmt.Sprint(r.ResourceNames), fmt.Sprint(r.Verbs)})
	}
	return rows
}

// policyRule is rbac/v1's PolicyRule, for its String, which kubectl sorts by.
type policyRule struct {
	Verbs, APIGroups, Resources, ResourceNames, NonResourceURLs []string
}

func (r policyRule) String() string {
	return fmt.Sprintf("&PolicyRule{Verbs:%v,APIGroups:%v,Resources:%v,ResourceNames:%v,NonResourceURLs:%v,}",
		r.Verbs, r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs)
}

// combineResourceGroup is kubectl's: pods, deployments.apps, pods/log.
func combineResourceGroup(resource, group string) string {
	name, sub, hasSub := strings.Cut(resource, "/")
	if group != "" {
		name += "." + group
	}
	if hasSub {
		name += "/" + sub
	}
	return name
}
