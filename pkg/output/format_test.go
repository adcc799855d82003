package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// gojq's palette, spelled out so that a change of colours is a test failure.
const (
	cKey   = "\x1b[34;1m"
	cStr   = "\x1b[32m"
	cNum   = "\x1b[36m"
	cBool  = "\x1b[33m"
	cNull  = "\x1b[90m"
	cReset = "\x1b[0m"
)

// format writes the chunks to a Formatter one Write each, then closes it.
func format(indent int, colour bool, chunks ...string) (string, error) {
	var out bytes.Buffer
	f := NewFormatter(&out, indent, colour)
	for _, c := range chunks {
		if _, err := f.Write([]byte(c)); err != nil {
			return out.String(), err
		}
	}
	err := f.Close()
	return out.String(), err
}

// splits yields the ways a body can arrive: whole, cut in two at every byte,
// and one byte at a time.
func splits(in string) map[string][]string {
	s := map[string][]string{"whole": {in}}
	for i := 1; i < len(in); i++ {
		s[fmt.Sprintf("split at %d", i)] = []string{in[:i], in[i:]}
	}
	if len(in) > 1 {
		s["byte by byte"] = strings.Split(in, "")
	}
	return s
}

// assertFormats checks that in formats to want however it is chunked.
func assertFormats(t *testing.T, indent int, colour bool, in, want string) {
	t.Helper()
	for how, chunks := range splits(in) {
		got, err := format(indent, colour, chunks...)
		if err != nil {
			t.Fatalf("%s: %q: %v", how, in, err)
		}
		if got != want {
			t.Fatalf("%s: %q\n got %q\nwant %q", how, in, got, want)
		}
	}
}

func TestFormatterPretty(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"object", `{"a":1,"b":"x"}`, "{\n  \"a\": 1,\n  \"b\": \"x\"\n}\n"},
		{"keys keep the server's order", `{"z":1,"a":2,"m":3}`, "{\n  \"z\": 1,\n  \"a\": 2,\n  \"m\": 3\n}\n"},
		{"nested", `{"a":{"b":[1,{"c":null}]},"d":[[true,false]]}`,
			"{\n  \"a\": {\n    \"b\": [\n      1,\n      {\n        \"c\": null\n      }\n    ]\n  },\n  \"d\": [\n    [\n      true,\n      false\n    ]\n  ]\n}\n"},
		{"empty containers stay compact", `{"a":{},"b":[],"c":[{}, [ ]]}`,
			"{\n  \"a\": {},\n  \"b\": [],\n  \"c\": [\n    {},\n    []\n  ]\n}\n"},
		{"empty top-level object", `{}`, "{}\n"},
		{"empty top-level array", ` [ ] `, "[]\n"},
		{"escapes copied as sent", `["q\"uote","back\\slash","\u00e9","\/","\n\t\b\f\r","\uD83D\uDE00"]`,
			"[\n  \"q\\\"uote\",\n  \"back\\\\slash\",\n  \"\\u00e9\",\n  \"\\/\",\n  \"\\n\\t\\b\\f\\r\",\n  \"\\uD83D\\uDE00\"\n]\n"},
		{"unicode copied as sent", `{"ключ":"é😀中"}`, "{\n  \"ключ\": \"é😀中\"\n}\n"},
		{"brackets inside strings", `{"a":"[{,:}]"}`, "{\n  \"a\": \"[{,:}]\"\n}\n"},
		{"number literals kept", `[1.50,-0,1e400,12345678901234567890,0.1E-2,-1.0e+10]`,
			"[\n  1.50,\n  -0,\n  1e400,\n  12345678901234567890,\n  0.1E-2,\n  -1.0e+10\n]\n"},
		{"top-level string", `"s"`, "\"s\"\n"},
		{"top-level number", `42`, "42\n"},
		{"top-level number then space", "-1.5 ", "-1.5\n"},
		{"top-level literals", `true false null`, "true\nfalse\nnull\n"},
		{"literals without space between", `truefalse`, "true\nfalse\n"},
		{"NDJSON", "{\"a\":1}\n{\"a\":2}\n", "{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n"},
		{"values without space between", `{}[]"a"1`, "{}\n[]\n\"a\"\n1\n"},
		{"a leading zero ends a number", `01`, "0\n1\n"},
		{"whitespace of every kind", " \t\r\n{ \"a\" :\n\t[ 1 ,\r\n2 ] } \n", "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n"},
		{"pretty input re-indented", "{\n    \"a\": [\n        1\n    ]\n}", "{\n  \"a\": [\n    1\n  ]\n}\n"},
		{"empty body", ``, ``},
		{"only whitespace", " \n\t", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFormats(t, 2, false, tt.in, tt.want)
		})
	}
}

func TestFormatterCompact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"object", "{ \"a\" : 1 ,\n \"b\" : [ true , null ] }", `{"a":1,"b":[true,null]}` + "\n"},
		{"empty containers", `{ "a" : { } , "b" : [ ] }`, `{"a":{},"b":[]}` + "\n"},
		{"NDJSON: one line per value", "{\"a\": 1}\n\n[ 2 ]\n\"x\"\n", "{\"a\":1}\n[2]\n\"x\"\n"},
		{"numbers and strings untouched", `[1.50, "a b", "\u00e9"]`, `[1.50,"a b","\u00e9"]` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFormats(t, 0, false, tt.in, tt.want)
		})
	}
}

func TestFormatterIndentWidth(t *testing.T) {
	assertFormats(t, 4, false, `{"a":[1]}`, "{\n    \"a\": [\n        1\n    ]\n}\n")
}

func TestFormatterDeepIndent(t *testing.T) {
	const depth = 200 // 400 spaces: more than one run of the spaces buffer
	in := strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)
	got, err := format(2, false, in)
	if err != nil {
		t.Fatal(err)
	}
	if want := "\n" + strings.Repeat(" ", 2*depth) + "1\n"; !strings.Contains(got, want) {
		t.Errorf("the innermost value is not indented by %d spaces", 2*depth)
	}
	var v any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Errorf("output is not JSON: %v", err)
	}
}

func TestFormatterColour(t *testing.T) {
	tests := []struct {
		name, in string
		indent   int
		want     string
	}{
		{"key and string", `{"k":"v"}`, 2,
			"{\n  " + cKey + `"k"` + cReset + ": " + cStr + `"v"` + cReset + "\n}\n"},
		{"numbers, booleans, null", `[1.50,true,false,null]`, 0,
			"[" + cNum + "1.50" + cReset + "," + cBool + "true" + cReset + "," + cBool + "false" + cReset + "," + cNull + "null" + cReset + "]\n"},
		{"a string with escapes is one coloured run", `"a\"b"`, 2,
			cStr + `"a\"b"` + cReset + "\n"},
		{"brackets and punctuation uncoloured", `{"a":[{}]}`, 0,
			"{" + cKey + `"a"` + cReset + ":[{}]}\n"},
		{"nested keys are keys, nested strings are strings", `{"a":{"b":"c"}}`, 0,
			"{" + cKey + `"a"` + cReset + ":{" + cKey + `"b"` + cReset + ":" + cStr + `"c"` + cReset + "}}\n"},
		{"top-level number finished at the end", `7`, 0, cNum + "7" + cReset + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFormats(t, tt.indent, true, tt.in, tt.want)
		})
	}
}

func TestFormatterSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, in string
		offset   int64
		msg      string
	}{
		{"mismatched brackets", `{"a":[1}`, 7, `unexpected '}', expecting ',' or ']'`},
		{"close without open", `]`, 0, `unexpected ']', expecting a value`},
		{"stray comma in array", `[1,]`, 3, `unexpected ']', expecting a value`},
		{"stray comma in object", `{"a":1,}`, 7, `unexpected '}', expecting a string key`},
		{"leading comma", `[,1]`, 1, `unexpected ',', expecting a value or ']'`},
		{"top-level comma", `1,2`, 1, `unexpected ','`},
		{"missing comma", `[1 2]`, 3, `unexpected '2', expecting ',' or ']'`},
		{"missing colon", `{"a" 1}`, 5, `unexpected '1', expecting ':'`},
		{"missing value", `{"a":}`, 5, `unexpected '}', expecting a value`},
		{"number key", `{1:2}`, 1, `unexpected '1', expecting a string key or '}'`},
		{"colon in array", `[1:2]`, 2, `unexpected ':'`},
		{"double colon", `{"a"::1}`, 5, `unexpected ':', expecting a value`},
		{"garbage", `hello`, 0, `unexpected 'h'`},
		{"misspelt literal", `[nul]`, 4, `unexpected ']' in literal null`},
		{"capitalised literal", `True`, 0, `unexpected 'T'`},
		{"plus sign", `+1`, 0, `unexpected '+'`},
		{"leading dot", `.5`, 0, `unexpected '.'`},
		{"dot without digits", `[1.]`, 3, `unexpected ']' in a number`},
		{"exponent without digits", `[1e]`, 3, `unexpected ']' in a number`},
		{"minus alone", `[-]`, 2, `unexpected ']' in a number`},
		{"leading zero in an array", `[01]`, 2, `unexpected '1', expecting ',' or ']'`},
		{"number then letters", `[1x]`, 2, `unexpected 'x', expecting ',' or ']'`},
		{"invalid escape", `"a\x"`, 3, `unexpected 'x' in a string escape`},
		{"short unicode escape", `"\u12"`, 5, `unexpected '"' in a \u escape`},
		{"control character in a string", "\"a\tb\"", 2, `unexpected '\t' in a string`},
		{"escape sequence in a string", "\"\x1b[31m\"", 1, `unexpected '\x1b' in a string`},
		{"garbage after a value", "{}\n}", 3, `unexpected '}'`},
		{"truncated object", `{"a":1`, 6, "unexpected end of input"},
		{"truncated string", `"abc`, 4, "unexpected end of input"},
		{"truncated escape", `"abc\`, 5, "unexpected end of input"},
		{"truncated literal", `tru`, 3, "unexpected end of input"},
		{"truncated number", `-`, 1, "unexpected end of input"},
		{"truncated exponent", `1e+`, 3, "unexpected end of input"},
		{"truncated after key", `{"a"`, 4, "unexpected end of input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for how, chunks := range splits(tt.in) {
				_, err := format(2, false, chunks...)
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("%s: %q: got %v, want a SyntaxError", how, tt.in, err)
				}
				if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
					t.Fatalf("%s: %q: got %q at %d, want %q at %d", how, tt.in, se.Msg, se.Offset, tt.msg, tt.offset)
				}
			}
		})
	}
}

func TestFormatterWritesWhatCameBeforeAnError(t *testing.T) {
	got, err := format(0, false, `{"a":1}`+"\n"+`{"b":[1,}`)
	if err == nil {
		t.Fatal("no error")
	}
	if want := "{\"a\":1}\n{\"b\":[1,"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFormatterErrorIsSticky(t *testing.T) {
	var out bytes.Buffer
	f := NewFormatter(&out, 0, false)
	_, first := f.Write([]byte(`]`))
	if first == nil {
		t.Fatal("no error")
	}
	if _, err := f.Write([]byte(`{}`)); err != first {
		t.Errorf("Write after an error: got %v, want %v", err, first)
	}
	if err := f.Close(); err != first {
		t.Errorf("Close after an error: got %v, want %v", err, first)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %q after the error", out.String())
	}
}

func TestFormatterTakesValuesAfterClose(t *testing.T) {
	var out bytes.Buffer
	f := NewFormatter(&out, 0, false)
	for _, v := range []string{`1`, `{"a":2}`, `"s"`} {
		if _, err := f.Write([]byte(v)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if want := "1\n{\"a\":2}\n\"s\"\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// recordingWriter remembers what reached it by the time each value ended.
type recordingWriter struct {
	bytes.Buffer
	seen []string
}

func (w *recordingWriter) onValue() error {
	w.seen = append(w.seen, w.String())
	return nil
}

func TestFormatterOnValue(t *testing.T) {
	tests := []struct {
		name, in string
		seen     []string // what the writer held at each OnValue
	}{
		{"watch events", "{\"type\":\"ADDED\"}\n{\"type\":\"DELETED\"}\n",
			[]string{"{\"type\":\"ADDED\"}\n", "{\"type\":\"ADDED\"}\n{\"type\":\"DELETED\"}\n"}},
		{"scalars", `"a" true [] 5`,
			[]string{"\"a\"\n", "\"a\"\ntrue\n", "\"a\"\ntrue\n[]\n", "\"a\"\ntrue\n[]\n5\n"}},
		{"nothing for whitespace", " \n ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for how, chunks := range splits(tt.in) {
				w := &recordingWriter{}
				f := NewFormatter(w, 0, false)
				f.OnValue = w.onValue
				for _, c := range chunks {
					if _, err := f.Write([]byte(c)); err != nil {
						t.Fatal(err)
					}
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(w.seen) != fmt.Sprint(tt.seen) {
					t.Fatalf("%s: OnValue saw %q, want %q", how, w.seen, tt.seen)
				}
			}
		})
	}
}

func TestFormatterOnValueRunsBeforeTheNextValueArrives(t *testing.T) {
	w := &recordingWriter{}
	f := NewFormatter(w, 0, false)
	f.OnValue = w.onValue
	if _, err := f.Write([]byte(`{"type":"ADDED"}`)); err != nil {
		t.Fatal(err)
	}
	if len(w.seen) != 1 {
		t.Fatalf("OnValue ran %d times once the event was complete, want 1", len(w.seen))
	}
}

func TestFormatterOnValueError(t *testing.T) {
	boom := errors.New("boom")
	f := NewFormatter(io.Discard, 0, false)
	f.OnValue = func() error { return boom }
	if _, err := f.Write([]byte(`{} {}`)); err != boom {
		t.Errorf("Write: got %v, want %v", err, boom)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestFormatterWriterError(t *testing.T) {
	broken := errors.New("broken pipe")
	f := NewFormatter(failingWriter{broken}, 0, false)
	if _, err := f.Write([]byte(`{"a":1}`)); err != nil {
		t.Fatalf("Write: %v (nothing should be flushed yet)", err)
	}
	if err := f.Close(); err != broken {
		t.Errorf("Close: got %v, want %v", err, broken)
	}
}

func TestFormatterLargeBodyReachesTheWriter(t *testing.T) {
	// more than the flush threshold, in odd-sized chunks
	in := "[" + strings.Repeat(`{"k":"`+strings.Repeat("v", 100)+`"},`, 2000) + "1]"
	var want bytes.Buffer
	if err := json.Indent(&want, []byte(in), "", "  "); err != nil {
		t.Fatal(err)
	}
	want.WriteByte('\n')
	var chunks []string
	for s := in; s != ""; {
		n := min(len(s), 4093)
		chunks, s = append(chunks, s[:n]), s[n:]
	}
	got, err := format(2, false, chunks...)
	if err != nil {
		t.Fatal(err)
	}
	if got != want.String() {
		t.Error("output differs from json.Indent")
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// FuzzFormatter checks the Formatter against encoding/json: it accepts what
// json.Decoder accepts, compact output is json.Compact's, pretty output is
// json.Indent's, and colour changes nothing but the escape sequences.
func FuzzFormatter(f *testing.F) {
	for _, s := range decoderCorpus {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var wantCompact, wantPretty bytes.Buffer
		var values []any
		dec := json.NewDecoder(bytes.NewReader(in))
		dec.UseNumber()
		var jsonErr error
		for {
			var raw json.RawMessage
			if jsonErr = dec.Decode(&raw); jsonErr != nil {
				break
			}
			_ = json.Compact(&wantCompact, raw)
			wantCompact.WriteByte('\n')
			_ = json.Indent(&wantPretty, raw, "", "  ")
			wantPretty.WriteByte('\n')
			values = append(values, decodeWithNumbers(raw))
		}
		valid := jsonErr == io.EOF
		if valid && tooDeep(in) {
			return // kcurl's nesting limit is lower than encoding/json's
		}

		cut := len(in) / 3
		compact, err := format(0, false, string(in[:cut]), string(in[cut:]))
		if (err == nil) != valid {
			t.Fatalf("%q: formatter error %v, encoding/json error %v", in, err, jsonErr)
		}
		if !valid {
			return
		}
		if compact != wantCompact.String() {
			t.Fatalf("%q: compact\n got %q\nwant %q", in, compact, wantCompact.String())
		}
		reparsed, _ := jsonValues(strings.NewReader(compact))
		if !reflect.DeepEqual(reparsed, values) {
			t.Fatalf("%q: compact output re-parses to %#v, want %#v", in, reparsed, values)
		}
		pretty, err := format(2, false, strings.Split(string(in), "")...)
		if err != nil || pretty != wantPretty.String() {
			t.Fatalf("%q: pretty, byte by byte\n got %q, %v\nwant %q", in, pretty, err, wantPretty.String())
		}
		colour, err := format(2, true, string(in))
		if stripped := ansi.ReplaceAllString(colour, ""); err != nil || stripped != pretty {
			t.Fatalf("%q: colour without its escapes\n got %q, %v\nwant %q", in, stripped, err, pretty)
		}
	})
}

// plainPrefix reads eight bytes at a time with bit tricks; it must agree with
// the byte table for every byte, at every position, next to every other byte.
func TestPlainPrefixAgreesWithTheTable(t *testing.T) {
	byTable := func(b []byte) int {
		i := 0
		for i < len(b) && stringPlain[b[i]] {
			i++
		}
		return i
	}
	b := make([]byte, 16)
	for lo := range 256 {
		for hi := range 256 {
			for k := range 15 {
				for i := range b {
					b[i] = 'a'
				}
				b[k], b[k+1] = byte(lo), byte(hi)
				if got, want := plainPrefix(b), byTable(b); got != want {
					t.Fatalf("%q: got %d, want %d", b, got, want)
				}
			}
		}
	}
}
