package main

import (
	"os"

	"github.com/kcurl/kcurl/cmd"
	// Its init maps kcurl's code and first heap pages in a few calls, before
	// the other inits run: page faults are dear on a virtual machine.
	_ "github.com/kcurl/kcurl/pkg/prefault"
)

func main() { os.Exit(cmd.Main(os.Args, cmd.OSStreams())) }
