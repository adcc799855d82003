package cmd

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/identity"
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
		}, apiFlags()...),
		Action: func(c *cli.Context) error { return runCommand(c, &canIOptions{streams: s}) },
	}
}

// canIOptions is `kcurl can-i`: an access review of VERB RESOURCE[/NAME]
// or VERB /PATH, or with --list a rules review.
type canIOptions struct {
	streams       Streams
	format        string // text, json or yaml
	list          bool
	args          []string
	subresource   string
	allNamespaces bool
	quiet         bool
	verbose       bool

	subresourceGiven bool
}

func (o *canIOptions) complete(c *cli.Context) error {
	var err error
	if o.format, err = identityFormat(c); err != nil {
		return err
	}
	o.list, o.args = c.Bool("list"), c.Args().Slice()
	o.subresource, o.subresourceGiven = c.String("subresource"), c.IsSet("subresource")
	o.allNamespaces, o.quiet, o.verbose = c.Bool("all-namespaces"), c.Bool("quiet"), c.Bool("verbose")
	return nil
}

func (o *canIOptions) validate() error {
	what := ""
	if len(o.args) > 1 {
		what = o.args[1]
	}
	switch {
	case o.list && len(o.args) > 0:
		return usagef("--list takes no VERB or RESOURCE")
	case !o.list && len(o.args) != 2:
		return usagef("can-i takes VERB and RESOURCE[/NAME] (or a /path), e.g. kcurl can-i list pods")
	case o.list && (o.subresourceGiven || o.quiet || o.allNamespaces):
		// A rules review is of one namespace: the server refuses none.
		return usagef("--subresource, -q and -A go with a VERB and RESOURCE, not --list")
	case !o.list && strings.HasPrefix(what, "/") && o.subresourceGiven:
		return usagef("--subresource goes with a RESOURCE, not a /path")
	case !o.list && !strings.HasPrefix(what, "/") && strings.Count(what, "/") > 1:
		return usagef("%q: write RESOURCE[/NAME] and --subresource for a subresource", what)
	}
	return nil
}

func (o *canIOptions) run(c *cli.Context) error {
	api, err := connect(c, o.streams)
	if err != nil {
		return err
	}
	defer api.cancel()
	namespace := api.target.Namespace
	if o.allNamespaces {
		namespace = ""
	}
	if o.list {
		return api.err(o.printRules(c, api, namespace))
	}
	decision, err := o.ask(api, namespace)
	if err != nil {
		return api.err(err)
	}
	return o.answer(c, api, decision)
}

// printRules is can-i --list: the rules review, as kubectl's table.
func (o *canIOptions) printRules(c *cli.Context, api *apiSession, namespace string) error {
	s := o.streams
	rules, err := identity.RulesIn(api.ctx, api.api, namespace)
	if err != nil {
		return err
	}
	if rules.Incomplete {
		fmt.Fprintf(s.ErrOut, "Warning: the list may be incomplete: %s\n", rules.EvaluationError)
	}
	if o.format != "text" {
		return printDocument(c.Context, s, o.format, api.color, rules)
	}
	return output.WriteColumns(s.Out, rules.Rows(), api.color)
}

// ask is the access review of VERB RESOURCE[/NAME] or VERB /PATH.
func (o *canIOptions) ask(api *apiSession, namespace string) (*identity.Decision, error) {
	verb, what := o.args[0], o.args[1]
	if strings.HasPrefix(what, "/") {
		return identity.CanI(api.ctx, api.api, nil, &identity.NonResourceAttributes{Path: what, Verb: verb})
	}
	attrs, err := identity.ResourceAttributesOf(api.ctx, api.discovery(), o.streams.ErrOut, verb, what, namespace, o.subresource)
	if err != nil {
		return nil, err
	}
	return identity.CanI(api.ctx, api.api, attrs, nil)
}

// answer prints the decision (yes, no, or the review's status) and says
// no with the exit code.
func (o *canIOptions) answer(c *cli.Context, api *apiSession, decision *identity.Decision) error {
	s := o.streams
	switch {
	case o.quiet:
	case o.format != "text":
		if err := printDocument(c.Context, s, o.format, api.color, decision); err != nil {
			return err
		}
	case decision.Allowed:
		fmt.Fprintln(s.Out, "yes")
	default:
		fmt.Fprintln(s.Out, "no")
	}
	if o.verbose && o.format == "text" && !o.quiet {
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
