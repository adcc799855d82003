# build.sh: the pinned binaries, built once from the Go modules in
# scripts/controlplane/ into the cache (BIN_CACHE, keyed by version), under
# a lock so that parallel callers build once. Needs BIN_CACHE, CONTROLPLANE_DIR,
# the versions (versions.sh), log, die and CLEANUP (common.sh).
# Sourced, not run.

# bin_cache_dir: where the binaries are cached, by version:
# KCURL_BIN_CACHE, else XDG_CACHE_HOME/kcurl/bin, else ~/.cache/kcurl/bin.
bin_cache_dir() {
	if [[ -n ${KCURL_BIN_CACHE:-} ]]; then
		printf '%s\n' "$KCURL_BIN_CACHE"
	elif [[ -n ${XDG_CACHE_HOME:-} ]]; then
		printf '%s\n' "$XDG_CACHE_HOME/kcurl/bin"
	else
		printf '%s\n' "$(home_dir)/.cache/kcurl/bin"
	fi
}

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
