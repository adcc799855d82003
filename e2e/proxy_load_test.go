//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"testing"
	"time"
)

// outcome is one request of the load: when it went out and came back, and
// whether it succeeded (200) or what it got instead.
type outcome struct {
	start, end time.Time
	ok         bool
	what       string
}

// load is 16 clients of the proxy, each sending one GET after another
// (every request bounded by a timeout) until stopped.
type load struct {
	mu       sync.Mutex
	outcomes []outcome
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startLoad(url string, clients int) *load {
	l := &load{stop: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: clients}}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				o := outcome{start: time.Now()}
				resp, err := client.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				o.end = time.Now()
				switch {
				case err != nil:
					o.what = err.Error()
				case resp.StatusCode != http.StatusOK:
					o.what = resp.Status
				default:
					o.ok = true
				}
				l.mu.Lock()
				l.outcomes = append(l.outcomes, o)
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// since returns the outcomes of requests that started at or after t.
func (l *load) since(t time.Time) []outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []outcome
	for _, o := range l.outcomes {
		if !o.start.Before(t) {
			out = append(out, o)
		}
	}
	return out
}

func (l *load) end() {
	close(l.stop)
	l.wg.Wait()
}

func failures(outcomes []outcome) []outcome {
	var bad []outcome
	for _, o := range outcomes {
		if !o.ok {
			bad = append(bad, o)
		}
	}
	return bad
}

// secretBoundToken makes a Secret and a token of the sandbox's
// ServiceAccount that dies with it: deleting the Secret really invalidates
// the token (after the API server's ~10 s authentication cache).
func secretBoundToken(t *testing.T, s *sandbox, name string) string {
	t.Helper()
	var secret struct {
		Metadata struct{ UID string } `json:"metadata"`
	}
	adminMust(t, "POST", "/api/v1/namespaces/"+s.NS+"/secrets", obj{"metadata": obj{"name": name}}, &secret)
	return requestToken(t, s.NS, s.SA, obj{"kind": "Secret", "apiVersion": "v1", "name": name, "uid": secret.Metadata.UID})
}

// kcurl proxy under load (16 clients): while the token rotates and the old
// one is really invalidated, no request fails; while the API server
// restarts, requests fail only during the gap, and the proxy recovers by
// itself. The figures go to docs/performance.md.
func TestProxyUnderLoad(t *testing.T) {
	s := newSandbox(t, configMapRules)
	caPEM, err := os.ReadFile(cluster["KCURL_CLUSTER_CA"])
	must(t, err)
	files := func(token string) map[string][]byte {
		return map[string][]byte{"token": []byte(token), "ca.crt": caPEM, "namespace": []byte(s.NS)}
	}
	oldToken := secretBoundToken(t, s, "token-1")
	swapKubeletData(t, s.Dir, files(oldToken))
	s.Token = oldToken
	p, addr := startProxy(t, s, "-p", "0")
	defer p.interrupt()
	url := "http://" + addr + "/api/v1/namespaces/" + s.NS + "/configmaps"

	t.Run("the token rotates and the old one dies: no request fails", func(t *testing.T) {
		start := time.Now()
		l := startLoad(url, 16)
		time.Sleep(2 * time.Second)
		// The kubelet's rotation: a new token in the volume, well before
		// the old one expires; then the old one becomes invalid.
		newToken := secretBoundToken(t, s, "token-2")
		swapKubeletData(t, s.Dir, files(newToken))
		rotated := time.Now()
		time.Sleep(time.Second)
		adminMust(t, "DELETE", "/api/v1/namespaces/"+s.NS+"/secrets/token-1", nil, nil)
		var invalid time.Time
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			if directStatus(t, oldToken) == http.StatusUnauthorized {
				invalid = time.Now()
				break
			}
		}
		if invalid.IsZero() {
			l.end()
			t.Fatal("the old token still works 30 s after its Secret was deleted")
		}
		time.Sleep(2 * time.Second) // load on, with the old token dead
		l.end()
		all := l.since(start)
		bad := failures(all)
		elapsed := time.Since(start)
		t.Logf("rotation: %d requests in %v (%.0f/s), %d failed; old token rejected by the API server %v after the rotation",
			len(all), elapsed.Round(100*time.Millisecond), float64(len(all))/elapsed.Seconds(), len(bad), invalid.Sub(rotated).Round(100*time.Millisecond))
		if len(bad) > 0 {
			t.Errorf("%d of %d requests failed, first: %s", len(bad), len(all), bad[0].what)
		}
		if directStatus(t, newToken) != http.StatusOK {
			t.Error("the new token does not work directly")
		}
		s.Token = newToken
	})

	t.Run("the API server restarts: requests fail only in the gap, the proxy recovers", func(t *testing.T) {
		start := time.Now()
		l := startLoad(url, 16)
		time.Sleep(2 * time.Second)
		down := time.Now()
		if err := clusterScript(cluster["KCURL_CLUSTER_DIR"], "restart-apiserver", "2"); err != nil {
			l.end()
			t.Fatalf("restart-apiserver: %v", err)
		}
		up := time.Now()
		time.Sleep(3 * time.Second)
		l.end()
		all := l.since(start)
		bad := failures(all)
		sort.Slice(bad, func(i, j int) bool { return bad[i].start.Before(bad[j].start) })
		// A request may fail only if it overlapped the restart (stop, gap,
		// start until ready), with a second's slack for the proxy to redial.
		var outside []outcome
		for _, o := range bad {
			if o.end.Before(down) || o.start.After(up.Add(time.Second)) {
				outside = append(outside, o)
			}
		}
		var recovered time.Duration
		if len(bad) > 0 {
			for _, o := range all {
				if o.ok && o.start.After(bad[len(bad)-1].start) {
					recovered = o.end.Sub(down)
					break
				}
			}
		}
		after := l.since(up.Add(time.Second))
		t.Logf("restart: %d requests in %v, %d failed (fast 502s while nothing listens), all between %v and %v after the stop began; "+
			"the first success after the last failure %v after it; /readyz ok again %v after it; of %d requests after that, %d failed",
			len(all), time.Since(start).Round(100*time.Millisecond), len(bad), offset(bad, down, true), offset(bad, down, false),
			recovered.Round(100*time.Millisecond), up.Sub(down).Round(100*time.Millisecond), len(after), len(failures(after)))
		if len(outside) > 0 {
			t.Errorf("%d requests failed outside the restart, first: %s at %v", len(outside), outside[0].what, outside[0].start.Sub(down))
		}
		if len(after) == 0 || len(failures(after)) > 0 {
			t.Errorf("after the restart: %d requests, %d failed: the proxy did not recover by itself", len(after), len(failures(after)))
		}
		if len(bad) == 0 {
			t.Error("no request failed while the API server was down: was it restarted?")
		}
	})
}

func offset(bad []outcome, from time.Time, first bool) string {
	if len(bad) == 0 {
		return "-"
	}
	o := bad[len(bad)-1].end
	if first {
		o = bad[0].start
	}
	return fmt.Sprint(o.Sub(from).Round(100 * time.Millisecond))
}
