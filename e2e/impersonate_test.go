//go:build e2e

package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// The Pod's service account may impersonate the user jane and the group
// dev, nothing else; the real server decides, as it does for kubectl --as.
func TestImpersonation(t *testing.T) {
	s := newSandbox(t)
	role := "e2e-impersonate-" + s.NS
	adminMust(t, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", obj{
		"metadata": obj{"name": role},
		"rules": []obj{
			{"apiGroups": []string{""}, "resources": []string{"users"}, "resourceNames": []string{"jane"}, "verbs": []string{"impersonate"}},
			{"apiGroups": []string{""}, "resources": []string{"groups"}, "resourceNames": []string{"dev"}, "verbs": []string{"impersonate"}},
		},
	}, nil)
	t.Cleanup(func() { adminDo(t, "DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterroles/"+role, nil) })
	adminMust(t, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", obj{
		"metadata": obj{"name": role},
		"roleRef":  obj{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
		"subjects": []obj{{"kind": "ServiceAccount", "name": s.SA, "namespace": s.NS}},
	}, nil)
	t.Cleanup(func() { adminDo(t, "DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/"+role, nil) })
	// jane, in group dev, may read ConfigMaps in the namespace.
	adminMust(t, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/"+s.NS+"/roles", obj{
		"metadata": obj{"name": "cm-reader"}, "rules": []obj{{"apiGroups": []string{""}, "resources": []string{"configmaps"}, "verbs": []string{"get", "list", "watch"}}},
	}, nil)
	adminMust(t, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/"+s.NS+"/rolebindings", obj{
		"metadata": obj{"name": "cm-reader"},
		"roleRef":  obj{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
		"subjects": []obj{{"kind": "Group", "name": "dev", "apiGroup": "rbac.authorization.k8s.io"}},
	}, nil)
	adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/configmaps", obj{"metadata": obj{"name": "shared"}, "data": obj{"k": "v"}}, nil)

	t.Run("whoami --as is who the server takes the request for", func(t *testing.T) {
		r := s.run("whoami", "-o", "json", "--as", "jane", "--as-group", "dev")
		var doc struct {
			UserInfo struct {
				Username string
				Groups   []string
			} `json:"userInfo"`
		}
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &doc) != nil || doc.UserInfo.Username != "jane" || !slices.Contains(doc.UserInfo.Groups, "dev") {
			t.Errorf("whoami --as jane --as-group dev:\n%s", r)
		}
	})
	t.Run("a request, can-i and wait act as jane", func(t *testing.T) {
		harness.Expect(t, s.run("cm/shared", "-q", ".data.k", "-r"), "", `Error from server (Forbidden): configmaps "shared" is forbidden: User "system:serviceaccount:`+s.NS+`:app" cannot get resource "configmaps" in API group "" in the namespace "`+s.NS+`"`+"\n", 4)
		harness.Expect(t, s.run("cm/shared", "-q", ".data.k", "-r", "--as", "jane", "--as-group", "dev"), "v\n", "", 0)
		harness.Expect(t, s.run("can-i", "list", "configmaps", "--as", "jane", "--as-group", "dev"), "yes\n", "", 0)
		harness.Expect(t, s.run("can-i", "list", "configmaps", "--as", "jane"), "no\n", "", 1)
		harness.Expect(t, s.run("wait", "cm/shared", "--for", "create", "--as", "jane", "--as-group", "dev"), "configmap/shared condition met\n", "", 0)
	})
	t.Run("a refused impersonation is exit 4 with the server's message", func(t *testing.T) {
		harness.Expect(t, s.run("/api", "--as", "bob"), "",
			`Error from server (Forbidden): users "bob" is forbidden: User "system:serviceaccount:`+s.NS+`:app" cannot impersonate resource "users" in API group "" at the cluster scope`+"\n", 4)
	})
	t.Run("-v shows the headers", func(t *testing.T) {
		r := s.run("/api", "-s", "-v", "--as", "jane", "--as-group", "dev")
		if r.Code != 0 || !strings.Contains(r.Stderr, "> Impersonate-Group: dev\n> Impersonate-User: jane\n") {
			t.Errorf("-v --as:\n%s", r)
		}
	})
	t.Run("kcurl proxy --as acts as jane for every client, whatever Impersonate-User a client sends", func(t *testing.T) {
		p, addr := startProxy(t, s, "-p", "0", "--as", "jane", "--as-group", "dev")
		defer p.interrupt()
		for _, header := range []string{"X-Nothing: 1", "Impersonate-User: mallory"} {
			body, code := curl(t, "http://"+addr+"/apis/authentication.k8s.io/v1/selfsubjectreviews", "-H", "Content-Type: application/json", "-H", header,
				"-d", `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`)
			if code != 201 || !strings.Contains(strings.ReplaceAll(body, " ", ""), `"username":"jane"`) {
				t.Errorf("with %s: HTTP %d: %s", header, code, body)
			}
		}
	})
	t.Run("a kubeconfig's as and as-groups, and --as over them, each sent once", func(t *testing.T) {
		dir := t.TempDir()
		tokenFile := filepath.Join(dir, "token")
		writeFile(t, tokenFile, s.Token)
		kc := kubeconfig(t, filepath.Join(dir, "config"), map[string]obj{
			"as-jane": {"tokenFile": tokenFile, "as": "jane", "as-groups": []string{"dev"}},
		}, []obj{{"name": "as-jane", "context": obj{"cluster": "e2e", "user": "as-jane", "namespace": s.NS}}})
		env := map[string]string{"HOME": dir}
		r := kcurlOutside(t, env, "--kubeconfig", kc, "cm/shared", "-q", ".metadata.name", "-r", "-v")
		requests := strings.Count(r.Stderr, "> GET ") // discovery, then the object: each header once in each
		if r.Code != 0 || r.Stdout != "shared\n" || requests < 2 || strings.Count(r.Stderr, "> Impersonate-Group: dev\n") != requests || strings.Count(r.Stderr, "> Impersonate-User: jane\n") != requests {
			t.Errorf("kubeconfig as:\n%s", r)
		}
		harness.Expect(t, kcurlOutside(t, env, "--kubeconfig", kc, "/api", "-s", "--as", "bob"), "",
			`Error from server (Forbidden): users "bob" is forbidden: User "system:serviceaccount:`+s.NS+`:app" cannot impersonate resource "users" in API group "" at the cluster scope`+"\n", 4)
	})
}
