#!/usr/bin/env bash
# bench.sh: the performance targets (docs/performance.md), measured as ratios against curl, jq and
# kubectl on this machine in this run, with hyperfine. Everything runs inside
# the Pod-like sandbox (scripts/sandbox.sh) against a control plane of the
# benchmark's own, with the same service-account token for every tool:
#
#   /api: kcurl vs curl (the Kubernetes docs' recipe) vs kubectl get --raw
#   5,000 ConfigMaps, names through jq: kcurl -r -q vs kubectl get --raw | jq -r
#     vs curl | jq -r; and pretty-printing the list: kcurl vs curl | jq .
#   the same 5,000 as YAML and as names: kcurl vs kubectl get -o yaml|name
#   peak RSS of kcurl /api, the stripped binary, the image (built by
#   scripts/image.sh when podman is there)
#   before any timing, what a page fault, a system call and a process
#   start cost on this machine (scripts/bench/machine): where faults are
#   dear, every start is, curl's and kubectl's too
#   wall and peak RSS of every streaming mode on the 5,000 list and on a
#   list of 100,000 ConfigMaps (166 MB), against kubectl get -o yaml|name and
#   curl | jq. The 100,000 come from scripts/bench/listserver (generated, over
#   HTTPS on 127.0.0.1): loading them into etcd would take far longer than
#   the benchmark.
#
# Loopback only; bounded (hyperfine runs each command RUNS times; the
# 100,000-object commands run once each).
# usage: scripts/bench.sh [RUNS]     (needs hyperfine, jq and GNU time)
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
runs=${1:-30}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
say() { printf 'bench: %s\n' "$*" >&2; }
for tool in hyperfine jq curl; do
	command -v "$tool" >/dev/null || { say "needs $tool (apt-get install -y $tool)"; exit 2; }
done
[[ -x /usr/bin/time ]] || { say "needs GNU time (apt-get install -y time)"; exit 2; }

work=$(mktemp -d)
listserver_pid=
cleanup() {
	[[ -z $listserver_pid ]] || { kill "$listserver_pid" 2>/dev/null; wait "$listserver_pid" 2>/dev/null || true; }
	KCURL_CLUSTER_DIR=$work/cluster "$repo/scripts/cluster.sh" down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

KCURL_CLUSTER_DIR=$work/cluster "$repo/scripts/cluster.sh" up >/dev/null
declare -A cluster
while IFS='=' read -r key value; do [[ -n $key ]] && cluster[$key]=$value; done <"$work/cluster/env"
mkdir -p "$work/bin"
say "building kcurl"
(cd "$repo" && CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -ldflags '-s -w' -o "$work/bin/kcurl" . &&
	go build -o "$work/listserver" ./scripts/bench/listserver && go build -o "$work/machine" ./scripts/bench/machine)
say "$("$work/machine")"
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
hf yaml "kcurl $list -o yaml" "kubectl get configmaps -o yaml"
hf name "kcurl $list -o name" "kubectl get configmaps -o name"
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
y0=$(mean_ms yaml 0) y1=$(mean_ms yaml 1)
m0=$(mean_ms name 0) m1=$(mean_ms name 1)
printf '\nmeans of %d runs: /api kcurl %.1f ms, curl %.1f ms, kubectl %.1f ms\n' "$runs" "$a0" "$a1" "$a2"
printf '  names of 5,000 ConfigMaps (%.1f MB pretty): kcurl %.1f ms, kubectl|jq %.1f ms, curl|jq %.1f ms\n' "$(echo "$listsize / 1000000" | bc -l)" "$n0" "$n1" "$n2"
printf '  pretty-printing them: kcurl %.1f ms, curl|jq %.1f ms\n' "$p0" "$p1"
printf '  as YAML: kcurl %.1f ms, kubectl get -o yaml %.1f ms; names: kcurl %.1f ms, kubectl get -o name %.1f ms\n\n' "$y0" "$y1" "$m0" "$m1"
printf '%-62s %8s  %-8s\n' target measured limit
row "kcurl /api ÷ curl recipe" "$(ratio "$a0" "$a1")" 1.25
row "kcurl /api ÷ kubectl get --raw /api" "$(ratio "$a0" "$a2")" 0.5
row "kcurl /api peak RSS (MiB)" "$(echo "$rss / 1024" | bc -l)" 25
row "5,000 CMs, -r -q names ÷ kubectl get --raw | jq -r" "$(ratio "$n0" "$n1")" 0.75
row "5,000 CMs, -r -q names ÷ curl | jq -r" "$(ratio "$n0" "$n2")" 0.6
row "5,000 CMs, pretty ÷ curl | jq ." "$(ratio "$p0" "$p1")" 0.5
row "5,000 CMs, -o yaml ÷ kubectl get -o yaml" "$(ratio "$y0" "$y1")" 0.25
row "stripped binary (MB)" "$(echo "$size / 1000000" | bc -l)" 20
# The image is built from this checkout (scripts/image.sh: seconds once its
# builder image and the Go caches are there), so that its size is this
# code's.
if command -v podman >/dev/null && image_size=$("$repo/scripts/image.sh" build localhost/kcurl:dev 2>/dev/null | tail -n 1); then
	row "image localhost/kcurl:dev (MB)" "$(echo "$image_size / 1000000" | bc -l)" 25
fi

# Wall and peak RSS, one run each: the 5,000 list in the sandbox, then the
# 100,000-object list from the list server. Peak RSS is GNU time's: of the
# largest process, for a pipeline.
memory_modes=(
	"-r -q .items[].metadata.name" "-o name" "-o yaml" "-o json" "-c" "-o table"
	"--all -r -q .items[].metadata.name" "--all -o yaml" "--all -o name"
)
timed='%e %M' # GNU time: wall seconds, peak RSS in KiB
rss_rows() {  # lines of "WALL KIB LABEL" from GNU time, as a table
	while read -r wall kib label; do
		printf '%-58s %8.2f s %8.1f MiB\n' "$label" "$wall" "$(echo "$kib / 1024" | bc -l)"
	done
}
each_mode() { # SIZE RUNNER PATH URL KUBECTL CURL: kcurl in every mode, kubectl, curl | jq
	local size=$1 runner=$2 path=$3 url=$4 kubectl=$5 curl_cmd=$6
	# shellcheck disable=SC2086 # a mode, and the kubectl command, are several words
	for mode in "${memory_modes[@]}"; do
		$runner /usr/bin/time -f "$timed kcurl $mode ($size)" kcurl "$path" $mode 2>&1 >/dev/null | tail -1
	done
	# shellcheck disable=SC2086
	for output in yaml name; do
		$runner /usr/bin/time -f "$timed kubectl get -o $output ($size)" $kubectl get configmaps -o $output 2>&1 >/dev/null | tail -1
	done
	$runner /usr/bin/time -f "$timed curl | jq -r names ($size)" sh -c "$curl_cmd $url | jq -r '.items[].metadata.name' >/dev/null" 2>&1 | tail -1
}
printf '\n%-58s %10s %12s\n' "command (one run each)" wall "peak RSS"
each_mode 5,000 in_pod "$list" "https://\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT_HTTPS$list" kubectl "$curl_recipe" | rss_rows

say "serving 100,000 generated ConfigMaps"
mkdir -p "$work/big"
"$work/listserver" -n 100000 -dir "$work/big" &
listserver_pid=$!
for _ in $(seq 100); do [[ -s $work/big/server ]] && break; sleep 0.1; done
big_server=$(cat "$work/big/server")
big_list=/api/v1/namespaces/bench/configmaps
big_size=$(curl -s --cacert "$work/big/ca.crt" "$big_server$big_list" | wc -c)
big() { # COMMAND...: with the list server's service-account dir, as in a Pod
	env -i PATH="$work/bin:/usr/bin:/bin" HOME="$work/big" KUBERNETES_SERVICE_HOST=127.0.0.1 \
		KUBERNETES_SERVICE_PORT="${big_server##*:}" KUBERNETES_SERVICE_PORT_HTTPS="${big_server##*:}" \
		KCURL_SA_DIR="$work/big" "$@"
}
printf '(the 100,000-object list: %.0f MB as compact JSON)\n' "$(echo "$big_size / 1000000" | bc -l)"
each_mode 100,000 big "$big_list" "$big_server$big_list" "kubectl --kubeconfig $work/big/kubeconfig" \
	"curl -s --cacert $work/big/ca.crt -H 'Authorization: Bearer bench-token'" | rss_rows
