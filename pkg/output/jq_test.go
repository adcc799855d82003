package output

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
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
