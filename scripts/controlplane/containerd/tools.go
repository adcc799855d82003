//go:build tools

// Package containerd pins the container runtime of the e2e tests' node
// (containerd, its runc shim and ctr). It is a module of its own so that
// kcurl's go.mod stays small; scripts/node.sh builds from it. runc and the
// CNI plugins come from Debian's packages.
package containerd

import (
	_ "github.com/containerd/containerd/v2/cmd/containerd"
	_ "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"
	_ "github.com/containerd/containerd/v2/cmd/ctr"
)
