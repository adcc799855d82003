package output

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// podTable is the API server's answer to GET pods with the Table Accept
// header (kube-apiserver 1.3x, includeObject=Metadata), two pods.
const podTable = `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"4711"},
"columnDefinitions":[
 {"name":"Name","type":"string","format":"name","description":"Name must be unique within a namespace.","priority":0},
 {"name":"Ready","type":"string","format":"","description":"The aggregate readiness state of this pod for accepting traffic.","priority":0},
 {"name":"Status","type":"string","format":"","description":"The aggregate status of the containers in this pod.","priority":0},
 {"name":"Restarts","type":"string","format":"","description":"The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.","priority":0},
 {"name":"Age","type":"string","format":"","description":"CreationTimestamp is a timestamp representing the server time when this object was created.","priority":0},
 {"name":"IP","type":"string","format":"","description":"podIP is the IP address allocated to the pod.","priority":1},
 {"name":"Node","type":"string","format":"","description":"nodeName indicates in which node this pod is scheduled.","priority":1},
 {"name":"Nominated Node","type":"string","format":"","description":"nominatedNodeName is set only when this pod preempts other pods on the node.","priority":1},
 {"name":"Readiness Gates","type":"string","format":"","description":"If specified, all readiness gates will be evaluated for pod readiness.","priority":1}],
"rows":[
 {"cells":["web-7d4b9c6f5-abcde","1/1","Running","0","5m","10.244.0.12","node-1","<none>","<none>"],
  "object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"web-7d4b9c6f5-abcde","namespace":"ns1","uid":"0b5b0d0e-1c1f-4f7a-9b7e-0d6f3c2a1b11","resourceVersion":"4700","creationTimestamp":"2026-11-27T09:55:00Z"}}},
 {"cells":["db-0","0/1","CrashLoopBackOff","12 (30s ago)","2d3h","10.244.1.7","node-2","<none>","<none>"],
  "object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"db-0","namespace":"kube-system","uid":"7c1e2d3f-0000-4000-8000-000000000002","resourceVersion":"4702","creationTimestamp":"2026-11-25T07:00:00Z"}}}]}`

// deploymentTable has number cells, as the server sends them for
// deployments (up-to-date, available).
const deploymentTable = `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"9"},
"columnDefinitions":[
 {"name":"Name","type":"string","format":"name","priority":0},
 {"name":"Ready","type":"string","format":"","priority":0},
 {"name":"Up-to-date","type":"integer","format":"","priority":0},
 {"name":"Available","type":"integer","format":"","priority":0},
 {"name":"Age","type":"string","format":"","priority":0},
 {"name":"Containers","type":"string","format":"","priority":1},
 {"name":"Images","type":"string","format":"","priority":1},
 {"name":"Selector","type":"string","format":"","priority":1}],
"rows":[{"cells":["web","3/3",3,3,"12m","nginx","nginx:1.27","app=web"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"web","namespace":"ns1"}}}]}`

const emptyTable = `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"4711"},
"columnDefinitions":[{"name":"Name","type":"string","format":"name","priority":0},{"name":"Age","type":"string","format":"","priority":0}],"rows":[]}`

func printTables(t *testing.T, opts TableOptions, bodies ...string) (out, notices string) {
	t.Helper()
	var o, n bytes.Buffer
	tp := NewTablePrinter(&o, &n, opts)
	for _, b := range bodies {
		if err := tp.Print(strings.NewReader(b)); err != nil {
			t.Fatalf("Print: %v", err)
		}
	}
	tp.Done()
	return o.String(), n.String()
}

func TestTablePrinter(t *testing.T) {
	tests := []struct {
		name string
		opts TableOptions
		body string
		want string
	}{
		{"header uppercased, priority 0 columns, kubectl's spacing", TableOptions{}, podTable, "" +
			"NAME                  READY   STATUS             RESTARTS       AGE\n" +
			"web-7d4b9c6f5-abcde   1/1     Running            0              5m\n" +
			"db-0                  0/1     CrashLoopBackOff   12 (30s ago)   2d3h\n"},
		{"wide adds the priority 1 columns", TableOptions{Wide: true}, podTable, "" +
			"NAME                  READY   STATUS             RESTARTS       AGE    IP            NODE     NOMINATED NODE   READINESS GATES\n" +
			"web-7d4b9c6f5-abcde   1/1     Running            0              5m     10.244.0.12   node-1   <none>           <none>\n" +
			"db-0                  0/1     CrashLoopBackOff   12 (30s ago)   2d3h   10.244.1.7    node-2   <none>           <none>\n"},
		{"a NAMESPACE column from each row's object", TableOptions{WithNamespace: true}, podTable, "" +
			"NAMESPACE     NAME                  READY   STATUS             RESTARTS       AGE\n" +
			"ns1           web-7d4b9c6f5-abcde   1/1     Running            0              5m\n" +
			"kube-system   db-0                  0/1     CrashLoopBackOff   12 (30s ago)   2d3h\n"},
		{"numbers as the server wrote them", TableOptions{}, deploymentTable, "" +
			"NAME   READY   UP-TO-DATE   AVAILABLE   AGE\n" +
			"web    3/3     3            3           12m\n"},
		{"wide deployments", TableOptions{Wide: true}, deploymentTable, "" +
			"NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES       SELECTOR\n" +
			"web    3/3     3            3           12m   nginx        nginx:1.27   app=web\n"},
		{"bold header on a terminal; the escape codes take no width", TableOptions{Color: true}, deploymentTable, "" +
			"\x1b[1mNAME\x1b[0m   \x1b[1mREADY\x1b[0m   \x1b[1mUP-TO-DATE\x1b[0m   \x1b[1mAVAILABLE\x1b[0m   \x1b[1mAGE\x1b[0m\n" +
			"web    3/3     3            3           12m\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, notices := printTables(t, tt.opts, tt.body)
			if out != tt.want {
				t.Errorf("got\n%s\nwant\n%s\n(%q)", out, tt.want, out)
			}
			if notices != "" {
				t.Errorf("notices %q", notices)
			}
		})
	}
}

// labeledTable's rows carry labels in their objects' metadata, as the
// server sends them (includeObject=Metadata).
const labeledTable = `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"7"},
"columnDefinitions":[{"name":"Name","type":"string","format":"name","priority":0},{"name":"Age","type":"string","priority":0},{"name":"Node","type":"string","priority":1}],
"rows":[
 {"cells":["web","5m","node-1"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"web","namespace":"ns1","labels":{"tier":"front","b":"2","app.kubernetes.io/name":"web"}}}},
 {"cells":["db","2d","node-2"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"db","namespace":"ns2"}}}]}`

// -L and --show-labels as kubectl get prints them: a column per key
// (its name without the prefix), then every label, sorted; after the
// server's columns, wide or not.
func TestTableLabels(t *testing.T) {
	tests := []struct {
		name string
		opts TableOptions
		want string
	}{
		// An empty last cell leaves the padding before it, as kubectl's
		// tabwriter does.
		{"a column per key, empty where the object has none", TableOptions{LabelColumns: []string{"tier", "app.kubernetes.io/name", "zone"}}, "" +
			"NAME   AGE   TIER    NAME   ZONE\n" +
			"web    5m    front   web    \n" +
			"db     2d                   \n"},
		{"every label, sorted; <none> for none", TableOptions{ShowLabels: true}, "" +
			"NAME   AGE   LABELS\n" +
			"web    5m    app.kubernetes.io/name=web,b=2,tier=front\n" +
			"db     2d    <none>\n"},
		{"namespace first, then the server's columns, the keys, the labels", TableOptions{WithNamespace: true, Wide: true, LabelColumns: []string{"b"}, ShowLabels: true}, "" +
			"NAMESPACE   NAME   AGE   NODE     B     LABELS\n" +
			"ns1         web    5m    node-1   2     app.kubernetes.io/name=web,b=2,tier=front\n" +
			"ns2         db     2d    node-2         <none>\n"},
		{"no header: the same padding", TableOptions{NoHeaders: true, LabelColumns: []string{"zone"}}, "" +
			"web   5m    \n" +
			"db    2d    \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out, _ := printTables(t, tt.opts, labeledTable); out != tt.want {
				t.Errorf("got\n%s\nwant\n%s\n(%q)", out, tt.want, out)
			}
		})
	}
}

// NameKind: kubectl get's KIND/NAME when it lists several resource types,
// in the column the server marks as the names' (format "name"), and in no
// other; "" again for names alone.
func TestTableNameKind(t *testing.T) {
	var out bytes.Buffer
	tp := NewTablePrinter(&out, io.Discard, TableOptions{Wide: true})
	tp.NameKind("widget.stable.example.com")
	if err := tp.Print(strings.NewReader(labeledTable)); err != nil {
		t.Fatal(err)
	}
	tp.Separate()
	tp.NameKind("")
	if err := tp.Print(strings.NewReader(labeledTable)); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"NAME                            AGE   NODE\n" +
		"widget.stable.example.com/web   5m    node-1\n" +
		"widget.stable.example.com/db    2d    node-2\n" +
		"\n" +
		"NAME   AGE   NODE\n" +
		"web    5m    node-1\n" +
		"db     2d    node-2\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s\n(%q)", out.String(), want, out.String())
	}
}

func TestTableCells(t *testing.T) {
	body := `{"kind":"Table","columnDefinitions":[{"name":"Name"},{"name":"Value"},{"name":"Note"}],"rows":[
		{"cells":["a",12345678901234567890,"tab\there"]},
		{"cells":["b",1.50,"two\nlines\r\n"]},
		{"cells":["c",true,null]},
		{"cells":["d",{"k":1.0},["x",2]]},
		{"cells":["e","\u001b[31mred\u001b[0m","bell\u0007"]},
		{"cells":["ünï","çödé"]},
		{"cells":["g","v","n","an extra cell without a column"]}]}`
	// As kubectl 1.37 prints them: a cell up to its first line break, then
	// "..."; an empty last cell leaves the padding before it; and the header
	// is padded to the longest cell under it in bytes (ünï is 5), so NAME is
	// as wide as that. Where kcurl differs, it is for the terminal's sake:
	// kubectl passes a tab through (it splits the cell, and the columns
	// after it move), BEL and C1 controls raw.
	want := "" +
		"NAME    VALUE                  NOTE\n" +
		"a       12345678901234567890   tab here\n" +
		"b       1.50                   two...\n" +
		"c       true                   \n" +
		"d       {\"k\":1.0}              [\"x\",2]\n" +
		"e       ^[[31mred^[[0m         bell^G\n" +
		"ünï     çödé                   \n" +
		"g       v                      n\n"
	out, _ := printTables(t, TableOptions{}, body)
	if out != want {
		t.Errorf("got\n%s\nwant\n%s\n(%q)", out, want, out)
	}
	// With --no-headers, kubectl pads the first row instead: its "a" to
	// the 5 bytes of "ünï".
	noHeaders := want[strings.Index(want, "\n")+1:]
	if out, _ := printTables(t, TableOptions{NoHeaders: true}, body); out != noHeaders {
		t.Errorf("--no-headers: got\n%s\nwant\n%s\n(%q)", out, noHeaders, out)
	}
}

func TestTableEmpty(t *testing.T) {
	out, notices := printTables(t, TableOptions{Empty: "No resources found in ns1 namespace."}, emptyTable)
	if out != "" || notices != "No resources found in ns1 namespace.\n" {
		t.Errorf("out %q, notices %q", out, notices)
	}
	out, notices = printTables(t, TableOptions{}, emptyTable)
	if out != "" || notices != "" {
		t.Errorf("without an Empty text: out %q, notices %q", out, notices)
	}
}

// A category prints one table per resource type, a blank line between, and
// says "No resources found" once, only when none of them had a row.
func TestTableSeparate(t *testing.T) {
	noHeaders := false
	print := func(bodies ...string) (string, string) {
		var o, n bytes.Buffer
		tp := NewTablePrinter(&o, &n, TableOptions{Empty: "No resources found in ns1 namespace.", NoHeaders: noHeaders})
		for i, b := range bodies {
			if i > 0 {
				tp.Separate()
			}
			if err := tp.Print(strings.NewReader(b)); err != nil {
				t.Fatal(err)
			}
		}
		tp.Done()
		return o.String(), n.String()
	}
	pods := "" +
		"NAME                  READY   STATUS             RESTARTS       AGE\n" +
		"web-7d4b9c6f5-abcde   1/1     Running            0              5m\n" +
		"db-0                  0/1     CrashLoopBackOff   12 (30s ago)   2d3h\n"
	deployments := "" +
		"NAME   READY   UP-TO-DATE   AVAILABLE   AGE\n" +
		"web    3/3     3            3           12m\n"

	if out, notices := print(podTable, deploymentTable); out != pods+"\n"+deployments || notices != "" {
		t.Errorf("two tables:\n%s(%q)\nnotices %q", out, out, notices)
	}
	if out, notices := print(podTable, emptyTable, deploymentTable); out != pods+"\n"+deployments || notices != "" {
		t.Errorf("an empty one between:\n%s(%q)\nnotices %q", out, out, notices)
	}
	if out, notices := print(emptyTable, deploymentTable, emptyTable); out != deployments || notices != "" {
		t.Errorf("empty ones around:\n%s(%q)\nnotices %q", out, out, notices)
	}
	if out, notices := print(emptyTable, emptyTable, emptyTable); out != "" || notices != "No resources found in ns1 namespace.\n" {
		t.Errorf("all empty: out %q, notices %q", out, notices)
	}
	// --no-headers: no blank line either, as kubectl's; each table's
	// columns its own.
	noHeaders = true
	want := "" +
		"web-7d4b9c6f5-abcde   1/1   Running            0              5m\n" +
		"db-0                  0/1   CrashLoopBackOff   12 (30s ago)   2d3h\n" +
		"web   3/3   3     3     12m\n"
	if out, _ := print(podTable, deploymentTable); out != want {
		t.Errorf("--no-headers:\n%s(%q)", out, out)
	}
}

// The pages of one list (--all) and the events of a watch print under one
// header. The server sends column definitions with the first watch event
// only (TableOptions.NoHeaders on the ones after).
func TestTableHeaderOnce(t *testing.T) {
	event := func(name, ns, age string, headers bool) string {
		cols := `[{"name":"Name","type":"string","format":"name","priority":0},{"name":"Status","type":"string","priority":0},{"name":"Age","type":"string","priority":0},{"name":"Node","type":"string","priority":1}]`
		if !headers {
			cols = "null"
		}
		return `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"5"},"columnDefinitions":` + cols +
			`,"rows":[{"cells":["` + name + `","Running","` + age + `","node-1"],"object":{"metadata":{"name":"` + name + `","namespace":"` + ns + `"}}}]}`
	}
	labeled := strings.Replace(event("db", "ns2", "2s", false), `"namespace":"ns2"`, `"namespace":"ns2","labels":{"z":"1","name":"db"}`, 1)
	for _, tc := range []struct {
		name   string
		opts   TableOptions
		bodies []string
		want   string
	}{
		{"watch", TableOptions{}, []string{event("web", "ns1", "1s", true), event("db", "ns1", "2s", false), event("cache", "ns1", "3s", false)}, "" +
			"NAME   STATUS    AGE\n" +
			"web    Running   1s\n" +
			"db     Running   2s\n" + // under the header, though alone in its event
			"cache   Running   3s\n"}, // wider: pushes its line only, as with kubectl get -w
		{"watch -A -o wide", TableOptions{Wide: true, WithNamespace: true}, []string{event("web", "ns1", "1s", true), event("db", "ns2", "2s", false)}, "" +
			"NAMESPACE   NAME   STATUS    AGE   NODE\n" +
			"ns1         web    Running   1s    node-1\n" +
			"ns2         db     Running   2s    node-1\n"},
		// The label columns, on events without column definitions too.
		{"watch --show-labels -L name", TableOptions{ShowLabels: true, LabelColumns: []string{"name"}}, []string{event("web", "ns1", "1s", true), labeled}, "" +
			"NAME   STATUS    AGE   NAME   LABELS\n" +
			"web    Running   1s           <none>\n" +
			"db     Running   2s    db     name=db,z=1\n"},
		// --all: each page has its column definitions; one header.
		{"pages", TableOptions{}, []string{deploymentTable, deploymentTable}, "" +
			"NAME   READY   UP-TO-DATE   AVAILABLE   AGE\n" +
			"web    3/3     3            3           12m\n" +
			"web    3/3     3            3           12m\n"},
	} {
		if out, _ := printTables(t, tc.opts, tc.bodies...); out != tc.want {
			t.Errorf("%s:\n%s(%q)\nwant\n%s", tc.name, out, out, tc.want)
		}
	}
}

func TestTableNotATable(t *testing.T) {
	for _, body := range []string{
		`{"kind":"PodList","apiVersion":"v1","items":[]}`,
		`{"kind":"APIVersions","versions":["v1"]}`,
		`[{"kind":"Table"}]`,
		`not json`,
		``,
		`{"apiVersion":"v1","kind":"Status","message":"` + strings.Repeat("x", 200<<10) + `"}`,
		`{"columnDefinitions":[],"rows":[{"cells":["a"]}]}`, // no kind
	} {
		var o, n bytes.Buffer
		tp := NewTablePrinter(&o, &n, TableOptions{Empty: "No resources found"})
		err := tp.Print(strings.NewReader(body))
		var notTable *ErrNotTable
		if !errors.As(err, &notTable) {
			t.Errorf("%q: got %v, want ErrNotTable", body, err)
			continue
		}
		if back, _ := io.ReadAll(notTable.Body); string(back) != body {
			t.Errorf("%.100q: the body handed back is %.100q", body, back)
		}
		tp.Done()
		if o.Len()+n.Len() != 0 {
			t.Errorf("%q: printed %q %q", body, o.String(), n.String())
		}
	}
}

func TestWriteColumns(t *testing.T) {
	tests := []struct {
		name  string
		lines [][]string
		bold  bool
		want  string
	}{
		{"no column narrower than six", [][]string{{"A", "B", "C"}, {"x", "y", "z"}}, false,
			"A     B     C\nx     y     z\n"},
		{"a cell and three spaces", [][]string{{"NAME", "SHORTNAMES", "KIND"}, {"configmaps", "cm", "ConfigMap"}}, false,
			"NAME         SHORTNAMES   KIND\nconfigmaps   cm           ConfigMap\n"},
		{"the last column is not padded", [][]string{{"NAME", "VERBS"}, {"pods", "create,delete,get"}, {"bindings", "create"}}, false,
			"NAME       VERBS\npods       create,delete,get\nbindings   create\n"},
		{"widths count characters, not bytes", [][]string{{"NAME", "X"}, {"ççççç", "y"}}, false,
			"NAME    X\nççççç   y\n"},
		{"bold header", [][]string{{"NAME", "KIND"}, {"pods", "Pod"}}, true,
			"\x1b[1mNAME\x1b[0m   \x1b[1mKIND\x1b[0m\npods   Pod\n"},
		{"cells that would break the columns", [][]string{{"NAME", "NOTE"}, {"a\tb", "c\nd"}, {"\x1b]0;x\x07", "e"}}, false,
			"NAME       NOTE\na b        c d\n^[]0;x^G   e\n"},
		{"C1 controls, which some terminals obey", [][]string{{"NAME"}, {"\u009b31mred"}}, false,
			"NAME\n\ufffd31mred\n"},
		{"DEL and other C0 controls in caret notation", [][]string{{"NAME"}, {"a\x7fb\x00c\x08"}}, false,
			"NAME\na^?b^@c^H\n"},
		{"an empty last cell leaves the padding before it, as kubectl's tabwriter", [][]string{{"NAME", "NOTE"}, {"a", ""}}, false,
			"NAME   NOTE\na      \n"},
		{"nothing", nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteColumns(&b, tt.lines, tt.bold); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%s(%q)\nwant\n%s", b.String(), b.String(), tt.want)
			}
		})
	}
}

// TestTableStreamsRows: a long Table's first rows are printed before the
// rest has arrived, aligned in chunks whose columns only grow.
func TestTableStreamsRows(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{},"columnDefinitions":[{"name":"Name","priority":0},{"name":"Data","priority":0}],"rows":[`)
	for i := range rowsAtOnce + 1 {
		fmt.Fprintf(&b, `{"cells":["cm-%d",%d],"object":{"metadata":{"name":"cm-%d"}}},`, i, i, i)
	}
	var out bytes.Buffer
	tp := NewTablePrinter(&out, io.Discard, TableOptions{})
	broken := errors.New("the rest never came")
	err := tp.Print(io.MultiReader(strings.NewReader(b.String()), iotest.ErrReader(broken)))
	if !errors.Is(err, broken) {
		t.Fatalf("error %v", err)
	}
	lines := strings.Split(out.String(), "\n")
	if len(lines) != rowsAtOnce+2 || lines[0] != "NAME     DATA" || lines[1] != "cm-0     0" || lines[rowsAtOnce] != "cm-499   499" {
		t.Errorf("printed %d lines: %q … %q", len(lines), lines[:2], lines[len(lines)-2:])
	}
}

// With AlignAll (--sort-by, which holds the table whole), a wide row past
// the first rowsAtOnce widens every row, as kubectl's one page does.
func TestTableAlignAll(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"kind":"Table","columnDefinitions":[{"name":"Name","priority":0},{"name":"Data","priority":0}],"rows":[`)
	for i := range rowsAtOnce + 1 {
		name := fmt.Sprintf("cm-%d", i)
		if i == rowsAtOnce {
			name = "cm-the-last-and-longest"
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"cells":[%q,%d]}`, name, i)
	}
	b.WriteString("]}")
	for _, tc := range []struct {
		alignAll bool
		first    string
	}{
		{false, "cm-0     0"},
		{true, "cm-0                      0"},
	} {
		var out bytes.Buffer
		if err := NewTablePrinter(&out, io.Discard, TableOptions{AlignAll: tc.alignAll}).Print(strings.NewReader(b.String())); err != nil {
			t.Fatal(err)
		}
		if lines := strings.Split(out.String(), "\n"); lines[1] != tc.first || lines[rowsAtOnce+1] != "cm-the-last-and-longest   500" {
			t.Errorf("AlignAll %v: %q … %q", tc.alignAll, lines[1], lines[rowsAtOnce+1])
		}
	}
}
