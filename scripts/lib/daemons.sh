# daemons.sh: start a daemon detached from the caller and stop it by
# its recorded pid, only after is_ours (procs.sh) says it is ours. Needs
# IN_NETNS, STATE_DIR, STATE_LOCK_FD, STOP_TIMEOUT, log and die.
# Sourced, not run.

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
