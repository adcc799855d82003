package cmd

import (
	"errors"
	"slices"
	"strconv"
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
	invalidValue = lazyRegexp(`^invalid (boolean )?value "(.*)" for (?:flag )?-+([^:]+): (.*)$`)
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
		if hint, ok := kubectlFlags[m[1]]; ok {
			text += ": " + hint
		} else if near := nearestFlag(m[1], flagsInScope(args, app)); near != "" {
			text += "; did you mean " + near + "?"
		}
		return usagef("%s", text)
	}
	if m := flagNeedsArg().FindStringSubmatch(msg); m != nil {
		return usagef("flag needs an argument: %s", typedFlag(m[1], args))
	}
	if m := invalidValue().FindStringSubmatch(msg); m != nil {
		boolean, value, flag, why := m[1] != "", m[2], m[3], m[4]
		switch {
		case boolean && verbosityLevel(flag, value):
			return usagef("%s=%s: %s", typedFlag(flag, args), value, verboseHasNoLevel)
		case boolean:
			why = "it takes true or false, or no value"
		case strings.Contains(why, "parse error") || strings.Contains(why, "invalid syntax"):
			why = "give a number"
		}
		return usagef("invalid value %q for %s: %s", value, typedFlag(flag, args), why)
	}
	return err
}

// kubectlFlags are kubectl's global flags, and kubectl get's, that kcurl
// does not have, by name, with what to type in kcurl instead: a kubectl
// user's fingers type them first, and the nearest kcurl flag by spelling
// is often another thing (--request-timeout is not --request, --username
// not --user, --raw not --as).
var kubectlFlags = map[string]string{
	"request-timeout":          "kubectl's; kcurl's is --max-time (-m) DURATION, curl's",
	"certificate-authority":    "kubectl's; kcurl's is --cacert FILE, curl's",
	"insecure-skip-tls-verify": "kubectl's; kcurl's is --insecure (-k), curl's",
	"client-certificate":       "kubectl's; kcurl takes a client certificate from a kubeconfig user (--kubeconfig, --user)",
	"client-key":               "kubectl's; kcurl takes a client certificate from a kubeconfig user (--kubeconfig, --user)",
	"tls-server-name":          "kubectl's; kcurl takes it from the kubeconfig's cluster (tls-server-name:)",
	"username":                 "kubectl's basic authentication, which Kubernetes removed; give a token (--token-file) or a kubeconfig user (--user)",
	"password":                 "kubectl's basic authentication, which Kubernetes removed; give a token (--token-file) or a kubeconfig user (--user)",
	"cache-dir":                "kubectl's; kcurl's discovery cache is in $KCURL_CACHE_DIR (default ~/.cache/kcurl)",
	"match-server-version":     "kubectl's; kcurl has none: it speaks to every server version",
	"disable-compression":      "kubectl's; kcurl has none",
	"warnings-as-errors":       "kubectl's; kcurl has none",
	"profile":                  "kubectl's; kcurl has none",
	"profile-output":           "kubectl's; kcurl has none",
	"log-flush-frequency":      "kubectl's; kcurl has none",
	"vmodule":                  "kubectl's; kcurl has none",
	// kubectl get's.
	"raw":                 "kubectl get's; kcurl takes the PATH itself: kcurl /api/v1/namespaces",
	"chunk-size":          "kubectl get's; kcurl's --all reads the whole list, in pages of 500 (or of --limit N)",
	"output-watch-events": "kubectl get's; kcurl's -w prints each event whole, its type included (-q .type)",
	"server-print":        "kubectl get's; kcurl's -o table is the server's table, and -o json its object",
	// In a command's flags (exec -s URL); kcurl's own -s is --silent.
	"s": "kubectl's -s is --server: kcurl's is --server URL",
}

// kubectlFlagTyped refuses the first of kubectlFlags in args (before --)
// that the command typed does not have, before the arguments are counted:
// with its value it would read as one argument too many
// (--client-certificate c.crt), and the flag is what to say.
func kubectlFlagTyped(args []string, app *cli.App) error {
	takesValue, isBool := flagArity(append(slices.Clone(app.Flags), flagsInScope(args, app)...))
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return nil
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		flag, _, hasValue := strings.Cut(a, "=")
		name := strings.TrimLeft(flag, "-")
		if hint, ok := kubectlFlags[name]; ok && !takesValue[name] && !isBool[name] {
			return usagef("unknown flag: %s: %s", flag, hint)
		}
		if takesValue[name] && !hasValue {
			i++ // its value, whatever it looks like (-H '--profile: x')
		}
	}
	return nil
}

// verboseHasNoLevel answers kubectl's -v=6.
const verboseHasNoLevel = "kcurl's -v takes no level: it prints the request and response headers, as curl's -v does"

// verbosityLevel: flag is -v (--v) given a number, kubectl's log level.
func verbosityLevel(flag, value string) bool {
	_, err := strconv.Atoi(value)
	return (flag == "v" || flag == "verbose") && err == nil
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
	for i, a := range args[1:] {
		if c := app.Command(a); c != nil {
			// A subcommand's own (config view --minify) count too.
			for _, name := range args[i+2:] {
				if sub := subcommandNamed(c, name); sub != nil {
					return append(slices.Clone(c.Flags), sub.Flags...)
				}
			}
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

// nearestCommand is the command typed is one slip from (a letter added,
// dropped, changed, or two swapped: exce, exex, attch), "" when none is.
// Shorter words are left alone: two letters away from cp is cm, a
// resource.
func nearestCommand(typed string, commands []*cli.Command) string {
	if len(typed) < 4 {
		return ""
	}
	for _, c := range commands {
		if c.Name != typed && (smetrics.WagnerFischer(typed, c.Name, 1, 1, 1) <= 1 || swapped(typed, c.Name)) {
			return c.Name
		}
	}
	return ""
}

// swapped: a and b differ by two neighbouring letters exchanged.
func swapped(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
}
