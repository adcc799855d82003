#!/usr/bin/env bash
# sandbox.sh: run a command the way a container in a Pod runs, as far as kcurl
# can tell: in a private mount namespace with a fresh /run, the
# service-account dir mounted read-only at the kubelet's path
# /var/run/secrets/kubernetes.io/serviceaccount (/var/run links to /run), and
# optionally a private /etc/hosts (so kubernetes.default.svc resolves).
#
# The environment is passed through untouched: the caller decides it (the
# e2e tests and scripts/try.sh start from `env -i` plus the Pod's variables).
# The one implementation of the sandbox, used by e2e/ and scripts/try.sh.
#
# For an ephemeral debug container (kubectl debug --target), two sandboxes
# share one PID namespace: --pid-ns starts the first (the target) in a new
# one, and --join-pid PID runs the second in the namespace of process PID,
# with its own mount namespace and a /proc that shows the target.
#
# usage: sandbox.sh [--sa-dir DIR] [--hosts FILE] [--pid-ns | --join-pid PID] -- COMMAND [ARG...]
set -euo pipefail

readonly SA_PATH=/run/secrets/kubernetes.io/serviceaccount

usage() {
	sed -n '2,18s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

sa_dir="" hosts="" inside=0 pid_ns=0 join_pid="" mount_proc=0
while (($#)); do
	case $1 in
	--sa-dir) sa_dir=${2:?--sa-dir needs a DIR}; shift 2 ;;
	--hosts) hosts=${2:?--hosts needs a FILE}; shift 2 ;;
	--pid-ns) pid_ns=1; shift ;;
	--join-pid) join_pid=${2:?--join-pid needs a PID}; shift 2 ;;
	--inside) inside=1; shift ;;
	--mount-proc) mount_proc=1; shift ;;
	--) shift; break ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done
(($#)) || usage

if ((inside)); then
	# Now in the new mount namespace: nothing done here is seen outside.
	if ((mount_proc)); then
		mount -t proc proc /proc # the joined PID namespace's processes
	fi
	mount -t tmpfs -o mode=0755 tmpfs /run
	if [[ -n $sa_dir ]]; then
		mkdir -p "$SA_PATH"
		mount --bind "$sa_dir" "$SA_PATH"
		mount -o remount,bind,ro "$SA_PATH"
	fi
	if [[ -n $hosts ]]; then
		mount --bind "$hosts" /etc/hosts
	fi
	exec "$@"
fi

[[ -z $sa_dir || -d $sa_dir ]] || { echo "sandbox.sh: no such dir: $sa_dir" >&2; exit 2; }
[[ -z $hosts || -f $hosts ]] || { echo "sandbox.sh: no such file: $hosts" >&2; exit 2; }
sa_dir=${sa_dir:+$(realpath -- "$sa_dir")}
hosts=${hosts:+$(realpath -- "$hosts")}

# Root makes the namespace directly; anyone else maps themselves to root in a
# user namespace first, which is enough for these mounts.
unshare_args=(--mount --propagation private)
inside_args=(--inside ${sa_dir:+--sa-dir "$sa_dir"} ${hosts:+--hosts "$hosts"})
if ((pid_ns)); then
	# As a container runtime does it: the PID namespace first, then, inside
	# it, the mount namespace, so no process of the host's PID namespace
	# lives in the container's mounts (the waiting parent of `unshare
	# --fork --mount` would). --kill-child: the container dies with the
	# unshare its test stops by pid.
	((EUID == 0)) || { echo "sandbox.sh: --pid-ns needs root" >&2; exit 2; }
	exec unshare --pid --fork --kill-child -- unshare "${unshare_args[@]}" -- \
		"$(realpath -- "$0")" "${inside_args[@]}" --mount-proc -- "$@"
fi
if [[ -n $join_pid ]]; then
	# nsenter forks into the PID namespace; the new mount namespace then gets
	# a /proc of that namespace, and no service account of its own.
	((EUID == 0)) || { echo "sandbox.sh: --join-pid needs root" >&2; exit 2; }
	exec nsenter --target "$join_pid" --pid -- unshare "${unshare_args[@]}" -- \
		"$(realpath -- "$0")" "${inside_args[@]}" --mount-proc -- "$@"
fi
if ((EUID != 0)); then
	unshare_args=(--user --map-root-user "${unshare_args[@]}")
fi
exec unshare "${unshare_args[@]}" -- "$(realpath -- "$0")" "${inside_args[@]}" -- "$@"
