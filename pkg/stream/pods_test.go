package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/exitcode"
)

func podOf(t *testing.T, js string) *Pod {
	t.Helper()
	var p Pod
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func TestContainerAsKubectlPicksIt(t *testing.T) {
	two := `{"metadata":{"name":"web","namespace":"ns"},"spec":{"containers":[{"name":"app"},{"name":"side"}],"ephemeralContainers":[{"name":"dbg"}]}}`
	cases := []struct {
		pod, name, want, notice, err string
	}{
		{pod: `{"spec":{"containers":[{"name":"only"}]}}`, want: "only"},
		{pod: two, want: "app", notice: "Defaulted container \"app\" out of: app, side, dbg (ephem)\n"},
		{pod: two, name: "side", want: "side"},
		{pod: two, name: "dbg", want: "dbg"},
		{pod: two, name: "nope", err: "container nope is not valid for pod web out of: app, side, dbg (ephem)"},
		{pod: `{"metadata":{"annotations":{"kubectl.kubernetes.io/default-container":"side"}},"spec":{"containers":[{"name":"app"},{"name":"side"}]}}`, want: "side"},
	}
	for _, tc := range cases {
		var notices bytes.Buffer
		got, err := podOf(t, tc.pod).Container(tc.name, &notices)
		if got != tc.want || notices.String() != tc.notice || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("Container(%q) of %s = %q, %v, notice %q", tc.name, tc.pod, got, err, notices.String())
		}
	}
}

// TestHasTTY: attach -t asks the container's spec whether it has a
// terminal, as kubectl attach does.
func TestHasTTY(t *testing.T) {
	pod := podOf(t, `{"spec":{"containers":[{"name":"term","tty":true},{"name":"plain"}],"ephemeralContainers":[{"name":"dbg","tty":true}]}}`)
	for name, want := range map[string]bool{"term": true, "plain": false, "dbg": true, "nope": false} {
		if got := pod.HasTTY(name); got != want {
			t.Errorf("HasTTY(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIsEphemeral(t *testing.T) {
	pod := podOf(t, `{"spec":{"containers":[{"name":"web"}],"initContainers":[{"name":"init"}],"ephemeralContainers":[{"name":"dbg"}]}}`)
	for name, want := range map[string]bool{"dbg": true, "web": false, "init": false, "nope": false} {
		if got := pod.IsEphemeral(name); got != want {
			t.Errorf("IsEphemeral(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParsePorts(t *testing.T) {
	named := func(n string) (int32, bool) { return 8080, n == "http" }
	got, err := ParsePorts([]string{"80", "8080:80", ":443", "http", "9090:http"}, named, "container port", "Pod 'web'")
	want := []Port{{80, 80}, {8080, 80}, {0, 443}, {8080, 8080}, {9090, 8080}}
	if err != nil || len(got) != len(want) {
		t.Fatalf("ParsePorts = %v, %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("port %d = %v, want %v", i, got[i], want[i])
		}
	}
	for bad, says := range map[string]string{
		"0":      `invalid port "0" in "0": REMOTE is a port number (1-65535) or a container port's name`,
		"70000":  `invalid port "70000" in "70000": REMOTE is a port number (1-65535) or a container port's name`,
		"HTTP":   `invalid port "HTTP" in "HTTP": REMOTE is a port number (1-65535) or a container port's name`,
		"x:80":   `invalid local port "x" in "x:80"`,
		"80:":    `invalid port "" in "80:": REMOTE is a port number (1-65535) or a container port's name`,
		"grpc":   `Pod 'web' does not have a named port 'grpc'`, // kubectl's words
		"1:grpc": `Pod 'web' does not have a named port 'grpc'`,
	} {
		_, err := ParsePorts([]string{bad}, named, "container port", "Pod 'web'")
		if code, _ := exitcode.Of(err); err == nil || err.Error() != says || code != exitcode.Usage {
			t.Errorf("ParsePorts(%q) = %v (exit %d), want %q (exit 2)", bad, err, code, says)
		}
	}
}

func TestServiceTargetPort(t *testing.T) {
	var w Workload
	json.Unmarshal([]byte(`{"kind":"Service","spec":{"selector":{"b":"2","a":"1"},"ports":[
		{"port":80,"targetPort":"http"},{"port":81,"targetPort":9000},{"port":82},{"port":83,"targetPort":"8083"},{"port":53,"protocol":"UDP"}]}}`), &w)
	pod := podOf(t, `{"spec":{"containers":[{"name":"app","ports":[{"name":"http","containerPort":8080}]}]}}`)
	if s, _ := w.selector(); s != "a=1,b=2" {
		t.Errorf("selector %q", s)
	}
	for port, want := range map[int32]int32{80: 8080, 81: 9000, 82: 82, 83: 8083} {
		if got, err := w.TargetPort(port, pod); got != want || err != nil {
			t.Errorf("TargetPort(%d) = %d, %v; want %d", port, got, err, want)
		}
	}
	if _, err := w.TargetPort(53, pod); err == nil {
		t.Error("a UDP port was forwarded")
	}
}

// port-forward svc/NAME takes the Service's ports by name too, as
// kubectl does; a container port's name is not one of them.
func TestServicePortByName(t *testing.T) {
	var w Workload
	json.Unmarshal([]byte(`{"kind":"Service","spec":{"ports":[{"name":"web","port":80,"targetPort":"http"},{"name":"dns","port":53,"protocol":"UDP"}]}}`), &w)
	got, err := ParsePorts([]string{"web", "18080:web"}, w.NamedPort, "Service port", "Service 'web'")
	if want := []Port{{80, 80}, {18080, 80}}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ParsePorts = %v, %v; want %v", got, err, want)
	}
	for _, name := range []string{"http", "dns"} {
		_, err := ParsePorts([]string{"18080:" + name}, w.NamedPort, "Service port", "Service 'web'")
		if err == nil || err.Error() != "Service 'web' does not have a named port '"+name+"'" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Gone, asked after a forwarded connection failed: the Pod deleted,
// replaced, being deleted or no longer running ends the port-forward; a
// Pod that still runs, or one that cannot be read, does not.
func TestPodGone(t *testing.T) {
	pod := podOf(t, `{"metadata":{"name":"web","uid":"u1"},"status":{"phase":"Running"}}`)
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{200, `{"metadata":{"name":"web","uid":"u1"},"status":{"phase":"Running"}}`, ""},
		{404, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`, "pod web was deleted"},
		{200, `{"metadata":{"name":"web","uid":"u2"},"status":{"phase":"Running"}}`, "pod web was deleted, and another took its name"},
		{200, `{"metadata":{"name":"web","uid":"u1","deletionTimestamp":"2026-12-06T14:00:00Z"},"status":{"phase":"Running"}}`, "pod web is being deleted"},
		{200, `{"metadata":{"name":"web","uid":"u1"},"status":{"phase":"Succeeded"}}`, "pod web is Succeeded"},
		{500, `oops`, ""},
	} {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/v1/namespaces/ns/pods/web" {
				t.Errorf("read %s", r.URL.Path)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		}))
		u, _ := url.Parse(srv.URL)
		pods := Pods{Client: &apiclient.Client{HTTP: srv.Client(), Server: u}, Namespace: "ns"}
		err := pods.Gone(context.Background(), pod)
		if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
			t.Errorf("%d %s: Gone = %v, want %q", tc.status, tc.body, err, tc.want)
		}
		srv.Close()
	}
}

func TestParseRef(t *testing.T) {
	for arg, want := range map[string]Ref{
		"web": {Name: "web"}, "po/web": {Name: "web"}, "Pod/web": {Name: "web"},
		"deploy/web": {Kind: "deploy", Name: "web"}, "svc/db": {Kind: "svc", Name: "db"},
		"rc/web": {Kind: "rc", Name: "web"}, "jobs.batch/x": {Kind: "jobs.batch", Name: "x"},
	} {
		if got, err := ParseRef(arg); got != want || err != nil {
			t.Errorf("ParseRef(%q) = %v, %v", arg, got, err)
		}
	}
	for bad, want := range map[string]string{
		"cm/x":          `cannot find a Pod of "cm/x": kcurl knows pod/NAME and the workloads deploy/NAME, rs/NAME, sts/NAME, ds/NAME, job/NAME, rc/NAME, svc/NAME, by kubectl's other names for them too (deployments.apps/NAME, …)`,
		"DEPLOY/x":      `cannot find a Pod of "DEPLOY/x": kcurl knows pod/NAME and the workloads deploy/NAME, rs/NAME, sts/NAME, ds/NAME, job/NAME, rc/NAME, svc/NAME, by kubectl's other names for them too (deployments.apps/NAME, …)`,
		"svc.v1.apps/x": `cannot find a Pod of "svc.v1.apps/x": kcurl knows pod/NAME and the workloads deploy/NAME, rs/NAME, sts/NAME, ds/NAME, job/NAME, rc/NAME, svc/NAME, by kubectl's other names for them too (deployments.apps/NAME, …)`,
		"deploy/":       `"deploy/" is not a Pod: give NAME, pod/NAME, or a workload: deploy/NAME, rs/NAME, sts/NAME, ds/NAME, job/NAME, rc/NAME, svc/NAME`,
		"a/b/c":         `"a/b/c" is not a Pod: give NAME, pod/NAME, or a workload: deploy/NAME, rs/NAME, sts/NAME, ds/NAME, job/NAME, rc/NAME, svc/NAME`,
	} {
		if _, err := ParseRef(bad); err == nil || err.Error() != want {
			t.Errorf("ParseRef(%q): %v, want %s", bad, err, want)
		}
	}
}

// fakeAPI serves a workload (at any path but the Pods'), the lists of its
// Pods in turn (the last one again after that), and for each watch of
// them what watch writes (then holds the watch open until the client
// goes). Every request's path and query is recorded in order.
type fakeAPI struct {
	workload string
	lists    []string
	watch    func(w http.ResponseWriter, flush func())

	mu       sync.Mutex
	requests []string
	listed   int
}

func (f *fakeAPI) pods(t *testing.T) Pods {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.URL.Path+"?"+r.URL.RawQuery)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path != "/api/v1/namespaces/ns1/pods":
			io.WriteString(w, f.workload)
		case r.URL.Query().Get("watch") != "true":
			f.mu.Lock()
			list := f.lists[min(f.listed, len(f.lists)-1)]
			f.listed++
			f.mu.Unlock()
			io.WriteString(w, list)
		default:
			if f.watch != nil {
				f.watch(w, w.(http.Flusher).Flush)
			}
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return Pods{Client: &apiclient.Client{HTTP: srv.Client(), Server: u}, Namespace: "ns1"}
}

func (f *fakeAPI) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

const zeroDeployment = `{"kind":"Deployment","spec":{"selector":{"matchLabels":{"app":"zero"}}}}`

func podJSON(name, phase string) string {
	return fmt.Sprintf(`{"metadata":{"name":%q,"namespace":"ns1"},"spec":{"containers":[{"name":"app"}]},"status":{"phase":%q}}`, name, phase)
}

func event(kind, object string) string { return `{"type":"` + kind + `","object":` + object + "}\n" }

// A workload with no Pod yet (a Deployment just scaled from 0): its Pods
// are watched from the list's resourceVersion until one runs, not only
// appears (still Pending, its exec would fail).
func TestFindWaitsForAPodToRun(t *testing.T) {
	api := &fakeAPI{
		workload: zeroDeployment,
		lists:    []string{`{"kind":"PodList","metadata":{"resourceVersion":"7"},"items":[]}`},
		watch: func(w http.ResponseWriter, flush func()) {
			time.Sleep(50 * time.Millisecond)
			io.WriteString(w, event("ADDED", podJSON("zero-1", "Pending")))
			flush()
			time.Sleep(50 * time.Millisecond)
			io.WriteString(w, event("MODIFIED", podJSON("zero-1", "Running")))
		},
	}
	pod, workload, err := api.pods(t).Find(context.Background(), Ref{Kind: "deploy", Name: "zero"}, 5*time.Second)
	if err != nil || pod.Metadata.Name != "zero-1" || !pod.Running() || workload == nil || workload.Kind != "Deployment" {
		t.Fatalf("Find = %+v, %+v, %v; want zero-1, running", pod, workload, err)
	}
	want := []string{
		"/apis/apps/v1/namespaces/ns1/deployments/zero?",
		"/api/v1/namespaces/ns1/pods?labelSelector=app%3Dzero",
		"/api/v1/namespaces/ns1/pods?allowWatchBookmarks=true&labelSelector=app%3Dzero&resourceVersion=7&watch=true",
	}
	if got := api.seen(); !slices.Equal(got, want) {
		t.Errorf("requests:\n got %q\nwant %q", got, want)
	}
}

// A Pod that runs already is taken at once, nothing watched, however
// short the wait.
func TestFindTakesARunningPodAtOnce(t *testing.T) {
	api := &fakeAPI{
		workload: zeroDeployment,
		lists:    []string{`{"kind":"PodList","metadata":{"resourceVersion":"7"},"items":[` + podJSON("zero-new", "Pending") + `,` + podJSON("zero-old", "Running") + `]}`},
	}
	pod, _, err := api.pods(t).Find(context.Background(), Ref{Kind: "deploy", Name: "zero"}, time.Nanosecond)
	if err != nil || pod.Metadata.Name != "zero-old" {
		t.Fatalf("Find = %+v, %v; want zero-old", pod, err)
	}
	if got := api.seen(); len(got) != 2 {
		t.Errorf("requests %q, want the Deployment and the list only", got)
	}
}

// No Pod runs within the wait: exit 1 and a message that says what was
// waited for, how long, the flag, and the Pods seen with why they wait.
func TestFindGivesUpAfterTheWait(t *testing.T) {
	unschedulable := `{"metadata":{"name":"zero-1"},"status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable"}]}}`
	pulling := `{"metadata":{"name":"zero-2"},"status":{"phase":"Pending","containerStatuses":[{"state":{"waiting":{"reason":"ImagePullBackOff"}}}]}}`
	for _, tc := range []struct {
		name, list string
		watch      func(http.ResponseWriter, func())
		want       string
	}{
		{name: "no Pod", list: `{"metadata":{"resourceVersion":"7"},"items":[]}`,
			want: "no Pod of deploy/zero matched its selector app=zero within 200ms (--pod-running-timeout)"},
		{name: "Pending ones", list: `{"metadata":{"resourceVersion":"7"},"items":[` + unschedulable + `]}`,
			watch: func(w http.ResponseWriter, _ func()) {
				io.WriteString(w, event("ADDED", pulling)+event("ADDED", podJSON("zero-3", "Pending"))+event("DELETED", podJSON("zero-3", "Pending")))
			},
			want: "no Pod of deploy/zero was running within 200ms (--pod-running-timeout): zero-1 is Pending (Unschedulable), zero-2 is Pending (ImagePullBackOff)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{workload: zeroDeployment, lists: []string{tc.list}, watch: tc.watch}
			start := time.Now()
			_, _, err := api.pods(t).Find(context.Background(), Ref{Kind: "deploy", Name: "zero"}, 200*time.Millisecond)
			took := time.Since(start)
			if code, _ := exitcode.Of(err); err == nil || err.Error() != tc.want || code != exitcode.Failed {
				t.Fatalf("Find: %v (exit %d), want %q, exit 1", err, code, tc.want)
			}
			if took < 200*time.Millisecond || took > 5*time.Second {
				t.Errorf("gave up after %v, want 200ms", took)
			}
		})
	}
}

// Ctrl-C (the caller's context) ends the wait at once, as itself: no
// timeout message.
func TestFindWaitEndsWithItsContext(t *testing.T) {
	api := &fakeAPI{workload: zeroDeployment, lists: []string{`{"metadata":{"resourceVersion":"7"},"items":[]}`}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := api.pods(t).Find(ctx, Ref{Kind: "deploy", Name: "zero"}, time.Minute)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("Find after cancel: %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}

// A watch that fell behind (410): the Pods are listed again, and one that
// started meanwhile is taken.
func TestFindListsAgainAfterGone(t *testing.T) {
	api := &fakeAPI{
		workload: zeroDeployment,
		lists: []string{`{"metadata":{"resourceVersion":"7"},"items":[]}`,
			`{"metadata":{"resourceVersion":"9"},"items":[` + podJSON("zero-1", "Running") + `]}`},
		watch: func(w http.ResponseWriter, _ func()) {
			io.WriteString(w, event("ERROR", `{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 7 (8)"}`))
		},
	}
	pod, _, err := api.pods(t).Find(context.Background(), Ref{Kind: "deploy", Name: "zero"}, 5*time.Second)
	if err != nil || pod.Metadata.Name != "zero-1" {
		t.Fatalf("Find = %+v, %v; want zero-1", pod, err)
	}
	if got := api.seen(); len(got) != 4 {
		t.Errorf("requests %q, want the Deployment, a list, a watch, a list", got)
	}
}

// Every form kubectl's REST mapper accepts for a workload reads it at its
// own path; a ReplicationController's selector is a plain map, as a
// Service's.
func TestFindReadsEachWorkloadForm(t *testing.T) {
	labelSelector := `{"matchLabels":{"app":"web"}}`
	for arg, want := range map[string]string{
		"deployment.apps/web":        "/apis/apps/v1/namespaces/ns1/deployments/web",
		"deployments.apps/web":       "/apis/apps/v1/namespaces/ns1/deployments/web",
		"deployments.v1.apps/web":    "/apis/apps/v1/namespaces/ns1/deployments/web",
		"Deployment/web":             "/apis/apps/v1/namespaces/ns1/deployments/web",
		"deploy.apps/web":            "/apis/apps/v1/namespaces/ns1/deployments/web",
		"replicaset.apps/web":        "/apis/apps/v1/namespaces/ns1/replicasets/web",
		"statefulset.apps/web":       "/apis/apps/v1/namespaces/ns1/statefulsets/web",
		"daemonset.apps/web":         "/apis/apps/v1/namespaces/ns1/daemonsets/web",
		"job.batch/web":              "/apis/batch/v1/namespaces/ns1/jobs/web",
		"jobs.batch/web":             "/apis/batch/v1/namespaces/ns1/jobs/web",
		"service/web":                "/api/v1/namespaces/ns1/services/web",
		"services/web":               "/api/v1/namespaces/ns1/services/web",
		"rc/web":                     "/api/v1/namespaces/ns1/replicationcontrollers/web",
		"replicationcontroller/web":  "/api/v1/namespaces/ns1/replicationcontrollers/web",
		"replicationcontrollers/web": "/api/v1/namespaces/ns1/replicationcontrollers/web",
		"ReplicationController/web":  "/api/v1/namespaces/ns1/replicationcontrollers/web",
	} {
		ref, err := ParseRef(arg)
		if err != nil {
			t.Errorf("ParseRef(%q): %v", arg, err)
			continue
		}
		kind, selector := "Deployment", labelSelector
		if strings.Contains(want, "/replicationcontrollers/") || strings.Contains(want, "/services/") {
			kind, selector = "ReplicationController", `{"app":"web"}`
		}
		api := &fakeAPI{
			workload: `{"kind":"` + kind + `","spec":{"selector":` + selector + `}}`,
			lists:    []string{`{"items":[` + podJSON("web-1", "Running") + `]}`},
		}
		if _, _, err := api.pods(t).Find(context.Background(), ref, time.Second); err != nil {
			t.Errorf("%s: %v", arg, err)
		}
		if got := api.seen(); len(got) != 2 || got[0] != want+"?" || got[1] != "/api/v1/namespaces/ns1/pods?labelSelector=app%3Dweb" {
			t.Errorf("%s: requests %q, want %s and its Pods", arg, got, want)
		}
	}
}

// A Service without a selector (or with an empty one) leads to no Pod:
// an empty selector would list every Pod of the namespace.
func TestFindRefusesAnEmptySelector(t *testing.T) {
	api := &fakeAPI{workload: `{"kind":"Service","spec":{"selector":{}}}`, lists: []string{`{"items":[` + podJSON("any", "Running") + `]}`}}
	_, _, err := api.pods(t).Find(context.Background(), Ref{Kind: "svc", Name: "ext"}, time.Second)
	if err == nil || err.Error() != "svc/ext: it has no selector" {
		t.Errorf("Find of a Service without a selector: %v", err)
	}
}
