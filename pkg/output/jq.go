package output

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/itchyny/gojq"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// Var is a jq variable from --arg (a string) or --argjson (any JSON).
type Var struct {
	Name  string // without the $
	Value any
}

// ParseJSONArg decodes --argjson's value: exactly one JSON value, numbers
// kept exact.
func ParseJSONArg(name, text string) (Var, error) {
	d := NewDecoder(strings.NewReader(text))
	v, err := d.Decode()
	if err == io.EOF {
		err = errors.New("no JSON value")
	}
	if err == nil {
		if _, next := d.Decode(); next != io.EOF {
			err = errors.New("more than one JSON value")
		}
	}
	if err != nil {
		return Var{}, &QueryError{Msg: fmt.Sprintf("--argjson %s: invalid JSON text %q: %v", name, text, err)}
	}
	return Var{Name: name, Value: v}, nil
}

// Query is a compiled jq program.
type Query struct {
	code   *gojq.Code
	values []any
	// perItem, for a program of the form `.items[] | F` (and
	// `.items[].a.b | F`), is F: run on each item of a list as it is
	// read, it gives what the program gives on the whole list.
	perItem *gojq.Code
}

// QueryError is a jq expression that does not parse or compile. Its message
// shows where, as gojq's own command line does.
type QueryError struct {
	Msg string
}

func (e *QueryError) Error() string { return e.Msg }
func (e *QueryError) ExitCode() int { return exitcode.Usage }

// CompileQuery compiles expr with the given variables; environ supplies
// $ENV and env.
func CompileQuery(expr string, vars []Var, environ func() []string) (*Query, error) {
	parsed, err := gojq.Parse(expr)
	if err != nil {
		return nil, &QueryError{Msg: describeParseError(expr, err)}
	}
	names := make([]string, len(vars))
	values := make([]any, len(vars))
	for i, v := range vars {
		names[i], values[i] = "$"+v.Name, v.Value
	}
	opts := []gojq.CompilerOption{gojq.WithVariables(names)}
	if environ != nil {
		opts = append(opts, gojq.WithEnvironLoader(environ))
	}
	code, err := gojq.Compile(parsed, opts...)
	if err != nil {
		return nil, &QueryError{Msg: "invalid jq expression: " + err.Error()}
	}
	q := &Query{code: code, values: values}
	if rest := perItemQuery(parsed); rest != nil {
		if q.perItem, err = gojq.Compile(rest, opts...); err != nil {
			q.perItem = nil // the whole program compiled: run it whole
		}
	}
	return q, nil
}

// perItemQuery is F when the program is `.items[] | F`, or `.items[]S | F`
// with S a chain of plain indexes (`.items[].metadata.name`): F then sees
// one item where the program would see each in turn, and nothing else of
// the answer. It is nil for every other program: a binding (`.items[] as
// $i | …` runs its body on the whole input), a `?` (`try` would end at the
// first error of any item), a comma or any other operator, definitions.
func perItemQuery(q *gojq.Query) *gojq.Query {
	if q.Meta != nil || len(q.Imports) > 0 || len(q.FuncDefs) > 0 || len(q.Patterns) > 0 {
		return nil
	}
	first, rest := q, (*gojq.Query)(nil)
	if q.Op == gojq.OpPipe {
		first, rest = q.Left, q.Right
	} else if q.Op != 0 {
		return nil
	}
	if first == nil || first.Op != 0 || first.Term == nil || first.Meta != nil || len(first.FuncDefs) > 0 || len(first.Patterns) > 0 {
		return nil
	}
	t := first.Term
	if t.Type != gojq.TermTypeIndex || !plainIndex(t.Index, "items") || len(t.SuffixList) == 0 {
		return nil
	}
	if iter := t.SuffixList[0]; !iter.Iter || iter.Index != nil || iter.Optional {
		return nil
	}
	for _, s := range t.SuffixList[1:] {
		if s.Optional || s.Iter || !plainIndex(s.Index, "") {
			return nil
		}
	}
	item := &gojq.Query{Term: &gojq.Term{Type: gojq.TermTypeIdentity, SuffixList: t.SuffixList[1:]}}
	if rest == nil {
		return item
	}
	return &gojq.Query{Op: gojq.OpPipe, Left: item, Right: rest}
}

// plainIndex: `.name` (and name is the one wanted, unless that is "").
func plainIndex(ix *gojq.Index, name string) bool {
	return ix != nil && ix.Name != "" && (name == "" || ix.Name == name) && ix.Str == nil && ix.Start == nil && ix.End == nil && !ix.IsSlice
}

// PerItem reports whether the program runs item by item on a list.
func (q *Query) PerItem() bool { return q.perItem != nil }

// describeParseError points at the error in the expression:
//
//	invalid jq expression: unexpected token "]"
//	    .items[]]
//	            ^
func describeParseError(expr string, err error) string {
	var pe *gojq.ParseError
	if !errors.As(err, &pe) {
		return "invalid jq expression: " + err.Error()
	}
	offset := max(pe.Offset-len(pe.Token), 0)
	offset = min(offset, len(expr))
	lineStart := strings.LastIndexByte(expr[:offset], '\n') + 1
	lineEnd := len(expr)
	if i := strings.IndexByte(expr[offset:], '\n'); i >= 0 {
		lineEnd = offset + i
	}
	line := expr[lineStart:lineEnd]
	lineNo := strings.Count(expr[:lineStart], "\n") + 1
	var b bytes.Buffer
	fmt.Fprintf(&b, "invalid jq expression: %v", err)
	if lineNo > 1 {
		fmt.Fprintf(&b, " (line %d)", lineNo)
	}
	fmt.Fprintf(&b, "\n    %s\n    %s^", line, caretIndent(expr[lineStart:offset]))
	return b.String()
}

// caretIndent is a space for each character before the error, but a tab for
// a tab, so that the caret lines up however wide the terminal's tabs are.
func caretIndent(before string) string {
	var b strings.Builder
	for _, r := range before {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// Run runs the query on one input value.
func (q *Query) Run(ctx context.Context, input any) gojq.Iter {
	return q.code.RunWithContext(ctx, input, q.values...)
}

// runItem runs the per-item part of the query on one item of a list.
func (q *Query) runItem(ctx context.Context, item any) gojq.Iter {
	return q.perItem.RunWithContext(ctx, item, q.values...)
}

// RuntimeError is an error the jq program raised while running (`error`,
// a type mismatch), as jq prints it.
type RuntimeError struct {
	Err error
}

func (e *RuntimeError) Error() string {
	// error(v) is gojq's ValueError, whose own message begins "error: "
	var ve gojq.ValueError
	if errors.As(e.Err, &ve) {
		if s, ok := ve.Value().(string); ok {
			return "jq: error: " + s
		}
		b, _ := gojq.Marshal(ve.Value())
		return "jq: error: " + string(b)
	}
	return "jq: error: " + e.Err.Error()
}
func (e *RuntimeError) Unwrap() error { return e.Err }
func (e *RuntimeError) ExitCode() int { return exitcode.Failed }

// OutOfTimeError is a jq filter still running when its time ran out (-m,
// kcurl wait's --timeout): exit 1, as a filter that failed, not 6: the
// network did nothing wrong. Limit names the flag, once the caller knows it.
type OutOfTimeError struct{ Limit string }

func (e *OutOfTimeError) Error() string {
	return "jq ran past " + cmp.Or(e.Limit, "its time limit") + ": the filter did not finish"
}
func (e *OutOfTimeError) ExitCode() int { return exitcode.Failed }

// HaltError is `halt` or `halt_error`: the program chose the exit code.
type HaltError struct {
	Code    int
	Message string // what halt_error prints on stderr, "" for none
}

func (e *HaltError) Error() string { return e.Message }
func (e *HaltError) ExitCode() int { return e.Code }

func haltError(err *gojq.HaltError) *HaltError {
	h := &HaltError{Code: err.ExitCode()}
	switch v := err.Value().(type) {
	case nil:
	case string:
		h.Message = v
	default:
		b, _ := gojq.Marshal(v)
		h.Message = string(b) + "\n"
	}
	return h
}
