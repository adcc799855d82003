//go:build e2e

package node

import (
	"fmt"
	"github.com/kcurl/kcurl/e2e/internal/harness"
	"regexp"
	"strings"
	"testing"
)

// sleeperContainer is an app container that idles until it is stopped.
const sleeperContainer = "image: " + shellImage + "\ncommand: [sh, -c, 'trap exit TERM; while :; do sleep 1; done']"

// kcurlDebug runs this run's kcurl debug from the node's namespace with the
// admin kubeconfig, as a user on a laptop would; extra flags go before the
// command's own.
func kcurlDebug(t *testing.T, ns string, args ...string) result {
	t.Helper()
	return inNode(t, "", append([]string{kcurlBin, "--kubeconfig", node["KCURL_NODE_KUBECONFIG"], "-n", ns,
		"debug", "--image", kcurlImage}, args...)...)
}

// ephemeralName is the name kcurl debug said on stderr.
var ephemeralName = regexp.MustCompile(`ephemeral container (kcurl-[a-z0-9]{5}) of pod`)

// debugged checks one run of kcurl debug: its exit code, stdout and the
// notice that names the container; it returns the container's name.
func debugged(t *testing.T, r result, wantStdout string, code int) string {
	t.Helper()
	m := ephemeralName.FindStringSubmatch(r.Stderr)
	if r.Code != code || !strings.Contains(r.Stdout, wantStdout) || m == nil {
		t.Fatalf("want exit %d, stdout containing %q and the container's name on stderr; got\n%s", code, wantStdout, r)
	}
	return m[1]
}

// ephemeralSecurity is the securityContext kcurl debug gave the container.
func ephemeralSecurity(t *testing.T, ns, pod, name string) string {
	t.Helper()
	return mustKubectl(t, "get", "pod", "-n", ns, pod, "-o",
		`jsonpath={.spec.ephemeralContainers[?(@.name=="`+name+`")].securityContext}`)
}

// kcurl debug against the shapes targets have: it reads the API as the
// target's service account, runs as the target's user, and says the inner
// kcurl's exit code. In a namespace that enforces `restricted`, against a
// user-namespace Pod (hostUsers: false) too.
func debugCommand(t *testing.T) {
	restrictedApp := sleeperContainer + `
securityContext:
  runAsNonRoot: true
  runAsUser: 1000
  runAsGroup: 1000
  allowPrivilegeEscalation: false
  capabilities: {drop: [ALL]}
  seccompProfile: {type: RuntimeDefault}`
	cases := []struct {
		name, podSpec, container string
		restricted               bool
		wantUser                 string
	}{
		{name: "root", container: sleeperContainer, wantUser: `"runAsUser":65532`},
		{name: "pod-user", podSpec: "securityContext: {runAsUser: 2000, runAsGroup: 2000}", container: sleeperContainer, wantUser: `"runAsUser":2000`},
		{name: "container-user", container: sleeperContainer + "\nsecurityContext: {runAsUser: 1000, runAsGroup: 1000}", wantUser: `"runAsUser":1000`},
		{name: "restricted", container: restrictedApp, restricted: true, wantUser: `"runAsUser":1000`},
		{name: "user-namespace", podSpec: "hostUsers: false", container: sleeperContainer, wantUser: `"runAsUser":65532`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := namespace(t)
			if c.restricted {
				mustKubectl(t, "label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted")
			}
			appPod(t, ns, "web", c.podSpec, c.container)
			waitReady(t, ns, "web")

			r := kcurlDebug(t, ns, "web")
			name := debugged(t, r, "system:serviceaccount:"+ns+":app", 0)
			if strings.Contains(r.Stdout, "using the service account of process") {
				t.Errorf("kcurl read the service account through /proc, not its own mount:\n%s", r)
			}
			sc := ephemeralSecurity(t, ns, "web", name)
			for _, want := range []string{c.wantUser, `"runAsNonRoot":true`, `"allowPrivilegeEscalation":false`,
				`"capabilities":{"drop":["ALL"]}`, `"seccompProfile":{"type":"RuntimeDefault"}`, `"readOnlyRootFilesystem":true`} {
				if !strings.Contains(sc, want) {
					t.Errorf("the ephemeral container's securityContext lacks %s: %s", want, sc)
				}
			}
			if c.name != "root" {
				return
			}
			// The inner kcurl's answers and exit codes come back.
			debugged(t, kcurlDebug(t, ns, "web", "--", "pods", "-o", "name"), "pod/web\n", 0)
			r = kcurlDebug(t, ns, "web", "--", "secrets")
			debugged(t, r, `Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:`+ns+`:app" cannot list resource "secrets"`, 4)
			r = kcurlDebug(t, ns, "web", "--", "can-i", "list", "secrets", "-q")
			debugged(t, r, "", 1)
			if r.Stdout != "" {
				t.Errorf("can-i -q printed something:\n%s", r)
			}
			// Its name, as asked.
			r = kcurlDebug(t, ns, "web", "-c", "mine", "--", "/api", "-q", ".kind", "-r")
			harness.Expect(t, r, "APIVersions\n", "ephemeral container mine of pod "+ns+"/web", 0, harness.Contains)
			harness.Expect(t, kcurlDebug(t, ns, "web", "-c", "mine"), "", `pod web already has a container named "mine"`, 2, harness.Contains)
		})
	}
}

// What is refused is refused before anything is created: no service
// account in the target (3), an unknown container (2), a missing right
// (4, as the server words it), no image (2).
func debugCommandRefusals(t *testing.T) {
	ns := namespace(t)
	appPod(t, ns, "web", "automountServiceAccountToken: false", sleeperContainer)
	waitReady(t, ns, "web")
	harness.Expect(t, kcurlDebug(t, ns, "web"), "",
		`kcurl: container "app" of pod web has no service account mounted at /var/run/secrets/kubernetes.io/serviceaccount (is automountServiceAccountToken false?)`, 3, harness.Contains)
	harness.Expect(t, kcurlDebug(t, ns, "web", "--target", "db"), "", `kcurl: pod web has no container "db": choose --target from app`, 2, harness.Contains)
	// The app's service account may get and list pods, no more.
	harness.Expect(t, kcurlDebug(t, ns, "--as", "system:serviceaccount:"+ns+":app", "web"), "",
		`Error from server (Forbidden): pods "web" is forbidden: User "system:serviceaccount:`+ns+`:app" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "`+ns+`"`, 4, harness.Contains)
	harness.Expect(t, inNode(t, "", kcurlBin, "--kubeconfig", node["KCURL_NODE_KUBECONFIG"], "-n", ns, "debug", "web"), "",
		"kcurl: no image to run: give --image IMAGE or set KCURL_IMAGE", 2, harness.Contains)
	if got := mustKubectl(t, "get", "pod", "-n", ns, "web", "-o", "jsonpath={.spec.ephemeralContainers}"); got != "" {
		t.Errorf("a refused kcurl debug created an ephemeral container: %s", got)
	}
}

// kcurl debug from inside a Pod whose service account has the rights
// (kcurl in the toolbox image): the inner kcurl is the target's identity,
// not the debugger's.
func debugCommandFromPod(t *testing.T) {
	ns := namespace(t)
	appPod(t, ns, "web", "", sleeperContainer)
	serviceAccount(t, ns, "debugger", `- apiGroups: [""]
  resources: [pods]
  verbs: [get, watch]
- apiGroups: [""]
  resources: [pods/ephemeralcontainers]
  verbs: [patch]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]`)
	apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: toolbox, namespace: %s}
spec:
  serviceAccountName: debugger
  terminationGracePeriodSeconds: 1
  containers:
  - name: toolbox
    image: %s
    imagePullPolicy: Never
    command: [sh, -c, 'trap exit TERM; while :; do sleep 1; done']
    env: [{name: KCURL_IMAGE, value: %s}]
`, ns, toolboxImage, kcurlImage))
	waitReady(t, ns, "web")
	waitReady(t, ns, "toolbox")
	r := kubectl(t, "exec", "-n", ns, "toolbox", "--", "kcurl", "debug", "web", "--", "whoami")
	debugged(t, r, "system:serviceaccount:"+ns+":app", 0)
	if strings.Contains(r.Stdout, "debugger") {
		t.Errorf("the inner kcurl ran as the debugger:\n%s", r)
	}
	r = kubectl(t, "exec", "-n", ns, "toolbox", "--", "kcurl", "debug", "web", "--", "configmaps")
	debugged(t, r, `cannot list resource "configmaps"`, 4)
}
