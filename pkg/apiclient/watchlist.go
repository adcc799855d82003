package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/limits"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// initialEventsEnd is the annotation of the BOOKMARK that ends a streaming
// list (metav1.InitialEventsAnnotationKey).
const initialEventsEnd = "k8s.io/initial-events-end"

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
// items (the bookmark is the stream's end): callers whose output shows
// the order page instead.
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
	watch.Query = withParams(spec.Query, url.Values{"sendInitialEvents": {"true"}, "resourceVersionMatch": {"NotOlderThan"}})
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
	limited := &eventLimit{r: resp.Body}
	list := &streamedList{ctx: ctx, limited: limited, events: json.NewDecoder(limited)}
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

// streamedList is a streaming list's events read as one list document:
// the head once the first event says the kind, then each ADDED object,
// then the end with the bookmark's resourceVersion.
type streamedList struct {
	ctx     context.Context
	limited *eventLimit // one event at most limits.MaxValue bytes
	events  *json.Decoder
	buf     bytes.Buffer
	items   int
	ended   bool // the initial-events-end bookmark was read
	done    bool // the document's end is in buf
	rv      string
}

// listEvent is what a streaming list's event says.
type listEvent struct {
	typ     string
	object  []byte // as a list's item
	kind    string
	version string
	rv      string
	end     bool // the bookmark that ends the initial events
}

// next reads the next event that matters: ADDED, or the end. An ERROR,
// a change, or anything that is not an event is an error.
func (l *streamedList) next() (listEvent, error) {
	for {
		var raw json.RawMessage
		l.limited.next(l.events)
		if err := l.events.Decode(&raw); err != nil {
			switch {
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				// The watch ended (its timeout) before the list did.
				return listEvent{}, io.ErrUnexpectedEOF
			case errors.As(err, new(*limits.ValueTooLargeError)), errors.As(err, new(*json.SyntaxError)), l.ctx.Err() != nil:
				return listEvent{}, err
			}
			return listEvent{}, transport.Classify(err)
		}
		var event struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		var object struct {
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
		if json.Unmarshal(raw, &event) != nil || event.Type == "" || json.Unmarshal(event.Object, &object) != nil {
			return listEvent{}, fmt.Errorf("not a watch event: %.100s", raw)
		}
		e := listEvent{typ: event.Type, kind: object.Kind, version: object.APIVersion, rv: object.Metadata.ResourceVersion}
		switch event.Type {
		case "ADDED":
			e.object = withoutTypeMeta(event.Object)
			return e, nil
		case "BOOKMARK":
			if object.Metadata.Annotations[initialEventsEnd] == "true" {
				e.end = true
				return e, nil
			}
			continue // progress only
		case "ERROR":
			return e, &transport.StatusError{Code: object.Code, Reason: object.Reason, Message: object.Message}
		}
		// A change before the end of the initial events (an older server):
		// the objects already given may not be the snapshot's.
		return e, exitcode.With(exitcode.Failed, fmt.Errorf("the server sent a %s event before the end of its streaming list", event.Type))
	}
}

// start writes the head of the list, and the first event.
func (l *streamedList) start(first listEvent) {
	head, _ := json.Marshal(struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}{first.kind + "List", first.version})
	l.buf.Write(head[:len(head)-1])
	l.buf.WriteString(`,"items":[`)
	l.add(first)
}

func (l *streamedList) add(e listEvent) {
	if e.end {
		l.ended, l.done, l.rv = true, true, e.rv
		meta, _ := json.Marshal(struct {
			ResourceVersion string `json:"resourceVersion"`
		}{e.rv})
		l.buf.WriteString(`],"metadata":`)
		l.buf.Write(meta)
		l.buf.WriteString("}")
		return
	}
	if l.items > 0 {
		l.buf.WriteByte(',')
	}
	l.items++
	l.buf.Write(e.object)
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

// withoutTypeMeta is an event's object as its list gives it. The API
// server's typed encoder writes kind and apiVersion first, and a list of
// built-in objects carries them once, for all its items; a custom
// resource (unstructured: keys in order, apiVersion first) keeps them in
// its list's items too.
func withoutTypeMeta(object []byte) []byte {
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
