//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"
)

// startWatching starts kcurl with -v and returns once its watch request is
// on its way (after the list --watch-only makes first), so that what the
// test changes next is a change, however slow the machine is.
func startWatching(t *testing.T, s *sandbox, args ...string) *running {
	t.Helper()
	w := s.start(append(args, "-v")...)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(w.errText(), "&watch=true") {
		if time.Now().After(deadline) {
			t.Fatalf("kcurl did not start watching within 20 s; stderr:\n%s", w.errText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return w
}

// --watch-only prints the changes, not the objects that exist already:
// the watch starts at a list's resourceVersion, as kubectl's flag does.
func TestWatchOnly(t *testing.T) {
	s := newSandbox(t, exploreRules...)
	ns := "/api/v1/namespaces/" + s.NS + "/configmaps"
	adminMust(t, "POST", ns, obj{"metadata": obj{"name": "before"}}, nil)

	w := startWatching(t, s, "cm", "--watch-only", "-q", `"\(.type) \(.object.metadata.name)"`, "-r")
	if !strings.Contains(w.errText(), "?limit=1&resourceVersion=&watch=false") {
		t.Errorf("--watch-only should list once for a resourceVersion; stderr:\n%s", w.errText())
	}
	adminMust(t, "POST", ns, obj{"metadata": obj{"name": "after"}}, nil)
	if got := w.next(5 * time.Second); got != "ADDED after" {
		t.Fatalf("first event %q, want only the new ConfigMap", got)
	}
	if code, body := adminDoPatch(t, ns+"/before", `{"data":{"v":"1"}}`); code != 200 {
		t.Fatalf("patch: HTTP %d: %s", code, body)
	}
	if got := w.next(5 * time.Second); got != "MODIFIED before" {
		t.Fatalf("second event %q", got)
	}
	if r := w.interrupt(); r.Stdout != "ADDED after\nMODIFIED before\n" || r.Code != 0 {
		t.Errorf("Ctrl-C:\n%s", r)
	}

	// By name, with -w as well: the same.
	w = startWatching(t, s, "cm/before", "-w", "--watch-only", "-q", ".type", "-r", "--timeout", "5s")
	adminMust(t, "DELETE", ns+"/before", nil, nil)
	if r := w.wait(10 * time.Second); r.Stdout != "DELETED\n" || r.Code != 0 {
		t.Errorf("cm/before --watch-only:\n%s", r)
	}
}
