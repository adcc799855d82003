package exchange

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/request"
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

// A table read by a streaming list prints what pages of DefaultPageSize
// print, byte for byte: its rows are aligned in the same chunks
// (output's rowsAtOnce), here with names that grow, so that each chunk
// widens the column. Pages of another size align otherwise.
func TestAllTableStreamsAsItPages(t *testing.T) {
	const rows = 1234
	columns := `[{"name":"Name","type":"string","priority":0},{"name":"Data","type":"integer","priority":0}]`
	row := func(i int) string {
		return fmt.Sprintf(`{"cells":["%s-%d",%d],"object":{"metadata":{"name":"x"}}}`, strings.Repeat("n", 1+i/200), i, i%7)
	}
	var watches, pages atomic.Int32
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		q := r.URL.Query()
		if q.Get("watch") == "true" {
			watches.Add(1)
			for i := range rows {
				defs := "null"
				if i == 0 {
					defs = columns
				}
				fmt.Fprintf(w, `{"type":"ADDED","object":{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{},"columnDefinitions":%s,"rows":[%s]}}`+"\n", defs, row(i))
			}
			fmt.Fprint(w, `{"type":"BOOKMARK","object":{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"9"},"rows":[{"cells":["",0],"object":{"metadata":{"annotations":{"k8s.io/initial-events-end":"true"}}}}]}}`+"\n")
			return
		}
		pages.Add(1)
		limit, _ := strconv.Atoi(q.Get("limit"))
		from, _ := strconv.Atoi(q.Get("continue"))
		to := min(from+limit, rows)
		next := ""
		if to < rows {
			next = strconv.Itoa(to)
		}
		var page []string
		for i := from; i < to; i++ {
			page = append(page, row(i))
		}
		fmt.Fprintf(w, `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"9","continue":%q},"columnDefinitions":%s,"rows":[%s]}`, next, columns, strings.Join(page, ","))
	}))
	defer s.Close()
	u, _ := url.Parse(s.URL)
	table := func(limit int64) (out string, watched, paged int32) {
		watches.Store(0)
		pages.Store(0)
		var stdout, errOut bytes.Buffer
		api := &apiclient.Client{HTTP: s.Client(), Server: u}
		api.Retry.Notes = &errOut
		spec := request.Spec{Accept: output.TableAccept, Limit: limit}
		err := Run(context.Background(), api, resolver{Paths: []string{"/api/v1/namespaces/ns1/configmaps"}, Namespaced: true},
			Options{PathOrResource: "cm", Namespace: "ns1", All: true, Spec: spec, Table: &output.TableOptions{}, Out: &stdout, ErrOut: &errOut})
		if err != nil || errOut.Len() > 0 {
			t.Fatalf("limit %d: err %v, stderr %q", limit, err, errOut.String())
		}
		return stdout.String(), watches.Load(), pages.Load()
	}
	streamed, watched, _ := table(0)
	paged, _, pageRequests := table(DefaultPageSize)
	other, _, _ := table(300)
	if watched != 1 || pageRequests != 3 {
		t.Errorf("%d watches for the streaming list, %d pages for the paged one", watched, pageRequests)
	}
	if lines := strings.Count(streamed, "\n"); lines != rows+1 || streamed != paged {
		t.Errorf("%d lines streamed; streamed and paged differ:\n%.2000s\n%.2000s", lines, streamed, paged)
	}
	if streamed == other {
		t.Errorf("pages of 300 align as the streaming list does: the test shows nothing")
	}
}
