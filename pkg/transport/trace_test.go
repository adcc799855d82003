package transport

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"testing"
)

// refusal is an upgrade the server refused, with its answer kept, as
// pkg/stream/internal/wsconn returns it.
type refusal struct{ answer *http.Response }

func (r *refusal) Error() string                   { return "refused" }
func (r *refusal) UpgradeResponse() *http.Response { return r.answer }

// A WebSocket upgrade is traced as the WebSocket library sent it (the
// answer's Request), once answered; without an answer, as handed over.
func TestTraceUpgrade(t *testing.T) {
	handed, _ := http.NewRequest(http.MethodGet, "https://api:6443/api/v1/namespaces/ns/pods/web/exec?command=ls", nil)
	handed.Header.Set("Authorization", "Bearer s3cr3t")
	handed.Header["Sec-Websocket-Protocol"] = []string{"v5.channel.k8s.io", "v4.channel.k8s.io"}
	sent := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "wss", Host: "api:6443", Path: "/api/v1/namespaces/ns/pods/web/exec", RawQuery: "command=ls"}, Header: http.Header{
		"Authorization":          {"Bearer s3cr3t"},
		"Upgrade":                {"websocket"},
		"Connection":             {"Upgrade"},
		"Sec-WebSocket-Key":      {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-WebSocket-Version":  {"13"},
		"Sec-WebSocket-Protocol": {"v5.channel.k8s.io, v4.channel.k8s.io"},
	}}
	sentLines := "> GET /api/v1/namespaces/ns/pods/web/exec?command=ls\n> Host: api:6443\n" +
		"> Authorization: Bearer <redacted>\n> Connection: Upgrade\n> Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n" +
		"> Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\n> Sec-WebSocket-Version: 13\n> Upgrade: websocket\n>\n"
	switched := &http.Response{Proto: "HTTP/1.1", Status: "101 Switching Protocols", Header: http.Header{"Upgrade": {"websocket"}}, Request: sent}
	forbidden := &http.Response{Proto: "HTTP/1.1", Status: "403 Forbidden", Header: http.Header{"Audit-Id": {"a1"}}, Request: sent}
	for _, tc := range []struct {
		name string
		resp *http.Response
		err  error
		want string
	}{
		{"switched", switched, nil, sentLines + "< HTTP/1.1 101 Switching Protocols\n< Upgrade: websocket\n<\n"},
		{"refused", nil, &refusal{forbidden}, sentLines + "< HTTP/1.1 403 Forbidden\n< Audit-Id: a1\n<\n"},
		{"no answer", nil, errors.New("context canceled"), "> GET /api/v1/namespaces/ns/pods/web/exec?command=ls\n> Host: api:6443\n" +
			"> Authorization: Bearer <redacted>\n> Sec-Websocket-Protocol: v5.channel.k8s.io\n> Sec-Websocket-Protocol: v4.channel.k8s.io\n>\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var trace bytes.Buffer
			tr := &tracer{w: &trace, next: roundTripFunc(func(*http.Request) (*http.Response, error) { return tc.resp, tc.err })}
			resp, err := tr.RoundTrip(handed)
			if resp != tc.resp || !errors.Is(err, tc.err) {
				t.Errorf("RoundTrip = %v, %v; want the next one's", resp, err)
			}
			if trace.String() != tc.want {
				t.Errorf("trace:\n%s\nwant:\n%s", trace.String(), tc.want)
			}
		})
	}
}

// SPDY's upgrade (an older server's, or after a refused WebSocket) is
// traced as sent too: its round tripper adds Connection and Upgrade.
func TestTraceSPDYUpgrade(t *testing.T) {
	handed, _ := http.NewRequest(http.MethodPost, "https://api:6443/api/v1/namespaces/ns/pods/web/exec?command=ls", nil)
	handed.Header["X-Stream-Protocol-Version"] = []string{"v5.channel.k8s.io"}
	sent := handed.Clone(handed.Context())
	sent.Header.Add("Connection", "Upgrade")
	sent.Header.Add("Upgrade", "SPDY/3.1")
	switched := &http.Response{Proto: "HTTP/1.1", Status: "101 Switching Protocols", Header: http.Header{}, Request: sent}
	var trace bytes.Buffer
	tr := &tracer{w: &trace, next: roundTripFunc(func(*http.Request) (*http.Response, error) { return switched, nil })}
	if _, err := tr.RoundTrip(handed); err != nil {
		t.Fatal(err)
	}
	want := "> POST /api/v1/namespaces/ns/pods/web/exec?command=ls\n> Host: api:6443\n> Connection: Upgrade\n> Upgrade: SPDY/3.1\n" +
		"> X-Stream-Protocol-Version: v5.channel.k8s.io\n>\n< HTTP/1.1 101 Switching Protocols\n<\n"
	if trace.String() != want {
		t.Errorf("trace:\n%s\nwant:\n%s", trace.String(), want)
	}
}
