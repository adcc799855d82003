#!/usr/bin/env bash
# node.sh: a real one-node Kubernetes cluster on this machine, for kcurl's
# e2e tests and for `scripts/try.sh --pod`: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, a kubelet and containerd with its
# runc shim, all inside a network namespace of its own, running real Pods
# from images built here (nothing is pulled).
#
# Why each piece is set up as it is: ../shared/FACTS.md ("A real node"), and
# docs/architecture.md ("Tests"). In short:
#   - the network namespace holds 10.96.0.1 (the kubernetes Service) and the
#     node IP 10.250.0.1 on its loopback; the apiserver listens on 0.0.0.0:443
#     there, and Pods on the CNI bridge (10.244.0.0/24) reach it through their
#     gateway. Nothing is added to the host's interfaces, routes or iptables;
#   - cgroup v1 and no CAP_SYS_RESOURCE: kubelet with failCgroupV1: false,
#     cgroupfs, no QoS cgroups; containerd with restrict_oom_score_adj;
#   - every daemon is signalled only by its recorded pid after its command
#     line shows this state dir; containers are stopped by the pids
#     containerd records; mounts under the state dir and the namespace are
#     removed by `down`.
#
# usage: scripts/node.sh up|down|env|kubectl ARGS...|exec CMD...|import FILE|logs [N]|
#        rotate-ca publish FILE|rotate-ca serve-next|
#        restart-apiserver [--feature-gates GATES]|restart-kubelet [--feature-gates GATES]|
#        stop-kubelet|help
# The state dir is ${KCURL_NODE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/kcurl/node}.
set -euo pipefail

unset KUBECONFIG http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy \
	NO_PROXY no_proxy CURL_HOME OPENSSL_CONF CONTAINERD_ADDRESS CONTAINERD_NAMESPACE

readonly SERVICE_IP=10.96.0.1
readonly NODE_IP=10.250.0.1
readonly POD_CIDR=10.244.0.0/24
readonly NODE_NAME=kcurl-node
readonly READY_TIMEOUT=90 # seconds for the node to be Ready
readonly STOP_TIMEOUT=10
# The images every node has, made by scripts/image.sh node-images.
readonly PAUSE_IMAGE=localhost/kcurl-e2e/pause:1


SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
readonly SCRIPT_DIR
readonly LOG_PREFIX=node.sh
# log, die, env_file_value.
# shellcheck source=lib/common.sh
. "$SCRIPT_DIR/lib/common.sh"
# alive, is_ours: the daemons' ownership check, shared with cluster.sh.
# shellcheck source=lib/procs.sh
. "$SCRIPT_DIR/lib/procs.sh"
# shellcheck source=lib/deps.sh
. "$SCRIPT_DIR/lib/deps.sh"
# shellcheck source=lib/versions.sh
. "$SCRIPT_DIR/lib/versions.sh"
# shellcheck source=lib/pki.sh
. "$SCRIPT_DIR/lib/pki.sh"
[[ $(id -u) == 0 ]] || die "a node needs root (network namespace, mounts, containers)"

state=${KCURL_NODE_DIR:-${XDG_STATE_HOME:-${HOME:?set HOME or KCURL_NODE_DIR}/.local/state}/kcurl/node}
mkdir -p -- "$state"
S=$(realpath -- "$state")
readonly S
[[ $S =~ ^/[A-Za-z0-9._/+@,:-]*$ ]] || die "state dir '$S' has characters this script does not quote"
# Unix socket paths are limited to 107 bytes; containerd's sockets live here.
((${#S} <= 60)) || die "state dir '$S' is too long for containerd's sockets (60 characters at most)"
# A user-namespace Pod (hostUsers: false) starts as an unmapped uid, which
# walks to its rootfs under the state dir: every directory above it must be
# searchable by others.
unsearchable() {
	local d=$S
	while [[ $d != / ]]; do
		[[ $(stat -c %A -- "$d") == ?????????[xt] ]] || {
			printf '%s\n' "$d"
			return 0
		}
		d=$(dirname -- "$d")
	done
}
readonly CP=$S/cp # scripts/cluster.sh's state dir
readonly ENV_FILE=$S/env
# One namespace per state dir, named from its path.
NETNS=kcurl-$(printf '%s' "$S" | sha256sum | cut -c1-10)
readonly NETNS
readonly IN_NETNS=(nsenter "--net=/run/netns/$NETNS")

# The binaries, where `scripts/cluster.sh build node` puts them.
bin_cache=${KCURL_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kcurl/bin}
readonly KUBE_BIN=$bin_cache/kubernetes-$K8S_VERSION
readonly CTRD_BIN=$bin_cache/containerd-$CONTAINERD_VERSION
readonly RUNC_BIN=$bin_cache/runc-$RUNC_VERSION/runc

# --- processes ---------------------------------------------------------------------

pid_of() { cat "$S/$1.pid" 2>/dev/null || true; }

# daemon NAME MARKER ARGS...: start ARGS in the namespace, detached, with an
# empty environment but PATH; MARKER (an argument naming this state dir) is
# how `down` recognises it.
daemon() {
	local name=$1 marker=$2
	shift 2
	: >"$S/$name.log"
	setsid nohup "${IN_NETNS[@]}" env -i PATH="$CTRD_BIN:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$S" "$@" \
		</dev/null >>"$S/$name.log" 2>&1 {STATE_LOCK_FD}>&- &
	disown $!
	printf '%s\n' "$!" >"$S/$name.pid"
	printf '%s\n' "$marker" >"$S/$name.marker"
	log "started $name (pid $!, log $S/$name.log)"
}

stop_daemon() {
	local name=$1 pid marker i
	pid=$(pid_of "$name")
	marker=$(cat "$S/$name.marker" 2>/dev/null || true)
	if [[ -n $marker ]] && is_ours "$pid" "$marker"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
			is_ours "$pid" "$marker" || break
			sleep 0.1
		done
		if is_ours "$pid" "$marker"; then
			log "$name (pid $pid) ignored TERM; sending KILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
		fi
		log "stopped $name (pid $pid)"
	fi
	rm -f -- "$S/$name.pid" "$S/$name.marker"
}

# --- configuration -----------------------------------------------------------------

kubeconfig_copy() { # NAME: the node's admin kubeconfig under a name of its own (a marker)
	cp -- "$S/admin.kubeconfig" "$S/$1.kubeconfig"
	printf '%s\n' "$S/$1.kubeconfig"
}

# make_next_pki: a second CA and a serving certificate it signs, for the CA
# rotation that `rotate-ca` plays. The node's own clients (kubelet,
# controllers, the tests' kubectl) trust both CAs from the start, as a
# cluster mid-rotation does, so only what the Pods trust changes.
make_next_pki() {
	local d=$S/pki-next
	rm -rf -- "$d"
	mkdir -m 700 -p -- "$d"
	(
		umask 077
		write_openssl_cnf "$d/openssl.cnf"
		new_ca "$d" ca kcurl-serving-ca-next
		new_cert "$d" apiserver ca /CN=kube-apiserver apiserver
	) || die "making the next CA failed"
	chmod 644 "$d/ca.crt"
	cat -- "$(cluster_value KCURL_CLUSTER_CA)" "$d/ca.crt" >"$S/trust.crt"
	sed "s|certificate-authority: .*|certificate-authority: $S/trust.crt|" \
		"$(cluster_value KCURL_CLUSTER_ADMIN_KUBECONFIG)" >"$S/admin.kubeconfig"
}

# cluster_value KEY: KEY from the control plane's env file (cluster.sh's
# interface: its paths are read there, never guessed).
cluster_value() { env_file_value "$CP/env" "$1" || die "$1 is not in $CP/env"; }

write_containerd_config() {
	mkdir -p "$S/containerd" "$S/cni/net.d" "$S/cni/ipam"
	cat >"$S/containerd/config.toml" <<EOF
version = 3
root = "$S/containerd/root"
state = "$S/containerd/state"
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$S/containerd/containerd.sock"
[ttrpc]
  address = "$S/containerd/containerd.sock.ttrpc"

[plugins.'io.containerd.internal.v1.opt']
  path = "$S/containerd/opt"
[plugins.'io.containerd.grpc.v1.cri']
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$PAUSE_IMAGE"
[plugins.'io.containerd.cri.v1.runtime']
  # The machine lacks CAP_SYS_RESOURCE: runc must not lower oom_score_adj.
  restrict_oom_score_adj = true
  enable_unprivileged_ports = false
  enable_unprivileged_icmp = false
  netns_mounts_under_state_dir = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$S/cni/net.d"
    max_conf_num = 1
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "$RUNC_BIN"
        Root = "$S/containerd/runc"
        SystemdCgroup = false
EOF
	cat >"$S/cni/net.d/10-kcurl.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "kcurl-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$S/cni/ipam"
      }
    },
    {"type": "loopback"}
  ]
}
EOF
}

write_kubelet_config() {
	mkdir -p "$S/kubelet/root" "$S/kubelet/pki" "$S/pod-logs"
	cat >"$S/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 and no QoS hierarchy: see FACTS.md.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
# Reachable only inside the namespace; the apiserver is its only client.
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$S/containerd/containerd.sock
podLogsDir: $S/pod-logs
clusterDomain: cluster.local
# Quick to pick up changed ConfigMaps (kube-root-ca.crt) and tokens.
syncFrequency: 5s
# The imported images are all there is: never collect them, never evict.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {}
serializeImagePulls: false
registerNode: true
EOF
}

# --- up --------------------------------------------------------------------------

make_netns() {
	if [[ ! -e /run/netns/$NETNS ]]; then
		ip netns add "$NETNS"
		printf '%s\n' "$NETNS" >"$S/netns"
	fi
	ip -n "$NETNS" link set lo up
	local a
	for a in "$SERVICE_IP/32" "$NODE_IP/32"; do
		ip -n "$NETNS" addr show dev lo | grep -q " ${a%/32}/" || ip -n "$NETNS" addr add "$a" dev lo
	done
}

in_ns_kubectl() {
	"${IN_NETNS[@]}" env -i PATH=/usr/bin:/bin HOME="$S" "$KUBE_BIN/kubectl" --kubeconfig "$S/admin.kubeconfig" "$@"
}

wait_for() { # SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.3
	done
}

node_ready() {
	[[ $(in_ns_kubectl get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}{range .spec.taints[*]}{.key}{end}') == True ]]
}

ctr_() { "$CTRD_BIN/ctr" --address "$S/containerd/containerd.sock" -n k8s.io "$@"; }

cmd_up() {
	deps_ensure node || die "the node needs the packages above (scripts/test.sh installs them as root)"
	"$SCRIPT_DIR/cluster.sh" build node
	if [[ -f $ENV_FILE ]] && node_ready; then
		log "reusing the running node (state dir $S)"
		cat -- "$ENV_FILE"
		return 0
	fi
	cmd_down quiet
	local t0=$SECONDS
	local closed
	closed=$(unsearchable)
	[[ -z $closed ]] || log "warning: $closed is not searchable by others: Pods with hostUsers: false will fail to start (chmod o+x it)"
	# A start that fails part-way leaves nothing running or mounted.
	trap 'log "start-up failed; cleaning up"; cmd_down quiet' ERR
	make_netns
	KCURL_CLUSTER_DIR=$CP KCURL_CLUSTER_NETNS=$NETNS "$SCRIPT_DIR/cluster.sh" up >/dev/null {STATE_LOCK_FD}>&-
	cp -- "$(cluster_value KCURL_CLUSTER_CA)" "$S/root-ca.crt"
	make_next_pki

	write_containerd_config
	daemon containerd "--config=$S/containerd/config.toml" \
		"$CTRD_BIN/containerd" "--config=$S/containerd/config.toml"
	wait_for 20 ctr_ version || {
		tail -20 "$S/containerd.log" >&2
		cmd_down quiet
		die "containerd did not start"
	}
	local archive
	for archive in "${NODE_IMAGES[@]}"; do cmd_import "$archive"; done

	start_controllers
	write_kubelet_config
	start_kubelet
	if ! wait_for "$READY_TIMEOUT" node_ready; then
		tail -30 "$S/kubelet.log" >&2
		cmd_down quiet
		die "the node was not Ready within ${READY_TIMEOUT}s (logs: scripts/node.sh logs)"
	fi
	trap - ERR
	write_env
	log "node $NODE_NAME ready in $((SECONDS - t0)) s (netns $NETNS, state dir $S)"
	cat -- "$ENV_FILE"
}

# start_kubelet [FEATURE-GATES]: the kubelet, with those gates if given.
start_kubelet() {
	daemon kubelet "--config=$S/kubelet/config.yaml" "$KUBE_BIN/kubelet" \
		"--config=$S/kubelet/config.yaml" \
		--kubeconfig="$(kubeconfig_copy kubelet)" \
		--root-dir="$S/kubelet/root" \
		--cert-dir="$S/kubelet/pki" \
		--node-ip="$NODE_IP" \
		--hostname-override="$NODE_NAME" \
		${1:+"--feature-gates=$1"} \
		--v=1
}

# start_controllers: the controllers a real Pod needs (service accounts and
# their tokens, kube-root-ca.crt for projected tokens, aggregated roles,
# namespace deletion, garbage collection, the node's taints) and the
# scheduler. kube-controller-manager publishes $S/root-ca.crt as
# kube-root-ca.crt; `rotate-ca` restarts it with another bundle.
start_controllers() {
	local kcm_kubeconfig sched_kubeconfig
	kcm_kubeconfig=$(kubeconfig_copy kube-controller-manager)
	daemon kube-controller-manager "--kubeconfig=$kcm_kubeconfig" "$KUBE_BIN/kube-controller-manager" \
		"--kubeconfig=$kcm_kubeconfig" \
		--leader-elect=false \
		--secure-port=0 \
		--controllers=serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,clusterrole-aggregation-controller,namespace-controller,garbage-collector-controller,node-lifecycle-controller,taint-eviction-controller,replicaset-controller,deployment-controller,job-controller \
		--service-account-private-key-file="$(cluster_value KCURL_CLUSTER_SA_KEY)" \
		--root-ca-file="$S/root-ca.crt" \
		--use-service-account-credentials=false
	if [[ ! -f $S/kube-scheduler.pid ]]; then
		sched_kubeconfig=$(kubeconfig_copy kube-scheduler)
		daemon kube-scheduler "--kubeconfig=$sched_kubeconfig" "$KUBE_BIN/kube-scheduler" \
			"--kubeconfig=$sched_kubeconfig" --leader-elect=false --secure-port=0
	fi
}

cmd_import() { # FILE: a docker-archive, imported under its own name
	[[ -f $1 ]] || die "no image archive at $1"
	ctr_ images import --snapshotter overlayfs "$1" >/dev/null
	log "imported $(basename -- "$1")"
}

write_env() {
	{
		cat -- "$CP/env"
		cat <<EOF
KCURL_NODE_DIR=$S
KCURL_NODE_NETNS=$NETNS
KCURL_NODE_NAME=$NODE_NAME
KCURL_NODE_IP=$NODE_IP
KCURL_NODE_SERVICE_IP=$SERVICE_IP
KCURL_NODE_KUBECONFIG=$S/admin.kubeconfig
KCURL_NODE_NEXT_CA=$S/pki-next/ca.crt
KCURL_NODE_KUBECTL=$KUBE_BIN/kubectl
KCURL_NODE_ROOT_CA=$S/root-ca.crt
EOF
	} >"$ENV_FILE.tmp"
	mv -f -- "$ENV_FILE.tmp" "$ENV_FILE"
}

# --- down --------------------------------------------------------------------------

# stop_containers kills every container and shim that containerd recorded
# in this state dir: the containers outlive containerd.
stop_containers() {
	local f pid ppid
	shopt -s nullglob
	for f in "$S"/containerd/state/io.containerd.runtime.v2.task/*/*/init.pid; do
		pid=$(cat "$f" 2>/dev/null) || continue
		[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || continue
		ppid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null || true)
		kill -KILL "$pid" 2>/dev/null || true
		# The parent is the shim when its command line names our containerd.
		if [[ -n $ppid ]] && is_ours "$ppid" "$S/containerd/containerd.sock"; then
			kill -KILL "$ppid" 2>/dev/null || true
		fi
	done
	# Shims whose container already died.
	for f in /proc/[0-9]*; do
		pid=${f#/proc/}
		is_ours "$pid" "$S/containerd/containerd.sock" && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */containerd-shim-runc-v2 ]] &&
			kill -KILL "$pid" 2>/dev/null || true
	done
	shopt -u nullglob
}

unmount_all() { # every mount under the state dir, deepest first
	local m i
	local -a mounts=()
	mapfile -t mounts < <(awk -v p="$S/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r)
	for m in "${mounts[@]}"; do
		umount -- "$m" 2>/dev/null || umount -l -- "$m" 2>/dev/null || log "could not unmount $m"
	done
}

cmd_down() {
	[[ ${1:-} == quiet ]] || log "stopping the node in $S"
	stop_daemon kubelet
	stop_containers
	stop_daemon containerd
	stop_daemon kube-scheduler
	stop_daemon kube-controller-manager
	if [[ -d $CP ]]; then KCURL_CLUSTER_DIR=$CP "$SCRIPT_DIR/cluster.sh" down 2>/dev/null || true; fi
	sleep 0.2
	unmount_all
	if [[ -e /run/netns/$NETNS ]]; then ip netns delete "$NETNS"; fi
	rm -f -- "$ENV_FILE" "$S/netns"
	# Container state and layers go; logs stay for a look afterwards.
	rm -rf -- "$S/containerd/root" "$S/containerd/state" "$S/containerd/runc" "$S/kubelet/root" "$S/cni/ipam"
	# A CA rotation changes the control plane's PKI: every up starts anew.
	rm -rf -- "$CP/pki" "$S/pki-next" # cluster.sh makes a new one at the next up
}

# --- the rest ----------------------------------------------------------------------

cmd_logs() {
	local f n=${1:-40}
	for f in "$S"/*.log "$CP"/*.log; do
		[[ -f $f ]] || continue
		printf '==> %s <==\n' "$f"
		tail -n "$n" -- "$f"
	done
}

# A CA rotation as a real cluster does it, in steps:
#   rotate-ca publish FILE  kube-controller-manager publishes FILE (a PEM
#                           bundle) as kube-root-ca.crt in every namespace;
#                           the kubelet then rewrites every Pod's ca.crt
#   rotate-ca serve-next    the apiserver serves the next CA's certificate
#                           (restarted, so every connection is made anew)
cmd_rotate_ca() {
	case ${1:-} in
	publish)
		[[ -f ${2:-} ]] || die "rotate-ca publish takes a PEM bundle"
		cp -- "$2" "$S/root-ca.crt.tmp"
		mv -f -- "$S/root-ca.crt.tmp" "$S/root-ca.crt"
		stop_daemon kube-controller-manager
		start_controllers
		;;
	serve-next) cmd_restart_apiserver --serving-cert "$S/pki-next/apiserver.crt" "$S/pki-next/apiserver.key" "$S/trust.crt" ;;
	*) die "usage: rotate-ca publish FILE | serve-next" ;;
	esac
}

# restart-apiserver [--feature-gates GATES]: the node's apiserver restarted,
# with those gates until the next restart (cluster.sh restart-apiserver,
# which takes --serving-cert too: rotate-ca).
cmd_restart_apiserver() {
	KCURL_CLUSTER_DIR=$CP KCURL_CLUSTER_NETNS=$NETNS "$SCRIPT_DIR/cluster.sh" restart-apiserver "$@" {STATE_LOCK_FD}>&-
}

# restart-kubelet [--feature-gates GATES]: the kubelet restarted, with those
# gates until the next restart; the Pods run on in containerd meanwhile.
# Returns once the node is Ready again.
cmd_restart_kubelet() {
	local gates=
	case ${1:-} in
	'') ;;
	--feature-gates) check_feature_gates "${2:-}" && gates=$2 ;;
	*) die "usage: restart-kubelet [--feature-gates NAME=true|false,...]" ;;
	esac
	[[ -f $ENV_FILE ]] || die "no node is up in $S"
	stop_daemon kubelet
	start_kubelet "$gates"
	# The node's Ready condition lags the restart by a heartbeat; the
	# kubelet's API port (where the apiserver sends exec and port-forward)
	# says when it serves again.
	wait_for "$READY_TIMEOUT" "${IN_NETNS[@]}" curl -q -fsSk --noproxy '*' "https://$NODE_IP:10250/healthz" &&
		wait_for "$READY_TIMEOUT" node_ready ||
		die "the kubelet was not healthy within ${READY_TIMEOUT}s after its restart (logs: scripts/node.sh logs)"
	log "kubelet restarted${gates:+ with --feature-gates=$gates}"
}

# stop-kubelet: the kubelet stopped, the Pods running on in containerd:
# the apiserver then refuses exec and port-forward ("error dialing
# backend"), as while a node's kubelet restarts. restart-kubelet starts it.
cmd_stop_kubelet() {
	[[ -f $ENV_FILE ]] || die "no node is up in $S"
	stop_daemon kubelet
	log "kubelet stopped (scripts/node.sh restart-kubelet starts it)"
}

usage() { sed -n '2,25s/^# \{0,1\}//p' "$0"; }

# take_state_lock: one up, down, import or rotation of a state dir at a
# time (try.sh --pod and a test may share the default one). Every daemon is
# started without the lock's descriptor, or it would hold the lock forever.
take_state_lock() {
	exec {STATE_LOCK_FD}>"$S/.lock"
	flock -w 300 "$STATE_LOCK_FD" || die "another node.sh holds $S/.lock"
}

NODE_IMAGES=()
main() {
	local cmd=${1:-help}
	(($# > 0)) && shift
	case $cmd in
	up)
		# Image archives to import: KCURL_NODE_IMAGES (space-separated paths).
		read -r -a NODE_IMAGES <<<"${KCURL_NODE_IMAGES:-}"
		take_state_lock
		cmd_up
		;;
	down) take_state_lock; cmd_down ;;
	env) [[ -f $ENV_FILE ]] && cat -- "$ENV_FILE" || die "no node is up in $S" ;;
	kubectl) in_ns_kubectl "$@" ;;
	exec) "${IN_NETNS[@]}" "$@" ;;
	import) take_state_lock; cmd_import "$@" ;;
	rotate-ca) take_state_lock; cmd_rotate_ca "$@" ;;
	restart-apiserver) take_state_lock; cmd_restart_apiserver "$@" ;;
	restart-kubelet) take_state_lock; cmd_restart_kubelet "$@" ;;
	stop-kubelet) take_state_lock; cmd_stop_kubelet ;;
	logs) cmd_logs "$@" ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
