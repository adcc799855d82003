package wait

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/request"
)

// Waiter waits for the objects of one collection: one by name, or every
// object the selectors match.
type Waiter struct {
	Client *apiclient.Client
	// List is the collection (its Path, with what was typed after it),
	// with Name, LabelSelector and FieldSelector choosing the objects.
	List request.Spec
	// Describe names what is waited for in messages ("pods/web", "pods
	// -l app=web").
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

// lastSeenFor bounds the jq filter's runs that say, after --timeout, what
// was last seen.
const lastSeenFor = 500 * time.Millisecond

// NotMetError is the wait running out of time: exit 1, with what was seen.
type NotMetError struct{ Msg string }

func (e *NotMetError) Error() string { return e.Msg }

// ExitCode is 1: the condition was not met (docs/exit-codes.md).
func (e *NotMetError) ExitCode() int { return exitcode.Failed }

// state is what the list and the watch have shown so far.
type state struct {
	objects map[string]Object // by namespace/name
	// unmet holds the keys of the objects that do not meet the condition,
	// checked once per change of the object, not once per event.
	unmet map[string]bool
	// check runs the condition on an object: met, or stopped (its jq
	// expression was still running when the wait's time ran out).
	check func(raw []byte) (met, stopped bool)
	// stopped is the object whose check was stopped, when the last one
	// was.
	stopped string
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
	// --max-time) is its own error. A jq expression that was still
	// running then says so: it, not the server, took the time.
	timedOut := func(st *state, err error) error {
		if st != nil && st.stopped != "" && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			if parent.Err() != nil {
				return &output.OutOfTimeError{} // --max-time: the caller names it
			}
			return &NotMetError{Msg: fmt.Sprintf("jq ran past --timeout %s: --for %s did not finish on %s", w.Timeout, w.For.Text, st.stopped)}
		}
		if parent.Err() != nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return err
		}
		return &NotMetError{Msg: fmt.Sprintf("timed out after %s waiting for %s: %s", w.Timeout, w.Describe, w.lastSeen(context.WithoutCancel(ctx), st))}
	}
	st, err := w.list(ctx)
	if err != nil {
		return nil, timedOut(st, err)
	}
	if done, met := w.done(st); done {
		return met, nil
	}
	if w.Timeout == 0 {
		return nil, &NotMetError{Msg: "condition not met for " + w.Describe + ": " + w.lastSeen(ctx, st)}
	}
	// The watch of -w: resumed from the last resourceVersion when the
	// server ends it or the connection breaks, bookmarks included; listed
	// again after a 410.
	var met []Object
	err = w.Client.FollowList(ctx, st.rv, apiclient.ListWatch{
		Collection: w.List, Describe: w.Describe, Notices: w.Notices,
		Event: func(e apiclient.Event) (bool, error) {
			switch e.Type {
			case "ADDED", "MODIFIED":
				st.put(e.Object)
			case "DELETED":
				st.remove(e.Object)
			default:
				return false, exitcode.With(exitcode.Failed, fmt.Errorf("the server sent an event of an unknown type: %.200s", e.Raw))
			}
			var done bool
			done, met = w.done(st)
			return done, nil
		},
		Relist: func(ctx context.Context) (rv string, done bool, err error) {
			st, met, done, err = w.relist(ctx, st)
			return st.rv, done, err
		},
	})
	switch {
	case err == nil:
		return met, nil
	case ctx.Err() != nil:
		return nil, timedOut(st, err)
	default:
		return nil, err
	}
}

// relist lists again after a 410 Gone: what exists now is a fresh list,
// and what went in between, unseen, is gone. A list that fails leaves the
// state as it was: a timeout says what was seen last.
func (w *Waiter) relist(ctx context.Context, before *state) (st *state, met []Object, done bool, err error) {
	if st, err = w.list(ctx); err != nil {
		return before, nil, false, err
	}
	st.gone = before.gone
	for _, key := range before.order {
		if _, still := st.objects[key]; !still {
			st.gone = append(st.gone, before.objects[key])
		}
	}
	done, met = w.done(st)
	return st, met, done, nil
}

// list reads what exists now: the state the watch starts from.
func (w *Waiter) list(ctx context.Context) (*state, error) {
	st := &state{objects: map[string]Object{}, unmet: map[string]bool{}}
	st.check = func(raw []byte) (bool, bool) {
		met, _, stopped := w.For.evaluate(ctx, raw)
		return met, stopped
	}
	resp, err := w.Client.Send(ctx, w.List)
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
	if err := apiclient.DecodeJSON(resp.Body, &list); err != nil {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		return st, fmt.Errorf("the list of %s: %w", w.Describe, err)
	}
	if list.Metadata.ResourceVersion == "" && list.Items == nil && !strings.HasSuffix(list.Kind, "List") {
		return st, exitcode.With(exitcode.Failed, fmt.Errorf("%s is not a list the server can watch (kind %q)", w.List.Path, list.Kind))
	}
	st.rv, st.kind, st.version = list.Metadata.ResourceVersion, strings.TrimSuffix(list.Kind, "List"), list.APIVersion
	for _, item := range list.Items {
		st.put(item)
	}
	return st, nil
}

// done: every object meets the condition, and there is at least one (a
// selector that matches nothing yet has nothing ready); for delete, none
// is left.
func (w *Waiter) done(st *state) (bool, []Object) {
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

// lastSeen says why the condition is not met, object by object, its jq
// filter given lastSeenFor at most: a filter that never ends (def f: f; f)
// must not hold the wait past its --timeout.
func (w *Waiter) lastSeen(ctx context.Context, st *state) string {
	ctx, cancel := context.WithTimeout(ctx, lastSeenFor)
	defer cancel()
	if st == nil || st.rv == "" && len(st.objects) == 0 {
		return "nothing was listed in time"
	}
	if len(st.objects) == 0 {
		if w.List.Name != "" {
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
	met, stopped := st.check(raw)
	st.stopped = ""
	if stopped {
		st.stopped = st.objects[key].Ref
	}
	if met {
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
		return "", "", exitcode.Usagef("%s is not the path of a collection or an object (/api/v1/namespaces/NS/pods[/NAME], /apis/GROUP/VERSION/…)", path)
	}
	if rest%2 == 1 {
		return "/" + strings.Join(parts, "/"), "", nil
	}
	return "/" + strings.Join(parts[:len(parts)-1], "/"), parts[len(parts)-1], nil
}
