// Package cmd is kcurl's command line: the urfave/cli application, one file
// per command, and the single place where errors become messages and exit
// codes (exit.go).
package cmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"k8s.io/klog/v2"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/limits"
)

// Main runs kcurl with args (os.Args) on the given streams and returns the
// exit code; only main.go calls os.Exit.
func Main(args []string, s Streams) int {
	quietKlog()
	defer softMemoryLimit(s.Getenv)()
	app := newApp(s)
	name := programName(args)
	renameApp(app, name)
	if len(args) > 1 && args[1] == "__complete" {
		complete(app, s, args[2:]) // the shell completion scripts' entry
		return ExitOK
	}
	if kubectlCompletion(args) {
		// kubectl (1.26+) completes `kubectl kcurl …` by running
		// kubectl_complete-kcurl with the words, and reads Cobra's
		// answer: the candidates, then ":DIRECTIVE" (0: the shell's own
		// completion when none fits).
		complete(app, s, args[1:])
		fmt.Fprintln(s.Out, ":0")
		return ExitOK
	}
	typed := args
	err := maxValue(s)
	if err == nil {
		var help []string
		if help, err = kubectlHabit(args, app, s.now()); help != nil {
			args = help
		}
	}
	if err == nil {
		err = kubectlFlagTyped(args, app)
	}
	if err == nil {
		args, err = interspersed(args, app)
	}
	if err == nil {
		help := &helpWriter{Writer: app.Writer}
		app.Writer = help
		err = typedFlagError(app.Run(args), typed, app)
		if err == nil {
			err = help.err
		}
	}
	if err != nil {
		report(s.ErrOut, err, name, helpTopic(typed, app))
	}
	var signaled *exitcode.Signaled
	if errors.As(err, &signaled) && s.DieOf != nil {
		s.DieOf(signaled.Signal)
	}
	return exitCode(err)
}

// helpWriter keeps the first error writing the help (urfave/cli ignores
// its writer's errors): `kcurl --help >/dev/full` fails as any output
// that could not be written does (exit 1).
type helpWriter struct {
	io.Writer
	err error
}

func (w *helpWriter) Write(b []byte) (int, error) {
	n, err := w.Writer.Write(b)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// quietKlog: client-go logs through klog to the process's stderr
// ("Unable to rotate token", an interrupted stream's "Copying stdout
// failed"); kcurl reports what matters itself, in one voice. Whatever its
// output, klog copies errors to stderr (its stderrthreshold, ERROR): a
// threshold above FATAL copies none.
func quietKlog() {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	flags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(flags)
	if err := flags.Set("stderrthreshold", "4"); err != nil {
		panic(err) // klog's own flag, always valid
	}
}

// programName is the command the user typed: kubectl runs its plugins as
// kubectl-NAME (krew links kubectl-kcurl to the binary), and kubectl's
// plugins call themselves `kubectl NAME` in their help, as kubectl would
// (kubectl-foo-bar is `kubectl foo bar`, kubectl-foo_bar `kubectl foo-bar`).
// Anything else is kcurl.
func programName(args []string) string {
	if len(args) == 0 {
		return "kcurl"
	}
	base := strings.TrimSuffix(filepath.Base(args[0]), ".exe")
	plugin, ok := strings.CutPrefix(base, "kubectl-")
	if !ok || plugin == "" {
		return "kcurl"
	}
	return "kubectl " + strings.ReplaceAll(strings.ReplaceAll(plugin, "-", " "), "_", "-")
}

// kubectlCompletion: run as kubectl_complete-kcurl (a link to kcurl), the
// executable kubectl asks to complete its plugin kcurl.
func kubectlCompletion(args []string) bool {
	return len(args) > 0 && strings.HasPrefix(strings.TrimSuffix(filepath.Base(args[0]), ".exe"), "kubectl_complete-")
}

// kcurlCommand is "kcurl" where it stands for the command typed (at the
// start of a line, in an example, after "(" or a quote), not in "kcurl's" or
// "kcurl(1)".
var kcurlCommand = lazyRegexp(`(^|[\s(<'"])kcurl( |$)`)

// renameApp makes the usage lines, the examples and the help say name
// where they say kcurl. The completion command keeps its text: its scripts
// complete the kcurl command.
func renameApp(app *cli.App, name string) {
	if name == "kcurl" {
		return
	}
	// The examples are a table: a line that only continues the second
	// column moves with it.
	pad, column := strings.Repeat(" ", len(name)-len("kcurl")), strings.Repeat(" ", 20)
	rename := func(text string) string {
		lines := strings.Split(text, "\n")
		for i, line := range lines {
			if renamed := kcurlCommand().ReplaceAllString(line, "${1}"+name+"${2}"); renamed != line {
				lines[i] = renamed
			} else if strings.HasPrefix(line, column) {
				lines[i] = pad + line
			}
		}
		return strings.Join(lines, "\n")
	}
	app.Name = name // appHelp renames its text itself
	for _, c := range app.Commands {
		if c.Name != "completion" {
			c.UsageText = rename(c.UsageText)
		}
	}
}

// softMemoryLimit tells Go's garbage collector the container's memory
// limit (90% of it), as GOMEMLIMIT would, so that it collects harder
// before the kernel's OOM killer would end kcurl; the func restores the
// previous one. GOMEMLIMIT set, or no limit, leaves Go's default.
func softMemoryLimit(getenv func(string) string) func() {
	limit := limits.MemoryLimit()
	if limit <= 0 || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	previous := debug.SetMemoryLimit(limit / 10 * 9)
	return func() { debug.SetMemoryLimit(previous) }
}

// maxValue sets the one bound on a value held in memory from
// KCURL_MAX_VALUE (--max-value, read with the session's flags, wins);
// unset, the default.
func maxValue(s Streams) error {
	text := s.Getenv("KCURL_MAX_VALUE")
	if text == "" {
		limits.SetMaxValue(0)
		return nil
	}
	n, err := parseSize(text)
	if err != nil {
		return usagef("KCURL_MAX_VALUE=%s: %v", text, err)
	}
	limits.SetMaxValue(n)
	return nil
}

// parseSize reads a size of at least 1 MiB: bytes, or with Ki, Mi, Gi or
// curl's k, M, G (the same powers of 1024, as curl's --max-filesize).
func parseSize(text string) (int64, error) {
	number, shift := text, 0
	for i, units := range [][]string{{"Ki", "k", "K"}, {"Mi", "M", "m"}, {"Gi", "G", "g"}} {
		for _, unit := range units {
			if cut, ok := strings.CutSuffix(text, unit); ok {
				number, shift = cut, 10*(i+1)
			}
		}
	}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil || n < 1 || n > math.MaxInt64>>shift || n<<shift < 1<<20 {
		return 0, errors.New("give a size of at least 1Mi, in bytes or as 512Mi or 1G")
	}
	return n << shift, nil
}

func newApp(s Streams) *cli.App {
	app := &cli.App{
		Name:      "kcurl",
		Usage:     "curl for the Kubernetes API, from inside a Pod",
		UsageText: "kcurl [flags] PATH|RESOURCE [flags]",
		// urfave/cli's own version flag would take -v, which is --verbose.
		HideVersion: true,
		Flags: append(append(append(append(append(requestFlags(), outputFlags()...), kubectlFormatFlags()...), logFlags()...), apiFlags()...),
			&cli.BoolFlag{Name: "version", Usage: "print kcurl's version"}),
		Action: func(c *cli.Context) error {
			if c.Bool("version") {
				return printVersion(s)
			}
			if kind := rawStreamKind(c); kind != "" {
				return runCommand(c, &rawStreamOptions{streams: s, kind: kind}) // exec, attach, portforward: upgraded
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
		Commands: append([]*cli.Command{
			apiResourcesCommand(s),
			whoamiCommand(s),
			canICommand(s),
			waitCommand(s),
			explainCommand(s),
			debugCommand(s),
			configCommand(s),
			proxyCommand(s),
			versionCommand(s),
			completionCommand(s),
		}, streamCommands(s)...),
		CustomAppHelpTemplate:     appHelpTemplate(helpWidth(s)),
		HideHelpCommand:           true,
		UseShortOptionHandling:    true,
		DisableSliceFlagSeparator: true,
		Suggest:                   true,
	}
	for _, c := range app.Commands {
		// A mistyped flag is a usage error (exit 2), never help on stdout.
		c.OnUsageError = app.OnUsageError
		c.CustomHelpTemplate = commandHelpTemplate(helpWidth(s))
		c.HideHelpCommand = true
		for _, sub := range c.Subcommands {
			sub.OnUsageError = app.OnUsageError
			sub.CustomHelpTemplate = commandHelpTemplate(helpWidth(s))
		}
	}
	quickFlags(app)
	return app
}
