# deps.sh: the one list of what the tests and scripts need from the
# machine, and the one way to install it (Debian's packages). Sourced by
# scripts/test.sh (which installs what is missing when run as root) and by
# the scripts that need a tool, to name the package in their error.
#
# Go itself is not installed here: the README asks for Go 1.26.

# What each suite needs, as "command-or-path=package" words.
#   controlplane: scripts/cluster.sh and the Pod-like sandbox (e2e/, try.sh)
#   image:        scripts/image.sh (podman with runc, buildah, busybox-static)
#   node:         scripts/node.sh (a kubelet's Pods: ip netns, runc, CNI)
#   release:      scripts/release.sh and its test (e2e/release: the arm64
#                 binary run under qemu-user, no binfmt needed)
readonly -A DEPS_OF_SUITE=(
	[controlplane]="curl=curl openssl=openssl ss=iproute2 flock=util-linux unshare=util-linux nsenter=util-linux git=git"
	[image]="podman=podman buildah=buildah runc=runc busybox=busybox-static /usr/sbin/getcap=libcap2-bin"
	[release]="qemu-aarch64=qemu-user tar=tar gzip=gzip sha256sum=coreutils git=git"
	[node]="ip=iproute2 /usr/sbin/runc=runc /usr/lib/cni/bridge=containernetworking-plugins /usr/lib/cni/host-local=containernetworking-plugins nsenter=util-linux"
)

# deps_missing SUITE...: the packages that are missing for those suites, one
# line, each once.
deps_missing() {
	local suite word tool pkg
	local -A missing=()
	for suite in "$@"; do
		for word in ${DEPS_OF_SUITE[$suite]}; do
			tool=${word%%=*} pkg=${word#*=}
			if [[ $tool == /* ]]; then
				[[ -x $tool ]] && continue
			else
				command -v "$tool" >/dev/null 2>&1 && continue
			fi
			missing[$pkg]=1
		done
	done
	printf '%s\n' "${!missing[*]}"
}

# deps_install PACKAGE...: apt-get install, as root, with the package lists
# refreshed only when the first try cannot find a package (a fresh machine's
# lists may be empty or old).
deps_install() {
	(($#)) || return 0
	command -v apt-get >/dev/null || {
		printf 'deps.sh: no apt-get here; install these packages: %s\n' "$*" >&2
		return 1
	}
	printf 'deps.sh: installing %s\n' "$*" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
	apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
}

# deps_ensure SUITE...: what those suites need is there afterwards: as root,
# installed when missing; otherwise, a missing package is an error that
# names it.
deps_ensure() {
	local missing
	missing=$(deps_missing "$@")
	[[ -n $missing ]] || return 0
	if [[ $(id -u) == 0 ]]; then
		# shellcheck disable=SC2086 # one word a package
		deps_install $missing
	else
		printf 'deps.sh: missing packages: %s (as root: apt-get install -y %s)\n' "$missing" "$missing" >&2
		return 1
	fi
}
