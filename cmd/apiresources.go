package cmd

import (
	"encoding/json"
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
		}, connectionFlags()...),
		Action: func(c *cli.Context) error { return runAPIResources(c, s) },
	}
}

func runAPIResources(c *cli.Context, s Streams) error {
	if c.NArg() > 0 {
		return usagef("api-resources takes no arguments, got %s", strings.Join(c.Args().Slice(), " "))
	}
	format := c.String("output")
	switch format {
	case "", "table", "wide", "json", "name":
	default:
		return usagef("unknown output format %q: use table, wide, json or name", format)
	}
	var namespaced *bool
	if v := c.String("namespaced"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return usagef("invalid --namespaced %q: use true or false", v)
		}
		namespaced = &b
	}
	api, err := connect(c, s)
	if err != nil {
		return err
	}
	defer api.cancel()
	bold := api.color
	disco := api.discovery()
	if c.Bool("no-cache") {
		disco.CacheDir = ""
	}
	idx, err := disco.Index(api.ctx)
	if err != nil {
		return api.err(err)
	}

	rows := []discovery.Resource{} // -o json: [] when none match, not null
	for _, r := range idx.Resources {
		if !r.Preferred || (namespaced != nil && r.Namespaced != *namespaced) || (c.IsSet("api-group") && r.Group != c.String("api-group")) {
			continue
		}
		rows = append(rows, r)
	}
	slices.SortStableFunc(rows, func(a, b discovery.Resource) int {
		if c := strings.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return printAPIResources(s.Out, rows, format, bold)
}

// printAPIResources prints as kubectl api-resources -o wide does (the verbs
// included); -o wide adds the categories.
func printAPIResources(w io.Writer, rows []discovery.Resource, format string, bold bool) error {
	switch format {
	case "json":
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "name":
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
