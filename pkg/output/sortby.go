package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
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
func (s *SortBy) Sort(body io.Reader) (io.Reader, error) {
	data, err := io.ReadAll(io.LimitReader(body, limits.MaxValue()+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limits.MaxValue() {
		return nil, &limits.ValueTooLargeError{}
	}
	answer, ok := readMembers(data)
	if !ok {
		return bytes.NewReader(data), nil // not one JSON object: the printer says what it is
	}
	var kind string
	_ = json.Unmarshal(answer.get("kind"), &kind)
	switch {
	case kind == "Table" && answer.get("rows") != nil:
		err = answer.sort("rows", func(rows []json.RawMessage) error {
			if len(rows) < 2 {
				return nil // kubectl's SortingPrinter leaves a row alone, unchecked
			}
			return s.order(rows, rowObject, nil)
		})
	case answer.get("items") != nil:
		// As kubectl's decoder does: items of a typed list (PodList)
		// carry no kind; they get their list's.
		var apiVersion string
		_ = json.Unmarshal(answer.get("apiVersion"), &apiVersion)
		var typed map[string]any
		if kind != "" {
			typed = map[string]any{"kind": strings.TrimSuffix(kind, "List"), "apiVersion": apiVersion}
		}
		err = answer.sort("items", func(items []json.RawMessage) error {
			if len(items) == 0 {
				return nil
			}
			return s.order(items, func(item json.RawMessage) json.RawMessage { return item }, typed)
		})
	}
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(answer.encode()), nil
}

// rowObject is the object a Table's row carries.
func rowObject(row json.RawMessage) json.RawMessage {
	var r struct {
		Object json.RawMessage `json:"object"`
	}
	_ = json.Unmarshal(row, &r)
	return r.Object
}

// order puts elements in order, in place, by the field of the object each
// holds, with kubectl's comparison (sort.Sort and its Less, so that equal
// values end where kubectl's do). An object with neither kind nor
// apiVersion gets typed's.
func (s *SortBy) order(elements []json.RawMessage, object func(json.RawMessage) json.RawMessage, typed map[string]any) error {
	byField := &fieldOrder{elements: elements, values: make([][][]reflect.Value, len(elements))}
	found := false
	for i, element := range elements {
		var obj map[string]any
		dec := json.NewDecoder(bytes.NewReader(object(element)))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil && !errors.Is(err, io.EOF) {
			return exitcode.With(exitcode.Failed, fmt.Errorf("--sort-by: an item is not an object: %w", err))
		}
		if obj != nil && typed != nil && obj["kind"] == nil && obj["apiVersion"] == nil {
			obj["kind"], obj["apiVersion"] = typed["kind"], typed["apiVersion"]
		}
		values, err := s.path.FindResults(kubectlValue(obj))
		if err != nil {
			return exitcode.With(exitcode.Failed, fmt.Errorf("--sort-by %s: %w", s.Field, err))
		}
		byField.values[i] = values
		found = found || len(values) > 0 && len(values[0]) > 0
	}
	if !found {
		return exitcode.With(exitcode.Failed, fmt.Errorf("couldn't find any field with path %q in the list of objects", s.Field))
	}
	sort.Sort(byField)
	if byField.err != nil {
		return exitcode.With(exitcode.Failed, fmt.Errorf("--sort-by %s: %w", s.Field, byField.err))
	}
	return nil
}

// fieldOrder is kubectl's TableSorter and RuntimeSort: elements and the
// values the field has in each, swapped together.
type fieldOrder struct {
	elements []json.RawMessage
	values   [][][]reflect.Value
	err      error // the first pair kubectl could not compare
}

func (f *fieldOrder) Len() int { return len(f.elements) }

func (f *fieldOrder) Swap(i, j int) {
	f.elements[i], f.elements[j] = f.elements[j], f.elements[i]
	f.values[i], f.values[j] = f.values[j], f.values[i]
}

// Less is kubectl's: an element without the field sorts first, then its
// first value decides.
func (f *fieldOrder) Less(i, j int) bool {
	iValues, jValues := f.values[i], f.values[j]
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

// members is a JSON object's members in their order, each value's bytes
// as they came.
type members struct {
	keys   []string
	values []json.RawMessage
}

// readMembers splits data, one JSON object, into its members; ok is false
// for anything else.
func readMembers(data []byte) (m members, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return members{}, false
	}
	for dec.More() {
		t, err := dec.Token()
		key, isKey := t.(string)
		if err != nil || !isKey {
			return members{}, false
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return members{}, false
		}
		m.keys, m.values = append(m.keys, key), append(m.values, value)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return members{}, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return members{}, false // more than one value: not one answer
	}
	return m, true
}

func (m members) get(key string) json.RawMessage {
	for i, k := range m.keys {
		if k == key {
			return m.values[i]
		}
	}
	return nil
}

// sort hands the array under key to order, which puts it in order in
// place; a value under key that is not an array is left as it is.
func (m members) sort(key string, order func([]json.RawMessage) error) error {
	for i, k := range m.keys {
		if k != key {
			continue
		}
		var elements []json.RawMessage
		if err := json.Unmarshal(m.values[i], &elements); err != nil {
			return nil
		}
		if err := order(elements); err != nil {
			return err
		}
		var b bytes.Buffer
		b.WriteByte('[')
		for n, e := range elements {
			if n > 0 {
				b.WriteByte(',')
			}
			b.Write(e)
		}
		b.WriteByte(']')
		m.values[i] = b.Bytes()
	}
	return nil
}

// encode writes the object back, its members in their order.
func (m members) encode() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, key := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // the key as the server wrote it, < and & too
		_ = enc.Encode(key)
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte(':')
		b.Write(m.values[i])
	}
	b.WriteByte('}')
	return b.Bytes()
}
