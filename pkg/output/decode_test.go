package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// decoderCorpus is JSON and not-quite-JSON that the Decoder and the
// Formatter must treat as encoding/json does; it also seeds the fuzz tests.
var decoderCorpus = []string{
	// values
	`{}`, `[]`, `""`, `0`, `-0`, `true`, `false`, `null`,
	`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
	`[1.50, -0, 1e400, 12345678901234567890, 0.1E-2, -1.0e+10, 1E2]`,
	`{"a":1,"a":2}`,
	` { "a" : [ 1 , 2 ] } `,
	"\t\r\n[\n1\n]\n",
	`{"k8s":{"metadata":{"name":"web-0","labels":{"app":"web"}},"spec":{"replicas":3}}}`,
	// strings
	`"q\"uote"`, `"back\\slash"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\u00E9"`, `"é中😀"`,
	`"\u0000"`, `"\u001f"`, `"\u2028"`,
	`"\ud83d\ude00"`, `"\uD83D\uDE00"`, // a surrogate pair
	`"\ud83d"`, `"\ude00"`, `"\ud83dx"`, `"\ude00\ud83d"`, // lone surrogates
	`"\ud83d\u0041"`, `"\ud800\ud800\udc00"`, `"\ud83d\n"`,
	"\"\xff\"", "\"a\xc3\"", "\"\xed\xa0\x80\"", "\"\xf0\x9f\x98\"", // invalid UTF-8
	"{\"\xff\":1}", `{"\u00e9":1}`,
	`"\x"`, `"\u12"`, `"\u12g4"`, `"\'"`, `"\U0041"`, "\"\\\x01\"", // invalid escapes
	"\"a\tb\"", "\"\x1b[31m\"", "\"\n\"", "\"\x00\"", // control characters
	"\"\x7f\"", // DEL is allowed
	// numbers
	`01`, `[01]`, `1.`, `[1.]`, `-`, `[-]`, `.5`, `1e`, `1e+`, `1E-5`, `+1`, `--1`, `-01`, `0.0e0`,
	`1true`, `1.5.3`, `0-1`, `[1x]`, `1.5e3.2`,
	// literals
	`tru`, `nul`, `truefalse`, `True`, `nulll`, `[nul]`, `nan`, `NaN`, `Infinity`,
	// structure
	`[1,]`, `{"a":1,}`, `[,1]`, `{,}`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{1:2}`, `[1 2]`, `[1:2]`,
	`{"a"::1}`, `]`, `}`, `[}`, `{]`, `{"a":[1}`, `,`, `:`,
	// streams
	``, ` `, "1 2 3", `{}{}`, `[][]`, `"a""b"`, "{\"a\":1}\n{\"a\":2}\n", `1 2 ]`, `[1]x`, `{}}`,
	"\xef\xbb\xbf{}", // a byte order mark
	// truncated
	`{`, `[`, `"`, `"abc`, `"abc\`, `{"a"`, `{"a":`, `{"a":1`, `[1,`, `t`, `fals`,
}

// jsonValues is what encoding/json's Decoder, with UseNumber, finds in r:
// the values before the first error, and that error (nil at a clean end).
func jsonValues(r io.Reader) ([]any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var values []any
	for {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			return values, nil
		} else if err != nil {
			return values, err
		}
		values = append(values, v)
	}
}

// ourValues is the same with our Decoder.
func ourValues(r io.Reader) ([]any, error) {
	dec := NewDecoder(r)
	var values []any
	for {
		v, err := dec.Decode()
		if err == io.EOF {
			return values, nil
		} else if err != nil {
			return values, err
		}
		values = append(values, v)
	}
}

func decodeWithNumbers(raw []byte) any {
	values, _ := jsonValues(bytes.NewReader(raw))
	if len(values) == 0 {
		return nil
	}
	return values[0]
}

// readers are the ways a body can arrive, from all at once to a byte at a
// time.
var readers = map[string]func(string) io.Reader{
	"whole":        func(s string) io.Reader { return strings.NewReader(s) },
	"byte by byte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
	"half reads":   func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) },
	"EOF with data": func(s string) io.Reader {
		return iotest.DataErrReader(strings.NewReader(s))
	},
}

func TestDecoderMatchesEncodingJSON(t *testing.T) {
	for _, in := range decoderCorpus {
		want, wantErr := jsonValues(strings.NewReader(in))
		for how, reader := range readers {
			got, err := ourValues(reader(in))
			if (err != nil) != (wantErr != nil) {
				t.Errorf("%q, %s: error %v, encoding/json's %v", in, how, err, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%q, %s:\n got %#v\nwant %#v", in, how, got, want)
			}
		}
	}
}

func TestDecoderValues(t *testing.T) {
	tests := []struct {
		name, in string
		want     any
	}{
		{"numbers keep their text", `[1.50,-0,1e400,12345678901234567890]`,
			[]any{json.Number("1.50"), json.Number("-0"), json.Number("1e400"), json.Number("12345678901234567890")}},
		{"escapes", `"q\"b\\s\/\b\f\n\r\t"`, "q\"b\\s/\b\f\n\r\t"},
		{"unicode escape", `"caf\u00e9"`, "café"},
		{"surrogate pair", `"\ud83d\ude00"`, "😀"},
		{"lone high surrogate", `"\ud83dx"`, "\ufffdx"},
		{"lone low surrogate", `"\ude00"`, "\ufffd"},
		{"high surrogate before a non-surrogate escape", `"\ud83d\u0041"`, "\ufffdA"},
		{"invalid UTF-8 becomes U+FFFD", "\"a\xffb\"", "a\ufffdb"},
		{"invalid UTF-8 with escapes", "\"\\n\xff\"", "\n\ufffd"},
		{"invalid UTF-8 in a key", "{\"\xff\":1}", map[string]any{"\ufffd": json.Number("1")}},
		{"last duplicate key wins", `{"a":1,"a":2}`, map[string]any{"a": json.Number("2")}},
		{"empty containers are not nil", `[{},[]]`, []any{map[string]any{}, []any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for how, reader := range readers {
				got, err := NewDecoder(reader(tt.in)).Decode()
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("%s: got %#v, want %#v", how, got, tt.want)
				}
			}
		})
	}
}

func TestDecoderSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, in string
		offset   int64
		msg      string
	}{
		{"stray comma", `[1,]`, 3, `unexpected ']', expecting a value`},
		{"missing colon", `{"a" 1}`, 5, `unexpected '1', expecting ':'`},
		{"missing comma", `{"a":1 "b":2}`, 7, `unexpected '"', expecting ',' or '}'`},
		{"mismatched brackets", `[1}`, 2, `unexpected '}', expecting ',' or ']'`},
		{"number key", `{1:2}`, 1, `expecting a string key`},
		{"invalid escape", `"ab\x"`, 4, `unexpected 'x' in a string escape`},
		{"short unicode escape", `"ab\u12"`, 3, `invalid \u escape`},
		{"control character", "\"ab\x01\"", 3, `unexpected '\x01' in a string`},
		{"dot without digits", `1.x`, 2, `unexpected 'x' in a number`},
		{"misspelt literal", `nulL`, 3, `unexpected 'L' in literal null`},
		{"truncated", `{"a":[1,`, 8, `unexpected end of input`},
		{"truncated string", `"abc`, 4, `unexpected end of input`},
		{"truncated number", `1e`, 2, `unexpected end of input`},
		{"error in a later value", "{}\n{\"a\" 1}", 8, `expecting ':'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for how, reader := range readers {
				_, err := ourValues(reader(tt.in))
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("%s: got %v, want a SyntaxError", how, err)
				}
				if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
					t.Fatalf("%s: got %q at %d, want %q at %d", how, se.Msg, se.Offset, tt.msg, tt.offset)
				}
			}
		})
	}
}

func TestDecoderNestingLimit(t *testing.T) {
	nested := func(n int) string { return strings.Repeat(`[`, n) + strings.Repeat(`]`, n) }
	if _, err := NewDecoder(strings.NewReader(nested(MaxDepth))).Decode(); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
	if _, err := NewDecoder(strings.NewReader(nested(MaxDepth + 1))).Decode(); err == nil || !strings.Contains(err.Error(), "nested more than 1000 levels deep") {
		t.Errorf("%d levels: %v", MaxDepth+1, err)
	}
	objects := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat(`}`, MaxDepth+1)
	if _, err := NewDecoder(strings.NewReader(objects)).Decode(); err == nil {
		t.Errorf("%d levels of objects: no error", MaxDepth+1)
	}
}

// eventReader hands out one watch event per Read and fails if read again.
type eventReader struct {
	events []string
	t      *testing.T
}

func (r *eventReader) Read(p []byte) (int, error) {
	if len(r.events) == 0 {
		r.t.Fatal("the decoder read past the value it returned")
	}
	n := copy(p, r.events[0])
	r.events = r.events[1:]
	return n, nil
}

func TestDecoderReadsOnlyAsFarAsTheValue(t *testing.T) {
	r := &eventReader{t: t, events: []string{`{"type":"ADDED"}`, "\n" + `{"type":"DELETED"}`}}
	dec := NewDecoder(r)
	for _, want := range []string{"ADDED", "DELETED"} {
		v, err := dec.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if got := v.(map[string]any)["type"]; got != want {
			t.Errorf("got %v, want %v", got, want)
		}
	}
}

func TestDecoderReadError(t *testing.T) {
	broken := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(`{"items":[1,`), iotest.ErrReader(broken))
	if _, err := NewDecoder(r).Decode(); !errors.Is(err, broken) {
		t.Errorf("got %v, want %v", err, broken)
	}
}

func TestDecoderValuesLongerThanItsBuffer(t *testing.T) {
	long := strings.Repeat("ab\\n\\u00e9", 40000) // escapes across every buffer boundary
	digits := strings.Repeat("7", 100000)
	in := `{"s":"` + long + `","n":` + digits + `,"k":[` + strings.Repeat(`"x",`, 30000) + `null]}`
	for how, reader := range readers {
		got, err := ourValues(reader(in))
		want, _ := jsonValues(strings.NewReader(in))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: differs from encoding/json (error %v)", how, err)
		}
	}
}

func TestDecoderRepeatedShortStrings(t *testing.T) {
	// more distinct values than the cache has slots, each seen twice
	var b strings.Builder
	b.WriteString(`[`)
	for round := range 2 {
		for i := range 3000 {
			if round+i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"v%d","ns":"team-%d"}`, i, i%7)
		}
	}
	b.WriteString(`]`)
	got, err := ourValues(strings.NewReader(b.String()))
	want, _ := jsonValues(strings.NewReader(b.String()))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("differs from encoding/json (error %v)", err)
	}
}

func TestDecoderNumberAtTheEndOfTheStream(t *testing.T) {
	for how, reader := range readers {
		got, err := ourValues(reader("1 -2.5e3"))
		if want := []any{json.Number("1"), json.Number("-2.5e3")}; err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, %v, want %v", how, got, err, want)
		}
	}
}

// FuzzDecoder checks the Decoder against encoding/json: the same values
// before the first error, and an error exactly when encoding/json has one.
func FuzzDecoder(f *testing.F) {
	for _, s := range decoderCorpus {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, wantErr := jsonValues(bytes.NewReader(in))
		if wantErr == nil && tooDeep(in) {
			return // kcurl's limit is lower than encoding/json's
		}
		for _, r := range []io.Reader{bytes.NewReader(in), iotest.HalfReader(bytes.NewReader(in))} {
			got, err := ourValues(r)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("%q: error %v, encoding/json's %v", in, err, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q:\n got %#v\nwant %#v", in, got, want)
			}
		}
	})
}

// tooDeep: in nests brackets deeper than MaxDepth (strings ignored roughly:
// only a fuzzing guard).
func tooDeep(in []byte) bool {
	depth := 0
	for _, c := range in {
		switch c {
		case '[', '{':
			if depth++; depth > MaxDepth {
				return true
			}
		case ']', '}':
			depth--
		}
	}
	return false
}
