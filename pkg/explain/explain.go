// Package explain describes a resource type and its fields from the
// server's OpenAPI v3 documents, as kubectl explain does: the same
// template, so the same text, for built-in types and custom resources alike.
// Everything it reads (/openapi/v3 and below) is open to every
// authenticated user through the system:discovery role.
package explain

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/template"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

//go:embed templates/plaintext.tmpl
var templates embed.FS

// GVR is the resource explained, as the template expects it.
type GVR struct {
	Group, Version, Resource string
}

// String is apimachinery's GroupVersionResource.String, which the template
// prints in an error.
func (g GVR) String() string { return g.Group + "/" + g.Version + ", Resource=" + g.Resource }

// Document is the OpenAPI v3 document of one group version: /openapi/v3
// lists where each is (a URL with the document's hash), then that URL.
func Document(ctx context.Context, api *apiclient.Client, group, version string) (map[string]any, error) {
	key := "apis/" + group + "/" + version
	if group == "" {
		key = "api/" + version
	}
	var index struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := get(ctx, api, "/openapi/v3", &index); err != nil {
		var status *transport.StatusError
		if errors.As(err, &status) && status.Code == http.StatusNotFound {
			return nil, &transport.StatusError{Code: status.Code, Reason: status.Reason,
				Message: "the server serves no OpenAPI v3 (/openapi/v3): Kubernetes 1.27 or later has it"}
		}
		return nil, err
	}
	where, ok := index.Paths[key]
	if !ok || where.ServerRelativeURL == "" {
		return nil, exitcode.With(exitcode.Failed, fmt.Errorf("the server's OpenAPI v3 has no document for %s (/openapi/v3 lists no %s)", strings.TrimPrefix(key, "apis/"), key))
	}
	var doc map[string]any
	if err := get(ctx, api, where.ServerRelativeURL, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// get reads one document: ref is a server-relative URL, its query (the
// document's hash) included.
func get(ctx context.Context, api *apiclient.Client, ref string, out any) error {
	resp, err := api.Send(ctx, request.Spec{Path: ref, Accept: "application/json"})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := apiclient.DecodeJSON(resp.Body, out); err != nil {
		path, _, _ := strings.Cut(ref, "?")
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Render prints kubectl explain's text for the resource, or for the field
// at fieldPath in it; recursive lists the fields of fields, to maxDepth
// levels (0: all). A type or field the document does not have is exit 2
// (exitcode.Targetf).
func Render(w io.Writer, doc map[string]any, gvr GVR, fieldPath []string, recursive bool, maxDepth int) error {
	text, err := templates.ReadFile("templates/plaintext.tmpl")
	if err != nil {
		return err
	}
	tmpl := template.New("plaintext")
	tmpl, err = tmpl.Funcs(templateFuncs(tmpl)).Parse(string(text))
	if err != nil {
		return err
	}
	if fieldPath == nil {
		fieldPath = []string{}
	}
	var b strings.Builder // nothing is printed when a field is not found
	err = tmpl.Execute(&b, struct {
		GVR       GVR
		Document  map[string]any
		Recursive bool
		MaxDepth  int
		FieldPath []string
	}{gvr, doc, recursive, maxDepth, fieldPath})
	var thrown explainError
	if errors.As(err, &thrown) {
		// What the schema lacks (a field, the type): exit 2, and as kubectl
		// explain, no pointer at the help.
		return exitcode.Targetf("%s", strings.TrimPrefix(string(thrown), "error: "))
	}
	if err != nil {
		return err
	}
	// Descriptions are the server's text: escaped as a Status message is.
	_, err = io.WriteString(w, transport.Printable(b.String()))
	return err
}

// Schema is the schema Render describes, for -o json: the type's, or the
// field's, with the references at its top (itself, allOf, items,
// additionalProperties) replaced by what they refer to.
func Schema(doc map[string]any, gvr GVR, fieldPath []string) (map[string]any, error) {
	gvk := findGVK(doc, gvr)
	if gvk == nil {
		return nil, exitcode.Targetf("GVR (%v) not found in OpenAPI schema", gvr)
	}
	var schema map[string]any
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	for _, s := range schemas {
		s, _ := s.(map[string]any)
		if gvks, _ := s["x-kubernetes-group-version-kind"].([]any); containsGVK(gvks, gvk) {
			schema = s
			break
		}
	}
	if schema == nil {
		return nil, exitcode.Targetf("GVK %v not found in OpenAPI schema", gvk)
	}
	for _, field := range fieldPath {
		next := property(doc, schema, field, map[string]bool{})
		if next == nil {
			return nil, exitcode.Targetf("field %q does not exist", field)
		}
		schema = next
	}
	return shallowResolved(doc, schema, 0), nil
}

// property finds a field as the template's "output" walks to it: in the
// schema's properties, else its items, additionalProperties or allOf.
func property(doc, schema map[string]any, field string, seen map[string]bool) map[string]any {
	if ref, _ := schema["$ref"].(string); ref != "" {
		if seen[ref] {
			return nil
		}
		seen[ref] = true
		if resolved := resolveRef(ref, doc); resolved != nil {
			schema = resolved
		}
	}
	if props, _ := schema["properties"].(map[string]any); props != nil {
		if p, ok := props[field].(map[string]any); ok {
			return p
		}
	}
	if items, ok := schema["items"].(map[string]any); ok {
		return property(doc, items, field, seen)
	}
	if extra, ok := schema["additionalProperties"].(map[string]any); ok {
		return property(doc, extra, field, seen)
	}
	all, _ := schema["allOf"].([]any)
	for _, sub := range all {
		if sub, ok := sub.(map[string]any); ok {
			if p := property(doc, sub, field, seen); p != nil {
				return p
			}
		}
	}
	return nil
}

// shallowResolved replaces the references that make up the schema itself
// (its $ref, a single allOf, those of items and additionalProperties) with
// what they refer to, merged in as kubectl's typeGuess reads them; the
// fields of what they refer to keep their references.
func shallowResolved(doc, schema map[string]any, depth int) map[string]any {
	out := map[string]any{}
	for k, v := range schema {
		out[k] = v
	}
	mergeIn := func(ref any) {
		if resolved := resolveRef(ref, doc); resolved != nil {
			for k, v := range resolved {
				if _, own := out[k]; !own {
					out[k] = v
				}
			}
		}
	}
	if ref, ok := out["$ref"]; ok && resolveRef(ref, doc) != nil {
		delete(out, "$ref")
		mergeIn(ref)
	}
	if all, ok := out["allOf"].([]any); ok && len(all) == 1 {
		if only, ok := all[0].(map[string]any); ok && len(only) == 1 && only["$ref"] != nil && resolveRef(only["$ref"], doc) != nil {
			delete(out, "allOf")
			mergeIn(only["$ref"])
		}
	}
	if depth < 3 {
		for _, k := range []string{"items", "additionalProperties"} {
			if v, ok := out[k].(map[string]any); ok {
				out[k] = shallowResolved(doc, v, depth+1)
			}
		}
	}
	return out
}

// findGVK reads the kind from the resource's paths, as the template does.
func findGVK(doc map[string]any, gvr GVR) map[string]any {
	prefix := "/apis/" + gvr.Group
	if gvr.Group == "" {
		prefix = "/api"
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, p := range []string{
		prefix + "/" + gvr.Version + "/" + gvr.Resource,
		prefix + "/" + gvr.Version + "/" + gvr.Resource + "/{name}",
		prefix + "/" + gvr.Version + "/namespaces/{namespace}/" + gvr.Resource,
		prefix + "/" + gvr.Version + "/namespaces/{namespace}/" + gvr.Resource + "/{name}",
	} {
		item, _ := paths[p].(map[string]any)
		for _, method := range []string{"get", "post", "put", "patch", "delete"} {
			op, _ := item[method].(map[string]any)
			if gvk, ok := op["x-kubernetes-group-version-kind"].(map[string]any); ok {
				return gvk
			}
		}
	}
	return nil
}

func containsGVK(list []any, gvk map[string]any) bool {
	for _, v := range list {
		m, _ := v.(map[string]any)
		if m != nil && m["group"] == gvk["group"] && m["version"] == gvk["version"] && m["kind"] == gvk["kind"] {
			return true
		}
	}
	return false
}
