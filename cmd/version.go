package cmd

import (
	"fmt"
	"runtime"
)

// Set at build time: -ldflags "-X github.com/kcurl/kcurl/cmd.version=v1.2.3 …".
var (
	version = "dev"
	commit  = ""
	date    = ""
)

func printVersion(s Streams) error {
	_, err := fmt.Fprintf(s.Out, "kcurl %s (%s)\n", version, runtime.Version())
	return err
}

func userAgent() string { return "kcurl/" + version }
