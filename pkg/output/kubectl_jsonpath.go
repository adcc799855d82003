package output

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/util/jsonpath"
)

// jsonPathFormat is -o jsonpath=… and jsonpath-as-json=…: client-go's
// jsonpath, through cli-runtime's JSONPathPrinter for a whole object.
type jsonPathFormat struct {
	text             string
	asJSON           bool
	allowMissingKeys bool
	plan             *jsonPathPlan // nil: a list is held whole
}

func newJSONPathFormat(text string, asJSON, allowMissingKeys bool) (*jsonPathFormat, error) {
	if _, err := printers.NewJSONPathPrinter(text); err != nil {
		return nil, fmt.Errorf("error parsing jsonpath %s, %v", text, err)
	}
	f := &jsonPathFormat{text: text, asJSON: asJSON, allowMissingKeys: allowMissingKeys}
	if allowMissingKeys {
		// Without it, a key missing from one item is an error only when
		// no item has it: only the whole list can tell.
		f.plan = planJSONPath(text)
	}
	return f, nil
}

// printer is a fresh printer for each object: client-go's JSONPath keeps
// what a {range} changed in its parsed template, so that a printer used
// twice prints the second object wrong.
func (f *jsonPathFormat) printer(text string) *jsonpath.JSONPath {
	j := jsonpath.New("out").AllowMissingKeys(f.allowMissingKeys)
	_ = j.Parse(text) // parsed once already, in newJSONPathFormat or planJSONPath
	j.EnableJSONOutput(f.asJSON)
	return j
}

func (f *jsonPathFormat) object(w io.Writer, obj map[string]any) error {
	return f.print(w, &unstructured.Unstructured{Object: obj})
}

// print is cli-runtime's JSONPathPrinter on a whole object or List.
func (f *jsonPathFormat) print(w io.Writer, obj runtime.Object) error {
	p, err := printers.NewJSONPathPrinter(f.text)
	if err != nil {
		return err
	}
	p.AllowMissingKeys(f.allowMissingKeys)
	p.EnableJSONOutput(f.asJSON)
	return executionError(p.PrintObj(obj, w))
}

func (f *jsonPathFormat) done(io.Writer) error { return nil }

func (f *jsonPathFormat) list(w io.Writer) listFormat {
	if f.plan == nil {
		return &heldList{print: func(list *unstructured.UnstructuredList) error { return f.print(w, list) }}
	}
	return &jsonPathList{f: f, w: w}
}

// jsonPathPlan is a template split where it meets the list's items, so
// that a list is printed item by item with what the whole template
// prints on the whole List: before (on the List without its items), the
// one part that reads the items, after. The part is either
// {.items[*]REST} (one set of results over every item, joined by spaces
// or in one JSON array, as kubectl prints one set) or
// {range .items[*]REST}BODY{end} (BODY per item).
type jsonPathPlan struct {
	before, after string
	itemPath      string // "{[*]REST}", run on [item]
	itemRange     string // "{range [*]REST}BODY{end}", run on [item]
	// itemBody is BODY alone, for a range over every item whose BODY
	// has no range of its own: one parsed template, run on each item.
	itemBody  string
	bodyAlone bool
}

// jsonPathList prints one list by the plan.
type jsonPathList struct {
	f       *jsonPathFormat
	w       io.Writer
	started bool
	results int // of itemPath so far
	path    *jsonpath.JSONPath
	body    *jsonpath.JSONPath
}

func (l *jsonPathList) shell(text string) error {
	if text == "" {
		return nil
	}
	return executionError(l.f.printer(text).Execute(l.w, kubectlList(nil).UnstructuredContent()))
}

func (l *jsonPathList) begin() error {
	l.started = true
	if l.f.plan.itemPath != "" {
		l.path = l.f.printer(l.f.plan.itemPath)
	}
	if l.f.plan.bodyAlone {
		l.body = l.f.printer(l.f.plan.itemBody)
	}
	return l.shell(l.f.plan.before)
}

func (l *jsonPathList) item(obj map[string]any) error {
	if !l.started {
		if err := l.begin(); err != nil {
			return err
		}
	}
	plan := l.f.plan
	switch {
	case plan.bodyAlone:
		return executionError(l.body.Execute(l.w, obj))
	case plan.itemRange != "":
		// A fresh printer for each item: see printer.
		return executionError(l.f.printer(plan.itemRange).Execute(l.w, []any{obj}))
	case plan.itemPath != "":
		sets, err := l.path.FindResults([]any{obj})
		if err != nil {
			return executionError(fmt.Errorf("error executing jsonpath %q: %v", l.f.text, err))
		}
		for _, set := range sets {
			for _, v := range set {
				if err := l.result(v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// result prints one result of {.items[*]…} as JSONPath.PrintResults
// prints it within the set of every item's: after a space, or as an
// element of one indented JSON array.
func (l *jsonPathList) result(v reflect.Value) error {
	first := l.results == 0
	l.results++
	if !l.f.asJSON {
		if !first {
			if _, err := io.WriteString(l.w, " "); err != nil {
				return err
			}
		}
		return l.path.PrintResults(l.w, []reflect.Value{v})
	}
	text, err := json.MarshalIndent(v.Interface(), "    ", "    ")
	if err != nil {
		return err
	}
	sep := ",\n    "
	if first {
		sep = "[\n    "
	}
	_, err = io.WriteString(l.w, sep+string(text))
	return err
}

func (l *jsonPathList) end() error {
	if !l.started {
		if err := l.begin(); err != nil {
			return err
		}
	}
	if l.f.plan.itemPath != "" && l.f.asJSON {
		closing := "\n]\n"
		if l.results == 0 {
			closing = "[]\n"
		}
		if _, err := io.WriteString(l.w, closing); err != nil {
			return err
		}
	}
	return l.shell(l.f.plan.after)
}

// planJSONPath splits a template at its root nodes and returns the plan,
// or nil when the template reads the items more than once, or in a way
// that needs them all (an index, {.items}, {..name}).
func planJSONPath(text string) *jsonPathPlan {
	whole, err := jsonpath.Parse("out", text)
	if err != nil {
		return nil
	}
	segments := splitJSONPath(text)
	if len(segments) != len(whole.Root.Nodes) {
		return nil
	}
	plan := &jsonPathPlan{}
	var before, after strings.Builder
	sawItems := false
	for i := 0; i < len(segments); i++ {
		unit, ok := readJSONPathUnit(segments, whole.Root.Nodes, i)
		if !ok || (unit.readsItems() && sawItems) {
			return nil
		}
		switch {
		case unit.readsItems():
			sawItems = true
			plan.itemPath, plan.itemRange = unit.itemPath, unit.itemRange
			plan.itemBody, plan.bodyAlone = unit.itemBody, unit.bodyAlone
		case sawItems:
			after.WriteString(unit.shell)
		default:
			before.WriteString(unit.shell)
		}
		i = unit.last
	}
	plan.before, plan.after = before.String(), after.String()
	return plan
}

// jsonPathUnit is a text, an action, or a range block to its end: either
// text for the List's shell, or the part that reads the items.
type jsonPathUnit struct {
	shell               string
	itemPath, itemRange string
	itemBody            string
	bodyAlone           bool
	last                int // the unit's last segment
}

func (u jsonPathUnit) readsItems() bool { return u.itemPath != "" || u.itemRange != "" }

// readJSONPathUnit reads the unit of segments at i; not ok when it reads
// the items in a way that needs them all.
func readJSONPathUnit(segments []string, nodes []jsonpath.Node, i int) (jsonPathUnit, bool) {
	action, isAction := nodes[i].(*jsonpath.ListNode)
	if !isAction {
		return jsonPathUnit{shell: segments[i], last: i}, true
	}
	path := action.Nodes
	isRange := len(path) > 0 && isIdentifier(path[0], "range")
	if isRange {
		path = path[1:]
	} else if len(path) > 0 && isIdentifier(path[0], "end") {
		return jsonPathUnit{}, false
	}
	end := i
	if isRange {
		if end = rangeEnd(nodes, i); end < 0 {
			return jsonPathUnit{}, false
		}
	}
	switch {
	case shellPath(path):
		return jsonPathUnit{shell: strings.Join(segments[i:end+1], ""), last: end}, true
	case !itemsPath(path):
		return jsonPathUnit{}, false
	}
	rest, found := restAfterItems(segments[i])
	if !found {
		return jsonPathUnit{}, false
	}
	unit := jsonPathUnit{itemPath: "{" + rest, last: end}
	text := unit.itemPath
	if isRange {
		unit = jsonPathUnit{itemRange: "{range " + rest + strings.Join(segments[i+1:end+1], ""), last: end}
		text = unit.itemRange
		if (rest == "[*]}" || rest == "[:]}") && !hasRange(nodes[i+1:end]) {
			unit.itemBody, unit.bodyAlone = strings.Join(segments[i+1:end], ""), true
		}
	}
	// The rewritten part must parse to the same nodes, less .items.
	p, err := jsonpath.Parse("item", text)
	if err != nil || len(p.Root.Nodes) == 0 {
		return jsonPathUnit{}, false
	}
	if l, ok := p.Root.Nodes[0].(*jsonpath.ListNode); !ok || len(l.Nodes) != len(action.Nodes)-1 {
		return jsonPathUnit{}, false
	}
	return unit, true
}

func isIdentifier(n jsonpath.Node, name string) bool {
	id, ok := n.(*jsonpath.IdentifierNode)
	return ok && id.Name == name
}

// hasRange: a {range} among nodes.
func hasRange(nodes []jsonpath.Node) bool {
	for _, n := range nodes {
		if l, ok := n.(*jsonpath.ListNode); ok && len(l.Nodes) > 0 && isIdentifier(l.Nodes[0], "range") {
			return true
		}
	}
	return false
}

// rangeEnd is the index of the {end} that closes the {range} at i.
func rangeEnd(nodes []jsonpath.Node, i int) int {
	depth := 0
	for k := i; k < len(nodes); k++ {
		l, ok := nodes[k].(*jsonpath.ListNode)
		if !ok || len(l.Nodes) == 0 {
			continue
		}
		switch {
		case isIdentifier(l.Nodes[0], "range"):
			depth++
		case isIdentifier(l.Nodes[0], "end"):
			if depth--; depth == 0 {
				return k
			}
		}
	}
	return -1
}

// shellPath: a path that never reads the items: a field other than items
// first, or literals only.
func shellPath(path []jsonpath.Node) bool {
	if len(path) == 0 {
		return false
	}
	if f, ok := path[0].(*jsonpath.FieldNode); ok {
		return f.Value != "items" && f.Value != ""
	}
	for _, n := range path {
		if _, ok := n.(*jsonpath.TextNode); !ok {
			return false
		}
	}
	return true
}

// itemsPath: .items, then every item ([*] or [:]) or a filter of them.
func itemsPath(path []jsonpath.Node) bool {
	if len(path) < 2 {
		return false
	}
	if f, ok := path[0].(*jsonpath.FieldNode); !ok || f.Value != "items" {
		return false
	}
	switch n := path[1].(type) {
	case *jsonpath.FilterNode:
		return true
	case *jsonpath.ArrayNode:
		return !n.Params[0].Known && !n.Params[1].Known && !n.Params[2].Known
	}
	return false
}

// restAfterItems is an action's text after its ".items", which must be
// followed by '['.
func restAfterItems(action string) (string, bool) {
	_, rest, ok := strings.Cut(action, ".items")
	if !ok || !strings.HasPrefix(rest, "[") {
		return "", false
	}
	return rest, true
}

// splitJSONPath cuts a template into its root segments as client-go's
// parser reads them: text up to '{', an action up to the '}' that is not
// in quotes or brackets. planJSONPath checks that the parser agrees.
func splitJSONPath(text string) []string {
	var segments []string
	for len(text) > 0 {
		open := strings.IndexByte(text, '{')
		if open != 0 {
			if open < 0 {
				open = len(text)
			}
			segments = append(segments, text[:open])
			text = text[open:]
			continue
		}
		end := actionEnd(text)
		if end < 0 {
			return nil
		}
		segments = append(segments, text[:end+1])
		text = text[end+1:]
	}
	return segments
}

// actionEnd is the index of the '}' that ends the action text starts.
func actionEnd(text string) int {
	for i := 1; i < len(text); i++ {
		switch c := text[i]; c {
		case '}':
			return i
		case '"', '\'':
			for i++; i < len(text) && (text[i] != c || text[i-1] == '\\'); i++ {
			}
		case '[':
			closing := "]"
			if strings.HasPrefix(text[i:], "[?(") {
				closing = ")]"
			}
			k := strings.Index(text[i:], closing)
			if k < 0 {
				return -1
			}
			i += k + len(closing) - 1
		}
	}
	return -1
}
