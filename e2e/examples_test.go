//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The manifests docs/examples gives people are accepted by a real API
// server, as written (the test cluster is thrown away afterwards).
func TestExampleManifestsAreAccepted(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "docs", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	paths := map[string]string{ // kind → collection path, {ns} for namespaced ones
		"Namespace":      "/api/v1/namespaces",
		"ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
		"Pod":            "/api/v1/namespaces/{ns}/pods",
		"Role":           "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
		"RoleBinding":    "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, doc := range bytes.Split(data, []byte("\n---\n")) {
				jsonDoc, err := yaml.YAMLToJSON(doc)
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				var meta struct {
					Kind     string `json:"kind"`
					Metadata struct {
						Name, Namespace string
					} `json:"metadata"`
				}
				if err := json.Unmarshal(jsonDoc, &meta); err != nil || meta.Kind == "" {
					continue // a comment-only document
				}
				path, ok := paths[meta.Kind]
				if !ok {
					t.Fatalf("the test does not know where %s goes", meta.Kind)
				}
				code, body := adminDo(t, "POST", strings.ReplaceAll(path, "{ns}", meta.Metadata.Namespace), json.RawMessage(jsonDoc))
				if code != 201 && !(code == 409 && meta.Kind == "Namespace") {
					t.Errorf("%s %s: HTTP %d: %s", meta.Kind, meta.Metadata.Name, code, body)
				}
			}
		})
	}
}
