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
	# A neighbour to try the streaming commands on (docs/recipes.md, "A
	# debug Pod that reaches its neighbours"): exec, attach and port-forward
	# its Pods. Here only: the sandbox of scripts/try.sh runs no Pods.
	cat <<'YAML'
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kcurl-try-streams, namespace: kcurl-try}
rules:
- apiGroups: [""]
  resources: [pods/exec, pods/attach, pods/portforward]
  verbs: [create, get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kcurl-try-streams, namespace: kcurl-try}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kcurl-try-streams}
subjects: [{kind: ServiceAccount, name: kcurl-try, namespace: kcurl-try}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: kcurl-try, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: localhost/kcurl-e2e/shell:1
        imagePullPolicy: Never
        command: [sh, -c, 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www']
        ports: [{name: http, containerPort: 8080}]
        # Ready once it answers: rollout status below waits for that.
        readinessProbe:
          exec: {command: [wget, -q, -O, /dev/null, 'http://127.0.0.1:8080/']}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: kcurl-try}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
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
kubectl rollout status -n kcurl-try --timeout=90s deployment/web >/dev/null
say "in Pod kcurl-try/kcurl-try as system:serviceaccount:kcurl-try:kcurl-try (kcurl is /bin/kcurl)"
tty=-i
[[ -t 0 ]] && tty=-it
kubectl exec "$tty" -n kcurl-try kcurl-try -- "$@"
