package output

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output/internal/customcolumns"
)

// A ConfigMapList as the API server sends it: items without kind, a
// number of each kind, managedFields, a label on some items only.
const kubectlTestList = `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"42"},"items":[
{"metadata":{"name":"alpha","namespace":"ns1","uid":"u-1","resourceVersion":"7","labels":{"app":"web","tier":"<front>"},"managedFields":[{"manager":"kubectl","operation":"Apply"}]},"data":{"k":"v","n":"12"}},
{"metadata":{"name":"a-much-longer-name","namespace":"ns1","uid":"u-2","resourceVersion":"8","annotations":{"size":1.5,"count":3}},"data":{"multi":"line one\nline two"}},
{"metadata":{"name":"c","namespace":"ns2","uid":"u-3","resourceVersion":"9","labels":{"app":"db"}},"binaryData":{"b":"AAE="}}
]}`

const kubectlTestObject = `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"alpha","namespace":"ns1","managedFields":[{"manager":"kubectl"}],"labels":{"app":"web"}},"data":{"k":"v","big":12345678901234}}`

var kubectlTestFormats = []string{
	"jsonpath={.items[*].metadata.name}",
	"jsonpath={.kind} {.apiVersion}: {.items[*].metadata.name}{\"\\n\"}",
	"jsonpath={range .items[*]}{.metadata.name}{\"\\t\"}{.metadata.labels.app}{\"\\n\"}{end}",
	"jsonpath={range .items[*]}{.metadata.name}{range .metadata.labels}[{@}]{end}{\"\\n\"}{end}done{.metadata}",
	"jsonpath={.items[?(@.metadata.namespace==\"ns1\")].metadata.uid}",
	"jsonpath={range .items[?(@.metadata.namespace==\"ns1\")]}{.metadata.name};{end}",
	"jsonpath={.items[*].metadata}",
	"jsonpath={.items[*]}",
	"jsonpath={.items[*].metadata.annotations.size}",
	"jsonpath={.items[0].metadata.name} {.items[*].kind}",              // an index: the list held
	"jsonpath={.items[*].metadata.name}{.items[*].metadata.namespace}", // the items twice: held
	"jsonpath={..name}",
	"jsonpath={.items}",
	"jsonpath={}",
	"jsonpath-as-json={.items[*].metadata.name}",
	"jsonpath-as-json={.items[*].metadata.labels}",
	"jsonpath-as-json={.kind}{.items[*].data}{.metadata}",
	"jsonpath-as-json={range .items[*]}{.metadata.name}{end}",
	"jsonpath-as-json={.items[?(@.metadata.name==\"none\")].kind}",
	"custom-columns=NAME:.metadata.name,NS:metadata.namespace,APP:{.metadata.labels.app},DATA:.data.k",
	"custom-columns=NAME:.metadata.name",
	"go-template={{range .items}}{{.metadata.name}} {{.kind}}{{\"\\n\"}}{{end}}",
	"go-template={{.kind}}/{{.apiVersion}}:{{range .items}} {{.metadata.name}}={{index .metadata \"uid\"}}{{end}}{{\"\\n\"}}{{len .metadata}}",
	"go-template={{range .items}}{{if .metadata.labels}}{{.metadata.labels.app}}{{else}}-{{end}}{{.metadata.missing}}{{end}}",
	"go-template={{range $i, $e := .items}}{{$i}}:{{$e.metadata.name}} {{end}}",          // variables: held
	"go-template={{len .items}} {{range .items}}{{.metadata.name}}{{end}}",               // .items twice: held
	"go-template={{range .items}}{{with .binaryData}}{{base64decode .b}}{{end}}{{end}}x", // kubectl's own function
	"go-template={{.}}",
	"kyaml",
}

// TestKubectlFormatsMatchTheWholeList prints a list item by item, as kcurl
// does, and checks it against cli-runtime's printers given the whole List as
// kubectl get builds it, and a single object the same way.
func TestKubectlFormatsMatchTheWholeList(t *testing.T) {
	for _, format := range kubectlTestFormats {
		for _, body := range []string{kubectlTestList, kubectlTestObject, `{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}`} {
			t.Run(format+"/"+body[:20], func(t *testing.T) {
				want := kubectlReference(t, format, body, true, false)
				k, err := ParseKubectlFormat(format, KubectlOptions{AllowMissingKeys: true})
				if err != nil {
					t.Fatal(err)
				}
				got, _, err := printWith(t, Options{Kubectl: k}, body, "application/json")
				if err != nil {
					got += "ERROR: " + err.Error()
				}
				if got != want {
					t.Errorf("got:\n%s\nwant (kubectl's printers on the whole List):\n%s", got, want)
				}
			})
		}
	}
}

// kubectlReference is what kubectl get prints: the answer decoded by
// apimachinery's unstructured scheme, a list made kubectl's List
// (printGeneric), and the printer kubectl's flags build.
func kubectlReference(t *testing.T, format, body string, allowMissing, showManagedFields bool) string {
	t.Helper()
	decoded, _, err := unstructured.UnstructuredJSONScheme.Decode([]byte(body), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj := decoded
	if l, ok := decoded.(*unstructured.UnstructuredList); ok {
		list := &unstructured.UnstructuredList{Object: map[string]any{"kind": "List", "apiVersion": "v1", "metadata": map[string]any{"resourceVersion": ""}}}
		list.Items = l.Items
		obj = list
	}
	p := referencePrinter(t, format, allowMissing, showManagedFields)
	var out bytes.Buffer
	if err := p.PrintObj(obj, &out); err != nil {
		return out.String() + "ERROR: " + err.Error()
	}
	return out.String()
}

// referencePrinter is the printer cli-runtime's print flags build for
// format (genericclioptions' JSONPath, GoTemplate and JSONYaml flags).
func referencePrinter(t *testing.T, format string, allowMissing, showManagedFields bool) printers.ResourcePrinter {
	t.Helper()
	name, arg, _ := strings.Cut(format, "=")
	switch {
	case name == "kyaml":
		if showManagedFields {
			return &printers.KYAMLPrinter{}
		}
		return &printers.OmitManagedFieldsPrinter{Delegate: &printers.KYAMLPrinter{}}
	case strings.HasPrefix(name, "jsonpath"):
		p, err := printers.NewJSONPathPrinter(arg)
		if err != nil {
			t.Fatal(err)
		}
		p.AllowMissingKeys(allowMissing)
		p.EnableJSONOutput(name == "jsonpath-as-json")
		return p
	case strings.HasPrefix(name, "custom-columns"):
		p, err := customcolumns.NewCustomColumnsPrinterFromSpec(arg, unstructured.UnstructuredJSONScheme, false)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := printers.NewGoTemplatePrinter([]byte(arg))
	if err != nil {
		t.Fatal(err)
	}
	p.AllowMissingKeys(allowMissing)
	return p
}

func TestKubectlFormatsManagedFields(t *testing.T) {
	for _, show := range []bool{false, true} {
		k, err := ParseKubectlFormat("kyaml", KubectlOptions{ShowManagedFields: show})
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{kubectlTestList, kubectlTestObject} {
			got, _, err := printWith(t, Options{Kubectl: k}, body, "application/json")
			if err != nil {
				t.Fatal(err)
			}
			if want := kubectlReference(t, "kyaml", body, true, show); got != want {
				t.Errorf("--show-managed-fields=%v: got\n%s\nwant\n%s", show, got, want)
			}
			if strings.Contains(got, "managedFields") != show {
				t.Errorf("--show-managed-fields=%v: managedFields in the output: %v", show, !show)
			}
		}
	}
}

// A watch's objects, one Print each as the exchange gives them: each
// printed by itself, custom-columns' header once.
func TestKubectlFormatsWatch(t *testing.T) {
	objects := []string{
		`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}`,
		`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"bbbbbbbbbbbb"}}`,
	}
	for _, format := range []string{"jsonpath={.metadata.name}{\"\\n\"}", "jsonpath={range .metadata}{@}{end}", "custom-columns=NAME:.metadata.name,KIND:.kind", "go-template={{.metadata.name}}", "kyaml"} {
		k, err := ParseKubectlFormat(format, KubectlOptions{AllowMissingKeys: true})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		p := NewPrinter(&out, &out, Options{Kubectl: k, FlushEachValue: true})
		var want strings.Builder
		for i, obj := range objects {
			if err := p.Print(t.Context(), strings.NewReader(obj), "application/json"); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(format, "custom-columns") {
				want.WriteString(kubectlReference(t, format, obj, true, false))
			} else if i == 0 {
				want.WriteString(kubectlReference(t, format, obj, true, false))
			}
		}
		if strings.HasPrefix(format, "custom-columns") {
			// The header once; each row when its event comes, widths
			// remembered (kubectl's tabwriter, flushed per event).
			want.Reset()
			want.WriteString("NAME   KIND\na      ConfigMap\nbbbbbbbbbbbb   ConfigMap\n")
		}
		if out.String() != want.String() {
			t.Errorf("%s: got\n%q\nwant\n%q", format, out.String(), want.String())
		}
	}
}

func TestKubectlFormatErrors(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "t.tmpl")
	if err := os.WriteFile(tmpl, []byte("{.metadata.name}"), 0o644); err != nil {
		t.Fatal(err)
	}
	cols := filepath.Join(dir, "cols")
	if err := os.WriteFile(cols, []byte("NAME   NS\nmetadata.name {.metadata.namespace}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		format, want string
		code         int
	}{
		{"jsonpath={.metadata.name", "error parsing jsonpath {.metadata.name, unclosed action", exitcode.Usage},
		{"jsonpath=", "template format specified but no template given: -o jsonpath=TEMPLATE", exitcode.Usage},
		{"go-template={{.x", "error parsing template {{.x, template: output:1: unclosed action", exitcode.Usage},
		{"custom-columns=NAME", "unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>", exitcode.Usage},
		{"jsonpath-file=" + filepath.Join(dir, "none"), "error reading template " + filepath.Join(dir, "none") + ", open " + filepath.Join(dir, "none") + ": no such file or directory", exitcode.Usage},
		{"kyaml=x", `-o kyaml takes no argument, got "kyaml=x"`, exitcode.Usage},
	} {
		_, err := ParseKubectlFormat(tt.format, KubectlOptions{AllowMissingKeys: true})
		code, _ := exitcode.Of(err)
		if err == nil || err.Error() != tt.want || code != tt.code {
			t.Errorf("%s: got %v (exit %d), want %q (exit %d)", tt.format, err, code, tt.want, tt.code)
		}
	}
	for format, want := range map[string]string{"jsonpath-file=" + tmpl: "alpha", "custom-columns-file=" + cols: "NAME    NS\nalpha   ns1\n"} {
		k, err := ParseKubectlFormat(format, KubectlOptions{AllowMissingKeys: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, _, err := printWith(t, Options{Kubectl: k}, kubectlTestObject, "application/json"); err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", format, got, err, want)
		}
	}
}

// --allow-missing-template-keys=false: kubectl's error, exit 1, and the
// list held whole so that the error is decided as kubectl decides it.
func TestKubectlFormatsMissingKeys(t *testing.T) {
	for _, format := range []string{"jsonpath={.items[*].metadata.labels.app}", "jsonpath={.items[*].metadata.nothing}", "go-template={{range .items}}{{.metadata.labels.app}}{{end}}"} {
		k, err := ParseKubectlFormat(format, KubectlOptions{AllowMissingKeys: false})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := printWith(t, Options{Kubectl: k}, kubectlTestList, "application/json")
		var ref bytes.Buffer
		refErr := kubectlReferenceErr(t, format, kubectlTestList, &ref)
		code, _ := exitcode.Of(err)
		if (err == nil) != (refErr == nil) || got != ref.String() || (err != nil && (code != exitcode.Failed || err.Error() != refErr.Error())) {
			t.Errorf("%s: got %q, %v (exit %d); kubectl's printers: %q, %v", format, got, err, code, ref.String(), refErr)
		}
	}
}

func kubectlReferenceErr(t *testing.T, format, body string, out *bytes.Buffer) error {
	decoded, _, err := unstructured.UnstructuredJSONScheme.Decode([]byte(body), nil, nil)
	if err != nil {
		return err
	}
	list := &unstructured.UnstructuredList{Object: map[string]any{"kind": "List", "apiVersion": "v1", "metadata": map[string]any{"resourceVersion": ""}}}
	list.Items = decoded.(*unstructured.UnstructuredList).Items
	p := referencePrinter(t, format, false, false)
	return p.PrintObj(runtime.Object(list), out)
}

// Which templates print a list item by item, and which hold it whole
// (docs/performance.md says which).
func TestKubectlFormatsStreamed(t *testing.T) {
	for _, tt := range []struct {
		format   string
		streamed bool
	}{
		{"jsonpath={.items[*].metadata.name}", true},
		{"jsonpath={$.items[*].metadata.name}", true},
		{"jsonpath={.kind}{range .items[*]}{.metadata.name}{\"\\n\"}{end}{.apiVersion}", true},
		{"jsonpath={.items[?(@.metadata.name==\"a}\")].metadata.uid}", true},
		{"jsonpath-as-json={.items[*].metadata.name}", true},
		{"jsonpath={.items[0].metadata.name}", false},
		{"jsonpath={.items}", false},
		{"jsonpath={..name}", false},
		{"jsonpath={.items[*].a}{.items[*].b}", false},
		{"go-template={{range .items}}{{.metadata.name}}{{end}}", true},
		{"go-template={{.kind}}{{range .items}}{{.metadata.name}}{{end}}{{.apiVersion}}", true},
		{"go-template={{range .items}}{{$.kind}}{{end}}", false},
		{"go-template={{range .items}}{{.}}{{end}}", false},
		{"go-template={{range .items}}x{{else}}none{{end}}", false},
		{"go-template={{len .items}}", false},
	} {
		k, err := ParseKubectlFormat(tt.format, KubectlOptions{AllowMissingKeys: true})
		if err != nil {
			t.Fatal(err)
		}
		_, held := k.format.list(io.Discard).(*heldList)
		if held == tt.streamed {
			t.Errorf("%s: streamed %v, want %v", tt.format, !held, tt.streamed)
		}
	}
}
