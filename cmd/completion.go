package cmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// The shell scripts only pass the words typed so far to `kcurl __complete`;
// the candidates are computed here, in one place, for every shell.
var completionScripts = map[string]string{
	"bash": `# bash completion for kcurl. Load it with:  source <(kcurl completion bash)
_kcurl() {
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$(kcurl __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _kcurl kcurl
`,
	"zsh": `#compdef kcurl
# zsh completion for kcurl. Load it with:  source <(kcurl completion zsh)
_kcurl() {
    local -a candidates
    candidates=("${(@f)$(kcurl __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    compadd -a candidates
}
compdef _kcurl kcurl
`,
	"fish": `# fish completion for kcurl. Load it with:  kcurl completion fish | source
complete -c kcurl -f -a '(kcurl __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`,
}

func completionCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		UsageText: "kcurl completion bash|zsh|fish",
		Action:    func(c *cli.Context) error { return runCommand(c, &completionOptions{streams: s}) },
	}
}

// completionOptions is `kcurl completion SHELL`.
type completionOptions struct {
	streams Streams
	shells  []string
}

func (o *completionOptions) complete(c *cli.Context) error {
	o.shells = c.Args().Slice()
	return nil
}

func (o *completionOptions) validate() error {
	if _, ok := completionScripts[firstOf(o.shells)]; len(o.shells) != 1 || !ok {
		return usagef("completion takes one shell: bash, zsh or fish")
	}
	return nil
}

func (o *completionOptions) run(*cli.Context) error {
	_, err := io.WriteString(o.streams.Out, completionScripts[o.shells[0]])
	return err
}

func firstOf(words []string) string {
	if len(words) == 0 {
		return ""
	}
	return words[0]
}

// completionTimeout bounds asking the server for resource names: a
// completion must never hang the shell.
const completionTimeout = time.Second

// complete prints the candidates for the last of words (the word being
// typed, maybe empty), one per line: flags after a dash, the values of
// flags that have a fixed set, commands, and resource names from discovery
// when a server answers quickly (silently nothing when none does).
func complete(app *cli.App, s Streams, words []string) {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, typed := words[len(words)-1], words[:len(words)-1]
	flags, positional, _ := splitFlags(typed, app.Flags, app.Command, nil)
	var command *cli.Command
	defs := app.Flags
	if len(positional) > 0 {
		if command = app.Command(positional[0]); command != nil {
			defs = command.Flags
			flags, positional, _ = splitFlags(positional[1:], command.Flags, nil, nil)
		}
	}
	resourceNames := func() []string { return resourceNames(s, typedFlags(app, defs, flags)) }
	var out []string
	switch {
	case strings.HasPrefix(cur, "-"):
		for _, f := range defs {
			for _, n := range f.Names() {
				if len(n) == 1 {
					out = append(out, "-"+n)
				} else {
					out = append(out, "--"+n)
				}
			}
		}
	case len(typed) > 0 && fixedValues(typed[len(typed)-1]) != nil:
		out = fixedValues(typed[len(typed)-1])
	case command != nil && command.Name == "completion":
		out = []string{"bash", "fish", "zsh"}
	case command != nil && command.Name == "can-i" && countPositional(positional) == 1,
		command != nil && (command.Name == "wait" || command.Name == "explain") && countPositional(positional) == 0:
		out = resourceNames()
	case command != nil && command.Name == "can-i" && countPositional(positional) == 0:
		out = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	case command != nil && countPositional(positional) == 0:
		for _, c := range command.VisibleCommands() { // config get-contexts
			out = append(out, c.Name)
		}
	case command == nil && countPositional(positional) == 0:
		for _, c := range app.VisibleCommands() {
			out = append(out, c.Name)
		}
		out = append(out, "/api", "/apis", "/version")
		out = append(out, resourceNames()...)
	}
	for _, c := range out {
		if strings.HasPrefix(c, cur) {
			fmt.Fprintln(s.Out, c)
		}
	}
}

func countPositional(positional []string) int {
	n := 0
	for _, p := range positional {
		if p != "--" {
			n++
		}
	}
	return n
}

// fixedValues are the values of flags that take one of a few words.
func fixedValues(flag string) []string {
	switch strings.TrimLeft(flag, "-") {
	case "o", "output":
		return []string{"json", "yaml", "raw", "table", "wide", "name", "kyaml", "jsonpath=", "jsonpath-as-json=", "jsonpath-file=", "custom-columns=", "custom-columns-file=", "go-template=", "go-template-file="}
	case "subresource":
		return []string{"status", "scale", "resize"}
	case "field-validation":
		return []string{"Strict", "Warn", "Ignore"}
	case "color":
		return []string{"auto", "always", "never"}
	case "type":
		return []string{"json", "merge", "strategic", "apply"}
	case "X", "request":
		return []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
	case "for": // wait's
		return []string{"create", "delete", "condition=Ready", "condition=Available", "condition=Complete"}
	}
	return nil
}

// typedFlags are the flags typed so far, parsed as the command parses
// them: completion asks the server the typed connection flags name.
func typedFlags(app *cli.App, defs []cli.Flag, flags []string) *cli.Context {
	set := flag.NewFlagSet(app.Name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range defs {
		_ = f.Apply(set)
	}
	_ = set.Parse(flags) // a flag still without its value: the ones before it count
	return cli.NewContext(app, set, nil)
}

// resourceNames are the plural and short names the server serves, from the
// discovery cache or a request of at most completionTimeout; the server
// and credentials are those of the connection flags typed (c).
func resourceNames(s Streams, c *cli.Context) []string {
	t, err := target.Resolve(targetOptions(c, s), s.Getenv)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	client := transport.New(t, transport.Options{UserAgent: userAgent(), ConnectTimeout: completionTimeout})
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	api := &apiSession{streams: s, target: t, api: &apiclient.Client{HTTP: client, Server: t.Server}}
	idx, err := api.discovery().Index(ctx)
	if err != nil {
		return nil
	}
	var names []string
	for _, r := range idx.Resources {
		if !r.Preferred {
			continue
		}
		names = append(names, r.Name)
		names = append(names, r.ShortNames...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}
