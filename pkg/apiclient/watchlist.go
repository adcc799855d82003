package apiclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/limits"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// initialEventsEnd is the annotation of the BOOKMARK that ends a streaming
// list (metav1.InitialEventsAnnotationKey).
const initialEventsEnd = "k8s.io/initial-events-end"

// streamListTimeout is the streaming list's timeoutSeconds when the
// context sets no deadline (-m): the API server would otherwise end the
// watch after its --min-request-timeout (1800 s by default) times a
// random factor in [1,2), cutting a long read (a slow reader downstream
// of a pipe) short. The watch is closed as soon as the list has ended.
const streamListTimeout = 24 * time.Hour

// StreamList reads the whole list spec names as one consistent snapshot,
// with a streaming list where the server allows it, as client-go's
// reflector does since 1.35 (WatchListClient): a watch with
// sendInitialEvents=true and resourceVersionMatch=NotOlderThan, whose
// ADDED events are the list's objects and whose BOOKMARK annotated
// k8s.io/initial-events-end ends it and gives its resourceVersion. No
// continue token can expire on a long read.
//
// page gets the snapshot as one list, read as the events arrive, one
// object at a time: {"kind":"…List","apiVersion":…,"items":[…],
// "metadata":{"resourceVersion":…}}. Its items are the objects as a list
// gives them: a built-in object's kind and apiVersion, which only the
// list says in a list, left out. The list's metadata comes after its
// items (the bookmark is the stream's end), as output.ListMerger writes
// a paged list.
//
// Asked for as a Table (Accept: as=Table), each event is a Table of one
// row, the first with the columns: page gets one Table, its columns,
// then every row as it arrives, then its metadata.
//
// Where the server refuses before an object arrived (WatchList off, no
// watch right, a resource that cannot be watched, an old server: any
// error status, an ERROR event, an answer that is not a watch), it pages
// as Pages does, pageSize objects a request, and says so on c.Retry.Notes
// (-v), as client-go falls back to a list on any error.
func (c *Client) StreamList(ctx context.Context, spec request.Spec, pageSize int64, page func(body io.Reader) (ListMeta, error)) error {
	streamed, refused, err := c.streamList(ctx, spec, page)
	if streamed || refused == nil {
		return err
	}
	if c.Retry.Notes != nil {
		fmt.Fprintln(c.Retry.Notes, transport.Printable("kcurl: no streaming list, paging instead: "+refused.Error()))
	}
	spec.Limit = pageSize
	return c.Pages(ctx, spec, true, page)
}

// streamList tries the streaming list: streamed once an object or the
// end reached page, refused (and nothing read) when the server would not.
func (c *Client) streamList(ctx context.Context, spec request.Spec, page func(body io.Reader) (ListMeta, error)) (streamed bool, refused, err error) {
	watch := spec
	watch.Watch, watch.Limit = true, 0
	params := url.Values{"sendInitialEvents": {"true"}, "resourceVersionMatch": {"NotOlderThan"}}
	if _, typed, _ := strings.Cut(spec.Path, "?"); !hasParam(typed, "timeoutSeconds") {
		params.Set("timeoutSeconds", strconv.FormatInt(watchTimeoutSeconds(ctx), 10))
	}
	watch.Query = withParams(spec.Query, params)
	resp, err := c.Send(ctx, watch)
	var status *transport.StatusError
	if errors.As(err, &status) {
		return false, err, nil
	} else if err != nil {
		return false, nil, err
	}
	defer resp.Body.Close() // the watch goes on after the list: ended here
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return false, fmt.Errorf("the answer is %q, not a watch", mt), nil
	}
	body := bufio.NewReader(resp.Body)
	if !startsAsEvent(body) {
		// Not decoded: a server that ignores watch=true may send the
		// whole list as one value.
		return false, errors.New("the answer is not a watch"), nil
	}
	list := &streamedList{ctx: ctx, events: body}
	first, err := list.next()
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF): // a watch ended at once
		return false, errors.New("the watch ended before any event"), nil
	case errors.As(err, new(*limits.ValueTooLargeError)), errors.As(err, new(*transport.NetworkError)), ctx.Err() != nil:
		return false, nil, err
	case err != nil:
		return false, err, nil
	}
	list.start(first)
	if _, err := page(list); err != nil {
		return true, nil, err
	}
	if !list.ended {
		return true, nil, exitcode.With(exitcode.Failed, errors.New("the streaming list was not read to its end"))
	}
	return true, nil, nil
}

// hasParam says whether a typed query names param: the user's own
// timeoutSeconds is kept.
func hasParam(query, param string) bool {
	q, _ := url.ParseQuery(query)
	return q.Has(param)
}

// watchTimeoutSeconds is the streaming list's timeoutSeconds: what is
// left of ctx's deadline (-m), rounded up, else streamListTimeout.
func watchTimeoutSeconds(ctx context.Context) int64 {
	left := streamListTimeout
	if deadline, ok := ctx.Deadline(); ok {
		left = time.Until(deadline)
	}
	return max(1, int64(math.Ceil(left.Seconds())))
}

// streamedList is a streaming list's events read as one list document:
// the head once the first event says the kind, then each ADDED object,
// then the end with the bookmark's resourceVersion.
type streamedList struct {
	ctx     context.Context
	events  *bufio.Reader // one event a line, as the API server writes them
	line    []byte        // an event longer than events' buffer
	buf     bytes.Buffer
	items   int
	started bool // the head is written: the list's kind is known
	table   bool // the events are Tables (Accept: as=Table): rows are the items
	// kindLast: the objects come with their keys in order (custom
	// resources: apiVersion first), and so does their list, whose kind
	// is then written after its items, here.
	kindLast []byte
	ended    bool // the initial-events-end bookmark was read
	done     bool // the document's end is in buf
	rv       string
}

// listEvent is what a streaming list's event says.
type listEvent struct {
	typ     string
	object  []byte // as a list's item
	kind    string
	version string
	rv      string
	end     bool // the bookmark that ends the initial events
	sorted  bool // the object's keys are in order: apiVersion first
	// A Table's (the object is then unused): its columns, with the
	// first event only, and its rows.
	columns []byte
	rows    []json.RawMessage
}

// next reads the next event that matters: ADDED, or the end. An ERROR,
// a change, or anything that is not an event is an error.
func (l *streamedList) next() (listEvent, error) {
	for {
		raw, err := l.nextEvent()
		if err != nil {
			return listEvent{}, err
		}
		typ, object, ok := splitEvent(raw)
		// An object of the list is read as JSON by the list's reader,
		// which checks it (exit 1, as for a page); checked here too, each
		// would be read twice (a third of a streamed list's CPU). Any
		// other event is checked here.
		if !(ok && typ == "ADDED" && l.started && !l.table) && !json.Valid(raw) {
			return listEvent{}, exitcode.With(exitcode.Failed, fmt.Errorf("the streaming list is not one JSON event a line, as the API server sends it: %.100s", raw))
		}
		if !ok {
			var event struct {
				Type   string          `json:"type"`
				Object json.RawMessage `json:"object"`
			}
			if json.Unmarshal(raw, &event) != nil || event.Type == "" {
				return listEvent{}, fmt.Errorf("not a watch event: %.100s", raw)
			}
			typ, object = event.Type, event.Object
		}
		if typ == "ADDED" && l.started && !l.table {
			// The list's kind is known: of the object, only its start
			// is read.
			return listEvent{typ: typ, object: withoutTypeMeta(object)}, nil
		}
		var meta struct {
			Kind       string `json:"kind"`
			APIVersion string `json:"apiVersion"`
			Code       int    `json:"code"`
			Reason     string `json:"reason"`
			Message    string `json:"message"`
			Metadata   struct {
				ResourceVersion string            `json:"resourceVersion"`
				Annotations     map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		if json.Unmarshal(object, &meta) != nil {
			return listEvent{}, fmt.Errorf("not a watch event: %.100s", raw)
		}
		e := listEvent{typ: typ, kind: meta.Kind, version: meta.APIVersion, rv: meta.Metadata.ResourceVersion,
			sorted: bytes.HasPrefix(object, []byte(`{"apiVersion":`))}
		table := isTable(e.kind, e.version) && typ != "ERROR"
		if table {
			if err := e.readTable(object); err != nil {
				return listEvent{}, fmt.Errorf("not a watch event: %.100s", raw)
			}
			if typ == "BOOKMARK" {
				meta.Metadata.Annotations = e.rowAnnotations()
			}
		}
		switch typ {
		case "ADDED":
			if !table {
				e.object = withoutTypeMeta(object)
			}
			return e, nil
		case "BOOKMARK":
			if meta.Metadata.Annotations[initialEventsEnd] == "true" {
				e.end = true
				return e, nil
			}
			continue // progress only
		case "ERROR":
			return e, &transport.StatusError{Code: meta.Code, Reason: meta.Reason, Message: meta.Message}
		}
		// A change before the end of the initial events (an older server):
		// the objects already given may not be the snapshot's.
		return e, exitcode.With(exitcode.Failed, fmt.Errorf("the server sent a %s event before the end of its streaming list", typ))
	}
}

func isTable(kind, apiVersion string) bool {
	return kind == "Table" && strings.HasPrefix(apiVersion, "meta.k8s.io/")
}

// readTable reads a Table event's columns and rows.
func (e *listEvent) readTable(object []byte) error {
	var table struct {
		ColumnDefinitions json.RawMessage   `json:"columnDefinitions"`
		Rows              []json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(object, &table); err != nil {
		return err
	}
	if len(table.ColumnDefinitions) > 0 && table.ColumnDefinitions[0] == '[' {
		e.columns = table.ColumnDefinitions
	}
	e.rows = table.Rows
	return nil
}

// rowAnnotations are the annotations of a Table event's object: a
// bookmark's are its one row's (the API server renders the bookmark's
// object as a row).
func (e *listEvent) rowAnnotations() map[string]string {
	if len(e.rows) != 1 {
		return nil
	}
	var row struct {
		Object struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		} `json:"object"`
	}
	_ = json.Unmarshal(e.rows[0], &row)
	return row.Object.Metadata.Annotations
}

// nextEvent reads the next line that is not empty, as it is.
func (l *streamedList) nextEvent() ([]byte, error) {
	for {
		raw, err := l.nextLine()
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			// The watch ended (its timeout) before the list did.
			return nil, io.ErrUnexpectedEOF
		case errors.As(err, new(*limits.ValueTooLargeError)), err != nil && l.ctx.Err() != nil:
			return nil, err
		case err != nil:
			return nil, transport.Classify(err)
		case len(raw) > 0:
			return raw, nil
		}
	}
}

// nextLine reads the next line of the stream, at most limits.MaxValue
// bytes, without its spaces around; it is valid until the next read.
func (l *streamedList) nextLine() ([]byte, error) {
	l.line = l.line[:0]
	for {
		fragment, err := l.events.ReadSlice('\n')
		if err == nil && len(l.line) == 0 {
			return bytes.TrimSpace(fragment), nil // the whole line, in the buffer
		}
		if l.line = append(l.line, fragment...); int64(len(l.line)) > limits.MaxValue() {
			return nil, &limits.ValueTooLargeError{}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(bytes.TrimSpace(l.line)) > 0:
			return bytes.TrimSpace(l.line), nil // the last line, without its newline
		case err != nil:
			return nil, err
		}
		return bytes.TrimSpace(l.line), nil
	}
}

// start writes the head of the list, and the first event. The list's
// keys are in the order the API server writes them on a list of the same
// objects, and output.ListMerger keeps on pages (but metadata, last): a
// built-in list's kind, apiVersion, items; a custom resource's (keys in
// order) apiVersion, items, kind.
func (l *streamedList) start(first listEvent) {
	kind := first.kind + "List"
	if l.table = isTable(first.kind, first.version); l.table {
		kind = first.kind
	}
	head, _ := json.Marshal(struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}{kind, first.version})
	if first.sorted && !l.table {
		l.kindLast, _ = json.Marshal(kind)
		head, _ = json.Marshal(struct {
			APIVersion string `json:"apiVersion"`
		}{first.version})
	}
	l.buf.Write(head[:len(head)-1])
	switch {
	case l.table && first.columns != nil:
		l.buf.WriteString(`,"columnDefinitions":`)
		l.buf.Write(first.columns)
		l.buf.WriteString(`,"rows":[`)
	case l.table: // none: no row came before the end
		l.buf.WriteString(`,"columnDefinitions":[],"rows":[`)
	default:
		l.buf.WriteString(`,"items":[`)
	}
	l.started = true
	l.add(first)
}

func (l *streamedList) add(e listEvent) {
	if e.end {
		l.ended, l.done, l.rv = true, true, e.rv
		meta, _ := json.Marshal(struct {
			ResourceVersion string `json:"resourceVersion"`
		}{e.rv})
		l.buf.WriteString(`]`)
		if l.kindLast != nil {
			l.buf.WriteString(`,"kind":`)
			l.buf.Write(l.kindLast)
		}
		l.buf.WriteString(`,"metadata":`)
		l.buf.Write(meta)
		l.buf.WriteString("}")
		return
	}
	if !l.table {
		l.item(e.object)
		return
	}
	for _, row := range e.rows {
		l.item(row)
	}
}

func (l *streamedList) item(item []byte) {
	if l.items > 0 {
		l.buf.WriteByte(',')
	}
	l.items++
	l.buf.Write(item)
}

func (l *streamedList) Read(p []byte) (int, error) {
	for l.buf.Len() == 0 {
		if l.done {
			return 0, io.EOF
		}
		e, err := l.next()
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = &transport.NetworkError{Err: errors.New("the streaming list ended before its last object (the watch timed out or the connection broke); run it again")}
		}
		if err != nil {
			return 0, err
		}
		l.add(e)
	}
	return l.buf.Read(p)
}

// splitEvent reads an event as the API server writes it,
// {"type":"ADDED","object":{…}}, without decoding its object again;
// anything else is decoded the slow way.
func splitEvent(raw []byte) (typ string, object []byte, ok bool) {
	rest, ok := bytes.CutPrefix(raw, []byte(`{"type":"`))
	end := bytes.IndexByte(rest, '"')
	if !ok || end < 0 {
		return "", nil, false
	}
	typ = string(rest[:end])
	if rest, ok = bytes.CutPrefix(rest[end+1:], []byte(`,"object":`)); !ok {
		return "", nil, false
	}
	object, ok = bytes.CutSuffix(rest, []byte("}"))
	return typ, object, ok && len(object) > 0 && object[0] == '{'
}

// startsAsEvent peeks at the answer: a watch event starts {"type":
// (metav1.WatchEvent's first field).
func startsAsEvent(r *bufio.Reader) bool {
	const event = `{"type"`
	for n := 1; n <= 64; n++ {
		head, err := r.Peek(n)
		if err != nil {
			return false
		}
		rest := bytes.TrimLeft(head, " \t\r\n")
		if len(rest) >= len(event) || !bytes.HasPrefix([]byte(event), rest) {
			return bytes.HasPrefix(rest, []byte(event))
		}
	}
	return false
}

// withoutTypeMeta is an event's object as its list gives it. The API
// server's typed encoder writes kind and apiVersion first, and a list of
// built-in objects carries them once, for all its items; a custom
// resource (unstructured: keys in order, apiVersion first) keeps them in
// its list's items too.
func withoutTypeMeta(object []byte) []byte {
	if rest, ok := cutTypeMeta(object); ok {
		return rest
	}
	dec := json.NewDecoder(bytes.NewReader(object))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return object
	}
	for _, want := range []string{"kind", "apiVersion"} {
		key, err := dec.Token()
		if err != nil || key != want {
			return object
		}
		if value, err := dec.Token(); err != nil {
			return object
		} else if _, isString := value.(string); !isString {
			return object
		}
	}
	rest := bytes.TrimLeft(object[dec.InputOffset():], " \t\r\n")
	if len(rest) > 0 && rest[0] == ',' {
		rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	}
	return append([]byte{'{'}, rest...)
}

// cutTypeMeta is withoutTypeMeta's fast way, for the API server's own
// form: {"kind":"K","apiVersion":"V", with no escape in K or V.
func cutTypeMeta(object []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(object, []byte(`{"kind":"`))
	for i, next := range []string{`","apiVersion":"`, `"`} {
		end := bytes.IndexByte(rest, '"')
		if !ok || end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
			return nil, false
		}
		if rest, ok = bytes.CutPrefix(rest[end:], []byte(next)); i == 1 && ok {
			switch {
			case bytes.HasPrefix(rest, []byte(",")):
				return append([]byte{'{'}, rest[1:]...), true
			case string(rest) == "}":
				return []byte("{}"), true
			}
			return nil, false
		}
	}
	return nil, false
}
