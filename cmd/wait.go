package cmd

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/wait"
)

func waitCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:  "wait",
		Usage: "wait until objects meet a condition (a jq expression, create, delete, condition=NAME), as kubectl wait",
		UsageText: "kcurl wait RESOURCE[/NAME]|PATH --for COND [--timeout 30s] [-l SELECTOR] [-q EXPR]\n" +
			"   kcurl wait secret/db-credentials --for create\n" +
			"   kcurl wait deploy/web --for '.status.readyReplicas == .spec.replicas' --timeout 2m\n" +
			"   kcurl wait pods -l app=web --for condition=Ready",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "for", Usage: "the `CONDITION`: a jq expression on the object (met when true, as jq -e), create, delete, or condition=NAME[=VALUE] (status.conditions, VALUE True by default)"},
			&cli.StringFlag{Name: "timeout", Value: "30s", Usage: "give up after `DURATION` (exit 1); 0 looks once"},
			&cli.StringFlag{Name: "selector", Aliases: []string{"l"}, Usage: "every object the label `SELECTOR` matches (at least one)"},
			&cli.StringFlag{Name: "field-selector", Usage: "every object the field `SELECTOR` matches"},
			&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "RESOURCE: in every namespace"},
			&cli.StringFlag{Name: "jq", Aliases: []string{"q"}, Usage: "print a jq `EXPR` of each final object instead of \"KIND/NAME condition met\""},
			&cli.BoolFlag{Name: "raw-output", Aliases: []string{"r"}, Usage: "-q: print strings without quotes"},
			&cli.BoolFlag{Name: "compact-output", Aliases: []string{"c"}, Usage: "-q: compact JSON"},
			colorFlag(),
		}, connectionFlags()...),
		Action: func(c *cli.Context) error { return runWait(c, s) },
	}
}

func runWait(c *cli.Context, s Streams) error {
	if c.NArg() != 1 {
		return usagef("wait takes one RESOURCE[/NAME] or PATH, e.g. kcurl wait secret/db --for create")
	}
	if !c.IsSet("for") {
		return usagef("wait needs --for: a jq expression, create, delete, or condition=NAME[=VALUE]")
	}
	print, err := printOptions(c, s)
	if err != nil {
		return err
	}
	cond, err := wait.ParseCondition(c.String("for"), func(expr string) (*output.Query, error) {
		return output.CompileQuery(expr, nil, s.Environ)
	})
	if err != nil {
		return err
	}
	timeout, err := parseDuration("timeout", c.String("timeout"))
	if err != nil {
		return err
	}
	arg := c.Args().First()
	if strings.HasPrefix(arg, "/") && c.Bool("all-namespaces") {
		return usagef("-A goes with a RESOURCE (kcurl wait pods -A …); a PATH names its namespace itself")
	}
	api, err := connect(c, s)
	if err != nil {
		return err
	}
	defer api.cancel()
	w := &wait.Waiter{
		Client: api.apiClient(),
		List: request.Spec{Namespace: api.target.Namespace, LabelSelector: c.String("selector"), FieldSelector: c.String("field-selector"),
			Accept: "application/json"},
		For: cond, Timeout: timeout, Notices: s.ErrOut,
	}
	if err := waitTarget(c, api, arg, w); err != nil {
		return api.err(err)
	}
	met, err := w.Run(api.ctx)
	if err != nil {
		return api.err(err)
	}
	if print.Query == nil {
		for _, o := range met {
			fmt.Fprintln(s.Out, o.Ref+" condition met")
		}
		return nil
	}
	printer := output.NewPrinter(s.Out, s.ErrOut, print)
	for _, o := range met {
		if err := printer.Print(api.ctx, bytes.NewReader(o.Raw), "application/json"); err != nil {
			return err
		}
	}
	return printer.Done()
}

// waitTarget says which collection to watch: a RESOURCE through discovery
// (TYPE/NAME is the list, selected by name, as for -w), or a PATH to a
// collection or to one object in it.
func waitTarget(c *cli.Context, api *apiSession, arg string, w *wait.Waiter) error {
	if strings.HasPrefix(arg, "/") {
		path, query, _ := strings.Cut(arg, "?")
		list, name, err := wait.SplitObjectPath(path)
		if err != nil {
			return err
		}
		w.List.Path, w.List.Name = list, name
		if query != "" {
			w.List.Path += "?" + query
		}
		w.Describe = describeWait(strings.TrimSuffix(list+"/"+name, "/"), w)
		return nil
	}
	typ, _, _ := strings.Cut(arg, "/")
	if strings.Count(arg, "/") > 1 {
		return usagef("%q: wait takes TYPE or TYPE/NAME, not a subresource", arg)
	}
	resolved, err := api.discovery().Resolve(api.ctx, arg, apiclient.ResolveOptions{
		Namespace: api.target.Namespace, AllNamespaces: c.Bool("all-namespaces"), Watch: true})
	if err != nil {
		return err
	}
	if resolved.Category {
		return usagef("%q is a category of %d resource types; wait for one of them", typ, len(resolved.Paths))
	}
	w.List.Path, w.List.Name = resolved.Paths[0], resolved.Name
	list, _, _ := strings.Cut(resolved.Paths[0], "?")
	plural := list[strings.LastIndexByte(list, '/')+1:] // kubectl's pods/web, whatever was typed
	w.Describe = describeWait(strings.TrimSuffix(plural+"/"+resolved.Name, "/"), w)
	return nil
}

// describeWait names what is waited for, as messages say it: pods/web,
// pods -l app=web.
func describeWait(what string, w *wait.Waiter) string {
	if w.List.LabelSelector != "" {
		what += " -l " + w.List.LabelSelector
	}
	if w.List.FieldSelector != "" {
		what += " --field-selector " + w.List.FieldSelector
	}
	return what
}
