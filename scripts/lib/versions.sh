# versions.sh: the one place that pins what the harness builds and runs.
# Sourced by cluster.sh (which builds them) and node.sh (which runs them).
readonly K8S_VERSION=v1.37.2
readonly ETCD_VERSION=v3.6.16
readonly CONTAINERD_VERSION=v2.4.2
