//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

var configMapRules = obj{
	"apiGroups": []string{""},
	"resources": []string{"configmaps"},
	"verbs":     []string{"get", "list", "watch", "create", "update", "patch", "delete"},
}

// The Kubernetes docs' example of `curl $APISERVER/api` from inside a Pod,
// with this cluster's address.
func TestAPIFromInsideAPod(t *testing.T) {
	s := newSandbox(t)
	want := `{
  "kind": "APIVersions",
  "versions": [
    "v1"
  ],
  "serverAddressByClientCIDRs": [
    {
      "clientCIDR": "0.0.0.0/0",
      "serverAddress": "127.0.0.1:` + cluster["KCURL_CLUSTER_PORT"] + `"
    }
  ]
}
`
	harness.Expect(t, s.run("/api"), want, "", 0)
}

// An answer that cannot be written (stdout on a full disk) is exit 1,
// said as it is: no "internal error".
func TestAnAnswerThatCannotBeWritten(t *testing.T) {
	s := newSandbox(t)
	harness.Expect(t, s.exec("", "sh", "-c", `"$0" /api >/dev/full`, kcurlBin), "",
		"kcurl: write /dev/stdout: no space left on device\n", 1)
}

func TestWithoutRBACTheAnswerIsForbidden(t *testing.T) {
	s := newSandbox(t)
	harness.Expect(t, s.run("/api/v1/namespaces/{namespace}/pods"), "",
		`Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:`+s.NS+`:app" cannot list resource "pods" in API group "" in the namespace "`+s.NS+`"`+"\n", 4)
}

func TestConfigMapLifecycle(t *testing.T) {
	s := newSandbox(t, configMapRules)
	cms := "/api/v1/namespaces/{namespace}/configmaps"

	t.Run("create from JSON", func(t *testing.T) {
		harness.Expect(t, s.run(cms, "-d", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"from-json"},"data":{"a":"1"}}`, "-q", ".metadata.name", "-r"),
			"from-json\n", "", 0)
	})
	t.Run("create from a YAML file", func(t *testing.T) {
		writeFile(t, filepath.Join(s.Tmp, "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  big: \"12345678901234567890\"\n")
		harness.Expect(t, s.run(cms, "-d", "@cm.yaml", "-q", ".metadata.name", "-r"), "from-yaml\n", "", 0)
	})
	t.Run("create from YAML on stdin", func(t *testing.T) {
		harness.Expect(t, s.runWithStdin("metadata:\n  name: from-stdin\n", cms, "-d", "@-", "-q", ".metadata.name", "-r"), "from-stdin\n", "", 0)
	})
	t.Run("get", func(t *testing.T) {
		harness.Expect(t, s.run(cms+"/from-json", "-q", ".data", "-c"), `{"a":"1"}`+"\n", "", 0)
	})
	t.Run("list with a jq filter", func(t *testing.T) {
		harness.Expect(t, s.run(cms, "-q", ".items[].metadata.name", "-r"), "from-json\nfrom-stdin\nfrom-yaml\n", "", 0)
	})
	t.Run("merge patch", func(t *testing.T) {
		harness.Expect(t, s.run(cms+"/from-json", "-X", "PATCH", "-d", `{"data":{"b":"2"}}`, "-q", ".data", "-c"), `{"a":"1","b":"2"}`+"\n", "", 0)
	})
	t.Run("JSON patch", func(t *testing.T) {
		harness.Expect(t, s.run(cms+"/from-json", "--type", "json", "-d", `[{"op":"replace","path":"/data/a","value":"10"}]`, "-q", ".data.a", "-r"), "10\n", "", 0)
	})
	t.Run("strategic merge patch", func(t *testing.T) {
		harness.Expect(t, s.run(cms+"/from-json", "--type", "strategic", "-d", "metadata: {labels: {tier: web}}", "-q", ".metadata.labels.tier", "-r"), "web\n", "", 0)
	})
	t.Run("server-side apply creates and records kcurl as the manager", func(t *testing.T) {
		writeFile(t, filepath.Join(s.Tmp, "applied.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n")
		harness.Expect(t, s.run(cms+"/applied", "--type", "apply", "-d", "@applied.yaml", "-q", `.metadata.managedFields[] | "\(.manager) \(.operation)"`, "-r"),
			"kcurl Apply\n", "", 0)
	})
	t.Run("server-side apply conflicts are reported, --force-conflicts takes over", func(t *testing.T) {
		r := s.run(cms+"/applied", "--type", "apply", "--field-manager", "other", "-d", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"k":"mine"}}`)
		if r.Code != 4 || r.Stdout != "" || !strings.HasPrefix(r.Stderr, "Error from server (Conflict): Apply failed with 1 conflict: conflict with \"kcurl\"") {
			t.Errorf("want a Conflict line and exit 4, got:\n%s", r)
		}
		harness.Expect(t, s.run(cms+"/applied", "--type", "apply", "--field-manager", "other", "--force-conflicts", "-d", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"k":"mine"}}`, "-q", ".data.k", "-r"),
			"mine\n", "", 0)
	})
	t.Run("dry-run persists nothing", func(t *testing.T) {
		harness.Expect(t, s.run(cms, "--dry-run", "-d", `{"metadata":{"name":"dry"}}`, "-q", ".metadata.name", "-r"), "dry\n", "", 0)
		if code, _ := adminDo(t, "GET", "/api/v1/namespaces/"+s.NS+"/configmaps/dry", nil); code != 404 {
			t.Errorf("after --dry-run the ConfigMap exists (HTTP %d)", code)
		}
	})
	t.Run("an invalid body is rejected and nothing is sent", func(t *testing.T) {
		harness.Expect(t, s.run(cms, "-d", `{"metadata":{"name":"bad"}`), "", "kcurl: -d: not valid JSON or YAML: yaml: line 1: did not find expected ',' or '}'\nRun 'kcurl --help' for usage.\n", 2)
		if code, _ := adminDo(t, "GET", "/api/v1/namespaces/"+s.NS+"/configmaps/bad", nil); code != 404 {
			t.Errorf("the invalid body created something (HTTP %d)", code)
		}
	})
	t.Run("delete", func(t *testing.T) {
		harness.Expect(t, s.run(cms+"/from-json", "-X", "DELETE", "-q", ".status", "-r"), "Success\n", "", 0)
		if code, _ := adminDo(t, "GET", "/api/v1/namespaces/"+s.NS+"/configmaps/from-json", nil); code != 404 {
			t.Errorf("after DELETE the ConfigMap still exists (HTTP %d)", code)
		}
	})
	t.Run("not found is exit 4", func(t *testing.T) {
		harness.Expect(t, s.run(cms+"/from-json"), "", `Error from server (NotFound): configmaps "from-json" not found`+"\n", 4)
	})
	t.Run("a path the service account may not read", func(t *testing.T) {
		harness.Expect(t, s.run("/no/such/path"), "", `Error from server (Forbidden): forbidden: User "system:serviceaccount:`+s.NS+`:app" cannot get path "/no/such/path"`+"\n", 4)
	})
	t.Run("big integers keep their digits through jq", func(t *testing.T) {
		harness.Expect(t, s.run(cms+"/from-yaml", "-q", ".data.big | tonumber", "-c"), "12345678901234567890\n", "", 0)
	})
}

func TestTheTokenNeverShows(t *testing.T) {
	s := newSandbox(t, configMapRules)
	r := s.run("/api", "-v", "-i") // run() fails the test if the token appears
	if r.Code != 0 {
		t.Fatalf("kcurl /api -v -i:\n%s", r)
	}
	for _, want := range []string{"> Authorization: Bearer <redacted>\n", "> User-Agent: kcurl/", "< HTTP/2.0 200 OK\n"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("-v output lacks %q:\n%s", want, r.Stderr)
		}
	}
	if !strings.HasPrefix(r.Stdout, "HTTP/2.0 200 OK\n") || !strings.Contains(r.Stdout, "\n\n{\n  \"kind\": \"APIVersions\"") {
		t.Errorf("-i output is not status line, headers, blank line, body:\n%s", r.Stdout)
	}
	// --curl names the token only as $TOKEN; what it prints works as is.
	r = s.run("--curl", "/api/v1/namespaces/{namespace}/configmaps")
	if r.Code != 0 || !strings.Contains(r.Stdout, `TOKEN=$(cat `+saMountPath+`/token)`) {
		t.Fatalf("--curl:\n%s", r)
	}
	r = s.shell(strings.Replace(r.Stdout, "curl ", "curl -sS ", 1))
	if r.Code != 0 || !strings.Contains(r.Stdout, `"kind": "ConfigMapList"`) {
		t.Errorf("the command --curl printed does not work:\n%s", r)
	}
}

// Without the service variables, kcurl falls back to kubernetes.default.svc
// on port 443, as a Pod with enableServiceLinks and a cluster DNS would.
func TestDefaultHostWithoutServiceVariables(t *testing.T) {
	s := newSandbox(t)
	delete(s.Env, "KUBERNETES_SERVICE_HOST")
	delete(s.Env, "KUBERNETES_SERVICE_PORT")
	delete(s.Env, "KUBERNETES_SERVICE_PORT_HTTPS")
	s.Hosts = filepath.Join(s.Tmp, "hosts")
	writeFile(t, s.Hosts, "127.0.0.1 localhost kubernetes.default.svc\n")
	forward(t, 443)
	harness.Expect(t, s.run("/api", "-q", ".kind", "-r"), "APIVersions\n", "", 0)
}

// Scripts depend on exit codes: a network failure is 6.
func TestUnreachableServerIsExit6(t *testing.T) {
	s := newSandbox(t)
	s.Env["KUBERNETES_SERVICE_PORT_HTTPS"] = "1"
	r := s.run("/api")
	if r.Code != 6 || r.Stdout != "" || !strings.Contains(r.Stderr, "connection refused") {
		t.Errorf("want exit 6 with connection refused, got:\n%s", r)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
