package cmd

import (
	"cmp"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// twoValueFlags take NAME VALUE, as jq's do; urfave/cli knows only one value
// per flag, so they are joined into one (with a NUL between) before it
// parses them.
var twoValueFlags = map[string]bool{"arg": true, "argjson": true}

// interspersed is the one place that lets flags follow the path, as curl
// users type them (`kcurl /api -v`): Go's flag parsing stops at the first
// argument that is not a flag, so the flags are moved in front of it. It also
// splits curl's attached short values (-XPOST, -d@file) and rewrites the
// two-value flags. Subcommands get the same treatment with their own flags.
func interspersed(args []string, app *cli.App) ([]string, error) {
	if len(args) == 0 {
		return args, nil
	}
	out := []string{args[0]}
	commandFlags := func(first string) *cli.Command { return app.Command(first) }
	flags, positional, lacking := splitFlags(args[1:], app.Flags, commandFlags, nil)
	// -c is jq's compact output, except on a pod's log, where kubectl users
	// mean the container (kubectl logs -c), typed after the log or before
	// it: `-c app pods/web/log` first reads as two arguments, "app" and the
	// log, and is read again with -c taking a value if that leaves the log
	// as the argument.
	if slices.ContainsFunc(positional, isLog) && app.Command(firstPositional(positional)) == nil {
		logFlags, logPositional, logLacking := splitFlags(args[1:], app.Flags, commandFlags, map[string]string{"c": "container"})
		if isLog(firstPositional(logPositional)) {
			flags, positional, lacking = logFlags, logPositional, logLacking
		}
	}
	if lacking != "" {
		// Moved in front of the path, it would take the path as its value
		// (`kcurl cm -n` would say no PATH was given).
		return nil, usagef("flag needs an argument: %s", lacking)
	}
	// What stays before a command are flags it does not have (its own were
	// moved after its name): refused, not silently dropped.
	if command := app.Command(firstPositional(positional)); command != nil {
		for _, f := range flags {
			if name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "="); strings.HasPrefix(f, "-") && name != "help" && name != "h" {
				return nil, usagef("%s does not apply to %s", f, command.Name)
			}
		}
		afterDash := -1 // how many arguments follow the first "--", all positional
		if dash := slices.Index(args, "--"); dash >= 0 {
			afterDash = len(args) - dash - 1
		}
		if err := commandAfterDash(command, positional[1:], afterDash); err != nil {
			return nil, err
		}
	}
	return append(append(out, flags...), positional...), nil
}

// commandAfterDash: exec's remote command follows "--", as kubectl requires
// ("exec [POD] [COMMAND] is not supported anymore"), and only the Pod comes
// before it. Without the "--", the command's own flags would be read as
// kcurl's (`exec web ls -la`: -l, -a); a word before it would be run as the
// command's first (`exec web -q true -- sh`: -q takes no value). args are
// the command's, as splitCommand left them: its flags, then "--" when one
// was typed, then the words; afterDash is how many of those words followed
// the "--" (-1: none was typed).
func commandAfterDash(command *cli.Command, args []string, afterDash int) error {
	if command.Name != "exec" {
		return nil
	}
	_, words, _ := splitFlags(args, command.Flags, nil, nil)
	if len(words) == 0 || words[0] != "--" {
		if len(words) > 1 {
			return usagef("exec takes the command after --, as kubectl does: kcurl exec %s -- COMMAND [ARGS...]", words[0])
		}
		return nil
	}
	before := words[1 : len(words)-afterDash]
	switch {
	case len(before) == 0:
		return usagef("exec needs a POD (or TYPE/NAME) before --: kcurl exec POD -- COMMAND [ARGS...]")
	case len(before) > 1:
		return usagef("exec takes one POD before --, not %q: kcurl exec %s -- COMMAND [ARGS...] (is a word the value of a flag that takes none?)", strings.Join(before, " "), before[0])
	}
	return nil
}

func firstPositional(positional []string) string {
	for _, p := range positional {
		if p != "--" {
			return p
		}
	}
	return ""
}

// isLog: the PATH|RESOURCE argument is pods/NAME/log, or a path ending in
// /log.
func isLog(arg string) bool {
	arg, _, _ = strings.Cut(arg, "?")
	return strings.HasSuffix(strings.TrimSuffix(arg, "/"), "/log")
}

// splitFlags returns the flags (with their values) and the positional
// arguments of args. When the first positional argument names a command
// with flags of its own (commandNamed returns it), the rest is split with
// those flags and appended after the command's name; and so on for its own
// subcommands (config get-contexts).
//
// rename maps a short flag to the long flag it stands for here (-c on a log
// is --container). lacking is a flag typed last that needs a value.
func splitFlags(args []string, defs []cli.Flag, commandNamed func(string) *cli.Command, rename map[string]string) (flags, positional []string, lacking string) {
	takesValue, isBool := flagArity(defs)
	var groups [][]string // each flag with its value
	add := func(tokens ...string) { groups = append(groups, tokens) }
	for short := range rename {
		takesValue[short], isBool[short] = true, false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--": // the rest is positional, even where it starts with -
			return flatten(groups), append(append([]string{"--"}, positional...), args[i+1:]...), lacking
		case len(a) > 1 && a[0] == '-':
			name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			singleDash := !strings.HasPrefix(a, "--")
			if long, ok := rename[name]; ok && singleDash {
				a, name = "--"+long, long
				if hasValue {
					a += "=" + value
				}
			} else if long, ok := rename[name[:min(1, len(name))]]; ok && singleDash && !hasValue && len(name) > 1 {
				a, name, hasValue = "--"+long+"="+name[1:], long, true // -capp
			}
			switch {
			case twoValueFlags[name] && !hasValue && i+2 < len(args) && args[i+1] != "--" && args[i+2] != "--":
				// NUL cannot occur in an argument, so NAME and VALUE part
				// again exactly, whatever they contain.
				add("--"+name, args[i+1]+"\x00"+args[i+2])
				i += 2
			case takesValue[name] && !hasValue:
				if i+1 < len(args) && args[i+1] != "--" {
					add(a, args[i+1])
					i++
				} else {
					add(a)
					lacking = a
				}
			case singleDash && !hasValue && len(name) > 1 && shortGroup(name, isBool, takesValue):
				// A group of short flags as curl and jq take them: booleans,
				// then at most one that takes a value, which is the rest of
				// the group (-XPOST, -d@file, -sXPOST) or the next argument
				// (-rq EXPR).
				for j, c := range name {
					short := "-" + string(c)
					if isBool[string(c)] {
						add(short)
						continue
					}
					if rest := name[j+1:]; rest != "" {
						add(short, rest)
					} else if i+1 < len(args) && args[i+1] != "--" {
						add(short, args[i+1])
						i++
					} else {
						add(short)
						lacking = short
					}
					break
				}
			default:
				add(a)
			}
		default:
			if len(positional) == 0 && commandNamed != nil {
				if sub := commandNamed(a); sub != nil && len(sub.Flags) > 0 {
					return splitCommand(groups, a, sub, args[i+1:], lacking)
				}
			}
			positional = append(positional, a)
		}
	}
	return flatten(groups), positional, lacking
}

// splitCommand splits the arguments of a command (typed as name) with its
// own flags. Flags typed before the command that it defines too (kcurl -n
// prod can-i …) go after its name, where urfave/cli reads them; groups are
// the flags typed before it.
func splitCommand(groups [][]string, name string, command *cli.Command, args []string, lacking string) (flags, positional []string, _ string) {
	own := map[string]bool{}
	for _, f := range command.Flags {
		for _, n := range f.Names() {
			own[n] = true
		}
	}
	var before, moved [][]string
	for _, g := range groups {
		if flag, _, _ := strings.Cut(strings.TrimLeft(g[0], "-"), "="); own[flag] {
			moved = append(moved, g)
		} else {
			before = append(before, g)
		}
	}
	subcommand := func(name string) *cli.Command { return subcommandNamed(command, name) }
	if len(command.Subcommands) > 0 {
		// Split again with the command's subcommand, so that a flag both
		// define goes to the subcommand (kcurl --kubeconfig f config
		// get-contexts), whose own unset one would hide the command's.
		args, moved = append(flatten(moved), args...), nil
	}
	subFlags, subPositional, subLacking := splitFlags(args, command.Flags, subcommand, nil)
	positional = append(append(append([]string{name}, flatten(moved)...), subFlags...), subPositional...)
	return flatten(before), positional, cmp.Or(subLacking, lacking)
}

// helpTopic is the command whose help a usage error points at, as typed
// after kcurl: "exec", "config get-contexts", or "" for kcurl's own (a
// request, or a word that names no command). kubectl points at the
// command's help too (`See 'kubectl exec -h'`): it is a screen, with the
// command's examples, where kcurl's is the whole tool's.
func helpTopic(args []string, app *cli.App) string {
	if len(args) < 2 {
		return ""
	}
	_, positional, _ := splitFlags(args[1:], app.Flags, func(name string) *cli.Command { return app.Command(name) }, nil)
	command := app.Command(firstPositional(positional))
	if command == nil {
		return ""
	}
	if len(command.Subcommands) == 0 {
		return command.Name
	}
	subcommand := func(name string) *cli.Command { return subcommandNamed(command, name) }
	_, words, _ := splitFlags(positional[1:], command.Flags, subcommand, nil)
	if sub := subcommandNamed(command, firstPositional(words)); sub != nil {
		return command.Name + " " + sub.Name
	}
	return command.Name
}

// subcommandNamed is command's subcommand called name (config
// get-contexts), or nil: urfave/cli's App has Command(name), its Command
// has none.
func subcommandNamed(command *cli.Command, name string) *cli.Command {
	for _, c := range command.Subcommands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// flatten is the flags with their values, in order.
func flatten(groups [][]string) (out []string) {
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// shortGroup: every letter a short flag, all booleans up to the first that
// takes a value.
func shortGroup(shorts string, isBool, takesValue map[string]bool) bool {
	for _, c := range shorts {
		switch {
		case isBool[string(c)]:
		case takesValue[string(c)]:
			return true
		default:
			return false
		}
	}
	return true
}

// flagArity indexes every name of every flag: whether it takes a value.
func flagArity(defs []cli.Flag) (takesValue, isBool map[string]bool) {
	takesValue, isBool = map[string]bool{}, map[string]bool{}
	for _, f := range defs {
		_, boolean := unwrapFlag(f).(*cli.BoolFlag)
		for _, n := range f.Names() {
			if boolean {
				isBool[n] = true
			} else {
				takesValue[n] = true
			}
		}
	}
	isBool["h"], isBool["help"] = true, true
	return takesValue, isBool
}
