package cmd

import (
	"errors"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/xrash/smetrics"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// Go's flag package names a flag with one dash, whatever was typed
// ("flag provided but not defined: -foo" for --foo), and suggests nothing.
var (
	unknownFlag  = lazyRegexp(`^flag provided but not defined: -+(.+)$`)
	flagNeedsArg = lazyRegexp(`^flag needs an argument: -+(.+)$`)
	invalidValue = lazyRegexp(`^invalid (?:boolean )?value "(.*)" for flag -+([^:]+): (.*)$`)
)

// typedFlagError says a flag error with the flag as the user typed it
// (args, before interspersed moved anything), and the nearest flag kcurl
// has for one it does not know.
func typedFlagError(err error, args []string, app *cli.App) error {
	var usage *exitcode.UsageError
	if !errors.As(err, &usage) || usage.Err == nil {
		return err
	}
	msg := usage.Err.Error()
	if m := unknownFlag().FindStringSubmatch(msg); m != nil {
		text := "unknown flag: " + typedFlag(m[1], args)
		if near := nearestFlag(m[1], flagsInScope(args, app)); near != "" {
			text += "; did you mean " + near + "?"
		}
		return usagef("%s", text)
	}
	if m := flagNeedsArg().FindStringSubmatch(msg); m != nil {
		return usagef("flag needs an argument: %s", typedFlag(m[1], args))
	}
	if m := invalidValue().FindStringSubmatch(msg); m != nil {
		why := m[3]
		if strings.Contains(why, "parse error") || strings.Contains(why, "invalid syntax") {
			why = "give a number"
		}
		return usagef("invalid value %q for %s: %s", m[1], typedFlag(m[2], args), why)
	}
	return err
}

// typedFlag is name with the dashes the user typed before it.
func typedFlag(name string, args []string) string {
	for _, a := range args {
		if flag, _, _ := strings.Cut(a, "="); strings.HasPrefix(flag, "-") && strings.TrimLeft(flag, "-") == name {
			return flag
		}
	}
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagsInScope are the flags of the command typed, or kcurl's own.
func flagsInScope(args []string, app *cli.App) []cli.Flag {
	for _, a := range args[1:] {
		if c := app.Command(a); c != nil {
			return c.Flags
		}
	}
	return app.Flags
}

// nearestFlag is the flag name closest to typed: one it starts, one that
// starts it, or one a few edits away; "" when none is near.
func nearestFlag(typed string, defs []cli.Flag) string {
	best, bestDistance := "", len(typed)/3+1
	if bestDistance > 3 {
		bestDistance = 3
	}
	for _, f := range defs {
		for _, n := range f.Names() {
			if len(n) < 2 {
				continue
			}
			d := smetrics.WagnerFischer(typed, n, 1, 1, 1)
			if len(typed) >= 4 && (strings.HasPrefix(n, typed) || strings.HasPrefix(typed, n)) {
				d = min(d, 1)
			}
			if d < bestDistance || d == bestDistance && best == "" {
				best, bestDistance = "--"+n, d
			}
		}
	}
	return best
}
