package cmd

import (
	"regexp"
	"slices"
	"sync"

	"github.com/urfave/cli/v2"
)

// Two things urfave/cli/v2 does at every start cost kcurl about a fifth of
// its start-up (`kcurl version` and every exec pay it), and neither is
// needed:
//   - each Names() call runs a regexp over the flag's names (a v1 migration
//     check), and a run looks flags up by name over and over: every flag of
//     the command and of the app is checked for an Action through IsSet,
//     which walks every flag's Names() again. With kcurl's 80-odd flags in
//     scope that is thousands of regexp replacements.
//   - App.Setup renders every flag of every command (343) as help text to
//     group them by category for urfave's help templates, which kcurl's own
//     help (helptext.go) replaces.
//
// quickFlags wraps each flag so that its names are computed once, plainly
// (kcurl's names are plain words), and its category is hidden from urfave
// and kept for kcurl's help (flagCategory). The wrappers embed the flag's
// own type, so every interface urfave and kcurl ask for (DocGenerationFlag,
// ActionableFlag, ...) is the flag's; unwrapFlag gives the flag itself.
func quickFlags(app *cli.App) {
	app.Flags = wrapFlags(app.Flags)
	var commands func([]*cli.Command)
	commands = func(list []*cli.Command) {
		for _, c := range list {
			c.Flags = wrapFlags(c.Flags)
			commands(c.Subcommands)
		}
	}
	commands(app.Commands)
}

func wrapFlags(flags []cli.Flag) []cli.Flag {
	wrapped := slices.Clone(flags)
	for i, f := range wrapped {
		wrapped[i] = wrapFlag(f)
	}
	return wrapped
}

func wrapFlag(f cli.Flag) cli.Flag {
	switch f := f.(type) {
	case *cli.StringFlag:
		return &quickString{f, plainNames(f.Name, f.Aliases)}
	case *cli.BoolFlag:
		return &quickBool{f, plainNames(f.Name, f.Aliases)}
	case *cli.IntFlag:
		return &quickInt{f, plainNames(f.Name, f.Aliases)}
	case *cli.Int64Flag:
		return &quickInt64{f, plainNames(f.Name, f.Aliases)}
	case *cli.StringSliceFlag:
		return &quickStringSlice{f, plainNames(f.Name, f.Aliases)}
	}
	return f // a kind kcurl does not use yet: urfave's own lookups
}

func plainNames(name string, aliases []string) []string {
	return append([]string{name}, aliases...)
}

// unwrapFlag is the flag quickFlags wrapped, for a type switch on it.
func unwrapFlag(f cli.Flag) cli.Flag {
	if q, ok := f.(interface{ wrapped() cli.Flag }); ok {
		return q.wrapped()
	}
	return f
}

// flagCategory is the help section of a flag, wrapped or not.
func flagCategory(f cli.Flag) string {
	if cf, ok := unwrapFlag(f).(cli.CategorizableFlag); ok {
		return cf.GetCategory()
	}
	return ""
}

type quickString struct {
	*cli.StringFlag
	names []string
}

func (f *quickString) Names() []string     { return f.names }
func (f *quickString) GetCategory() string { return "" }
func (f *quickString) wrapped() cli.Flag   { return f.StringFlag }

type quickBool struct {
	*cli.BoolFlag
	names []string
}

func (f *quickBool) Names() []string     { return f.names }
func (f *quickBool) GetCategory() string { return "" }
func (f *quickBool) wrapped() cli.Flag   { return f.BoolFlag }

type quickInt struct {
	*cli.IntFlag
	names []string
}

func (f *quickInt) Names() []string     { return f.names }
func (f *quickInt) GetCategory() string { return "" }
func (f *quickInt) wrapped() cli.Flag   { return f.IntFlag }

type quickInt64 struct {
	*cli.Int64Flag
	names []string
}

func (f *quickInt64) Names() []string     { return f.names }
func (f *quickInt64) GetCategory() string { return "" }
func (f *quickInt64) wrapped() cli.Flag   { return f.Int64Flag }

type quickStringSlice struct {
	*cli.StringSliceFlag
	names []string
}

func (f *quickStringSlice) Names() []string     { return f.names }
func (f *quickStringSlice) GetCategory() string { return "" }
func (f *quickStringSlice) wrapped() cli.Flag   { return f.StringSliceFlag }

// lazyRegexp compiles a regexp at its first use rather than at every
// start: most runs never use a given one (flag errors, renamed binaries,
// kcurl debug), and compiling them all took about 1 ms of each start.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
