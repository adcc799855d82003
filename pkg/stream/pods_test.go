package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kcurl/kcurl/pkg/apiclient"
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
	got, err := ParsePorts([]string{"80", "8080:80", ":443", "http", "9090:http"}, named, "container port")
	want := []Port{{80, 80}, {8080, 80}, {0, 443}, {8080, 8080}, {9090, 8080}}
	if err != nil || len(got) != len(want) {
		t.Fatalf("ParsePorts = %v, %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("port %d = %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"0", "70000", "x:80", "80:", "grpc"} {
		if _, err := ParsePorts([]string{bad}, named, "container port"); err == nil {
			t.Errorf("ParsePorts(%q) accepted", bad)
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
	got, err := ParsePorts([]string{"web", "18080:web"}, w.NamedPort, "Service port")
	if want := []Port{{80, 80}, {18080, 80}}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ParsePorts = %v, %v; want %v", got, err, want)
	}
	for _, name := range []string{"http", "dns"} {
		_, err := ParsePorts([]string{"18080:" + name}, w.NamedPort, "Service port")
		if err == nil || !strings.Contains(err.Error(), "REMOTE is a port number (1-65535) or a Service port's name") {
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
	for arg, want := range map[string]Ref{"web": {Name: "web"}, "po/web": {Name: "web"}, "deploy/web": {Kind: "deploy", Name: "web"}, "svc/db": {Kind: "svc", Name: "db"}} {
		if got, err := ParseRef(arg); got != want || err != nil {
			t.Errorf("ParseRef(%q) = %v, %v", arg, got, err)
		}
	}
	for _, bad := range []string{"cm/x", "deploy/", "a/b/c"} {
		if _, err := ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) accepted", bad)
		}
	}
}
