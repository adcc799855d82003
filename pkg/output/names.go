package output

import (
	"io"
	"strings"
)

// FormatName prints kind/name per object, as kubectl -o name does.
const FormatName Format = "name"

// names prints "kind.group/name" for an object, each item of a list (as
// it arrives), or the object of a watch event.
func (p *Printer) names(body io.Reader) error {
	dec := NewDecoder(body)
	return p.eachDecoded(dec, func() error {
		// Items of a list carry no kind of their own: PodList → pod. The
		// API server sends kind before items; items that come first wait.
		// Of each item only kind, apiVersion and metadata.name are read.
		var waiting []itemName
		v, streamed, err := dec.decodeItems(func(list map[string]any) error {
			kind, apiVersion, name, isObject, err := dec.nameFields()
			switch {
			case err != nil || !isObject:
			case list["kind"] == nil && kind == "":
				waiting = append(waiting, itemName{kind, apiVersion, name})
			default:
				p.writeItemName(itemName{kind, apiVersion, name}, strings.TrimSuffix(str(list["kind"]), "List"), str(list["apiVersion"]))
			}
			return err
		})
		if err != nil {
			return err
		}
		obj, _ := v.(map[string]any)
		if streamed {
			for _, item := range waiting {
				p.writeItemName(item, strings.TrimSuffix(str(obj["kind"]), "List"), str(obj["apiVersion"]))
			}
			return nil
		}
		if event, ok := obj["object"].(map[string]any); ok && obj["type"] != nil {
			obj = event
		}
		if items, ok := obj["items"].([]any); ok {
			kind := strings.TrimSuffix(str(obj["kind"]), "List")
			for _, item := range items {
				if m, ok := item.(map[string]any); ok {
					p.writeName(m, kind, str(obj["apiVersion"]))
				}
			}
		} else if obj != nil {
			p.writeName(obj, "", "")
		}
		return nil
	})
}

func (p *Printer) writeName(obj map[string]any, kind, apiVersion string) {
	meta, _ := obj["metadata"].(map[string]any)
	p.writeItemName(itemName{str(obj["kind"]), str(obj["apiVersion"]), str(meta["name"])}, kind, apiVersion)
}

// itemName is what -o name needs of an object.
type itemName struct{ kind, apiVersion, name string }

// writeItemName writes kind.group/name; an object without a kind of its
// own has its list's.
func (p *Printer) writeItemName(obj itemName, kind, apiVersion string) {
	if obj.kind != "" {
		kind, apiVersion = obj.kind, obj.apiVersion
	}
	if obj.name == "" {
		return
	}
	qualified := strings.ToLower(kind)
	if group, _, ok := strings.Cut(apiVersion, "/"); ok {
		qualified += "." + group
	}
	p.out.WriteString(cleanName(qualified+"/"+obj.name) + "\n")
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
