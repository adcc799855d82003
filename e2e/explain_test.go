//go:build e2e

package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// installGadgets installs a CRD with a structural schema (descriptions,
// a required field, an enum, a nested object), once for the run, in a
// group of its own (explore_test.go lists kcurl-e2e.example.com's types).
func installGadgets(t *testing.T) {
	t.Helper()
	crd := obj{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": obj{"name": "gadgets.kcurl-explain.example.com"},
		"spec": obj{
			"group": "kcurl-explain.example.com", "scope": "Namespaced",
			"names": obj{"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "shortNames": []string{"gd"}},
			"versions": []obj{{
				"name": "v1", "served": true, "storage": true,
				"schema": obj{"openAPIV3Schema": obj{
					"type": "object", "description": "Gadget is a thing a test explains.",
					"properties": obj{
						"spec": obj{
							"type": "object", "description": "What the gadget should be.", "required": []string{"size"},
							"properties": obj{
								"size":  obj{"type": "integer", "description": "How many parts it has."},
								"color": obj{"type": "string", "description": "Its color.", "enum": []string{"red", "blue"}},
								"parts": obj{"type": "array", "description": "Its parts, in order.", "items": obj{
									"type": "object", "required": []string{"name"},
									"properties": obj{"name": obj{"type": "string", "description": "The part's name."}},
								}},
							},
						},
					},
				}},
			}},
		},
	}
	if code, body := adminDo(t, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd); code != 201 && code != 409 {
		t.Fatalf("installing the CRD: HTTP %d: %s", code, body)
	}
}

// kubectlExplain is what kubectl explain prints, as the admin.
func kubectlExplain(t *testing.T, args ...string) string {
	t.Helper()
	c := exec.Command(cluster["KCURL_CLUSTER_KUBECTL"], append([]string{"explain"}, args...)...)
	c.Env = []string{"KUBECONFIG=" + cluster["KCURL_CLUSTER_ADMIN_KUBECONFIG"], "HOME=" + t.TempDir()}
	out, err := c.Output()
	if err != nil {
		t.Fatalf("kubectl explain %v: %v", args, err)
	}
	return string(out)
}

// kcurl explain prints what kubectl explain prints, for built-in types and
// a CRD, from a Pod whose service account has no RBAC at all: the default
// discovery rights suffice.
func TestExplainIsKubectls(t *testing.T) {
	installGadgets(t)
	s := newSandbox(t)
	// The CRD's OpenAPI is published a moment after it is served.
	deadline := time.Now().Add(30 * time.Second)
	for s.run("explain", "gadgets.spec").Code != 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	for _, args := range [][]string{
		{"pods"},
		{"pods.spec.containers"},
		{"po.spec.restartPolicy"},
		{"deploy.spec.strategy"},
		{"deployments.apps.spec.template.metadata"},
		{"cronjobs.batch.spec", "--recursive"},
		{"configmaps", "--recursive", "--max-depth", "1"},
		{"gadgets"},
		{"gadgets.spec"},
		{"gd.spec.parts", "--recursive"},
		{"gadgets.kcurl-explain.example.com.spec.color"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			harness.Expect(t, s.run(append([]string{"explain"}, args...)...), kubectlExplain(t, args...), "", 0)
		})
	}
	t.Run("-o json is the schema", func(t *testing.T) {
		r := s.run("explain", "gadgets.spec", "-o", "json")
		var schema struct {
			Required   []string
			Properties map[string]struct{ Type string }
		}
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &schema) != nil || schema.Properties["size"].Type != "integer" || len(schema.Required) != 1 {
			t.Errorf("explain -o json:\n%s", r)
		}
	})
	t.Run("a field that does not exist", func(t *testing.T) {
		harness.Expect(t, s.run("explain", "pods.spec.nope"), "", "kcurl: field \"nope\" does not exist\n", 2)
	})
}
