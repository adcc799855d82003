package exchange

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output"
)

// resolver is a RESOURCE that resolves to fixed paths.
type resolver discovery.Resolved

func (r resolver) Resolve(context.Context, string, discovery.ResolveOptions) (*discovery.Resolved, error) {
	out := discovery.Resolved(r)
	return &out, nil
}

// A category lists what it may and reports, in one line each, what it may
// not; the exit code still says 4.
func TestRunCategoryGoesOnPastForbiddenTypes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/namespaces/ns1/pods", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"web"}}]}`))
	})
	mux.HandleFunc("/api/v1/namespaces/ns1/secrets", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(403)
		w.Write([]byte(`{"kind":"Status","reason":"Forbidden","message":"secrets is forbidden"}`))
	})
	s := httptest.NewTLSServer(mux)
	defer s.Close()
	u, _ := url.Parse(s.URL)
	api := &apiclient.Client{HTTP: s.Client(), Server: u}
	var out, errOut bytes.Buffer
	err := Run(context.Background(), api,
		resolver{Paths: []string{"/api/v1/namespaces/ns1/pods", "/api/v1/namespaces/ns1/secrets"}, Category: true, Namespaced: true},
		Options{
			PathOrResource: "all", Namespace: "ns1",
			Print: output.Options{Format: output.FormatName},
			Out:   &out, ErrOut: &errOut,
		})
	if code, _ := exitcode.Of(err); code != exitcode.HTTP4xx || !errors.As(err, new(*exitcode.ReportedError)) {
		t.Errorf("err %v, exit %d", err, code)
	}
	if out.String() != "pod/web\n" || errOut.String() != "Error from server (Forbidden): secrets is forbidden\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
}
