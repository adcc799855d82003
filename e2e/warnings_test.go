//go:build e2e

package e2e

import (
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// The real API server sends a deprecated CRD version's warning with every
// answer: kcurl prints it once a run, whichever answer carries it (each
// page, the streaming list, a watch, an error), before an error's line.
func TestServerWarningsFromEveryAnswer(t *testing.T) {
	const group, warning = "kcurl-warn.example.com", "gadgets v1 is going away"
	crd := obj{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": obj{"name": "gadgets." + group},
		"spec": obj{
			"group": group, "scope": "Namespaced",
			"names": obj{"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
			"versions": []obj{{
				"name": "v1", "served": true, "storage": true,
				"deprecated": true, "deprecationWarning": warning,
				"schema": obj{"openAPIV3Schema": obj{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}
	if code, body := adminDo(t, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd); code != 201 && code != 409 {
		t.Fatalf("installing the CRD: HTTP %d: %s", code, body)
	}
	s := newSandbox(t, obj{"apiGroups": []string{group}, "resources": []string{"gadgets"}, "verbs": []string{"get", "list", "watch"}})
	list := "/apis/" + group + "/v1/namespaces/" + s.NS + "/gadgets"
	deadline := time.Now().Add(30 * time.Second)
	for code, _ := adminDo(t, "GET", list, nil); code != 200; code, _ = adminDo(t, "GET", list, nil) {
		if time.Now().After(deadline) {
			t.Fatal("the gadgets CRD was not served within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, name := range []string{"g1", "g2", "g3"} {
		adminMust(t, "POST", list, obj{"apiVersion": group + "/v1", "kind": "Gadget", "metadata": obj{"name": name}}, nil)
	}
	names := "gadget.kcurl-warn.example.com/g1\ngadget.kcurl-warn.example.com/g2\ngadget.kcurl-warn.example.com/g3\n"
	once := "Warning: " + warning + "\n"

	harness.Expect(t, s.run(list+"/g1", "-q", ".metadata.name", "-r"), "g1\n", once, 0)
	// Three pages, each with the warning.
	harness.Expect(t, s.run(list, "--all", "--limit", "1", "-o", "name"), names, once, 0)
	// The streaming list (or pages, where the new CRD's cache refuses it).
	harness.Expect(t, s.run(list, "--all", "-o", "name"), names, once, 0)
	harness.Expect(t, s.run(list, "-w", "--timeout", "1", "-o", "name"), names, once, 0)
	harness.Expect(t, s.run(list+"/missing"), "",
		once+`Error from server (NotFound): gadgets.kcurl-warn.example.com "missing" not found`+"\n", 4)
}
