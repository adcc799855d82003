package main

import (
	"os"

	"github.com/kcurl/kcurl/cmd"
)

func main() { os.Exit(cmd.Main(os.Args, cmd.OSStreams())) }
