#!/usr/bin/env bash
# pod.sh: give a local cluster (scripts/cluster.sh) a Pod-like identity, and
# write the service-account dir the kubelet would mount for it.
#
# Creates (idempotently) namespace NS, ServiceAccount SA, a Role for it (in
# scripts/try-identity.yaml), what the docs' examples look at
# (scripts/try-world.yaml: a Deployment web, a CRD), a Pod object named SA the token is bound to, requests a token
# from the TokenRequest API, and lays DIR out as the kubelet does: token,
# ca.crt and namespace link through ..data to a timestamped dir; the token
# has no trailing newline. Prints DIR.
#
# usage: scripts/pod.sh CLUSTER_ENV_FILE NS SA DIR
# The Role lets the ServiceAccount read pods, services, configmaps,
# serviceaccounts, events and deployments in its namespace, and write
# configmaps.
set -euo pipefail

(($# == 4)) || { sed -n '2,15s/^# \{0,1\}//p' "$0" >&2; exit 2; }
env_file=$1 ns=$2 sa=$3 sa_dir=$4

declare -A cluster
while IFS='=' read -r key value; do
	[[ -n $key ]] && cluster[$key]=$value
done <"$env_file"

kubectl() {
	env -i PATH="$PATH" HOME="${cluster[KCURL_CLUSTER_DIR]}" "${cluster[KCURL_CLUSTER_KUBECTL]}" \
		--kubeconfig "${cluster[KCURL_CLUSTER_ADMIN_KUBECONFIG]}" "$@"
}
{
	sed -e "s/@NS@/$ns/g" -e "s/@SA@/$sa/g" "$(dirname -- "${BASH_SOURCE[0]}")/try-identity.yaml"
	echo ---
	sed -e "s/@NS@/$ns/g" "$(dirname -- "${BASH_SOURCE[0]}")/try-world.yaml"
	cat <<EOF
---
apiVersion: v1
kind: Pod
metadata: {name: $sa, namespace: $ns}
spec:
  serviceAccountName: $sa
  containers: [{name: app, image: kcurl}]
EOF
} | kubectl apply -f - >/dev/null
token=$(kubectl create token "$sa" -n "$ns" --bound-object-kind Pod --bound-object-name "$sa" \
	--audience "${cluster[KCURL_CLUSTER_AUDIENCE]}" --duration 1h)

# The kubelet's layout: a new timestamped dir, a new ..data renamed over the
# old one (readers never see a half-written set), the old dir removed. One
# writer at a time (two try.sh at once share the dir).
mkdir -p "$sa_dir"
exec {sa_lock}>"$sa_dir.lock"
flock "$sa_lock"
stamp=..$(date -u +%Y_%m_%d_%H_%M_%S.%N)
mkdir "$sa_dir/$stamp"
printf '%s' "$token" >"$sa_dir/$stamp/token"
cp "${cluster[KCURL_CLUSTER_CA]}" "$sa_dir/$stamp/ca.crt"
printf '%s' "$ns" >"$sa_dir/$stamp/namespace"
ln -sfn "$stamp" "$sa_dir/..data_tmp"
mv -T "$sa_dir/..data_tmp" "$sa_dir/..data"
for f in token ca.crt namespace; do ln -sfn "..data/$f" "$sa_dir/$f"; done
find "$sa_dir" -maxdepth 1 -name '..20*' ! -name "$stamp" -exec rm -rf {} +
printf '%s\n' "$sa_dir"
