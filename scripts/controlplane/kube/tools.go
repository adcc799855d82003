//go:build tools

// Package kube pins the Kubernetes control-plane binaries that the e2e tests,
// scripts/try.sh and the benchmarks run. It is a module of its own so that
// kcurl's go.mod stays small; scripts/cluster.sh builds from it.
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
