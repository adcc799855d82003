//go:build e2e

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// kcurlOutside runs kcurl as on a laptop or a CI runner: no sandbox, no
// service account, only the environment given, and no other process in
// sight. It runs in a PID namespace of its own: sandboxes share the host's
// (scripts/sandbox.sh), so the one that e2e/node's tests (run beside this
// package) or another test run has up at that moment would be a neighbour
// with a service account, which kcurl rightly takes as an ephemeral
// container's (SPEC §1.3, automatic --from-pid) over ~/.kube/config.
func kcurlOutside(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("kcurlOutside makes a PID namespace: the e2e tests run as root")
	}
	return runOutside(t, env, append([]string{"unshare", "--pid", "--fork", "--mount-proc", "--", kcurlBin}, args...)...)
}

// kcurlOnHost runs kcurl as kcurlOutside does, but among the host's
// processes.
func kcurlOnHost(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return runOutside(t, env, append([]string{kcurlBin}, args...)...)
}

func runOutside(t *testing.T, env map[string]string, argv ...string) result {
	t.Helper()
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = []string{"PATH=/usr/bin:/bin"}
	for k, v := range env {
		c.Env = append(c.Env, k+"="+v)
	}
	return runCmd(t, c, "", "")
}

// clientCert issues a client certificate from the cluster's client CA: the
// API server authenticates it as user CN in groups O.
func clientCert(t *testing.T, dir, cn string, groups ...string) (certFile, keyFile string) {
	t.Helper()
	caPEM, err := os.ReadFile(cluster["KCURL_CLUSTER_CLIENT_CA"])
	if err != nil {
		t.Fatal(err)
	}
	caKeyPEM, err := os.ReadFile(cluster["KCURL_CLUSTER_CLIENT_CA_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	caBlock, _ := pem.Decode(caPEM)
	ca, err := x509.ParseCertificate(caBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	keyBlock, _ := pem.Decode(caKeyPEM)
	caKey, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn, Organization: groups},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, cn+".crt"), filepath.Join(dir, cn+".key")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	return certFile, keyFile
}

// kubeconfig writes a kubeconfig with the cluster and the given users and
// contexts (name → context), the first context current.
func kubeconfig(t *testing.T, path string, users map[string]obj, contexts []obj) string {
	t.Helper()
	var userList []obj
	for name, u := range users {
		userList = append(userList, obj{"name": name, "user": u})
	}
	b, err := json.Marshal(obj{
		"apiVersion": "v1", "kind": "Config",
		"clusters": []obj{{"name": "e2e", "cluster": obj{"server": cluster["KCURL_CLUSTER_SERVER"], "certificate-authority": cluster["KCURL_CLUSTER_CA"]}}},
		"users":    userList, "contexts": contexts, "current-context": contexts[0]["name"],
	})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(b)) // JSON is YAML
	return path
}

func whoamiUser(t *testing.T, r result) string {
	t.Helper()
	var doc struct {
		UserInfo struct{ Username string } `json:"userInfo"`
	}
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &doc) != nil {
		t.Fatalf("whoami -o json:\n%s", r)
	}
	return doc.UserInfo.Username
}

func TestKubeconfigCredentials(t *testing.T) {
	s := newSandbox(t, configMapRules) // a namespace, and a ServiceAccount "app" with a token
	dir := t.TempDir()
	// The group of the client certificates may read ConfigMaps in s.NS.
	adminMust(t, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/"+s.NS+"/rolebindings", obj{
		"metadata": obj{"name": "devs"},
		"roleRef":  obj{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "app"},
		"subjects": []obj{{"kind": "Group", "name": "kcurl-e2e-devs", "apiGroup": "rbac.authorization.k8s.io"}},
	}, nil)
	adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/configmaps", obj{"metadata": obj{"name": "shared"}}, nil)
	certFile, keyFile := clientCert(t, dir, "alice", "kcurl-e2e-devs")
	certPEM, _ := os.ReadFile(certFile)
	keyPEM, _ := os.ReadFile(keyFile)
	tokenFile := filepath.Join(dir, "token")
	writeFile(t, tokenFile, s.Token)
	plugin := filepath.Join(dir, "credential-plugin")
	writeFile(t, plugin, "#!/bin/sh\ncat <<EOF\n"+`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"`+s.Token+`"}}`+"\nEOF\n")
	if err := os.Chmod(plugin, 0o755); err != nil {
		t.Fatal(err)
	}
	kc := kubeconfig(t, filepath.Join(dir, "config"), map[string]obj{
		"alice":        {"client-certificate": certFile, "client-key": keyFile},
		"alice-inline": {"client-certificate-data": base64.StdEncoding.EncodeToString(certPEM), "client-key-data": base64.StdEncoding.EncodeToString(keyPEM)},
		"sa-file":      {"tokenFile": tokenFile},
		"sa-exec":      {"exec": obj{"apiVersion": "client.authentication.k8s.io/v1", "command": plugin, "interactiveMode": "Never"}},
	}, []obj{
		{"name": "alice", "context": obj{"cluster": "e2e", "user": "alice", "namespace": s.NS}},
		{"name": "alice-inline", "context": obj{"cluster": "e2e", "user": "alice-inline", "namespace": s.NS}},
		{"name": "sa-file", "context": obj{"cluster": "e2e", "user": "sa-file", "namespace": s.NS}},
		{"name": "sa-exec", "context": obj{"cluster": "e2e", "user": "sa-exec", "namespace": s.NS}},
		{"name": "elsewhere", "context": obj{"cluster": "e2e", "user": "alice", "namespace": "kube-system"}},
	})
	env := map[string]string{"HOME": dir}
	saUser := "system:serviceaccount:" + s.NS + ":app"

	for _, tc := range []struct{ context, user string }{
		{"alice", "alice"}, {"alice-inline", "alice"}, {"sa-file", saUser}, {"sa-exec", saUser},
	} {
		t.Run("context "+tc.context, func(t *testing.T) {
			if got := whoamiUser(t, kcurlOutside(t, env, "--kubeconfig", kc, "--context", tc.context, "whoami", "-o", "json")); got != tc.user {
				t.Errorf("whoami: %q, want %q", got, tc.user)
			}
			harness.Expect(t, kcurlOutside(t, env, "--kubeconfig", kc, "--context", tc.context, "cm/shared", "-q", ".metadata.name", "-r"), "shared\n", "", 0)
		})
	}
	t.Run("the context's namespace is the default, --context switches it", func(t *testing.T) {
		harness.Expect(t, kcurlOutside(t, env, "--kubeconfig", kc, "--context", "elsewhere", "cm/shared"), "",
			`Error from server (Forbidden): configmaps "shared" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "kube-system"`+"\n", 4)
		harness.Expect(t, kcurlOutside(t, env, "--kubeconfig", kc, "--context", "elsewhere", "-n", s.NS, "cm/shared", "-q", ".metadata.name", "-r"), "shared\n", "", 0)
	})
	t.Run("--token-file overrides the context's user", func(t *testing.T) {
		if got := whoamiUser(t, kcurlOutside(t, env, "--kubeconfig", kc, "--context", "alice", "--token-file", tokenFile, "whoami", "-o", "json")); got != saUser {
			t.Errorf("whoami: %q", got)
		}
	})
	t.Run("KUBECONFIG merges several files", func(t *testing.T) {
		second := kubeconfig(t, filepath.Join(dir, "second"), map[string]obj{"only-here": {"tokenFile": tokenFile}},
			[]obj{{"name": "only-here", "context": obj{"cluster": "e2e", "user": "only-here", "namespace": s.NS}}})
		merged := map[string]string{"HOME": dir, "KUBECONFIG": kc + ":" + second}
		// The first file's current-context wins; the second's contexts exist.
		if got := whoamiUser(t, kcurlOutside(t, merged, "whoami", "-o", "json")); got != "alice" {
			t.Errorf("whoami: %q", got)
		}
		if got := whoamiUser(t, kcurlOutside(t, merged, "--context", "only-here", "whoami", "-o", "json")); got != saUser {
			t.Errorf("whoami --context only-here: %q", got)
		}
	})
	t.Run("-v shows the client certificate's request without a secret", func(t *testing.T) {
		r := kcurlOutside(t, env, "--kubeconfig", kc, "--context", "sa-exec", "/api", "-v", "-s")
		if r.Code != 0 || !strings.Contains(r.Stderr, "> Authorization: Bearer <redacted>\n") || strings.Contains(r.Stderr, s.Token) {
			t.Errorf("-v with an exec plugin:\n%s", r)
		}
	})
}

// docs/usage.md#where-the-server-and-the-credentials-come-from: an explicit kubeconfig beats the Pod; otherwise the Pod's
// service account; otherwise ~/.kube/config; otherwise exit 3 naming all
// three.
func TestKubeconfigPrecedence(t *testing.T) {
	s := newSandbox(t, configMapRules)
	certFile, keyFile := clientCert(t, s.Tmp, "bob", "kcurl-e2e-devs")
	kc := kubeconfig(t, filepath.Join(s.Tmp, "kubeconfig"), map[string]obj{"bob": {"client-certificate": certFile, "client-key": keyFile}},
		[]obj{{"name": "bob", "context": obj{"cluster": "e2e", "user": "bob", "namespace": s.NS}}})
	home := filepath.Join(s.Tmp, "home")
	if err := os.MkdirAll(filepath.Join(home, ".kube"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(kc)
	writeFile(t, filepath.Join(home, ".kube", "config"), string(data))
	saUser := "system:serviceaccount:" + s.NS + ":app"

	s.Env["HOME"] = home
	if got := whoamiUser(t, s.run("whoami", "-o", "json")); got != saUser {
		t.Errorf("in a Pod with ~/.kube/config: %q, want the service account", got)
	}
	if got := whoamiUser(t, s.run("--kubeconfig", kc, "whoami", "-o", "json")); got != "bob" {
		t.Errorf("in a Pod with --kubeconfig: %q, want bob", got)
	}
	if got := whoamiUser(t, s.run("--context", "bob", "whoami", "-o", "json")); got != "bob" {
		t.Errorf("in a Pod with --context: %q, want bob", got)
	}
	s.Env["KUBECONFIG"] = kc
	if got := whoamiUser(t, s.run("whoami", "-o", "json")); got != "bob" {
		t.Errorf("in a Pod with $KUBECONFIG: %q, want bob", got)
	}
	if r := s.run("config"); !strings.Contains(r.Stdout, `from kubeconfig $KUBECONFIG (`+kc+`), context "bob"`) {
		t.Errorf("config should name the kubeconfig:\n%s", r)
	}

	if got := whoamiUser(t, kcurlOutside(t, map[string]string{"HOME": home}, "whoami", "-o", "json")); got != "bob" {
		t.Errorf("outside a Pod with ~/.kube/config: %q, want bob", got)
	}
	r := kcurlOutside(t, map[string]string{"HOME": t.TempDir()}, "/api")
	if r.Code != 3 || !strings.Contains(r.Stderr, "no server: no --server, and $KUBERNETES_SERVICE_HOST is not set") ||
		!strings.Contains(r.Stderr, "/var/run/secrets/kubernetes.io/serviceaccount/token: is automountServiceAccountToken false") ||
		!strings.Contains(r.Stderr, "no kubeconfig: no --kubeconfig, no $KUBECONFIG, and no ") {
		t.Errorf("nothing anywhere:\n%s", r)
	}
}

// kcurl config get-contexts, current-context and view print what kubectl
// config prints, on two kubeconfig files merged through $KUBECONFIG (the
// first to set current-context wins) and on the admin's.
func TestConfigContextsAreKubectls(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first")
	writeFile(t, first, `apiVersion: v1
kind: Config
current-context: shop
contexts:
- {name: shop, context: {cluster: prod, user: deployer, namespace: shop}}
- {name: a-much-longer-context-name, context: {cluster: staging, user: me}}
clusters:
- {name: prod, cluster: {server: "https://127.0.0.1:1", certificate-authority-data: "Y2E="}}
users:
- {name: deployer, user: {token: never-printed, client-key-data: "a2V5"}}
`)
	second := filepath.Join(dir, "second")
	writeFile(t, second, `apiVersion: v1
kind: Config
current-context: other
contexts:
- {name: shop, context: {cluster: ignored, user: ignored}}
- {name: b, context: {cluster: prod, user: me, namespace: default}}
clusters:
- {name: staging, cluster: {server: "https://127.0.0.1:2"}}
- {name: a-cluster, cluster: {server: "https://127.0.0.1:3"}}
users:
- {name: me, user: {token: "never-printed"}}
- {name: admin, user: {token: "never-printed"}}
`)
	merged := map[string]string{"KUBECONFIG": first + ":" + second, "HOME": dir}
	admin := map[string]string{"KUBECONFIG": cluster["KCURL_CLUSTER_ADMIN_KUBECONFIG"], "HOME": dir}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"merged", merged, []string{"get-contexts"}},
		{"merged", merged, []string{"get-contexts", "-o", "name"}},
		{"merged", merged, []string{"get-contexts", "--no-headers", "shop", "b"}},
		{"merged", merged, []string{"current-context"}},
		{"admin", admin, []string{"get-contexts"}},
		{"admin", admin, []string{"current-context"}},
		{"merged", merged, []string{"view"}},
		{"merged", merged, []string{"view", "--minify", "-o", "json"}},
		{"merged", merged, []string{"view", "--minify", "--context", "shop", "-o", "jsonpath={..namespace}"}},
		{"admin", admin, []string{"view"}},
		{"admin", admin, []string{"view", "--minify", "-o", "go-template={{range .users}}{{.name}}{{end}}"}},
		{"merged", merged, []string{"get-users"}},
		{"admin", admin, []string{"get-users"}},
		{"merged", merged, []string{"get-clusters"}},
		{"admin", admin, []string{"get-clusters"}},
	} {
		t.Run(tc.name+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			c := exec.Command(cluster["KCURL_CLUSTER_KUBECTL"], append([]string{"config"}, tc.args...)...)
			c.Env = []string{"KUBECONFIG=" + tc.env["KUBECONFIG"], "HOME=" + dir}
			out, err := c.Output()
			if err != nil {
				t.Fatalf("kubectl config %v: %v", tc.args, err)
			}
			want := string(out)
			if tc.args[0] == "get-clusters" {
				// kubectl lists the clusters in its map's order, which
				// changes from run to run; kcurl sorts them.
				header, names, _ := strings.Cut(want, "\n")
				sorted := strings.Fields(names)
				slices.Sort(sorted)
				want = header + "\n" + strings.Join(sorted, "\n") + "\n"
			}
			r := kcurlOutside(t, tc.env, append([]string{"config"}, tc.args...)...)
			harness.Expect(t, r, want, "", 0)
			if strings.Contains(r.Stdout, "never-printed") || strings.Contains(r.Stdout, "a2V5") {
				t.Errorf("a secret was printed:\n%s", r.Stdout)
			}
		})
	}
	// A context not there: kubectl's message and the others listed; kcurl's
	// exit code is 3, where kubectl's is 1.
	harness.Expect(t, kcurlOutside(t, merged, "config", "get-contexts", "-o", "name", "b", "nope"), "b\n", "kcurl: context nope not found in the kubeconfig\n", 3)
}
