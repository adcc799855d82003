package proxy

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/target/targettest"
	"github.com/kcurl/kcurl/pkg/transport"
)

// BenchmarkProxy measures the proxy's own cost per request: a TLS HTTP/2
// backend answering a small object, clients on keep-alive connections.
func BenchmarkProxy(b *testing.B) {
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"small","namespace":"bench"},"data":{"k":"v"}}`)
	}))
	backend.EnableHTTP2 = true
	backend.StartTLS()
	defer backend.Close()
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: backend.Certificate().Raw}))
	sa := targettest.NewServiceAccount(b, map[string]string{"token": "tok", "ca.crt": caPEM, "namespace": "bench"})
	u, _ := url.Parse(backend.URL)
	t, err := target.Resolve(target.Options{Server: u.String(), SADir: sa.Dir}, targettest.Env(nil))
	if err != nil {
		b.Fatal(err)
	}
	streaming, upgrade := Transports(t, transport.Options{UserAgent: "kcurl/bench"})
	filter := &Filter{}
	filter.AcceptHosts, _ = Regexps(DefaultAcceptHosts)
	filter.AcceptPaths, _ = Regexps(DefaultAcceptPaths)
	filter.RejectPaths, _ = Regexps(DefaultRejectPaths)
	filter.RejectMethods, _ = Regexps(DefaultRejectMethods)
	front := httptest.NewServer(New(t, Options{APIPrefix: "/", Filter: filter, Transport: streaming, Upgrade: upgrade}))
	defer front.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	target := front.URL + "/api/v1/namespaces/bench/configmaps/small"
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(target)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
