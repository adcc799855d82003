package cmd

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/output"
)

func apiResourcesCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "api-resources",
		Usage:     "list the resource types the server serves, as kubectl api-resources",
		UsageText: "kcurl api-resources [--namespaced=true|false] [--api-group GROUP] [-o wide|json|name]",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "namespaced", Usage: "only namespaced (true) or cluster-scoped (false) resources"},
			&cli.StringFlag{Name: "api-group", Usage: "only the resources of `GROUP` (\"\" for the core group)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`FORMAT`: table (default), wide (also verbs), json, name"},
			&cli.BoolFlag{Name: "no-cache", Usage: "ask the server, not the discovery cache"},
			colorFlag(),
		}, apiFlags()...),
		Action: func(c *cli.Context) error { return runCommand(c, &apiResourcesOptions{streams: s}) },
	}
}

// apiResourcesOptions is `kcurl api-resources`: discovery, filtered and
// sorted, as a table.
type apiResourcesOptions struct {
	streams    Streams
	format     string
	namespaced *bool
	group      *string // --api-group, "" the core group
	noCache    bool
}

func (o *apiResourcesOptions) complete(c *cli.Context) error {
	if err := noArguments("api-resources", c.Args().Slice()); err != nil {
		return err
	}
	o.noCache = c.Bool("no-cache")
	if c.IsSet("api-group") {
		group := c.String("api-group")
		o.group = &group
	}
	var err error
	if o.format, err = outputFormat(c.String("output"), "table", "table", "wide", "json", "name"); err != nil {
		return err
	}
	if v := c.String("namespaced"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return usagef("invalid --namespaced %q: use true or false", v)
		}
		o.namespaced = &b
	}
	return nil
}

func (o *apiResourcesOptions) validate() error { return nil } // no flags that go together

func (o *apiResourcesOptions) run(c *cli.Context) error {
	api, err := connect(c, o.streams)
	if err != nil {
		return err
	}
	defer api.cancel()
	disco := api.discovery()
	if o.noCache {
		disco.CacheDir = ""
	}
	idx, err := disco.Index(api.ctx)
	if err != nil {
		return api.err(err)
	}
	rows := []discovery.Resource{} // -o json: [] when none match, not null
	for _, r := range idx.Resources {
		if r.Preferred && (o.namespaced == nil || r.Namespaced == *o.namespaced) && (o.group == nil || r.Group == *o.group) {
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b discovery.Resource) int {
		if c := strings.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	if o.format == "json" {
		return printDocument(api.ctx, o.streams, "json", false, rows)
	}
	return printAPIResources(o.streams.Out, rows, o.format, api.color)
}

// printAPIResources prints as kubectl api-resources -o wide does (the verbs
// included); -o wide adds the categories.
func printAPIResources(w io.Writer, rows []discovery.Resource, format string, bold bool) error {
	if format == "name" {
		for _, r := range rows {
			fmt.Fprintln(w, r.QualifiedName())
		}
		return nil
	}
	lines := [][]string{{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS"}}
	if format == "wide" {
		lines[0] = append(lines[0], "CATEGORIES")
	}
	for _, r := range rows {
		line := []string{r.Name, strings.Join(r.ShortNames, ","), r.GroupVersion(), strconv.FormatBool(r.Namespaced), r.Kind, strings.Join(r.Verbs, ",")}
		if format == "wide" {
			line = append(line, strings.Join(r.Categories, ","))
		}
		lines = append(lines, line)
	}
	return output.WriteColumns(w, lines, bold)
}
