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
)

func TestCompileQueryParseErrorPointsAtTheColumn(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"unexpected token", `.items[]]`,
			"invalid jq expression: unexpected token \"]\"\n" +
				"    .items[]]\n" +
				"            ^"},
		{"unexpected end", `.a | `,
			"invalid jq expression: unexpected EOF\n" +
				"    .a | \n" +
				"         ^"},
		{"unterminated string", `.a + "x`,
			"invalid jq expression: unterminated string literal\n" +
				"    .a + \"x\n" +
				"           ^"},
		{"invalid escape", `"\q"`,
			"invalid jq expression: invalid escape sequence \"\\q\" in string literal\n" +
				"    \"\\q\"\n" +
				"     ^"},
		{"second line", ".foo |\n  .bar]",
			"invalid jq expression: unexpected token \"]\" (line 2)\n" +
				"      .bar]\n" +
				"          ^"},
		{"third line of three", ".a |\n.b |\n.c)\n",
			"invalid jq expression: unexpected token \")\" (line 3)\n" +
				"    .c)\n" +
				"      ^"},
		{"characters before the error count once however many bytes", `"é" | .é ]`,
			"invalid jq expression: unexpected token \"é\"\n" +
				"    \"é\" | .é ]\n" +
				"           ^"},
		{"tabs stay tabs under the expression", ".a |\n\t.b]",
			"invalid jq expression: unexpected token \"]\" (line 2)\n" +
				"    \t.b]\n" +
				"    \t  ^"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileQuery(tt.expr, nil, nil)
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("got %v, want a QueryError", err)
			}
			if qe.Error() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", qe.Error(), tt.want)
			}
		})
	}
}

func TestCompileQueryCompileErrors(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{`$nope`, "invalid jq expression: variable not defined: $nope"},
		{`nope(1)`, "invalid jq expression: function not defined: nope/1"},
	}
	for _, tt := range tests {
		_, err := CompileQuery(tt.expr, nil, nil)
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Error() != tt.want {
			t.Errorf("%s: got %v, want %q", tt.expr, err, tt.want)
		}
	}
}

func TestParseJSONArg(t *testing.T) {
	tests := []struct {
		text string
		want any
	}{
		{`1`, json.Number("1")},
		{` {"a": 12345678901234567890} `, map[string]any{"a": json.Number("12345678901234567890")}},
		{`"s"`, "s"},
		{`null`, nil},
	}
	for _, tt := range tests {
		v, err := ParseJSONArg("x", tt.text)
		if err != nil || v.Name != "x" || !reflect.DeepEqual(v.Value, tt.want) {
			t.Errorf("%q: got %#v, %v, want %#v", tt.text, v, err, tt.want)
		}
	}
}

func TestParseJSONArgRejects(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{``, `--argjson x: invalid JSON text "": no JSON value`},
		{` `, `--argjson x: invalid JSON text " ": no JSON value`},
		{`1 2`, `--argjson x: invalid JSON text "1 2": more than one JSON value`},
		{`{"a":`, `--argjson x: invalid JSON text "{\"a\":": invalid JSON at byte 5: unexpected end of input`},
		{`{a:1}`, `--argjson x: invalid JSON text "{a:1}": invalid JSON at byte 1: unexpected 'a', expecting a string key`},
	}
	for _, tt := range tests {
		_, err := ParseJSONArg("x", tt.text)
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Error() != tt.want {
			t.Errorf("%q: got %v, want %q", tt.text, err, tt.want)
		}
	}
}

func TestRuntimeError(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"error with a string says it once", `error("boom")`, "jq: error: boom"},
		{"error with a value", `error({a: 1})`, `jq: error: {"a":1}`},
		{"error with null", `error(null)`, "jq: error: null"},
		{"a type error", `{} + 1`, "jq: error: cannot add: object ({}) and number (1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := printQuery(t, Options{}, tt.expr, `{}`)
			var re *RuntimeError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, want a RuntimeError", err)
			}
			if re.Error() != tt.want {
				t.Errorf("got %q, want %q", re.Error(), tt.want)
			}
			if errors.Unwrap(re) == nil {
				t.Error("the gojq error is not unwrapped")
			}
		})
	}
}

func TestHaltError(t *testing.T) {
	tests := []struct {
		name, expr string
		want       HaltError
	}{
		{"string message as is, exit 5", `"bye\n" | halt_error`, HaltError{Code: 5, Message: "bye\n"}},
		{"chosen code", `"x" | halt_error(3)`, HaltError{Code: 3, Message: "x"}},
		{"non-string as JSON with a newline", `{a: 1} | halt_error(2)`, HaltError{Code: 2, Message: "{\"a\":1}\n"}},
		{"halt exits 0 silently", `halt`, HaltError{Code: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := printQuery(t, Options{}, tt.expr, `null`)
			var he *HaltError
			if !errors.As(err, &he) {
				t.Fatalf("got %v, want a HaltError", err)
			}
			if *he != tt.want || he.Error() != tt.want.Message {
				t.Errorf("got %+v (%q), want %+v", *he, he.Error(), tt.want)
			}
		})
	}
}

func TestQueryEnvironment(t *testing.T) {
	environ := func() []string { return []string{"KCURL_NS=team-a", "HOME=/root"} }
	q, err := CompileQuery(`$ENV.KCURL_NS, env.HOME`, nil, environ)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := printWith(t, Options{Query: q, Indent: 2}, `null`, "application/json")
	if err != nil {
		t.Fatal(err)
	}
	if want := "\"team-a\"\n\"/root\"\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestErrorsSayWhatTheyAre(t *testing.T) {
	if got := (&SyntaxError{Offset: 7, Msg: "unexpected '}'"}).Error(); got != "invalid JSON at byte 7: unexpected '}'" {
		t.Errorf("SyntaxError: %q", got)
	}
	if !strings.Contains(ErrFalsy.Error(), "false or null") {
		t.Errorf("ErrFalsy: %q", ErrFalsy.Error())
	}
}

func TestPerItemQueryIsDecidedFromTheParsedProgram(t *testing.T) {
	perItem := []string{`.items[]`, `.items[].metadata.name`, `.items[] | select(.a) | .b`, `.items[]|.a as $x|.b`,
		`.items [] .metadata`, ".items[]\n| .a", `.items[] | .a, .b`}
	whole := []string{`.items`, `.items[0]`, `.items[]?`, `.items[].a?`, `.items[] as $i | $i`, `.items[], .a`,
		`.items[] // 1`, `def f: .; .items[]`, `.["items"][]`, `.items[][]`, `.items[].a[]`, `.items[].a[0]`,
		`[.items[]]`, `.items[] + 1`, `.item[]`, `.x.items[]`, `first(.items[])`, `"\(.items[])"`, `(.items[])`}
	for _, expr := range perItem {
		if q, err := CompileQuery(expr, nil, nil); err != nil || !q.PerItem() {
			t.Errorf("%s: not per item (%v)", expr, err)
		}
	}
	for _, expr := range whole {
		if q, err := CompileQuery(expr, nil, nil); err != nil || q.PerItem() {
			t.Errorf("%s: per item (%v)", expr, err)
		}
	}
}

// TestPerItemGivesWhatTheWholeProgramGives runs each per-item program both
// ways on answers that are lists and answers that are not.
func TestPerItemGivesWhatTheWholeProgramGives(t *testing.T) {
	exprs := []string{`.items[]`, `.items[].metadata.name`, `.items[] | select(.metadata.name == $n) | .data`,
		`.items[] | .x | error`, `.items[].a | halt_error`, `.items[] | .metadata.name, .kind`, `.items[] | $ENV.HOME`,
		`.items[].metadata | keys`, `.items[] | tostring`, `.items[] | length`}
	bodies := []string{
		`{"kind":"List","items":[{"metadata":{"name":"a"},"data":{"x":1.50}},{"metadata":{"name":"b"},"kind":"Pod"},{"metadata":{"name":12345678901234567890}}]}`,
		`{"items":[]}`, `{"items":[1,"s",null]}`, `{"items":null}`, `{"items":{"a":{"metadata":{"name":"x"}}}}`, `{}`, `[1,2]`, `"s"`, `null`,
		`{"metadata":{},"items":[{"a":"x"}]}`,
		"{\"items\":[{\"metadata\":{\"name\":\"a\"}}]}\n{\"items\":[{\"metadata\":{\"name\":\"b\"}}]}",
		`{"items":[{"metadata":{"name":"a"}},`, // cut short
	}
	vars := []Var{{Name: "n", Value: "a"}}
	for _, expr := range exprs {
		for _, body := range bodies {
			for _, opts := range []Options{{Indent: 2}, {Indent: 0, RawStrings: true, ExitStatus: true}, {Format: FormatYAML}} {
				q, err := CompileQuery(expr, vars, func() []string { return []string{"HOME=/h"} })
				if err != nil {
					t.Fatal(err)
				}
				if !q.PerItem() {
					t.Fatalf("%s: not per item", expr)
				}
				streamed, streamedErr := runPrinter(opts, q, body)
				q.perItem = nil
				whole, wholeErr := runPrinter(opts, q, body)
				var runtime *RuntimeError
				var halt *HaltError
				if strings.HasSuffix(body, ",") && (errors.As(streamedErr, &runtime) || errors.As(streamedErr, &halt)) {
					// Streamed, an item's error comes before the end of
					// the body is known to be missing; both fail.
					continue
				}
				if fmt.Sprint(streamedErr) != fmt.Sprint(wholeErr) {
					t.Errorf("%s on %s: error %v, whole %v", expr, body, streamedErr, wholeErr)
				}
				if streamedErr == nil && streamed != whole {
					t.Errorf("%s on %s: %q, whole %q", expr, body, streamed, whole)
				}
			}
		}
	}
}

func runPrinter(opts Options, q *Query, body string) (string, error) {
	var out bytes.Buffer
	opts.Query = q
	p := NewPrinter(&out, io.Discard, opts)
	err := p.Print(context.Background(), strings.NewReader(body), "application/json")
	if err == nil {
		err = p.Done()
	}
	return out.String(), err
}

// TestPerItemStreams: the first item's result is printed before the rest of
// the list has arrived.
func TestPerItemStreams(t *testing.T) {
	q, err := CompileQuery(`.items[].metadata.name`, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := NewPrinter(&out, io.Discard, Options{Query: q, RawStrings: true, FlushEachValue: true})
	broken := errors.New("the rest never came")
	body := io.MultiReader(strings.NewReader(`{"kind":"List","items":[{"metadata":{"name":"first"}},`), iotest.ErrReader(broken))
	if err := p.Print(context.Background(), body, "application/json"); !errors.Is(err, broken) {
		t.Fatalf("error %v", err)
	}
	if out.String() != "first\n" {
		t.Errorf("printed %q before the body broke", out.String())
	}
}
