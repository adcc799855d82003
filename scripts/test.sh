#!/usr/bin/env bash
# test.sh: every test kcurl has. Unit tests (httptest TLS servers, temporary
# service-account dirs), e2e tests (the built binary against a real
# kube-apiserver and etcd on 127.0.0.1, in a Pod-like sandbox, and the
# image), the real-Pod suite (e2e/node: a kubelet and containerd), the
# release (e2e/release: scripts/release.sh twice, the arm64 binary under
# qemu, the multi-platform image), then each fuzz target on a few thousand
# new inputs.
#
# As root it installs what the suites need and is missing (Debian's
# packages, listed once in scripts/lib/deps.sh). Without root it runs the
# unit tests and fuzz targets, names the suites it skipped and the packages
# they need, and fails: it never passes with suites left out.
#
# The first run builds the control plane and the node's binaries from the
# pinned Go modules (cached in ~/.cache/kcurl/bin); later runs reuse them.
# usage: scripts/test.sh [go test flags...]   e.g. scripts/test.sh -run TestCLI
# KCURL_FUZZTIME: how many new inputs each fuzz target tries, in go test's
# -fuzztime form (default 4000x; a duration such as 30s works too; 0 skips).
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
# shellcheck source=lib/deps.sh
. scripts/lib/deps.sh
say() { printf 'test.sh: %s\n' "$*" >&2; }

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n $unformatted ]]; then
	printf 'test.sh: gofmt would change:\n%s\n' "$unformatted" >&2
	exit 1
fi
go vet -tags e2e ./...

skipped=()
if [[ $(id -u) == 0 ]]; then
	# shellcheck disable=SC2046 # one word a package
	deps_install $(deps_missing controlplane image node release)
	# node: also kubelet, kube-controller-manager, kube-scheduler,
	# containerd and runc for the real-Pod suite (e2e/node, scripts/node.sh).
	scripts/cluster.sh build node
	# -race: the proxy, the token and CA files and the watch run
	# concurrently. -tags e2e: the e2e suites (e2e/ and e2e/node/) are
	# behind that tag, so a plain `go test ./...` runs the unit tests alone.
	go test -tags e2e -race -count=1 -timeout 30m "$@" ./...
else
	skipped=("e2e/ (a real kube-apiserver, Pod-like sandboxes in mount namespaces, the image)"
		"e2e/node (real Pods: a kubelet, containerd and runc in a network namespace)"
		"e2e/release (the release files, the arm64 binary under qemu, the multi-platform image)")
	say "not root: running the unit tests and fuzz targets only; e2e/ and e2e/node need root"
	missing=$(deps_missing controlplane image node release)
	[[ -z $missing ]] || say "they also need these packages, which test.sh installs as root: $missing"
	go test -race -count=1 "$@" ./...
fi

# fuzz PACKAGE TARGET: run one fuzz target on KCURL_FUZZTIME new inputs. A
# finding is an input that fails again when run alone: it is printed, kept
# where Go keeps it (PACKAGE/testdata/fuzz/TARGET/, which every later `go
# test` runs as a seed: commit it with the fix), and fails the run. A
# failure that leaves no input, or whose input passes alone, is the
# engine's (a worker starved or killed on a loaded machine): it is retried
# once, then reported without failing the run.
fuzz() {
	local pkg=$1 target=$2 corpus=$1/testdata/fuzz/$2 try before input name
	for try in 1 2; do
		before=$(ls -- "$corpus" 2>/dev/null || true)
		go test -run '^$' -fuzz "^$target\$" -fuzztime "$(fuzz_limit "$pkg" "$target")" "$pkg" && return 0
		for name in $(ls -- "$corpus" 2>/dev/null); do
			grep -qxF -- "$name" <<<"$before" && continue
			input=$corpus/$name
			say "$target failed on this input ($input):"
			cat -v -- "$input" >&2
			if ! go test -count=1 -run "^$target/$name\$" "$pkg" >&2; then
				say "FINDING: $target fails on $input when run alone; it stays there as a seed (commit it with the fix)"
				return 1
			fi
			say "$target passes on $input when run alone: not reproducible; kept as a seed"
		done
		say "$target: the fuzz engine failed without a reproducible input (try $try of 2)"
	done
	say "warning: $target not fuzzed on $fuzztime (the engine failed twice, no finding)"
}

# fuzz_limit PACKAGE TARGET: the -fuzztime for one target. A count, not a
# duration, by default: at a duration's end Go 1.26's fuzz coordinator can
# fail a target that found nothing, with a bare "context deadline exceeded"
# (go.dev/issue/75804, fixed in Go 1.27). A count also counts the corpus
# Go runs first (the committed seeds and what earlier runs found
# interesting, kept in GOCACHE), so that is added: every run tries
# KCURL_FUZZTIME new inputs however much the corpus has grown.
fuzz_limit() {
	local pkg=$1 target=$2 known
	if [[ $fuzztime != *x ]]; then
		printf '%s\n' "$fuzztime"
		return
	fi
	known=$(cat <(ls -- "$pkg/testdata/fuzz/$target" 2>/dev/null) \
		<(ls -- "$(go env GOCACHE)/fuzz/$(go list "$pkg")/$target" 2>/dev/null) | wc -l)
	printf '%dx\n' $((${fuzztime%x} + known))
}

fuzztime=${KCURL_FUZZTIME:-4000x}
if [[ $fuzztime != 0 ]]; then
	# The argument rewriter, the Status decoder, the /proc/PID/root
	# resolver, the JSON decoder, the formatter, the YAML writer, --sort-by
	# and cp's untar. Their seeds already ran above.
	for target in ./cmd:FuzzInterspersed ./pkg/transport:FuzzResponseError ./pkg/target:FuzzOpenInRoot \
		./pkg/output:FuzzDecoder ./pkg/output:FuzzFormatter ./pkg/output:FuzzYAML ./pkg/output:FuzzSortBy ./pkg/stream:FuzzUntar; do
		fuzz "${target%%:*}" "${target#*:}"
	done
fi

if ((${#skipped[@]})); then
	say "NOT every suite ran; skipped, for want of root:"
	printf '  %s\n' "${skipped[@]}" >&2
	say "run scripts/test.sh as root (it installs what they need) for the whole run"
	exit 1
fi
