package output

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/kcurl/kcurl/pkg/limits"
)

// Decoder reads a stream of JSON values into the types gojq works on
// (map[string]any, []any, string, json.Number, bool, nil). Numbers stay
// json.Number, so integers beyond 2^53 keep every digit. It reads only as
// far as the value it returns, so a watch event is decoded as soon as it has
// arrived, and holds no more of the body than its buffer.
//
// It accepts what encoding/json's Decoder accepts and yields the same values:
// invalid UTF-8 and lone surrogates become U+FFFD, and values may follow one
// another without space between them.
//
// It exists because encoding/json's reflection-driven decoding into `any` is
// the slowest step of `kcurl … -q` on a large list.
type Decoder struct {
	r      io.Reader
	buf    []byte
	pos    int
	offset int64 // bytes of the stream before buf[0]
	err    error // sticky read error, io.EOF included
	keys   map[string]string
	depth  int

	// Members and elements of the containers being read, innermost last:
	// a container is sized once, when its end is known.
	members  []member
	elements []any
	scratch  []byte // a string being unescaped
	values   valueCache

	// recFrom is where in buf the value being recorded (rawValue) starts,
	// or -1; rec holds its bytes that more already moved out of buf.
	recFrom int
	rec     []byte

	// heldFrom is where in the stream the value being held (built by
	// value, or recorded by rawValue) starts, or -1: more stops reading
	// past MaxValue bytes of it.
	heldFrom int64
}

type member struct {
	key   string
	value any
}

// NewDecoder reads from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, buf: make([]byte, 0, 64<<10), keys: make(map[string]string, 256), recFrom: -1, heldFrom: -1}
}

// position is where d is in its stream: the offset of the next byte it
// reads.
func (d *Decoder) position() int64 { return d.offset + int64(d.pos) }

// reset makes d read a new stream from r, keeping its buffers.
func (d *Decoder) reset(r io.Reader) {
	d.r, d.buf, d.pos, d.offset, d.err, d.depth, d.recFrom, d.heldFrom = r, d.buf[:0], 0, 0, nil, 0, -1, -1
	clear(d.members)
	clear(d.elements)
	d.members, d.elements = d.members[:0], d.elements[:0]
}

// MaxDepth is how deeply arrays and objects may nest, in every output mode:
// deep enough for any Kubernetes object (500 levels print), shallow enough
// that indenting a hostile body of nested brackets stays within a few MB.
const MaxDepth = 1000

// errTooDeep is the message of a body nested deeper than MaxDepth.
var errTooDeep = fmt.Sprintf("nested more than %d levels deep (kcurl's limit for every output)", MaxDepth)

// Decode returns the next value, or io.EOF when the stream ends cleanly.
func (d *Decoder) Decode() (any, error) {
	if _, err := d.skipSpace(); err != nil {
		return nil, err // io.EOF: no more values
	}
	return d.value()
}

// more reads into the buffer, keeping buf[keep:]; it returns how far the
// kept bytes moved towards the front, so callers can shift their indices.
func (d *Decoder) more(keep int) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	shift := 0
	if keep > 0 {
		if d.recFrom >= 0 {
			d.rec = append(d.rec, d.buf[d.recFrom:keep]...)
			d.recFrom = 0
		}
		n := copy(d.buf, d.buf[keep:])
		d.buf = d.buf[:n]
		d.pos -= keep
		d.offset += int64(keep)
		shift = keep
	}
	if d.heldFrom >= 0 && d.offset+int64(len(d.buf))-d.heldFrom > limits.MaxValue() {
		return shift, &limits.ValueTooLargeError{}
	}
	if len(d.buf) == cap(d.buf) {
		grown := make([]byte, len(d.buf), 2*cap(d.buf))
		copy(grown, d.buf)
		d.buf = grown
	}
	for {
		n, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
		d.buf = d.buf[:len(d.buf)+n]
		if err != nil {
			d.err = err
		}
		if n > 0 {
			return shift, nil
		}
		if err != nil {
			return shift, err
		}
	}
}

func (d *Decoder) skipSpace() (byte, error) {
	for {
		for d.pos < len(d.buf) {
			switch c := d.buf[d.pos]; c {
			case ' ', '\t', '\n', '\r':
				d.pos++
			default:
				return c, nil
			}
		}
		if _, err := d.more(d.pos); err != nil {
			return 0, err
		}
	}
}

func (d *Decoder) syntaxError(msg string) error {
	return &SyntaxError{Offset: d.offset + int64(d.pos), Msg: msg}
}

func (d *Decoder) eofError(err error) error {
	if err == io.EOF {
		return d.syntaxError("unexpected end of input")
	}
	return err
}

func (d *Decoder) value() (any, error) {
	if d.heldFrom < 0 { // the outermost value: the one held
		d.heldFrom = d.offset + int64(d.pos)
		defer func() { d.heldFrom = -1 }()
	}
	c, err := d.skipSpace()
	if err != nil {
		return nil, d.eofError(err)
	}
	switch c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		b, err := d.str()
		if err != nil {
			return nil, err
		}
		return d.values.box(b), nil
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return d.number()
	}
	return nil, d.syntaxError(fmt.Sprintf("unexpected %q, expecting a value", c))
}

func (d *Decoder) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if d.pos == len(d.buf) {
			if _, err := d.more(d.pos); err != nil {
				return d.eofError(err)
			}
		}
		if c := d.buf[d.pos]; c != word[i] {
			return d.syntaxError(fmt.Sprintf("unexpected %q in literal %s", c, word))
		}
		d.pos++
	}
	return nil
}

func (d *Decoder) object() (any, error) {
	if d.depth++; d.depth > MaxDepth {
		return nil, d.syntaxError(errTooDeep)
	}
	d.pos++ // '{'
	base := len(d.members)
	c, err := d.skipSpace()
	if err != nil {
		return nil, d.eofError(err)
	}
	if c != '}' {
		for {
			if c != '"' {
				return nil, d.syntaxError(fmt.Sprintf("unexpected %q, expecting a string key", c))
			}
			b, err := d.str()
			if err != nil {
				return nil, err
			}
			k := d.key(b)
			if c, err = d.skipSpace(); err != nil {
				return nil, d.eofError(err)
			}
			if c != ':' {
				return nil, d.syntaxError(fmt.Sprintf("unexpected %q, expecting ':'", c))
			}
			d.pos++
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			d.members = append(d.members, member{k, v})
			if c, err = d.skipSpace(); err != nil {
				return nil, d.eofError(err)
			}
			if c == '}' {
				break
			}
			if c != ',' {
				return nil, d.syntaxError(fmt.Sprintf("unexpected %q, expecting ',' or '}'", c))
			}
			d.pos++
			if c, err = d.skipSpace(); err != nil {
				return nil, d.eofError(err)
			}
		}
	}
	d.pos++ // '}'
	d.depth--
	members := d.members[base:]
	obj := make(map[string]any, len(members))
	for _, m := range members {
		obj[m.key] = m.value
	}
	clear(members)
	d.members = d.members[:base]
	return obj, nil
}

func (d *Decoder) array() (any, error) {
	if d.depth++; d.depth > MaxDepth {
		return nil, d.syntaxError(errTooDeep)
	}
	d.pos++ // '['
	base := len(d.elements)
	c, err := d.skipSpace()
	if err != nil {
		return nil, d.eofError(err)
	}
	if c != ']' {
		for {
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			d.elements = append(d.elements, v)
			if c, err = d.skipSpace(); err != nil {
				return nil, d.eofError(err)
			}
			if c == ']' {
				break
			}
			if c != ',' {
				return nil, d.syntaxError(fmt.Sprintf("unexpected %q, expecting ',' or ']'", c))
			}
			d.pos++
		}
	}
	d.pos++ // ']'
	d.depth--
	elements := d.elements[base:]
	arr := make([]any, len(elements))
	copy(arr, elements)
	clear(elements)
	d.elements = d.elements[:base]
	return arr, nil
}

// number reads the longest number at d.pos, as encoding/json does: "01" at
// the top level is two numbers.
func (d *Decoder) number() (any, error) {
	b, err := d.numberText()
	if err != nil {
		return nil, err
	}
	return json.Number(b), nil
}

// numberText reads the number at d.pos and returns its literal text, valid
// until the next read.
func (d *Decoder) numberText() ([]byte, error) {
	start := d.pos
	i := start
	s := numStart
	for {
		if i == len(d.buf) {
			shift, err := d.more(start)
			start, i = start-shift, i-shift
			if err == io.EOF {
				break // a number at the very end of the stream
			}
			if err != nil {
				return nil, err
			}
		}
		next := s.next(d.buf[i])
		if next == numEnd || next == numInvalid {
			break
		}
		s = next
		i++
	}
	d.pos = i
	if !s.complete() {
		if i == len(d.buf) {
			return nil, d.syntaxError("unexpected end of input")
		}
		return nil, d.syntaxError(fmt.Sprintf("unexpected %q in a number", d.buf[i]))
	}
	return d.buf[start:i], nil
}

// str reads a string and returns its bytes, unescaped; they are valid until
// the next read.
func (d *Decoder) str() ([]byte, error) {
	start := d.pos + 1 // after the opening quote
	i := start
	escaped, ascii := false, true
	for {
		for i < len(d.buf) {
			n := plainPrefix(d.buf[i:])
			if ascii {
				ascii = isASCII(d.buf[i : i+n])
			}
			if i += n; i == len(d.buf) {
				break
			}
			c := d.buf[i]
			switch {
			case c == '"':
				goto done
			case c == '\\':
				escaped = true
				i++ // the escaped byte too: unescape checks it
			default: // c < ' '
				d.pos = i
				return nil, d.syntaxError(fmt.Sprintf("unexpected %q in a string", c))
			}
			i++
		}
		shift, err := d.more(start - 1)
		start, i = start-shift, i-shift
		if err != nil {
			d.pos = i
			return nil, d.eofError(err)
		}
	}
done:
	raw := d.buf[start:i]
	d.pos = i + 1
	if escaped || !ascii && !utf8.Valid(raw) {
		var at int
		var msg string
		d.scratch, at, msg = unescape(d.scratch[:0], raw)
		if msg != "" {
			d.pos = start + at
			return nil, d.syntaxError(msg)
		}
		return d.scratch, nil
	}
	return raw, nil
}

// key interns object keys, since a list repeats the same few hundred keys
// thousands of times.
func (d *Decoder) key(b []byte) string {
	if s, ok := d.keys[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.keys) < 4096 {
		d.keys[s] = s
	}
	return s
}

// valueCache holds recent short string values already boxed as any: a list
// repeats its namespaces, label values, API versions and field managers, and
// a hit saves both the string's allocation and the box's. It is direct
// mapped, so unique values (names, uids, timestamps) only displace others.
type valueCache struct {
	seed  maphash.Seed
	slots [1024]struct {
		s string
		v any
	}
}

const maxCachedLen = 32

func (c *valueCache) box(b []byte) any {
	if len(b) > maxCachedLen || len(b) == 0 {
		return string(b)
	}
	if c.seed == (maphash.Seed{}) {
		c.seed = maphash.MakeSeed()
	}
	slot := &c.slots[maphash.Bytes(c.seed, b)%uint64(len(c.slots))]
	if slot.v != nil && slot.s == string(b) {
		return slot.v
	}
	s := string(b)
	slot.s, slot.v = s, s
	return slot.v
}

func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// unescape appends to out the string whose bytes are raw, decoding escapes
// and, as encoding/json does, turning invalid UTF-8 and lone surrogates into
// U+FFFD. A bad escape yields where in raw it is and what is wrong.
func unescape(out, raw []byte) (_ []byte, at int, msg string) {
	for i := 0; i < len(raw); {
		j := i
		for j < len(raw) && raw[j] < utf8.RuneSelf && raw[j] != '\\' {
			j++
		}
		out = append(out, raw[i:j]...)
		if i = j; i == len(raw) {
			break
		}
		c := raw[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, raw[i:i+size]...)
			}
			i += size
			continue
		}
		if i+1 == len(raw) {
			return out, i, "unexpected end of a string escape"
		}
		switch e := raw[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return out, i, "invalid \\u escape"
			}
			if utf16.IsSurrogate(r) {
				high := r
				r = utf8.RuneError
				if low, ok := uEscape(raw[i+6:]); ok {
					if pair := utf16.DecodeRune(high, low); pair != utf8.RuneError {
						r = pair
						i += 6
					}
				}
			}
			out = utf8.AppendRune(out, r)
			i += 6
			continue
		default:
			return out, i + 1, fmt.Sprintf("unexpected %q in a string escape", e)
		}
		i += 2
	}
	return out, 0, ""
}

// uEscape reads a \uXXXX escape at the start of b.
func uEscape(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	return hex4(b[2:])
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
