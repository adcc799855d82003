package output

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/liggitt/tabwriter"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/yaml/kyaml"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// KubectlOptions are kubectl's flags that shape its formats.
type KubectlOptions struct {
	// AllowMissingKeys is --allow-missing-template-keys (kubectl's default:
	// true): a missing field prints nothing (jsonpath) or "<no value>"
	// (go-template) instead of failing.
	AllowMissingKeys bool
	// ShowManagedFields is --show-managed-fields: kyaml, like kubectl's
	// json and yaml, hides metadata.managedFields unless it is given.
	ShowManagedFields bool
	// NoHeaders is --no-headers: custom-columns without its header line.
	NoHeaders bool
}

// KubectlFormat is one of kubectl's -o formats that print objects
// through cli-runtime's printers (jsonpath, go-template, kyaml) or
// kubectl's custom-columns printer: what `kubectl get -o FORMAT` prints, byte
// for byte. A list is shown as kubectl shows it (kind List, apiVersion v1,
// each item with its kind) and printed item by item where the format
// allows it (plan); -w prints each event's object.
type KubectlFormat struct {
	Name   string // as kubectl names it: jsonpath, custom-columns, go-template, kyaml
	format objectFormat
}

// objectFormat prints objects (decoded as kubectl decodes them: numbers
// int64 or float64) in one of kubectl's formats.
type objectFormat interface {
	// object prints one object: a single answer, or a watch event's.
	object(w io.Writer, obj map[string]any) error
	// list starts a list, whose items follow one by one.
	list(w io.Writer) listFormat
	// done ends every answer (custom-columns' column widths).
	done(w io.Writer) error
}

// listFormat prints a list's items as they arrive.
type listFormat interface {
	item(obj map[string]any) error
	end() error
}

// kubectlFormats are the -o values kubectl 1.37 takes for these printers,
// each followed by '=' and its template, spec or file, but kyaml.
var kubectlFormats = []string{"jsonpath", "jsonpath-as-json", "jsonpath-file", "custom-columns", "custom-columns-file", "go-template", "go-template-file", "template", "templatefile", "kyaml"}

// IsKubectlFormat reports whether -o's value names one of kubectl's
// formats, so that ParseKubectlFormat is the one to read it.
func IsKubectlFormat(output string) bool {
	name, _, _ := strings.Cut(output, "=")
	for _, f := range kubectlFormats {
		if name == f {
			return true
		}
	}
	return false
}

// ParseKubectlFormat reads -o's value, one of kubectl's formats: the
// template parsed, the file read. Its errors are kubectl's, and usage
// errors (exit 2), as an invalid jq expression is.
func ParseKubectlFormat(output string, opts KubectlOptions) (*KubectlFormat, error) {
	name, arg, _ := strings.Cut(output, "=")
	if name == "kyaml" {
		if arg != "" {
			return nil, exitcode.Usagef("-o kyaml takes no argument, got %q", output)
		}
		return &KubectlFormat{Name: name, format: &kyamlFormat{showManagedFields: opts.ShowManagedFields}}, nil
	}
	if arg == "" {
		if strings.HasPrefix(name, "custom-columns") {
			return nil, exitcode.Usagef("custom-columns format specified but no custom columns given: -o custom-columns=NAME:.metadata.name")
		}
		return nil, exitcode.Usagef("template format specified but no template given: -o %s=TEMPLATE", name)
	}
	text := arg
	if strings.HasSuffix(name, "-file") || name == "templatefile" {
		data, err := os.ReadFile(arg)
		if err != nil {
			return nil, exitcode.Targetf("error reading template %s, %v", arg, err)
		}
		text = string(data)
	}
	var (
		format objectFormat
		err    error
	)
	switch name {
	case "jsonpath", "jsonpath-as-json", "jsonpath-file":
		format, err = newJSONPathFormat(text, name == "jsonpath-as-json", opts.AllowMissingKeys)
	case "custom-columns":
		format, err = newColumnsFromSpec(text, opts.NoHeaders)
	case "custom-columns-file":
		format, err = newColumnsFromTemplate(strings.NewReader(text))
	default:
		format, err = newGoTemplateFormat(text, opts.AllowMissingKeys)
	}
	if err != nil {
		return nil, exitcode.Usagef("%v", err)
	}
	return &KubectlFormat{Name: name, format: format}, nil
}

// kubectlList is the List kubectl get prints for a list (printGeneric in
// k8s.io/kubectl/pkg/cmd/get): its own kind and apiVersion, the
// resourceVersion it never fills, and the items.
func kubectlList(items []map[string]any) *unstructured.UnstructuredList {
	list := &unstructured.UnstructuredList{Object: map[string]any{
		"kind":       "List",
		"apiVersion": "v1",
		"metadata":   map[string]any{"resourceVersion": ""},
	}}
	for _, item := range items {
		list.Items = append(list.Items, unstructured.Unstructured{Object: item})
	}
	return list
}

// kubectlValue turns a decoded value into what kubectl's decoder gives
// (k8s.io/apimachinery/pkg/util/json): integers int64, other numbers
// float64, so that every printer formats them as kubectl's do.
func kubectlValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = kubectlValue(e)
		}
	case []any:
		for i, e := range v {
			v[i] = kubectlValue(e)
		}
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	}
	return v
}

// kubectl prints each top-level value of the body (one answer, or a
// watch event's object) in a kubectl format; a list item by item.
func (p *Printer) kubectl(body io.Reader) error {
	f := p.opts.Kubectl.format
	dec := NewDecoder(body)
	err := p.eachDecoded(dec, func() error {
		var list listFormat
		v, streamed, err := dec.decodeItems(func(head map[string]any) error {
			v, err := dec.value()
			if err != nil {
				return err
			}
			if list == nil {
				list = f.list(p.out)
			}
			item, ok := kubectlValue(v).(map[string]any)
			if !ok {
				return nil // not an object: kubectl's decoder would refuse the list
			}
			// As kubectl's decoder does: items of a typed list (PodList)
			// carry no kind; they get their list's.
			if item["kind"] == nil && item["apiVersion"] == nil {
				item["kind"] = strings.TrimSuffix(str(head["kind"]), "List")
				item["apiVersion"] = str(head["apiVersion"])
			}
			return list.item(item)
		})
		switch {
		case err != nil:
			return err
		case streamed:
			if list == nil {
				list = f.list(p.out)
			}
			return list.end()
		}
		obj, ok := kubectlValue(v).(map[string]any)
		if !ok {
			return exitcode.With(exitcode.Failed, fmt.Errorf("-o %s prints Kubernetes objects, and the answer is not a JSON object: use -q", p.opts.Kubectl.Name))
		}
		return f.object(p.out, obj)
	})
	if derr := f.done(p.out); err == nil {
		err = derr
	}
	return err
}

// executionError is a template that failed on an object: exit 1, as a jq
// program that fails (kubectl exits 1 too).
func executionError(err error) error {
	if err == nil {
		return nil
	}
	return exitcode.With(exitcode.Failed, err)
}

// heldList holds a list's items and prints the whole List at its end: for
// a template that needs the whole list at once (docs/performance.md).
type heldList struct {
	items []map[string]any
	print func(list *unstructured.UnstructuredList) error
}

func (h *heldList) item(obj map[string]any) error {
	h.items = append(h.items, obj)
	return nil
}

func (h *heldList) end() error { return h.print(kubectlList(h.items)) }

// kyamlFormat is -o kyaml: sigs.k8s.io/yaml's KYAML encoder, as
// cli-runtime's KYAMLPrinter uses it.
type kyamlFormat struct {
	showManagedFields bool
	enc               kyaml.Encoder
}

func (k *kyamlFormat) object(w io.Writer, obj map[string]any) error {
	k.omitManagedFields(obj)
	return k.enc.FromObject(obj, w)
}

func (k *kyamlFormat) done(io.Writer) error { return nil }

// omitManagedFields: as cli-runtime's OmitManagedFieldsPrinter, unless
// --show-managed-fields.
func (k *kyamlFormat) omitManagedFields(obj map[string]any) {
	if meta, ok := obj["metadata"].(map[string]any); ok && !k.showManagedFields {
		delete(meta, "managedFields")
	}
}

// list writes the List as KYAML renders it whole: the List's own fields
// around "items: [...]", each item rendered by the encoder where it
// stands in the list (inside a one-item "items" of its own, cut out).
func (k *kyamlFormat) list(w io.Writer) listFormat {
	return &kyamlList{k: k, w: w}
}

type kyamlList struct {
	k       *kyamlFormat
	w       io.Writer
	started bool
	after   string // the List's text after its items
	err     error
}

const kyamlEmptyItems = "items: []"

func (l *kyamlList) begin() error {
	var doc strings.Builder
	if err := l.k.enc.FromObject(kubectlList(nil).UnstructuredContent(), &doc); err != nil {
		return err
	}
	before, after, ok := strings.Cut(doc.String(), kyamlEmptyItems)
	if !ok {
		return fmt.Errorf("kyaml: no %q in the rendered List", kyamlEmptyItems)
	}
	l.after = after
	_, err := io.WriteString(l.w, before+"items: [")
	return err
}

func (l *kyamlList) item(obj map[string]any) error {
	if !l.started {
		if err := l.begin(); err != nil {
			return err
		}
	} else if _, err := io.WriteString(l.w, ", "); err != nil {
		return err
	}
	l.started = true
	l.k.omitManagedFields(obj)
	text, err := l.k.enc.Marshal(map[string]any{"items": []any{obj}})
	if err != nil {
		return err
	}
	const head, tail = "{\n  items: [", "],\n}"
	s := string(text)
	if !strings.HasPrefix(s, head) || !strings.HasSuffix(s, tail) {
		return fmt.Errorf("kyaml: unexpected rendering of an item: %.40q", s)
	}
	_, err = io.WriteString(l.w, s[len(head):len(s)-len(tail)])
	return err
}

func (l *kyamlList) end() error {
	if !l.started {
		return l.k.enc.FromObject(kubectlList(nil).UnstructuredContent(), l.w)
	}
	_, err := io.WriteString(l.w, "]"+l.after)
	return err
}

// newTabWriter is kubectl's tabwriter (cli-runtime's GetNewTabWriter):
// widths remembered from one flush to the next.
func newTabWriter(w io.Writer) *tabwriter.Writer { return printers.GetNewTabWriter(w) }
