//go:build e2e

package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// A CA rotation for real: kube-controller-manager publishes a new
// kube-root-ca.crt, the kubelet rewrites the Pods' ca.crt, the apiserver
// then serves a certificate of the new CA only (restarted, so every
// connection is made anew), and a running kcurl proxy and a running watch
// go on without a restart.
//
// Last in TestNode's order: it leaves the cluster on the next CA (the
// node's own clients trust both).
func caRotation(t *testing.T) {
	ns := namespace(t)
	serviceAccount(t, ns, "app", `- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch]`)
	apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: rotating, namespace: %[1]s}
spec:
  serviceAccountName: app
  terminationGracePeriodSeconds: 1
  containers:
  - name: proxy
    image: %[2]s
    args: [proxy]
  - name: watch
    image: %[2]s
    # --relist: the restarted apiserver's watch cache starts at etcd's
    # current revision, so resuming from the last one seen is a 410.
    args: [configmaps, -w, --relist, -q, '.type + " " + .object.metadata.name', -r]
  # Shares the service-account volume with the two above: where the test
  # reads the ca.crt they see, and the proxy's client.
  - name: shell
    image: %[3]s
    command: [sh, -c, 'trap exit TERM; while :; do sleep 1; done']
`, ns, kcurlImage, shellImage))
	waitReady(t, ns, "rotating")

	shell := func(script string) result {
		return kubectl(t, "exec", "-n", ns, "rotating", "-c", "shell", "--", "sh", "-c", script)
	}
	throughProxy := func() result {
		return shell("wget -qO- http://127.0.0.1:8001/api/v1/namespaces/" + ns + "/configmaps/kube-root-ca.crt")
	}
	watched := func(name string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(kubectl(t, "logs", "-n", ns, "rotating", "-c", "watch").Stdout, "ADDED "+name+"\n") {
			if time.Now().After(deadline) {
				t.Fatalf("the watch did not show %s:\n%s", name, kubectl(t, "logs", "-n", ns, "rotating", "-c", "watch"))
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	mustKubectl(t, "create", "configmap", "-n", ns, "before")
	watched("before")
	harness.Expect(t, throughProxy(), `"name": "kube-root-ca.crt"`, "", 0, harness.Contains)

	oldCA, err := os.ReadFile(node["KCURL_CLUSTER_CA"])
	if err != nil {
		t.Fatal(err)
	}
	nextCA, err := os.ReadFile(node["KCURL_NODE_NEXT_CA"])
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "bundle.crt")
	if err := os.WriteFile(bundle, append(append([]byte{}, oldCA...), nextCA...), 0o644); err != nil {
		t.Fatal(err)
	}
	nodeScript(t, "rotate-ca", "publish", bundle)
	// The kubelet rewrites the Pod's ca.crt from kube-root-ca.crt.
	next := strings.TrimSpace(string(nextCA))
	deadline := time.Now().Add(120 * time.Second)
	for !strings.Contains(shell("cat /var/run/secrets/kubernetes.io/serviceaccount/ca.crt").Stdout, next) {
		if time.Now().After(deadline) {
			t.Fatal("the kubelet did not rewrite the Pod's ca.crt within 2 minutes")
		}
		time.Sleep(time.Second)
	}
	nodeScript(t, "rotate-ca", "serve-next")

	// The same processes, never restarted, trust the new CA now. A
	// restarted apiserver's watch cache starts at etcd's revision, so the
	// watch may list again (--relist) after a ConfigMap was made, and a
	// relist shows nothing made before it (seen under two CI runs at
	// once): a new ConfigMap every 10 s until the watch shows one.
	deadline = time.Now().Add(90 * time.Second)
	for i := 1; ; i++ {
		name := fmt.Sprintf("after-%d", i)
		mustKubectl(t, "create", "configmap", "-n", ns, name)
		seen := false
		for wait := time.Now().Add(10 * time.Second); !seen && time.Now().Before(wait); time.Sleep(300 * time.Millisecond) {
			seen = strings.Contains(kubectl(t, "logs", "-n", ns, "rotating", "-c", "watch").Stdout, "ADDED "+name+"\n")
		}
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watch showed none of after-1..%d:\n%s", i, kubectl(t, "logs", "-n", ns, "rotating", "-c", "watch"))
		}
	}
	harness.Expect(t, throughProxy(), `"name": "kube-root-ca.crt"`, "", 0, harness.Contains)
	restarts := mustKubectl(t, "get", "pod", "-n", ns, "rotating", "-o", "jsonpath={range .status.containerStatuses[*]}{.name}={.restartCount} {end}")
	if restarts != "proxy=0 shell=0 watch=0 " {
		t.Errorf("containers restarted during the rotation: %s\nthe watch's previous log:\n%s\nthe proxy's:\n%s", restarts,
			kubectl(t, "logs", "-n", ns, "rotating", "-c", "watch", "--previous"),
			kubectl(t, "logs", "-n", ns, "rotating", "-c", "proxy", "--previous"))
	}
}

// nodeScript runs scripts/node.sh on this run's node.
func nodeScript(t *testing.T, args ...string) {
	t.Helper()
	if err := script([]string{"KCURL_NODE_DIR=" + node["KCURL_NODE_DIR"]}, "node.sh", args...); err != nil {
		t.Fatalf("node.sh %s: %v", strings.Join(args, " "), err)
	}
}
