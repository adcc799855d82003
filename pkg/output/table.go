package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/labels"
)

// TableAccept asks the API server to render a resource as kubectl get does.
const TableAccept = "application/json;as=Table;g=meta.k8s.io;v=v1,application/json"

// TableOptions decide how a server-side Table is printed.
type TableOptions struct {
	Wide          bool // also the columns of priority > 0 (-o wide)
	WithNamespace bool // a NAMESPACE column first, for -A
	Color         bool // a bold header
	NoHeaders     bool // --no-headers: rows only
	// LabelColumns are label keys, each a column of its own after the
	// server's (kubectl's -L); ShowLabels adds every label, last.
	LabelColumns []string
	ShowLabels   bool
	// Empty is printed on the notices stream for a table without rows,
	// e.g. "No resources found in default namespace."
	Empty string
	// AlignAll aligns all the rows of a Table together, not rowsAtOnce
	// at a time: as kubectl --sort-by, which reads the list in one page.
	AlignAll bool
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
	// nameColumn is the column of the objects' names (its index in the
	// server's definitions, which mark it format "name"), -1 for none;
	// kind, when set, is printed before each name in it (see NameKind).
	nameColumn int
	kind       string
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
	return &TablePrinter{out: out, notices: notices, opts: opts, nameColumn: -1}
}

// ErrNotTable is returned by Print for a body that is not a Table (a path
// the server cannot render as one); Body reads it whole, from its first
// byte, for the caller to print another way.
type ErrNotTable struct{ Body io.Reader }

func (e *ErrNotTable) Error() string { return "the answer is not a Table" }

// rowsAtOnce is how many rows are aligned together: a table of any length
// is printed as its rows arrive, in the memory of this many, as kubectl
// prints a long list chunk by chunk.
const rowsAtOnce = 500

// Print prints one Table body, its rows as they arrive.
func (tp *TablePrinter) Print(body io.Reader) error {
	rec := &recorder{r: body, on: true}
	dec := NewDecoder(rec)
	notTable := func() error {
		return &ErrNotTable{Body: io.MultiReader(bytes.NewReader(rec.seen), body)}
	}
	if c, err := dec.peekValue(); err != nil || c != '{' {
		return notTable()
	}
	if err := dec.enter(); err != nil {
		return notTable()
	}
	var rows [][]string
	isTable := false // "kind":"Table" has been read
	printed := false // rows of this Table have been
	for first := true; ; first = false {
		key, ok, err := dec.member(first, true)
		if err != nil {
			return tp.failed(err, rec, notTable)
		}
		if !ok {
			break
		}
		switch key {
		case "kind":
			v, err := dec.value()
			if err != nil {
				return tp.failed(err, rec, notTable)
			}
			if v != "Table" {
				return notTable()
			}
			// The API server sends kind first: from here on the body
			// is printed, not kept.
			isTable, rec.on, rec.seen = true, false, nil
		case "columnDefinitions":
			v, err := dec.value()
			if err != nil {
				return tp.failed(err, rec, notTable)
			}
			tp.defineColumns(v)
		case "rows":
			if rows, err = tp.readRows(dec, rows, isTable, &printed, func(err error) error { return tp.failed(err, rec, notTable) }); err != nil {
				return err
			}
		default:
			if err := dec.skip(); err != nil {
				return tp.failed(err, rec, notTable)
			}
		}
	}
	if !isTable {
		return notTable()
	}
	if len(rows) == 0 && !printed {
		tp.empty = true
		return nil
	}
	return tp.printRows(rows)
}

// readRows reads a Table's rows, held until rowsAtOnce of them are, then
// printed once the body is known to be a Table (isTable); printed says
// some were. A body that breaks is fail's to report.
func (tp *TablePrinter) readRows(dec *Decoder, rows [][]string, isTable bool, printed *bool, fail func(error) error) ([][]string, error) {
	if c, err := dec.peekValue(); err != nil || c != '[' {
		if err := dec.skip(); err != nil {
			return rows, fail(err)
		}
		return rows, nil
	}
	if err := dec.enter(); err != nil {
		return rows, fail(err)
	}
	for first := true; ; first = false {
		ok, err := dec.element(first)
		if err != nil {
			return rows, fail(err)
		}
		if !ok {
			return rows, nil
		}
		row, err := dec.value()
		if err != nil {
			return rows, fail(err)
		}
		rows = append(rows, tp.cells(row))
		if isTable && !tp.opts.AlignAll && len(rows) == rowsAtOnce {
			if err := tp.printRows(rows); err != nil {
				return rows, err
			}
			rows, *printed = rows[:0], true
		}
	}
}

// failed: a body that breaks before it is known to be a Table is handed
// back whole (the printer it goes to says what is wrong with it); once it
// is, the error is the table's.
func (tp *TablePrinter) failed(err error, rec *recorder, notTable func() error) error {
	if rec.on {
		return notTable()
	}
	return err
}

// recorder keeps what is read through it while on.
type recorder struct {
	r    io.Reader
	on   bool
	seen []byte
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if r.on {
		r.seen = append(r.seen, p[:n]...)
	}
	return n, err
}

// NameKind has the names in the tables that follow read KIND/NAME
// (pod/web, deployment.apps/web), as kubectl get prints them when it lists
// several resource types at once; "" for names alone.
func (tp *TablePrinter) NameKind(kind string) { tp.kind = kind }

// Separate starts a new table: the next one prints its own header (kubectl
// prints one table per resource type, a blank line between). The blank line
// waits for that header: a resource type without rows prints nothing. With
// --no-headers there is no header, and no blank line (kubectl's), but the
// new table's columns still start narrow.
func (tp *TablePrinter) Separate() {
	if tp.headerDone && !tp.opts.NoHeaders {
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

// defineColumns takes a Table's columnDefinitions: the server sends them
// with a watch's first event only, so they are kept for the events after.
func (tp *TablePrinter) defineColumns(v any) {
	defs, _ := v.([]any)
	if len(defs) == 0 {
		return
	}
	tp.visible, tp.header, tp.nameColumn = nil, nil, -1
	if tp.opts.WithNamespace {
		tp.header = append(tp.header, "NAMESPACE")
	}
	for i, d := range defs {
		def, _ := d.(map[string]any)
		if tp.nameColumn < 0 && def["format"] == "name" && def["type"] == "string" {
			tp.nameColumn = i
		}
		priority, _ := strconv.Atoi(fmt.Sprint(def["priority"]))
		if priority == 0 || tp.opts.Wide {
			tp.visible = append(tp.visible, i)
			tp.header = append(tp.header, strings.ToUpper(str(def["name"])))
		}
	}
	for _, key := range tp.opts.LabelColumns {
		// kubectl's header is the key's name, without its prefix.
		tp.header = append(tp.header, strings.ToUpper(key[strings.LastIndex(key, "/")+1:]))
	}
	if tp.opts.ShowLabels {
		tp.header = append(tp.header, "LABELS")
	}
}

// cells are what a row shows, in the visible columns.
func (tp *TablePrinter) cells(v any) []string {
	row, _ := v.(map[string]any)
	values, _ := row["cells"].([]any)
	// The object's metadata: the server sends it with each row.
	object, _ := row["object"].(map[string]any)
	meta, _ := object["metadata"].(map[string]any)
	var cells []string
	if tp.opts.WithNamespace {
		cells = append(cells, str(meta["namespace"]))
	}
	for _, i := range tp.visible {
		cell := ""
		if i < len(values) && values[i] != nil {
			cell = cellText(values[i])
		}
		if i == tp.nameColumn && tp.kind != "" {
			cell = tp.kind + "/" + cell
		}
		cells = append(cells, cell)
	}
	objectLabels, _ := meta["labels"].(map[string]any)
	for _, key := range tp.opts.LabelColumns {
		cells = append(cells, str(objectLabels[key]))
	}
	if tp.opts.ShowLabels {
		cells = append(cells, formatLabels(objectLabels))
	}
	return cells
}

// formatLabels is kubectl's LABELS cell, by kubectl's own function:
// key=value pairs sorted, comma separated; <none> for none.
func formatLabels(decoded map[string]any) string {
	set := make(map[string]string, len(decoded))
	for key, value := range decoded {
		set[key] = str(value)
	}
	return labels.FormatLabels(set)
}

// printRows prints rows under the header, which the first rows bring.
func (tp *TablePrinter) printRows(rows [][]string) error {
	if len(rows) == 0 {
		return nil
	}
	if tp.blankLine {
		if _, err := io.WriteString(tp.out, "\n"); err != nil {
			return err
		}
		tp.blankLine = false
	}
	header := !tp.headerDone && !tp.opts.NoHeaders
	var first []string // the table's first line, padded as kubectl pads it
	if !tp.headerDone {
		raw := rows[0]
		if header {
			raw = tp.header
		}
		first = kubectlPadding(cleanLine(raw, tableCell), raw, rows)
	}
	for _, row := range rows { // the printer's own: shown in place
		for i, cell := range row {
			row[i] = tableCell(cell)
		}
	}
	lines := rows
	switch {
	case header:
		lines = append([][]string{first}, rows...)
	case first != nil:
		rows[0] = first
	}
	var err error
	tp.widths, err = writeColumns(tp.out, lines, header && tp.opts.Color, tp.widths, false)
	tp.headerDone, tp.rows = true, true
	return err
}

// tableCell is a cell as kubectl's table printer shows it: up to its first
// line break, then "..." (the rest would break the line), and cleaned.
func tableCell(raw string) string {
	if i := strings.IndexAny(raw, "\f\n\r"); i >= 0 {
		return cleanCell(raw[:i]) + "..."
	}
	return cleanCell(raw)
}

// kubectlPadding pads a table's first line (its header, or with
// --no-headers its first row) as kubectl 1.37's printer pads it before its
// tabwriter aligns the lines, so that the tabwriter's periodic flushes keep
// the columns: every cell but the last, with spaces up to the longest cell
// under it, measured in bytes of the server's text before it is cut or
// escaped (shown is the line as printed, padded in place and returned; raw
// as the server sent it). The tabwriter counts characters. So a column
// whose longest cell holds non-ASCII text, a line break or an escape
// sequence is as wide as that cell's bytes; elsewhere this changes nothing.
func kubectlPadding(shown, raw []string, rows [][]string) []string {
	widest := make([]int, len(shown))
	for _, row := range rows {
		for i := range min(len(row), len(widest)) {
			widest[i] = max(widest[i], len(row[i]))
		}
	}
	for i := range len(shown) - 1 {
		if pad := widest[i] - len(raw[i]); pad > 0 {
			shown[i] += strings.Repeat(" ", pad)
		}
	}
	return shown
}

// WriteColumns aligns cells as kubectl's tables are aligned, byte for
// byte: an empty last cell leaves the padding of the cell before it at the
// end of the line, as kubectl's tabwriter does (`-L` on an object without
// that label, api-resources -o wide's CATEGORIES). boldHeader colours the
// first line (its escape sequences do not count as width). Characters that
// would break the columns or drive the terminal are replaced: cells come
// from the server, and a label is anyone's to write.
func WriteColumns(w io.Writer, lines [][]string, boldHeader bool) error {
	_, err := writeColumns(w, cleanLines(lines), boldHeader, nil, false)
	return err
}

// WriteTrimmedColumns is WriteColumns for kcurl's own layouts, which
// kubectl has no table for (config, whoami): their continuation lines
// leave the last cell empty, and no line ends in spaces.
func WriteTrimmedColumns(w io.Writer, lines [][]string) error {
	_, err := writeColumns(w, cleanLines(lines), false, nil, true)
	return err
}

// cleanLines is lines with each cell cleaned (cleanCell), in new slices:
// the caller's are left as they are.
func cleanLines(lines [][]string) [][]string {
	clean := make([][]string, len(lines))
	for i, cells := range lines {
		clean[i] = cleanLine(cells, cleanCell)
	}
	return clean
}

// cleanLine is cells, each through clean, in a new slice.
func cleanLine(cells []string, clean func(string) string) []string {
	out := make([]string, len(cells))
	for i, cell := range cells {
		out[i] = clean(cell)
	}
	return out
}

// writeColumns is WriteColumns for cells already cleaned, with columns at
// least minWidths wide, and each line's trailing spaces cut when trim; it
// returns the widths used.
func writeColumns(w io.Writer, lines [][]string, boldHeader bool, minWidths []int, trim bool) ([]int, error) {
	var b bytes.Buffer
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
		if trim { // this line's only: the lines before are not copied again
			b.Truncate(start + len(bytes.TrimRight(b.Bytes()[start:], " ")))
		}
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
func cleanCell(s string) string { return cleanText(s, true) }

// cleanName is -o name's cleanCell: a name holds no white space of its
// own, so every control character shows, as ^J for a newline, and one
// name stays one line.
func cleanName(s string) string { return cleanText(s, false) }

func cleanText(s string, columns bool) string {
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
		case columns && (r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'):
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
