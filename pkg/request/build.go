// Package request turns what the user typed (a PATH and request flags) into
// the *http.Request kcurl sends, and into the equivalent curl command.
package request

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// PatchTypes maps --type to the Content-Type the API server expects.
var PatchTypes = map[string]string{
	"json":      "application/json-patch+json",
	"merge":     "application/merge-patch+json",
	"strategic": "application/strategic-merge-patch+json",
	"apply":     "application/apply-patch+yaml",
}

// Methods kcurl sends.
var Methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// DefaultAccept asks for JSON and takes what comes (logs are text).
const DefaultAccept = "application/json, */*"

// Spec is one request as the user described it.
type Spec struct {
	Method         string // -X; "" means GET, or POST with a body, or PATCH with --type
	Path           string // starts with /, may carry a query and {namespace}
	Namespace      string // replaces {namespace} and {ns}
	Body           []byte // JSON, from LoadBody; nil for none
	PatchType      string // --type
	FieldManager   string // --field-manager
	ForceConflicts bool
	DryRun         bool
	// FieldValidation is a write's fieldValidation= (Strict, Warn,
	// Ignore): what the server does with fields it does not know.
	FieldValidation string
	Headers         []string // -H "Name: value"; "Name:" removes a default header
	LabelSelector   string
	FieldSelector   string
	// Name selects one object of a list by its name, beside FieldSelector:
	// the API server watches lists, not objects (a GET of one ignores
	// watch=true), so a watch of TYPE/NAME watches the list, selected by
	// name, as kubectl get NAME -w does.
	Name   string
	Limit  int64
	Accept string // "" means DefaultAccept

	// Watch asks for a stream of changes, with bookmarks to resume from.
	Watch bool
	Log   LogOptions // pods/NAME/log

	// Query holds more parameters (continue, resourceVersion). It, Watch
	// and Log replace the same parameter typed in Path.
	Query url.Values
}

// LogOptions are the query parameters of a pod's log.
type LogOptions struct {
	Follow     bool
	Container  string
	TailLines  *int64 // nil: every line
	Since      Since
	Timestamps bool
	Previous   bool
}

// Since is --since: a time, or a number of seconds back.
type Since struct {
	Time    time.Time
	Seconds int64
}

// ParseSince takes a duration (5m) or an RFC 3339 time, as kubectl logs
// --since and --since-time do.
func ParseSince(v string) (Since, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return Since{Time: t}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return Since{Seconds: int64((d + time.Second - 1) / time.Second)}, nil
	}
	return Since{}, exitcode.Usagef("invalid --since %q: give a duration such as 5m or 1h, or an RFC 3339 time", v)
}

// ResolveMethod applies the defaults curl and gh users expect and checks the
// combination; errors are usage errors.
func (s Spec) ResolveMethod() (string, error) {
	method := strings.ToUpper(s.Method)
	switch {
	case method != "":
		if !slices.Contains(Methods, method) {
			return "", usageErrorf("unsupported method %q: use one of %s", s.Method, strings.Join(Methods, ", "))
		}
	case s.PatchType != "":
		method = http.MethodPatch
	case s.Body != nil:
		method = http.MethodPost
	default:
		method = http.MethodGet
	}
	if s.PatchType != "" {
		if _, ok := PatchTypes[s.PatchType]; !ok {
			return "", usageErrorf("unknown --type %q: use json, merge, strategic or apply", s.PatchType)
		}
		if method != http.MethodPatch {
			return "", usageErrorf("--type is a patch type; it goes with -X PATCH, not %s", method)
		}
	}
	if (method == http.MethodGet || method == http.MethodHead) && s.Body != nil {
		return "", usageErrorf("a %s request has no body: drop -d, or choose -X POST, PUT, PATCH or DELETE", method)
	}
	if method == http.MethodPatch && len(s.Body) == 0 {
		return "", usageErrorf("PATCH needs a body (-d)")
	}
	if method == http.MethodPatch && s.PatchType == "json" && s.Body[0] != '[' {
		return "", usageErrorf("a JSON patch (--type json) is a list of operations, e.g. [{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":3}]")
	}
	if s.DryRun && (method == http.MethodGet || method == http.MethodHead) {
		return "", usageErrorf("--dry-run goes with a write (POST, PUT, PATCH, DELETE): a %s changes nothing", method)
	}
	if s.ForceConflicts && s.PatchType != "apply" {
		return "", usageErrorf("--force-conflicts goes with server-side apply (--type apply)")
	}
	return method, nil
}

// URL resolves the path against the server: placeholders replaced, the
// server's own path prefix kept (escaped as it was: a%2Fb), query flags
// appended to the typed query. It is the one place where a server and an
// API path are joined: every request kcurl sends is built here.
func (s Spec) URL(server *url.URL) (*url.URL, error) {
	if !strings.HasPrefix(s.Path, "/") {
		return nil, usageErrorf("%q is not an API path: paths start with / (e.g. /api/v1/namespaces/{namespace}/pods)", s.Path)
	}
	path := s.Path
	if s.Namespace != "" && (strings.Contains(path, "{namespace}") || strings.Contains(path, "{ns}")) {
		if err := CheckName("namespace", s.Namespace); err != nil {
			return nil, err
		}
		ns := url.PathEscape(s.Namespace)
		path = strings.ReplaceAll(strings.ReplaceAll(path, "{namespace}", ns), "{ns}", ns)
	}
	ref, err := url.Parse(path)
	if err != nil || ref.Scheme != "" || ref.Host != "" {
		return nil, usageErrorf("invalid path %q", s.Path)
	}
	for _, seg := range strings.Split(ref.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, usageErrorf("%q holds the path segment %q: kcurl sends no path that a server or a proxy would shorten to another one", s.Path, seg)
		}
	}
	u := *server
	u.Path, u.RawPath = strings.TrimSuffix(server.Path, "/")+ref.Path, ""
	if ref.RawPath != "" || server.RawPath != "" {
		// Either part was escaped in a way of its own (a%2Fb): keep both
		// spellings rather than let the server's stale RawPath be dropped.
		u.RawPath = strings.TrimSuffix(server.EscapedPath(), "/") + ref.EscapedPath()
	}
	u.Fragment = ""
	u.RawQuery = ref.RawQuery
	replacing := s.replacing()
	if typed, err := url.ParseQuery(ref.RawQuery); err == nil && ref.RawQuery != "" {
		replaced := false
		for k := range replacing {
			if _, ok := typed[k]; ok {
				delete(typed, k)
				replaced = true
			}
		}
		if replaced { // only then is the typed query re-encoded
			u.RawQuery = typed.Encode()
		}
	}
	if extra := s.query(replacing).Encode(); extra != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += extra
	}
	return &u, nil
}

// CheckName refuses a namespace, a name or a subresource (what says which)
// that would not stay one path segment, as client-go does: "." and "..",
// and anything holding "/" or "%". Exit 2, before anything is sent.
func CheckName(what, name string) error {
	switch {
	case name == "." || name == "..":
		return usageErrorf("%s %q: a path segment, not a name", what, name)
	case strings.ContainsAny(name, "/%"):
		return usageErrorf("%s %q: a name may not hold \"/\" or \"%%\"", what, name)
	}
	return nil
}

// query is every parameter the flags ask for, in one place; replacing's
// win over the others.
func (s Spec) query(replacing url.Values) url.Values {
	q := url.Values{}
	if s.DryRun {
		q.Set("dryRun", "All")
	}
	fieldManager := s.FieldManager
	if fieldManager == "" && s.PatchType == "apply" {
		fieldManager = "kcurl"
	}
	if fieldManager != "" {
		q.Set("fieldManager", fieldManager)
	}
	if s.ForceConflicts {
		q.Set("force", "true")
	}
	if s.FieldValidation != "" {
		q.Set("fieldValidation", s.FieldValidation)
	}
	if s.LabelSelector != "" {
		q.Set("labelSelector", s.LabelSelector)
	}
	fieldSelector := s.FieldSelector
	if s.Name != "" {
		fieldSelector = strings.TrimPrefix(fieldSelector+",metadata.name="+s.Name, ",")
	}
	if fieldSelector != "" {
		q.Set("fieldSelector", fieldSelector)
	}
	if s.Limit > 0 {
		q.Set("limit", strconv.FormatInt(s.Limit, 10))
	}
	for k, v := range replacing {
		q[k] = v
	}
	return q
}

// replacing are the parameters that replace the same ones typed in the
// path: a watch's, a log's, and Query.
func (s Spec) replacing() url.Values {
	q := url.Values{}
	if s.Watch {
		q.Set("watch", "true")
		q.Set("allowWatchBookmarks", "true")
	}
	l := s.Log
	if l.Follow {
		q.Set("follow", "true")
	}
	if l.Container != "" {
		q.Set("container", l.Container)
	}
	if l.TailLines != nil {
		q.Set("tailLines", strconv.FormatInt(*l.TailLines, 10))
	}
	if !l.Since.Time.IsZero() {
		q.Set("sinceTime", l.Since.Time.UTC().Format(time.RFC3339))
	} else if l.Since.Seconds > 0 {
		q.Set("sinceSeconds", strconv.FormatInt(l.Since.Seconds, 10))
	}
	if l.Timestamps {
		q.Set("timestamps", "true")
	}
	if l.Previous {
		q.Set("previous", "true")
	}
	for k, v := range s.Query {
		q[k] = v
	}
	return q
}

// Build makes the request. The body can be sent twice (GetBody), so the
// transport can retry after re-reading a rotated token.
func (s Spec) Build(ctx context.Context, server *url.URL) (*http.Request, error) {
	method, err := s.ResolveMethod()
	if err != nil {
		return nil, err
	}
	u, err := s.URL(server)
	if err != nil {
		return nil, err
	}
	var req *http.Request
	if s.Body != nil {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(s.Body))
	} else {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), nil)
	}
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	accept := s.Accept
	if accept == "" {
		accept = DefaultAccept
	}
	req.Header.Set("Accept", accept)
	if s.Body != nil {
		contentType := "application/json"
		if method == http.MethodPatch {
			contentType = PatchTypes[s.PatchType]
			if contentType == "" {
				contentType = PatchTypes["merge"]
			}
		}
		req.Header.Set("Content-Type", contentType)
	}
	typed := map[string]bool{} // a typed header replaces kcurl's default of that name
	for _, h := range s.Headers {
		name, value, ok := strings.Cut(h, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !validHeaderName(name) || !validHeaderValue(value) {
			return nil, usageErrorf("invalid header %q: write -H 'Name: value'", h)
		}
		key := http.CanonicalHeaderKey(name)
		switch {
		case key == "Host":
			req.Host = value // "" is the URL's host again
		case value == "":
			// curl: "Name:" removes a header kcurl would send. The name stays
			// with no values, as httputil.ReverseProxy marks it, so that the
			// transport does not add its own default (User-Agent,
			// Accept-Encoding, the token) back.
			req.Header[key] = nil
			typed[key] = false
		default:
			if !typed[key] {
				typed[key] = true
				req.Header.Del(key)
			}
			req.Header.Add(key, value)
		}
	}
	return req, nil
}

// validHeaderName accepts an HTTP token (RFC 9110 §5.6.2), so that a header
// net/http would refuse to send is a usage error and not a network one.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x80 || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue rejects control characters (a newline would start a new
// header); tabs are allowed.
func validHeaderValue(value string) bool {
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
