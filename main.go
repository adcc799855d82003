package main

import (
	"os"

	"github.com/kcurl/kcurl/cmd"
	// Its init maps the Go heap's first chunk in a few calls, before the
	// other inits run: page faults are dear on a virtual machine.
	_ "github.com/kcurl/kcurl/pkg/prefault"
)

func main() { os.Exit(cmd.Main(os.Args, cmd.OSStreams())) }
