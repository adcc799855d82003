#!/usr/bin/env bash
# bench-stream.sh: kcurl exec, port-forward and cp against kubectl's (built
# from the same pinned modules as the node), on a one-node cluster of the
# benchmark's own (scripts/node.sh), same Pod, same token, same machine, one
# run. Prints each measure, kcurl/kubectl ratios and SPEC §6's targets:
#   exec -- true wall (median of N)       ≤ 0.5× kubectl
#   port-forward of 100 MB: throughput    ≥ 1.0× kubectl, CPU ≤ 0.8× kubectl
#   cp of 100 MB (from the container)     ≤ 1.0× kubectl's wall
#   peak RSS of each                      ≤ 32 MiB
#
# Needs root (the node), podman and buildah (its images). Bounded: about a
# minute once the node's binaries are built.
# usage: scripts/bench-stream.sh [EXEC_RUNS]
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
runs=${1:-20}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
say() { printf 'bench-stream: %s\n' "$*" >&2; }

work=$(mktemp -d /tmp/kcurl-bs-XXXXXX)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	KCURL_NODE_DIR=$work/n "$repo/scripts/node.sh" down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

say "building kcurl and the node's images"
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/kcurl" .)
"$repo/scripts/image.sh" node-images "$work/images" >/dev/null
KCURL_NODE_DIR=$work/n KCURL_NODE_IMAGES="$(echo "$work"/images/*.tar)" "$repo/scripts/node.sh" up >/dev/null
declare -A node
while IFS='=' read -r key value; do [[ -n $key ]] && node[$key]=$value; done <"$work/n/env"
netns=/run/netns/${node[KCURL_NODE_NETNS]}
in_node() { nsenter --net="$netns" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" "$@"; }
admin() { in_node "${node[KCURL_NODE_KUBECTL]}" --kubeconfig "${node[KCURL_NODE_KUBECONFIG]}" -n kcurl-bench "$@"; }

in_node "${node[KCURL_NODE_KUBECTL]}" --kubeconfig "${node[KCURL_NODE_KUBECONFIG]}" create namespace kcurl-bench >/dev/null
admin apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: localhost/kcurl-e2e/shell:1
    command: [sh, -c, 'mkdir -p /www && head -c 104857600 /dev/urandom > /www/big && touch /www/ready && exec httpd -f -p 8080 -h /www']
    readinessProbe:
      exec: {command: [test, -f, /www/ready]}
      periodSeconds: 1
EOF
admin wait --for=condition=Ready --timeout=120s pod/web >/dev/null

# Both clients use the admin kubeconfig: the same credentials, the same TLS.
kc=("${node[KCURL_NODE_KUBECTL]}" --kubeconfig "${node[KCURL_NODE_KUBECONFIG]}" -n kcurl-bench)
kk=("$work/kcurl" --kubeconfig "${node[KCURL_NODE_KUBECONFIG]}" -n kcurl-bench)

# rss_wall CMD...: runs CMD in the node, prints "WALL_SECONDS PEAK_RSS_KIB".
rss_wall() {
	in_node /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	cat "$work/time"
}

# exec -- true: the median wall of N runs (each a new process and
# connection), kubectl's and kcurl's runs alternating so that both see the
# same machine. Prints "KCURL_US KUBECTL_US".
wall_us() {
	local start end
	start=$(date +%s%N)
	in_node "$@" >/dev/null
	end=$(date +%s%N)
	echo $(((end - start) / 1000))
}
median() { sort -n | sed -n "$(((runs + 1) / 2))p"; }
median_exec() { # EXEC FLAGS...
	local -a a=() b=()
	for _ in $(seq "$runs"); do
		b+=("$(wall_us "${kc[@]}" exec web "$@" -- true)")
		a+=("$(wall_us "${kk[@]}" exec web "$@" -- true)")
	done
	echo "$(printf '%s\n' "${a[@]}" | median) $(printf '%s\n' "${b[@]}" | median)"
}
say "exec -- true, $runs runs each"
read -r exec_kcurl exec_kubectl < <(median_exec)
read -r exec_c_kcurl exec_c_kubectl < <(median_exec -c web) # kcurl reads no Pod first
read -r _ exec_rss_kubectl < <(rss_wall "${kc[@]}" exec web -- true)
read -r _ exec_rss_kcurl < <(rss_wall "${kk[@]}" exec web -- true)

# port-forward: 100 MB through it with curl; its CPU (user+system ticks of
# the forwarder process, from /proc) and its peak RSS.
forward() { # NAME CMD...
	local name=$1 out=$work/$1.pf
	shift
	# Not through in_node: $! must be the forwarder (nsenter and env exec).
	nsenter --net="$netns" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" "$@" port-forward web :8080 >"$out" 2>&1 &
	local pid=$!
	pids+=("$pid")
	local port=""
	for _ in $(seq 100); do
		port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) -> 8080$/\1/p' "$out" | head -1)
		[[ -n $port ]] && break
		sleep 0.1
	done
	[[ -n $port ]] || { say "$name port-forward did not start:"; cat "$out" >&2; exit 1; }
	# nsenter and env exec: $pid is the forwarder itself.
	local fpid=$pid
	ticks() { awk '{print $14 + $15}' "/proc/$fpid/stat"; }
	local t0 c0 t1 c1
	in_node curl -q --noproxy '*' -fsS -o /dev/null "http://127.0.0.1:$port/big" # warm the page cache and the connection
	c0=$(ticks)
	t0=$(date +%s%N)
	in_node curl -q --noproxy '*' -fsS -o /dev/null "http://127.0.0.1:$port/big"
	t1=$(date +%s%N)
	c1=$(ticks)
	local rss
	rss=$(awk '/VmHWM/ {print $2}' "/proc/$fpid/status")
	kill "$pid" 2>/dev/null || true
	echo "$(((t1 - t0) / 1000)) $((c1 - c0)) $rss"
}
# Three rounds of each, alternating; the median of each measure.
med3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
say "port-forward of 100 MB, 3 rounds"
pfa=() pfb=()
for _ in 1 2 3; do
	pfb+=("$(forward kubectl "${kc[@]}")")
	pfa+=("$(forward kcurl "${kk[@]}")")
done
col() { local i=$1; shift; for row in "$@"; do echo "$row" | cut -d' ' -f"$i"; done; }
pf_us_kubectl=$(med3 $(col 1 "${pfb[@]}")) pf_cpu_kubectl=$(med3 $(col 2 "${pfb[@]}")) pf_rss_kubectl=$(med3 $(col 3 "${pfb[@]}"))
pf_us_kcurl=$(med3 $(col 1 "${pfa[@]}")) pf_cpu_kcurl=$(med3 $(col 2 "${pfa[@]}")) pf_rss_kcurl=$(med3 $(col 3 "${pfa[@]}"))

say "cp of 100 MB from the container, 3 rounds"
cpa=() cpb=()
for i in 1 2 3; do
	cpb+=("$(rss_wall "${kc[@]}" cp web:/www/big "$work/big.kubectl.$i")")
	cpa+=("$(rss_wall "${kk[@]}" cp web:/www/big "$work/big.kcurl.$i")")
	cmp -s "$work/big.kubectl.$i" "$work/big.kcurl.$i" || { say "the two copies differ"; exit 1; }
	rm -f "$work/big.kubectl.$i" "$work/big.kcurl.$i"
done
say "port-forward rounds (us ticks KiB): kcurl ${pfa[*]} / kubectl ${pfb[*]}; cp rounds (s KiB): kcurl ${cpa[*]} / kubectl ${cpb[*]}"
cp_wall_kubectl=$(med3 $(col 1 "${cpb[@]}")) cp_rss_kubectl=$(med3 $(col 2 "${cpb[@]}"))
cp_wall_kcurl=$(med3 $(col 1 "${cpa[@]}")) cp_rss_kcurl=$(med3 $(col 2 "${cpa[@]}"))

ratio() { echo "scale=2; $1 / $2" | bc -l; }
printf '%-34s %12s %12s %8s %s\n' "measure" "kcurl" "kubectl" "ratio" "target"
printf '%-34s %12.1f %12.1f %8s %s\n' "exec -- true wall (ms, median)" "$(echo "$exec_kcurl / 1000" | bc -l)" "$(echo "$exec_kubectl / 1000" | bc -l)" "$(ratio "$exec_kcurl" "$exec_kubectl")" "≤ 0.5"
printf '%-34s %12.1f %12.1f %8s %s\n' "exec -c web -- true wall (ms)" "$(echo "$exec_c_kcurl / 1000" | bc -l)" "$(echo "$exec_c_kubectl / 1000" | bc -l)" "$(ratio "$exec_c_kcurl" "$exec_c_kubectl")" "≤ 0.5"
printf '%-34s %12.1f %12.1f %8s %s\n' "port-forward 100 MB (MB/s)" "$(echo "104.8576 / ($pf_us_kcurl / 1000000)" | bc -l)" "$(echo "104.8576 / ($pf_us_kubectl / 1000000)" | bc -l)" "$(ratio "$pf_us_kubectl" "$pf_us_kcurl")" "≥ 1.0"
printf '%-34s %12s %12s %8s %s\n' "port-forward 100 MB CPU (ticks)" "$pf_cpu_kcurl" "$pf_cpu_kubectl" "$(ratio "$pf_cpu_kcurl" "$((pf_cpu_kubectl > 0 ? pf_cpu_kubectl : 1))")" "≤ 0.8"
printf '%-34s %12s %12s %8s %s\n' "cp 100 MB wall (s)" "$cp_wall_kcurl" "$cp_wall_kubectl" "$(ratio "$cp_wall_kcurl" "$cp_wall_kubectl")" "≤ 1.0"
printf '%-34s %12s %12s %8s %s\n' "peak RSS exec (MiB)" "$((exec_rss_kcurl / 1024))" "$((exec_rss_kubectl / 1024))" "" "≤ 32"
printf '%-34s %12s %12s %8s %s\n' "peak RSS port-forward (MiB)" "$((pf_rss_kcurl / 1024))" "$((pf_rss_kubectl / 1024))" "" "≤ 32"
printf '%-34s %12s %12s %8s %s\n' "peak RSS cp (MiB)" "$((cp_rss_kcurl / 1024))" "$((cp_rss_kubectl / 1024))" "" "≤ 32"
