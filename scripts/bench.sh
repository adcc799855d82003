#!/usr/bin/env bash
# bench.sh: SPEC §6's targets, measured as ratios against curl, jq and
# kubectl on this machine in this run, with hyperfine. Everything runs inside
# the Pod-like sandbox (scripts/sandbox.sh) against a control plane of the
# benchmark's own, with the same service-account token for every tool:
#
#   /api: kcurl vs curl (the Kubernetes docs' recipe) vs kubectl get --raw
#   5,000 ConfigMaps, names through jq: kcurl -r -q vs kubectl get --raw | jq -r
#     vs curl | jq -r; and pretty-printing the list: kcurl vs curl | jq .
#   peak RSS of kcurl /api, the stripped binary, the image (when podman is
#   set up by scripts/image.sh)
#
# Loopback only; bounded (hyperfine runs each command RUNS times).
# usage: scripts/bench.sh [RUNS]     (needs hyperfine and jq)
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
runs=${1:-30}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
say() { printf 'bench: %s\n' "$*" >&2; }
for tool in hyperfine jq curl; do
	command -v "$tool" >/dev/null || { say "needs $tool (apt-get install -y $tool)"; exit 2; }
done

work=$(mktemp -d)
cleanup() {
	KCURL_CLUSTER_DIR=$work/cluster "$repo/scripts/cluster.sh" down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

KCURL_CLUSTER_DIR=$work/cluster "$repo/scripts/cluster.sh" up >/dev/null
declare -A cluster
while IFS='=' read -r key value; do [[ -n $key ]] && cluster[$key]=$value; done <"$work/cluster/env"
mkdir -p "$work/bin"
say "building kcurl"
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/bin/kcurl" .)
cp "${cluster[KCURL_CLUSTER_KUBECTL]}" "$work/bin/kubectl"
ns=kcurl-bench
sa_dir=$("$repo/scripts/pod.sh" "$work/cluster/env" "$ns" kcurl-bench "$work/serviceaccount")

# 5,000 ConfigMaps of about 1.2 KB each: the list is about 8.6 MB pretty,
# 6.3 MB compact, like FACTS.md's.
say "creating 5,000 ConfigMaps"
value=$(head -c 900 /dev/zero | tr '\0' 'x')
for batch in $(seq 0 9); do
	{
		printf '{"apiVersion":"v1","kind":"List","items":['
		for i in $(seq $((batch * 500)) $((batch * 500 + 499))); do
			((i == batch * 500)) || printf ','
			printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%05d","labels":{"app":"bench","shard":"s%d"}},"data":{"index":"%d","payload":"%s"}}' "$i" $((i % 10)) "$i" "$value"
		done
		printf ']}'
	} >"$work/batch-$batch.json"
	env -i PATH="$PATH" "$work/bin/kubectl" --kubeconfig "${cluster[KCURL_CLUSTER_ADMIN_KUBECONFIG]}" -n "$ns" create -f "$work/batch-$batch.json" >/dev/null &
done
wait
count=$(env -i PATH="$PATH" "$work/bin/kubectl" --kubeconfig "${cluster[KCURL_CLUSTER_ADMIN_KUBECONFIG]}" -n "$ns" get configmaps -o name | grep -c cm-)
((count == 5000)) || { say "only $count of 5,000 ConfigMaps were created"; exit 1; }

# Everything below runs in the sandbox, as a Pod would run it.
port=${cluster[KCURL_CLUSTER_PORT]}
sa=/var/run/secrets/kubernetes.io/serviceaccount
list=/api/v1/namespaces/$ns/configmaps
curl_recipe="curl -s --cacert $sa/ca.crt -H \"Authorization: Bearer \$(cat $sa/token)\""
in_pod() {
	env -i PATH="$work/bin:/usr/bin:/bin" HOME="$work" KUBERNETES_SERVICE_HOST="${cluster[KCURL_CLUSTER_HOST]}" \
		KUBERNETES_SERVICE_PORT="$port" KUBERNETES_SERVICE_PORT_HTTPS="$port" \
		"$repo/scripts/sandbox.sh" --sa-dir "$sa_dir" -- "$@"
}
hf() { # NAME, then commands: hyperfine's JSON, the first command is kcurl's
	local name=$1
	shift
	in_pod hyperfine --style none --warmup 3 --runs "$runs" --export-json "$work/$name.json" "$@" >/dev/null
}
mean_ms() { jq -r ".results[$2].mean * 1000" "$work/$1.json"; }

say "timing /api ($runs runs each)"
hf api "kcurl /api" "$curl_recipe https://\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT_HTTPS/api" "kubectl get --raw /api"
say "timing the 5,000-ConfigMap list"
hf names "kcurl $list -r -q '.items[].metadata.name'" \
	"kubectl get --raw $list | jq -r '.items[].metadata.name'" \
	"$curl_recipe https://\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT_HTTPS$list | jq -r '.items[].metadata.name'"
hf pretty "kcurl $list" "$curl_recipe https://\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT_HTTPS$list | jq ."
rss=$(in_pod /usr/bin/time -f %M kcurl /api 2>&1 >/dev/null | tail -1)
size=$(stat -c %s "$work/bin/kcurl")
listsize=$(in_pod sh -c "$curl_recipe https://\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT_HTTPS$list | wc -c")

ratio() { echo "$1 / $2" | bc -l; }
check() { # VALUE TARGET: ok or MISSED
	if (($(echo "$1 <= $2" | bc -l))); then echo ok; else echo MISSED; fi
}
row() { printf '%-62s %8.3f  %-8s %s\n' "$1" "$2" "$3" "$(check "$2" "$3")"; }
a0=$(mean_ms api 0) a1=$(mean_ms api 1) a2=$(mean_ms api 2)
n0=$(mean_ms names 0) n1=$(mean_ms names 1) n2=$(mean_ms names 2)
p0=$(mean_ms pretty 0) p1=$(mean_ms pretty 1)
printf '\nmeans of %d runs: /api kcurl %.1f ms, curl %.1f ms, kubectl %.1f ms\n' "$runs" "$a0" "$a1" "$a2"
printf '  names of 5,000 ConfigMaps (%.1f MB pretty): kcurl %.1f ms, kubectl|jq %.1f ms, curl|jq %.1f ms\n' "$(echo "$listsize / 1000000" | bc -l)" "$n0" "$n1" "$n2"
printf '  pretty-printing them: kcurl %.1f ms, curl|jq %.1f ms\n\n' "$p0" "$p1"
printf '%-62s %8s  %-8s\n' target measured limit
row "kcurl /api ÷ curl recipe" "$(ratio "$a0" "$a1")" 1.25
row "kcurl /api ÷ kubectl get --raw /api" "$(ratio "$a0" "$a2")" 0.5
row "kcurl /api peak RSS (MiB)" "$(echo "$rss / 1024" | bc -l)" 25
row "5,000 CMs, -r -q names ÷ kubectl get --raw | jq -r" "$(ratio "$n0" "$n1")" 0.75
row "5,000 CMs, -r -q names ÷ curl | jq -r" "$(ratio "$n0" "$n2")" 0.6
row "5,000 CMs, pretty ÷ curl | jq ." "$(ratio "$p0" "$p1")" 0.5
row "stripped binary (MB)" "$(echo "$size / 1000000" | bc -l)" 20
if command -v podman >/dev/null && image_size=$("$repo/scripts/image.sh" podman image inspect --format '{{.Size}}' localhost/kcurl:dev 2>/dev/null); then
	row "image localhost/kcurl:dev (MB)" "$(echo "$image_size / 1000000" | bc -l)" 25
fi
