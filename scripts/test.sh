#!/usr/bin/env bash
# test.sh: every test kcurl has. Unit tests (httptest TLS servers, temporary
# service-account dirs) and e2e tests (the built binary against a real
# kube-apiserver and etcd on 127.0.0.1, in a Pod-like sandbox).
#
# The first run builds the control plane from the pinned Go modules (about 4
# minutes on 2 cores); later runs reuse the cached binaries.
# usage: scripts/test.sh [go test flags...]   e.g. scripts/test.sh -run TestCLI
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n $unformatted ]]; then
	printf 'test.sh: gofmt would change:\n%s\n' "$unformatted" >&2
	exit 1
fi
go vet -tags e2e ./...
scripts/cluster.sh build
# -race: the proxy, the token and CA files and the watch run concurrently.
go test -tags e2e -race -count=1 -timeout 30m "$@" ./...
