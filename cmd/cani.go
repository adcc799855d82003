package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/auth"
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
		return output.WriteColumns(s.Out, rules.Rows(), color)
	}

	verb, what := c.Args().Get(0), c.Args().Get(1)
	var decision *auth.Decision
	if strings.HasPrefix(what, "/") {
		decision, err = client.CanI(ctx, nil, &auth.NonResourceAttributes{Path: what, Verb: verb})
	} else {
		var attrs *auth.ResourceAttributes
		attrs, err = auth.ResourceAttributesOf(ctx, api.discovery(), s.ErrOut, verb, what, namespace, c.String("subresource"))
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
