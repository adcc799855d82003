package output

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// yamlCorpus is JSON whose YAML is easy to get wrong; with decoderCorpus it
// seeds FuzzYAML.
var yamlCorpus = []string{
	`{"a":"yes","b":"1.0","c":"null","d":"","e":"~","f":"0x1F","g":"0o17","h":"1_000","i":"1:20","j":".inf","k":"-.NaN","l":"2024-05-01","m":"<<","n":"y"}`,
	`{"a":"*","b":"- x","c":"x: y","d":"a #b","e":"#c","f":"? x","g":": x","h":"---","i":"...","j":"x:","k":"@x","l":"%x","m":"!x","n":"&x","o":"|","p":">","q":"'","r":"\"","s":"{","t":"["}`,
	`{"a":" x","b":"x ","c":"\tx","d":"x\ty","e":"\u0085","f":"\u2028","g":"\ufeff","h":"\ufffe","i":"\uffff","j":"\u007f","k":"\u0080","l":"\u00a0","m":"😀"}`,
	`{"a":"l1\nl2\n","b":"l1\nl2","c":"l1\n\n","d":" x\ny","e":"x \ny","f":"\n","g":"\n\nx","h":"x\r\ny","i":"\n ","j":"  \n  x\n"}`,
	`["l1\nl2", [" x\ny", "\n"], {"k": "a\nb"}]`,
	`" x\ny"`, `"\n"`, `"a\nb\n\n"`,
	`{"a":{},"b":[],"c":[[1,2],[]],"d":[{"x":1,"y":[]},{}],"e":[[[]]],"f":[{"a":[{"b":{}}]}]}`,
	`{"true":1,"a: b":2,"":3,"x\ny":4,"-":5,"? q":6,"1":7,"#":8," ":9}`,
	`{"a":100000000000000000001,"b":1.50,"c":-0,"d":1E+2,"e":1e-7,"f":123456789012345678901234567890}`,
	`{"kind":"List","items":[{"metadata":{"name":"a","creationTimestamp":"2024-05-01T10:00:00Z"},"data":{"replicas":"3","ratio":"1.50","conf":"a: 1\nb: 2\n"}}]}`,
	`{"` + strings.Repeat("k", 1200) + `":{"a":1},"` + strings.Repeat("j", 1100) + `":[1,2],"` + strings.Repeat("l", 1100) + `":"v"}`,
}

// FuzzYAML checks the streaming YAML against two YAML parsers: go-yaml v3
// reads back, node by node, every string exactly and every number as its
// literal text, in the JSON's order; sigs.k8s.io/yaml (go-yaml v2, what
// kubectl reads YAML with) reads back the same values.
func FuzzYAML(f *testing.F) {
	for _, s := range append(decoderCorpus, yamlCorpus...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		values, err := orderedValues(in)
		if err != nil || tooDeep(in) {
			return // not JSON: covered by the Decoder's own fuzzing
		}
		for how, r := range map[string]io.Reader{"whole": bytes.NewReader(in), "half": iotest.HalfReader(bytes.NewReader(in)), "byte": iotest.OneByteReader(bytes.NewReader(in))} {
			out, _, err := printWithReader(Options{Format: FormatYAML}, r)
			if err != nil {
				t.Fatalf("%q, %s: %v", in, how, err)
			}
			if err := sameAsYAML(values, out); err != nil {
				t.Fatalf("%q, %s: %v\nYAML:\n%s", in, how, err, out)
			}
		}
	})
}

func TestYAMLCorpus(t *testing.T) {
	for _, in := range append(decoderCorpus, yamlCorpus...) {
		values, err := orderedValues([]byte(in))
		if err != nil {
			continue
		}
		out, _, err := printWithReader(Options{Format: FormatYAML}, strings.NewReader(in))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if err := sameAsYAML(values, out); err != nil {
			t.Errorf("%q: %v\nYAML:\n%s", in, err, out)
		}
	}
}

func printWithReader(opts Options, r io.Reader) (string, string, error) {
	var o, n bytes.Buffer
	err := NewPrinter(&o, &n, opts).Print(context.Background(), r, "application/json")
	return o.String(), n.String(), err
}

// orderedValue is JSON as encoding/json's tokens give it: objects as their
// members in order (duplicates kept), numbers as their text.
type orderedMember struct {
	key   string
	value any
}

func orderedValues(in []byte) ([]any, error) {
	if _, err := jsonValues(bytes.NewReader(in)); err != nil {
		return nil, err // Token alone takes "{" at the end for a whole value
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var values []any
	for {
		v, err := orderedValue(dec)
		if err == io.EOF {
			return values, nil
		}
		if err != nil {
			return nil, err
		}
		values = append(values, v)
	}
}

func orderedValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		var members []orderedMember
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := orderedValue(dec)
			if err != nil {
				return nil, err
			}
			members = append(members, orderedMember{k.(string), v})
		}
		_, err := dec.Token()
		if members == nil {
			members = []orderedMember{}
		}
		return members, err
	case json.Delim('['):
		elements := []any{}
		for dec.More() {
			v, err := orderedValue(dec)
			if err != nil {
				return nil, err
			}
			elements = append(elements, v)
		}
		_, err := dec.Token()
		return elements, err
	}
	return tok, nil
}

func sameAsYAML(values []any, out string) error {
	dec := yamlv3.NewDecoder(strings.NewReader(out))
	for i, want := range values {
		var doc yamlv3.Node
		if err := dec.Decode(&doc); err != nil {
			return fmt.Errorf("go-yaml v3, document %d: %v", i, err)
		}
		if err := sameNode(want, doc.Content[0], "$"); err != nil {
			return fmt.Errorf("go-yaml v3, document %d: %v", i, err)
		}
	}
	var extra yamlv3.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("go-yaml v3: more documents than JSON values (%v)", err)
	}
	// kubectl's parser: the same values, numbers as floats.
	docs := strings.Split(out, "\n---\n")
	if len(docs) != len(values) {
		return nil // a string's own "---" line: v3 above has checked it
	}
	for i, doc := range docs {
		if i < len(docs)-1 {
			// The line break before "---" ends the document's last line:
			// without it a block scalar ("|") would lose its final newline.
			doc += "\n"
		}
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return fmt.Errorf("sigs.k8s.io/yaml, document %d: %v", i, err)
		}
		var got, want any
		if json.Unmarshal(j, &got) != nil || json.Unmarshal(mustJSON(values[i]), &want) != nil {
			continue // a number beyond float64
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("sigs.k8s.io/yaml, document %d: got %s", i, j)
		}
	}
	return nil
}

// mustJSON writes an orderedValue back as JSON, the last of duplicate keys
// winning as everywhere else.
func mustJSON(v any) []byte {
	var b bytes.Buffer
	var write func(v any)
	write = func(v any) {
		switch v := v.(type) {
		case []orderedMember:
			b.WriteByte('{')
			for i, m := range v {
				if i > 0 {
					b.WriteByte(',')
				}
				k, _ := json.Marshal(m.key)
				b.Write(k)
				b.WriteByte(':')
				write(m.value)
			}
			b.WriteByte('}')
		case []any:
			b.WriteByte('[')
			for i, e := range v {
				if i > 0 {
					b.WriteByte(',')
				}
				write(e)
			}
			b.WriteByte(']')
		default:
			e, _ := json.Marshal(v)
			b.Write(e)
		}
	}
	write(v)
	return b.Bytes()
}

func sameNode(want any, n *yamlv3.Node, path string) error {
	switch w := want.(type) {
	case []orderedMember:
		if n.Kind != yamlv3.MappingNode || len(n.Content) != 2*len(w) {
			return fmt.Errorf("%s: want a mapping of %d, got kind %v with %d nodes", path, len(w), n.Kind, len(n.Content))
		}
		for i, m := range w {
			k := n.Content[2*i]
			if k.Kind != yamlv3.ScalarNode || k.Tag != "!!str" || k.Value != m.key {
				return fmt.Errorf("%s: key %d: want %q, got %s %q", path, i, m.key, k.Tag, k.Value)
			}
			if err := sameNode(m.value, n.Content[2*i+1], path+"."+m.key); err != nil {
				return err
			}
		}
	case []any:
		if n.Kind != yamlv3.SequenceNode || len(n.Content) != len(w) {
			return fmt.Errorf("%s: want a sequence of %d, got kind %v with %d nodes", path, len(w), n.Kind, len(n.Content))
		}
		for i, e := range w {
			if err := sameNode(e, n.Content[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case string:
		if n.Kind != yamlv3.ScalarNode || n.Tag != "!!str" || n.Value != w {
			return fmt.Errorf("%s: want string %q, got %s %q", path, w, n.Tag, n.Value)
		}
	case json.Number:
		// A plain scalar with the number's text is a number in YAML 1.2.
		if n.Kind != yamlv3.ScalarNode || n.Style != 0 || n.Value != string(w) {
			return fmt.Errorf("%s: want number %s, got %s %q (style %v)", path, w, n.Tag, n.Value, n.Style)
		}
	case bool:
		if n.Kind != yamlv3.ScalarNode || n.Tag != "!!bool" || n.Value != fmt.Sprint(w) {
			return fmt.Errorf("%s: want %v, got %s %q", path, w, n.Tag, n.Value)
		}
	case nil:
		if n.Kind != yamlv3.ScalarNode || n.Tag != "!!null" {
			return fmt.Errorf("%s: want null, got %s %q", path, n.Tag, n.Value)
		}
	default:
		return fmt.Errorf("%s: unexpected %T", path, want)
	}
	return nil
}
