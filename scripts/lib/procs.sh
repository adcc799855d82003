# procs.sh: how cluster.sh and node.sh recognise their own daemons. Sourced,
# not run. A process is signalled only after is_ours says it is the one we
# recorded: alive, and one exact argument of its command line names our
# state dir, so a recycled pid is never killed.

# alive PID: the process exists and is not a zombie. Our daemons are not our
# children, so an unreaped zombie would otherwise look alive to kill -0.
alive() {
	local stat rest
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	rest=${stat##*") "}
	[[ ${rest:0:1} != [ZX] ]]
}

# is_ours PID MARKER: PID is alive and its command line has MARKER as one
# exact argument (an exact match, not a prefix, keeps /tmp/a from claiming
# /tmp/ab's daemons).
is_ours() {
	local pid=$1 marker=$2 arg
	[[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
	alive "$pid" || return 1
	local -a args=()
	# 2>/dev/null first: a process that ended since alive() is no error.
	mapfile -d '' args 2>/dev/null <"/proc/$pid/cmdline" || return 1
	for arg in "${args[@]}"; do
		[[ $arg == "$marker" ]] && return 0
	done
	return 1
}
