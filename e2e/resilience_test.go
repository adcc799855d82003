//go:build e2e

package e2e

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// API Priority and Fairness rejecting a ServiceAccount's requests beyond
// its priority level's few seats (429 with Retry-After): 12 lists started
// at once all complete, as with kubectl (client-go waits for Retry-After
// and retries); with --retry 0 some of them fail with exit 4
// (FACTS.md: kubectl 12 of 12, kcurl 7 of 12 before it retried).
func TestThrottledListsComplete(t *testing.T) {
	s := newSandbox(t, exploreRules...)
	createConfigMaps(t, s.NS, 3000)

	const flowcontrol = "/apis/flowcontrol.apiserver.k8s.io/v1"
	name := s.NS
	adminMust(t, "POST", flowcontrol+"/prioritylevelconfigurations", obj{
		"metadata": obj{"name": name},
		"spec": obj{"type": "Limited", "limited": obj{
			"nominalConcurrencyShares": 1, "lendablePercent": 0, "limitResponse": obj{"type": "Reject"},
		}},
	}, nil)
	t.Cleanup(func() { adminDo(t, "DELETE", flowcontrol+"/prioritylevelconfigurations/"+name, nil) })
	var fs struct {
		Metadata struct{ UID string } `json:"metadata"`
	}
	adminMust(t, "POST", flowcontrol+"/flowschemas", obj{
		"metadata": obj{"name": name},
		"spec": obj{
			"priorityLevelConfiguration": obj{"name": name},
			"matchingPrecedence":         100,
			"distinguisherMethod":        obj{"type": "ByUser"},
			"rules": []obj{{
				"subjects":         []obj{{"kind": "ServiceAccount", "serviceAccount": obj{"name": s.SA, "namespace": s.NS}}},
				"resourceRules":    []obj{{"verbs": []string{"*"}, "apiGroups": []string{"*"}, "resources": []string{"*"}, "namespaces": []string{"*"}, "clusterScope": true}},
				"nonResourceRules": []obj{{"verbs": []string{"*"}, "nonResourceURLs": []string{"*"}}},
			}},
		},
	}, &fs)
	t.Cleanup(func() { adminDo(t, "DELETE", flowcontrol+"/flowschemas/"+name, nil) })

	// The API server applies a new FlowSchema within a moment: wait until
	// it classifies the ServiceAccount's requests by it.
	path := "/api/v1/namespaces/" + s.NS + "/configmaps"
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r := s.run(path+"?limit=1", "-i", "-s")
		if strings.Contains(strings.ToLower(r.Stdout), "x-kubernetes-pf-flowschema-uid: "+fs.Metadata.UID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the FlowSchema is not applied after 30 s:\n%s", r)
		}
	}

	lists := func(args ...string) (ok, retries int, failed []result) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.run(append([]string{path, "-m", "120", "-q", ".items | length"}, args...)...)
				mu.Lock()
				defer mu.Unlock()
				retries += strings.Count(r.Stderr, ": retrying GET ")
				if r.Code == 0 && r.Stdout == "3000\n" {
					ok++
				} else {
					failed = append(failed, r)
				}
			}()
		}
		wg.Wait()
		return ok, retries, failed
	}

	start := time.Now()
	ok, retries, failed := lists("-v")
	// How many 429s there are depends on how the lists overlap: logged.
	t.Logf("by default: %d of 12 complete in %s, after %d retries on Retry-After", ok, time.Since(start).Round(time.Millisecond), retries)
	if ok != 12 {
		t.Errorf("%d of 12 lists completed, want 12; the first failure:\n%s", ok, failed[0])
	}

	ok, _, failed = lists("--retry", "0")
	t.Logf("with --retry 0: %d of 12 complete", ok)
	for _, r := range failed {
		if r.Code != 4 || !strings.Contains(r.Stderr, "TooManyRequests") {
			t.Errorf("with --retry 0, a failure that is not the 429:\n%s", r)
			break
		}
	}
}
