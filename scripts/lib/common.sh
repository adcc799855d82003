# common.sh: what every script of the harness shares: its messages
# (LOG_PREFIX), and paths it can write unquoted.
# Sourced, not run.

log() { printf '%s: %s\n' "${LOG_PREFIX:-${0##*/}}" "$*" >&2; }

die() {
	log "error: $*"
	exit 1
}

# check_feature_gates GATES: dies unless GATES is a daemon's --feature-gates
# value (NAME=true|false,...); called before anything is stopped.
check_feature_gates() {
	[[ ${1:-} =~ ^[A-Za-z0-9]+=(true|false)(,[A-Za-z0-9]+=(true|false))*$ ]] ||
		die "--feature-gates takes NAME=true|false[,...], got '${1:-}'"
}

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

# cleanup removes what CLEANUP lists (temp build dirs, half-written files),
# so an interrupted run leaves nothing half-made behind: the EXIT trap.
cleanup() {
	local p
	for p in "${CLEANUP[@]}"; do
		rm -rf -- "$p"
	done
}

# env_file_value FILE KEY prints KEY's value from a KEY=VALUE env file
# (parsed, never sourced): cluster.sh's own, and node.sh reading it.
env_file_value() {
	local k v
	[[ -f $1 ]] || return 1
	while IFS='=' read -r k v; do
		if [[ $k == "$2" ]]; then
			printf '%s\n' "$v"
			return 0
		fi
	done <"$1"
	return 1
}
