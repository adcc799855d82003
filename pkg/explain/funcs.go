package explain

// The functions kubectl explain's template calls, as kubectl defines them
// (k8s.io/kubectl/pkg/explain/v2/funcs.go, Apache License 2.0), so that
// the template runs unchanged.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"text/template"

	wordwrap "github.com/mitchellh/go-wordwrap"
)

// explainError is what the template throws: a field or type it cannot find.
type explainError string

func (e explainError) Error() string { return string(e) }

func templateFuncs(tmpl *template.Template) template.FuncMap {
	return template.FuncMap{
		"throw": func(e string, args ...any) (string, error) {
			return "", explainError(fmt.Sprintf(e, args...))
		},
		"toJson": func(obj any) (string, error) {
			res, err := json.Marshal(obj)
			return string(res), err
		},
		"toPrettyJson": func(obj any) (string, error) {
			res, err := json.MarshalIndent(obj, "", "    ")
			return string(res), err
		},
		"fail": func(message string) (string, error) { return "", errors.New(message) },
		// kubectl's term.NewWordWrapWriter: go-wordwrap over the whole text.
		"wrap": func(l int, s string) (string, error) {
			if l <= 0 {
				return s, nil
			}
			return wordwrap.WrapString(s, uint(l)), nil
		},
		"split": strings.Split,
		"join":  func(sep string, strs ...string) string { return strings.Join(strs, sep) },
		"include": func(name string, data any) (string, error) {
			buf := bytes.NewBuffer(nil)
			if err := tmpl.ExecuteTemplate(buf, name, data); err != nil {
				return "", err
			}
			return buf.String(), nil
		},
		"ternary": func(a, b any, condition bool) any {
			if condition {
				return a
			}
			return b
		},
		"first": func(list any) (any, error) { return listEnd(list, "first", false) },
		"last":  func(list any) (any, error) { return listEnd(list, "last", true) },
		"indent": func(amount int, str string) string {
			pad := strings.Repeat(" ", amount)
			return pad + strings.ReplaceAll(str, "\n", "\n"+pad)
		},
		"dict":       dict,
		"contains":   contains,
		"set":        set,
		"list":       func(values ...any) ([]any, error) { return values, nil },
		"add":        func(value, operand int) int { return value + operand },
		"sub":        func(value, operand int) int { return value - operand },
		"mul":        func(value, operand int) int { return value * operand },
		"resolveRef": resolveRef,
	}
}

// dict is kubectl's template function: a map of alternating keys and
// values.
func dict(keysAndValues ...any) (map[string]any, error) {
	if len(keysAndValues)%2 != 0 {
		return nil, errors.New("expected even # of arguments")
	}
	res := map[string]any{}
	for i := 0; i+1 < len(keysAndValues); i += 2 {
		key, ok := keysAndValues[i].(string)
		if !ok {
			return nil, fmt.Errorf("key of type %T is not a string as expected", keysAndValues[i])
		}
		res[key] = keysAndValues[i+1]
	}
	return res, nil
}

// contains is kubectl's template function: whether the slice list holds
// value.
func contains(list any, value any) bool {
	if list == nil {
		return false
	}
	val := reflect.ValueOf(list)
	if val.Kind() != reflect.Slice {
		return false
	}
	for i := 0; i < val.Len(); i++ {
		if cur := val.Index(i); cur.CanInterface() && reflect.DeepEqual(cur.Interface(), value) {
			return true
		}
	}
	return false
}

// set is kubectl's template function: a copy of dict with the keys set.
func set(dict map[string]any, keysAndValues ...any) (any, error) {
	if len(keysAndValues)%2 != 0 {
		return nil, errors.New("expected even number of arguments")
	}
	copyDict := make(map[string]any, len(dict))
	for k, v := range dict {
		copyDict[k] = v
	}
	for i := 0; i < len(keysAndValues); i += 2 {
		key, ok := keysAndValues[i].(string)
		if !ok {
			return nil, errors.New("keys must be strings")
		}
		copyDict[key] = keysAndValues[i+1]
	}
	return copyDict, nil
}

func listEnd(list any, name string, last bool) (any, error) {
	if list == nil {
		return nil, errors.New("list is empty")
	}
	switch reflect.TypeOf(list).Kind() {
	case reflect.Slice, reflect.Array:
		v := reflect.ValueOf(list)
		if v.Len() == 0 {
			return nil, errors.New("list is empty")
		}
		if last {
			return v.Index(v.Len() - 1).Interface(), nil
		}
		return v.Index(0).Interface(), nil
	default:
		return nil, fmt.Errorf("%s cannot be used on type: %T", name, list)
	}
}

// resolveRef follows a reference within the document ("#/components/
// schemas/io.k8s.api.core.v1.PodSpec"); nil for anything else.
func resolveRef(refAny any, document map[string]any) map[string]any {
	refString, ok := refAny.(string)
	if !ok || !strings.HasPrefix(refString, "#") {
		return nil
	}
	ref, err := url.Parse(refString)
	if err != nil {
		return nil
	}
	cur := document
	for _, k := range strings.Split(ref.Fragment, "/") {
		if k == "" {
			continue
		}
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}
