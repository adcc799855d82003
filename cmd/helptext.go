package cmd

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mitchellh/go-wordwrap"
	"github.com/urfave/cli/v2"
)

// The help is rendered here rather than by urfave/cli's templates, which
// cannot wrap a flag's description, put the common flags first, or leave
// out "(default: false)": each template is one call into appHelp or
// commandHelp, with the width the help is wrapped to.
func init() {
	cli.HelpPrinter = func(w io.Writer, templ string, data any) {
		cli.HelpPrinterCustom(w, templ, data, map[string]any{"appHelp": appHelp, "commandHelp": commandHelp})
	}
}

// helpWidth is the terminal's width, or 80 where the help is not printed
// to a terminal (a pipe, a file, the docs).
func helpWidth(s Streams) int {
	if s.OutIsTerminal && s.Columns >= 40 {
		return s.Columns
	}
	return 80
}

func appHelpTemplate(width int) string { return fmt.Sprintf("{{appHelp . %d}}", width) }

func commandHelpTemplate(width int) string { return fmt.Sprintf("{{commandHelp . %d}}", width) }

// commonFlags come first in every help, in this order: what most requests
// use.
var commonFlags = []string{"q", "o", "d", "X", "n", "l", "w"}

// appHelp is `kcurl --help`.
func appHelp(app *cli.App, width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kcurl - %s\n\nUSAGE:\n", app.Usage)
	b.WriteString(usageLines(app.UsageText, width) + "\n")
	b.WriteString(wrapIndented(usageNote, 2, width) + "\n\n")
	b.WriteString(section("EXAMPLES", examplesText("kcurl", appExamples, width)))
	b.WriteString(section("KUBECTL → KCURL", kubectlTable("kcurl", width)))
	var commands strings.Builder
	for _, c := range app.VisibleCommands() {
		fmt.Fprintf(&commands, "  %-14s%s\n", c.Name, wrapHanging(c.Usage, 16, width))
	}
	b.WriteString(section("COMMANDS (kcurl COMMAND --help for each)", commands.String()))
	b.WriteString(flagSections(app.VisibleFlags(), width))
	b.WriteString(section("FINDING THE SERVER AND CREDENTIALS (kcurl config shows what was found)", wrapBlock(credentialsText, width)))
	b.WriteString(section("EXIT CODES", wrapBlock(exitCodesText, width)))
	return renameHelp(strings.TrimRight(b.String(), "\n")+"\n", app.Name)
}

// commandHelp is `kcurl COMMAND --help`.
func commandHelp(c *cli.Command, width int) string {
	// The program as run (kubectl kcurl) is what the usage line starts
	// with (renameApp).
	name, _, ok := strings.Cut(c.UsageText, " "+c.Name)
	if !ok {
		name = "kcurl"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s - %s\n\nUSAGE:\n%s\n", name, c.Name, wrapHanging(c.Usage, len(name)+len(c.Name)+4, width), usageLines(c.UsageText, width))
	if c.Description != "" {
		b.WriteString("\n" + wrapBlock(strings.ReplaceAll(c.Description, "\n", " "), width))
	}
	b.WriteString("\n")
	doc := commandDocs[c.Name]
	if len(doc.examples) > 0 {
		b.WriteString(section("EXAMPLES", examplesText(name, doc.examples, width)))
	}
	b.WriteString(flagSections(c.VisibleFlags(), width))
	if doc.exit != "" {
		b.WriteString(section("EXIT CODES", wrapBlock(strings.ReplaceAll(doc.exit, "; ", "\n"), width)))
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// renameHelp makes the help say name (kubectl kcurl) where it shows a
// command to type: a line that starts with it, the kubectl table's second
// column, "(kcurl …" in a title; not "kcurl" in a sentence.
func renameHelp(text, name string) string {
	if name == "kcurl" {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case strings.HasPrefix(trimmed, "kcurl "):
			lines[i] = line[:len(line)-len(trimmed)] + name + strings.TrimPrefix(trimmed, "kcurl")
		case strings.HasPrefix(trimmed, "kubectl "):
			lines[i] = strings.Replace(line, "  kcurl ", "  "+name+" ", 1)
		default:
			lines[i] = strings.Replace(line, "(kcurl ", "("+name+" ", 1)
		}
	}
	return strings.Join(lines, "\n")
}

func section(title, body string) string {
	return title + ":\n" + strings.TrimRight(body, "\n") + "\n\n"
}

func indentLines(text string, n int) string {
	lines := strings.Split(strings.Trim(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.Repeat(" ", n) + strings.TrimLeft(l, " ")
	}
	return strings.Join(lines, "\n")
}

// usageLines are the synopsis lines, two spaces in, each wrapped with its
// continuation four further in.
func usageLines(text string, width int) string {
	var out []string
	for _, line := range strings.Split(strings.Trim(text, "\n"), "\n") {
		out = append(out, "  "+wrapHanging(strings.TrimLeft(line, " "), 6, width))
	}
	return strings.Join(out, "\n")
}

// wrapIndented wraps text to width, every line indented by n.
func wrapIndented(text string, n, width int) string {
	return indentLines(wordwrap.WrapString(text, uint(max(width-n, 20))), n)
}

// wrapBlock wraps each paragraph of text (lines that start with spaces
// keep their indent, continuation lines line up under it) at width, two
// spaces in.
func wrapBlock(text string, width int) string {
	var out []string
	for _, line := range strings.Split(strings.Trim(text, "\n"), "\n") {
		indent := 2 + len(line) - len(strings.TrimLeft(line, " "))
		line = strings.TrimLeft(line, " ")
		// A numbered line (1. …, an exit code) hangs after its number.
		if number, _, ok := strings.Cut(line, " "); ok && strings.Trim(number, "0123456789.") == "" {
			out = append(out, strings.Repeat(" ", indent)+number+" "+wrapHanging(line[len(number)+1:], indent+len(number)+1, width))
			continue
		}
		out = append(out, wrapIndented(line, indent, width))
	}
	return strings.Join(out, "\n") + "\n"
}

// wrapHanging wraps text that starts at column col: its later lines start
// there too.
func wrapHanging(text string, col, width int) string {
	lines := strings.Split(wordwrap.WrapString(text, uint(max(width-col, 20))), "\n")
	return strings.Join(lines, "\n"+strings.Repeat(" ", col))
}

// example is one command of the help, with what it does.
type example struct{ comment, line string }

func examplesText(name string, examples []example, width int) string {
	var b strings.Builder
	for i, e := range examples {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(wrapIndented("# "+e.comment, 2, width) + "\n")
		b.WriteString("  " + strings.ReplaceAll(e.line, "kcurl ", name+" ") + "\n")
	}
	return b.String()
}

// kubectlTable is two columns where they fit the width, else the kcurl
// line under the kubectl one.
func kubectlTable(name string, width int) string {
	column := 2
	for _, row := range kubectlRows {
		if len(row[0]) <= 30 {
			column = max(column, len(row[0])+4)
		}
	}
	var b strings.Builder
	for _, row := range kubectlRows {
		kcurl := strings.ReplaceAll(row[1], "kcurl ", name+" ")
		if len(row[0])+4 <= column && column+len(kcurl) <= width {
			fmt.Fprintf(&b, "  %-*s%s\n", column-2, row[0], kcurl)
		} else {
			fmt.Fprintf(&b, "  %s\n      %s\n", row[0], kcurl)
		}
	}
	return b.String()
}

// flagSections lists flags: those of no category first (a command's own),
// the common ones at their head, then each category, alphabetically.
func flagSections(flags []cli.Flag, width int) string {
	byCategory := map[string][]cli.Flag{}
	var categories []string
	for _, f := range flags {
		category := flagCategory(f)
		if _, seen := byCategory[category]; !seen && category != "" {
			categories = append(categories, category)
		}
		byCategory[category] = append(byCategory[category], f)
	}
	slices.Sort(categories)
	// The common flags, wherever they are defined, come first.
	var common []cli.Flag
	for _, short := range commonFlags {
		for _, f := range flags {
			if slices.Contains(f.Names(), short) {
				common = append(common, f)
			}
		}
	}
	rest := func(list []cli.Flag) []cli.Flag {
		return slices.DeleteFunc(slices.Clone(list), func(f cli.Flag) bool { return slices.Contains(common, f) })
	}
	var b strings.Builder
	if own := append(slices.Clone(common), sortedFlags(rest(byCategory[""]))...); len(own) > 0 {
		title := "FLAGS"
		if len(categories) > 0 {
			title = "COMMON FLAGS"
		}
		b.WriteString(section(title, flagLines(own, width)))
	}
	for _, category := range categories {
		if list := rest(byCategory[category]); len(list) > 0 {
			b.WriteString(section(strings.ToUpper(category[:1])+category[1:], flagLines(sortedFlags(list), width)))
		}
	}
	return b.String()
}

func sortedFlags(flags []cli.Flag) []cli.Flag {
	return slices.SortedFunc(slices.Values(flags), func(a, b cli.Flag) int { return strings.Compare(a.Names()[0], b.Names()[0]) })
}

// flagColumn is where descriptions start; longer names put theirs on the
// next line.
const flagColumn = 28

func flagLines(flags []cli.Flag, width int) string {
	var b strings.Builder
	for _, f := range flags {
		names, description := flagNames(f), flagDescription(f)
		text := wrapHanging(description, flagColumn, width)
		if len(names)+2+2 > flagColumn {
			fmt.Fprintf(&b, "  %s\n%s%s\n", names, strings.Repeat(" ", flagColumn), text)
		} else {
			fmt.Fprintf(&b, "  %-*s%s\n", flagColumn-2, names, text)
		}
	}
	return b.String()
}

// flagNames is "-q, --jq EXPR": the short name first, as kubectl and curl
// print them, and a repeatable flag once.
func flagNames(f cli.Flag) string {
	var short, long []string
	for _, n := range f.Names() {
		if len(n) == 1 {
			short = append(short, "-"+n)
		} else {
			long = append(long, "--"+n)
		}
	}
	names := strings.Join(append(short, long...), ", ")
	if len(short) == 0 {
		names = "    " + names
	}
	if df, ok := f.(cli.DocGenerationFlag); ok && df.TakesValue() {
		if placeholder, _ := unquoteUsage(df.GetUsage()); placeholder != "" {
			names += " " + placeholder
		} else {
			names += " VALUE"
		}
	}
	return names
}

// flagDescription is the usage, with a default worth saying: never false,
// 0 or an empty value, and not where the usage says it already.
func flagDescription(f cli.Flag) string {
	df, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return ""
	}
	_, usage := unquoteUsage(df.GetUsage())
	if !df.TakesValue() || strings.Contains(usage, "default") {
		return usage
	}
	value := df.GetDefaultText()
	switch value {
	case "", `""`, "0", "-1", "[]":
		return usage
	}
	return usage + " (default: " + strings.Trim(value, `"`) + ")"
}

// unquoteUsage splits a usage into its placeholder (the first `WORD`) and
// its text without the backquotes, as urfave/cli does (unexported there).
func unquoteUsage(usage string) (placeholder, text string) {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return "", usage
	}
	placeholder, after, ok := strings.Cut(rest, "`")
	if !ok {
		return "", usage
	}
	return placeholder, before + placeholder + after
}
