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

readonly K8S_VERSION=v1.37.2
readonly ETCD_VERSION=v3.6.16
readonly CONTAINERD_VERSION=v2.4.2
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

log() { printf 'cluster.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
readonly SCRIPT_DIR
# shellcheck source=lib/procs.sh
. "$SCRIPT_DIR/lib/procs.sh"
readonly CONTROLPLANE_DIR=$SCRIPT_DIR/controlplane

# home_dir is only consulted when no explicit/XDG location was given, so a
# caller that sets KCURL_CLUSTER_DIR and KCURL_BIN_CACHE needs no HOME.
home_dir() {
	[[ -n ${HOME:-} ]] || die "HOME is not set; set KCURL_CLUSTER_DIR and KCURL_BIN_CACHE"
	printf '%s\n' "$HOME"
}

# safe_abs_path makes a path absolute and refuses characters that would need
# quoting: the env file is plain KEY=VALUE (no quotes) for bash and Go alike,
# and the kubeconfig uses plain YAML scalars.
safe_abs_path() {
	local p
	p=$(realpath -m -- "$1")
	[[ $p =~ ^/[A-Za-z0-9._/+@,:-]*$ ]] ||
		die "path '$p' contains characters this script does not quote (allowed: A-Z a-z 0-9 . _ / + @ , : -)"
	printf '%s\n' "$p"
}

if [[ -n ${KCURL_BIN_CACHE:-} ]]; then
	BIN_CACHE=$KCURL_BIN_CACHE
elif [[ -n ${XDG_CACHE_HOME:-} ]]; then
	BIN_CACHE=$XDG_CACHE_HOME/kcurl/bin
else
	BIN_CACHE=$(home_dir)/.cache/kcurl/bin
fi
BIN_CACHE=$(safe_abs_path "$BIN_CACHE")
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

# One flag of each daemon's command line that names this state dir exactly.
# A pid is treated as ours only if its /proc/PID/cmdline holds this argument;
# an exact match (not a prefix) keeps /tmp/a from claiming /tmp/ab's daemons.
readonly ETCD_MARKER=--data-dir=$ETCD_DATA_DIR
readonly APISERVER_MARKER=--tls-cert-file=$PKI_DIR/apiserver.crt

# Files removed by the EXIT trap (temp build dirs, half-written files), so an
# interrupted run leaves nothing half-made behind.
CLEANUP=()
cleanup() {
	local p
	for p in "${CLEANUP[@]}"; do
		rm -rf -- "$p"
	done
}
trap cleanup EXIT

# --- build -------------------------------------------------------------------

# kube_ldflags stamps the version. kube-apiserver --version and kubectl
# version --client read k8s.io/component-base/version; client-go's
# k8s.io/client-go/pkg/version feeds the User-Agent of the clients built into
# both. Kubernetes' own hack/lib/version.sh sets the same variables in both
# packages, and so do we.
kube_ldflags() {
	local v=${K8S_VERSION#v} major minor pkg flags="-s -w"
	major=${v%%.*}
	minor=${v#*.}
	minor=${minor%%.*}
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
		# The source is the tagged module from the proxy, unmodified; its commit
		# is unknown here, so blank the "$Format:%H$" placeholder rather than
		# print it.
		flags+=" -X $pkg.gitTreeState=clean -X $pkg.gitCommit="
	done
	printf '%s\n' "$flags"
}

# go_build MODULE_DIR OUT_DIR LDFLAGS PACKAGE... builds with the committed
# go.sum only (-mod=readonly), the machine's own toolchain (no silent
# toolchain download) and no go.work from an enclosing directory.
# -buildvcs=false: these modules sit inside kcurl's git repo, whose VCS state
# says nothing about the pinned binaries (and fails on a repo with no commits).
go_build() {
	local moddir=$1 out=$2 ldflags=$3
	shift 3
	command -v go >/dev/null || die "go is not installed; it is needed once to build the control plane"
	(
		cd -- "$moddir"
		export GOTOOLCHAIN=local GOWORK=off
		unset GOOS GOARCH # the binaries run here
		go build -mod=readonly -buildvcs=false -trimpath -ldflags "$ldflags" -o "$out/" "$@"
	)
}

# take_build_lock serialises builds into one cache dir, so two concurrent
# `up`s (parallel test packages) do not both spend minutes building.
take_build_lock() {
	mkdir -p -- "$1"
	exec {BUILD_LOCK_FD}>"$1/.build.lock"
	flock "$BUILD_LOCK_FD"
}
release_build_lock() {
	exec {BUILD_LOCK_FD}>&-
}

# ensure_kube_binaries [NAME...]: kube-apiserver and kubectl, and the named
# other commands of k8s.io/kubernetes/cmd (the node's).
ensure_kube_binaries() {
	local want=(kube-apiserver kubectl "$@") missing=() n
	for n in "${want[@]}"; do
		[[ -x $KUBE_BIN_DIR/$n ]] || missing+=("$n")
	done
	((${#missing[@]} > 0)) || return 0
	take_build_lock "$KUBE_BIN_DIR"
	# Another process may have finished the build while we waited.
	local pkgs=() names=() tmp
	for n in "${missing[@]}"; do
		[[ -x $KUBE_BIN_DIR/$n ]] && continue
		pkgs+=("k8s.io/kubernetes/cmd/$n")
		names+=("$n")
	done
	if ((${#pkgs[@]} > 0)); then
		local what="${names[*]}"
		what=${what// / and }
		log "building $what $K8S_VERSION from the pinned Go modules (first time only, 2 to 4 minutes each group)…"
		# Build into a temp dir beside the target and rename into place: the
		# cache never holds a half-written binary, even if interrupted.
		tmp=$(mktemp -d "$KUBE_BIN_DIR/.build.XXXXXX")
		CLEANUP+=("$tmp")
		go_build "$CONTROLPLANE_DIR/kube" "$tmp" "$(kube_ldflags)" "${pkgs[@]}" ||
			die "building $what failed (see the go output above)"
		if [[ -e $tmp/kube-apiserver ]]; then
			[[ $(env -i "$tmp/kube-apiserver" --version) == "Kubernetes $K8S_VERSION" ]] ||
				die "the built kube-apiserver does not report $K8S_VERSION"
		fi
		if [[ -e $tmp/kubectl ]]; then
			env -i "$tmp/kubectl" version --client | grep -qx "Client Version: $K8S_VERSION" ||
				die "the built kubectl does not report $K8S_VERSION"
		fi
		for n in "${names[@]}"; do
			mv -f -- "$tmp/$n" "$KUBE_BIN_DIR/$n"
		done
		rm -rf -- "$tmp"
		log "built $what into $KUBE_BIN_DIR"
	fi
	release_build_lock
}

ensure_etcd_binary() {
	[[ -x $ETCD_BIN ]] && return 0
	take_build_lock "$ETCD_BIN_DIR"
	if [[ ! -x $ETCD_BIN ]]; then
		log "building etcd $ETCD_VERSION from the pinned Go modules (first time only, about 1 minute)…"
		local tmp
		tmp=$(mktemp -d "$ETCD_BIN_DIR/.build.XXXXXX")
		CLEANUP+=("$tmp")
		go_build "$CONTROLPLANE_DIR/etcd" "$tmp" "-s -w" . ||
			die "building etcd failed (see the go output above)"
		# The module's main package is named after its directory: etcd.
		env -i "$tmp/etcd" --version | grep -qx "etcd Version: ${ETCD_VERSION#v}" ||
			die "the built etcd does not report ${ETCD_VERSION#v}"
		mv -f -- "$tmp/etcd" "$ETCD_BIN"
		rm -rf -- "$tmp"
		log "built etcd into $ETCD_BIN_DIR"
	fi
	release_build_lock
}

# ensure_containerd_binaries: containerd, its runc shim and ctr for the
# node. CGO off and no btrfs/devmapper/zfs snapshotters: the node uses
# overlayfs, and a static build needs no C headers.
ensure_containerd_binaries() {
	local n missing=0
	for n in "${CONTAINERD_BINS[@]}"; do [[ -x $CONTAINERD_BIN_DIR/$n ]] || missing=1; done
	((missing)) || return 0
	take_build_lock "$CONTAINERD_BIN_DIR"
	if [[ ! -x $CONTAINERD_BIN_DIR/ctr ]]; then
		log "building containerd $CONTAINERD_VERSION from the pinned Go modules (first time only, about 1 minute)…"
		local tmp pkgs=()
		tmp=$(mktemp -d "$CONTAINERD_BIN_DIR/.build.XXXXXX")
		CLEANUP+=("$tmp")
		for n in "${CONTAINERD_BINS[@]}"; do pkgs+=("github.com/containerd/containerd/v2/cmd/$n"); done
		CGO_ENABLED=0 go_build "$CONTROLPLANE_DIR/containerd" "$tmp" \
			"-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
			-tags "no_btrfs no_devmapper no_zfs" "${pkgs[@]}" ||
			die "building containerd failed (see the go output above)"
		env -i "$tmp/containerd" --version | grep -q " $CONTAINERD_VERSION" ||
			die "the built containerd does not report $CONTAINERD_VERSION"
		# ctr last: its presence says the set is complete.
		for n in containerd containerd-shim-runc-v2 ctr; do mv -f -- "$tmp/$n" "$CONTAINERD_BIN_DIR/$n"; done
		rm -rf -- "$tmp"
		log "built containerd into $CONTAINERD_BIN_DIR"
	fi
	release_build_lock
}

cmd_build() {
	ensure_kube_binaries
	ensure_etcd_binary
	if [[ ${1:-} == node ]]; then
		ensure_kube_binaries "${NODE_KUBE_BINS[@]}"
		ensure_containerd_binaries
		local IFS=,
		log "node binaries: $KUBE_BIN_DIR/{${NODE_KUBE_BINS[*]}} $CONTAINERD_BIN_DIR/{${CONTAINERD_BINS[*]}}"
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

read_pid() {
	local pid=
	if [[ -f $1 ]]; then read -r pid <"$1" || true; fi
	printf '%s\n' "$pid"
}

# stop_pid NAME PID MARKER: TERM, wait up to STOP_TIMEOUT, then KILL. Every
# signal is preceded by the ownership check.
stop_pid() {
	local name=$1 pid=$2 marker=$3 i
	is_ours "$pid" "$marker" || return 0
	log "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		is_ours "$pid" "$marker" || return 0
		sleep 0.1
	done
	if is_ours "$pid" "$marker"; then
		log "$name (pid $pid) ignored TERM for ${STOP_TIMEOUT}s; sending KILL"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			is_ours "$pid" "$marker" || return 0
			sleep 0.1
		done
		die "$name (pid $pid) is still running after KILL"
	fi
}

# stop_all stops whatever this state dir recorded (apiserver first, it is
# etcd's client) and forgets the cluster (pids, env file, etcd data). Logs,
# PKI and the kubeconfig stay. Returns 0 if it stopped something, 1 if
# nothing was running.
stop_all() {
	local stopped=1 apid epid
	apid=$(read_pid "$APISERVER_PIDFILE")
	epid=$(read_pid "$ETCD_PIDFILE")
	if is_ours "$apid" "$APISERVER_MARKER"; then
		stop_pid kube-apiserver "$apid" "$APISERVER_MARKER"
		stopped=0
	fi
	if is_ours "$epid" "$ETCD_MARKER"; then
		stop_pid etcd "$epid" "$ETCD_MARKER"
		stopped=0
	fi
	rm -f -- "$APISERVER_PIDFILE" "$ETCD_PIDFILE" "$ENV_FILE"
	# Every `up` starts from an empty etcd, so its data has no further use, and
	# the preallocated WAL alone is 64 MB per state dir.
	rm -rf -- "$ETCD_DATA_DIR"
	return "$stopped"
}

# start_daemon NAME PIDFILE LOGFILE BINARY ARGS... starts a daemon that
# outlives this script: setsid (own session, no controlling terminal, not in
# the caller's process group), nohup, stdin from /dev/null, output to the log,
# the state lock fd closed, and an empty environment (etcd reads ETCD_* env
# vars as flags; proxies and KUBECONFIG must not leak in). bash runs
# background commands of a script outside job control, so setsid need not
# fork and $! is the daemon's own pid. Sets REPLY to the pid.
start_daemon() {
	local name=$1 pidfile=$2 logfile=$3
	shift 3
	: >"$logfile"
	setsid nohup "${IN_NETNS[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$STATE_DIR" "$@" \
		</dev/null >>"$logfile" 2>&1 {STATE_LOCK_FD}>&- &
	REPLY=$!
	# Not a job of ours: no "Killed" notices from bash if we must KILL it.
	disown "$REPLY"
	printf '%s\n' "$REPLY" >"$pidfile.tmp"
	mv -f -- "$pidfile.tmp" "$pidfile"
	log "started $name (pid $REPLY, log $logfile)"
}

# --- ports ---------------------------------------------------------------------

port_in_use() {
	if command -v ss >/dev/null; then
		# Any listener on that port number, on any address.
		[[ -n $("${IN_NETNS[@]}" ss -Hltn "sport = :$1" 2>/dev/null) ]]
	else
		(exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
	fi
}

# pick_ports sets ETCD_CLIENT_PORT, ETCD_PEER_PORT and APISERVER_PORT to
# distinct free ports. It prefers 20000 up to the kernel's ephemeral range
# (32768 by default), where outgoing connections never take a port between
# our check and the daemon's bind; a bind that still loses a race is retried
# by cmd_up with new ports.
pick_ports() {
	local lo=20000 hi=60000 eph_lo=32768 p tries
	local -a picked=()
	read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	if ((eph_lo - 1 - lo >= 1000)); then
		hi=$((eph_lo - 1))
	fi
	while ((${#picked[@]} < 3)); do
		for ((tries = 0; ; tries++)); do
			((tries < 200)) || die "found no free port in $lo-$hi"
			p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
			[[ " ${picked[*]} " == *" $p "* ]] && continue
			port_in_use "$p" || break
		done
		picked+=("$p")
	done
	ETCD_CLIENT_PORT=${picked[0]}
	ETCD_PEER_PORT=${picked[1]}
	APISERVER_PORT=${picked[2]}
	# In a node's namespace the apiserver is where a Pod looks for it: every
	# address, port 443 (10.96.0.1:443 is the kubernetes Service).
	if [[ -n $NETNS ]]; then APISERVER_PORT=443; fi
}

# --- PKI -------------------------------------------------------------------------

# openssl gets its own config (not the machine's openssl.cnf), so the
# certificates have exactly these extensions wherever this runs.
write_openssl_cnf() {
	cat >"$1" <<EOF
[req]
distinguished_name = req_dn
[req_dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[apiserver]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1,IP:::1,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[etcd_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1,DNS:localhost
EOF
}

ec_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# new_ca DIR NAME CN
new_ca() {
	local d=$1 name=$2 cn=$3
	ec_key "$d/$name.key"
	openssl req -config "$d/openssl.cnf" -x509 -new -sha256 -days 3650 \
		-key "$d/$name.key" -subj "/CN=$cn" -extensions ca -out "$d/$name.crt"
}

# new_cert DIR NAME CA SUBJECT EXTENSIONS
new_cert() {
	local d=$1 name=$2 ca=$3 subj=$4 ext=$5
	ec_key "$d/$name.key"
	openssl req -config "$d/openssl.cnf" -new -sha256 -key "$d/$name.key" -subj "$subj" -out "$d/$name.csr"
	openssl x509 -req -sha256 -days 3650 -in "$d/$name.csr" \
		-CA "$d/$ca.crt" -CAkey "$d/$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
		-extfile "$d/openssl.cnf" -extensions "$ext" -out "$d/$name.crt" 2>/dev/null
	rm -f -- "$d/$name.csr"
}

readonly PKI_CERTS=(ca client-ca etcd-ca apiserver admin etcd-server etcd-client)

pki_usable() {
	local c
	[[ -f $PKI_DIR/.complete && -f $PKI_DIR/sa.key && -f $PKI_DIR/sa.pub ]] || return 1
	for c in "${PKI_CERTS[@]}"; do
		[[ -f $PKI_DIR/$c.key ]] || return 1
		openssl x509 -noout -checkend 86400 -in "$PKI_DIR/$c.crt" >/dev/null 2>&1 || return 1
	done
}

# ensure_pki generates the PKI once per state dir and reuses it afterwards,
# so trust material handed to tests stays stable across `up`s. It is built in
# a temp dir and renamed into place, and regenerated whole if incomplete or
# about to expire.
#   ca / apiserver          serving CA and kube-apiserver's serving cert
#   client-ca / admin       client CA (its key is for tests that mint users)
#                           and the harness's admin (O=system:masters)
#   etcd-ca / etcd-server / etcd-client
#                           etcd talks mTLS only, so no other local process
#                           can read or write the cluster's storage
#   sa.key / sa.pub         ServiceAccount token signing key pair (RSA 2048)
ensure_pki() {
	pki_usable && return 0
	command -v openssl >/dev/null || die "openssl is not installed"
	log "generating the cluster's PKI in $PKI_DIR"
	local tmp
	tmp=$(mktemp -d "$STATE_DIR/.pki.XXXXXX")
	CLEANUP+=("$tmp")
	(
		umask 077
		write_openssl_cnf "$tmp/openssl.cnf"
		new_ca "$tmp" ca kcurl-serving-ca
		new_ca "$tmp" client-ca kcurl-client-ca
		new_ca "$tmp" etcd-ca kcurl-etcd-ca
		new_cert "$tmp" apiserver ca /CN=kube-apiserver apiserver
		new_cert "$tmp" admin client-ca /O=system:masters/CN=kcurl-harness-admin client
		new_cert "$tmp" etcd-server etcd-ca /CN=etcd etcd_server
		new_cert "$tmp" etcd-client etcd-ca /CN=kube-apiserver-etcd-client client
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/sa.key" 2>/dev/null
		openssl pkey -in "$tmp/sa.key" -pubout -out "$tmp/sa.pub"
		: >"$tmp/.complete"
	) || die "generating the PKI failed"
	rm -rf -- "$PKI_DIR"
	mv -- "$tmp" "$PKI_DIR"
}

# --- readiness -------------------------------------------------------------------

# curl_local: our own curl flags. -q (first!) skips ~/.curlrc, --noproxy
# keeps every request on 127.0.0.1 whatever the environment says.
curl_local() {
	"${IN_NETNS[@]}" curl -q --noproxy '*' -fsS --max-time 2 "$@"
}

apiserver_ready() { # PORT
	[[ $(curl_local --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" \
		--key "$PKI_DIR/admin.key" "https://$HOST:$1/readyz" 2>/dev/null) == ok ]]
}

etcd_healthy() { # PORT
	curl_local --cacert "$PKI_DIR/etcd-ca.crt" --cert "$PKI_DIR/etcd-client.crt" \
		--key "$PKI_DIR/etcd-client.key" "https://$HOST:$1/health" 2>/dev/null |
		grep -q '"health":"true"'
}

# env_value KEY prints KEY's value from the env file (parsed, never sourced).
env_value() {
	local k v
	[[ -f $ENV_FILE ]] || return 1
	while IFS='=' read -r k v; do
		if [[ $k == "$1" ]]; then
			printf '%s\n' "$v"
			return 0
		fi
	done <"$ENV_FILE"
	return 1
}

# cluster_running: both recorded daemons are ours and alive and the env file
# exists. cluster_ready additionally needs /readyz to answer ok.
cluster_running() {
	[[ -f $ENV_FILE ]] &&
		is_ours "$(read_pid "$APISERVER_PIDFILE")" "$APISERVER_MARKER" &&
		is_ours "$(read_pid "$ETCD_PIDFILE")" "$ETCD_MARKER"
}
cluster_ready() {
	local port
	cluster_running && port=$(env_value KCURL_CLUSTER_PORT) && apiserver_ready "$port"
}

print_log_tails() {
	local n=${1:-40} f
	for f in "$ETCD_LOG" "$APISERVER_LOG"; do
		printf '==> %s (last %s lines) <==\n' "$f" "$n"
		if [[ -f $f ]]; then tail -n "$n" -- "$f"; else echo "(no log)"; fi
	done
}

# --- up --------------------------------------------------------------------------

start_etcd() {
	rm -rf -- "$ETCD_DATA_DIR"
	log "starting etcd $ETCD_VERSION on https://$HOST:$ETCD_CLIENT_PORT (peer port $ETCD_PEER_PORT)"
	start_daemon etcd "$ETCD_PIDFILE" "$ETCD_LOG" "$ETCD_BIN" \
		--name=kcurl \
		"$ETCD_MARKER" \
		--listen-client-urls="https://$HOST:$ETCD_CLIENT_PORT" \
		--advertise-client-urls="https://$HOST:$ETCD_CLIENT_PORT" \
		--listen-peer-urls="https://$HOST:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls="https://$HOST:$ETCD_PEER_PORT" \
		--initial-cluster="kcurl=https://$HOST:$ETCD_PEER_PORT" \
		--initial-cluster-state=new \
		--initial-cluster-token=kcurl \
		--cert-file="$PKI_DIR/etcd-server.crt" \
		--key-file="$PKI_DIR/etcd-server.key" \
		--trusted-ca-file="$PKI_DIR/etcd-ca.crt" \
		--client-cert-auth=true \
		--peer-cert-file="$PKI_DIR/etcd-server.crt" \
		--peer-key-file="$PKI_DIR/etcd-server.key" \
		--peer-trusted-ca-file="$PKI_DIR/etcd-ca.crt" \
		--peer-client-cert-auth=true \
		--unsafe-no-fsync=true
	ETCD_PID=$REPLY
}

start_apiserver() {
	log "starting kube-apiserver $K8S_VERSION on https://$HOST:$APISERVER_PORT"
	# --endpoint-reconciler-type=none: otherwise the apiserver refuses the
	#   loopback advertise address and exits.
	# --cert-dir: unused (we pass the serving cert) but keeps any write the
	#   apiserver might do inside the state dir instead of /var/run/kubernetes.
	start_daemon kube-apiserver "$APISERVER_PIDFILE" "$APISERVER_LOG" "$APISERVER_BIN" \
		--bind-address="$([[ -n $NETNS ]] && echo 0.0.0.0 || echo "$HOST")" \
		--advertise-address=$HOST \
		--secure-port="$APISERVER_PORT" \
		--endpoint-reconciler-type=none \
		--kubelet-preferred-address-types=InternalIP \
		"$APISERVER_MARKER" \
		--tls-private-key-file="$PKI_DIR/apiserver.key" \
		--cert-dir="$PKI_DIR/apiserver-generated" \
		--client-ca-file="$PKI_DIR/client-ca.crt" \
		--etcd-servers="https://$HOST:$ETCD_CLIENT_PORT" \
		--etcd-cafile="$PKI_DIR/etcd-ca.crt" \
		--etcd-certfile="$PKI_DIR/etcd-client.crt" \
		--etcd-keyfile="$PKI_DIR/etcd-client.key" \
		--authorization-mode=RBAC \
		--service-account-issuer="$SA_ISSUER" \
		--api-audiences="$SA_AUDIENCE" \
		--service-account-key-file="$PKI_DIR/sa.pub" \
		--service-account-signing-key-file="$PKI_DIR/sa.key" \
		--service-cluster-ip-range="$SERVICE_CIDR"
	APISERVER_PID=$REPLY
}

# port_race LOG: the daemon died because another process took its port.
port_race() {
	grep -q 'address already in use' -- "$1" 2>/dev/null
}

write_kubeconfig() {
	local tmp=$KUBECONFIG_FILE.tmp
	cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kcurl
  cluster:
    server: https://$HOST:$APISERVER_PORT
    certificate-authority: $PKI_DIR/ca.crt
users:
- name: kcurl-harness-admin
  user:
    client-certificate: $PKI_DIR/admin.crt
    client-key: $PKI_DIR/admin.key
contexts:
- name: kcurl
  context:
    cluster: kcurl
    user: kcurl-harness-admin
    namespace: default
current-context: kcurl
preferences: {}
EOF
	mv -f -- "$tmp" "$KUBECONFIG_FILE"
}

write_env() {
	local tmp=$ENV_FILE.tmp
	cat >"$tmp" <<EOF
KCURL_CLUSTER_DIR=$STATE_DIR
KCURL_CLUSTER_SERVER=https://$HOST:$APISERVER_PORT
KCURL_CLUSTER_HOST=$HOST
KCURL_CLUSTER_PORT=$APISERVER_PORT
KCURL_CLUSTER_CA=$PKI_DIR/ca.crt
KCURL_CLUSTER_CLIENT_CA=$PKI_DIR/client-ca.crt
KCURL_CLUSTER_CLIENT_CA_KEY=$PKI_DIR/client-ca.key
KCURL_CLUSTER_ADMIN_CERT=$PKI_DIR/admin.crt
KCURL_CLUSTER_ADMIN_KEY=$PKI_DIR/admin.key
KCURL_CLUSTER_ADMIN_KUBECONFIG=$KUBECONFIG_FILE
KCURL_CLUSTER_KUBECTL=$KUBECTL_BIN
KCURL_CLUSTER_ISSUER=$SA_ISSUER
KCURL_CLUSTER_AUDIENCE=$SA_AUDIENCE
KCURL_CLUSTER_VERSION=$K8S_VERSION
KCURL_CLUSTER_APISERVER_PID=$APISERVER_PID
KCURL_CLUSTER_ETCD_PID=$ETCD_PID
KCURL_CLUSTER_ETCD_SERVER=https://$HOST:$ETCD_CLIENT_PORT
KCURL_CLUSTER_ETCD_CA=$PKI_DIR/etcd-ca.crt
KCURL_CLUSTER_ETCD_CERT=$PKI_DIR/etcd-client.crt
KCURL_CLUSTER_ETCD_KEY=$PKI_DIR/etcd-client.key
KCURL_CLUSTER_NETNS=$NETNS
EOF
	mv -f -- "$tmp" "$ENV_FILE"
}

# try_start: one attempt on fresh ports. Sets START_RESULT to "ready" or
# "port-race" (a daemon lost its port to another process: worth retrying) and
# exits on any other failure. It returns 0 either way: a function called in an
# `if` or `||` would run with set -e off.
try_start() {
	local t0=$1 deadline i
	START_RESULT="port-race"
	pick_ports
	start_etcd
	for ((i = 0; ; i++)); do
		etcd_healthy "$ETCD_CLIENT_PORT" && break
		if ! is_ours "$ETCD_PID" "$ETCD_MARKER"; then
			port_race "$ETCD_LOG" && return 0
			fail_start "etcd exited during start-up"
		fi
		((i < ETCD_TIMEOUT * 10)) || fail_start "etcd was not healthy within ${ETCD_TIMEOUT}s"
		sleep 0.1
	done
	start_apiserver
	deadline=$((${t0%.*} + READY_TIMEOUT))
	until apiserver_ready "$APISERVER_PORT"; do
		if ! is_ours "$APISERVER_PID" "$APISERVER_MARKER"; then
			port_race "$APISERVER_LOG" && return 0
			fail_start "kube-apiserver exited during start-up"
		fi
		is_ours "$ETCD_PID" "$ETCD_MARKER" || fail_start "etcd exited during start-up"
		((${EPOCHREALTIME%.*} < deadline)) ||
			fail_start "kube-apiserver was not ready within ${READY_TIMEOUT}s"
		sleep 0.2
	done
	START_RESULT=ready
}

# fail_start shows why, stops what was started (no orphans) and exits.
fail_start() {
	log "error: $1"
	print_log_tails 40 >&2
	stop_all || true
	exit 1
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
# (kcurl proxy) live through it.
cmd_restart_apiserver() {
	local gap=${1:-0} t0 deadline ms
	[[ $gap =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "restart-apiserver takes a number of seconds, got '$gap'"
	take_state_lock
	cluster_running || { log "no cluster is up in $STATE_DIR; run: scripts/cluster.sh up"; exit 3; }
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
		if ! is_ours "$APISERVER_PID" "$APISERVER_MARKER"; then
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
               with node also kubelet, kube-controller-manager, kube-scheduler
               and containerd for scripts/node.sh (about 4 minutes more)
  up           build if needed, start the cluster (or reuse a ready one), print
               the env file; each fresh start has an empty etcd
  down         stop the cluster (logs and PKI are kept, etcd data is not);
               fine when none runs
  env          print the env file (exit 3 if no cluster is up)
  status       say whether the cluster runs and where (exit 3 if not)
  logs [N|all] print the last N (default 40) or all lines of both logs
  restart-apiserver [SECONDS]
               stop kube-apiserver only, stay down SECONDS (default 0), start
               it on the same port and wait until it is ready (etcd keeps its data)
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
ADMIN_KEY,ADMIN_KUBECONFIG,KUBECTL,ISSUER,AUDIENCE,VERSION,APISERVER_PID,ETCD_PID}.
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
