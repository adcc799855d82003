#!/usr/bin/env bash
# image.sh: build kcurl's container image with podman, and run podman the
# way this machine needs it. No registry is reachable here, so the build
# stage's Go image is made locally from the machine's own Go toolchain.
#
# usage:
#   scripts/image.sh build [IMAGE [FILE]]
#                                    build the Dockerfile as IMAGE (default localhost/kcurl:dev),
#                                    and with FILE save it there as a docker-archive
#   scripts/image.sh multiarch [LIST [FILE]]
#                                    build linux/amd64 and linux/arm64 (LIST-amd64, LIST-arm64),
#                                    join them in the manifest list LIST (default
#                                    localhost/kcurl:dev), and with FILE save LIST with both
#                                    images as an OCI archive; prints each platform's size
#   scripts/image.sh builder         make localhost/golang:1.26 (done by build when missing)
#   scripts/image.sh save IMAGE FILE write IMAGE as a docker-archive (for containerd's ctr import)
#   scripts/image.sh node-images DIR the node's own images as docker-archives in DIR:
#                                    pause, a busybox shell, and curl (scripts/node.sh)
#   scripts/image.sh toolbox BINARY FILE
#                                    a busybox shell with BINARY as /bin/kcurl, as a
#                                    docker-archive (scripts/try.sh --pod)
#   scripts/image.sh podman ARGS...  podman with the project's configuration
#
# Configuration of the project's own (never the machine's), under
# ${KCURL_PODMAN_DIR:-${XDG_CACHE_HOME:-~/.cache}/kcurl/podman}: runtime runc
# (crun fails on these cgroups), default ulimits the machine accepts, and
# storage in that dir. Containers run with --network host or none only: the
# default bridge network would rewrite the host's iptables.
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
state=${KCURL_PODMAN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kcurl/podman}
builder=localhost/golang:1.26
say() { printf 'image.sh: %s\n' "$*" >&2; }
# shellcheck source=lib/deps.sh
. "$repo/scripts/lib/deps.sh"

# write_if_changed FILE: stdin becomes FILE, atomically (a temp file renamed
# over it) and only when the content differs. Every call of this script
# configures podman, and test packages call it at the same time: a reader
# must never see a half-written file.
write_if_changed() {
	local tmp
	tmp=$(mktemp -- "$1.XXXXXX")
	cat >"$tmp"
	if cmp -s -- "$tmp" "$1"; then
		rm -f -- "$tmp"
	else
		chmod 0644 -- "$tmp"
		mv -f -- "$tmp" "$1"
	fi
}

# locked NAME COMMAND...: run COMMAND holding the lock NAME, so that two
# callers never make the same image at once (one would tag or save the
# other's). Never call it as part of `||`/`&&`: that would switch off
# set -e inside COMMAND.
locked() {
	local name=$1 fd
	shift
	mkdir -p "$state/locks"
	exec {fd}>"$state/locks/${name//[^A-Za-z0-9._-]/_}.lock"
	flock "$fd"
	"$@"
	exec {fd}>&-
}

configure() {
	mkdir -p "$state/storage" "$state/run" "$state/tmp"
	write_if_changed "$state/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$state/tmp"
EOF
	write_if_changed "$state/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$state/storage"
runroot = "$state/run"
EOF
	export CONTAINERS_CONF=$state/containers.conf CONTAINERS_STORAGE_CONF=$state/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$state/registries.conf
	# No registry is searched for short names: images are local or fail.
	printf 'unqualified-search-registries = []\n' | write_if_changed "$CONTAINERS_REGISTRIES_CONF"
}

need() {
	local missing
	missing=$(deps_missing image)
	if [[ -n $missing ]]; then
		say "missing: $missing; scripts/test.sh installs them as root (apt-get install -y $missing)"
		exit 2
	fi
}

# make_builder: a Go image from the machine's toolchain and busybox-static,
# built from scratch with buildah (nothing is pulled).
make_builder() {
	local goroot ctr mnt
	goroot=$(go env GOROOT)
	say "making $builder from $goroot and busybox-static"
	ctr=$(buildah from scratch)
	mnt=$(buildah mount "$ctr")
	mkdir -p "$mnt/bin" "$mnt/usr/local" "$mnt/etc/ssl/certs" "$mnt/tmp" "$mnt/go"
	cp "$(command -v busybox)" "$mnt/bin/busybox"
	chroot "$mnt" /bin/busybox --install -s /bin
	cp -a "$goroot" "$mnt/usr/local/go"
	cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/"
	chmod 1777 "$mnt/tmp"
	buildah umount "$ctr" >/dev/null
	buildah config --env PATH=/usr/local/go/bin:/bin --env GOPATH=/go --env GOCACHE=/root/.cache/go-build --env GOTOOLCHAIN=local \
		--env GOFLAGS=-buildvcs=false --workingdir /src "$ctr"
	buildah commit --quiet "$ctr" "$builder" >/dev/null
	buildah rm "$ctr" >/dev/null
}

# builder_current: the builder exists and sets GOCACHE (one made before it
# did compiles everything anew, every time).
builder_current() {
	podman image inspect --format '{{.Config.Env}}' "$builder" 2>/dev/null | grep -q GOCACHE=
}
make_builder_unless_current() {
	if ! builder_current; then make_builder; fi
}

# build IMAGE [FILE]: the Dockerfile as IMAGE, and with FILE also saved
# there, under IMAGE's lock: what is saved is what this call built.
build() {
	if ! builder_current; then
		locked builder make_builder_unless_current
	fi
	locked "image-${1:-localhost/kcurl:dev}" build_unlocked "$@"
}

build_unlocked() {
	local image=${1:-localhost/kcurl:dev} file=${2:-} version commit date
	version=$(git -C "$repo" describe --tags --always --dirty 2>/dev/null || echo dev)
	commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)
	date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	say "building $image (kcurl $version)"
	# The host's module and build caches are mounted into the build stage:
	# no second download of the modules, and incremental compiles.
	podman build --network host --build-arg GO_IMAGE="$builder" --build-arg BUILDPLATFORM="$(build_platform)" \
		--build-arg VERSION="$version" --build-arg COMMIT="$commit" --build-arg DATE="$date" \
		-v "$(go env GOMODCACHE):/go/pkg/mod" -v "$(go env GOCACHE):/root/.cache/go-build" \
		--tag "$image" "$repo" >&2
	[[ -z $file ]] || save "$image" "$file"
	podman image inspect --format '{{.Size}}' "$image"
}

# build_platform: where the build stage runs, whatever the target (the
# Dockerfile's FROM --platform=$BUILDPLATFORM): podman 4.3 does not set it.
build_platform() { printf '%s/%s\n' "$(go env GOHOSTOS)" "$(go env GOHOSTARCH)"; }

# The platforms of the manifest list: every node of a cluster pulls its own.
platforms=(linux/amd64 linux/arm64)

# multiarch LIST [FILE]: each platform built as an image of its own (the
# build stage cross-compiles on this machine's platform: no emulation),
# then joined in the manifest list LIST, under LIST's lock.
multiarch() {
	if ! builder_current; then
		locked builder make_builder_unless_current
	fi
	locked "image-${1:-localhost/kcurl:dev}" multiarch_unlocked "$@"
}

multiarch_unlocked() {
	local list=${1:-localhost/kcurl:dev} file=${2:-} version commit date platform image arch
	version=$(git -C "$repo" describe --tags --always --dirty 2>/dev/null || echo dev)
	commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)
	# The commit's time, not now: a rebuild of one commit stamps the same.
	date=$(TZ=UTC git -C "$repo" show -s --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd HEAD 2>/dev/null || true)
	# A list of that name from an earlier call (or an image) goes first:
	# manifest create refuses an existing name.
	podman manifest rm "$list" >/dev/null 2>&1 || podman rmi "$list" >/dev/null 2>&1 || true
	# (podman 4.3's `podman images` fails while a list of local images
	# exists: "fetching target platform image selected from image index";
	# inspect, run, push and rmi work.)
	podman manifest create "$list" >/dev/null
	for platform in "${platforms[@]}"; do
		image=$list-${platform#*/}
		say "building $image for $platform (kcurl $version)"
		# --layers=false: podman 4.3's layer cache ignores the platform (an
		# arm64 build can get the amd64 image); the module and build caches
		# below keep it quick all the same, and no build stage is left over.
		podman build --network host --layers=false --platform "$platform" --build-arg GO_IMAGE="$builder" \
			--build-arg BUILDPLATFORM="$(build_platform)" --build-arg VERSION="$version" --build-arg COMMIT="$commit" --build-arg DATE="$date" \
			-v "$(go env GOMODCACHE):/go/pkg/mod" -v "$(go env GOCACHE):/root/.cache/go-build" \
			--tag "$image" "$repo" >&2
		arch=$(podman image inspect --format '{{.Os}}/{{.Architecture}}' "$image")
		[[ $arch == "$platform" ]] || { say "$image is for $arch, not $platform"; exit 1; }
		podman manifest add "$list" "containers-storage:$image" >/dev/null
		printf '%s %s\n' "$platform" "$(podman image inspect --format '{{.Size}}' "$image")"
	done
	if [[ -n $file ]]; then
		mkdir -p -- "$(dirname -- "$file")"
		rm -f -- "$file"
		# Named LIST inside (org.opencontainers.image.ref.name), for ctr
		# import and skopeo.
		podman manifest push --quiet --all "$list" "oci-archive:$file:$list"
	fi
}

# from_busybox IMAGE CMD...: a scratch image with busybox-static's applets
# in /bin, made with buildah (nothing is pulled).
from_busybox() {
	local image=$1 ctr mnt
	shift
	ctr=$(buildah from scratch)
	mnt=$(buildah mount "$ctr")
	mkdir -p "$mnt/bin" "$mnt/tmp" "$mnt/etc"
	cp "$(command -v busybox)" "$mnt/bin/busybox"
	chroot "$mnt" /bin/busybox --install -s /bin
	chmod 1777 "$mnt/tmp"
	printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$mnt/etc/passwd"
	if [[ -n ${KCURL_BINARY:-} ]]; then
		cp "$KCURL_BINARY" "$mnt/bin/kcurl"
	fi
	if [[ $image == */curl:* ]]; then
		# The machine's curl with the libraries it links: the sidecar
		# example's app container, as written in docs/examples.
		local lib
		cp /usr/bin/curl "$mnt/bin/curl"
		for lib in $(ldd /usr/bin/curl | grep -o '/[^ ]*'); do
			mkdir -p "$mnt$(dirname "$lib")"
			cp -L "$lib" "$mnt$lib"
		done
	fi
	buildah umount "$ctr" >/dev/null
	local entrypoint word
	entrypoint=$(for word in "$@"; do printf ',"%s"' "$word"; done)
	# curl runs as a user of its own, as curlimages/curl does (user 100).
	local user=0:0
	[[ $image == */curl:* ]] && user=100:101
	buildah config --env PATH=/bin --cmd '' --user "$user" --entrypoint "[${entrypoint#,}]" "$ctr"
	buildah commit --quiet "$ctr" "$image" >/dev/null
	buildah rm "$ctr" >/dev/null
}

# from_busybox_saved IMAGE FILE CMD...: from_busybox, then save, as one step
# (under IMAGE's lock, by the caller).
from_busybox_saved() {
	local image=$1 file=$2
	shift 2
	from_busybox "$image" "$@"
	save "$image" "$file"
}

save() { # IMAGE FILE
	mkdir -p -- "$(dirname -- "$2")"
	rm -f -- "$2"
	podman save --quiet --format docker-archive -o "$2" "$1"
}

node_images() { # DIR
	mkdir -p "$1"
	local spec image
	for spec in "pause:1 /bin/sleep 2147483647" "shell:1 /bin/sh" "curl:1 /bin/curl"; do
		image=localhost/kcurl-e2e/${spec%% *}
		# Made anew each time (a few seconds): a cached image of an older
		# script would otherwise live on.
		# shellcheck disable=SC2086 # the entrypoint's words
		locked "image-$image" from_busybox_saved "$image" "$1/${spec%%:*}.tar" ${spec#* }
	done
	ls -1 "$1"/*.tar
}

need
configure
case ${1:-} in
build) shift; build "$@" ;;
multiarch) shift; multiarch "$@" ;;
builder) locked builder make_builder ;;
save) shift; save "$@" ;;
node-images) shift; node_images "$@" ;;
toolbox)
	[[ -x ${2:-} && -n ${3:-} ]] || { say "usage: toolbox BINARY FILE"; exit 2; }
	KCURL_BINARY=$2 locked image-toolbox from_busybox_saved localhost/kcurl-try/toolbox:latest "$3" /bin/sh
	;;
podman) shift; exec podman "$@" ;;
*) sed -n '2,21s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
