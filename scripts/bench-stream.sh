#!/usr/bin/env bash
# bench-stream.sh: kcurl exec, port-forward and cp against kubectl's (built
# from the same pinned modules as the node), on a one-node cluster of the
# benchmark's own (scripts/node.sh), same Pod, same credentials (the
# admin kubeconfig), same machine, one run. Prints each measure,
# kcurl/kubectl ratios (to three places, rounded) and SPEC §6's targets,
# each marked ok or MISSED:
#   exec -- true wall (median of N)       ≤ 0.5× kubectl
#     (and the median of the runs' ratios, with its 95% interval)
#   port-forward of 100 MB: throughput    ≥ 1.0× kubectl, CPU ≤ 0.8× kubectl
#     (SWEEPS a round, one transfer through each client's forwarder a
#     sweep; the ratios are the medians of the sweeps' ratios, with the
#     95% confidence interval of that median)
#   cp of 100 MB (from the container)     ≤ 1.0× kubectl's wall
#   peak RSS of each                      ≤ 32 MiB
# and, for the exec, where its wall goes: the apiserver's part (from the
# request's arrival to its end, by the apiserver's audit log; the same for
# both clients) and the client's own (the wall less that part: its start,
# TLS handshake and exit).
#
# KCURL_BENCH_BEFORE=BINARY adds another kcurl build (an earlier commit's)
# as a third client, in the same alternating rounds: a change measured
# against the same machine state. The machine's load average is printed
# at the start and the end: on shared cores every wall time moves with it.
# So is what a page fault, a system call and a process start cost here
# (scripts/bench/machine): where faults are dear, every start is.
#
# Needs root (the node), podman and buildah (its images). Bounded: a few
# minutes once the node's binaries are built.
# usage: scripts/bench-stream.sh [EXEC_RUNS (default 40)] [ROUNDS (default 5)]
#                                [SWEEPS (default 8)]
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
runs=${1:-40}
rounds=${2:-5}
sweeps=${3:-8}
before=${KCURL_BENCH_BEFORE:-}
[[ -z $before || -x $before ]] || { echo "bench-stream: KCURL_BENCH_BEFORE=$before is not an executable" >&2; exit 2; }
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
(cd "$repo" && CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -ldflags '-s -w' -o "$work/kcurl" . &&
	go build -o "$work/machine" ./scripts/bench/machine)
say "$("$work/machine")"
"$repo/scripts/image.sh" node-images "$work/images" >/dev/null
KCURL_CLUSTER_AUDIT_EXEC=1 KCURL_NODE_DIR=$work/n KCURL_NODE_IMAGES="$(echo "$work"/images/*.tar)" "$repo/scripts/node.sh" up >/dev/null
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
    # A startup probe stops once it passes: a readiness probe would run
    # a runc exec of its own on the node every second of the measurements.
    startupProbe:
      exec: {command: [test, -f, /www/ready]}
      periodSeconds: 1
      failureThreshold: 120
EOF
admin wait --for=condition=Ready --timeout=120s pod/web >/dev/null

# Both clients use the admin kubeconfig: the same credentials, the same TLS.
kc=("${node[KCURL_NODE_KUBECTL]}" --kubeconfig "${node[KCURL_NODE_KUBECONFIG]}" -n kcurl-bench)
kk=("$work/kcurl" --kubeconfig "${node[KCURL_NODE_KUBECONFIG]}" -n kcurl-bench)
kb=("$before" --kubeconfig "${node[KCURL_NODE_KUBECONFIG]}" -n kcurl-bench)
# The clients, each round in this order; cmd NAME is its command line.
clients=(kubectl kcurl)
[[ -n $before ]] && clients+=(before)
declare -A cmd_of=([kubectl]=kc [kcurl]=kk [before]=kb)
say "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"

# rss_wall CMD...: runs CMD in the node, prints "WALL_SECONDS PEAK_RSS_KIB".
rss_wall() {
	in_node /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	cat "$work/time"
}
# wall_us CMD...: the wall of CMD in microseconds, as a shell in the node
# sees it (the fork and exec of CMD included): bash's clock, read before
# and after it, in the node. Timed from outside, nsenter's, env's and
# date's own starts (about 18 ms) were counted in each client's wall.
wall_us() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	in_node bash -c 'start=${EPOCHREALTIME/./}; "$@" >/dev/null; end=${EPOCHREALTIME/./}; echo $((end - start))' wall_us "$@"
}
# median VALUES...: the middle one (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
# col I ROWS...: the I-th field of each row.
col() { local i=$1 row; shift; for row in "$@"; do echo "$row" | cut -d' ' -f"$i"; done; }

# rotated ROUND: the clients, starting with the next one each round, so that
# none always runs right after the same one.
rotated() {
	local i
	for i in "${!clients[@]}"; do echo "${clients[(i + $1) % ${#clients[@]}]}"; done
}

# Results: one space-separated row per client and round, by measure.
declare -A exec_rows exec_c_rows exec_server_rows exec_own_rows pf_rows pf_rss cp_rows exec_rss

# exec -- true: the wall of N runs each (each a new process and
# connection), the clients alternating so that all see the same machine,
# in rotated order (the node may still be tidying the exec before).
say "exec -- true, $runs runs each"
execs=() # "NAME WALL" of each exec -- true, in order, "-" for the -c ones
for run in $(seq "$runs"); do
	for name in $(rotated "$run"); do
		declare -n c=${cmd_of[$name]}
		wall=$(wall_us "${c[@]}" exec web -- true)
		exec_rows[$name]+=" $wall"
		execs+=("$name $wall")
		exec_c_rows[$name]+=" $(wall_us "${c[@]}" exec web -c web -- true)"
		execs+=(-)
	done
done

# audit_spans: the apiserver's part of each exec so far, in microseconds,
# in the order they came: from its audit event's requestReceivedTimestamp
# to its stageTimestamp (ResponseComplete), both in UTC with microseconds.
audit_spans() {
	awk -F'"' '{
		for (i = 1; i < NF; i++) {
			if ($i == "requestReceivedTimestamp") received = $(i + 2)
			if ($i == "stageTimestamp") done = $(i + 2)
		}
		print received, done
	}' "${node[KCURL_CLUSTER_AUDIT_LOG]}" | sort | awk '
		function us(t) { return ((substr(t, 12, 2) * 60 + substr(t, 15, 2)) * 60 + substr(t, 18, 9)) * 1000000 }
		{ d = us($2) - us($1); if (d < 0) d += 86400000000; printf "%d\n", d }'
}
# The audit event is written as the apiserver ends the request, which may
# be a moment after the client has seen its end and exited.
for _ in $(seq 50); do
	(($(audit_spans | wc -l) >= ${#execs[@]})) && break
	sleep 0.1
done
mapfile -t spans < <(audit_spans)
((${#spans[@]} >= ${#execs[@]})) || { say "the audit log has ${#spans[@]} execs, not ${#execs[@]}"; exit 1; }
for i in "${!execs[@]}"; do
	[[ ${execs[i]} == - ]] && continue
	read -r name wall <<<"${execs[i]}"
	exec_server_rows[$name]+=" ${spans[i]}"
	exec_own_rows[$name]+=" $((wall - spans[i]))"
done
for name in "${clients[@]}"; do
	declare -n c=${cmd_of[$name]}
	read -r _ exec_rss[$name] < <(rss_wall "${c[@]}" exec web -- true)
done

# port-forward: each round starts every client's forwarder and warms it
# (the page cache, the connection), then makes SWEEPS sweeps of 100 MB
# transfers with curl, one through each forwarder a sweep, in rotated
# order. A transfer's row is its wall (curl's own clock) and the
# forwarder's CPU over it (all its threads' run time, from
# /proc/PID/task/*/schedstat, in µs: /proc/PID/stat counts whole 10 ms
# ticks, 3-5% of a transfer's). The clients' transfers of one sweep ran
# within a second of each other, so the ratios are taken sweep by sweep
# (paired) and their median reported, with its 95% confidence interval.
# On a shared 2-core machine one transfer's wall moves by ±20% from the
# next one's, whichever client: two copies of the same kcurl measured
# 1.055 and 1.164 of kubectl's throughput at 16 sweeps, within 0.02 of
# each other at 32 and 40 (2026-12-07). The interval says how far a run
# can tell the clients apart. After all the transfers (900 MB at 8
# sweeps), each forwarder's peak RSS.
declare -A fwd_pid fwd_port
start_forwarder() { # NAME CMD...
	local name=$1 out=$work/$1.pf port=""
	shift
	# Not through in_node: $! must be the forwarder (nsenter and env exec).
	nsenter --net="$netns" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" "$@" port-forward web :8080 >"$out" 2>&1 &
	fwd_pid[$name]=$!
	pids+=("$!")
	for _ in $(seq 100); do
		port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) -> 8080$/\1/p' "$out" | head -1)
		[[ -n $port ]] && break
		sleep 0.1
	done
	[[ -n $port ]] || { say "$name port-forward did not start:"; cat "$out" >&2; exit 1; }
	fwd_port[$name]=$port
}
# forget_pid PID: PID was stopped and reaped; cleanup must not signal it
# again, when it may be another process's.
forget_pid() {
	local pid kept=()
	for pid in "${pids[@]}"; do [[ $pid == "$1" ]] || kept+=("$pid"); done
	pids=("${kept[@]}")
}
# cpu_us PID: the CPU time of all of PID's threads so far, in µs. Go's
# threads live as long as the process, so none of it is lost to an exit.
cpu_us() { cat /proc/"$1"/task/*/schedstat | awk '{ns += $1} END {printf "%d", ns / 1000}'; }
# transfer NAME: 100 MB through NAME's forwarder: "WALL_US CPU_US".
transfer() {
	local pid=${fwd_pid[$1]} c0 c1 seconds
	c0=$(cpu_us "$pid")
	# curl's own clock: the transfer alone, not nsenter's and env's starts.
	seconds=$(in_node curl -q --noproxy '*' -fsS -o /dev/null -w '%{time_total}' "http://127.0.0.1:${fwd_port[$1]}/big")
	c1=$(cpu_us "$pid")
	echo "$(awk -v s="$seconds" 'BEGIN {printf "%d", s * 1000000}') $((c1 - c0))"
}
say "port-forward of 100 MB, $rounds rounds of $sweeps sweeps"
for round in $(seq "$rounds"); do
	for name in $(rotated "$round"); do
		declare -n c=${cmd_of[$name]}
		start_forwarder "$name" "${c[@]}"
		transfer "$name" >/dev/null
	done
	for sweep in $(seq "$sweeps"); do
		for name in $(rotated "$((round + sweep))"); do pf_rows[$name]+="$(transfer "$name"),"; done
	done
	# "Whatever the size": the peak RSS after all of a round's transfers
	# through the same forwarder (900 MB at 8 sweeps), not 200. While each
	# SPDY frame was an allocation of its own, it grew with every
	# transfer: 29-32 MiB after two, 36-39 after four, 40 after eleven.
	for name in "${clients[@]}"; do
		pf_rss[$name]+=" $(awk '/VmHWM/ {print $2}' "/proc/${fwd_pid[$name]}/status")"
		kill "${fwd_pid[$name]}" 2>/dev/null || true
		wait "${fwd_pid[$name]}" 2>/dev/null || true
		forget_pid "${fwd_pid[$name]}"
	done
done

say "cp of 100 MB from the container, $rounds rounds"
for i in $(seq "$rounds"); do
	first=
	for name in $(rotated "$i"); do
		declare -n c=${cmd_of[$name]}
		cp_rows[$name]+="$(rss_wall "${c[@]}" cp web:/www/big "$work/big.$name.$i"),"
		first=${first:-$work/big.$name.$i}
		cmp -s "$first" "$work/big.$name.$i" || { say "the copies differ"; exit 1; }
	done
	rm -f "$work"/big.*."$i"
done

# rows NAME ARRAY: that client's rows, one a line.
rows() { local -n a=$2; tr ',' '\n' <<<"${a[$1]}" | sed '/^$/d'; }
for name in "${clients[@]}"; do
	say "$name: exec walls (us)${exec_rows[$name]}; the apiserver's part of each (us)${exec_server_rows[$name]}; port-forward transfers (us cpu-us): $(rows "$name" pf_rows | paste -sd/), peak RSS (KiB)${pf_rss[$name]}; cp rounds (s KiB): $(rows "$name" cp_rows | paste -sd/)"
done
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# ratio A B: A/B to three places, rounded (bc's own scale truncates, and
# printed 0.506 as .50 against a target of 0.5).
ratio() { printf '%.3f' "$(echo "$1 / $2" | bc -l)"; }
# verdict VALUE OP TARGET: ok or MISSED, OP being <= or >=.
verdict() { if (($(echo "$1 $2 $3" | bc -l))); then echo ok; else echo MISSED; fi; }
# line MEASURE KCURL KUBECTL RATIO OP TARGET [VALUE]: one row of the
# table, VALUE (the ratio unless given) against the target.
line() { printf '%-34s %12s %12s %8s %-7s %s\n' "$1" "$2" "$3" "$4" "$5 $6" "$(verdict "${7:-$4}" "$5" "$6")"; }
# info MEASURE KCURL KUBECTL RATIO: a row with no target.
info() { printf '%-34s %12s %12s %8s\n' "$1" "$2" "$3" "$4"; }
mib() { printf '%.1f' "$(echo "$1 / 1024" | bc -l)"; }
ms() { printf '%.1f' "$(echo "$1 / 1000" | bc -l)"; }
mbps() { printf '%.1f' "$(echo "104.8576 / ($1 / 1000000)" | bc -l)"; }
max() { printf '%s\n' "$@" | sort -n | tail -1; }
# median_interval: of the numbers on stdin, "MEDIAN LOW HIGH", LOW and
# HIGH bounding the median with 95% confidence (the order statistics of
# the sign test's binomial interval; the whole range under 6 numbers).
median_interval() {
	sort -g | awk '{v[NR] = $1} END {
		k = int((NR - 1.96 * sqrt(NR)) / 2); if (k < 1) k = 1
		printf "%.3f %.3f %.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[k], v[NR + 1 - k]
	}'
}
# paired A B COL: over the port-forward sweeps, A's COL (1 wall, 2 CPU)
# over B's (each pair ran within a second): median_interval's line.
paired() {
	paste -d' ' <(rows "$1" pf_rows | cut -d' ' -f"$3") <(rows "$2" pf_rows | cut -d' ' -f"$3") |
		awk '{print $1 / $2}' | median_interval
}
# paired_execs A B: A's exec walls over B's, run by run (each run's execs
# follow each other): median_interval's line.
paired_execs() {
	# shellcheck disable=SC2086 # the rows are lists of numbers
	paste -d' ' <(printf '%s\n' ${exec_rows[$1]}) <(printf '%s\n' ${exec_rows[$2]}) |
		awk '{print $1 / $2}' | median_interval
}
# One table per kcurl build: its medians against kubectl's; port-forward's
# ratios are the medians of its paired sweeps.
declare -A m
for name in "${clients[@]}"; do
	# shellcheck disable=SC2086 # the rows are lists of numbers
	m[$name.exec]=$(median ${exec_rows[$name]}) m[$name.exec_c]=$(median ${exec_c_rows[$name]})
	m[$name.exec_server]=$(median ${exec_server_rows[$name]}) m[$name.exec_own]=$(median ${exec_own_rows[$name]})
	mapfile -t pf < <(rows "$name" pf_rows)
	mapfile -t cpr < <(rows "$name" cp_rows)
	m[$name.pf_us]=$(median $(col 1 "${pf[@]}")) m[$name.pf_cpu]=$(median $(col 2 "${pf[@]}")) m[$name.pf_rss]=$(max ${pf_rss[$name]})
	m[$name.cp_wall]=$(median $(col 1 "${cpr[@]}")) m[$name.cp_rss]=$(median $(col 2 "${cpr[@]}"))
done
k=kubectl
for name in "${clients[@]}"; do
	[[ $name == kubectl ]] && continue
	echo
	printf '%-34s %12s %12s %8s %-7s %s\n' "measure ($name)" "$name" "kubectl" "ratio" "target" ""
	line "exec -- true wall (ms, median)" "$(ms "${m[$name.exec]}")" "$(ms "${m[$k.exec]}")" "$(ratio "${m[$name.exec]}" "${m[$k.exec]}")" "<=" 0.5
	read -r exec_ratio exec_low exec_high < <(paired_execs "$name" "$k")
	info "  run by run: median, 95% interval" "" "" "$exec_ratio ($exec_low–$exec_high)"
	info "  of it the apiserver's (ms)" "$(ms "${m[$name.exec_server]}")" "$(ms "${m[$k.exec_server]}")" "$(ratio "${m[$name.exec_server]}" "${m[$k.exec_server]}")"
	info "  of it the client's own (ms)" "$(ms "${m[$name.exec_own]}")" "$(ms "${m[$k.exec_own]}")" "$(ratio "${m[$name.exec_own]}" "${m[$k.exec_own]}")"
	line "exec -c web -- true wall (ms)" "$(ms "${m[$name.exec_c]}")" "$(ms "${m[$k.exec_c]}")" "$(ratio "${m[$name.exec_c]}" "${m[$k.exec_c]}")" "<=" 0.5
	read -r pf_speed pf_speed_low pf_speed_high < <(paired "$k" "$name" 1)
	read -r pf_cpu pf_cpu_low pf_cpu_high < <(paired "$name" "$k" 2)
	line "port-forward 100 MB (MB/s)" "$(mbps "${m[$name.pf_us]}")" "$(mbps "${m[$k.pf_us]}")" "$pf_speed" ">=" 1.0
	info "  95% interval of that ratio" "" "" "$pf_speed_low–$pf_speed_high"
	line "port-forward 100 MB CPU (ms)" "$(ms "${m[$name.pf_cpu]}")" "$(ms "${m[$k.pf_cpu]}")" "$pf_cpu" "<=" 0.8
	info "  95% interval of that ratio" "" "" "$pf_cpu_low–$pf_cpu_high"
	line "cp 100 MB wall (s)" "${m[$name.cp_wall]}" "${m[$k.cp_wall]}" "$(ratio "${m[$name.cp_wall]}" "${m[$k.cp_wall]}")" "<=" 1.0
	line "peak RSS exec (MiB)" "$(mib "${exec_rss[$name]}")" "$(mib "${exec_rss[$k]}")" "" "<=" 32 "$(mib "${exec_rss[$name]}")"
	line "peak RSS port-fwd $(((sweeps + 1) * 100)) MB (MiB)" "$(mib "${m[$name.pf_rss]}")" "$(mib "${m[$k.pf_rss]}")" "" "<=" 32 "$(mib "${m[$name.pf_rss]}")"
	line "peak RSS cp (MiB)" "$(mib "${m[$name.cp_rss]}")" "$(mib "${m[$k.cp_rss]}")" "" "<=" 32 "$(mib "${m[$name.cp_rss]}")"
done
