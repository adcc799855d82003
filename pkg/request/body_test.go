package request

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestLoadBody(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	jsonFile := write("cm.json", "{\n  \"kind\": \"ConfigMap\",\n  \"data\": {\"n\": 1.50}\n}\n")
	yamlFile := write("cm.yaml", "kind: ConfigMap\ndata:\n  k: \"1\"\n")
	multiFile := write("two.yaml", "kind: A\n---\nkind: B\n")

	tests := []struct {
		name    string
		arg     string
		stdin   string
		want    string
		wantErr string
	}{
		{name: "JSON kept byte for byte", arg: `{"b": 1.0, "a":[1e3, "x"],  "c":{}}`, want: `{"b": 1.0, "a":[1e3, "x"],  "c":{}}`},
		{name: "JSON with big numbers untouched", arg: `{"n":12345678901234567890}`, want: `{"n":12345678901234567890}`},
		{name: "outer whitespace trimmed", arg: "\n  {\"a\":1}\n\n", want: `{"a":1}`},
		{name: "JSON patch list", arg: `[{"op":"remove","path":"/metadata/labels/a"}]`, want: `[{"op":"remove","path":"/metadata/labels/a"}]`},
		{name: "YAML converted", arg: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  replicas: \"3\"\n", want: `{"apiVersion":"v1","data":{"replicas":"3"},"kind":"ConfigMap","metadata":{"name":"cfg"}}`},
		{name: "YAML flow mapping", arg: "{a: 1, b: [x, z]}", want: `{"a":1,"b":["x","z"]}`},
		{name: "YAML list (a JSON patch)", arg: "- op: replace\n  path: /spec/replicas\n  value: 3\n", want: `[{"op":"replace","path":"/spec/replicas","value":3}]`},
		// YAML 1.1, as kubectl reads it (sigs.k8s.io/yaml): yes/no/on/off are
		// booleans, also as keys. Quote them to mean strings.
		{name: "YAML 1.1 booleans, as kubectl", arg: "on: yes\n\"n\": \"no\"\n", want: `{"n":"no","true":true}`},
		{name: "YAML with a leading ---", arg: "---\nkind: A\n", want: `{"kind":"A"}`},
		{name: "YAML with a trailing ---", arg: "kind: A\n---\n", want: `{"kind":"A"}`},
		{name: "@file JSON", arg: "@" + jsonFile, want: "{\n  \"kind\": \"ConfigMap\",\n  \"data\": {\"n\": 1.50}\n}"},
		{name: "@file YAML", arg: "@" + yamlFile, want: `{"data":{"k":"1"},"kind":"ConfigMap"}`},
		{name: "@- JSON", arg: "@-", stdin: `{"kind":"Pod"}` + "\n", want: `{"kind":"Pod"}`},
		{name: "@- YAML", arg: "@-", stdin: "kind: Pod\n", want: `{"kind":"Pod"}`},

		{name: "empty", arg: "", wantErr: "-d: the body is empty"},
		{name: "blank", arg: " \n\t", wantErr: "-d: the body is empty"},
		{name: "empty stdin", arg: "@-", stdin: "", wantErr: "-d @- (stdin): the body is empty"},
		{name: "JSON number", arg: "42", wantErr: "-d: the body must be a JSON object or array"},
		{name: "JSON string", arg: `"pod"`, wantErr: "the body must be a JSON object or array"},
		{name: "JSON true", arg: "true", wantErr: "the body must be a JSON object or array"},
		{name: "JSON null", arg: "null", wantErr: "the body must be a JSON object or array"},
		{name: "YAML scalar", arg: "hello world", wantErr: "not valid JSON, and as YAML not an object or a list"},
		{name: "YAML null", arg: "~", wantErr: "not valid JSON, and as YAML not an object or a list"},
		{name: "multiple YAML documents", arg: "kind: A\n---\nkind: B\n", wantErr: "-d: 2 YAML documents; send one per request"},
		{name: "multiple YAML documents from a file", arg: "@" + multiFile, wantErr: "-d @" + multiFile + ": 2 YAML documents"},
		{name: "two JSON values", arg: `{"a":1}{"b":2}`, wantErr: "not valid JSON or YAML"},
		{name: "broken JSON", arg: `{"a":`, wantErr: "not valid JSON or YAML"},
		{name: "broken YAML", arg: "a: [1, 2\n", wantErr: "not valid JSON or YAML"},
		{name: "tab-indented YAML", arg: "a:\n\tb: 1\n", wantErr: "not valid JSON or YAML"},
		{name: "missing file", arg: "@" + filepath.Join(dir, "nope.json"), wantErr: "-d: open " + filepath.Join(dir, "nope.json") + ": no such file or directory"},
		{name: "a directory", arg: "@" + dir, wantErr: "is a directory"},
		{name: "a lone @ is a literal", arg: "@", wantErr: "-d: not valid JSON or YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadBody(tt.arg, strings.NewReader(tt.stdin))
			if tt.wantErr != "" {
				wantUsageError(t, err, tt.wantErr)
				if got != nil {
					t.Errorf("body %q returned with the error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("body %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLoadBodyStdinError(t *testing.T) {
	_, err := LoadBody("@-", iotest.ErrReader(errors.New("read /dev/stdin: input/output error")))
	wantUsageError(t, err, "-d @- (stdin): read /dev/stdin: input/output error")
}
