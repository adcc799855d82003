package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// TableAccept asks the API server to render a resource as kubectl get does.
const TableAccept = "application/json;as=Table;g=meta.k8s.io;v=v1,application/json"

// TableOptions decide how a server-side Table is printed.
type TableOptions struct {
	Wide          bool // also the columns of priority > 0 (-o wide)
	WithNamespace bool // a NAMESPACE column first, for -A
	Color         bool // a bold header
	// Empty is printed on the notices stream for a table without rows,
	// e.g. "No resources found in default namespace."
	Empty string
}

// table is metav1.Table, as far as printing needs it.
type table struct {
	Kind              string `json:"kind"`
	ColumnDefinitions []struct {
		Name     string `json:"name"`
		Priority int    `json:"priority"`
	} `json:"columnDefinitions"`
	Rows []struct {
		Cells  []any `json:"cells"`
		Object struct {
			Metadata struct {
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		} `json:"object"`
	} `json:"rows"`
}

// TablePrinter prints Tables as aligned columns, like kubectl get: the
// header once (a watch prints it before its first row), three spaces between
// columns.
type TablePrinter struct {
	out, notices io.Writer
	opts         TableOptions
	headerDone   bool
}

// NewTablePrinter prints to out, and the "No resources found" notice to
// notices.
func NewTablePrinter(out, notices io.Writer, opts TableOptions) *TablePrinter {
	return &TablePrinter{out: out, notices: notices, opts: opts}
}

// ErrNotTable is returned by Print for a body that is not a Table (a path
// the server cannot render as one); the caller prints it another way.
type ErrNotTable struct{ Body []byte }

func (e *ErrNotTable) Error() string { return "the answer is not a Table" }

// Print prints one Table body.
func (tp *TablePrinter) Print(body io.Reader) error {
	raw, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var t table
	if err := dec.Decode(&t); err != nil || t.Kind != "Table" {
		return &ErrNotTable{Body: raw}
	}
	return tp.print(&t)
}

// Separate starts a new table: the next one prints its own header (kubectl
// prints one table per resource type, a blank line between).
func (tp *TablePrinter) Separate() {
	if tp.headerDone {
		fmt.Fprintln(tp.out)
	}
	tp.headerDone = false
}

func (tp *TablePrinter) print(t *table) error {
	if len(t.Rows) == 0 {
		if !tp.headerDone && tp.opts.Empty != "" {
			fmt.Fprintln(tp.notices, tp.opts.Empty)
		}
		return nil
	}
	var visible []int
	for i, c := range t.ColumnDefinitions {
		if c.Priority == 0 || tp.opts.Wide {
			visible = append(visible, i)
		}
	}
	var lines [][]string
	if !tp.headerDone {
		var names []string
		if tp.opts.WithNamespace {
			names = append(names, "NAMESPACE")
		}
		for _, i := range visible {
			names = append(names, strings.ToUpper(t.ColumnDefinitions[i].Name))
		}
		lines = append(lines, names)
	}
	for _, row := range t.Rows {
		var cells []string
		if tp.opts.WithNamespace {
			cells = append(cells, row.Object.Metadata.Namespace)
		}
		for _, i := range visible {
			cell := ""
			if i < len(row.Cells) && row.Cells[i] != nil {
				cell = cellText(row.Cells[i])
			}
			cells = append(cells, cell)
		}
		lines = append(lines, cells)
	}
	err := WriteColumns(tp.out, lines, !tp.headerDone && tp.opts.Color)
	tp.headerDone = true
	return err
}

// WriteColumns aligns cells as kubectl's tables are aligned; boldHeader
// colours the first line (its escape sequences do not count as width).
func WriteColumns(w io.Writer, lines [][]string, boldHeader bool) error {
	var b strings.Builder
	widths := columnWidths(lines)
	for li, cells := range lines {
		for ci, cell := range cells {
			if li == 0 && boldHeader {
				b.WriteString("\x1b[1m" + cell + "\x1b[0m")
			} else {
				b.WriteString(cell)
			}
			if ci < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", widths[ci]-utf8.RuneCountInString(cell)))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// columnWidths follows kubectl's tabwriter settings: a cell, then three
// spaces, and no column narrower than six.
func columnWidths(lines [][]string) []int {
	var widths []int
	for _, cells := range lines {
		for i, c := range cells {
			if i >= len(widths) {
				widths = append(widths, 6)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c)+3)
		}
	}
	return widths
}

// cellText prints a cell as kubectl does (fmt.Sprint), with characters that
// would break the columns replaced.
func cellText(v any) string {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case []any, map[string]any:
		b, _ := json.Marshal(v)
		s = string(b)
	default:
		s = fmt.Sprint(v)
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r', '\v', '\f':
			return ' '
		}
		return r
	}, s)
}
