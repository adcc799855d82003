package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
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
	// visible are the columns shown and header their names, kept from the
	// table that defined them: the server sends column definitions with a
	// watch's first event only (TableOptions.NoHeaders on the others).
	visible []int
	header  []string
	// widths only grow within one table, so that later pages and events
	// line up under the header whenever their cells fit.
	widths []int
	// blankLine is owed before the next header, after Separate.
	blankLine bool
	rows      bool // a row was printed, in any table
	empty     bool // a table without rows came
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
// prints one table per resource type, a blank line between). The blank line
// waits for that header: a resource type without rows prints nothing.
func (tp *TablePrinter) Separate() {
	if tp.headerDone {
		tp.blankLine = true
	}
	tp.headerDone = false
	tp.visible, tp.header, tp.widths = nil, nil, nil
}

// Done prints the Empty notice if no table had a row: once, however many
// resource types were listed, as kubectl get does.
func (tp *TablePrinter) Done() {
	if tp.empty && !tp.rows && tp.opts.Empty != "" {
		fmt.Fprintln(tp.notices, tp.opts.Empty)
	}
}

func (tp *TablePrinter) print(t *table) error {
	if len(t.ColumnDefinitions) > 0 {
		tp.visible, tp.header = nil, nil
		if tp.opts.WithNamespace {
			tp.header = append(tp.header, "NAMESPACE")
		}
		for i, c := range t.ColumnDefinitions {
			if c.Priority == 0 || tp.opts.Wide {
				tp.visible = append(tp.visible, i)
				tp.header = append(tp.header, strings.ToUpper(c.Name))
			}
		}
	}
	if len(t.Rows) == 0 {
		tp.empty = true
		return nil
	}
	if tp.blankLine {
		if _, err := io.WriteString(tp.out, "\n"); err != nil {
			return err
		}
		tp.blankLine = false
	}
	var lines [][]string
	if !tp.headerDone {
		lines = append(lines, tp.header)
	}
	for _, row := range t.Rows {
		var cells []string
		if tp.opts.WithNamespace {
			cells = append(cells, row.Object.Metadata.Namespace)
		}
		for _, i := range tp.visible {
			cell := ""
			if i < len(row.Cells) && row.Cells[i] != nil {
				cell = cellText(row.Cells[i])
			}
			cells = append(cells, cell)
		}
		lines = append(lines, cells)
	}
	var err error
	tp.widths, err = writeColumns(tp.out, lines, !tp.headerDone && tp.opts.Color, tp.widths)
	tp.headerDone, tp.rows = true, true
	return err
}

// WriteColumns aligns cells as kubectl's tables are aligned; boldHeader
// colours the first line (its escape sequences do not count as width).
// Characters that would break the columns or drive the terminal are
// replaced: cells come from the server, and a label is anyone's to write.
func WriteColumns(w io.Writer, lines [][]string, boldHeader bool) error {
	_, err := writeColumns(w, lines, boldHeader, nil)
	return err
}

// writeColumns is WriteColumns with columns at least minWidths wide; it
// returns the widths used.
func writeColumns(w io.Writer, lines [][]string, boldHeader bool, minWidths []int) ([]int, error) {
	var b bytes.Buffer
	clean := make([][]string, len(lines))
	for i, cells := range lines {
		clean[i] = make([]string, len(cells))
		for j, cell := range cells {
			clean[i][j] = cleanCell(cell)
		}
	}
	lines = clean
	widths := columnWidths(lines, minWidths)
	for li, cells := range lines {
		start := b.Len()
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
		// An empty last cell leaves the padding of the one before it.
		// (This line's only: the lines before are not copied again.)
		b.Truncate(start + len(bytes.TrimRight(b.Bytes()[start:], " ")))
		b.WriteByte('\n')
	}
	_, err := w.Write(b.Bytes())
	return widths, err
}

// columnWidths follows kubectl's tabwriter settings: a cell, then three
// spaces, and no column narrower than six (or than minWidths).
func columnWidths(lines [][]string, minWidths []int) []int {
	widths := slices.Clone(minWidths)
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

// cellText prints a cell as kubectl does (fmt.Sprint); numbers keep the
// server's text.
func cellText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any, map[string]any:
		b, _ := json.Marshal(v)
		return string(b)
	default:
		return fmt.Sprint(v)
	}
}

// cleanCell keeps a cell on its line and the terminal in its state: white
// space that would break the columns becomes a space, other control
// characters are shown in caret notation (ESC as ^[, as kubectl shows it),
// and C1 controls (a terminal may read U+009B as ESC [) as U+FFFD.
func cleanCell(s string) string {
	clean := true
	for _, r := range s {
		if r < ' ' || r == 0x7f || r >= 0x80 && r <= 0x9f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t', r == '\n', r == '\r', r == '\v', r == '\f':
			b.WriteByte(' ')
		case r < ' ':
			b.WriteString("^" + string(rune('@'+r)))
		case r == 0x7f:
			b.WriteString("^?")
		case r >= 0x80 && r <= 0x9f:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
