package cmd

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/wait"
)

func waitCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "wait until objects meet a condition (a jq expression, create, delete, condition=NAME), as kubectl wait",
		UsageText: "kcurl wait RESOURCE[/NAME]|PATH --for COND [--timeout 30s] [-l SELECTOR] [-q EXPR]",
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
		}, apiFlags()...),
		Action: func(c *cli.Context) error { return runCommand(c, &waitOptions{streams: s}) },
	}
}

// waitOptions is `kcurl wait RESOURCE[/NAME]|PATH --for COND`.
type waitOptions struct {
	streams       Streams
	arg           string // RESOURCE[/NAME] or PATH
	print         output.Options
	cond          *wait.Condition
	timeout       time.Duration
	selector      string
	fieldSelector string
	allNamespaces bool
}

func (o *waitOptions) complete(c *cli.Context) error {
	s := o.streams
	if c.NArg() != 1 {
		return usagef("wait takes one RESOURCE[/NAME] or PATH, e.g. kcurl wait secret/db --for create")
	}
	if !c.IsSet("for") {
		return usagef("wait needs --for: a jq expression, create, delete, or condition=NAME[=VALUE]")
	}
	var err error
	if o.print, err = printOptions(c, s); err != nil {
		return err
	}
	o.cond, err = wait.ParseCondition(c.String("for"), func(expr string) (*output.Query, error) {
		return output.CompileQuery(expr, nil, s.Environ)
	})
	if err != nil {
		return err
	}
	if o.timeout, err = parseDuration("timeout", c.String("timeout")); err != nil {
		return err
	}
	o.arg, o.allNamespaces = c.Args().First(), c.Bool("all-namespaces")
	o.selector, o.fieldSelector = c.String("selector"), c.String("field-selector")
	return nil
}

func (o *waitOptions) validate() error {
	if strings.HasPrefix(o.arg, "/") && o.allNamespaces {
		return usagef("-A goes with a RESOURCE (kcurl wait pods -A …); a PATH names its namespace itself")
	}
	return nil
}

func (o *waitOptions) run(c *cli.Context) error {
	s := o.streams
	api, err := connect(c, s)
	if err != nil {
		return err
	}
	defer api.cancel()
	w := &wait.Waiter{
		Client: api.api,
		List: request.Spec{Namespace: api.target.Namespace, LabelSelector: o.selector, FieldSelector: o.fieldSelector,
			Accept: "application/json"},
		For: o.cond, Timeout: o.timeout, Notices: s.ErrOut,
	}
	if err := o.waitFor(api, w); err != nil {
		return api.err(err)
	}
	met, err := w.Run(api.ctx)
	if err != nil {
		return api.err(err)
	}
	if o.print.Query == nil {
		for _, obj := range met {
			fmt.Fprintln(s.Out, obj.Ref+" condition met")
		}
		return nil
	}
	printer := output.NewPrinter(s.Out, s.ErrOut, o.print)
	for _, obj := range met {
		if err := printer.Print(api.ctx, bytes.NewReader(obj.Raw), "application/json"); err != nil {
			return api.err(err)
		}
	}
	return printer.Done()
}

// waitFor says which collection to watch: a RESOURCE through discovery
// (TYPE/NAME is the list, selected by name, as for -w), or a PATH to a
// collection or to one object in it.
func (o *waitOptions) waitFor(api *apiSession, w *wait.Waiter) error {
	arg := o.arg
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
	resolved, err := api.discovery().Resolve(api.ctx, arg, discovery.ResolveOptions{
		Namespace: api.target.Namespace, AllNamespaces: o.allNamespaces, Watch: true})
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
