#!/usr/bin/env bash
# try.sh: run kcurl for real, as a Pod would.
#
# Starts (or reuses) the local control plane (scripts/cluster.sh), builds
# kcurl, gives the ServiceAccount kcurl-try in namespace kcurl-try a real
# token bound to a Pod object, lays its service-account dir out as the kubelet
# does, and runs kcurl in the Pod-like sandbox (scripts/sandbox.sh) with only
# the Pod's environment: no flags, no kubeconfig.
#
# usage: scripts/try.sh [KCURL ARGS...]      (default: /api)
#   scripts/try.sh /api/v1/namespaces/{namespace}/serviceaccounts -q '.items[].metadata.name'
#   scripts/try.sh whoami
# The ServiceAccount may read pods, services, configmaps, serviceaccounts,
# events and deployments in its namespace, and write configmaps.
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
say() { printf 'try.sh: %s\n' "$*" >&2; }
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

(($#)) || set -- /api

cluster_env=$("$repo/scripts/cluster.sh" up)
declare -A cluster
while IFS='=' read -r key value; do
	[[ -n $key ]] && cluster[$key]=$value
done <<<"$cluster_env"
state=${cluster[KCURL_CLUSTER_DIR]}/try
mkdir -p "$state"

kcurl=$state/kcurl
say "building kcurl"
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$kcurl.new" . && mv "$kcurl.new" "$kcurl")

kubectl() { env -i PATH="$PATH" HOME="$state" "${cluster[KCURL_CLUSTER_KUBECTL]}" --kubeconfig "${cluster[KCURL_CLUSTER_ADMIN_KUBECONFIG]}" "$@"; }
ns=kcurl-try sa=kcurl-try pod=kcurl-try
kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: $sa, namespace: $ns}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: $sa, namespace: $ns}
rules:
- apiGroups: [""]
  resources: [pods, pods/log, services, configmaps, serviceaccounts, events]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments, replicasets]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: $sa, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: $sa}
subjects: [{kind: ServiceAccount, name: $sa, namespace: $ns}]
---
apiVersion: v1
kind: Pod
metadata: {name: $pod, namespace: $ns}
spec:
  serviceAccountName: $sa
  containers: [{name: app, image: kcurl}]
EOF
token=$(kubectl create token "$sa" -n "$ns" --bound-object-kind Pod --bound-object-name "$pod" \
	--audience "${cluster[KCURL_CLUSTER_AUDIENCE]}" --duration 1h)

# The kubelet's layout: files link through ..data to a timestamped dir, and
# a new ..data is renamed over the old one; the token has no newline.
sa_dir=$state/serviceaccount
mkdir -p "$sa_dir"
stamp=..$(date -u +%Y_%m_%d_%H_%M_%S.%N)
mkdir "$sa_dir/$stamp"
printf '%s' "$token" >"$sa_dir/$stamp/token"
cp "${cluster[KCURL_CLUSTER_CA]}" "$sa_dir/$stamp/ca.crt"
printf '%s' "$ns" >"$sa_dir/$stamp/namespace"
ln -sfn "$stamp" "$sa_dir/..data_tmp"
mv -T "$sa_dir/..data_tmp" "$sa_dir/..data"
for f in token ca.crt namespace; do ln -sfn "..data/$f" "$sa_dir/$f"; done
find "$sa_dir" -maxdepth 1 -name '..20*' ! -name "$stamp" -exec rm -rf {} +

say "running kcurl as system:serviceaccount:$ns:$sa, in a Pod-like sandbox"
exec env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$state" TERM="${TERM:-dumb}" ${NO_COLOR:+NO_COLOR=$NO_COLOR} \
	KUBERNETES_SERVICE_HOST="${cluster[KCURL_CLUSTER_HOST]}" \
	KUBERNETES_SERVICE_PORT="${cluster[KCURL_CLUSTER_PORT]}" \
	KUBERNETES_SERVICE_PORT_HTTPS="${cluster[KCURL_CLUSTER_PORT]}" \
	"$repo/scripts/sandbox.sh" --sa-dir "$sa_dir" -- "$kcurl" "$@"
