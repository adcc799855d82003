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
		var waiting []map[string]any
		v, streamed, err := dec.decodeItems(func(list map[string]any, item any) error {
			m, ok := item.(map[string]any)
			switch {
			case !ok:
			case list["kind"] == nil && m["kind"] == nil:
				waiting = append(waiting, m)
			default:
				p.writeName(m, strings.TrimSuffix(str(list["kind"]), "List"), str(list["apiVersion"]))
			}
			return nil
		})
		if err != nil {
			return err
		}
		obj, _ := v.(map[string]any)
		if streamed {
			for _, m := range waiting {
				p.writeName(m, strings.TrimSuffix(str(obj["kind"]), "List"), str(obj["apiVersion"]))
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
	if k := str(obj["kind"]); k != "" {
		kind, apiVersion = k, str(obj["apiVersion"])
	}
	meta, _ := obj["metadata"].(map[string]any)
	name := str(meta["name"])
	if name == "" {
		return
	}
	qualified := strings.ToLower(kind)
	if group, _, ok := strings.Cut(apiVersion, "/"); ok {
		qualified += "." + group
	}
	p.out.WriteString(qualified + "/" + name + "\n")
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
