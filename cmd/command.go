package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/output"
)

// options is every command, in kubectl's order (docs/architecture.md, "How
// to add a command"): complete reads the flags (and what they name: -d's
// file); validate checks their combination and reads nothing, sends
// nothing; run connects and makes one call into pkg/. So a typo is exit 2
// even where no credentials exist.
type options interface {
	complete(c *cli.Context) error
	validate() error
	run(c *cli.Context) error
}

// runCommand is every command's Action: o complete, validate, then run.
func runCommand(c *cli.Context, o options) error {
	if err := o.complete(c); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	return o.run(c)
}

// outputFormat is the one place -o is checked: the format given, when the
// command prints it, or def when none is given.
func outputFormat(given, def string, formats ...string) (string, error) {
	if given == "" {
		return def, nil
	}
	for _, f := range formats {
		if f == given {
			return given, nil
		}
	}
	list := strings.Join(formats[:len(formats)-1], ", ") + " or " + formats[len(formats)-1]
	return "", usagef("unknown output format %q: use %s", given, list)
}

// printDocument prints a document of kcurl's own (a review's status, the
// resolved target, a schema) as an answer is printed: -o json or yaml,
// in colour when color.
func printDocument(ctx context.Context, s Streams, format string, color bool, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return output.NewPrinter(s.Out, s.ErrOut, output.Options{Format: output.Format(format), Indent: 2, Color: color}).
		Print(ctx, bytes.NewReader(doc), "application/json")
}

// noArguments refuses arguments to a command that takes none.
func noArguments(command string, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %s", command, strings.Join(args, " "))
	}
	return nil
}
