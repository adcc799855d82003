#!/usr/bin/env bash
# try-pod.sh: scripts/try.sh --pod (see there): kcurl in a real Pod on the
# one-node cluster of scripts/node.sh, entered with kubectl exec -it.
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
say() { printf 'try.sh: %s\n' "$*" >&2; }
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
(($#)) || set -- sh
# shellcheck source=lib/deps.sh
. "$repo/scripts/lib/deps.sh"
deps_ensure controlplane image node

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
say "building kcurl and the Pod's image"
(cd "$repo" && CGO_ENABLED=0 go build -tags urfave_cli_no_docs -trimpath -o "$work/kcurl" .)
"$repo/scripts/image.sh" node-images "$work" >/dev/null
"$repo/scripts/image.sh" toolbox "$work/kcurl" "$work/toolbox.tar"

KCURL_NODE_IMAGES="$work/pause.tar $work/shell.tar $work/curl.tar" "$repo/scripts/node.sh" up >/dev/null
# A reused node has the old toolbox: import this build's under the same name.
"$repo/scripts/node.sh" import "$work/toolbox.tar"

kubectl() { "$repo/scripts/node.sh" kubectl "$@"; }
kubectl delete pod -n kcurl-try kcurl-try --ignore-not-found --wait=true --grace-period=1 >/dev/null 2>&1 || true
{
	sed -e "s/@NS@/kcurl-try/g" -e "s/@SA@/kcurl-try/g" "$repo/scripts/try-identity.yaml"
	cat <<'YAML'
---
apiVersion: v1
kind: Pod
metadata: {name: kcurl-try, namespace: kcurl-try}
spec:
  serviceAccountName: kcurl-try
  terminationGracePeriodSeconds: 1
  containers:
  - name: shell
    image: localhost/kcurl-try/toolbox:latest
    imagePullPolicy: Never
    command: [sh, -c, 'trap exit TERM; while :; do sleep 1; done']
    securityContext:
      runAsUser: 65532
      runAsNonRoot: true
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
YAML
} | kubectl apply -f - >/dev/null
kubectl wait -n kcurl-try --for=condition=Ready --timeout=90s pod/kcurl-try >/dev/null
say "in Pod kcurl-try/kcurl-try as system:serviceaccount:kcurl-try:kcurl-try (kcurl is /bin/kcurl)"
tty=-i
[[ -t 0 ]] && tty=-it
kubectl exec "$tty" -n kcurl-try kcurl-try -- "$@"
