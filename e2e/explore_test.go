//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

var exploreRules = []obj{
	{"apiGroups": []string{""}, "resources": []string{"configmaps"}, "verbs": []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
	{"apiGroups": []string{""}, "resources": []string{"pods", "pods/log"}, "verbs": []string{"get", "list", "watch"}},
	{"apiGroups": []string{"apps"}, "resources": []string{"deployments", "deployments/scale"}, "verbs": []string{"get", "list", "watch"}},
	{"apiGroups": []string{"kcurl-e2e.example.com"}, "resources": []string{"widgets"}, "verbs": []string{"get", "list", "watch"}},
}

// installWidgets installs a namespaced CRD with a short name and a category,
// once for the run, and waits until the server serves it.
func installWidgets(t *testing.T) {
	t.Helper()
	installCRD(t, "kcurl-e2e.example.com",
		obj{"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": []string{"wd"}, "categories": []string{"kcurl-e2e"}},
		[]obj{{"name": "Color", "type": "string", "jsonPath": ".spec.color"}, {"name": "Size", "type": "integer", "jsonPath": ".spec.size", "priority": 1}})
}

// sprocketRule lets a sandbox read sprockets (installSprockets).
var sprocketRule = obj{"apiGroups": []string{"kcurl-e2e-b.example.com"}, "resources": []string{"sprockets"}, "verbs": []string{"get", "list", "watch"}}

// installSprockets installs a second namespaced CRD, in a group of its own
// (api-resources of the widgets' group stays one line) and, as widgets,
// with printer columns and no AGE: tables of both types print the same
// from one second to the next.
func installSprockets(t *testing.T) {
	t.Helper()
	installCRD(t, "kcurl-e2e-b.example.com", obj{"plural": "sprockets", "singular": "sprocket", "kind": "Sprocket"},
		[]obj{{"name": "Teeth", "type": "integer", "jsonPath": ".spec.teeth"}})
}

// installCRD installs a namespaced CRD of group, with names, its v1 of any
// fields shown in columns, once for the run, and waits until the server
// serves its list.
func installCRD(t *testing.T, group string, names obj, columns []obj) {
	t.Helper()
	plural := names["plural"].(string)
	crd := obj{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": obj{"name": plural + "." + group},
		"spec": obj{
			"group": group, "scope": "Namespaced", "names": names,
			"versions": []obj{{
				"name": "v1", "served": true, "storage": true,
				"schema":                   obj{"openAPIV3Schema": obj{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
				"additionalPrinterColumns": columns,
			}},
		},
	}
	path := "/apis/" + group + "/v1/" + plural
	if code, body := adminDo(t, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd); code != 201 && code != 409 {
		t.Fatalf("installing the CRD: HTTP %d: %s", code, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if code, _ := adminDo(t, "GET", path, nil); code == 200 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s was not served within 30 s", path)
}

func TestResourceShorthand(t *testing.T) {
	installWidgets(t)
	s := newSandbox(t, exploreRules...)
	ns := "/api/v1/namespaces/" + s.NS
	adminMust(t, "POST", ns+"/configmaps", obj{"metadata": obj{"name": "web"}, "data": obj{"k": "v"}}, nil)
	adminMust(t, "POST", "/apis/apps/v1/namespaces/"+s.NS+"/deployments", obj{
		"metadata": obj{"name": "web"},
		"spec": obj{"replicas": 2, "selector": obj{"matchLabels": obj{"app": "web"}},
			"template": obj{"metadata": obj{"labels": obj{"app": "web"}}, "spec": obj{"containers": []obj{{"name": "app", "image": "kcurl:e2e"}}}}},
	}, nil)
	adminMust(t, "POST", "/apis/kcurl-e2e.example.com/v1/namespaces/"+s.NS+"/widgets", obj{
		"apiVersion": "kcurl-e2e.example.com/v1", "kind": "Widget", "metadata": obj{"name": "w1"}, "spec": obj{"color": "red", "size": 3}}, nil)

	for _, tc := range []struct {
		args   []string
		stdout string
	}{
		{[]string{"po", "-o", "name"}, "pod/app-pod\n"},
		{[]string{"pods/app-pod", "-q", ".spec.serviceAccountName", "-r"}, "app\n"},
		{[]string{"cm/web", "-q", ".data.k", "-r"}, "v\n"},
		{[]string{"ConfigMap/web", "-q", ".metadata.name", "-r"}, "web\n"},
		{[]string{"deploy", "-o", "name"}, "deployment.apps/web\n"},
		{[]string{"deployments.apps/web", "-q", ".spec.replicas"}, "2\n"},
		{[]string{"deployments.v1.apps/web/scale", "-q", ".kind, .spec.replicas", "-c"}, "\"Scale\"\n2\n"},
		{[]string{"wd", "-o", "name"}, "widget.kcurl-e2e.example.com/w1\n"},
		{[]string{"widget/w1", "-q", ".spec.color", "-r"}, "red\n"},
		{[]string{"widgets.kcurl-e2e.example.com", "-q", ".items[].metadata.name", "-r"}, "w1\n"},
		{[]string{"kcurl-e2e", "-q", "[.kind, (.items[] | .kind + \"/\" + .metadata.name)]", "-c"}, `["List","Widget/w1"]` + "\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			harness.Expect(t, s.run(tc.args...), tc.stdout, "", 0)
		})
	}

	t.Run("a category is a List in kubectl get's key order", func(t *testing.T) {
		// kubectl get all -o json: apiVersion, items, kind, metadata.
		r := s.run("kcurl-e2e", "-c")
		if r.Code != 0 || r.Stderr != "" || !strings.HasPrefix(r.Stdout, `{"apiVersion":"v1","items":[{`) ||
			!strings.HasSuffix(r.Stdout, `}],"kind":"List","metadata":{"resourceVersion":""}}`+"\n") {
			t.Errorf("got:\n%s", r)
		}
	})
	t.Run("an unknown name lists what was meant", func(t *testing.T) {
		harness.Expect(t, s.run("widgts"), "", "kcurl: the server doesn't have a resource type \"widgts\"; did you mean widgets.kcurl-e2e.example.com? (kcurl api-resources lists them)\n", 2)
	})
	t.Run("a misspelt command, asked of the server, names the command", func(t *testing.T) {
		harness.Expect(t, s.run("attahc"), "", "kcurl: the server doesn't have a resource type \"attahc\"; did you mean the command kcurl attach? (kcurl api-resources lists them)\n", 2)
	})
	t.Run("a subresource the resource lacks", func(t *testing.T) {
		r := s.run("cm/web/log")
		// Its line says what the type has; a pointer at the help would
		// not help (exitcode.Targetf).
		if r.Code != 2 || !strings.HasPrefix(r.Stderr, "kcurl: configmaps has no subresource") && !strings.HasPrefix(r.Stderr, "kcurl: configmaps has no subresources") ||
			strings.Contains(r.Stderr, "--help") {
			t.Errorf("got:\n%s", r)
		}
	})
	t.Run("api-resources shows the CRD with its short name", func(t *testing.T) {
		r := s.run("api-resources", "--api-group", "kcurl-e2e.example.com")
		want := regexp.MustCompile(`(?m)^NAME +SHORTNAMES +APIVERSION +NAMESPACED +KIND +VERBS\nwidgets +wd +kcurl-e2e.example.com/v1 +true +Widget +delete,deletecollection,get,list,patch,create,update,watch\n$`)
		if r.Code != 0 || !want.MatchString(r.Stdout) {
			t.Errorf("got:\n%s", r)
		}
	})
}

// The columns of -o table are the server's own: compare with the Table the
// API server renders for an admin.
func TestTableColumnsAreTheServers(t *testing.T) {
	installWidgets(t)
	s := newSandbox(t, exploreRules...)
	adminMust(t, "POST", "/apis/kcurl-e2e.example.com/v1/namespaces/"+s.NS+"/widgets", obj{
		"apiVersion": "kcurl-e2e.example.com/v1", "kind": "Widget", "metadata": obj{"name": "w1", "labels": obj{"tier": "front", "app.kubernetes.io/name": "w"}},
		"spec": obj{"color": "red", "size": 3}}, nil)

	for _, tc := range []struct{ resource, path string }{
		{"pods", "/api/v1/namespaces/" + s.NS + "/pods"},
		{"wd", "/apis/kcurl-e2e.example.com/v1/namespaces/" + s.NS + "/widgets"},
	} {
		for _, wide := range []bool{false, true} {
			var want []string
			var table struct {
				ColumnDefinitions []struct {
					Name     string
					Priority int
				}
			}
			tableJSON := serverTable(t, tc.path)
			if err := json.Unmarshal(tableJSON, &table); err != nil {
				t.Fatal(err)
			}
			for _, c := range table.ColumnDefinitions {
				if c.Priority == 0 || wide {
					want = append(want, strings.ToUpper(c.Name))
				}
			}
			format := map[bool]string{false: "table", true: "wide"}[wide]
			r := s.run(tc.resource, "-o", format)
			header, _, _ := strings.Cut(r.Stdout, "\n")
			if got := regexp.MustCompile(` {2,}`).Split(strings.TrimSpace(header), -1); r.Code != 0 || strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%s -o %s: columns %q, the server's are %q\n%s", tc.resource, format, got, want, r)
			}
		}
	}
	harness.Expect(t, s.run("wd", "-o", "wide"), "NAME   COLOR   SIZE\nw1     red     3\n", "", 0)
	// kubectl get's -L and --show-labels, from the labels the server sends
	// with each row (kubectl get wd -o wide -L tier,app.kubernetes.io/name,zone
	// --show-labels prints the same).
	harness.Expect(t, s.run("wd", "-o", "wide", "-L", "tier,app.kubernetes.io/name,zone", "--show-labels"), ""+
		"NAME   COLOR   SIZE   TIER    NAME   ZONE   LABELS\n"+
		"w1     red     3      front   w             app.kubernetes.io/name=w,tier=front\n", "", 0)
}

// TestTablesAreKubectls compares kcurl's tables with kubectl get's, byte
// for byte, on cells that test the printer: an empty last cell (kubectl
// leaves the padding before it), a line break (kubectl cuts the cell
// there, with "..."), non-ASCII text and an escape sequence (kubectl pads
// its header to the longest cell in bytes), with and without headers,
// -L and --show-labels; two resource types at once (a table each, names
// after their kinds); -w; and api-resources.
func TestTablesAreKubectls(t *testing.T) {
	installWidgets(t)
	installSprockets(t)
	s := newSandbox(t, append(exploreRules, sprocketRule)...)
	widgets := "/apis/kcurl-e2e.example.com/v1/namespaces/" + s.NS + "/widgets"
	for _, w := range []obj{
		{"metadata": obj{"name": "w1", "labels": obj{"tier": "front"}}, "spec": obj{"color": "red", "size": 3}},
		{"metadata": obj{"name": "w2"}, "spec": obj{"size": 12}},
		{"metadata": obj{"name": "w3", "labels": obj{"zone": "z1"}}, "spec": obj{"color": "two\nlines", "size": 1}},
		{"metadata": obj{"name": "w4-with-a-longer-name"}, "spec": obj{"color": "çççççç"}},
		{"metadata": obj{"name": "w5"}, "spec": obj{"color": "\x1b[31mred\x1b[0m", "size": 5}},
	} {
		w["apiVersion"], w["kind"] = "kcurl-e2e.example.com/v1", "Widget"
		adminMust(t, "POST", widgets, w, nil)
	}
	for name, teeth := range map[string]int{"s1": 12, "s2-a-longer-name": 3} {
		adminMust(t, "POST", "/apis/kcurl-e2e-b.example.com/v1/namespaces/"+s.NS+"/sprockets", obj{
			"apiVersion": "kcurl-e2e-b.example.com/v1", "kind": "Sprocket", "metadata": obj{"name": name}, "spec": obj{"teeth": teeth}}, nil)
	}
	for _, args := range [][]string{
		{"wd"}, {"wd", "-o", "wide"}, {"wd", "--no-headers"}, {"wd", "-o", "wide", "--no-headers"},
		{"wd", "-L", "tier,zone"}, {"wd", "-o", "wide", "--show-labels"}, {"wd", "-L", "zone", "--no-headers"},
		{"wd/w2"}, {"wd/w4-with-a-longer-name", "-o", "wide"},
		// Two types at once: a table each, names after their kinds.
		{"wd,sprockets"}, {"sprockets,wd", "-o", "wide", "--no-headers"}, {"wd,sprockets", "-L", "tier"},
		// --show-kind names them so with one type too.
		{"wd", "--show-kind"}, {"wd/w2", "-o", "wide", "--show-kind"}, {"wd,sprockets", "--show-kind"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			want := kubectlGet(t, s.NS, args...)
			if !slices.Contains(args, "-o") {
				args = append(args, "-o", "table")
			}
			harness.Expect(t, s.run(args...), want, "", 0)
		})
	}
	// api-resources -o wide and -o name are kubectl's, its filters too.
	for _, args := range [][]string{
		{"api-resources", "-o", "wide"}, {"api-resources", "--verbs=list", "--namespaced", "-o", "name"},
		{"api-resources", "--categories", "kcurl-e2e", "-o", "wide", "--no-headers"}, {"api-resources", "--sort-by", "kind", "--namespaced=false", "-o", "wide"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			want, err := kubectlCommand(t, s.NS, args...).Output()
			if err != nil {
				t.Fatalf("kubectl %v: %v", args, err)
			}
			harness.Expect(t, s.run(args...), string(want), "", 0)
		})
	}
	t.Run("-w", func(t *testing.T) {
		// kubectl get -w lists first and prints the list as one table,
		// then each change as a row under it, in the widths so far.
		kubectl := startKubectl(t, s.NS, "get", "wd", "-w")
		kcurl := startWatching(t, s, "wd", "-w", "-o", "table")
		sameWatch(t, kubectl, kcurl, 6, widgets+"/w2", `{"spec":{"color":"green"}}`) // the header and the widgets, then a change
	})
}

func serverTable(t *testing.T, path string) []byte {
	t.Helper()
	req := "GET"
	code, body := adminDoAccept(t, req, path, "application/json;as=Table;g=meta.k8s.io;v=v1")
	if code != 200 {
		t.Fatalf("admin table %s: HTTP %d: %s", path, code, body)
	}
	return body
}

// --all follows metadata.continue: 1,200 ConfigMaps in pages of 500 arrive
// as one list, each exactly once, in three requests.
func TestAllPages(t *testing.T) {
	s := newSandbox(t, exploreRules...)
	const n = 1200
	createConfigMaps(t, s.NS, n)
	r := s.run("cm", "--all", "--limit", "500", "-v", "-q", "[.items[].metadata.name] | [length, (unique | length)]", "-c")
	if r.Code != 0 || r.Stdout != fmt.Sprintf("[%d,%d]\n", n, n) {
		t.Fatalf("got:\n%s", r)
	}
	if requests := strings.Count(r.Stderr, "> GET /api/v1/namespaces/"+s.NS+"/configmaps?"); requests != 3 {
		t.Errorf("%d list requests, want 3 pages of 500:\n%s", requests, r.Stderr)
	}
	if got := strings.Count(r.Stderr, "?continue="); got != 2 {
		t.Errorf("%d requests carried a continue token, want 2", got)
	}
	// Without --all, one page and its continue token.
	harness.Expect(t, s.run("cm", "--limit", "500", "-q", ".items | length"), "500\n", "", 0)
	// --per-page hands each page to jq as it arrives.
	harness.Expect(t, s.run("cm", "--all", "--per-page", "--limit", "500", "-q", ".items | length"), "500\n500\n200\n", "", 0)
}

func createConfigMaps(t *testing.T, ns string, n int) {
	t.Helper()
	createObjects(t, "/api/v1/namespaces/"+ns+"/configmaps", n, func(i int) obj {
		return obj{"metadata": obj{"name": fmt.Sprintf("cm-%04d", i)}, "data": obj{"i": fmt.Sprint(i)}}
	})
}

// createObjects POSTs n objects to the collection at path, 16 at a time,
// object(i) the i-th.
func createObjects(t *testing.T, path string, n int, object func(i int) obj) {
	t.Helper()
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			code, body := adminDo(t, "POST", path, object(i))
			if code != 201 {
				errs <- fmt.Errorf("HTTP %d: %s", code, body)
				return
			}
			errs <- nil
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// A watch sees what another client does within a second, with jq applied
// per event, and survives the server ending the watch (timeoutSeconds=1)
// without losing or repeating an event.
func TestWatchSeesChangesAsTheyHappen(t *testing.T) {
	s := newSandbox(t, exploreRules...)
	ns := "/api/v1/namespaces/" + s.NS + "/configmaps"
	adminMust(t, "POST", ns, obj{"metadata": obj{"name": "before"}}, nil)

	w := s.start("cm?timeoutSeconds=1", "-w", "-q", `"\(.type) \(.object.metadata.name) \(.object.data.v // "-")"`, "-r")
	if got := w.next(5 * time.Second); got != "ADDED before -" {
		t.Fatalf("first event %q, want the existing ConfigMap as ADDED", got)
	}
	step := func(what string, do func(), want string) {
		t.Helper()
		start := time.Now()
		do()
		got := w.next(5 * time.Second)
		if got != want {
			t.Fatalf("after %s: %q, want %q", what, got, want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("after %s the event took %v, want within 1 s", what, d)
		}
	}
	for round := 1; round <= 3; round++ {
		name := fmt.Sprintf("c%d", round)
		step("create", func() { adminMust(t, "POST", ns, obj{"metadata": obj{"name": name}, "data": obj{"v": "1"}}, nil) }, "ADDED "+name+" 1")
		step("patch", func() {
			code, body := adminDoPatch(t, ns+"/"+name, `{"data":{"v":"2"}}`)
			if code != 200 {
				t.Fatalf("patch: HTTP %d: %s", code, body)
			}
		}, "MODIFIED "+name+" 2")
		step("delete", func() { adminMust(t, "DELETE", ns+"/"+name, nil, nil) }, "DELETED "+name+" 2")
		// Let the server end this watch (timeoutSeconds=1): kcurl resumes
		// from the last resourceVersion, so nothing is repeated.
		w.quiet(1500 * time.Millisecond)
	}
	r := w.interrupt()
	if r.Code != 0 || r.Stderr != "" {
		t.Errorf("Ctrl-C should end the watch with exit 0 and nothing on stderr:\n%s", r)
	}
}

// Piped, a watch prints one compact JSON event per line (NDJSON), and
// --timeout ends it cleanly.
func TestWatchNDJSONAndTimeout(t *testing.T) {
	s := newSandbox(t, exploreRules...)
	adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/configmaps", obj{"metadata": obj{"name": "a"}}, nil)
	r := s.run("cm", "-w", "--timeout", "2s")
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if r.Code != 0 || r.Stderr != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], `{"type":"ADDED","object":{"kind":"ConfigMap"`) {
		t.Errorf("want one NDJSON line and exit 0:\n%s", r)
	}
}

// A resourceVersion the server no longer has: one clear line and exit 4,
// or with --relist, a fresh list and the watch goes on. A CRD's watch cache
// starts at the revision where the CRD was installed, so resourceVersion 1
// is too old for it, as an old one is in any long-running cluster.
func TestWatchExpired(t *testing.T) {
	installWidgets(t)
	s := newSandbox(t, exploreRules...)
	r := s.run("wd?resourceVersion=1", "-w", "--timeout", "5s")
	if r.Code != 4 || r.Stdout != "" || !strings.HasPrefix(r.Stderr, "Error from server (Expired): the watch fell too far behind: resourceVersion 1 is too old (410 Gone)") {
		t.Errorf("want the Expired line and exit 4:\n%s", r)
	}
	w := s.start("wd?resourceVersion=1", "-w", "--relist", "-q", ".type + \" \" + .object.metadata.name", "-r")
	// The Widget is made once the relist is done (said on stderr): made
	// before it, it would be in the list, which --relist does not show;
	// made after it, the watch from the list's resourceVersion has it.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(w.errText(), "listed again at resourceVersion"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("--relist did not list again within 30s; stderr:\n%s", w.errText())
		}
	}
	adminMust(t, "POST", "/apis/kcurl-e2e.example.com/v1/namespaces/"+s.NS+"/widgets", obj{
		"apiVersion": "kcurl-e2e.example.com/v1", "kind": "Widget", "metadata": obj{"name": "after"}}, nil)
	if got := w.next(5 * time.Second); got != "ADDED after" {
		t.Errorf("after --relist: %q, want ADDED after", got)
	}
	r = w.interrupt()
	if r.Code != 0 || !strings.Contains(r.Stderr, "kcurl: the watch fell behind (410 Gone); listed again at resourceVersion") {
		t.Errorf("--relist should say so on stderr and end with 0:\n%s", r)
	}
}
