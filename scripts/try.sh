#!/usr/bin/env bash
# try.sh: run kcurl for real, as a Pod would.
#
# Starts (or reuses) the local control plane (scripts/cluster.sh), builds
# kcurl, gives the ServiceAccount kcurl-try in namespace kcurl-try a real
# token bound to a Pod object with its service-account dir laid out as the
# kubelet does (scripts/pod.sh), and runs kcurl in the Pod-like sandbox
# (scripts/sandbox.sh) with only the Pod's environment: no flags, no
# kubeconfig.
#
# usage: scripts/try.sh [KCURL ARGS...]      (default: /api)
#   scripts/try.sh /api/v1/namespaces/{namespace}/serviceaccounts -q '.items[].metadata.name'
#   scripts/try.sh whoami
# The ServiceAccount may read pods, services, configmaps, serviceaccounts,
# events and deployments in its namespace, and write configmaps
# (scripts/try-identity.yaml has the Role). The namespace has what the docs'
# examples look at (scripts/try-world.yaml): a Deployment web (no Pods run
# without a kubelet) and the CRD databases.example.com.
#
# scripts/try.sh --pod [COMMAND...]           (needs root; default: a shell)
# A real Pod instead: starts (or reuses) the one-node cluster of
# scripts/node.sh (kubelet, containerd, runc), runs the Pod kcurl-try in
# namespace kcurl-try (a busybox shell with kcurl as /bin/kcurl, the same
# ServiceAccount and Role), and enters it with kubectl exec -it. A neighbour
# runs beside it, a Deployment web (httpd on 8080) behind a Service web,
# that the ServiceAccount may exec, attach and port-forward to:
#   scripts/try.sh --pod                 then: kcurl whoami; kcurl pods -o table
#   scripts/try.sh --pod kcurl can-i --list
#   scripts/try.sh --pod kcurl exec deploy/web -- cat /www/index.html
# `scripts/node.sh kubectl ...` reaches the same cluster as its admin;
# `scripts/node.sh down` stops it.
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
say() { printf 'try.sh: %s\n' "$*" >&2; }
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

if [[ ${1:-} == --pod ]]; then
	shift
	exec "$repo/scripts/try-pod.sh" "$@"
fi

(($#)) || set -- /api
# shellcheck source=lib/deps.sh
. "$repo/scripts/lib/deps.sh"
deps_ensure controlplane

cluster_env=$("$repo/scripts/cluster.sh" up)
declare -A cluster
while IFS='=' read -r key value; do
	[[ -n $key ]] && cluster[$key]=$value
done <<<"$cluster_env"
state=${cluster[KCURL_CLUSTER_DIR]}/try
mkdir -p "$state"

kcurl=$state/kcurl
say "building kcurl"
# Built beside and renamed over: a try.sh running at the same time keeps a
# whole binary.
kcurl_new=$(mktemp -- "$kcurl.XXXXXX")
# Stamped as release.sh stamps (cmd.commit, cmd.date), so that `kcurl
# version` says which commit this is: GOFLAGS=-buildvcs=false above keeps Go
# from reading it itself.
commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)
if [[ -n $commit ]] && ! git -C "$repo" diff --quiet HEAD -- 2>/dev/null; then
	commit+=-dirty
fi
ldflags="-X github.com/kcurl/kcurl/cmd.commit=$commit -X github.com/kcurl/kcurl/cmd.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
(cd "$repo" && CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -ldflags "$ldflags" -o "$kcurl_new" . && mv -f -- "$kcurl_new" "$kcurl")

ns=kcurl-try sa=kcurl-try
sa_dir=$("$repo/scripts/pod.sh" "${cluster[KCURL_CLUSTER_DIR]}/env" "$ns" "$sa" "$state/serviceaccount")

say "running kcurl as system:serviceaccount:$ns:$sa, in a Pod-like sandbox"
exec env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$state" TERM="${TERM:-dumb}" ${NO_COLOR:+NO_COLOR=$NO_COLOR} \
	KUBERNETES_SERVICE_HOST="${cluster[KCURL_CLUSTER_HOST]}" \
	KUBERNETES_SERVICE_PORT="${cluster[KCURL_CLUSTER_PORT]}" \
	KUBERNETES_SERVICE_PORT_HTTPS="${cluster[KCURL_CLUSTER_PORT]}" \
	"$repo/scripts/sandbox.sh" --sa-dir "$sa_dir" -- "$kcurl" "$@"
