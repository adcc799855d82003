// Package output turns API answers into what a user reads: JSON re-indented
// and coloured as it streams in, YAML, jq results through gojq, and bodies
// that are not JSON passed through untouched.
package output

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/fatih/color"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// palette holds the escape sequences of the colours jq users know (gojq's).
type palette struct {
	key, str, num, boolean, null, reset []byte
}

// newPalette renders fatih/color attributes once into escape sequences, so
// that the formatter's hot loop only appends bytes.
func newPalette() *palette {
	seq := func(attrs ...color.Attribute) []byte {
		var b bytes.Buffer
		c := color.New(attrs...)
		c.EnableColor() // the decision was made by the caller, not by os.Stdout
		c.SetWriter(&b)
		return b.Bytes()
	}
	return &palette{
		key:     seq(color.FgBlue, color.Bold),
		str:     seq(color.FgGreen),
		num:     seq(color.FgCyan),
		boolean: seq(color.FgYellow),
		null:    seq(color.FgHiBlack),
		reset:   seq(color.Reset),
	}
}

// What the formatter is in the middle of.
const (
	inBetween = iota // between tokens
	inString
	inEscape  // after a backslash in a string
	inUnicode // among the four hex digits of a \u escape
	inWord    // true, false or null
	inNumber
)

// What the grammar allows next, between tokens.
const (
	wantValue      = iota // at the top level, after ':', after ',' in an array
	wantValueOrEnd        // after '['
	wantKeyOrEnd          // after '{'
	wantKey               // after ',' in an object
	wantColon             // after a key
	wantCommaOrEnd        // after a value in a container
)

// Formatter re-indents a stream of JSON values as they are written to it. It
// never decodes: strings and number literals are copied byte for byte, keys
// keep the server's order, and nothing waits for the end of the body. It
// checks the grammar as it goes, so what it prints is JSON.
type Formatter struct {
	w      io.Writer
	indent int // spaces per level; 0 prints compact
	pal    *palette

	// OnValue, if set, runs after each complete top-level value has been
	// written to w: a watch flushes each event with it.
	OnValue func() error

	out         []byte
	stack       []byte // '{' or '[' for each open container
	lex         int    // inBetween, inString, …
	want        int    // wantValue, wantKey, …
	isKey       bool   // the string being copied is an object key
	pendingOpen bool   // an opening bracket waits to learn whether it is empty
	word        string // the literal being matched, in inWord
	wordAt      int    // how much of word has been seen
	hexLeft     int    // hex digits still to come, in inUnicode
	num         numState
	offset      int64 // bytes written before the current Write
	err         error
}

// NewFormatter writes to w with indent spaces per level (0: compact), in
// colour if colour is true.
func NewFormatter(w io.Writer, indent int, colour bool) *Formatter {
	f := &Formatter{w: w, indent: indent, out: make([]byte, 0, 64<<10)}
	if colour {
		f.pal = newPalette()
	}
	return f
}

// SyntaxError is a body that claimed to be JSON and was not.
type SyntaxError struct {
	Offset int64 // of the offending byte, or the length of a body cut short
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// ExitCode: the answer is not what it claimed to be.
func (e *SyntaxError) ExitCode() int { return exitcode.Failed }

const flushAt = 32 << 10

// stringPlain marks the bytes a string copies without a second look: all but
// '"', '\\' and control characters.
var stringPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainPrefix is how many bytes at the start of b are stringPlain. It looks
// at eight bytes at a time, as most of a Kubernetes object is strings.
func plainPrefix(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if !plain8(binary.LittleEndian.Uint64(b[i:])) {
			break
		}
	}
	for i < len(b) && stringPlain[b[i]] {
		i++
	}
	return i
}

// plain8 reports whether none of the eight bytes in x is '"', '\\' or a
// control character (the has-less-than and has-zero-byte bit tricks).
func plain8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	control := (x - ones*0x20) &^ x
	q := x ^ (ones * '"')
	quote := (q - ones) &^ q
	b := x ^ (ones * '\\')
	backslash := (b - ones) &^ b
	return (control|quote|backslash)&highs == 0
}

func (f *Formatter) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	i := 0
	for i < len(p) {
		var err error
		switch f.lex {
		case inBetween:
			err = f.between(p[i])
			i++
		case inString:
			j := i + plainPrefix(p[i:])
			f.out = append(f.out, p[i:j]...)
			if i = j; i == len(p) {
				break
			}
			switch c := p[i]; c {
			case '"':
				err = f.endString()
			case '\\':
				f.out = append(f.out, c)
				f.lex = inEscape
			default:
				err = f.unexpected(c, "in a string")
			}
			i++
		case inEscape:
			switch c := p[i]; c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				f.out = append(f.out, c)
				f.lex = inString
			case 'u':
				f.out = append(f.out, c)
				f.lex, f.hexLeft = inUnicode, 4
			default:
				err = f.unexpected(c, "in a string escape")
			}
			i++
		case inUnicode:
			if c := p[i]; isHex(c) {
				f.out = append(f.out, c)
				if f.hexLeft--; f.hexLeft == 0 {
					f.lex = inString
				}
			} else {
				err = f.unexpected(c, "in a \\u escape")
			}
			i++
		case inWord:
			if c := p[i]; c == f.word[f.wordAt] {
				f.out = append(f.out, c)
				if f.wordAt++; f.wordAt == len(f.word) {
					err = f.endLiteral()
				}
			} else {
				err = f.unexpected(c, "in literal "+f.word)
			}
			i++
		case inNumber:
			j := i
			s := f.num
			for j < len(p) {
				next := s.next(p[j])
				if next == numEnd || next == numInvalid {
					break
				}
				s = next
				j++
			}
			f.out = append(f.out, p[i:j]...)
			f.num = s
			if i = j; i == len(p) {
				break // the number may go on in the next write
			}
			if s.complete() {
				err = f.endLiteral() // p[i] is looked at again, between tokens
			} else {
				err = f.unexpected(p[i], "in a number")
				i++
			}
		}
		if err != nil {
			return i, f.fail(err, i)
		}
		if len(f.out) >= flushAt {
			if err := f.flush(); err != nil {
				return i, err
			}
		}
	}
	f.offset += int64(len(p))
	return len(p), nil
}

// fail records err; a SyntaxError learns its offset from i, one past the
// offending byte. What was formatted before it is written out.
func (f *Formatter) fail(err error, i int) error {
	if se, ok := err.(*SyntaxError); ok {
		se.Offset = f.offset + int64(i) - 1
		_ = f.flush()
	}
	f.err = err
	return err
}

func (f *Formatter) unexpected(c byte, where string) error {
	return &SyntaxError{Msg: fmt.Sprintf("unexpected %q %s", c, where)}
}

func (f *Formatter) between(c byte) error {
	switch c {
	case ' ', '\t', '\n', '\r':
		return nil
	case '{', '[':
		if !f.valueAllowed() {
			break
		}
		if len(f.stack) == MaxDepth {
			return &SyntaxError{Msg: errTooDeep}
		}
		f.beginValue()
		f.out = append(f.out, c)
		f.stack = append(f.stack, c)
		f.pendingOpen = true
		if c == '{' {
			f.want = wantKeyOrEnd
		} else {
			f.want = wantValueOrEnd
		}
		return nil
	case '}', ']':
		if f.want != wantCommaOrEnd && f.want != wantKeyOrEnd && f.want != wantValueOrEnd {
			break
		}
		if n := len(f.stack); f.stack[n-1] != c-2 { // '{'+2 == '}', '['+2 == ']'
			break
		}
		f.stack = f.stack[:len(f.stack)-1]
		if f.pendingOpen {
			f.pendingOpen = false
		} else {
			f.newline()
		}
		f.out = append(f.out, c)
		return f.endValue()
	case ',':
		if f.want != wantCommaOrEnd {
			break
		}
		f.out = append(f.out, ',')
		f.newline()
		if f.stack[len(f.stack)-1] == '{' {
			f.want = wantKey
		} else {
			f.want = wantValue
		}
		return nil
	case ':':
		if f.want != wantColon {
			break
		}
		f.out = append(f.out, ':')
		if f.indent > 0 {
			f.out = append(f.out, ' ')
		}
		f.want = wantValue
		return nil
	case '"':
		f.isKey = f.want == wantKey || f.want == wantKeyOrEnd
		if !f.isKey && !f.valueAllowed() {
			break
		}
		f.beginValue()
		if f.pal != nil {
			if f.isKey {
				f.out = append(f.out, f.pal.key...)
			} else {
				f.out = append(f.out, f.pal.str...)
			}
		}
		f.out = append(f.out, '"')
		f.lex = inString
		return nil
	case 't', 'f', 'n':
		if !f.valueAllowed() {
			break
		}
		f.beginValue()
		f.colour(c)
		f.out = append(f.out, c)
		f.word, f.wordAt = wordStarting(c), 1
		f.lex = inWord
		return nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if !f.valueAllowed() {
			break
		}
		f.beginValue()
		f.colour(c)
		f.out = append(f.out, c)
		f.num = numStart.next(c)
		f.lex = inNumber
		return nil
	}
	return &SyntaxError{Msg: fmt.Sprintf("unexpected %q, expecting %s", c, f.expecting())}
}

func (f *Formatter) valueAllowed() bool {
	return f.want == wantValue || f.want == wantValueOrEnd
}

func (f *Formatter) expecting() string {
	switch f.want {
	case wantValueOrEnd:
		return "a value or ']'"
	case wantKeyOrEnd:
		return "a string key or '}'"
	case wantKey:
		return "a string key"
	case wantColon:
		return "':'"
	case wantCommaOrEnd:
		if f.stack[len(f.stack)-1] == '{' {
			return "',' or '}'"
		}
		return "',' or ']'"
	}
	return "a value"
}

func wordStarting(c byte) string {
	switch c {
	case 't':
		return "true"
	case 'f':
		return "false"
	}
	return "null"
}

func (f *Formatter) colour(c byte) {
	if f.pal == nil {
		return
	}
	switch c {
	case 't', 'f':
		f.out = append(f.out, f.pal.boolean...)
	case 'n':
		f.out = append(f.out, f.pal.null...)
	default:
		f.out = append(f.out, f.pal.num...)
	}
}

func (f *Formatter) beginValue() {
	if f.pendingOpen {
		f.pendingOpen = false
		f.newline()
	}
}

func (f *Formatter) endString() error {
	f.out = append(f.out, '"')
	if f.pal != nil {
		f.out = append(f.out, f.pal.reset...)
	}
	f.lex = inBetween
	if f.isKey {
		f.want = wantColon
		return nil
	}
	return f.endValue()
}

func (f *Formatter) endLiteral() error {
	if f.pal != nil {
		f.out = append(f.out, f.pal.reset...)
	}
	f.lex = inBetween
	return f.endValue()
}

// endValue follows any value; a top-level one ends with a newline, as jq
// does.
func (f *Formatter) endValue() error {
	if len(f.stack) > 0 {
		f.want = wantCommaOrEnd
		return nil
	}
	f.want = wantValue
	f.out = append(f.out, '\n')
	if f.OnValue == nil {
		return nil
	}
	if err := f.flush(); err != nil {
		return err
	}
	return f.OnValue()
}

var spaces = bytes.Repeat([]byte{' '}, 256)

func (f *Formatter) newline() {
	if f.indent == 0 {
		return
	}
	f.out = append(f.out, '\n')
	for n := len(f.stack) * f.indent; n > 0; {
		k := min(n, len(spaces))
		f.out = append(f.out, spaces[:k]...)
		n -= k
	}
}

func (f *Formatter) flush() error {
	if len(f.out) == 0 {
		return nil
	}
	_, err := f.w.Write(f.out)
	f.out = f.out[:0]
	if err != nil {
		f.err = err
	}
	return err
}

// Close ends the stream: it finishes a top-level number, reports a value cut
// short, and writes what is left. The Formatter can take further values
// after a Close that returned nil.
func (f *Formatter) Close() error {
	if f.err != nil {
		return f.err
	}
	if f.lex == inNumber && f.num.complete() {
		if err := f.endLiteral(); err != nil {
			f.err = err
			return err
		}
	}
	if f.lex != inBetween || len(f.stack) > 0 {
		f.err = &SyntaxError{Offset: f.offset, Msg: "unexpected end of input"}
		_ = f.flush()
		return f.err
	}
	return f.flush()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// numState is where a number literal stands in JSON's number grammar.
type numState uint8

const (
	numStart   numState = iota // nothing yet
	numMinus                   // -
	numZero                    // a leading 0
	numInt                     // digits of the integer part
	numDot                     // .
	numFrac                    // digits of the fraction
	numE                       // e or E
	numExpSign                 // the exponent's sign
	numExp                     // digits of the exponent
	numEnd                     // the byte is not part of the number
	numInvalid                 // the byte cannot follow: the number is malformed
)

// next is the state after c; numEnd when c ends a complete number, and
// numInvalid when c cannot follow an incomplete one.
func (s numState) next(c byte) numState {
	digit := '0' <= c && c <= '9'
	switch s {
	case numStart:
		switch {
		case c == '-':
			return numMinus
		case c == '0':
			return numZero
		case digit:
			return numInt
		}
	case numMinus:
		switch {
		case c == '0':
			return numZero
		case digit:
			return numInt
		}
	case numZero, numInt:
		switch {
		case digit && s == numInt:
			return numInt
		case c == '.':
			return numDot
		case c == 'e' || c == 'E':
			return numE
		}
		return numEnd
	case numDot, numFrac:
		switch {
		case digit:
			return numFrac
		case s == numFrac && (c == 'e' || c == 'E'):
			return numE
		case s == numFrac:
			return numEnd
		}
	case numE:
		switch {
		case c == '+' || c == '-':
			return numExpSign
		case digit:
			return numExp
		}
	case numExpSign, numExp:
		switch {
		case digit:
			return numExp
		case s == numExp:
			return numEnd
		}
	}
	return numInvalid
}

// complete: the number could end here.
func (s numState) complete() bool {
	return s == numZero || s == numInt || s == numFrac || s == numExp
}
