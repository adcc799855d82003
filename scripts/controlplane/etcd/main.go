// Command etcd is etcd's own server main: go.etcd.io/etcd/server/v3 cannot be
// `go install`ed (its go.mod carries replace directives), but it builds as a
// dependency of this small module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
