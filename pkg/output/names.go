package output

import (
	"io"
	"strings"
)

// FormatName prints kind/name per object, as kubectl -o name does.
const FormatName Format = "name"

// names prints "kind.group/name" for an object, each item of a list, or the
// object of a watch event.
func (p *Printer) names(body io.Reader) error {
	return p.eachValue(body, func(v any) error {
		obj, _ := v.(map[string]any)
		if event, ok := obj["object"].(map[string]any); ok && obj["type"] != nil {
			obj = event
		}
		if items, ok := obj["items"].([]any); ok {
			// Items of a list carry no kind of their own: PodList → pod.
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
