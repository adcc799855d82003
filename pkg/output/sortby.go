package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"slices"
	"sort"
	"strings"

	"k8s.io/client-go/util/jsonpath"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/limits"
	"github.com/kcurl/kcurl/pkg/output/internal/customcolumns"
	"github.com/kcurl/kcurl/pkg/output/internal/sorting"
)

// SortBy is kubectl get's --sort-by: the items of a list, or the rows of a
// Table by the objects they carry (asked for with includeObject=Object), put
// in the order kubectl prints them (k8s.io/kubectl/pkg/cmd/get/sorter.go).
// Sorting needs the whole answer, so Sort holds it, within
// limits.MaxValue; an answer that is neither a list nor a Table passes
// through as it came.
type SortBy struct {
	Field string // the JSONPath as kubectl reads it: {.metadata.name}
	path  *jsonpath.JSONPath
}

// ParseSortBy reads --sort-by's JSONPath, relaxed as kubectl relaxes it
// (.metadata.name, metadata.name and {.metadata.name} are the same).
func ParseSortBy(expr string) (*SortBy, error) {
	field, err := customcolumns.RelaxedJSONPathExpression(expr)
	if err != nil {
		field = expr // as kubectl: tried as typed
	}
	path := jsonpath.New("sorting").AllowMissingKeys(true)
	if err := path.Parse(field); err != nil {
		return nil, exitcode.Usagef("--sort-by %q: %v", expr, err)
	}
	return &SortBy{Field: field, path: path}, nil
}

// Sort reads the answer body and returns it with its items or rows in
// order: the server's JSON, each item's bytes as they came, in a new order.
// It holds the answer once (its bytes, which the answer returned is made
// of, and each item's sort key), never the decoded list.
func (s *SortBy) Sort(body io.Reader) (io.Reader, error) {
	data, err := io.ReadAll(io.LimitReader(body, limits.MaxValue()+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limits.MaxValue() {
		return nil, &limits.ValueTooLargeError{}
	}
	answer, err := s.read(data)
	if errors.Is(err, errNotOneObject) {
		return bytes.NewReader(data), nil // the printer says what it is
	}
	if err != nil {
		return nil, err
	}
	for _, m := range answer {
		if len(m.elements) == 0 || m.rows && len(m.elements) == 1 {
			continue // kubectl's SortingPrinter leaves a row alone, unchecked
		}
		if err := s.order(m.elements); err != nil {
			return nil, err
		}
	}
	return answer.encode(), nil
}

// errNotOneObject: the answer is not one JSON object (a number, a stream
// of values, not JSON): nothing to sort.
var errNotOneObject = errors.New("not one JSON object")

// read splits data, one JSON object, into its members: a list's items, or a
// Table's rows, each with the value the field has in its object, and every
// other member as its bytes.
func (s *SortBy) read(data []byte) (parts, error) {
	d := NewDecoder(bytes.NewReader(data))
	if c, err := d.peekValue(); err != nil || c != '{' {
		return nil, errNotOneObject
	}
	if err := d.enter(); err != nil {
		return nil, errNotOneObject
	}
	var answer parts
	var kind, apiVersion string
	for first := true; ; first = false {
		key, ok, err := d.member(first, true)
		if err != nil {
			return nil, errNotOneObject
		}
		if !ok {
			break
		}
		m := part{key: key}
		c, err := d.peekValue()
		if err != nil {
			return nil, errNotOneObject
		}
		start := d.position()
		switch {
		case c == '[' && key == "rows" && kind == "Table":
			m.rows = true
			err = s.readElements(d, data, &m, nil)
		case c == '[' && key == "items":
			// As kubectl's decoder does: items of a typed list (PodList)
			// carry no kind; they get their list's.
			typed := map[string]any{"kind": strings.TrimSuffix(kind, "List"), "apiVersion": apiVersion}
			err = s.readElements(d, data, &m, typed)
		default:
			var v any
			if v, err = d.value(); err == nil {
				m.raw = data[start:d.position()]
				switch key {
				case "kind":
					kind, _ = v.(string)
				case "apiVersion":
					apiVersion, _ = v.(string)
				}
			}
		}
		if err != nil {
			var syntax *SyntaxError
			if errors.As(err, &syntax) {
				return nil, errNotOneObject
			}
			return nil, err // an item that is not an object, a field kubectl cannot read
		}
		answer = append(answer, m)
	}
	if more, err := d.another(); more || err != nil {
		return nil, errNotOneObject
	}
	return answer, nil
}

// readElements reads the array at d into m: each element's bytes, and the
// values the field has in its object (a row's object; the item itself,
// with typed's kind and apiVersion when it has neither).
func (s *SortBy) readElements(d *Decoder, data []byte, m *part, typed map[string]any) error {
	if err := d.enter(); err != nil {
		return err
	}
	m.elements = []element{}
	for first := true; ; first = false {
		ok, err := d.element(first)
		if err != nil || !ok {
			return err
		}
		if _, err := d.peekValue(); err != nil {
			return err
		}
		start := d.position()
		v, err := d.value()
		if err != nil {
			return err
		}
		obj, isObject := v.(map[string]any)
		if m.rows {
			obj, isObject = obj["object"].(map[string]any)
			isObject = isObject || obj == nil // a row without its object has no field
		}
		if !isObject {
			return exitcode.With(exitcode.Failed, fmt.Errorf("--sort-by: an item of the list is not an object"))
		}
		if obj != nil && typed != nil && obj["kind"] == nil && obj["apiVersion"] == nil && typed["kind"] != "" {
			obj["kind"], obj["apiVersion"] = typed["kind"], typed["apiVersion"]
		}
		values, err := s.path.FindResults(kubectlValue(obj))
		if err != nil {
			return exitcode.With(exitcode.Failed, fmt.Errorf("--sort-by %s: %w", s.Field, err))
		}
		m.elements = append(m.elements, element{raw: data[start:d.position()], values: values})
	}
}

// order puts elements in order, in place, by the values of the field,
// with kubectl's comparison (sort.Sort and its Less, so that equal values
// end where kubectl's do).
func (s *SortBy) order(elements []element) error {
	found := slices.ContainsFunc(elements, func(e element) bool { return len(e.values) > 0 && len(e.values[0]) > 0 })
	if !found {
		return exitcode.With(exitcode.Failed, fmt.Errorf("couldn't find any field with path %q in the list of objects", s.Field))
	}
	byField := &fieldOrder{elements: elements}
	sort.Sort(byField)
	if byField.err != nil {
		return exitcode.With(exitcode.Failed, fmt.Errorf("--sort-by %s: %w", s.Field, byField.err))
	}
	return nil
}

// element is one item of a list (or row of a Table): its bytes as they
// came, and the values the field has in its object.
type element struct {
	raw    []byte
	values [][]reflect.Value
}

// parts are a JSON object's members in their order.
type parts []part

// part is one: its value's bytes, or the elements of the array sorted.
type part struct {
	key      string
	raw      []byte
	elements []element // nil: not the array sorted
	rows     bool      // a Table's rows
}

// encode is the object again, its members in their order, the elements
// in theirs: slices of the answer's bytes, not a copy of them.
func (m parts) encode() io.Reader {
	bufs := net.Buffers{[]byte("{")}
	for i, member := range m {
		if i > 0 {
			bufs = append(bufs, []byte(","))
		}
		var key bytes.Buffer
		enc := json.NewEncoder(&key)
		enc.SetEscapeHTML(false) // the key as the server wrote it, < and & too
		_ = enc.Encode(member.key)
		bufs = append(bufs, bytes.TrimSuffix(key.Bytes(), []byte("\n")), []byte(":"))
		if member.elements == nil {
			bufs = append(bufs, member.raw)
			continue
		}
		bufs = append(bufs, []byte("["))
		for j, e := range member.elements {
			if j > 0 {
				bufs = append(bufs, []byte(","))
			}
			bufs = append(bufs, e.raw)
		}
		bufs = append(bufs, []byte("]"))
	}
	bufs = append(bufs, []byte("}"))
	return &bufs
}

// fieldOrder is kubectl's TableSorter and RuntimeSort: the elements,
// each with the values the field has in it.
type fieldOrder struct {
	elements []element
	err      error // the first pair kubectl could not compare
}

func (f *fieldOrder) Len() int      { return len(f.elements) }
func (f *fieldOrder) Swap(i, j int) { f.elements[i], f.elements[j] = f.elements[j], f.elements[i] }

// Less is kubectl's: an element without the field sorts first, then its
// first value decides.
func (f *fieldOrder) Less(i, j int) bool {
	iValues, jValues := f.elements[i].values, f.elements[j].values
	if len(iValues) == 0 || len(iValues[0]) == 0 {
		return true
	}
	if len(jValues) == 0 || len(jValues[0]) == 0 {
		return false
	}
	less, err := sorting.IsLess(iValues[0][0], jValues[0][0])
	if err != nil && f.err == nil {
		f.err = err // kubectl exits here; kcurl says so once sorted
	}
	return less
}
