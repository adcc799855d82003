//go:build e2e

package node

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// docs/performance.md#memory-that-does-not-grow-with-the-answer: kcurl runs in a container limited to 48 MiB over 20,000
// ConfigMaps (about 33 MB of JSON) from the real apiserver, in every mode
// that must not grow with the answer, and each run's output is complete.
// The container is the toolbox image (busybox and this build's kcurl), so
// a shell counts what kcurl printed; the limit is the kubelet's, on the
// whole container.
func memoryLimit48MiB(t *testing.T) {
	const objects = 20000
	ns := namespace(t)
	createConfigMaps(t, ns, objects)

	list := "/api/v1/namespaces/" + ns + "/configmaps"
	// name, what each item leaves in the output once, kcurl's arguments.
	modes := []struct{ name, each, args string }{
		{"jq-by-item", "^cm-", list + " -r -q '.items[].metadata.name'"},
		{"name", "^configmap/cm-", list + " -o name"},
		{"yaml", "^    name: cm-", list + " -o yaml"},
		{"json", `"name": "cm-`, list + " -o json"},
		{"compact", `"name":"cm-`, list + " -c"},
		{"table", "^cm-", list + " -o table"},
		{"wide", "^cm-", list + " -o wide"},
		{"all-jq", "^cm-", list + " --all --limit 500 -r -q '.items[].metadata.name'"},
		{"all-yaml", "^    name: cm-", list + " --all --limit 500 -o yaml"},
		{"all-json", `"name": "cm-`, list + " --all --limit 500"},
		{"all-name", "^configmap/cm-", list + " --all --limit 500 -o name"},
		{"all-table", "^cm-", list + " --all --limit 500 -o table"},
		// Without --limit, --all reads a streaming list: one watch, the
		// objects one at a time (a table's as Tables of one row).
		{"stream-jq", "^cm-", list + " --all -r -q '.items[].metadata.name'"},
		{"stream-name", "^configmap/cm-", list + " --all -o name"},
		{"stream-yaml", "^    name: cm-", list + " --all -o yaml"},
		{"stream-json", `"name": "cm-`, list + " --all"},
		{"stream-table", "^cm-", list + " --all -o table"},
		{"stream-jsonpath", "^cm-", list + ` --all -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}'`},
		// kubectl's formats, item by item (custom-columns holds the
		// rows' text, not the objects, for its column widths).
		{"jsonpath", "cm-[0-9]", list + ` -o 'jsonpath={.items[*].metadata.name}'`},
		{"jsonpath-range", "^cm-", list + ` -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}'`},
		{"custom-columns", "^cm-", list + " -o custom-columns=NAME:.metadata.name,APP:.metadata.labels.app"},
		{"go-template", "^cm-", list + ` -o 'go-template={{range .items}}{{.metadata.name}}{{"\n"}}{{end}}'`},
		{"kyaml", `^      name: "cm-`, list + " -o kyaml"},
		// A watch lists every object as ADDED, then waits: it is stopped
		// by SIGINT (exit 0) once it has printed every object, or after
		// watchLimit when it has not.
		{"watch-name", "^configmap/cm-", "-w " + list + " -o name"},
		{"watch-yaml", "^    name: cm-", "-w " + list + " -o yaml"},
		{"watch-jq", "^cm-", "-w " + list + " -r -q '.object.metadata.name'"},
		{"watch-jsonpath", "^cm-", "-w " + list + ` -o 'jsonpath={.metadata.name}{"\n"}'`},
	}
	// A fixed window for the watches failed under load (15,749 of 20,000
	// printed in 25 s at a load average of 20): a watch is stopped when
	// its output holds every object instead. awk counts the lines as they
	// come through a FIFO (in an emptyDir: the image's /tmp is not the
	// user's) and sends kcurl the SIGINT itself.
	const watchLimit = 150
	var script strings.Builder
	script.WriteString("set -o pipefail\n")
	for _, m := range modes {
		if strings.HasPrefix(m.args, "-w ") {
			fmt.Fprintf(&script, `mkfifo /w/fifo; kcurl %s >/w/fifo & pid=$!
n=$(timeout %d awk -v pat='%s' -v want=%d -v pid=$pid '$0 ~ pat { if (++c == want) system("kill -INT " pid) } END { print c+0 }' </w/fifo)
kill -INT $pid 2>/dev/null; wait $pid; echo "RESULT %s $? ${n:-0}"; rm /w/fifo
`, m.args, watchLimit, m.each, objects, m.name)
			continue
		}
		// grep -o | wc -l counts occurrences, also on one compact line.
		fmt.Fprintf(&script, "n=$(kcurl %s | grep -o -- '%s' | wc -l); echo \"RESULT %s $? $n\"\n", m.args, m.each, m.name)
	}
	// A filter of the whole answer holds it whole, as jq does: in 48 MiB
	// the bound on one value follows the container's limit (4 MiB), so it
	// ends with exit 1 and one line, not the OOM killer's 137.
	fmt.Fprintf(&script, "kcurl %s -q '.items|length' >/dev/null 2>/w/err; echo \"WHOLE $? $(wc -l </w/err) $(head -1 /w/err)\"\n", list)
	serviceAccount(t, ns, "lister", `- apiGroups: [""]
  resources: [configmaps]
  verbs: [list, watch]`)
	apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: small, namespace: %[1]s}
spec:
  serviceAccountName: lister
  restartPolicy: Never
  containers:
  - name: kcurl
    image: %[2]s
    imagePullPolicy: Never
    command: [sh, -c, %[3]q]
    volumeMounts: [{name: w, mountPath: /w}]
    resources:
      limits: {memory: 48Mi}
    securityContext:
      runAsUser: 65532
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
  volumes: [{name: w, emptyDir: {}}]
`, ns, toolboxImage, script.String()))

	// 26 lists of 33 MB and four watches of as much.
	code, logs := terminatedWithin(t, ns, "small", 10*time.Minute+4*watchLimit*time.Second)
	reason := mustKubectl(t, "get", "pod", "-n", ns, "small", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.reason}")
	if code != 0 || reason == "OOMKilled" {
		t.Errorf("the container ended with %d (%s):\n%s", code, reason, logs)
	}
	results := map[string][2]int{}
	for _, m := range regexp.MustCompile(`(?m)^RESULT (\S+) (\d+) (\d+)$`).FindAllStringSubmatch(logs, -1) {
		status, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		results[m[1]] = [2]int{status, n}
	}
	for _, m := range modes {
		got, ok := results[m.name]
		switch {
		case !ok:
			t.Errorf("%s: no result (killed?):\n%s", m.name, logs)
		case got[0] != 0:
			// 137 is the kernel's OOM killer inside the limit.
			t.Errorf("kcurl %s: exit %d in 48 MiB", m.args, got[0])
		case got[1] != objects:
			t.Errorf("kcurl %s: %d of %d items in the output", m.args, got[1], objects)
		}
	}
	const bound = "kcurl: one value of the answer is larger than 4 MiB, kcurl's bound on what it holds in memory within this container's memory limit of 48 MiB"
	if m := regexp.MustCompile(`(?m)^WHOLE (\d+) (\d+) (.*)$`).FindStringSubmatch(logs); m == nil {
		t.Errorf("kcurl -q '.items|length': no result (killed?)")
	} else if m[1] != "1" || m[2] != "1" || !strings.HasPrefix(m[3], bound) {
		t.Errorf("kcurl -q '.items|length' in 48 MiB: exit %s, %s lines on stderr, %q; want exit 1 and one line: %s…", m[1], m[2], m[3], bound)
	}
	if t.Failed() {
		t.Logf("the container's log:\n%s", logs)
	}
}

// createConfigMaps makes n ConfigMaps of about 1.6 kB each, as the
// benchmarks do, with kubectl create -f on lists of 1,000, four at a time.
func createConfigMaps(t *testing.T, ns string, n int) {
	t.Helper()
	payload := strings.Repeat("x", 1500)
	dir := t.TempDir()
	var files []string
	for start := 0; start < n; start += 1000 {
		var b strings.Builder
		b.WriteString(`{"apiVersion":"v1","kind":"List","items":[`)
		for i := start; i < start+1000 && i < n; i++ {
			if i > start {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%05d","labels":{"app":"memory"}},"data":{"index":"%d","payload":"%s"}}`, i, i, payload)
		}
		b.WriteString("]}")
		f := filepath.Join(dir, fmt.Sprintf("batch-%d.json", start))
		if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	errs := make(chan string, len(files))
	for _, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if r := kubectl(t, "create", "-n", ns, "-f", f, "-o", "name"); r.Code != 0 {
				errs <- r.String()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("creating ConfigMaps: %s", e)
	}
}
