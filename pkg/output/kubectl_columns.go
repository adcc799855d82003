package output

import (
	"io"

	"github.com/liggitt/tabwriter"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kcurl/kcurl/pkg/output/internal/customcolumns"
)

// columnsFormat is -o custom-columns=… and custom-columns-file=…:
// kubectl's own printer, writing into kubectl's tabwriter. The tabwriter
// holds the rows' text (never the objects) until it is flushed at the end
// of the answer, since a column is as wide as its widest cell in every
// row, as kubectl's is; with -w it is flushed after each event, widths
// remembered.
type columnsFormat struct {
	printer *customcolumns.CustomColumnsPrinter
	tw      *tabwriter.Writer // made on the first use, for the Printer's out
}

func newColumnsFromSpec(spec string, noHeaders bool) (*columnsFormat, error) {
	p, err := customcolumns.NewCustomColumnsPrinterFromSpec(spec, unstructured.UnstructuredJSONScheme, noHeaders)
	if err != nil {
		return nil, err
	}
	return &columnsFormat{printer: p}, nil
}

// newColumnsFromTemplate: as kubectl's, with a header whatever
// --no-headers says.
func newColumnsFromTemplate(template io.Reader) (*columnsFormat, error) {
	p, err := customcolumns.NewCustomColumnsPrinterFromTemplate(template, unstructured.UnstructuredJSONScheme)
	if err != nil {
		return nil, err
	}
	return &columnsFormat{printer: p}, nil
}

func (f *columnsFormat) writer(w io.Writer) *tabwriter.Writer {
	if f.tw == nil {
		f.tw = newTabWriter(w)
	}
	return f.tw
}

func (f *columnsFormat) object(w io.Writer, obj map[string]any) error {
	return executionError(f.printer.PrintObj(&unstructured.Unstructured{Object: obj}, f.writer(w)))
}

func (f *columnsFormat) done(io.Writer) error {
	if f.tw == nil {
		return nil
	}
	return f.tw.Flush()
}

func (f *columnsFormat) list(w io.Writer) listFormat { return &columnsList{f: f, w: w} }

// columnsList prints each item as its row; a list without items still
// prints the header, as kubectl does.
type columnsList struct {
	f    *columnsFormat
	w    io.Writer
	rows bool
}

func (l *columnsList) item(obj map[string]any) error {
	l.rows = true
	return l.f.object(l.w, obj)
}

func (l *columnsList) end() error {
	if l.rows {
		return nil
	}
	return executionError(l.f.printer.PrintObj(kubectlList(nil), l.f.writer(l.w)))
}
