package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// usageErrorf is a request that cannot be sent as given; nothing was sent.
func usageErrorf(format string, args ...any) error {
	return exitcode.Usagef(format, args...)
}

// LoadBody reads -d's argument: a literal, @FILE, or @- for stdin. JSON is
// kept byte for byte; YAML is converted to JSON. Anything else, or more than
// one YAML document, is a usage error, so nothing invalid is ever sent.
func LoadBody(arg string, stdin io.Reader) ([]byte, error) {
	var text []byte
	source := "-d"
	switch {
	case arg == "@-":
		source = "-d @- (stdin)"
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, usageErrorf("%s: %v", source, err)
		}
		text = b
	case len(arg) > 1 && arg[0] == '@':
		source = "-d " + arg
		b, err := os.ReadFile(arg[1:])
		if err != nil {
			return nil, usageErrorf("-d: %v", err)
		}
		text = b
	default:
		text = []byte(arg)
	}
	body, err := ToJSON(text)
	if err != nil {
		return nil, usageErrorf("%s: %v", source, err)
	}
	return body, nil
}

// ToJSON validates a body: JSON passes unchanged, one YAML document is
// converted. It must be an object or an array (a JSON patch).
func ToJSON(text []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(text)
	if len(trimmed) == 0 {
		return nil, errors.New("the body is empty")
	}
	if json.Valid(trimmed) {
		if trimmed[0] != '{' && trimmed[0] != '[' {
			return nil, errors.New("the body must be a JSON object or array")
		}
		return trimmed, nil
	}
	docs, err := countYAMLDocuments(trimmed)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON or YAML: %v", err)
	}
	if docs > 1 {
		return nil, fmt.Errorf("%d YAML documents; send one per request", docs)
	}
	converted, err := yaml.YAMLToJSON(trimmed)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON or YAML: %v", err)
	}
	if len(converted) == 0 || (converted[0] != '{' && converted[0] != '[') {
		return nil, errors.New("not valid JSON, and as YAML not an object or a list")
	}
	return converted, nil
}

func countYAMLDocuments(text []byte) (int, error) {
	dec := yamlv2.NewDecoder(bytes.NewReader(text))
	n := 0
	for {
		var doc any
		err := dec.Decode(&doc)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if doc != nil {
			n++
		}
	}
}
