package output

import (
	"fmt"
	"io"
)

// The Decoder's token-level reads: an object member by member, an array
// element by element, a value skipped or kept as its bytes. They let a list
// be printed item by item, each item read and let go, instead of decoding
// the whole answer first.

// peek is the next byte that is not space, left unread; a clean end of the
// stream is io.EOF.
func (d *Decoder) peek() (byte, error) {
	return d.skipSpace()
}

// peekValue is peek inside a value, where the end of the stream is an error.
func (d *Decoder) peekValue() (byte, error) {
	c, err := d.skipSpace()
	if err != nil {
		return 0, d.eofError(err)
	}
	return c, nil
}

// enter reads the '{' or '[' at d.pos, one level deeper.
func (d *Decoder) enter() error {
	if d.depth++; d.depth > MaxDepth {
		return d.syntaxError(errTooDeep)
	}
	d.pos++
	return nil
}

// member moves to the next member of the object being read (first: just
// after its '{') and returns its key, leaving the value to be read; ok is
// false once the closing '}' is read. The key is interned when wantKey is
// set, and "" otherwise.
func (d *Decoder) member(first, wantKey bool) (key string, ok bool, err error) {
	c, err := d.peekValue()
	if err != nil {
		return "", false, err
	}
	if c == '}' {
		d.pos++
		d.depth--
		return "", false, nil
	}
	if !first {
		if c != ',' {
			return "", false, d.syntaxError(fmt.Sprintf("unexpected %q, expecting ',' or '}'", c))
		}
		d.pos++
		if c, err = d.peekValue(); err != nil {
			return "", false, err
		}
	}
	if c != '"' {
		return "", false, d.syntaxError(fmt.Sprintf("unexpected %q, expecting a string key", c))
	}
	b, err := d.str()
	if err != nil {
		return "", false, err
	}
	if wantKey {
		key = d.key(b) // before the next read moves b
	}
	if c, err = d.peekValue(); err != nil {
		return "", false, err
	}
	if c != ':' {
		return "", false, d.syntaxError(fmt.Sprintf("unexpected %q, expecting ':'", c))
	}
	d.pos++
	return key, true, nil
}

// element moves to the next element of the array being read (first: just
// after its '['), leaving it to be read; false once the closing ']' is read.
func (d *Decoder) element(first bool) (bool, error) {
	c, err := d.peekValue()
	if err != nil {
		return false, err
	}
	if c == ']' {
		d.pos++
		d.depth--
		return false, nil
	}
	if !first {
		if c != ',' {
			return false, d.syntaxError(fmt.Sprintf("unexpected %q, expecting ',' or ']'", c))
		}
		d.pos++
	}
	return true, nil
}

// skip reads the next value without building it.
func (d *Decoder) skip() error {
	c, err := d.peekValue()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		if err := d.enter(); err != nil {
			return err
		}
		for first := true; ; first = false {
			_, ok, err := d.member(first, false)
			if err != nil || !ok {
				return err
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
	case '[':
		if err := d.enter(); err != nil {
			return err
		}
		for first := true; ; first = false {
			ok, err := d.element(first)
			if err != nil || !ok {
				return err
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
	case '"':
		_, err := d.str()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		_, err := d.numberText()
		return err
	}
	return d.syntaxError(fmt.Sprintf("unexpected %q, expecting a value", c))
}

// rawValue reads the next value and returns its bytes as they were sent,
// valid until the next rawValue.
func (d *Decoder) rawValue() ([]byte, error) {
	if _, err := d.peekValue(); err != nil {
		return nil, err
	}
	d.rec, d.recFrom = d.rec[:0], d.pos
	d.heldFrom = d.offset + int64(d.pos)
	defer func() { d.heldFrom = -1 }()
	err := d.skip()
	d.rec = append(d.rec, d.buf[d.recFrom:d.pos]...)
	d.recFrom = -1
	return d.rec, err
}

// another reports whether another top-level value follows.
func (d *Decoder) another() (bool, error) {
	_, err := d.peek()
	if err == io.EOF {
		return false, nil
	}
	return err == nil, err
}

// decodeItems reads the next top-level value. When it is an object whose
// "items" is an array, item is called to read each item as it arrives (one
// value, from d), seeing the object's fields read before it; the object is
// then returned without its items, and streamed is true. Otherwise the
// whole value is returned.
func (d *Decoder) decodeItems(item func(head map[string]any) error) (v any, streamed bool, err error) {
	c, err := d.peekValue()
	if err != nil {
		return nil, false, err
	}
	if c != '{' {
		v, err := d.value()
		return v, false, err
	}
	if err := d.enter(); err != nil {
		return nil, false, err
	}
	obj := map[string]any{}
	for first := true; ; first = false {
		key, ok, err := d.member(first, true)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			return obj, streamed, nil
		}
		if c, err := d.peekValue(); err != nil {
			return nil, false, err
		} else if key == "items" && c == '[' {
			streamed = true
			if err := d.enter(); err != nil {
				return nil, false, err
			}
			for first := true; ; first = false {
				ok, err := d.element(first)
				if err != nil {
					return nil, false, err
				}
				if !ok {
					break
				}
				if err := item(obj); err != nil {
					return nil, false, err
				}
			}
			continue
		}
		v, err := d.value()
		if err != nil {
			return nil, false, err
		}
		obj[key] = v
	}
}

// nameFields reads one value and, if it is an object, its kind, apiVersion
// and metadata.name, skipping the rest unbuilt.
func (d *Decoder) nameFields() (kind, apiVersion, name string, isObject bool, err error) {
	c, err := d.peekValue()
	if err != nil || c != '{' {
		if err == nil {
			err = d.skip()
		}
		return "", "", "", false, err
	}
	if err := d.enter(); err != nil {
		return "", "", "", false, err
	}
	for first := true; ; first = false {
		key, ok, err := d.member(first, true)
		if err != nil || !ok {
			return kind, apiVersion, name, true, err
		}
		switch key {
		case "kind":
			err = d.stringField(&kind)
		case "apiVersion":
			err = d.stringField(&apiVersion)
		case "metadata":
			if c, err = d.peekValue(); err == nil && c == '{' {
				name, err = d.memberString("name")
			} else if err == nil {
				err = d.skip()
			}
		default:
			err = d.skip()
		}
		if err != nil {
			return "", "", "", false, err
		}
	}
}

// stringField reads a value into s if it is a string, as the last of
// duplicate keys wins.
func (d *Decoder) stringField(s *string) error {
	v, err := d.value()
	if str, ok := v.(string); ok {
		*s = str
	} else {
		*s = ""
	}
	return err
}

// memberString reads an object and returns its member key if that is a
// string.
func (d *Decoder) memberString(key string) (string, error) {
	if err := d.enter(); err != nil {
		return "", err
	}
	var s string
	for first := true; ; first = false {
		k, ok, err := d.member(first, true)
		if err != nil || !ok {
			return s, err
		}
		if k == key {
			err = d.stringField(&s)
		} else {
			err = d.skip()
		}
		if err != nil {
			return "", err
		}
	}
}
