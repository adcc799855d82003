#!/usr/bin/env bash
# cluster.sh: a real Kubernetes control plane (etcd + kube-apiserver) on
# 127.0.0.1, for kcurl's e2e tests, scripts and benchmarks.
#
# This is the project's only implementation of a local cluster. It builds
# pinned binaries from the Go modules in scripts/controlplane/ (cached outside
# the repo, keyed by version), generates a private PKI per state dir, starts
# etcd and kube-apiserver detached from the caller, and writes a KEY=VALUE env
# file that bash (`set -a; . file`) and Go tests read.
#
# Safety rules this script keeps:
#   - every listener binds to 127.0.0.1 and all traffic goes to 127.0.0.1;
#   - a process is signalled only by the pid we recorded, and only after
#     /proc/PID/cmdline shows a flag naming this state dir, so a recycled pid
#     is never killed;
#   - the caller's environment (KUBECONFIG, proxies, ETCD_* flags, ...) never
#     reaches the daemons, and curl ignores proxies and ~/.curlrc.
#
# Run `scripts/cluster.sh help` for usage.

set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
readonly SCRIPT_DIR
readonly LOG_PREFIX=cluster.sh
for lib in versions common procs build pki daemons controlplane; do
	# shellcheck source=/dev/null
	. "$SCRIPT_DIR/lib/$lib.sh"
done
readonly CONTROLPLANE_DIR=$SCRIPT_DIR/controlplane

readonly SA_ISSUER=https://kubernetes.default.svc.cluster.local
readonly SA_AUDIENCE=$SA_ISSUER
readonly SERVICE_CIDR=10.96.0.0/12
# The "kubernetes" Service gets the first address of SERVICE_CIDR; real
# clusters put it in the serving cert, so we do too.
readonly SERVICE_IP=10.96.0.1
readonly HOST=127.0.0.1
readonly READY_TIMEOUT=60     # seconds for kube-apiserver /readyz
readonly ETCD_TIMEOUT=20      # seconds for etcd /health
readonly STOP_TIMEOUT=10      # seconds between TERM and KILL
readonly START_ATTEMPTS=3     # fresh ports per attempt if a port was taken

# Nothing this script runs may be steered by the caller's environment: no
# kubeconfig, no proxy (traffic must stay on 127.0.0.1). The daemons are
# additionally started with `env -i`.
unset KUBECONFIG http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy \
	NO_PROXY no_proxy CURL_HOME OPENSSL_CONF

BIN_CACHE=$(safe_abs_path "$(bin_cache_dir)")
readonly BIN_CACHE
readonly KUBE_BIN_DIR=$BIN_CACHE/kubernetes-$K8S_VERSION
readonly ETCD_BIN_DIR=$BIN_CACHE/etcd-$ETCD_VERSION
readonly APISERVER_BIN=$KUBE_BIN_DIR/kube-apiserver
readonly KUBECTL_BIN=$KUBE_BIN_DIR/kubectl
readonly ETCD_BIN=$ETCD_BIN_DIR/etcd
# The node's binaries (scripts/node.sh), built only by `build node`.
readonly NODE_KUBE_BINS=(kubelet kube-controller-manager kube-scheduler)
readonly CONTAINERD_BIN_DIR=$BIN_CACHE/containerd-$CONTAINERD_VERSION
readonly CONTAINERD_BINS=(containerd containerd-shim-runc-v2 ctr)
readonly RUNC_BIN_DIR=$BIN_CACHE/runc-$RUNC_VERSION
readonly RUNC_BIN=$RUNC_BIN_DIR/runc

if [[ -n ${KCURL_CLUSTER_DIR:-} ]]; then
	STATE_DIR=$KCURL_CLUSTER_DIR
elif [[ -n ${XDG_STATE_HOME:-} ]]; then
	STATE_DIR=$XDG_STATE_HOME/kcurl/cluster
else
	STATE_DIR=$(home_dir)/.local/state/kcurl/cluster
fi
STATE_DIR=$(safe_abs_path "$STATE_DIR")
readonly STATE_DIR

# KCURL_CLUSTER_NETNS names a network namespace (/run/netns/NAME, made by
# scripts/node.sh) that the daemons, their readiness checks and the port
# checks run in, so a real node's Pods can reach the apiserver without
# anything being added to the host's network.
readonly NETNS=${KCURL_CLUSTER_NETNS:-}
IN_NETNS=()
if [[ -n $NETNS ]]; then
	[[ $NETNS =~ ^[A-Za-z0-9_.-]+$ && -e /run/netns/$NETNS ]] ||
		die "KCURL_CLUSTER_NETNS=$NETNS is not a network namespace in /run/netns"
	IN_NETNS=(nsenter "--net=/run/netns/$NETNS")
fi
readonly IN_NETNS
readonly PKI_DIR=$STATE_DIR/pki
readonly ETCD_DATA_DIR=$STATE_DIR/etcd-data
readonly ENV_FILE=$STATE_DIR/env
readonly KUBECONFIG_FILE=$STATE_DIR/admin.kubeconfig
readonly ETCD_LOG=$STATE_DIR/etcd.log
readonly APISERVER_LOG=$STATE_DIR/kube-apiserver.log
readonly ETCD_PIDFILE=$STATE_DIR/etcd.pid
readonly APISERVER_PIDFILE=$STATE_DIR/kube-apiserver.pid
# KCURL_CLUSTER_AUDIT_EXEC=1 at `up`: the apiserver writes an audit event
# for each pods/exec request to AUDIT_LOG, for scripts/bench-stream.sh,
# which splits an exec's wall into the apiserver's part and the client's.
# The policy file's presence is the setting, so a restart keeps it.
readonly AUDIT_POLICY=$STATE_DIR/audit-policy.yaml
readonly AUDIT_LOG=$STATE_DIR/audit.log

# One flag of each daemon's command line that names this state dir exactly.
# A pid is treated as ours only if its /proc/PID/cmdline holds this argument;
# an exact match (not a prefix) keeps /tmp/a from claiming /tmp/ab's daemons.
readonly ETCD_MARKER=--data-dir=$ETCD_DATA_DIR
readonly APISERVER_MARKER=--tls-cert-file=$PKI_DIR/apiserver.crt

# Files removed by the EXIT trap (temp build dirs, half-written files), so an
# interrupted run leaves nothing half-made behind.
CLEANUP=()
trap cleanup EXIT

cmd_build() {
	ensure_kube_binaries
	ensure_etcd_binary
	if [[ ${1:-} == node ]]; then
		ensure_kube_binaries "${NODE_KUBE_BINS[@]}"
		ensure_containerd_binaries
		ensure_runc_binary
		local IFS=,
		log "node binaries: $KUBE_BIN_DIR/{${NODE_KUBE_BINS[*]}} $CONTAINERD_BIN_DIR/{${CONTAINERD_BINS[*]}} $RUNC_BIN"
	fi
	log "binaries: $APISERVER_BIN $KUBECTL_BIN $ETCD_BIN"
}

# --- state dir, lock, processes ------------------------------------------------

# take_state_lock serialises up/down on one state dir. The daemons must not
# inherit this fd (they would hold the lock forever), see start_daemon.
take_state_lock() {
	if [[ ! -d $STATE_DIR ]]; then
		mkdir -p -- "$(dirname -- "$STATE_DIR")"
		mkdir -m 700 -- "$STATE_DIR"
	fi
	exec {STATE_LOCK_FD}>"$STATE_DIR/.lock"
	flock -w 180 "$STATE_LOCK_FD" || die "another cluster.sh holds $STATE_DIR/.lock"
}

cmd_up() {
	ensure_kube_binaries
	ensure_etcd_binary
	take_state_lock
	if cluster_ready; then
		log "reusing the running cluster at $(env_value KCURL_CLUSTER_SERVER) (state dir $STATE_DIR)"
		cat -- "$ENV_FILE"
		return 0
	fi
	# Anything recorded here is stale (dead, hung or half-started): clean it.
	if stop_all; then
		log "stopped a stale cluster from $STATE_DIR"
	fi
	ensure_pki
	write_audit_policy "${KCURL_CLUSTER_AUDIT_EXEC:-}"
	local t0=$EPOCHREALTIME attempt
	for ((attempt = 1; attempt <= START_ATTEMPTS; attempt++)); do
		try_start "$t0"
		[[ $START_RESULT == ready ]] && break
		log "a port was taken while starting; retrying on other ports"
		stop_all || true
		((attempt < START_ATTEMPTS)) || fail_start "gave up after $START_ATTEMPTS attempts"
	done
	write_kubeconfig
	write_env
	local ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
	log "ready in ${ms} ms: https://$HOST:$APISERVER_PORT (env: $ENV_FILE, logs: scripts/cluster.sh logs)"
	cat -- "$ENV_FILE"
}

# --- other subcommands -------------------------------------------------------------

cmd_down() {
	if [[ ! -d $STATE_DIR ]]; then
		log "no cluster in $STATE_DIR"
		return 0
	fi
	take_state_lock
	if stop_all; then
		log "stopped the cluster in $STATE_DIR (logs and PKI kept)"
	else
		log "no cluster was running in $STATE_DIR"
	fi
}

# restart-apiserver [SECONDS]: stop only kube-apiserver, stay down SECONDS
# (default 0), start it again on the same port with the same etcd, PKI and
# flags, and return once /readyz answers: an apiserver restart as clients
# (kcurl proxy) live through it. --feature-gates GATES starts it with those
# gates (an older server's behaviour, as e2e/node's plain SPDY test wants);
# the next restart without it goes back to the defaults.
cmd_restart_apiserver() {
	local gap=0 t0 deadline ms serving=()
	while (($#)); do
		case $1 in
		--serving-cert) serving=("${2:?}" "${3:?}" "${4:?}") && shift 4 ;;
		--feature-gates) check_feature_gates "${2:-}" && APISERVER_FEATURE_GATES=$2 && shift 2 ;;
		*) gap=$1 && shift ;;
		esac
	done
	[[ $gap =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "restart-apiserver takes a number of seconds, got '$gap'"
	take_state_lock
	cluster_running || { log "no cluster is up in $STATE_DIR; run: scripts/cluster.sh up"; exit 3; }
	if ((${#serving[@]})); then
		# A CA rotation's last step: the certificate of the next CA, and the
		# bundle of both CAs as the CA the clients (and our checks) trust.
		cp -- "${serving[0]}" "$PKI_DIR/apiserver.crt"
		cp -- "${serving[1]}" "$PKI_DIR/apiserver.key"
		cp -- "${serving[2]}" "$PKI_DIR/ca.crt"
	fi
	APISERVER_PORT=$(env_value KCURL_CLUSTER_PORT)
	ETCD_CLIENT_PORT=$(env_value KCURL_CLUSTER_ETCD_SERVER)
	ETCD_CLIENT_PORT=${ETCD_CLIENT_PORT##*:}
	ETCD_PID=$(read_pid "$ETCD_PIDFILE")
	stop_pid kube-apiserver "$(read_pid "$APISERVER_PIDFILE")" "$APISERVER_MARKER"
	sleep "$gap"
	t0=$EPOCHREALTIME
	start_apiserver
	deadline=$((${t0%.*} + READY_TIMEOUT))
	until apiserver_ready "$APISERVER_PORT"; do
		if ! alive "$APISERVER_PID"; then
			print_log_tails 40 >&2
			die "kube-apiserver exited while restarting (port $APISERVER_PORT taken?)"
		fi
		((${EPOCHREALTIME%.*} < deadline)) || die "kube-apiserver was not ready within ${READY_TIMEOUT}s"
		sleep 0.1
	done
	write_env
	ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
	log "kube-apiserver restarted on port $APISERVER_PORT, ready in ${ms} ms"
}

cmd_env() {
	if ! cluster_running; then
		log "no cluster is up in $STATE_DIR; run: scripts/cluster.sh up"
		exit 3
	fi
	cat -- "$ENV_FILE"
}

cmd_status() {
	if cluster_running; then
		local server
		server=$(env_value KCURL_CLUSTER_SERVER)
		if apiserver_ready "$(env_value KCURL_CLUSTER_PORT)"; then
			echo "running: $server (kube-apiserver pid $(read_pid "$APISERVER_PIDFILE"), etcd pid $(read_pid "$ETCD_PIDFILE")); state dir $STATE_DIR; env file $ENV_FILE"
			return 0
		fi
		echo "running but not ready: $server; state dir $STATE_DIR (see: scripts/cluster.sh logs)"
		exit 3
	fi
	echo "not running; state dir $STATE_DIR"
	exit 3
}

cmd_logs() {
	case ${1:-} in
	"") print_log_tails 40 ;;
	all | -a | --all)
		local f
		for f in "$ETCD_LOG" "$APISERVER_LOG"; do
			printf '==> %s <==\n' "$f"
			if [[ -f $f ]]; then cat -- "$f"; else echo "(no log)"; fi
		done
		;;
	*[!0-9]*) die "logs takes 'all' or a number of lines" ;;
	*) print_log_tails "$1" ;;
	esac
}

usage() {
	cat <<EOF
Usage: scripts/cluster.sh COMMAND

A real Kubernetes control plane (etcd $ETCD_VERSION + kube-apiserver $K8S_VERSION)
on 127.0.0.1, for kcurl's tests. No scheduler, controller-manager or nodes.

Commands:
  build [node] build the pinned binaries if missing (first time about 4 minutes);
               with node also kubelet, kube-controller-manager, kube-scheduler,
               containerd and runc for scripts/node.sh (about 4 minutes more)
  up           build if needed, start the cluster (or reuse a ready one), print
               the env file; each fresh start has an empty etcd
  down         stop the cluster (logs and PKI are kept, etcd data is not);
               fine when none runs
  env          print the env file (exit 3 if no cluster is up)
  status       say whether the cluster runs and where (exit 3 if not)
  logs [N|all] print the last N (default 40) or all lines of both logs
  restart-apiserver [SECONDS] [--serving-cert CERT KEY CA] [--feature-gates GATES]
               stop kube-apiserver only, stay down SECONDS (default 0), start
               it on the same port and wait until it is ready (etcd keeps its
               data); with --serving-cert it serves CERT and KEY from then on,
               and CA (a bundle) becomes the cluster's CA (scripts/node.sh
               rotate-ca); with --feature-gates (NAME=false,...) it runs with
               those gates until the next restart
  help         this text

Locations:
  state dir    \${KCURL_CLUSTER_DIR:-\${XDG_STATE_HOME:-\$HOME/.local/state}/kcurl/cluster}
               now: $STATE_DIR
               env, admin.kubeconfig, pki/, etcd-data/, *.log, *.pid
  binaries     \${KCURL_BIN_CACHE:-\${XDG_CACHE_HOME:-\$HOME/.cache}/kcurl/bin}
               now: $BIN_CACHE
               kubernetes-$K8S_VERSION/{kube-apiserver,kubectl}, etcd-$ETCD_VERSION/etcd

The env file (plain KEY=VALUE; bash: set -a; . "\$dir/env"; set +a) holds
KCURL_CLUSTER_{DIR,SERVER,HOST,PORT,CA,CLIENT_CA,CLIENT_CA_KEY,ADMIN_CERT,
ADMIN_KEY,ADMIN_KUBECONFIG,KUBECTL,ISSUER,AUDIENCE,VERSION,APISERVER_PID,ETCD_PID,
AUDIT_LOG}.

KCURL_CLUSTER_AUDIT_EXEC=1 at up: the apiserver writes an audit event (its
Metadata, at ResponseComplete) for each pods/exec request to the state dir's
audit.log, named by KCURL_CLUSTER_AUDIT_LOG (empty otherwise).
EOF
}

main() {
	local cmd=${1:-help}
	(($# > 0)) && shift
	case $cmd in
	build) cmd_build "$@" ;;
	up) cmd_up ;;
	down) cmd_down ;;
	env) cmd_env ;;
	status) cmd_status ;;
	logs) cmd_logs "$@" ;;
	restart-apiserver) cmd_restart_apiserver "$@" ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
