package cmd

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/explain"
)

func explainCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "explain",
		Usage:     "describe a resource type and its fields from the server's OpenAPI v3, as kubectl explain (CRDs too)",
		UsageText: "kcurl explain TYPE[.FIELD...] [--recursive] [--api-version GROUP/VERSION] [-o json|yaml]",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"R"}, Usage: "print the fields of fields (--max-depth caps it)"},
			&cli.IntFlag{Name: "max-depth", Usage: "with --recursive: at most `N` levels (0: all)"},
			&cli.StringFlag{Name: "api-version", Usage: "explain `GROUP/VERSION` of the type, not its preferred version"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`FORMAT`: plaintext (default, as kubectl), json or yaml (the schema itself)"},
			colorFlag(),
		}, apiFlags()...),
		Action: func(c *cli.Context) error { return runCommand(c, &explainOptions{streams: s}) },
	}
}

// explainOptions is `kcurl explain TYPE[.FIELD...]`.
type explainOptions struct {
	streams    Streams
	args       []string
	format     string // plaintext, json or yaml
	recursive  bool
	maxDepth   int
	apiVersion string
}

func (o *explainOptions) complete(c *cli.Context) error {
	o.args = c.Args().Slice()
	if len(o.args) != 1 {
		return usagef("explain takes one TYPE[.FIELD...], e.g. kcurl explain pods.spec.containers")
	}
	var err error
	if o.format, err = outputFormat(c.String("output"), "plaintext", "plaintext", "json", "yaml"); err != nil {
		return err
	}
	o.recursive, o.maxDepth, o.apiVersion = c.Bool("recursive"), c.Int("max-depth"), c.String("api-version")
	return nil
}

func (o *explainOptions) validate() error {
	switch {
	case o.maxDepth < 0:
		return usagef("--max-depth must be 0 or more")
	case o.maxDepth > 0 && !o.recursive:
		return usagef("--max-depth goes with --recursive")
	}
	return nil
}

func (o *explainOptions) run(c *cli.Context) error {
	api, err := connect(c, o.streams)
	if err != nil {
		return err
	}
	defer api.cancel()
	r, fields, err := o.explainType(api, o.args[0])
	if err != nil {
		return api.err(err)
	}
	doc, err := explain.Document(api.ctx, api.api, r.Group, r.Version)
	if err != nil {
		return api.err(err)
	}
	gvr := explain.GVR{Group: r.Group, Version: r.Version, Resource: r.Name}
	if o.format != "plaintext" {
		schema, err := explain.Schema(doc, gvr, fields)
		if err != nil {
			return err
		}
		return printDocument(api.ctx, o.streams, o.format, api.color, schema)
	}
	return explain.Render(o.streams.Out, doc, gvr, fields, o.recursive, o.maxDepth)
}

// explainType splits TYPE.FIELD.FIELD: the longest dotted prefix that
// names one resource type (deployments.apps, widgets.example.com, pods.v1)
// is the type, the rest the path of fields, as kubectl explain reads it.
func (o *explainOptions) explainType(api *apiSession, arg string) (discovery.Resource, []string, error) {
	parts := strings.Split(arg, ".")
	if strings.Contains(arg, "/") || parts[0] == "" || strings.Contains(arg, "..") || strings.HasSuffix(arg, ".") {
		return discovery.Resource{}, nil, usagef("%q: explain takes TYPE[.FIELD...], e.g. pods.spec.containers", arg)
	}
	disco := api.discovery()
	found, err := disco.Lookup(api.ctx, parts[0]) // refreshes a cache that does not know the type yet
	if err != nil {
		return discovery.Resource{}, nil, err
	}
	idx, err := disco.Index(api.ctx)
	if err != nil {
		return discovery.Resource{}, nil, err
	}
	typeParts := 1
	for n := len(parts); n > 1; n-- {
		if qualified, err := idx.Lookup(strings.Join(parts[:n], ".")); err == nil && len(qualified) == 1 {
			found, typeParts = qualified, n
			break
		}
	}
	if len(found) > 1 || !found[0].AnswersTo(parts[0]) {
		return discovery.Resource{}, nil, usagef("%q is a category of %d resource types; explain one of them", parts[0], len(found))
	}
	r := found[0]
	if v := o.apiVersion; v != "" {
		group, version, ok := strings.Cut(v, "/")
		if !ok {
			group, version = "", v
		}
		var other *discovery.Resource
		for _, candidate := range idx.Resources {
			if candidate.Name == r.Name && candidate.Group == group && candidate.Version == version {
				other = &candidate
				break
			}
		}
		if other == nil {
			return discovery.Resource{}, nil, usagef("the server does not serve %s in %s", r.QualifiedName(), v)
		}
		r = *other
	}
	return r, parts[typeParts:], nil
}
