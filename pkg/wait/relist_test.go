package wait

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/request"
)

// A server that answers 410 to every watch is listed again ever more
// slowly, not hundreds of times a second.
func TestConstantGoneBacksOff(t *testing.T) {
	var lists atomic.Int64
	w := waitForDeleteOnGone(t, 1500*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		lists.Add(1)
		w.Write([]byte(dbList))
	})
	if _, err := w.Run(context.Background()); err == nil {
		t.Fatal("met")
	}
	if n := lists.Load(); n > 8 {
		t.Errorf("%d lists in 1.5 s: no backoff", n)
	}
}

// A wait that times out while it lists again after a 410 says what it saw
// last, not that nothing was listed.
func TestTimeoutDuringARelistSaysWhatWasSeen(t *testing.T) {
	var lists atomic.Int64
	w := waitForDeleteOnGone(t, 500*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		if lists.Add(1) > 1 {
			<-r.Context().Done() // the relist never answers
			return
		}
		w.Write([]byte(dbList))
	})
	_, err := w.Run(context.Background())
	if want := "timed out after 500ms waiting for configmaps/db: configmap/db: it still exists"; err == nil || err.Error() != want {
		t.Errorf("err %v, want %q", err, want)
	}
}

// dbList is the list of configmaps/db as it exists.
const dbList = `{"kind":"ConfigMapList","metadata":{"resourceVersion":"10"},"items":[{"metadata":{"name":"db","namespace":"ns1"}}]}`

// waitForDeleteOnGone is a wait for configmaps/db to be deleted, within
// timeout, on a server that answers 410 to every watch and each list with
// list.
func waitForDeleteOnGone(t *testing.T, timeout time.Duration, list http.HandlerFunc) *Waiter {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("watch") == "true" {
			w.WriteHeader(http.StatusGone)
			w.Write([]byte(`{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}`))
			return
		}
		list(w, r)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	cond, err := ParseCondition("delete", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Waiter{
		Client:   &apiclient.Client{HTTP: srv.Client(), Server: u},
		List:     request.Spec{Path: "/api/v1/namespaces/ns1/configmaps", Name: "db"},
		Describe: "configmaps/db", For: cond, Timeout: timeout, Notices: io.Discard,
	}
}
