package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ListMerger joins the pages of a list (--all) and the lists of several
// resources (a category) into one list, so jq sees a single .items. It
// writes the merged list as the pages are read, one item at a time, and
// holds none of them. Items are kept as the server sent them (key order,
// number literals); only the list's own metadata is rewritten, and
// written last, after the items: where a streaming list
// (apiclient.StreamList) learns its resourceVersion, so that --all prints
// the same bytes whichever way it read the list (and where kubectl get -o
// json prints a list's metadata).
type ListMerger struct {
	w io.Writer
	// mixed merges lists of different kinds (a category such as "all"):
	// each item gets its kind and apiVersion, and the result is a v1 List,
	// as kubectl get -o json prints it.
	mixed bool

	dec      *Decoder
	pages    int
	itemsKey string   // "items", or "rows" for a Table
	items    int      // items written so far
	after    [][]byte // the first page's fields after its items, written last
	meta     []byte   // the merged list's metadata, written after those
	err      error    // a failed write: the merged list is broken
}

// NewListMerger writes the merged list to w; mixed is a category's merge.
func NewListMerger(w io.Writer, mixed bool) *ListMerger {
	return &ListMerger{w: w, mixed: mixed, dec: NewDecoder(nil)}
}

// Page is what one page says about the rest of the list.
type Page struct {
	Continue        string
	ResourceVersion string
}

// PageOf reads what a page says about the rest of its list.
func PageOf(body []byte) (Page, error) {
	return NewListMerger(io.Discard, false).Add(bytes.NewReader(body))
}

// Add reads one page (or one resource's list) to its end, writes its items
// on, and returns its metadata.
func (m *ListMerger) Add(body io.Reader) (Page, error) {
	d := m.dec
	d.reset(body)
	if c, err := d.peekValue(); err != nil || c != '{' {
		if err != nil && !isSyntaxError(err) {
			return Page{}, err // the connection, not the answer
		}
		return Page{}, errors.New("the answer is not a list")
	}
	if err := d.enter(); err != nil {
		return Page{}, err
	}
	first := m.pages == 0
	m.pages++
	if first {
		if m.mixed {
			// kubectl get's order (its keys sorted): kind and metadata
			// after the items, as every merged list has its metadata.
			m.write(`{"apiVersion":"v1","items":[`)
			m.after = [][]byte{[]byte(`"kind":"List"`), []byte(`"metadata":{"resourceVersion":""}`)}
		} else {
			m.write("{")
		}
	}
	var page Page
	var kind, apiVersion string // the list's, for a category's items
	var waiting [][]byte        // items that came before the list's kind
	foundItems, otherItems := false, ""
	fields := 0 // of the first page, written
	for firstMember := true; ; firstMember = false {
		key, ok, err := d.member(firstMember, true)
		if err != nil {
			return Page{}, err
		}
		if !ok {
			break
		}
		isItems := key == "items" || key == "rows"
		if isItems && m.itemsKey == "" {
			m.itemsKey = key
		}
		switch {
		case isItems && key == m.itemsKey && !foundItems:
			foundItems = true
			if first && !m.mixed {
				m.field(&fields, key)
				m.write("[")
			}
			c, err := d.peekValue()
			if err != nil {
				return Page{}, err
			}
			if c != '[' {
				if err := d.skip(); err != nil { // null: no items
					return Page{}, err
				}
				continue
			}
			if err := d.enter(); err != nil {
				return Page{}, err
			}
			for firstItem := true; ; firstItem = false {
				ok, err := d.element(firstItem)
				if err != nil {
					return Page{}, err
				}
				if !ok {
					break
				}
				item, err := d.rawValue()
				if err != nil {
					return Page{}, err
				}
				switch {
				case !m.mixed:
					m.item(item)
				case kind == "" && (len(waiting) > 0 || !hasKind(item)):
					// Held until the list says its kind (a custom
					// resource's list, keys in order, says it after its
					// items); its own items carry theirs, and are not.
					waiting = append(waiting, bytes.Clone(item))
				default:
					m.item(typed(item, kind, apiVersion))
				}
			}
		case isItems && key != m.itemsKey:
			otherItems = key
			if err := d.skip(); err != nil {
				return Page{}, err
			}
		case key == "metadata":
			raw, err := d.rawValue()
			if err != nil {
				return Page{}, err
			}
			var meta struct {
				Continue        string `json:"continue"`
				ResourceVersion string `json:"resourceVersion"`
			}
			_ = json.Unmarshal(raw, &meta)
			page = Page{Continue: meta.Continue, ResourceVersion: meta.ResourceVersion}
			if first && !m.mixed {
				// A merged list has no continue: only its version.
				rv, _ := json.Marshal(struct {
					ResourceVersion string `json:"resourceVersion,omitempty"`
				}{meta.ResourceVersion})
				m.meta = slicesConcat([]byte(`"metadata":`), rv)
			}
		default:
			raw, err := d.rawValue()
			if err != nil {
				return Page{}, err
			}
			switch key {
			case "kind":
				kind = strings.TrimSuffix(unquote(raw), "List")
			case "apiVersion":
				apiVersion = unquote(raw)
			}
			if first && !m.mixed {
				m.firstPageField(&fields, foundItems, key, raw)
			}
		}
	}
	if !foundItems && otherItems != "" {
		return Page{}, fmt.Errorf("cannot merge a list of %s with one of %s", m.itemsKey, otherItems)
	}
	if !foundItems {
		return Page{}, errors.New("the answer is not a list: it has no items")
	}
	for _, item := range waiting {
		m.item(typed(item, kind, apiVersion))
	}
	return page, m.err
}

// Close writes the end of the merged list.
func (m *ListMerger) Close() error {
	switch {
	case m.pages == 0 && m.mixed:
		m.write(`{"apiVersion":"v1","items":[],"kind":"List","metadata":{"resourceVersion":""}}`)
	case m.pages == 0:
		m.write("{}")
	default:
		m.write("]")
		for _, f := range append(m.after, m.meta) {
			if f != nil {
				m.write(",")
				m.writeBytes(f)
			}
		}
		m.write("}")
	}
	return m.err
}

// firstPageField writes a field of the first page, or keeps it for the end
// when it comes after the items, which stay open for the pages to come.
func (m *ListMerger) firstPageField(fields *int, afterItems bool, key string, value []byte) {
	if afterItems {
		k, _ := json.Marshal(key)
		m.after = append(m.after, slicesConcat(k, []byte{':'}, value))
		return
	}
	m.field(fields, key)
	m.writeBytes(value)
}

func (m *ListMerger) field(fields *int, key string) {
	if *fields > 0 {
		m.write(",")
	}
	*fields++
	k, _ := json.Marshal(key)
	m.writeBytes(k)
	m.write(":")
}

func (m *ListMerger) item(item []byte) {
	if m.items > 0 {
		m.write(",")
	}
	m.items++
	m.writeBytes(item)
}

func (m *ListMerger) write(s string) { m.writeBytes([]byte(s)) }

func (m *ListMerger) writeBytes(b []byte) {
	if m.err == nil {
		_, m.err = m.w.Write(b)
	}
}

// typed gives an object without a kind of its own the kind and apiVersion
// its list implies, written first: items of a typed list carry none.
func typed(item []byte, kind, apiVersion string) []byte {
	// Objects only ({} included); null or a string stays as it is.
	if len(item) < 2 || item[0] != '{' || hasKind(item) {
		return item
	}
	typeMeta, _ := json.Marshal(struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}{apiVersion, kind})
	if inner := bytes.TrimSpace(item[1 : len(item)-1]); len(inner) == 0 {
		return typeMeta
	}
	return slicesConcat(typeMeta[:len(typeMeta)-1], []byte{','}, item[1:])
}

// hasKind says whether item carries a kind of its own, or is no object
// to give one to.
func hasKind(item []byte) bool {
	var probe struct {
		Kind string `json:"kind"`
	}
	return json.Unmarshal(item, &probe) != nil || probe.Kind != ""
}

func slicesConcat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

func unquote(raw []byte) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

func isSyntaxError(err error) bool {
	var se *SyntaxError
	return errors.As(err, &se)
}
