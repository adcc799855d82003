package target

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestReadContexts(t *testing.T) {
	dir := t.TempDir()
	first := kubeconfigAt(t, filepath.Join(dir, "first"), `apiVersion: v1
kind: Config
current-context: b
contexts:
- {name: b, context: {cluster: c1, user: u1, namespace: shop}}
- {name: a, context: {cluster: c2, user: u2}}
clusters:
- {name: zeta, cluster: {server: "https://127.0.0.1:1"}}
- {name: alpha, cluster: {server: "https://127.0.0.1:2"}}
users:
- {name: u1, user: {token: t1}}
`)
	second := kubeconfigAt(t, filepath.Join(dir, "second"), `apiVersion: v1
kind: Config
current-context: c
contexts:
- {name: b, context: {cluster: ignored}}
- {name: c, context: {cluster: c3}}
clusters:
- {name: zeta, cluster: {server: "https://127.0.0.1:3"}}
- {name: mid, cluster: {server: "https://127.0.0.1:4"}}
users:
- {name: u0, user: {token: t0}}
`)
	env := func(name string) string {
		return map[string]string{"KUBECONFIG": first + string(filepath.ListSeparator) + second, "HOME": dir}[name]
	}
	contexts, err := ReadContexts(Options{Context: "c"}, env)
	if err != nil {
		t.Fatal(err)
	}
	// The first file to set a value wins, as kubectl merges; --context
	// does not move current-context.
	if contexts.Current != "b" || contexts.ByName["b"].Cluster != "c1" || contexts.ByName["c"].Cluster != "c3" {
		t.Errorf("current %q, b %+v, c %+v", contexts.Current, contexts.ByName["b"], contexts.ByName["c"])
	}
	// Every file's clusters and users, each name once, sorted.
	if want := []string{"alpha", "mid", "zeta"}; !slices.Equal(contexts.Clusters, want) {
		t.Errorf("clusters %q, want %q", contexts.Clusters, want)
	}
	if want := []string{"u0", "u1"}; !slices.Equal(contexts.Users, want) {
		t.Errorf("users %q, want %q", contexts.Users, want)
	}
	for _, tc := range []struct {
		names, found, missing []string
	}{
		{nil, []string{"a", "b", "c"}, nil},
		{[]string{"c", "nope", "a"}, []string{"a", "c"}, []string{"nope"}},
	} {
		found, missing := contexts.Select(tc.names)
		if !slices.Equal(found, tc.found) || !slices.Equal(missing, tc.missing) {
			t.Errorf("Select(%q) = %q, %q; want %q, %q", tc.names, found, missing, tc.found, tc.missing)
		}
	}

	// No kubeconfig at all (a Pod): no contexts, no error.
	none, err := ReadContexts(Options{}, func(name string) string { return map[string]string{"HOME": dir}[name] })
	if err != nil || none.Current != "" || len(none.ByName) != 0 || len(none.Clusters) != 0 || len(none.Users) != 0 {
		t.Errorf("without a kubeconfig: %+v, %v", none, err)
	}
}
