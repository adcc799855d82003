package wait

import (
	"context"
	"testing"

	"github.com/kcurl/kcurl/pkg/output"
)

func TestSplitObjectPath(t *testing.T) {
	for _, tc := range []struct{ path, collection, name string }{
		{"/api/v1/pods", "/api/v1/pods", ""},
		{"/api/v1/nodes/n1", "/api/v1/nodes", "n1"},
		{"/api/v1/namespaces", "/api/v1/namespaces", ""},
		{"/api/v1/namespaces/prod", "/api/v1/namespaces", "prod"},
		{"/api/v1/namespaces/prod/pods", "/api/v1/namespaces/prod/pods", ""},
		{"/api/v1/namespaces/prod/pods/web", "/api/v1/namespaces/prod/pods", "web"},
		{"/apis/apps/v1/namespaces/prod/deployments/web", "/apis/apps/v1/namespaces/prod/deployments", "web"},
		{"/apis/example.com/v1/widgets/", "/apis/example.com/v1/widgets", ""},
	} {
		collection, name, err := SplitObjectPath(tc.path)
		if err != nil || collection != tc.collection || name != tc.name {
			t.Errorf("%s: %q %q %v, want %q %q", tc.path, collection, name, err, tc.collection, tc.name)
		}
	}
	for _, bad := range []string{"/api", "/api/v1", "/apis/apps/v1", "/api/v1/namespaces/prod/pods/web/status", "/version", "/api/v1//pods"} {
		if _, _, err := SplitObjectPath(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestConditions(t *testing.T) {
	compile := func(expr string) (*output.Query, error) { return output.CompileQuery(expr, nil, nil) }
	for _, tc := range []struct {
		cond, object string
		met          bool
		seen         string
	}{
		{"condition=Ready", `{"status":{"conditions":[{"type":"Ready","status":"True"}]}}`, true, ""},
		{"condition=ready=TRUE", `{"status":{"conditions":[{"type":"Ready","status":"True"}]}}`, true, ""},
		{"condition=Ready=False", `{"status":{"conditions":[{"type":"Ready","status":"False"}]}}`, true, ""},
		{"condition=Ready", `{"status":{}}`, false, "no condition Ready in its status"},
		{"condition=Ready", `{"status":{"conditions":[{"type":"Ready","status":"False","reason":"R"}]}}`, false, "condition Ready is False (R)"},
		{"condition=Available", `{"metadata":{"generation":2},"status":{"conditions":[{"type":"Available","status":"True","observedGeneration":2}]}}`, true, ""},
		{"condition=Available", `{"metadata":{"generation":2},"status":{"observedGeneration":1,"conditions":[{"type":"Available","status":"True"}]}}`, false, "condition Available is True for generation 1, not yet the object's 2"},
		{".a", `{"a":1}`, true, ""},
		{".a", `{"a":null}`, false, ".a is null"},
		{".a == 2", `{"a":1}`, false, ".a == 2 is false"},
		{"empty", `{}`, false, "empty gave no output"},
		{`.a | error("x")`, `{"a":1}`, false, `.a | error("x") failed: jq: error: x`},
		{"CREATE", `{}`, true, ""},
		{"delete", `{}`, false, "it still exists"},
	} {
		c, err := ParseCondition(tc.cond, compile)
		if err != nil {
			t.Fatalf("%s: %v", tc.cond, err)
		}
		met, seen := c.check(context.Background(), []byte(tc.object))
		if met != tc.met || seen != tc.seen {
			t.Errorf("%s on %s: %v %q, want %v %q", tc.cond, tc.object, met, seen, tc.met, tc.seen)
		}
	}
	for _, bad := range []string{"", "condition=", "jsonpath={.x}"} {
		if _, err := ParseCondition(bad, compile); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
