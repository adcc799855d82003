#!/usr/bin/env bash
# bench-proxy.sh: `kcurl proxy` against `kubectl proxy` (built from the same
# pinned modules as the control plane), same apiserver, same service-account
# token, same machine, one run. C concurrent clients GET a small object
# through each proxy; rounds alternate so both see the same machine state.
# Prints requests/s and p99 latency per round, and the ratios.
#
# Loopback only, bounded in time: ROUNDS x 2 x SECONDS (default 3 x 2 x 10 s).
# usage: scripts/bench-proxy.sh [CLIENTS] [SECONDS] [ROUNDS]
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
clients=${1:-16} seconds=${2:-10} rounds=${3:-3}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
say() { printf 'bench-proxy: %s\n' "$*" >&2; }

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	KCURL_CLUSTER_DIR=$work/cluster "$repo/scripts/cluster.sh" down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# A control plane of the benchmark's own, so nothing else loads it.
KCURL_CLUSTER_DIR=$work/cluster "$repo/scripts/cluster.sh" up >/dev/null
declare -A cluster
while IFS='=' read -r key value; do [[ -n $key ]] && cluster[$key]=$value; done <"$work/cluster/env"

say "building kcurl and the load client"
(cd "$repo" && CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -o "$work/kcurl" . && go build -o "$work/load" ./scripts/bench/load &&
	go build -o "$work/machine" ./scripts/bench/machine)
say "$("$work/machine")"
sa_dir=$("$repo/scripts/pod.sh" "$work/cluster/env" kcurl-bench kcurl-bench "$work/serviceaccount")
env -i PATH="$PATH" "${cluster[KCURL_CLUSTER_KUBECTL]}" --kubeconfig "${cluster[KCURL_CLUSTER_ADMIN_KUBECONFIG]}" \
	-n kcurl-bench create configmap small --from-literal=k=v >/dev/null

# kubectl proxy reads the same token file through a kubeconfig.
cat >"$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: bench, cluster: {server: "${cluster[KCURL_CLUSTER_SERVER]}", certificate-authority: "$sa_dir/ca.crt"}}]
users: [{name: bench, user: {tokenFile: "$sa_dir/token"}}]
contexts: [{name: bench, context: {cluster: bench, user: bench, namespace: kcurl-bench}}]
current-context: bench
EOF

# start NAME CMD...: runs a proxy on a free port and sets ADDR from its
# "Starting to serve on ADDR" line.
start() {
	local name=$1 out=$work/$1.out
	shift
	"$@" >"$out" 2>"$work/$name.err" &
	pids+=("$!")
	for _ in $(seq 100); do
		if ADDR=$(sed -n 's/^Starting to serve on //p' "$out") && [[ -n $ADDR ]]; then return; fi
		sleep 0.1
	done
	say "$name did not start:"; cat "$work/$name.err" >&2; exit 1
}
start kubectl env -i PATH="$PATH" HOME="$work" "${cluster[KCURL_CLUSTER_KUBECTL]}" --kubeconfig "$work/kubeconfig" proxy --port=0
# shellcheck disable=SC2034 # read through ${!pid}
kubectl_addr=$ADDR kubectl_pid=${pids[-1]}
start kcurl env -i PATH="$PATH" HOME="$work" KUBERNETES_SERVICE_HOST="${cluster[KCURL_CLUSTER_HOST]}" \
	KUBERNETES_SERVICE_PORT_HTTPS="${cluster[KCURL_CLUSTER_PORT]}" KCURL_SA_DIR="$sa_dir" "$work/kcurl" proxy -p 0
# shellcheck disable=SC2034 # read through ${!pid}
kcurl_addr=$ADDR kcurl_pid=${pids[-1]}

# cpu_ticks PID: user+system CPU time the process used so far, in clock
# ticks; per request it says how much work each proxy does, which the
# shared 2-core machine's noise affects far less than requests/s.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

path=/api/v1/namespaces/kcurl-bench/configmaps/small
say "warming up both proxies"
"$work/load" -url "http://$kubectl_addr$path" -c "$clients" -d 2s >/dev/null
"$work/load" -url "http://$kcurl_addr$path" -c "$clients" -d 2s >/dev/null

printf '%-8s %-8s %10s %9s %9s %16s %7s\n' round proxy 'req/s' 'p50 ms' 'p99 ms' 'proxy CPU µs/req' errors
declare -A rps p99 cpu
for round in $(seq "$rounds"); do
	for proxy in kubectl kcurl; do
		addr=${proxy}_addr pid=${proxy}_pid
		before=$(cpu_ticks "${!pid}")
		result=$("$work/load" -url "http://${!addr}$path" -c "$clients" -d "${seconds}s")
		after=$(cpu_ticks "${!pid}")
		r=$(jq -r .rps <<<"$result") p=$(jq -r .p99_ms <<<"$result") n=$(jq -r .ok <<<"$result")
		c=$(echo "($after - $before) / $hz * 1000000 / $n" | bc -l)
		printf '%-8s %-8s %10.0f %9.2f %9.2f %16.0f %7d\n' "$round" "$proxy" "$r" "$(jq -r .p50_ms <<<"$result")" "$p" "$c" "$(jq -r .errors <<<"$result")"
		rps[$proxy]="${rps[$proxy]:-} $r" p99[$proxy]="${p99[$proxy]:-} $p" cpu[$proxy]="${cpu[$proxy]:-} $c"
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
kr=$(median <<<"${rps[kcurl]}") ur=$(median <<<"${rps[kubectl]}")
kp=$(median <<<"${p99[kcurl]}") up=$(median <<<"${p99[kubectl]}")
kc=$(median <<<"${cpu[kcurl]}") uc=$(median <<<"${cpu[kubectl]}")
echo
printf 'median of %d rounds, %d clients, %ds each:\n' "$rounds" "$clients" "$seconds"
printf '  kcurl proxy   %6.0f req/s  p99 %6.2f ms  %5.0f µs CPU/req\n' "$kr" "$kp" "$kc"
printf '  kubectl proxy %6.0f req/s  p99 %6.2f ms  %5.0f µs CPU/req\n' "$ur" "$up" "$uc"
printf 'ratio kcurl/kubectl: throughput %.2fx (target >= 1.00x), p99 latency %.2fx, CPU per request %.2fx\n' \
	"$(echo "$kr / $ur" | bc -l)" "$(echo "$kp / $up" | bc -l)" "$(echo "$kc / $uc" | bc -l)"
