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
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/transport"
)

// errNo is can-i's "no": exit 1, as kubectl auth can-i, so scripts can
// write `if kcurl can-i -q create pods; then …`.
type errNo struct{}

func (errNo) Error() string { return "no" }

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
	case list && (c.IsSet("subresource") || c.Bool("quiet")):
		return usagef("--subresource and -q go with a VERB and RESOURCE, not --list")
	}
	t, err := resolveTarget(c, s)
	if err != nil {
		return err
	}
	opts, err := clientOptions(c, s)
	if err != nil {
		return err
	}
	httpClient := transport.New(t, opts)
	client := &auth.Client{HTTP: httpClient, Server: t.Server}
	namespace := t.Namespace
	if c.Bool("all-namespaces") {
		namespace = ""
	}
	color, err := useColor(c.String("color"), s)
	if err != nil {
		return err
	}
	printJSON := func(v any) error {
		doc, _ := json.Marshal(v)
		return output.NewPrinter(s.Out, s.ErrOut, output.Options{Format: output.Format(format), Indent: 2, Color: color}).
			Print(c.Context, bytes.NewReader(doc), "application/json")
	}

	if list {
		rules, err := client.List(c.Context, namespace)
		if err != nil {
			return err
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
		decision, err = client.CanI(c.Context, nil, &auth.NonResourceAttributes{Path: what, Verb: verb})
	} else {
		var attrs *auth.ResourceAttributes
		disco := &discovery.Client{HTTP: httpClient, Server: t.Server, CacheDir: discoveryCacheDir(s)}
		attrs, err = resourceAttributes(c.Context, disco, s.ErrOut, verb, what, namespace, c.String("subresource"))
		if err != nil {
			return err
		}
		decision, err = client.CanI(c.Context, attrs, nil)
	}
	if err != nil {
		return err
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
	typ, name, _ := strings.Cut(what, "/")
	if strings.Contains(name, "/") {
		return nil, usagef("%q: write RESOURCE[/NAME] and --subresource for a subresource", what)
	}
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
		return nil, lookupError(err)
	}
	return attrs, nil
}

// ruleRows lays rules out as kubectl auth can-i --list does: one row per
// resource (rules that differ only in verbs merged), then the paths.
func ruleRows(rules *auth.Rules) [][]string {
	type key struct{ resource, names string }
	verbs := map[key][]string{}
	var order []key
	for _, r := range rules.ResourceRules {
		groups := r.APIGroups
		if len(groups) == 0 {
			groups = []string{""}
		}
		for _, g := range groups {
			for _, res := range r.Resources {
				k := key{combineResourceGroup(res, g), "[" + strings.Join(r.ResourceNames, " ") + "]"}
				if _, seen := verbs[k]; !seen {
					order = append(order, k)
				}
				for _, v := range r.Verbs {
					if !slices.Contains(verbs[k], v) {
						verbs[k] = append(verbs[k], v)
					}
				}
			}
		}
	}
	rows := [][]string{{"Resources", "Non-Resource URLs", "Resource Names", "Verbs"}}
	var body [][]string
	for _, k := range order {
		body = append(body, []string{k.resource, "[]", k.names, "[" + strings.Join(verbs[k], " ") + "]"})
	}
	for _, r := range rules.NonResourceRules {
		body = append(body, []string{"", "[" + strings.Join(r.NonResourceURLs, " ") + "]", "[]", "[" + strings.Join(r.Verbs, " ") + "]"})
	}
	// kubectl sorts by the rule's text, which starts with its verbs.
	slices.SortStableFunc(body, func(a, b []string) int {
		return strings.Compare(a[3]+a[0]+a[1]+a[2], b[3]+b[0]+b[1]+b[2])
	})
	return append(rows, body...)
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
