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
		UsageText: "kcurl api-resources [--namespaced[=false]] [--api-group GROUP] [--verbs VERB,...] [--categories C,...] [--sort-by name|kind] [-o wide|json|name] [--no-headers]",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "namespaced", Usage: "only namespaced resources; =false: only cluster-scoped ones"},
			&cli.StringFlag{Name: "api-group", Usage: "only the resources of `GROUP` (\"\" for the core group)"},
			&cli.StringSliceFlag{Name: "verbs", Usage: "only the resources that support every `VERB` (comma separated, or repeated)"},
			&cli.StringSliceFlag{Name: "categories", Usage: "only the resources in every `CATEGORY` (comma separated, or repeated)"},
			&cli.StringFlag{Name: "sort-by", Usage: "sort by `FIELD`: name or kind (default: by group, then name)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`FORMAT`: table (default, with the verbs), wide (also the categories), json, name"},
			&cli.BoolFlag{Name: "no-headers", Usage: "a table without its header line"},
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
	verbs      []string
	categories []string
	sortBy     string // "", name or kind
	noHeaders  bool
	noCache    bool
}

func (o *apiResourcesOptions) complete(c *cli.Context) error {
	if err := noArguments("api-resources", c.Args().Slice()); err != nil {
		return err
	}
	o.noCache, o.noHeaders = c.Bool("no-cache"), c.Bool("no-headers")
	if c.IsSet("api-group") {
		group := c.String("api-group")
		o.group = &group
	}
	if c.IsSet("namespaced") { // as kubectl's: unset, both kinds
		namespaced := c.Bool("namespaced")
		o.namespaced = &namespaced
	}
	o.verbs, o.categories = commaList(c.StringSlice("verbs")), commaList(c.StringSlice("categories"))
	switch o.sortBy = c.String("sort-by"); o.sortBy {
	case "", "name", "kind":
	default:
		return usagef("--sort-by %q: sort by name or kind", o.sortBy)
	}
	var err error
	o.format, err = outputFormat(c.String("output"), "table", "table", "wide", "json", "name")
	return err
}

// shown says whether r passes the filters, kubectl api-resources's: every
// verb and category asked for, the scope and the group.
func (o *apiResourcesOptions) shown(r discovery.Resource) bool {
	return r.Preferred && (o.namespaced == nil || r.Namespaced == *o.namespaced) && (o.group == nil || r.Group == *o.group) &&
		containsAll(r.Verbs, o.verbs) && containsAll(r.Categories, o.categories)
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
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
		if o.shown(r) {
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b discovery.Resource) int {
		if c := strings.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	switch o.sortBy { // kubectl's --sort-by keeps that order among equals
	case "name":
		slices.SortStableFunc(rows, func(a, b discovery.Resource) int { return strings.Compare(a.Name, b.Name) })
	case "kind":
		slices.SortStableFunc(rows, func(a, b discovery.Resource) int { return strings.Compare(a.Kind, b.Kind) })
	}
	if o.format == "json" {
		return printDocument(api.ctx, o.streams, "json", false, rows)
	}
	return printAPIResources(o.streams.Out, rows, o.format, api.color && !o.noHeaders, o.noHeaders)
}

// printAPIResources prints as kubectl api-resources -o wide does (the verbs
// included); -o wide adds the categories.
func printAPIResources(w io.Writer, rows []discovery.Resource, format string, bold, noHeaders bool) error {
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
	if noHeaders {
		lines = lines[1:]
	}
	return output.WriteColumns(w, lines, bold)
}
