package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ListMerger joins the pages of a list (--all) and the lists of several
// resources (a category) into one list, so jq sees a single .items. Items
// are kept as the server sent them (key order, number literals); only the
// list's own metadata is rewritten.
type ListMerger struct {
	// Mixed merges lists of different kinds (a category such as "all"):
	// each item gets its kind and apiVersion, and the result is a v1 List,
	// as kubectl get -o json prints it.
	Mixed bool

	keys     []string                   // the first page's top-level keys, in order
	fields   map[string]json.RawMessage // the first page's top-level values
	itemsKey string                     // "items", or "rows" for a Table
	items    [][]byte                   // each page's items, without brackets
	pages    int
}

// Page is what one page says about the rest of the list.
type Page struct {
	Continue        string
	ResourceVersion string
}

// Add takes one page (or one resource's list) and returns its metadata.
func (m *ListMerger) Add(body []byte) (Page, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Page{}, errors.New("the answer is not a list")
	}
	fields := map[string]json.RawMessage{}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Page{}, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Page{}, err
		}
		if _, dup := fields[key]; !dup {
			keys = append(keys, key)
		}
		fields[key] = raw
	}
	itemsKey := "items"
	if _, ok := fields["items"]; !ok {
		if _, ok := fields["rows"]; !ok {
			return Page{}, errors.New("the answer is not a list: it has no items")
		}
		itemsKey = "rows"
	}
	var meta struct {
		Continue        string `json:"continue"`
		ResourceVersion string `json:"resourceVersion"`
	}
	_ = json.Unmarshal(fields["metadata"], &meta)

	if m.pages == 0 {
		m.keys, m.fields, m.itemsKey = keys, fields, itemsKey
	} else if itemsKey != m.itemsKey {
		return Page{}, fmt.Errorf("cannot merge a list of %s with one of %s", m.itemsKey, itemsKey)
	}
	m.pages++
	if m.Mixed {
		return Page{Continue: meta.Continue, ResourceVersion: meta.ResourceVersion}, m.addTyped(fields)
	}
	if items := bytes.TrimSpace(fields[itemsKey]); len(items) > 2 && items[0] == '[' {
		if inner := bytes.TrimSpace(items[1 : len(items)-1]); len(inner) > 0 {
			m.items = append(m.items, inner)
		}
	}
	return Page{Continue: meta.Continue, ResourceVersion: meta.ResourceVersion}, nil
}

// addTyped adds each item with the kind and apiVersion its list implies:
// items of a typed list carry none of their own.
func (m *ListMerger) addTyped(fields map[string]json.RawMessage) error {
	var list struct {
		Kind       string            `json:"kind"`
		APIVersion string            `json:"apiVersion"`
		Items      []json.RawMessage `json:"items"`
	}
	list.Kind, list.APIVersion = unquote(fields["kind"]), unquote(fields["apiVersion"])
	if err := json.Unmarshal(fields["items"], &list.Items); err != nil {
		return err
	}
	typeMeta, _ := json.Marshal(struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}{list.APIVersion, strings.TrimSuffix(list.Kind, "List")})
	for _, item := range list.Items {
		item = bytes.TrimSpace(item)
		var probe struct {
			Kind string `json:"kind"`
		}
		// Objects only ({} included); null or a string stays as it is.
		if len(item) >= 2 && item[0] == '{' && json.Unmarshal(item, &probe) == nil && probe.Kind == "" {
			// {"apiVersion":…,"kind":…, then the item's own fields.
			if inner := bytes.TrimSpace(item[1 : len(item)-1]); len(inner) == 0 {
				item = typeMeta
			} else {
				item = slices.Concat(typeMeta[:len(typeMeta)-1], []byte{','}, item[1:])
			}
		}
		m.items = append(m.items, item)
	}
	return nil
}

func unquote(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// Bytes is the merged list: the first page's fields in their order, its
// resourceVersion as the only metadata (a merged list has no continue), and
// every item.
func (m *ListMerger) Bytes() []byte {
	b, _ := io.ReadAll(m.Reader())
	return b
}

// Reader reads the merged list without building it: the pages' items are
// read where they are, so a long --all list is not held twice.
func (m *ListMerger) Reader() io.Reader {
	var parts []io.Reader
	text := func(s string) { parts = append(parts, strings.NewReader(s)) }
	items := func() {
		text("[")
		for i, item := range m.items {
			if i > 0 {
				text(",")
			}
			parts = append(parts, bytes.NewReader(item))
		}
		text("]")
	}
	if m.Mixed {
		text(`{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":`)
		items()
		text("}")
		return io.MultiReader(parts...)
	}
	text("{")
	for i, k := range m.keys {
		if i > 0 {
			text(",")
		}
		key, _ := json.Marshal(k)
		text(string(key) + ":")
		switch k {
		case "metadata":
			var meta struct {
				ResourceVersion string `json:"resourceVersion,omitempty"`
			}
			_ = json.Unmarshal(m.fields[k], &meta)
			rv, _ := json.Marshal(meta)
			text(string(rv))
		case m.itemsKey:
			items()
		default:
			parts = append(parts, bytes.NewReader(m.fields[k]))
		}
	}
	text("}")
	return io.MultiReader(parts...)
}
