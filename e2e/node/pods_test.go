//go:build e2e

package node

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// The README's first path: kubectl exec into docs/examples/debug-pod.yaml.
func debugPodExec(t *testing.T) {
	applyFile(t, "docs/examples/debug-pod.yaml")
	waitReady(t, "kcurl-demo", "kcurl-debug")
	kcurl := func(args ...string) result {
		return kubectl(t, append([]string{"exec", "-n", "kcurl-demo", "kcurl-debug", "--", "/kcurl"}, args...)...)
	}
	harness.Expect(t, kcurl("whoami"), "system:serviceaccount:kcurl-demo:kcurl-debug", "", 0, harness.Contains)
	harness.Expect(t, kcurl("pods", "-q", ".items[].metadata.name", "-r"), "kcurl-debug\n", "", 0, harness.Contains)
	r := kcurl("pods", "-o", "table")
	harness.Expect(t, r, "NAME", "", 0, harness.Contains)
	if !strings.Contains(r.Stdout, "kcurl-debug") || !strings.Contains(r.Stdout, "Running") {
		t.Errorf("the table does not show the running Pod:\n%s", r)
	}
	// The debug Pod idles as kcurl proxy, which says where it serves.
	harness.Expect(t, kcurl("pods/kcurl-debug/log"), "Starting to serve on 127.0.0.1:8001", "", 0, harness.Contains)
	harness.Expect(t, kcurl("secrets"), "", `Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:kcurl-demo:kcurl-debug"`, 4, harness.Contains)
}

// docs/examples/sidecar.yaml as written: the Pod becomes Ready (the
// sidecar's readiness probe works) and the app reads the API through it.
func sidecarExample(t *testing.T) {
	applyFile(t, "docs/examples/sidecar.yaml")
	waitReady(t, "kcurl-demo", "app-with-api")
	deadline := time.Now().Add(30 * time.Second)
	for {
		logs := kubectl(t, "logs", "-n", "kcurl-demo", "app-with-api", "-c", "app")
		if strings.Contains(logs.Stdout, `"kind": "PodList"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app did not read the API through the sidecar:\n%s", logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	harness.Expect(t, kubectl(t, "logs", "-n", "kcurl-demo", "app-with-api", "-c", "kube-api"), "Starting to serve on 127.0.0.1:8001", "", 0, harness.Contains)
}

// A Pod with one app container, its own ServiceAccount allowed to read
// Pods, and the container spec given.
func appPod(t *testing.T, ns, name, podSpec, container string) {
	t.Helper()
	serviceAccount(t, ns, "app", `- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]`)
	apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  serviceAccountName: app
  terminationGracePeriodSeconds: 1
%[3]s
  containers:
  - name: app
%[4]s
`, ns, name, indent(podSpec, "  "), indent(container, "    ")))
}

func indent(s, by string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = by + lines[i]
	}
	return strings.Join(lines, "\n")
}

// kubectl debug --target with kubectl's default profile, as the docs show
// it: the debug container has no service account of its own and reads the
// target's, whatever user the target runs as.
func debugTarget(t *testing.T) {
	sleeper := "image: " + shellImage + "\ncommand: [sh, -c, 'trap exit TERM; while :; do sleep 1; done']"
	cases := []struct {
		name, podSpec, container string
	}{
		{"root", "", sleeper},
		{"non-root", "", sleeper + "\nsecurityContext: {runAsUser: 1000, runAsGroup: 1000}"},
		{"pod-user", "securityContext: {runAsUser: 2000, runAsGroup: 2000}", sleeper},
		{"shared-pid", "shareProcessNamespace: true", sleeper + "\nsecurityContext: {runAsUser: 1000}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := namespace(t)
			appPod(t, ns, "web", c.podSpec, c.container)
			waitReady(t, ns, "web")
			debug := func(container string, args ...string) (int, string) {
				t.Helper()
				mustKubectl(t, append([]string{"debug", "-n", ns, "web", "--image=" + kcurlImage, "--target=app",
					"--container=" + container, "--", "/kcurl"}, args...)...)
				return ephemeralEnded(t, ns, "web", container)
			}
			code, logs := debug("whoami", "whoami")
			if code != 0 || !strings.Contains(logs, "system:serviceaccount:"+ns+":app") ||
				!strings.Contains(logs, "kcurl: using the service account of process") {
				t.Errorf("kcurl whoami in the debug container: exit %d\n%s", code, logs)
			}
			code, logs = debug("pods", "pods", "-o", "name")
			if code != 0 || !strings.Contains(logs, "pod/web\n") {
				t.Errorf("kcurl pods in the debug container: exit %d\n%s", code, logs)
			}
			// The ephemeral containers ran with kubectl's default profile:
			// nothing added but what "general" adds.
			spec := mustKubectl(t, "get", "pod", "-n", ns, "web", "-o", "jsonpath={.spec.ephemeralContainers[0].securityContext}")
			if strings.Contains(spec, "privileged") || strings.Contains(spec, "runAsUser") {
				t.Errorf("the debug container's securityContext is not the default profile's: %s", spec)
			}
		})
	}
}

// Pods of the shapes real clusters have, each running kcurl once; what a
// user sees is the Pod's exit code and its log.
func podShapes(t *testing.T) {
	ns := namespace(t)
	kcurlOnce := func(name, podSpec, container string, args ...string) (int, string) {
		t.Helper()
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = fmt.Sprintf("%q", a)
		}
		container = "image: " + kcurlImage + "\nargs: [" + strings.Join(quoted, ", ") + "]\n" + container
		appPod(t, ns, name, "restartPolicy: Never\n"+podSpec, container)
		return terminated(t, ns, name)
	}
	check := func(t *testing.T, code int, logs string, wantCode int, want string) {
		t.Helper()
		if code != wantCode || !strings.Contains(logs, want) {
			t.Errorf("want exit %d and a log containing %q; got exit %d:\n%s", wantCode, want, code, logs)
		}
	}
	t.Run("no-token", func(t *testing.T) {
		code, logs := kcurlOnce("no-token", "automountServiceAccountToken: false", "", "/api")
		check(t, code, logs, 3, "automountServiceAccountToken")
	})
	t.Run("read-only-random-uid", func(t *testing.T) {
		code, logs := kcurlOnce("read-only", "securityContext: {runAsUser: 48213, runAsGroup: 48213, runAsNonRoot: true}",
			"securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}",
			"pods", "-o", "name")
		check(t, code, logs, 0, "pod/read-only\n")
	})
	t.Run("no-service-links", func(t *testing.T) {
		code, logs := kcurlOnce("no-links", "enableServiceLinks: false", "", "/api", "-q", ".kind", "-r")
		check(t, code, logs, 0, "APIVersions\n")
	})
	t.Run("projected-token", func(t *testing.T) {
		code, logs := kcurlOnce("projected", `automountServiceAccountToken: false
volumes:
- name: api
  projected:
    sources:
    - serviceAccountToken: {path: token, expirationSeconds: 3600}
    - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}`,
			"volumeMounts: [{name: api, mountPath: /var/run/api, readOnly: true}]",
			"--token-file=/var/run/api/token", "--cacert=/var/run/api/ca.crt", "-n", ns, "whoami")
		check(t, code, logs, 0, "system:serviceaccount:"+ns+":app")
	})
	t.Run("dns-fallback", func(t *testing.T) {
		// The kubelet always sets the Service variables; empty is how a
		// Pod spec can take them away.
		code, logs := kcurlOnce("dns", `hostAliases:
- ip: 10.96.0.1
  hostnames: [kubernetes.default.svc]`, `env:
- {name: KUBERNETES_SERVICE_HOST, value: ""}
- {name: KUBERNETES_SERVICE_PORT, value: ""}
- {name: KUBERNETES_SERVICE_PORT_HTTPS, value: ""}`, "/api", "-v", "-q", ".kind", "-r")
		check(t, code, logs, 0, "APIVersions\n")
		check(t, code, logs, 0, "> Host: kubernetes.default.svc:443\n")
	})
}

// ephemeralEnded waits for an ephemeral container to end and returns its
// exit code and log. (kubectl debug -i attaches only once the container
// runs, and a command as quick as kcurl's may have printed and ended by
// then: kubectl then shows nothing and exits 0. The log has it all.)
func ephemeralEnded(t *testing.T, ns, pod, container string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out := kubectl(t, "get", "pod", "-n", ns, pod, "-o",
			`jsonpath={.status.ephemeralContainerStatuses[?(@.name=="`+container+`")].state.terminated.exitCode}`)
		if out.Code == 0 && out.Stdout != "" {
			var code int
			fmt.Sscan(out.Stdout, &code)
			return code, mustKubectl(t, "logs", "-n", ns, pod, "-c", container)
		}
		if time.Now().After(deadline) {
			t.Fatalf("ephemeral container %s of %s/%s did not end:\n%s", container, ns, pod, describe(t, ns, pod))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// terminated waits for the Pod's only container to end and returns its exit
// code and log.
func terminated(t *testing.T, ns, pod string) (int, string) {
	t.Helper()
	return terminatedWithin(t, ns, pod, 90*time.Second)
}

func terminatedWithin(t *testing.T, ns, pod string, d time.Duration) (int, string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		out := kubectl(t, "get", "pod", "-n", ns, pod, "-o", "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}")
		if out.Code == 0 && out.Stdout != "" {
			var code int
			fmt.Sscan(out.Stdout, &code)
			return code, mustKubectl(t, "logs", "-n", ns, pod)
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s/%s did not end:\n%s", ns, pod, describe(t, ns, pod))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// docs/examples/wait-for-secret.yaml as written: the init container waits
// (allowed to list and watch that one Secret only) until the Secret is
// made, then the app starts.
func waitForSecretExample(t *testing.T) {
	applyFile(t, "docs/examples/wait-for-secret.yaml")
	t.Cleanup(func() { kubectl(t, "delete", "secret", "-n", "kcurl-demo", "db-credentials", "--ignore-not-found") })
	deadline := time.Now().Add(60 * time.Second)
	for mustKubectl(t, "get", "pod", "-n", "kcurl-demo", "web", "-o", "jsonpath={.status.initContainerStatuses[0].state.running.startedAt}") == "" {
		if time.Now().After(deadline) {
			t.Fatalf("the init container did not start:\n%s", describe(t, "kcurl-demo", "web"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // it waits, and holds the app back
	if phase := mustKubectl(t, "get", "pod", "-n", "kcurl-demo", "web", "-o", "jsonpath={.status.phase}"); phase != "Pending" {
		t.Fatalf("the Pod is %s before its Secret exists:\n%s", phase, describe(t, "kcurl-demo", "web"))
	}
	mustKubectl(t, "create", "secret", "generic", "-n", "kcurl-demo", "db-credentials", "--from-literal=password=s3cret")
	waitReady(t, "kcurl-demo", "web")
	harness.Expect(t, kubectl(t, "logs", "-n", "kcurl-demo", "web", "-c", "wait-for-db-credentials"), "secret/db-credentials condition met\n", "", 0, harness.Contains)
	restarts := mustKubectl(t, "get", "pod", "-n", "kcurl-demo", "web", "-o", "jsonpath={.status.initContainerStatuses[0].restartCount}")
	if restarts != "0" {
		t.Errorf("the init container restarted %s times", restarts)
	}
}
