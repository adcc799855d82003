# controlplane.sh: etcd and kube-apiserver of one state dir: their PKI,
# flags, readiness, the kubeconfig and the env file they are reached by, and
# one start attempt on fresh ports. Needs cluster.sh's settings (paths,
# markers, ports) and the other lib pieces.
# Sourced, not run.

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
	local audit=()
	if [[ -f $AUDIT_POLICY ]]; then
		audit=(--audit-policy-file="$AUDIT_POLICY" --audit-log-path="$AUDIT_LOG" --audit-log-mode=blocking)
	fi
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
		--service-cluster-ip-range="$SERVICE_CIDR" \
		${APISERVER_FEATURE_GATES:+"--feature-gates=$APISERVER_FEATURE_GATES"} \
		"${audit[@]}"
	APISERVER_PID=$REPLY
}

# write_audit_policy 1|"": with 1, a policy that audits pods/exec alone
# (Metadata, the ResponseComplete stage only, written before the request
# ends: mode blocking); without, none.
write_audit_policy() {
	if [[ $1 != 1 ]]; then
		rm -f -- "$AUDIT_POLICY"
		return
	fi
	cat >"$AUDIT_POLICY" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: Metadata
  resources: [{group: "", resources: [pods/exec]}]
- level: None
EOF
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
	local tmp=$ENV_FILE.tmp audit_log=""
	if [[ -f $AUDIT_POLICY ]]; then audit_log=$AUDIT_LOG; fi
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
KCURL_CLUSTER_SA_KEY=$PKI_DIR/sa.key
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
KCURL_CLUSTER_AUDIT_LOG=$audit_log
EOF
	mv -f -- "$tmp" "$ENV_FILE"
}

# Whether a daemon we have just started is still there is asked with
# alive, not is_ours: while it execs its way through setsid, nohup, nsenter
# and env, /proc/PID/cmdline can read empty for a moment, and a node's
# start once failed on that ("kube-apiserver exited during start-up", an
# empty log, then "stopping kube-apiserver" of the same pid). is_ours
# stays the check before any signal.
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
		if ! alive "$ETCD_PID"; then
			port_race "$ETCD_LOG" && return 0
			fail_start "etcd exited during start-up"
		fi
		((i < ETCD_TIMEOUT * 10)) || fail_start "etcd was not healthy within ${ETCD_TIMEOUT}s"
		sleep 0.1
	done
	start_apiserver
	deadline=$((${t0%.*} + READY_TIMEOUT))
	until apiserver_ready "$APISERVER_PORT"; do
		if ! alive "$APISERVER_PID"; then
			port_race "$APISERVER_LOG" && return 0
			fail_start "kube-apiserver exited during start-up"
		fi
		alive "$ETCD_PID" || fail_start "etcd exited during start-up"
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

# env_value KEY: KEY from this state dir's env file.
env_value() { env_file_value "$ENV_FILE" "$1"; }

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
