package output

import (
	"bufio"
	"fmt"
	"unicode/utf8"
)

// yamlEncoder writes JSON values as YAML as they are read, token by token:
// nothing but the string being written is held, so a list of any length is
// printed in the memory of its longest string. Keys keep the server's order
// and numbers their literal text, so integers of any size stay exact. The
// layout is kubectl's (go-yaml's): two spaces per level, a sequence in a
// mapping at the key's own indentation, multi-line strings as literal
// blocks, and strings that YAML would read as something else quoted.
type yamlEncoder struct {
	d      *Decoder
	w      *bufio.Writer
	keyBuf []byte
}

// Where a value is written: alone at the top, after "key:", after "- ".
const (
	atTop = iota
	afterKey
	afterDash
)

// document writes the next top-level value of the stream as one YAML
// document (without the "---" between documents).
func (y *yamlEncoder) document() error {
	return y.value(0, atTop)
}

// value writes the next value; col is the column of the key or dash before
// it.
func (y *yamlEncoder) value(col, at int) error {
	c, err := y.d.peekValue()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		return y.object(col, at)
	case '[':
		return y.array(col, at)
	case '"':
		s, err := y.d.str()
		if err != nil {
			return err
		}
		y.scalarStart(at)
		y.writeString(s, col+2, at)
		return nil
	case 't', 'f', 'n':
		word := wordStarting(c)
		if err := y.d.literal(word); err != nil {
			return err
		}
		y.scalarStart(at)
		y.w.WriteString(word)
		return y.w.WriteByte('\n')
	}
	if c != '-' && !isDigit(c) {
		return y.d.syntaxError(fmt.Sprintf("unexpected %q, expecting a value", c))
	}
	text, err := y.d.numberText()
	if err != nil {
		return err
	}
	y.scalarStart(at)
	y.w.Write(text)
	return y.w.WriteByte('\n')
}

func (y *yamlEncoder) scalarStart(at int) {
	if at == afterKey {
		y.w.WriteByte(' ')
	}
}

func (y *yamlEncoder) object(col, at int) error {
	if err := y.d.enter(); err != nil {
		return err
	}
	entryCol := 0
	if at != atTop {
		entryCol = col + 2
	}
	for first := true; ; first = false {
		key, ok, err := y.d.member(first, true)
		if err != nil {
			return err
		}
		if !ok {
			if first {
				y.scalarStart(at)
				y.w.WriteString("{}\n")
			}
			return nil
		}
		switch {
		case first && at == afterKey:
			y.w.WriteByte('\n')
			y.indent(entryCol)
		case !first || at == atTop:
			y.indent(entryCol)
		}
		y.writeKey(key, entryCol)
		if err := y.value(entryCol, afterKey); err != nil {
			return err
		}
	}
}

func (y *yamlEncoder) array(col, at int) error {
	if err := y.d.enter(); err != nil {
		return err
	}
	// A sequence in a mapping stands at its key's column, as kubectl
	// prints it; in a sequence, one level in.
	dashCol := 0
	switch at {
	case afterKey:
		dashCol = col
	case afterDash:
		dashCol = col + 2
	}
	for first := true; ; first = false {
		ok, err := y.d.element(first)
		if err != nil {
			return err
		}
		if !ok {
			if first {
				y.scalarStart(at)
				y.w.WriteString("[]\n")
			}
			return nil
		}
		switch {
		case first && at == afterKey:
			y.w.WriteByte('\n')
			y.indent(dashCol)
		case !first || at == atTop:
			y.indent(dashCol)
		}
		y.w.WriteString("- ")
		if err := y.value(dashCol, afterDash); err != nil {
			return err
		}
	}
}

func (y *yamlEncoder) indent(n int) {
	for n > 0 {
		k := min(n, len(spaces))
		y.w.Write(spaces[:k])
		n -= k
	}
}

// maxImplicitKey is the longest key written as "key:"; YAML limits such
// keys to 1024 characters, so longer ones are written "? key" / ":".
const maxImplicitKey = 1000

func (y *yamlEncoder) writeKey(key string, col int) {
	y.keyBuf = append(y.keyBuf[:0], key...)
	s := y.keyBuf
	if len(s) > maxImplicitKey {
		y.w.WriteString("? ")
		y.writeFlowString(s)
		y.w.WriteByte('\n')
		y.indent(col)
		y.w.WriteByte(':')
		return
	}
	y.writeFlowString(s)
	y.w.WriteByte(':')
}

// writeFlowString writes a string on one line: plain, single-quoted or
// double-quoted.
func (y *yamlEncoder) writeFlowString(s []byte) {
	switch scalarStyleOf(s, false) {
	case stylePlain:
		y.w.Write(s)
	case styleSingle:
		writeSingleQuoted(y.w, s)
	default:
		writeDoubleQuoted(y.w, s)
	}
}

// writeString writes a string value and its newline; a literal block's
// lines stand at contentCol.
func (y *yamlEncoder) writeString(s []byte, contentCol, at int) {
	style := scalarStyleOf(s, true)
	if style == styleLiteral && at == atTop && needsIndentIndicator(s) {
		style = styleDouble // parsers disagree on an indicator at the top
	}
	switch style {
	case stylePlain:
		y.w.Write(s)
	case styleSingle:
		writeSingleQuoted(y.w, s)
	case styleDouble:
		writeDoubleQuoted(y.w, s)
	case styleLiteral:
		y.writeLiteral(s, contentCol)
		return
	}
	y.w.WriteByte('\n')
}

// writeLiteral writes a multi-line string as a literal block: "|", "|-"
// or "|+" as the string ends with one line break, none or more; an
// indentation indicator when its first line starts with a space or is
// empty.
func (y *yamlEncoder) writeLiteral(s []byte, contentCol int) {
	y.w.WriteByte('|')
	if needsIndentIndicator(s) {
		y.w.WriteByte('2')
	}
	n := len(s)
	switch {
	case s[n-1] != '\n':
		y.w.WriteByte('-')
	case n == 1 || s[n-2] == '\n':
		y.w.WriteByte('+')
	}
	y.w.WriteByte('\n')
	if s[n-1] == '\n' {
		s = s[:n-1] // the last line's break ends it, as every line's does
	}
	for len(s) > 0 || n > 0 {
		n = 0
		line := s
		if i := indexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
			n = 1 // a line follows, maybe empty
		} else {
			s = nil
		}
		if len(line) > 0 {
			y.indent(contentCol)
			y.w.Write(line)
		}
		y.w.WriteByte('\n')
	}
}

func indexByte(s []byte, c byte) int {
	for i, b := range s {
		if b == c {
			return i
		}
	}
	return -1
}

func needsIndentIndicator(s []byte) bool {
	return len(s) > 0 && (s[0] == ' ' || s[0] == '\n')
}

// How a string is written.
const (
	stylePlain = iota
	styleSingle
	styleDouble
	styleLiteral
)

// scalarStyleOf chooses as go-yaml does: plain when YAML reads it back as
// this string, double-quoted when plain text would read as another type
// (true, 1.5, null, a timestamp) or it holds characters that only an
// escape can write, a literal block for several lines, and single-quoted
// otherwise (a leading '*', ': ' inside).
func scalarStyleOf(s []byte, blockAllowed bool) int {
	if len(s) == 0 {
		return styleDouble
	}
	plain, single, literal := true, true, blockAllowed
	multiline := false
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		plain = false
	}
	switch s[0] {
	case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '?', ':':
		plain = false
	case '-':
		if len(s) == 1 || s[1] == ' ' {
			plain = false
		}
		if len(s) >= 3 && s[1] == '-' && s[2] == '-' {
			plain = false // "---": a document marker
		}
	case '.':
		if len(s) >= 3 && s[1] == '.' && s[2] == '.' {
			plain = false
		}
	}
	for i := 0; i < len(s); {
		for i < len(s) && !yamlNotable[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\n':
				multiline = true
				plain, single = false, false
				if i > 0 && s[i-1] == ' ' {
					literal = false // trailing spaces would be invisible
				}
			case c == '\t':
				plain, single = false, false
			case c < ' ' || c == 0x7f:
				return styleDouble
			case c == ':' && (i+1 == len(s) || s[i+1] == ' '):
				plain = false
			case c == '#' && i > 0 && s[i-1] == ' ':
				plain = false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if !yamlPrintable(r) {
			return styleDouble
		}
		i += size
	}
	switch {
	case multiline && literal:
		return styleLiteral
	case multiline || !single && !plain:
		return styleDouble
	case plain && !readsAsOtherType(s):
		return stylePlain
	case plain:
		return styleDouble // "true", "1.5": go-yaml quotes these with "
	}
	return styleSingle
}

// yamlNotable marks the bytes scalarStyleOf looks at: the rest are
// printable ASCII that no YAML rule cares about in the middle of a string.
var yamlNotable = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < ' ' || c >= 0x7f || c == ':' || c == '#'
	}
	return t
}()

// yamlPrintable: what YAML lets a document hold as it is, less the line
// breaks of YAML 1.1 (NEL, LS, PS) and the byte order mark, which only
// double quotes can carry. U+FFFE and U+FFFF, valid in JSON, are escaped.
func yamlPrintable(r rune) bool {
	switch {
	case r < 0xA0, r == 0x2028, r == 0x2029, r == 0xFEFF:
		return false // C1 controls (NEL among them), breaks, the BOM
	case r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// readsAsOtherType: plain text that YAML 1.1 or 1.2 reads as a null, a
// bool, a number, a timestamp or a merge key, not as a string.
func readsAsOtherType(s []byte) bool {
	switch string(s) {
	case "~", "null", "Null", "NULL",
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF",
		".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
		".nan", ".NaN", ".NAN", "<<", "=":
		return true
	}
	switch c := s[0]; {
	case c == '+' || c == '-' || c == '.' || '0' <= c && c <= '9':
		return looksNumeric(s) || looksTimestamp(s)
	}
	return false
}

// looksNumeric: an integer or float in any of YAML 1.1's or 1.2's forms
// (signs, underscores, 0x, 0o, 0b, leading-zero octal, base 60, exponents).
func looksNumeric(s []byte) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 {
		return false
	}
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			return allOf(s[2:], "0123456789abcdefABCDEF_")
		case 'o', 'O':
			return allOf(signless(s[2:]), "01234567_")
		case 'b', 'B':
			return allOf(signless(s[2:]), "01_") // go-yaml v3 takes 0b+1
		}
	}
	// [digits][.digits][e[sign]digits], or digits(:digits)+[.digits]
	i, digits := 0, 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '_') {
		digits++
		i++
	}
	if i < len(s) && s[i] == ':' && digits > 0 {
		for i < len(s) && (isDigit(s[i]) || s[i] == ':' || s[i] == '_') {
			i++
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && (isDigit(s[i]) || s[i] == '_') {
			digits++
			i++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			exp++
			i++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

func signless(s []byte) []byte {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		return s[1:]
	}
	return s
}

// looksTimestamp: YAML 1.1's timestamps start with a date, 2006-1-2.
func looksTimestamp(s []byte) bool {
	return len(s) >= 8 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) && s[4] == '-' && isDigit(s[5])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allOf(s []byte, set string) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		found := false
		for i := 0; i < len(set); i++ {
			if set[i] == c {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func writeSingleQuoted(w *bufio.Writer, s []byte) {
	w.WriteByte('\'')
	for _, c := range s {
		if c == '\'' {
			w.WriteByte('\'')
		}
		w.WriteByte(c)
	}
	w.WriteByte('\'')
}

const hexDigits = "0123456789ABCDEF"

// writeDoubleQuoted writes s with YAML's escapes, on one line.
func writeDoubleQuoted(w *bufio.Writer, s []byte) {
	w.WriteByte('"')
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && !yamlNotable[s[j]] && s[j] != '"' && s[j] != '\\' {
			j++
		}
		w.Write(s[i:j])
		if i = j; i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				w.WriteByte('\\')
				w.WriteByte(c)
			case c == '\n':
				w.WriteString(`\n`)
			case c == '\t':
				w.WriteString(`\t`)
			case c == '\r':
				w.WriteString(`\r`)
			case c < ' ' || c == 0x7f:
				writeUEscape(w, rune(c))
			default:
				w.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if yamlPrintable(r) {
			w.Write(s[i : i+size])
		} else {
			writeUEscape(w, r)
		}
		i += size
	}
	w.WriteByte('"')
}

func writeUEscape(w *bufio.Writer, r rune) {
	w.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		w.WriteByte(hexDigits[r>>shift&15])
	}
}
