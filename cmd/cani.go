package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/auth"
	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output"
)

// errNo is can-i's "no": exit 1, as kubectl auth can-i, so scripts can
// write `if kcurl can-i -q create pods; then …`.
type errNo struct{}

func (errNo) Error() string { return "no" }
func (errNo) ExitCode() int { return exitcode.Failed }

func canICommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:  "can-i",
		Usage: "whether kcurl may do something (yes/no, exit 0/1), or --list what it may do",
		UsageText: "kcurl can-i VERB RESOURCE[/NAME] [-n NS] [--subresource S] [-A] [-q]\n" +
			"   kcurl can-i VERB /NON-RESOURCE-PATH\n" +
			"   kcurl can-i --list [-n NS]",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "list", Usage: "list every rule that applies in the namespace (SelfSubjectRulesReview)"},
			&cli.StringFlag{Name: "subresource", Usage: "the `SUBRESOURCE` (log, scale, status, …)"},
			&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "ask about all namespaces"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing: the exit code answers (0 yes, 1 no)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`FORMAT`: text (default), json or yaml (the review's status)"},
			colorFlag(),
		}, connectionFlags()...),
		Action: func(c *cli.Context) error { return runCanI(c, s) },
		// A mistyped flag is a usage error (exit 2), as before the command.
	}
}

func runCanI(c *cli.Context, s Streams) error {
	format, err := identityFormat(c)
	if err != nil {
		return err
	}
	list := c.Bool("list")
	switch {
	case list && c.NArg() > 0:
		return usagef("--list takes no VERB or RESOURCE")
	case !list && c.NArg() != 2:
		return usagef("can-i takes VERB and RESOURCE[/NAME] (or a /path), e.g. kcurl can-i list pods")
	case list && (c.IsSet("subresource") || c.Bool("quiet") || c.Bool("all-namespaces")):
		// A rules review is of one namespace: the server refuses none.
		return usagef("--subresource, -q and -A go with a VERB and RESOURCE, not --list")
	case !list && strings.HasPrefix(c.Args().Get(1), "/") && c.IsSet("subresource"):
		return usagef("--subresource goes with a RESOURCE, not a /path")
	case !list && !strings.HasPrefix(c.Args().Get(1), "/") && strings.Count(c.Args().Get(1), "/") > 1:
		return usagef("%q: write RESOURCE[/NAME] and --subresource for a subresource", c.Args().Get(1))
	}
	api, err := connect(c, s)
	if err != nil {
		return err
	}
	defer api.cancel()
	color := api.color
	ctx, t := api.ctx, api.target
	client := &auth.Client{API: api.apiClient()}
	namespace := t.Namespace
	if c.Bool("all-namespaces") {
		namespace = ""
	}
	printJSON := func(v any) error {
		doc, _ := json.Marshal(v)
		return output.NewPrinter(s.Out, s.ErrOut, output.Options{Format: output.Format(format), Indent: 2, Color: color}).
			Print(c.Context, bytes.NewReader(doc), "application/json")
	}

	if list {
		rules, err := client.List(ctx, namespace)
		if err != nil {
			return api.err(err)
		}
		if rules.Incomplete {
			fmt.Fprintf(s.ErrOut, "Warning: the list may be incomplete: %s\n", rules.EvaluationError)
		}
		if format != "text" {
			return printJSON(rules)
		}
		return output.WriteColumns(s.Out, ruleRows(rules), color)
	}

	verb, what := c.Args().Get(0), c.Args().Get(1)
	var decision *auth.Decision
	if strings.HasPrefix(what, "/") {
		decision, err = client.CanI(ctx, nil, &auth.NonResourceAttributes{Path: what, Verb: verb})
	} else {
		var attrs *auth.ResourceAttributes
		attrs, err = resourceAttributes(ctx, api.discovery(), s.ErrOut, verb, what, namespace, c.String("subresource"))
		if err != nil {
			return api.err(err)
		}
		decision, err = client.CanI(ctx, attrs, nil)
	}
	if err != nil {
		return api.err(err)
	}
	switch {
	case c.Bool("quiet"):
	case format != "text":
		if err := printJSON(decision); err != nil {
			return err
		}
	case decision.Allowed:
		fmt.Fprintln(s.Out, "yes")
	default:
		fmt.Fprintln(s.Out, "no")
	}
	if c.Bool("verbose") && format == "text" && !c.Bool("quiet") {
		if decision.Reason != "" {
			fmt.Fprintf(s.ErrOut, "reason: %s\n", decision.Reason)
		}
		if decision.EvaluationError != "" {
			fmt.Fprintf(s.ErrOut, "evaluation error: %s\n", decision.EvaluationError)
		}
	}
	if !decision.Allowed {
		return errNo{}
	}
	return nil
}

// resourceAttributes names the resource as RBAC sees it: its plural and
// group, from the same shorthand requests take. A name discovery does not
// know is asked about as typed (RESOURCE or RESOURCE.GROUP), with a warning,
// as kubectl does; "*" means every resource.
func resourceAttributes(ctx context.Context, disco *discovery.Client, warnings io.Writer, verb, what, namespace, subresource string) (*auth.ResourceAttributes, error) {
	typ, name, _ := strings.Cut(what, "/") // runCanI refused a second "/"
	attrs := &auth.ResourceAttributes{Namespace: namespace, Verb: verb, Name: name, Subresource: subresource}
	if typ == "*" {
		attrs.Resource, attrs.Group = "*", "*"
		return attrs, nil
	}
	found, err := disco.Lookup(ctx, typ)
	switch err.(type) {
	case nil:
		if len(found) != 1 || !found[0].AnswersTo(strings.SplitN(typ, ".", 2)[0]) {
			return nil, usagef("%q is a category; ask about one resource type", typ)
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
		return nil, discovery.LookupUsageError(err)
	}
	return attrs, nil
}

// ruleRows lays rules out as kubectl auth can-i --list does (printStatus):
// each rule broken down into one per group, resource, verb and resource
// name, or per path and verb (rbac.BreakdownRule); the resource ones merged
// again where only their verbs differ (rbac.CompactRules), the paths not;
// sorted by the rule's text (rbac.SortableRuleSlice).
func ruleRows(rules *auth.Rules) [][]string {
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
