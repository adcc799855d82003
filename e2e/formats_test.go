//go:build e2e

package e2e

import (
	"bufio"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// kubectlFormats are kubectl's -o formats as scripts use them: each is
// compared on a list and on one object (SPEC §12).
var kubectlFormats = []string{
	`jsonpath={.items[*].metadata.name}`,
	`jsonpath={.kind} {.apiVersion} {.metadata.name}{"\n"}`,
	`jsonpath={range .items[*]}{.metadata.name}{"\t"}{.metadata.labels}{"\t"}{.data.n}{"\n"}{end}`,
	`jsonpath={.items[?(@.metadata.labels.tier=="front")].metadata.name}`,
	`jsonpath={.items[*].metadata.managedFields[*].manager}`,
	`jsonpath={.items[0].data}`,
	`jsonpath={.data}{"\n"}{.metadata.annotations}`,
	`jsonpath-as-json={.items[*].metadata.name}`,
	`jsonpath-as-json={.items[*].data}`,
	`jsonpath-as-json={.metadata}`,
	`custom-columns=NAME:.metadata.name,TIER:.metadata.labels.tier,N:{.data.n},KIND:kind`,
	`go-template={{range .items}}{{.metadata.name}} {{.kind}} {{.data.n}} {{index .metadata "name"}}{{"\n"}}{{end}}`,
	`go-template={{.kind}}/{{.apiVersion}} {{.metadata.name}} {{.metadata.missing}}{{"\n"}}`,
	`template={{range $i, $cm := .items}}{{$i}}={{$cm.metadata.name}} {{end}}`,
	`kyaml`,
}

// TestKubectlFormats runs kcurl (in the Pod) and kubectl (as the admin) on
// the same ConfigMaps of the real apiserver, and compares what each prints
// byte for byte: every format on the list and on one object, kyaml with
// and without managedFields, -w, and --subresource.
func TestKubectlFormats(t *testing.T) {
	s := newSandbox(t, exploreRules...)
	ns := "/api/v1/namespaces/" + s.NS + "/configmaps"
	for _, cm := range []obj{
		{"metadata": obj{"name": "alpha", "labels": obj{"tier": "front", "app": "web"}, "annotations": obj{"note": "a <b> & c"}}, "data": obj{"n": "1", "text": "line one\nline two"}},
		{"metadata": obj{"name": "a-much-longer-name"}, "data": obj{"n": "22", "unicode": "héllo ✓"}},
		{"metadata": obj{"name": "c", "labels": obj{"tier": "back"}}},
	} {
		adminMust(t, "POST", ns, cm, nil)
	}

	for _, format := range kubectlFormats {
		for _, target := range [][]string{{"cm"}, {"cm/alpha"}} {
			t.Run(format+" "+target[0], func(t *testing.T) {
				want := kubectlGet(t, s.NS, append(target, "-o", format)...)
				harness.Expect(t, s.run(target[0], "-o", format), want, "", 0)
			})
		}
	}
	t.Run("kyaml --show-managed-fields", func(t *testing.T) {
		want := kubectlGet(t, s.NS, "cm", "-o", "kyaml", "--show-managed-fields")
		if !strings.Contains(want, "managedFields") {
			t.Fatalf("kubectl shows no managedFields:\n%s", want)
		}
		harness.Expect(t, s.run("cm", "-o", "kyaml", "--show-managed-fields"), want, "", 0)
	})
	for _, args := range [][]string{
		{"cm", "-o", "custom-columns=NAME:.metadata.name,N:.data.n", "--no-headers"},
		{"cm", "-o", "go-template", "--template", `{{range .items}}{{.metadata.name}};{{end}}`},
		{"cm/alpha", "-o", "jsonpath", "--template", `{.metadata.labels.app}`},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			harness.Expect(t, s.run(args...), kubectlGet(t, s.NS, args...), "", 0)
		})
	}
	t.Run("--allow-missing-template-keys=false", func(t *testing.T) {
		// kubectl's message, after "error: "; kcurl's after "kcurl: ",
		// without kubectl's blank lines at its end.
		c := kubectlCommand(t, s.NS, "get", "cm/alpha", "-o", "jsonpath={.metadata.missing}", "--allow-missing-template-keys=false")
		out, err := c.CombinedOutput()
		if err == nil {
			t.Fatalf("kubectl did not fail: %s", out)
		}
		want := strings.TrimRight(strings.TrimPrefix(string(out), "error: "), "\n") + "\n"
		harness.Expect(t, s.run("cm/alpha", "-o", "jsonpath={.metadata.missing}", "--allow-missing-template-keys=false"), "", "kcurl: "+want, 1)
	})

	t.Run("-w", func(t *testing.T) {
		format := `jsonpath={.metadata.name} {.data.n}{"\n"}`
		kubectl := startKubectl(t, s.NS, "get", "cm", "-w", "-o", format)
		kcurl := startWatching(t, s, "cm", "-w", "-o", format)
		sameWatch(t, kubectl, kcurl, 3, ns+"/c", `{"data":{"n":"3"}}`) // the ConfigMaps that exist, then a change
	})

	t.Run("--subresource scale", func(t *testing.T) {
		adminMust(t, "POST", "/apis/apps/v1/namespaces/"+s.NS+"/deployments", obj{
			"metadata": obj{"name": "web"},
			"spec": obj{
				"replicas": 2, "selector": obj{"matchLabels": obj{"app": "web"}},
				"template": obj{"metadata": obj{"labels": obj{"app": "web"}}, "spec": obj{"containers": []obj{{"name": "c", "image": "x"}}}},
			},
		}, nil)
		format := `jsonpath={.kind} {.spec.replicas}`
		want := kubectlGet(t, s.NS, "deploy/web", "--subresource", "scale", "-o", format)
		harness.Expect(t, s.run("deploy/web", "--subresource", "scale", "-o", format), want, "", 0)
	})

	t.Run("--field-validation", func(t *testing.T) {
		body := `{"metadata":{"name":"v"},"bogus":1}`
		// kubectl's default, Strict: the server refuses the unknown field.
		r := s.run("cm", "-d", body)
		if r.Code != 4 || !strings.Contains(r.Stderr, `unknown field "bogus"`) {
			t.Errorf("Strict by default:\n%s", r)
		}
		harness.Expect(t, s.run("cm", "-d", body, "--field-validation", "Warn", "-o", "jsonpath={.metadata.name}"), "v", "Warning: unknown field \"bogus\"\n", 0)
	})
}

// TestSortByIsKubectls sorts the same widgets with kcurl (in the Pod) and
// kubectl (as the admin) and compares what each prints: 20 of them, many
// with equal values and some without the field, so that kubectl's unstable
// sort and its order for missing values show if kcurl's differed. Widgets,
// not ConfigMaps: their table has no AGE, which could turn a second
// between kubectl's request and kcurl's.
func TestSortByIsKubectls(t *testing.T) {
	installWidgets(t)
	s := newSandbox(t, exploreRules...)
	widgets := "/apis/kcurl-e2e.example.com/v1/namespaces/" + s.NS + "/widgets"
	values := []string{"9", "10", "1k", "200m", "", "9", "b", "a", "10", "", "1Ki", "0.5", "", "9", "3", "10", "a", "7", "", "9"}
	for i, n := range values {
		spec := obj{"color": []string{"red", "green", "blue"}[i%3]}
		if n != "" {
			spec["n"] = n
		}
		adminMust(t, "POST", widgets, obj{
			"apiVersion": "kcurl-e2e.example.com/v1", "kind": "Widget", "spec": spec,
			"metadata": obj{"name": fmt.Sprintf("w-%02d", (i*7)%20), "labels": obj{"tier": []string{"front", "back"}[i%2]}},
		}, nil)
	}
	for _, args := range [][]string{
		{"wd", "--sort-by=.spec.n"},
		{"wd", "--sort-by", "{.spec.n}", "-o", "wide", "--no-headers"},
		{"wd", "--sort-by=.metadata.labels.tier", "-L", "tier"},
		{"wd", "--sort-by=.spec.color", "--show-kind"},
		{"wd", "--sort-by=.metadata.creationTimestamp"}, // equal to the second: the unstable order shows
		{"wd", "--sort-by=.spec.n", "-o", "name"},
		{"wd", "--sort-by=.metadata.labels.tier", "-o", "name"},
		{"wd", "--sort-by=.spec.n", "-o", `jsonpath={range .items[*]}{.metadata.name}={.spec.n}{"\n"}{end}`},
		{"wd", "--sort-by=.metadata.name", "-o", "custom-columns=NAME:.metadata.name,N:.spec.n"},
		{"wd", "-l", "tier=front", "--sort-by=.spec.n"},
		{"wd", "-l", "tier=none", "--sort-by=.spec.n"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			want := kubectlGet(t, s.NS, args...)
			if !slices.Contains(args, "-o") {
				args = append(args, "-o", "table")
			}
			r := s.run(args...)
			if r.Code != 0 || r.Stdout != want {
				t.Errorf("kcurl %v:\n%s\nkubectl get printed:\n%s", args, r, want)
			}
		})
	}
	t.Run("a field no item has", func(t *testing.T) {
		c := kubectlCommand(t, s.NS, "get", "wd", "--sort-by=.spec.missing", "-o", "name")
		out, err := c.CombinedOutput()
		if err == nil {
			t.Fatalf("kubectl did not fail: %s", out)
		}
		want := strings.TrimPrefix(string(out), "error: ")
		harness.Expect(t, s.run("wd", "--sort-by=.spec.missing", "-o", "name"), "", "kcurl: "+want, 1)
		// kubectl's table drops the error and says "No resources found",
		// exit 0; kcurl says why, as for any other format.
		harness.Expect(t, s.run("wd", "--sort-by=.spec.missing", "-o", "table"), "", "kcurl: "+want, 1)
	})
}

// A sorted table is held whole and aligned as one, as kubectl's (which
// reads it in one page), where a table of more than 500 rows is otherwise
// aligned 500 rows at a time, as kubectl aligns each page of its
// --chunk-size: the widest name here sorts last. Widgets have no AGE
// column, which could turn a second between the two requests.
func TestSortByAlignsTheWholeTable(t *testing.T) {
	installWidgets(t)
	s := newSandbox(t, exploreRules...)
	widgets := "/apis/kcurl-e2e.example.com/v1/namespaces/" + s.NS + "/widgets"
	createObjects(t, widgets, 506, func(i int) obj {
		name := fmt.Sprintf("w-%04d", i)
		if i == 505 {
			name = "zz-the-widest-name-sorts-last"
		}
		return obj{"apiVersion": "kcurl-e2e.example.com/v1", "kind": "Widget", "metadata": obj{"name": name}, "spec": obj{"color": "red"}}
	})
	for _, args := range [][]string{{"wd", "--sort-by=.metadata.name"}, {"wd"}} {
		want := kubectlGet(t, s.NS, args...)
		if !strings.HasPrefix(want, "NAME                            COLOR") == (len(args) == 2) {
			t.Fatalf("kubectl get %v aligned its first page otherwise than this test expects:\n%.200s", args, want)
		}
		r := s.run(append(args, "-o", "table")...)
		if r.Code != 0 || r.Stdout != want {
			t.Errorf("kcurl %v:\n%.300s\nkubectl get printed:\n%.300s", args, r, want)
		}
	}
}

// --ignore-not-found as kubectl's: a missing object, an empty list, a
// DELETE of what is not there: nothing printed, exit 0, as kubectl get
// and delete do.
func TestIgnoreNotFoundIsKubectls(t *testing.T) {
	s := newSandbox(t, exploreRules...)
	adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/configmaps", obj{"metadata": obj{"name": "here"}}, nil)
	for _, tc := range []struct{ kubectl, kcurl []string }{
		{[]string{"get", "cm", "nope", "--ignore-not-found"}, []string{"cm/nope", "--ignore-not-found", "-o", "table"}},
		{[]string{"get", "cm", "-l", "none=x", "--ignore-not-found"}, []string{"cm", "-l", "none=x", "--ignore-not-found", "-o", "table"}},
		{[]string{"get", "cm", "nope", "-o", "name", "--ignore-not-found"}, []string{"cm/nope", "-o", "name", "--ignore-not-found"}},
		{[]string{"delete", "cm", "nope", "--ignore-not-found"}, []string{"cm/nope", "-X", "DELETE", "--ignore-not-found"}},
	} {
		t.Run(strings.Join(tc.kcurl, " "), func(t *testing.T) {
			c := kubectlCommand(t, s.NS, tc.kubectl...)
			var stderr strings.Builder
			c.Stderr = &stderr
			out, err := c.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("kubectl %v: %v\n%s", tc.kubectl, err, stderr.String())
			}
			harness.Expect(t, s.run(tc.kcurl...), string(out), "", 0)
		})
	}
	// Without it, the same is exit 4, and a missing right stays one with it.
	r := s.run("cm/nope", "-o", "name")
	if r.Code != 4 {
		t.Errorf("without --ignore-not-found:\n%s", r)
	}
	r = s.run("secrets/nope", "--ignore-not-found")
	if r.Code != 4 || !strings.Contains(r.Stderr, "Forbidden") {
		t.Errorf("a Forbidden with --ignore-not-found:\n%s", r)
	}
}

// sameWatch reads the first lines of kubectl's and kcurl's watches, then
// patches the object at path and reads one line more from each, and
// compares what they printed; then it stops kcurl with Ctrl-C.
func sameWatch(t *testing.T, kubectl *backgroundKubectl, kcurl *running, first int, path, patch string) {
	t.Helper()
	var want, got []string
	for range first {
		want = append(want, kubectl.next(t, 20*time.Second))
		got = append(got, kcurl.next(20*time.Second))
	}
	if code, body := adminDoPatch(t, path, patch); code != 200 {
		t.Fatalf("patch: HTTP %d: %s", code, body)
	}
	want = append(want, kubectl.next(t, 20*time.Second))
	got = append(got, kcurl.next(20*time.Second))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("kcurl -w printed\n%s\nkubectl -w printed\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := kcurl.interrupt(); r.Code != 0 {
		t.Errorf("Ctrl-C:\n%s", r)
	}
}

// kubectlCommand is kubectl as the admin, in namespace ns.
func kubectlCommand(t *testing.T, ns string, args ...string) *exec.Cmd {
	c := exec.Command(cluster["KCURL_CLUSTER_KUBECTL"], append([]string{"-n", ns}, args...)...)
	c.Env = []string{"KUBECONFIG=" + cluster["KCURL_CLUSTER_ADMIN_KUBECONFIG"], "HOME=" + t.TempDir()}
	return c
}

// kubectlGet is what kubectl get prints, as the admin.
func kubectlGet(t *testing.T, ns string, args ...string) string {
	t.Helper()
	c := kubectlCommand(t, ns, append([]string{"get"}, args...)...)
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("kubectl get %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// backgroundKubectl is kubectl running until the test stops it, its stdout
// read line by line.
type backgroundKubectl struct{ lines chan string }

func startKubectl(t *testing.T, ns string, args ...string) *backgroundKubectl {
	t.Helper()
	c := kubectlCommand(t, ns, args...)
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Process.Signal(syscall.SIGTERM) // by its own pid
		_ = c.Wait()
	})
	k := &backgroundKubectl{lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			k.lines <- sc.Text()
		}
		close(k.lines)
	}()
	return k
}

func (k *backgroundKubectl) next(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case line, ok := <-k.lines:
		if !ok {
			t.Fatal("kubectl ended")
		}
		return line
	case <-time.After(d):
		t.Fatalf("kubectl printed no line within %s", d)
	}
	return ""
}
