#!/usr/bin/env bash
# test.sh: every test kcurl has. Unit tests (httptest TLS servers, temporary
# service-account dirs) and e2e tests (the built binary against a real
# kube-apiserver and etcd on 127.0.0.1, in a Pod-like sandbox).
#
# The first run builds the control plane from the pinned Go modules (about 4
# minutes on 2 cores); later runs reuse the cached binaries.
# usage: scripts/test.sh [go test flags...]   e.g. scripts/test.sh -run TestCLI
# Then each fuzz target runs for KCURL_FUZZTIME (default 4s; 0 skips).
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n $unformatted ]]; then
	printf 'test.sh: gofmt would change:\n%s\n' "$unformatted" >&2
	exit 1
fi
go vet -tags e2e ./...
# node: also kubelet, kube-controller-manager, kube-scheduler and containerd
# for the real-Pod suite (e2e/node, scripts/node.sh).
scripts/cluster.sh build node
# -race: the proxy, the token and CA files and the watch run concurrently.
# -tags e2e: the e2e suites (e2e/ and e2e/node/) are behind that tag, so a
# plain `go test ./...` runs the unit tests alone.
go test -tags e2e -race -count=1 -timeout 30m "$@" ./...
# Every fuzz target for a few seconds each (KCURL_FUZZTIME, 0 skips them):
# the argument rewriter, the Status decoder, the /proc/PID/root resolver, the
# JSON decoder, the formatter and the YAML writer. Their seeds already ran
# above.
fuzztime=${KCURL_FUZZTIME:-4s}
if [[ $fuzztime != 0 ]]; then
	for target in ./cmd:FuzzInterspersed ./pkg/transport:FuzzResponseError ./pkg/target:FuzzOpenInRoot \
		./pkg/output:FuzzDecoder ./pkg/output:FuzzFormatter ./pkg/output:FuzzYAML; do
		go test -run '^$' -fuzz "^${target#*:}\$" -fuzztime "$fuzztime" "${target%%:*}"
	done
fi
