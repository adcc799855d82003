//go:build e2e

package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// watchListQuery is what the one request of a streaming list asks.
const watchListQuery = "?allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&timeoutSeconds=86400&watch=true"

// --all reads a streaming list from the real apiserver (WatchList is on by
// default in 1.37) in every output but -o raw: one watch with
// sendInitialEvents, and what the user sees is what paging (--limit 500)
// gives on the same objects, byte for byte but the list's resourceVersion
// (the snapshot's, which the paged list reads at another moment), built-in
// objects and custom resources alike: JSON, compact and YAML (the list's
// metadata after its items in both), jq, names, kubectl's formats, and the
// server's table (rows in the same chunks of 500; the AGE column, which the
// server renders at each read, left out). The list's resourceVersion is the
// snapshot's: a paged list at exactly that version gives the same items.
func TestAllReadsAStreamingList(t *testing.T) {
	installWidgets(t)
	s := newSandbox(t, exploreRules...)
	const n = 1200
	createConfigMaps(t, s.NS, n)
	for i := range 3 {
		adminMust(t, "POST", "/apis/kcurl-e2e.example.com/v1/namespaces/"+s.NS+"/widgets", obj{
			"apiVersion": "kcurl-e2e.example.com/v1", "kind": "Widget", "metadata": obj{"name": fmt.Sprintf("w%d", i)}, "spec": obj{"size": i}}, nil)
	}
	configMaps := "/api/v1/namespaces/" + s.NS + "/configmaps"
	widgets := "/apis/kcurl-e2e.example.com/v1/namespaces/" + s.NS + "/widgets"
	jsonpath := `jsonpath={range .items[*]}{.kind}/{.metadata.name} {.metadata.resourceVersion}{"\n"}{end}`
	columns := "custom-columns=NAME:.metadata.name,RV:.metadata.resourceVersion,KIND:.kind"

	for _, tc := range []struct {
		resource, path string
		args           []string
	}{
		{"cm", configMaps, []string{"-o", "name"}},
		{"cm", configMaps, []string{"-c", "-q", ".items[]"}},
		{"cm", configMaps, []string{"-c", "-q", "del(.metadata.resourceVersion)"}},
		{"cm", configMaps, []string{"-r", "-q", ".items[].metadata.name"}},
		{"cm", configMaps, []string{"-c"}},
		{"cm", configMaps, []string{"-o", "json"}},
		{"cm", configMaps, []string{"-o", "yaml"}},
		{"cm", configMaps, []string{"-o", jsonpath}},
		{"cm", configMaps, []string{"-o", columns}},
		{"cm", configMaps, []string{"-o", "kyaml"}},
		{"cm", configMaps, []string{"-o", "table"}},
		{"cm", configMaps, []string{"-o", "wide", "--no-headers"}},
		{"wd", widgets, []string{"-c", "-q", "del(.metadata.resourceVersion)"}},
		{"wd", widgets, []string{"-o", "name"}},
		{"wd", widgets, []string{"-c"}},
		{"wd", widgets, []string{"-o", "yaml"}},
		{"wd", widgets, []string{"-o", columns}},
		{"wd", widgets, []string{"-o", "table"}},
	} {
		streamed := s.run(append([]string{tc.resource, "--all", "-v"}, tc.args...)...)
		paged := s.run(append([]string{tc.resource, "--all", "--limit", "500", "-v"}, tc.args...)...)
		if streamed.Code != 0 || paged.Code != 0 || streamed.Stdout == "" || sameList(streamed.Stdout, tc.args) != sameList(paged.Stdout, tc.args) {
			t.Errorf("%s --all %q: the streaming list and the pages differ:\nstreamed:\n%.3000s\npaged:\n%.3000s", tc.resource, tc.args, streamed, paged)
		}
		if got := strings.Count(streamed.Stderr, "> GET "+tc.path); got != 1 || !strings.Contains(streamed.Stderr, "> GET "+tc.path+watchListQuery+"\n") {
			t.Errorf("%s --all %q: %d requests, want one watch with sendInitialEvents:\n%s", tc.resource, tc.args, got, streamed.Stderr)
		}
		if strings.Contains(paged.Stderr, "sendInitialEvents") || tc.resource == "cm" && !strings.Contains(paged.Stderr, "?continue=") {
			t.Errorf("%s --all --limit 500 %q: want pages:\n%s", tc.resource, tc.args, paged.Stderr)
		}
	}
	// The list's metadata comes after its items, in both.
	for _, args := range [][]string{{"-c"}, {"-o", "yaml"}, {"--limit", "500", "-c"}, {"--limit", "500", "-o", "yaml"}} {
		r := s.run(append([]string{"wd", "--all"}, args...)...)
		if r.Code != 0 || !listRV.MatchString(r.Stdout) || !strings.Contains(r.Stdout, "WidgetList") {
			t.Errorf("wd --all %q: want the list's metadata last:\n%s", args, r)
		}
	}

	// The list's resourceVersion is the bookmark's: the snapshot there.
	r := s.run("cm", "--all", "-r", "-q", ".metadata.resourceVersion")
	rv, err := strconv.Atoi(strings.TrimSpace(r.Stdout))
	if r.Code != 0 || err != nil {
		t.Fatalf("the streamed list's resourceVersion:\n%s", r)
	}
	names := s.run("cm", "--all", "-r", "-q", ".items[].metadata.name")
	exact := s.run(fmt.Sprintf("%s?resourceVersion=%d&resourceVersionMatch=Exact", configMaps, rv), "--all", "--limit", "500", "-r", "-q", ".items[].metadata.name")
	if names.Code != 0 || names.Stdout != exact.Stdout || strings.Count(names.Stdout, "\n") != n {
		t.Errorf("the snapshot at resourceVersion %d differs from the streamed list:\n%.500s\n%.500s", rv, names, exact)
	}

	// -o raw is the server's own bytes: it pages.
	raw := s.run("cm", "--all", "-v", "-o", "raw")
	if raw.Code != 0 || strings.Contains(raw.Stderr, "sendInitialEvents") || !strings.Contains(raw.Stderr, "> GET "+configMaps+"?limit=500\n") {
		t.Errorf("cm --all -o raw: want pages of 500:\n%.2000s", raw.Stderr)
	}
}

// listRV is the end of a merged or streamed list: its metadata, last,
// with its resourceVersion (JSON, compact or pretty, or YAML).
var listRV = regexp.MustCompile(`("metadata": ?\{\s*"resourceVersion": ?|\nmetadata:\n  resourceVersion: )"\d+"(\s*\}\s*\}\s*|\n)$`)

// sameList is an --all output as it must be the same whichever way the
// list was read: the list's resourceVersion (the moment of the read) and a
// table's AGE column (rendered by the server at each read; the last
// column, so the others' widths do not depend on it) left out.
func sameList(out string, args []string) string {
	out = listRV.ReplaceAllString(out, `${1}"RV"${2}`)
	if args[0] == "-o" && (args[1] == "table" || args[1] == "wide") {
		lines := strings.Split(out, "\n")
		for i, line := range lines {
			if cut := strings.LastIndex(strings.TrimRight(line, " "), " "); cut > 0 {
				lines[i] = line[:cut]
			}
		}
		out = strings.Join(lines, "\n")
	}
	return out
}

// Where the server refuses a streaming list, --all pages, with the same
// output: here a ServiceAccount that may list ConfigMaps but not watch
// them (403 for the watch). -v says why.
func TestAllPagesWhereAStreamingListIsRefused(t *testing.T) {
	s := newSandbox(t, obj{"apiGroups": []string{""}, "resources": []string{"configmaps"}, "verbs": []string{"list"}})
	const n = 600
	createConfigMaps(t, s.NS, n)
	r := s.run("/api/v1/namespaces/"+s.NS+"/configmaps", "--all", "-v", "-r", "-q", ".items[].metadata.name")
	if r.Code != 0 || strings.Count(r.Stdout, "\n") != n {
		t.Fatalf("got:\n%.2000s", r)
	}
	note := regexp.MustCompile(`(?m)^kcurl: no streaming list, paging instead: Error from server \(Forbidden\): configmaps is forbidden: .* cannot watch resource "configmaps" .*$`)
	if !note.MatchString(r.Stderr) || !strings.Contains(r.Stderr, "?continue=") {
		t.Errorf("want the refusal said and pages:\n%s", r.Stderr)
	}
	paged := s.run("/api/v1/namespaces/"+s.NS+"/configmaps", "--all", "--limit", "500", "-r", "-q", ".items[].metadata.name")
	if paged.Stdout != r.Stdout {
		t.Errorf("the fallback and the pages differ")
	}
}
