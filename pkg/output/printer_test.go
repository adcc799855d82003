package output

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// printWith prints one body and returns what reached out and notices.
func printWith(t *testing.T, opts Options, body, contentType string) (out, notices string, err error) {
	t.Helper()
	var o, n bytes.Buffer
	p := NewPrinter(&o, &n, opts)
	err = p.Print(context.Background(), strings.NewReader(body), contentType)
	return o.String(), n.String(), err
}

// printQuery runs expr, with opts, on a JSON body.
func printQuery(t *testing.T, opts Options, expr, body string, vars ...Var) (out, notices string, err error) {
	t.Helper()
	q, err := CompileQuery(expr, vars, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.Query = q
	return printWith(t, opts, body, "application/json")
}

func TestPrinterJSON(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		body string
		want string
	}{
		{"pretty by default", Options{Indent: 2}, `{"kind":"Pod","spec":{"containers":[]}}`,
			"{\n  \"kind\": \"Pod\",\n  \"spec\": {\n    \"containers\": []\n  }\n}\n"},
		{"compact", Options{}, "{\n  \"a\": [1, 2]\n}\n", `{"a":[1,2]}` + "\n"},
		{"colour", Options{Color: true}, `{"a":1}`, "{" + cKey + `"a"` + cReset + ":" + cNum + "1" + cReset + "}\n"},
		{"explicit json format", Options{Format: FormatJSON, Indent: 2}, `[1]`, "[\n  1\n]\n"},
		{"raw format leaves JSON untouched", Options{Format: FormatRaw, Indent: 2}, "{ \"a\" :1}", "{ \"a\" :1}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := printWith(t, tt.opts, tt.body, "application/json")
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.want {
				t.Errorf("got %q, want %q", out, tt.want)
			}
		})
	}
}

func TestPrinterInvalidJSON(t *testing.T) {
	_, _, err := printWith(t, Options{Indent: 2}, `{"a":1,}`, "application/json")
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 7 {
		t.Errorf("got %v, want a SyntaxError at byte 7", err)
	}
	_, _, err = printWith(t, Options{Indent: 2}, `{"a":`, "application/json")
	if !errors.As(err, &se) {
		t.Errorf("truncated body: got %v, want a SyntaxError", err)
	}
}

func TestPrinterQuery(t *testing.T) {
	const list = `{"items":[{"name":"a","n":1},{"name":"b","n":2.50}]}`
	tests := []struct {
		name string
		opts Options
		expr string
		vars []Var
		body string
		want string
	}{
		{"strings", Options{Indent: 2}, `.items[].name`, nil, list, "\"a\"\n\"b\"\n"},
		{"objects pretty", Options{Indent: 2}, `.items[0]`, nil, list, "{\n  \"n\": 1,\n  \"name\": \"a\"\n}\n"},
		{"objects compact", Options{}, `.items`, nil, list, `[{"n":1,"name":"a"},{"n":2.50,"name":"b"}]` + "\n"},
		{"colour", Options{Color: true}, `.items[1]`, nil, list,
			"{" + cKey + `"n"` + cReset + ":" + cNum + "2.50" + cReset + "," + cKey + `"name"` + cReset + ":" + cStr + `"b"` + cReset + "}\n"},
		{"raw strings", Options{RawStrings: true}, `.items[].name`, nil, list, "a\nb\n"},
		{"raw strings leave other values JSON", Options{RawStrings: true}, `.items[0].n, .items[0], "x\ty"`, nil, list,
			"1\n{\"n\":1,\"name\":\"a\"}\nx\ty\n"},
		{"--arg", Options{}, `.items[] | select(.name == $want) | .n`, []Var{{Name: "want", Value: "b"}}, list, "2.50\n"},
		{"--argjson", Options{}, `$obj.k`, []Var{argJSON(t, "obj", `{"k":12345678901234567890}`)}, `null`, "12345678901234567890\n"},
		{"big integer through a path", Options{}, `.a`, nil, `{"a":12345678901234567890}`, "12345678901234567890\n"},
		{"big integer inside an object result", Options{}, `{b: .a}`, nil, `{"a":12345678901234567890}`, `{"b":12345678901234567890}` + "\n"},
		{"big integer in arithmetic", Options{}, `.a + 1`, nil, `{"a":12345678901234567890}`, "12345678901234567891\n"},
		{"number text kept", Options{}, `.[]`, nil, `[1.50, -0, 1e400]`, "1.50\n-0\n1e400\n"},
		{"each value of a stream", Options{}, `.type`, nil, "{\"type\":\"ADDED\"}\n{\"type\":\"DELETED\"}\n", "\"ADDED\"\n\"DELETED\"\n"},
		{"no results, no output", Options{}, `empty`, nil, list, ""},
		{"no input, no output", Options{}, `.`, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := printQuery(t, tt.opts, tt.expr, tt.body, tt.vars...)
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.want {
				t.Errorf("got %q, want %q", out, tt.want)
			}
		})
	}
}

func argJSON(t *testing.T, name, text string) Var {
	t.Helper()
	v, err := ParseJSONArg(name, text)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPrinterQueryOnInvalidJSON(t *testing.T) {
	_, _, err := printQuery(t, Options{}, `.`, `{"a" 1}`)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Errorf("got %v, want a SyntaxError", err)
	}
}

func TestPrinterQueryRuntimeErrorKeepsEarlierResults(t *testing.T) {
	out, _, err := printQuery(t, Options{}, `.[] | 10 / .`, `[2, "x"]`)
	var re *RuntimeError
	if !errors.As(err, &re) || !strings.Contains(re.Error(), "cannot divide") {
		t.Errorf("got %v, want a RuntimeError about dividing", err)
	}
	if out != "5\n" {
		t.Errorf("printed %q before the error, want %q", out, "5\n")
	}
}

func TestExitStatusVerdict(t *testing.T) {
	tests := []struct {
		name, expr string
		exitStatus bool
		want       error
	}{
		{"last false", `true, false`, true, ErrFalsy},
		{"last null", `1, null`, true, ErrFalsy},
		{"no result", `empty`, true, ErrFalsy},
		{"last truthy after false", `false, 1`, true, nil},
		{"zero is truthy", `0`, true, nil},
		{"empty string is truthy", `""`, true, nil},
		{"without -e, no verdict", `false`, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := CompileQuery(tt.expr, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := NewPrinter(io.Discard, io.Discard, Options{Query: q, ExitStatus: tt.exitStatus})
			if err := p.Print(context.Background(), strings.NewReader(`{}`), "application/json"); err != nil {
				t.Fatal(err)
			}
			if got := p.Done(); got != tt.want {
				t.Errorf("Done() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExitStatusLooksAtTheLastResultOfAllBodies(t *testing.T) {
	q, err := CompileQuery(`.ok`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPrinter(io.Discard, io.Discard, Options{Query: q, ExitStatus: true})
	for _, body := range []string{`{"ok":true}`, `{"ok":false}`} {
		if err := p.Print(context.Background(), strings.NewReader(body), "application/json"); err != nil {
			t.Fatal(err)
		}
	}
	if p.Done() != ErrFalsy {
		t.Error("the last body's false result did not decide")
	}
}

func TestPrinterYAML(t *testing.T) {
	tests := []struct {
		name, expr, body, want string
	}{
		{"keys in the server's order, nested", ``, `{"kind":"Pod","metadata":{"name":"web","labels":{"b":"2","a":"1"}},"spec":{"containers":[{"name":"c","ports":[80,443]}]}}`,
			"kind: Pod\nmetadata:\n  name: web\n  labels:\n    b: \"2\"\n    a: \"1\"\nspec:\n  containers:\n  - name: c\n    ports:\n    - 80\n    - 443\n"},
		{"documents separated by ---", ``, "{\"a\":1}\n{\"b\":2}\n", "a: 1\n---\nb: 2\n"},
		{"strings YAML would misread are quoted", ``, `{"a":"yes","b":"1.0","c":"null","d":""}`,
			"a: \"yes\"\nb: \"1.0\"\nc: \"null\"\nd: \"\"\n"},
		{"big integers keep their digits", ``, `{"a":12345678901234567890}`, "a: 12345678901234567890\n"},
		{"JSON escapes YAML lacks", ``, `{"a":"x\/y","b":"\ud83d\ude00 \u00e9"}`, "a: x/y\nb: 😀 é\n"},
		{"integers of any size exact, numbers as sent", ``, `{"a":100000000000000000001,"b":1.50,"c":-0,"d":1E+2}`, "a: 100000000000000000001\nb: 1.50\nc: -0\nd: 1E+2\n"},
		{"noncharacters JSON allows", ``, `{"a":"\ufffe","b":"x\uffffy"}`, "a: \"\\uFFFE\"\nb: \"x\\uFFFFy\"\n"},
		{"empty containers, nested sequences", ``, `{"a":{},"b":[],"c":[[1,2],[]],"d":[{"x":1,"y":[]},{}]}`,
			"a: {}\nb: []\nc:\n- - 1\n  - 2\n- []\nd:\n- x: 1\n  \"y\": []\n- {}\n"},
		{"multi-line strings as literal blocks", ``, `{"a":"l1\nl2\n","b":"l1\nl2","c":"l1\n\n","d":" x\ny","e":"trailing \nspace"}`,
			"a: |\n  l1\n  l2\nb: |-\n  l1\n  l2\nc: |+\n  l1\n\nd: |2-\n   x\n  y\ne: \"trailing \\nspace\"\n"},
		{"indicators single-quoted, types double-quoted", ``, `{"verbs":["*","get"],"a":"x: y","b":"- x","c":"2024-05-01T10:00:00Z","d":"0x1F","e":"10.0.0.1","f":"on","g":"it's #1","h":" x","i":"a #b"}`,
			"verbs:\n- '*'\n- get\na: 'x: y'\nb: '- x'\nc: \"2024-05-01T10:00:00Z\"\nd: \"0x1F\"\ne: 10.0.0.1\nf: \"on\"\ng: 'it''s #1'\nh: ' x'\ni: 'a #b'\n"},
		{"keys that need quotes", ``, `{"true":1,"a: b":2,"":3,"x\ny":4,"-":5}`,
			"\"true\": 1\n'a: b': 2\n\"\": 3\n\"x\\ny\": 4\n'-': 5\n"},
		{"a list, item by item", ``, `{"kind":"List","items":[{"a":1},{"b":[1]}]}`, "kind: List\nitems:\n- a: 1\n- b:\n  - 1\n"},
		{"a top-level string", ``, `"a\nb"`, "|-\n  a\n  b\n"},
		{"invalid UTF-8", ``, "{\"a\":\"\xff\"}", "a: \uFFFD\n"},
		{"jq results", `.items[]`, `{"items":[{"name":"a"},{"name":"b"}]}`, "name: a\n---\nname: b\n"},
		{"a jq scalar result", `.n`, `{"n":3}`, "3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Format: FormatYAML}
			if tt.expr != "" {
				q, err := CompileQuery(tt.expr, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				opts.Query = q
			}
			out, _, err := printWith(t, opts, tt.body, "application/json")
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.want {
				t.Errorf("got %q, want %q", out, tt.want)
			}
		})
	}
}

func TestPrinterYAMLSeparatesDocumentsAcrossBodies(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(&out, io.Discard, Options{Format: FormatYAML})
	for _, body := range []string{`{"a":1}`, `{"b":2}`} {
		if err := p.Print(context.Background(), strings.NewReader(body), "application/json"); err != nil {
			t.Fatal(err)
		}
	}
	if want := "a: 1\n---\nb: 2\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

const binaryNotice = "kcurl: binary body (application/octet-stream) not written to the terminal; redirect it to a file or pipe it\n"

func TestPrinterNotJSON(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		terminal                bool
		wantOut, wantNotice     string
	}{
		{"text streamed untouched", "text/plain", "line 1\n{not json\n", false, "line 1\n{not json\n", ""},
		{"text to a terminal", "text/plain; charset=utf-8", "héllo\n", true, "héllo\n", ""},
		{"no Content-Type is not JSON", "", `{"a" : 1}`, false, `{"a" : 1}`, ""},
		{"binary piped", "application/octet-stream", "\x00\x01\xff", false, "\x00\x01\xff", ""},
		{"binary withheld from a terminal", "application/octet-stream", "\x1f\x8b\x08\x00\x00", true, "", binaryNotice},
		{"invalid UTF-8 withheld from a terminal", "application/octet-stream", "hello\xff", true, "", binaryNotice},
		{"binary without a Content-Type", "", "\x00", true, "",
			"kcurl: binary body (no Content-Type) not written to the terminal; redirect it to a file or pipe it\n"},
		{"empty body to a terminal", "text/plain", "", true, "", ""},
		{"raw format passes binary to a terminal", "application/json", "\x00", true, "\x00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Indent: 2, Terminal: tt.terminal}
			if strings.HasPrefix(tt.name, "raw") {
				opts.Format = FormatRaw
			}
			out, notices, err := printWith(t, opts, tt.body, tt.contentType)
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.wantOut || notices != tt.wantNotice {
				t.Errorf("got %q and notice %q, want %q and %q", out, notices, tt.wantOut, tt.wantNotice)
			}
		})
	}
}

func TestPrinterTextCutInsideACharacterIsNotBinary(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(&out, io.Discard, Options{Terminal: true})
	// the first read ends halfway through é
	body := io.MultiReader(strings.NewReader("caf\xc3"), strings.NewReader("\xa9\n"))
	if err := p.Print(context.Background(), body, "text/plain"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "café\n" {
		t.Errorf("got %q", out.String())
	}
}

// writerOnly hides bytes.Buffer's ReadFrom, which would let a copy bypass
// the Printer's buffer.
type writerOnly struct{ io.Writer }

// pacedReader hands out one chunk per Read; before each chunk after the
// first, it checks that the previous one has reached out (unchanged: these
// bodies are printed as they are).
type pacedReader struct {
	t      *testing.T
	chunks []string
	out    *bytes.Buffer
	sent   string
}

func (r *pacedReader) Read(p []byte) (int, error) {
	if !strings.HasSuffix(r.out.String(), r.sent) {
		r.t.Errorf("%q was read but has not been written when the next read starts (out: %q)", r.sent, r.out.String())
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.sent, r.chunks = r.chunks[0], r.chunks[1:]
	return n, nil
}

func TestPrinterStreamsAsTheBodyArrives(t *testing.T) {
	tests := []struct {
		name        string
		opts        Options
		contentType string
		chunks      []string
	}{
		{"a followed log", Options{}, "text/plain", []string{"line 1\n", "line 2\n"}},
		{"a followed log to a terminal", Options{Terminal: true}, "text/plain", []string{"line 1\n", "line 2\n"}},
		{"raw format", Options{Format: FormatRaw}, "application/json", []string{`{"type":"ADDED"}`, `{"type":"DELETED"}`}},
		{"a watch, flushed per event", Options{FlushEachValue: true}, "application/json;stream=watch",
			[]string{"{\"type\":\"ADDED\"}\n", "{\"type\":\"DELETED\"}\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := NewPrinter(writerOnly{&out}, io.Discard, tt.opts)
			body := &pacedReader{t: t, chunks: tt.chunks, out: &out}
			if err := p.Print(context.Background(), body, tt.contentType); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPrinterWatchQueryFlushesPerEvent(t *testing.T) {
	q, err := CompileQuery(`.type`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := NewPrinter(writerOnly{&out}, io.Discard, Options{Query: q, FlushEachValue: true})
	events := []string{"{\"type\":\"ADDED\"}\n", "{\"type\":\"DELETED\"}\n"}
	// the decoder reads the next event only when it needs it
	body := &queryPacedReader{t: t, chunks: events, out: &out, want: []string{"", "\"ADDED\"\n", "\"ADDED\"\n\"DELETED\"\n"}}
	if err := p.Print(context.Background(), body, "application/json;stream=watch"); err != nil {
		t.Fatal(err)
	}
}

// queryPacedReader checks, before each read, that out holds want[i].
type queryPacedReader struct {
	t      *testing.T
	chunks []string
	out    *bytes.Buffer
	want   []string
	reads  int
}

func (r *queryPacedReader) Read(p []byte) (int, error) {
	if r.reads < len(r.want) && r.out.String() != r.want[r.reads] {
		r.t.Errorf("before read %d: out is %q, want %q", r.reads, r.out.String(), r.want[r.reads])
	}
	r.reads++
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks = r.chunks[1:]
	return n, nil
}

func TestIsJSON(t *testing.T) {
	tests := []struct {
		contentType string
		want        bool
	}{
		{"application/json", true},
		{"application/json;as=Table;g=meta.k8s.io;v=v1", true},
		{"application/json;stream=watch", true},
		{"application/merge-patch+json", true},
		{"application/apply-patch+yaml", false},
		{"Application/JSON; charset=utf-8", true},
		{"application/json; charset", true}, // a bad parameter does not change the type
		{"application/vnd.kubernetes.protobuf", false},
		{"text/plain", false},
		{"", false},
		{"json", false},
	}
	for _, tt := range tests {
		if got := IsJSON(tt.contentType); got != tt.want {
			t.Errorf("IsJSON(%q) = %v, want %v", tt.contentType, got, tt.want)
		}
	}
}

// A script that filters with -q must not get unfiltered text and exit 0.
func TestQueryRefusesABodyThatIsNotJSON(t *testing.T) {
	q, err := CompileQuery(".x", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := printWith(t, Options{Query: q}, "plain log line\n", "text/plain")
	if err == nil || out != "" || err.Error() != "the answer is text/plain, not JSON, so -q cannot filter it (without -q it is printed as it is)" {
		t.Errorf("got %q, %v", out, err)
	}
}

// TestOneNestingLimitForEveryMode: 500 levels print in every mode, 1,001
// are an error that says why, and 200 KB of "[" never become more than a
// few MB of output (indenting each level would make it 20 GB).
func TestOneNestingLimitForEveryMode(t *testing.T) {
	identity, err := CompileQuery(`.`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	perItem, err := CompileQuery(`.items[]`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]Options{
		"pretty": {Indent: 2}, "compact": {}, "yaml": {Format: FormatYAML}, "name": {Format: FormatName},
		"jq": {Query: identity, Indent: 2}, "jq by item": {Query: perItem}, "jq yaml": {Query: identity, Format: FormatYAML},
	}
	nested := func(n int) string { return `{"items":[` + strings.Repeat("[", n-2) + strings.Repeat("]", n-2) + `]}` }
	for name, opts := range modes {
		if _, _, err := printWith(t, opts, nested(500), "application/json"); err != nil {
			t.Errorf("%s, 500 levels: %v", name, err)
		}
		_, _, err := printWith(t, opts, nested(MaxDepth+1), "application/json")
		if err == nil || !strings.Contains(err.Error(), "nested more than 1000 levels deep") {
			t.Errorf("%s, %d levels: %v", name, MaxDepth+1, err)
		}
		var out countingWriter
		p := NewPrinter(&out, io.Discard, opts)
		if err := p.Print(context.Background(), strings.NewReader(strings.Repeat("[", 200<<10)), "application/json"); err == nil {
			t.Errorf("%s: 200 KB of [: no error", name)
		}
		if out.n > 4<<20 {
			t.Errorf("%s: 200 KB of [ became %d bytes", name, out.n)
		}
	}
	tp := NewTablePrinter(io.Discard, io.Discard, TableOptions{})
	deepRows := `{"kind":"Table","columnDefinitions":[{"name":"Name","priority":0}],"rows":[{"cells":[` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `]}]}`
	if err := tp.Print(strings.NewReader(deepRows)); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("table, deeper than the limit: %v", err)
	}
}

type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}
