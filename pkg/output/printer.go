package output

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/itchyny/gojq"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// Format is the -o choice.
type Format string

const (
	FormatJSON Format = "json"
	FormatYAML Format = "yaml"
	FormatRaw  Format = "raw"
)

// Options decide how answers are printed.
type Options struct {
	Format     Format
	Indent     int  // spaces per level, 0 for -c
	Color      bool // decided once by the caller
	RawStrings bool // -r: jq string results without quotes
	Query      *Query
	// Kubectl is one of kubectl's formats (-o jsonpath=…, custom-columns=…,
	// go-template=…, kyaml), instead of Format.
	Kubectl    *KubectlFormat
	ExitStatus bool // -e: the last jq result decides the exit status
	// Terminal is true when the output is a terminal: binary bodies are
	// withheld there, as curl does.
	Terminal bool
	// FlushEachValue writes every top-level value (a watch event) through
	// as soon as it is complete.
	FlushEachValue bool
}

// ErrFalsy is -e's verdict when the last jq result was false or null, or
// there was none: exit 1, and the exit code alone says it.
var ErrFalsy error = falsyError{}

type falsyError struct{}

func (falsyError) Error() string { return "the last jq result was false or null, or there was none" }
func (falsyError) ExitCode() int { return exitcode.Failed }

// Printer writes response bodies to out, and notices (a withheld binary
// body) to notices.
type Printer struct {
	w       io.Writer // where out writes to, for bodies passed through
	out     *bufio.Writer
	notices io.Writer
	opts    Options

	jsonOut   *Formatter
	wroteYAML bool
	resultDec *Decoder // re-reads jq results for YAML
	produced  bool     // a jq result was printed
	last      any      // the last jq result, for -e
}

// NewPrinter prints to out.
func NewPrinter(out, notices io.Writer, opts Options) *Printer {
	if opts.Format == "" {
		opts.Format = FormatJSON
	}
	p := &Printer{w: out, out: bufio.NewWriterSize(out, 64<<10), notices: notices, opts: opts}
	p.jsonOut = NewFormatter(p.out, opts.Indent, opts.Color)
	if opts.FlushEachValue {
		p.jsonOut.OnValue = p.out.Flush
	}
	return p
}

// IsJSON reports whether a Content-Type is JSON: application/json with any
// parameters (the API server's Table and watch streams), or a +json type.
func IsJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil && err != mime.ErrInvalidMediaParameter {
		return false // a bad parameter still leaves the media type known
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// Print writes one body of the given Content-Type.
func (p *Printer) Print(ctx context.Context, body io.Reader, contentType string) error {
	err := p.print(ctx, body, contentType)
	if ferr := p.out.Flush(); err == nil {
		err = ferr
	}
	return err
}

func (p *Printer) print(ctx context.Context, body io.Reader, contentType string) error {
	switch {
	case p.opts.Format == FormatRaw:
		return p.stream(body)
	case !IsJSON(contentType) && p.opts.Query != nil:
		// A script that filters must not get unfiltered text and exit 0.
		if contentType == "" {
			contentType = "no Content-Type"
		}
		return exitcode.With(exitcode.Failed, fmt.Errorf("the answer is %s, not JSON, so -q cannot filter it (without -q it is printed as it is)", contentType))
	case !IsJSON(contentType):
		return p.passThrough(body, contentType)
	case p.opts.Query != nil:
		return p.query(ctx, body)
	case p.opts.Kubectl != nil:
		return p.kubectl(body)
	case p.opts.Format == FormatName:
		return p.names(body)
	case p.opts.Format == FormatYAML:
		return p.yaml(body)
	default:
		if _, err := io.Copy(p.jsonOut, body); err != nil {
			return err
		}
		return p.jsonOut.Close()
	}
}

// Drain reads a body that -s does not print to its end, checking JSON as
// printing it would: a body cut short, or not JSON, fails as in every other
// mode instead of passing for a success.
func Drain(body io.Reader, contentType string) error {
	if !IsJSON(contentType) {
		_, err := io.Copy(io.Discard, body)
		return err
	}
	f := NewFormatter(io.Discard, 0, false)
	if _, err := io.Copy(f, body); err != nil {
		return err
	}
	return f.Close()
}

// passThrough streams a body that is not JSON (logs, text) untouched, except
// that binary is not written to a terminal. Binary is judged by the first
// read, so that a followed log shows its first line as soon as it arrives.
func (p *Printer) passThrough(body io.Reader, contentType string) error {
	if !p.opts.Terminal {
		return p.stream(body)
	}
	head := make([]byte, sniffLen)
	n, err := readSome(body, head)
	if looksBinary(head[:n]) {
		if contentType == "" {
			contentType = "no Content-Type"
		}
		fmt.Fprintf(p.notices, "kcurl: binary body (%s) not written to the terminal; redirect it to a file or pipe it\n", contentType)
		return nil
	}
	if _, werr := p.out.Write(head[:n]); werr != nil {
		return werr
	}
	if err == io.EOF {
		return nil
	} else if err != nil {
		return err
	}
	return p.stream(body)
}

// stream copies body as it arrives: each read is written at once, not held
// back in the buffer.
func (p *Printer) stream(body io.Reader) error {
	if err := p.out.Flush(); err != nil {
		return err
	}
	_, err := io.Copy(p.w, body)
	return err
}

const sniffLen = 1024

// readSome reads until it has at least one byte or an error.
func readSome(r io.Reader, p []byte) (int, error) {
	for {
		n, err := r.Read(p)
		if n > 0 || err != nil {
			return n, err
		}
	}
}

// looksBinary: a NUL byte, or bytes that are not UTF-8, ignoring a character
// that the end of the sample cut short.
func looksBinary(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	if utf8.Valid(head) {
		return false
	}
	for i := len(head) - 1; i >= 0 && i >= len(head)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(head[i]) {
			return utf8.FullRune(head[i:]) || !utf8.Valid(head[:i])
		}
	}
	return true
}

// eachValue decodes the body's values one by one (a watch's events as they
// arrive) and hands each to fn, flushing after each when asked to.
func (p *Printer) eachValue(body io.Reader, fn func(v any) error) error {
	dec := NewDecoder(body)
	return p.eachDecoded(dec, func() error {
		v, err := dec.value()
		if err != nil {
			return err
		}
		return fn(v)
	})
}

func (p *Printer) query(ctx context.Context, body io.Reader) error {
	q := p.opts.Query
	if !q.PerItem() {
		return p.eachValue(body, func(v any) error {
			return p.results(q.Run(ctx, v))
		})
	}
	// `.items[] | F`: F on each item as it arrives, the list never held.
	// Anything but a list gets the whole program, as it would otherwise.
	dec := NewDecoder(body)
	return p.eachDecoded(dec, func() error {
		v, streamed, err := dec.decodeItems(func(map[string]any) error {
			item, err := dec.value()
			if err != nil {
				return err
			}
			return p.results(q.runItem(ctx, item))
		})
		if err != nil || streamed {
			return err
		}
		return p.results(q.Run(ctx, v))
	})
}

// eachDecoded runs one for each top-level value of dec's stream, flushing
// after each when asked to.
func (p *Printer) eachDecoded(dec *Decoder, one func() error) error {
	for {
		more, err := dec.another()
		if err != nil || !more {
			return err
		}
		if err := one(); err != nil {
			return err
		}
		if p.opts.FlushEachValue {
			if err := p.out.Flush(); err != nil {
				return err
			}
		}
	}
}

// results prints what a jq program gives, up to its first error.
func (p *Printer) results(iter gojq.Iter) error {
	for {
		result, ok := iter.Next()
		if !ok {
			return nil
		}
		if err, ok := result.(error); ok {
			var halt *gojq.HaltError
			if errors.As(err, &halt) {
				return haltError(halt)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				return &OutOfTimeError{}
			}
			return &RuntimeError{Err: err}
		}
		if err := p.result(result); err != nil {
			return err
		}
	}
}

func (p *Printer) result(v any) error {
	p.produced, p.last = true, v
	if s, ok := v.(string); ok && p.opts.RawStrings {
		p.out.WriteString(s)
		return p.out.WriteByte('\n')
	}
	b, err := gojq.Marshal(v)
	if err != nil {
		return err
	}
	if p.opts.Format == FormatYAML {
		return p.writeYAML(b)
	}
	if _, err := p.jsonOut.Write(b); err != nil {
		return err
	}
	return p.jsonOut.Close()
}

// yaml writes each JSON value of the body as a YAML document as it is read
// (a list item by item), keys in the server's order and numbers as sent.
func (p *Printer) yaml(body io.Reader) error {
	return p.yamlDocuments(NewDecoder(body))
}

func (p *Printer) yamlDocuments(dec *Decoder) error {
	enc := &yamlEncoder{d: dec, w: p.out}
	return p.eachDecoded(dec, func() error {
		if p.wroteYAML {
			p.out.WriteString("---\n")
		}
		p.wroteYAML = true
		return enc.document()
	})
}

// writeYAML writes a jq result, as gojq encodes it, as a YAML document.
func (p *Printer) writeYAML(jsonText []byte) error {
	if p.resultDec == nil {
		p.resultDec = NewDecoder(nil)
	}
	p.resultDec.reset(bytes.NewReader(jsonText))
	return p.yamlDocuments(p.resultDec)
}

// Done returns -e's verdict once every body is printed.
func (p *Printer) Done() error {
	if !p.opts.ExitStatus {
		return nil
	}
	if !p.produced || p.last == nil || p.last == false {
		return ErrFalsy
	}
	return nil
}
