package wait

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// Waiter waits for the objects of one collection: one by name, or every
// object a selector matches.
type Waiter struct {
	HTTP   *http.Client
	Server *url.URL
	// ListPath is the collection (/api/v1/namespaces/ns1/pods); Query what
	// was typed after it.
	ListPath      string
	Query         url.Values
	Name          string // "" for every object the selectors match
	LabelSelector string
	FieldSelector string
	// Describe names what is waited for in messages ("pods/web", "pods
	// with -l app=web").
	Describe string

	For *Condition
	// Timeout ends the wait unmet (NotMetError); 0 looks once.
	Timeout time.Duration
	// Notices receives what happens on the way: a broken connection
	// resumed, a relist after 410 Gone.
	Notices io.Writer
}

// Object is one object that met the condition, as the server last sent it.
type Object struct {
	Ref string          // kubectl's kind[.group]/name: pod/web, deployment.apps/web
	Raw json.RawMessage // the object itself
}

// NotMetError is the wait running out of time: exit 1, with what was seen.
type NotMetError struct{ Msg string }

func (e *NotMetError) Error() string { return e.Msg }

// ExitCode is 1: the condition was not met (SPEC §5).
func (e *NotMetError) ExitCode() int { return 1 }

// state is what the list and the watch have shown so far.
type state struct {
	objects map[string]Object // by namespace/name
	// unmet holds the keys of the objects that do not meet the condition,
	// checked once per change of the object, not once per event.
	unmet   map[string]bool
	check   func(raw []byte) bool
	order   []string // keys in the order they were first seen
	gone    []Object // deleted while waiting (--for delete)
	rv      string
	kind    string // the list's item kind and apiVersion, for items without them
	version string
}

// Run waits until every object meets the condition and returns them (for
// delete: the ones seen to go). An API error (403 for list or watch) ends
// it at once.
func (w *Waiter) Run(parent context.Context) ([]Object, error) {
	ctx := parent
	if w.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(parent, w.Timeout)
		defer cancel()
	}
	// Only --timeout running out is "not met"; the caller's end (Ctrl-C,
	// --max-time) is its own error.
	timedOut := func(st *state, err error) error {
		if parent.Err() != nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return err
		}
		return &NotMetError{Msg: fmt.Sprintf("timed out after %s waiting for %s: %s", w.Timeout, w.Describe, w.lastSeen(context.Background(), st))}
	}
	st, err := w.list(ctx)
	if err != nil {
		return nil, timedOut(st, err)
	}
	if done, met := w.done(ctx, st); done {
		return met, nil
	}
	if w.Timeout == 0 {
		return nil, &NotMetError{Msg: "condition not met for " + w.Describe + ": " + w.lastSeen(ctx, st)}
	}
	quiet := 0 // watches in a row that ended with nothing
	var lastConnected time.Time
	for {
		resp, err := w.send(ctx, url.Values{"watch": {"true"}, "allowWatchBookmarks": {"true"}, "resourceVersion": {st.rv}})
		var met []Object
		done := false
		if err == nil {
			lastConnected = time.Now()
			before := st.rv
			done, met, err = w.follow(ctx, resp.Body, st)
			resp.Body.Close()
			if done {
				return met, nil
			}
			if err == nil && st.rv == before {
				quiet++
			} else if err == nil {
				quiet = 0
			}
		}
		var status *transport.StatusError
		switch {
		case ctx.Err() != nil:
			return nil, timedOut(st, ctx.Err())
		case errors.As(err, &status) && status.Code == http.StatusGone, errors.Is(err, errGone):
			// Too far behind to resume: what exists now is a fresh list.
			fmt.Fprintf(w.Notices, "kcurl: the watch fell behind (410 Gone); listing %s again\n", w.Describe)
			if st, err = w.list(ctx); err != nil {
				return nil, timedOut(st, err)
			}
			if done, met := w.done(ctx, st); done {
				return met, nil
			}
		case brokenConnection(err) && time.Since(lastConnected) < time.Minute && !lastConnected.IsZero():
			fmt.Fprintf(w.Notices, "kcurl: the watch's connection broke: %v; resuming\n", err)
			quiet++
			if err := sleep(ctx, backoff(quiet)); err != nil {
				return nil, timedOut(st, err)
			}
		case err != nil:
			return nil, err
		case quiet > 0:
			if err := sleep(ctx, backoff(quiet)); err != nil {
				return nil, timedOut(st, err)
			}
		}
	}
}

var errGone = errors.New("gone")

// list reads what exists now: the state the watch starts from.
func (w *Waiter) list(ctx context.Context) (*state, error) {
	st := &state{objects: map[string]Object{}, unmet: map[string]bool{},
		check: func(raw []byte) bool { met, _ := w.For.check(ctx, raw); return met }}
	resp, err := w.send(ctx, nil)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	var list struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Metadata   struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		return st, fmt.Errorf("the list of %s is not JSON: %w", w.Describe, transport.Classify(err))
	}
	if list.Metadata.ResourceVersion == "" && list.Items == nil && !strings.HasSuffix(list.Kind, "List") {
		return st, fmt.Errorf("%s is not a list the server can watch (kind %q)", w.ListPath, list.Kind)
	}
	st.rv, st.kind, st.version = list.Metadata.ResourceVersion, strings.TrimSuffix(list.Kind, "List"), list.APIVersion
	for _, item := range list.Items {
		st.put(item)
	}
	return st, nil
}

// follow applies the events of one watch response to st until the
// condition is met, the server ends the watch (no error), or it fails.
func (w *Waiter) follow(ctx context.Context, body io.Reader, st *state) (bool, []Object, error) {
	dec := json.NewDecoder(body)
	for {
		var event struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := dec.Decode(&event); err == io.EOF {
			return false, nil, nil
		} else if err != nil {
			if ctx.Err() != nil {
				return false, nil, ctx.Err()
			}
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) {
				return false, nil, fmt.Errorf("the watch stream is not JSON: %v", err)
			}
			return false, nil, transport.Classify(err)
		}
		meta := objectMeta(event.Object)
		switch event.Type {
		case "ADDED", "MODIFIED":
			st.put(event.Object)
		case "DELETED":
			st.remove(event.Object)
		case "BOOKMARK":
		case "ERROR":
			var status struct {
				Code    int    `json:"code"`
				Reason  string `json:"reason"`
				Message string `json:"message"`
			}
			_ = json.Unmarshal(event.Object, &status)
			if status.Code == http.StatusGone {
				return false, nil, errGone
			}
			return false, nil, &transport.StatusError{Code: status.Code, Reason: status.Reason, Message: status.Message}
		default:
			return false, nil, fmt.Errorf("the server sent something that is not a watch event: %.200s", event.Object)
		}
		if meta.ResourceVersion != "" {
			st.rv = meta.ResourceVersion
		}
		if event.Type == "BOOKMARK" {
			continue
		}
		if done, met := w.done(ctx, st); done {
			return true, met, nil
		}
	}
}

// done: every object meets the condition, and there is at least one (a
// selector that matches nothing yet has nothing ready); for delete, none
// is left.
func (w *Waiter) done(ctx context.Context, st *state) (bool, []Object) {
	if w.For.kind == forDelete {
		return len(st.objects) == 0, st.gone
	}
	if len(st.objects) == 0 {
		return false, nil
	}
	if len(st.unmet) > 0 {
		return false, nil
	}
	met := make([]Object, 0, len(st.order))
	for _, key := range st.order {
		met = append(met, st.objects[key])
	}
	return true, met
}

// lastSeen says why the condition is not met, object by object.
func (w *Waiter) lastSeen(ctx context.Context, st *state) string {
	if st == nil || st.rv == "" && len(st.objects) == 0 {
		return "nothing was listed in time"
	}
	if len(st.objects) == 0 {
		if w.Name != "" {
			return "it does not exist"
		}
		return "nothing matches"
	}
	var why []string
	for _, key := range st.order {
		o := st.objects[key]
		if ok, seen := w.For.check(ctx, o.Raw); !ok {
			why = append(why, o.Ref+": "+seen)
		}
	}
	if len(why) > 1 {
		return fmt.Sprintf("%d of %d not met: %s", len(why), len(st.objects), strings.Join(why, "; "))
	}
	return strings.Join(why, "; ")
}

func (st *state) put(raw json.RawMessage) {
	meta := objectMeta(raw)
	key := meta.Namespace + "/" + meta.Name
	if _, seen := st.objects[key]; !seen {
		st.order = append(st.order, key)
	}
	st.objects[key] = Object{Ref: st.ref(raw, meta), Raw: raw}
	if st.check(raw) {
		delete(st.unmet, key)
	} else {
		st.unmet[key] = true
	}
}

func (st *state) remove(raw json.RawMessage) {
	meta := objectMeta(raw)
	key := meta.Namespace + "/" + meta.Name
	if _, seen := st.objects[key]; !seen {
		return
	}
	delete(st.objects, key)
	delete(st.unmet, key)
	st.order = slices.DeleteFunc(st.order, func(k string) bool { return k == key })
	st.gone = append(st.gone, Object{Ref: st.ref(raw, meta), Raw: raw})
}

// ref is kubectl's name for an object: its kind in lower case, the group
// after a dot, then its name (printers.NamePrinter).
func (st *state) ref(raw json.RawMessage, meta metadata) string {
	kind, apiVersion := meta.Kind, meta.APIVersion
	if kind == "" { // items of a built-in list carry no kind of their own
		kind, apiVersion = st.kind, st.version
	}
	group, _, hasGroup := strings.Cut(apiVersion, "/")
	if !hasGroup {
		group = ""
	}
	if kind == "" {
		kind = "<unknown>"
	}
	name := strings.ToLower(kind)
	if group != "" {
		name += "." + group
	}
	return name + "/" + meta.Name
}

type metadata struct {
	Kind, APIVersion string
	Name, Namespace  string
	ResourceVersion  string
}

func objectMeta(raw json.RawMessage) metadata {
	var obj struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Metadata   struct {
			Name            string `json:"name"`
			Namespace       string `json:"namespace"`
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(raw, &obj)
	return metadata{obj.Kind, obj.APIVersion, obj.Metadata.Name, obj.Metadata.Namespace, obj.Metadata.ResourceVersion}
}

// send GETs the collection with the selectors (the name as a field
// selector) and extra parameters, and returns a successful response.
func (w *Waiter) send(ctx context.Context, extra url.Values) (*http.Response, error) {
	spec := request.Spec{Path: w.ListPath, LabelSelector: w.LabelSelector, FieldSelector: w.FieldSelector, Accept: "application/json", Query: url.Values{}}
	if w.Name != "" {
		spec.FieldSelector = strings.TrimPrefix(spec.FieldSelector+",metadata.name="+w.Name, ",")
	}
	for k, v := range w.Query {
		spec.Query[k] = v
	}
	for k, v := range extra {
		spec.Query[k] = v
	}
	req, err := spec.Build(ctx, w.Server)
	if err != nil {
		return nil, err
	}
	resp, err := w.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, transport.ResponseError(resp)
	}
	return resp, nil
}

func brokenConnection(err error) bool {
	var network *transport.NetworkError
	return errors.As(err, &network)
}

func backoff(quiet int) time.Duration {
	return min(100*time.Millisecond<<min(quiet-1, 6), 5*time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// SplitObjectPath tells a collection's path from one object's: after
// /api/VERSION or /apis/GROUP/VERSION, a collection has an odd number of
// segments (pods; namespaces/NS/pods) and an object an even one (pods/web;
// namespaces/NS/pods/web; namespaces/NS, a namespace).
func SplitObjectPath(path string) (collection, name string, err error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	prefix := 0
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		prefix = 2
	case len(parts) >= 3 && parts[0] == "apis":
		prefix = 3
	}
	rest := len(parts) - prefix
	if prefix == 0 || rest < 1 || rest > 4 || slices.Contains(parts, "") {
		return "", "", fmt.Errorf("%s is not the path of a collection or an object (/api/v1/namespaces/NS/pods[/NAME], /apis/GROUP/VERSION/…)", path)
	}
	if rest%2 == 1 {
		return "/" + strings.Join(parts, "/"), "", nil
	}
	return "/" + strings.Join(parts[:len(parts)-1], "/"), parts[len(parts)-1], nil
}
