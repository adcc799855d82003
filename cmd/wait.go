package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/output"
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
	var badFor *wait.UsageError
	if errors.As(err, &badFor) {
		return usagef("%s", badFor.Msg)
	} else if err != nil {
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
		HTTP: api.client, Server: api.target.Server,
		LabelSelector: c.String("selector"), FieldSelector: c.String("field-selector"),
		For: cond, Timeout: timeout, Notices: s.ErrOut,
	}
	if err := waitTarget(c, s, api, arg, w); err != nil {
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

// waitTarget fills in the collection to watch: a RESOURCE through discovery,
// or a PATH to a collection or to one object in it.
func waitTarget(c *cli.Context, s Streams, api *apiSession, arg string, w *wait.Waiter) error {
	namespace := api.target.Namespace
	if strings.HasPrefix(arg, "/") {
		path, query, _ := strings.Cut(arg, "?")
		var err error
		if w.Query, err = url.ParseQuery(query); err != nil {
			return usagef("invalid query in %s: %v", arg, err)
		}
		path = strings.NewReplacer("{namespace}", namespace, "{ns}", namespace).Replace(path)
		if w.ListPath, w.Name, err = wait.SplitObjectPath(path); err != nil {
			return &usageError{msg: err.Error()}
		}
		w.Describe = describeWait(path, w)
		return nil
	}
	typ, name, _ := strings.Cut(arg, "/")
	if strings.Contains(name, "/") || typ == "" {
		return usagef("%q: wait takes TYPE or TYPE/NAME, not a subresource", arg)
	}
	found, err := newDiscovery(s, api.client, api.target.Server).Lookup(api.ctx, typ)
	if err != nil {
		return lookupError(err)
	}
	if len(found) > 1 || !found[0].AnswersTo(strings.SplitN(typ, ".", 2)[0]) {
		return usagef("%q is a category of %d resource types; wait for one of them", typ, len(found))
	}
	r := found[0]
	if c.Bool("all-namespaces") {
		namespace = ""
	}
	w.ListPath, w.Name = r.Path(namespace, "", ""), name
	w.Describe = describeWait(strings.TrimSuffix(r.Name+"/"+name, "/"), w)
	return nil
}

// describeWait names what is waited for, as messages say it: pods/web,
// pods -l app=web.
func describeWait(what string, w *wait.Waiter) string {
	if w.LabelSelector != "" {
		what += " -l " + w.LabelSelector
	}
	if w.FieldSelector != "" {
		what += " --field-selector " + w.FieldSelector
	}
	return what
}
