#!/usr/bin/env bash
# release.sh: kcurl's release files for one version, built from the commit
# checked out (HEAD; changes not committed are not in it, and are named).
#
# usage: scripts/release.sh VERSION [DIR]
#   VERSION  semantic version with its v: v0.3.0, v1.0.0-rc.1
#   DIR      where the files go (default dist/VERSION, which git ignores);
#            made anew: an existing DIR must be empty or an earlier release's
#
# In DIR, for each platform (linux/amd64, linux/arm64, darwin/amd64,
# darwin/arm64; KCURL_RELEASE_PLATFORMS chooses others):
#   kcurl-VERSION-OS-ARCH           the static binary (CGO_ENABLED=0, -trimpath,
#                                   -s -w; version, commit and date stamped in)
#   kcurl-VERSION-OS-ARCH.tar.gz    the same binary as `kcurl`, for krew
#   kcurl-VERSION-OS-ARCH.cdx.json  its CycloneDX SBOM (cyclonedx-gomod app: the
#                                   modules that platform's build uses, Go's std too)
# and kcurl.yaml (the krew plugin manifest: `kubectl krew install
# --manifest=kcurl.yaml`; its URIs are KCURL_RELEASE_URL/FILE, by default the
# GitHub release of VERSION), and SHA256SUMS of all of them.
#
# Reproducible: two runs for one commit with one Go give the same bytes. The
# build date is the commit's time, the archives' times and owners are fixed,
# and the SBOM has no timestamp and a serial number derived from what it
# describes. cyclonedx-gomod is installed (once, pinned) under
# ${XDG_CACHE_HOME:-~/.cache}/kcurl/tools, never in the repository.
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly CYCLONEDX_GOMOD_VERSION=v1.10.0
module=github.com/kcurl/kcurl
homepage=https://github.com/kcurl/kcurl
say() { printf 'release.sh: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}

version=${1:-}
# Semantic versioning 2.0.0 with krew's leading v.
semver='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
if [[ ! $version =~ $semver ]]; then
	sed -n '2,6s/^# \{0,1\}//p' "$0" >&2
	die "VERSION must be a semantic version with a leading v (v1.2.3), not '$version'"
fi
dist=$(realpath -m -- "${2:-$repo/dist/$version}")
read -r -a platforms <<<"${KCURL_RELEASE_PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}"
base_url=${KCURL_RELEASE_URL:-$homepage/releases/download/$version}
base_url=${base_url%/}

export GOTOOLCHAIN=local CGO_ENABLED=0 LC_ALL=C TZ=UTC
# The same code for every machine that builds it: the baseline CPU levels,
# no experiments from the environment.
export GOAMD64=v1 GOARM64=v8.0
unset GOEXPERIMENT
# The build info records the commit (go version -m); the clone below is
# clean, so it never says "modified".
export GOFLAGS=-buildvcs=true

commit=$(git -C "$repo" rev-parse HEAD)
if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no) ]]; then
	say "warning: changes not committed are not released: this is $commit as committed"
fi
epoch=$(git -C "$repo" show -s --format=%ct "$commit")
date=$(git -C "$repo" show -s --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd "$commit")

# The dist dir: made anew, but never at the cost of files that are not ours.
if [[ -d $dist && -n $(ls -A -- "$dist") ]]; then
	[[ -f $dist/SHA256SUMS ]] || die "$dist is not empty and holds no earlier release (no SHA256SUMS): choose another DIR"
	rm -f -- "$dist"/kcurl-* "$dist/kcurl.yaml" "$dist/SHA256SUMS"
fi
mkdir -p -- "$dist"

work=$(mktemp -d "${TMPDIR:-/tmp}/kcurl-release.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# tool: cyclonedx-gomod, built once from the Go module proxy into a dir of
# the cache named by its version and Go's. The SBOM records the tool's own
# hashes: -trimpath makes that binary the same on every machine with this Go.
tools=${XDG_CACHE_HOME:-$HOME/.cache}/kcurl/tools
cyclonedx=$tools/cyclonedx-gomod-$CYCLONEDX_GOMOD_VERSION-$(go env GOVERSION)/cyclonedx-gomod
if [[ ! -x $cyclonedx ]]; then
	say "installing cyclonedx-gomod $CYCLONEDX_GOMOD_VERSION into ${cyclonedx%/*}"
	(cd "$work" && GOBIN=${cyclonedx%/*} GOFLAGS=-trimpath go install \
		"github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$CYCLONEDX_GOMOD_VERSION")
fi

# The commit, alone, in a clone of its own: nothing uncommitted or ignored
# gets in, and VERSION is a tag there (Go stamps it as the module's version,
# and the SBOM names it), never in the repository itself.
src=$work/src
git init --quiet "$src"
git -C "$src" fetch --quiet --no-tags "$repo" "$commit"
git -C "$src" -c advice.detachedHead=false checkout --quiet --detach "$commit"
git -C "$src" tag -- "$version" "$commit"

ldflags="-s -w -X $module/cmd.version=$version -X $module/cmd.commit=$commit -X $module/cmd.date=$date"

# uuid_of TEXT: a UUID (version 5 layout) from TEXT's SHA-256: the same
# release gets the same serial number, another release another.
uuid_of() {
	local h
	h=$(printf '%s' "$1" | sha256sum)
	printf '%s-%s-5%s-%x%s-%s\n' "${h:0:8}" "${h:8:4}" "${h:13:3}" $((0x${h:16:1} & 3 | 8)) "${h:17:3}" "${h:20:12}"
}

manifest_platforms=
for platform in "${platforms[@]}"; do
	os=${platform%/*} arch=${platform#*/}
	name=kcurl-$version-$os-$arch
	say "building $name"
	(cd "$src" && GOOS=$os GOARCH=$arch go build -tags urfave_cli_no_docs -trimpath -ldflags "$ldflags" -o "$work/$name/kcurl" .)
	cp -- "$work/$name/kcurl" "$dist/$name"
	chmod 0755 -- "$dist/$name"
	# The archive krew installs: one file, times and owners fixed, gzip
	# without a name or time of its own.
	tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --mode=0755 \
		--format=ustar -C "$work/$name" -cf - kcurl | gzip -9 -n >"$dist/$name.tar.gz"
	(cd "$src" && GOOS=$os GOARCH=$arch "$cyclonedx" app -json -licenses -std -notimestamp \
		-serial "urn:uuid:$(uuid_of "$module $version $commit $platform")" \
		-output "$dist/$name.cdx.json" . 2>"$work/cyclonedx.log") ||
		{ cat "$work/cyclonedx.log" >&2; die "cyclonedx-gomod failed for $platform"; }
	sum=$(sha256sum "$dist/$name.tar.gz")
	manifest_platforms+="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $base_url/$name.tar.gz
    sha256: ${sum%% *}
    bin: kcurl
    files:
    - from: kcurl
      to: .
"
done

# The krew plugin manifest (krew.sigs.k8s.io/docs/developer-guide/plugin-manifest):
# krew links kubectl-kcurl to the binary, and kcurl then calls itself
# `kubectl kcurl` in its help and messages.
cat >"$dist/kcurl.yaml" <<EOF
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: kcurl
spec:
  version: $version
  homepage: $homepage
  shortDescription: "curl for the Kubernetes API: jq, tables, YAML"
  description: |
    kcurl sends any request to any API path or resource (kubectl's short
    names resolved through discovery) and prints the answer as readable
    JSON, YAML or a table, optionally filtered by a jq expression. As a
    plugin it uses your kubeconfig (--kubeconfig, --context, \$KUBECONFIG,
    ~/.kube/config):

      kubectl kcurl /api
      kubectl kcurl pods -q '.items[].metadata.name' -r
      kubectl kcurl deploy/web -X PATCH -d 'spec: {replicas: 3}'
      kubectl kcurl can-i --list

    Inside a Pod, the same binary finds the Pod's service account by itself.
  caveats: |
    kcurl exits with a code a script can test: 0 ok, 2 usage, 3 no
    credentials, 4 HTTP 4xx, 5 HTTP 5xx, 6 network.
  platforms:
$manifest_platforms
EOF

(cd "$dist" && find . -maxdepth 1 -type f \( -name 'kcurl-*' -o -name kcurl.yaml \) -printf '%P\n' |
	sort | xargs sha256sum >SHA256SUMS)
say "kcurl $version ($commit, $date) in $dist:"
(cd "$dist" && ls -l --time-style=+ -- * >&2)
