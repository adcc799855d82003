//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// fakeKubelet stands in for the one part of a node the API server talks to
// for logs: GET /containerLogs/NS/POD/CONTAINER. The API server in front of
// it is the real one; this only lets a log exist without a container
// runtime. It records what the API server asked for.
type fakeKubelet struct {
	server *httptest.Server
	mu     sync.Mutex
	asked  []string      // request URIs
	more   chan struct{} // a followed log writes its next line on each send
}

func startFakeKubelet(t *testing.T) *fakeKubelet {
	k := &fakeKubelet{more: make(chan struct{})}
	k.server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		k.asked = append(k.asked, r.URL.RequestURI())
		k.mu.Unlock()
		container := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		lines := []string{container + " line 1", container + " line 2", container + " line 3"}
		if n, err := strconv.Atoi(r.URL.Query().Get("tailLines")); err == nil && n < len(lines) {
			lines = lines[len(lines)-n:]
		}
		w.Header().Set("Content-Type", "text/plain")
		for _, l := range lines {
			if r.URL.Query().Get("timestamps") == "true" {
				l = "2026-11-27T10:00:00.000000000Z " + l
			}
			fmt.Fprintln(w, l)
		}
		w.(http.Flusher).Flush()
		if r.URL.Query().Get("follow") != "true" {
			return
		}
		for i := 4; ; i++ {
			select {
			case <-k.more:
				fmt.Fprintf(w, "%s line %d\n", container, i)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	}))
	k.server.Config.ErrorLog = log.New(io.Discard, "", 0)
	k.server.StartTLS()
	t.Cleanup(k.server.Close)
	return k
}

func (k *fakeKubelet) last() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.asked) == 0 {
		return ""
	}
	return k.asked[len(k.asked)-1]
}

// nodeWithKubelet registers a Node whose kubelet is k, and a Pod with two
// containers scheduled on it, in the sandbox's namespace.
func nodeWithKubelet(t *testing.T, s *sandbox, k *fakeKubelet) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(k.server.Listener.Addr().String())
	portNum, _ := strconv.Atoi(port)
	node := s.NS + "-node"
	adminMust(t, "POST", "/api/v1/nodes", obj{"metadata": obj{"name": node}}, nil)
	t.Cleanup(func() { adminDo(t, "DELETE", "/api/v1/nodes/"+node, nil) })
	code, body := adminDoPatch(t, "/api/v1/nodes/"+node+"/status", fmt.Sprintf(
		`{"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":%d}}}}`, portNum))
	if code != 200 {
		t.Fatalf("node status: HTTP %d: %s", code, body)
	}
	adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/pods", obj{
		"metadata": obj{"name": "logger"},
		"spec": obj{"nodeName": node, "serviceAccountName": s.SA, "containers": []obj{
			{"name": "app", "image": "kcurl:e2e"}, {"name": "sidecar", "image": "kcurl:e2e"}}},
	}, nil)
	return "logger"
}

func TestLogs(t *testing.T) {
	s := newSandbox(t, exploreRules...)
	k := startFakeKubelet(t)
	pod := nodeWithKubelet(t, s, k)
	logs := "pods/" + pod + "/log"

	t.Run("-c on a log is the container, with --tail and --timestamps", func(t *testing.T) {
		harness.Expect(t, s.run(logs, "-c", "sidecar", "--tail", "2", "--timestamps"),
			"2026-11-27T10:00:00.000000000Z sidecar line 2\n2026-11-27T10:00:00.000000000Z sidecar line 3\n", "", 0)
		if got, want := k.last(), "/containerLogs/"+s.NS+"/"+pod+"/sidecar?tailLines=2&timestamps=true"; got != want {
			t.Errorf("the kubelet was asked %q, want %q", got, want)
		}
	})
	t.Run("--since is sinceSeconds", func(t *testing.T) {
		harness.Expect(t, s.run(logs, "--container=app", "--since", "5m", "--tail=1"), "app line 3\n", "", 0)
		if got, want := k.last(), "/containerLogs/"+s.NS+"/"+pod+"/app?sinceSeconds=300&tailLines=1"; got != want {
			t.Errorf("the kubelet was asked %q, want %q", got, want)
		}
	})
	t.Run("-f streams each line as it is written, and Ctrl-C ends it", func(t *testing.T) {
		f := s.start(logs, "-f", "-c", "app", "--tail", "1")
		if got := f.next(5 * time.Second); got != "app line 3" {
			t.Fatalf("first line %q", got)
		}
		for i := 4; i <= 6; i++ {
			start := time.Now()
			k.more <- struct{}{}
			if got := f.next(5 * time.Second); got != fmt.Sprintf("app line %d", i) {
				t.Fatalf("line %q", got)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("line %d took %v to arrive, want within 1 s", i, d)
			}
		}
		if r := f.interrupt(); r.Code != 0 || r.Stderr != "" {
			t.Errorf("Ctrl-C should end a followed log with exit 0:\n%s", r)
		}
	})
	t.Run("log flags elsewhere are a usage error", func(t *testing.T) {
		harness.Expect(t, s.run("pods", "--tail", "1"), "", "kcurl: --tail goes with a pod's log: kcurl pods/NAME/log --tail …\nRun 'kcurl --help' for usage.\n", 2)
	})
}
