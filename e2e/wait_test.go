//go:build e2e

package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// kcurl wait needs list and watch only, never get: a Role with just those.
var waitRules = []obj{
	{"apiGroups": []string{""}, "resources": []string{"configmaps", "pods"}, "verbs": []string{"list", "watch"}},
}

// startWait starts kcurl wait with -v and returns once its watch request
// is on its way (the trace says so), so that the change the test makes next
// is seen by the watch, not by the list, however slow the machine is.
func startWait(t *testing.T, s *sandbox, args ...string) *running {
	t.Helper()
	w := s.start(append(append([]string{"wait"}, args...), "-v")...)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(w.errText(), "&watch=true") {
		if time.Now().After(deadline) {
			t.Fatalf("kcurl wait did not start watching within 20 s; stderr:\n%s", w.errText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return w
}

// expectMet checks what a started wait printed and its exit code; stderr
// has -v's trace.
func expectMet(t *testing.T, w *running, stdout string) {
	t.Helper()
	r := w.wait(10 * time.Second)
	if r.Stdout != stdout || r.Code != 0 {
		t.Errorf("got:\n%s\nwant exit 0 and stdout:\n%s", r, stdout)
	}
}

func TestWaitForCreateAndDelete(t *testing.T) {
	s := newSandbox(t, waitRules...)
	cms := "/api/v1/namespaces/" + s.NS + "/configmaps"

	w := startWait(t, s, "cm/later", "--for", "create", "--timeout", "20s")
	adminMust(t, "POST", cms, obj{"metadata": obj{"name": "later"}}, nil)
	expectMet(t, w, "configmap/later condition met\n")

	w = startWait(t, s, "cm/later", "--for", "delete", "--timeout", "20s")
	adminMust(t, "DELETE", cms+"/later", nil, nil)
	expectMet(t, w, "configmap/later condition met\n")

	// Gone already: met at once, and nothing to print, as kubectl.
	harness.Expect(t, s.run("wait", "cm/later", "--for", "delete"), "", "", 0)

	start := time.Now()
	harness.Expect(t, s.run("wait", "cm/never", "--for", "create", "--timeout", "1s"), "",
		"kcurl: timed out after 1s waiting for configmaps/never: it does not exist\n", 1)
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("a 1s timeout took %v", d)
	}
}

// A Pod's Ready condition, changed as the kubelet would, through the status
// subresource: kcurl prints what kubectl wait prints.
func TestWaitForPodCondition(t *testing.T) {
	s := newSandbox(t, waitRules...)
	pod := "/api/v1/namespaces/" + s.NS + "/pods/" + s.Pod
	setStatus := func(patch string) {
		t.Helper()
		if code, body := adminDoPatch(t, pod+"/status", patch); code != 200 {
			t.Fatalf("patching the Pod's status: HTTP %d: %s", code, body)
		}
	}
	setStatus(`{"status":{"phase":"Pending","conditions":[{"type":"Ready","status":"False","reason":"ContainersNotReady","message":"containers with unready status: [app]"}]}}`)

	harness.Expect(t, s.run("wait", "po/app-pod", "--for", "condition=Ready", "--timeout", "1s"), "",
		"kcurl: timed out after 1s waiting for pods/app-pod: pod/app-pod: condition Ready is False (ContainersNotReady: containers with unready status: [app])\n", 1)

	w := startWait(t, s, "po/app-pod", "--for", "condition=Ready", "--timeout", "20s")
	j := startWait(t, s, "pods", "--for", `.status.phase == "Running"`, "-q", ".status.phase", "-r")
	setStatus(`{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}`)
	expectMet(t, w, "pod/app-pod condition met\n")
	expectMet(t, j, "Running\n")

	// kubectl wait, as the admin, says the same.
	kubectl := exec.Command(cluster["KCURL_CLUSTER_KUBECTL"], "wait", "-n", s.NS, "pod/app-pod", "--for=condition=Ready", "--timeout=5s")
	kubectl.Env = []string{"KUBECONFIG=" + cluster["KCURL_CLUSTER_ADMIN_KUBECONFIG"], "HOME=" + t.TempDir()}
	want, err := kubectl.Output()
	if err != nil {
		t.Fatalf("kubectl wait: %v", err)
	}
	harness.Expect(t, s.run("wait", "po/app-pod", "--for", "condition=ready"), string(want), "", 0)
}

// With a selector every matching object must meet the condition.
func TestWaitForEverySelected(t *testing.T) {
	s := newSandbox(t, waitRules...)
	cms := "/api/v1/namespaces/" + s.NS + "/configmaps"
	for _, name := range []string{"a", "b"} {
		adminMust(t, "POST", cms, obj{"metadata": obj{"name": name, "labels": obj{"app": "x"}}, "data": obj{"ready": "no"}}, nil)
	}
	w := startWait(t, s, "cm", "-l", "app=x", "--for", `.data.ready == "yes"`, "--timeout", "20s")
	if code, body := adminDoPatch(t, cms+"/a", `{"data":{"ready":"yes"}}`); code != 200 {
		t.Fatalf("patch: HTTP %d: %s", code, body)
	}
	w.quiet(700 * time.Millisecond) // b is not ready yet
	if code, body := adminDoPatch(t, cms+"/b", `{"data":{"ready":"yes"}}`); code != 200 {
		t.Fatalf("patch: HTTP %d: %s", code, body)
	}
	expectMet(t, w, "configmap/a condition met\nconfigmap/b condition met\n")
}

// No right to list (or watch): exit 4 at once, not a timeout.
func TestWaitWithoutRights(t *testing.T) {
	s := newSandbox(t)
	start := time.Now()
	r := s.run("wait", "cm/x", "--for", "create", "--timeout", "30s")
	want := `Error from server (Forbidden): configmaps "x" is forbidden: User "system:serviceaccount:` + s.NS + `:app" cannot list resource "configmaps" in API group "" in the namespace "` + s.NS + `"` + "\n"
	harness.Expect(t, r, "", want, 4)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a missing right took %v to report", d)
	}

	// list but not watch: the watch's 403, at once too.
	s = newSandbox(t, obj{"apiGroups": []string{""}, "resources": []string{"configmaps"}, "verbs": []string{"list"}})
	r = s.run("wait", "cm/x", "--for", "create", "--timeout", "30s")
	if r.Code != 4 || !strings.Contains(r.Stderr, `cannot watch resource "configmaps"`) {
		t.Errorf("wait without watch:\n%s", r)
	}
}

// docs/examples/wait-for-secret.yaml's Role: list and watch of one name
// only. RBAC matches resourceNames against the metadata.name field
// selector that kcurl wait sends for TYPE/NAME.
func TestWaitWithOneResourceName(t *testing.T) {
	s := newSandbox(t, obj{"apiGroups": []string{""}, "resources": []string{"secrets"}, "resourceNames": []string{"db-credentials"}, "verbs": []string{"list", "watch"}})
	w := startWait(t, s, "secret/db-credentials", "--for", "create", "--timeout", "20s")
	adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/secrets", obj{"metadata": obj{"name": "db-credentials"}, "stringData": obj{"password": "p"}}, nil)
	expectMet(t, w, "secret/db-credentials condition met\n")
	if r := s.run("wait", "secret/other", "--for", "create"); r.Code != 4 {
		t.Errorf("another Secret's name should be forbidden:\n%s", r)
	}
}
