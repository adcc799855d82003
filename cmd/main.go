// Package cmd is kcurl's command line: the urfave/cli application, one file
// per command, and the single place where errors become messages and exit
// codes (exit.go).
package cmd

import (
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"k8s.io/klog/v2"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output"
)

// Main runs kcurl with args (os.Args) on the given streams and returns the
// exit code; only main.go calls os.Exit.
func Main(args []string, s Streams) int {
	// client-go logs through klog to the process's stderr ("Unable to
	// rotate token"); kcurl reports what matters itself, in one voice.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	app := newApp(s)
	if len(args) > 1 && args[1] == "__complete" {
		complete(app, s, args[2:]) // the shell completion scripts' entry
		return ExitOK
	}
	err := maxValue(s)
	if err == nil {
		args, err = interspersed(args, app)
	}
	if err == nil {
		err = app.Run(args)
	}
	if err != nil {
		report(s.ErrOut, err)
	}
	return exitCode(err)
}

// maxValue sets the one bound on a value held in memory from
// KCURL_MAX_VALUE: bytes, or with Ki, Mi or Gi (512Mi, 1Gi); unset, the
// default.
func maxValue(s Streams) error {
	text := s.Getenv("KCURL_MAX_VALUE")
	if text == "" {
		output.SetMaxValue(0)
		return nil
	}
	number, shift := text, 0
	for i, suffix := range []string{"Ki", "Mi", "Gi"} {
		if cut, ok := strings.CutSuffix(text, suffix); ok {
			number, shift = cut, 10*(i+1)
		}
	}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil || n < 1 || n > math.MaxInt64>>shift || n<<shift < 1<<20 {
		return usagef("KCURL_MAX_VALUE=%s: give a size of at least 1Mi, in bytes or as 512Mi or 1Gi", text)
	}
	output.SetMaxValue(n << shift)
	return nil
}

func newApp(s Streams) *cli.App {
	app := &cli.App{
		Name:      "kcurl",
		Usage:     "curl for the Kubernetes API, from inside a Pod",
		UsageText: "kcurl [flags] PATH|RESOURCE [flags]",
		// The man page and docs/reference.md show it; --help has its own
		// arrangement of the same text (help.go).
		Description: helpExamples + "\n\n" + helpFooter,
		// urfave/cli's own version flag would take -v, which is --verbose.
		HideVersion: true,
		Flags: append(append(append(append(requestFlags(), outputFlags()...), logFlags()...), apiFlags()...),
			&cli.BoolFlag{Name: "version", Usage: "print kcurl's version"}),
		Action: func(c *cli.Context) error {
			if c.Bool("version") {
				return printVersion(s)
			}
			return runCommand(c, &exchangeOptions{streams: s})
		},
		Reader:    s.In,
		Writer:    s.Out,
		ErrWriter: s.ErrOut,
		// Only Main decides how kcurl exits.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return &exitcode.UsageError{Err: err}
		},
		Commands: []*cli.Command{
			apiResourcesCommand(s),
			whoamiCommand(s),
			canICommand(s),
			waitCommand(s),
			explainCommand(s),
			configCommand(s),
			proxyCommand(s),
			versionCommand(s),
			completionCommand(s),
		},
		CustomAppHelpTemplate:     helpTemplate,
		HideHelpCommand:           true,
		UseShortOptionHandling:    true,
		DisableSliceFlagSeparator: true,
		Suggest:                   true,
	}
	for _, c := range app.Commands {
		// A mistyped flag is a usage error (exit 2), never help on stdout.
		c.OnUsageError = app.OnUsageError
	}
	return app
}
