package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// Set at build time by the Dockerfile and release builds:
//
//	-ldflags "-X github.com/kcurl/kcurl/cmd.version=v1.2.3 -X …cmd.commit=… -X …cmd.date=…"
//
// Without them, `go install` and plain builds fill what they can from the
// Go build info.
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// versionInfo is what `kcurl version` reports.
type versionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Date      string `json:"date,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

func currentVersion() versionInfo {
	v := versionInfo{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if v.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v.Version = info.Main.Version // go install github.com/kcurl/kcurl@v1.2.3
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if v.Commit == "" && settings["vcs.revision"] != "" {
		v.Commit = settings["vcs.revision"]
		if settings["vcs.modified"] == "true" {
			v.Commit += "-dirty"
		}
	}
	if v.Date == "" {
		v.Date = settings["vcs.time"]
	}
	return v
}

func versionCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print kcurl's version, commit, build date and Go version",
		UsageText: "kcurl version [-o json]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`FORMAT`: text (default) or json"},
		},
		Action: func(c *cli.Context) error { return runCommand(c, &versionOptions{streams: s}) },
	}
}

// versionOptions is `kcurl version`.
type versionOptions struct {
	streams Streams
	format  string // text or json
}

func (o *versionOptions) complete(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("version takes no arguments")
	}
	var err error
	o.format, err = outputFormat(c.String("output"), "text", "text", "json")
	return err
}

func (o *versionOptions) validate() error { return nil } // no flags that go together

func (o *versionOptions) run(c *cli.Context) error {
	if o.format == "json" {
		return printDocument(c.Context, o.streams, "json", false, currentVersion())
	}
	return printVersion(o.streams)
}

func printVersion(s Streams) error {
	v := currentVersion()
	out := "kcurl " + v.Version + "\n"
	if v.Commit != "" {
		out += "commit:   " + v.Commit + "\n"
	}
	if v.Date != "" {
		out += "built:    " + v.Date + "\n"
	}
	out += fmt.Sprintf("go:       %s\nplatform: %s\n", v.GoVersion, v.Platform)
	_, err := fmt.Fprint(s.Out, out)
	return err
}

func userAgent() string { return "kcurl/" + version }
