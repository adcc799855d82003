package stream

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/rest"

	"github.com/kcurl/kcurl/pkg/stream/internal/silent"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// A port-forward whose upgrade the server never answers (the apiserver
// proxies it to a kubelet that hangs) stops when its context ends, as on
// SIGINT, and closes the connection: client-go's dialers make their
// requests without a context, and kubectl port-forward waits on there
// past SIGINT.
func TestForwardStopsOnASilentServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context, srv *silent.Server) error
	}{
		{"port-forward", func(ctx context.Context, srv *silent.Server) error {
			d := silentDialer(t, ctx, srv)
			f := &Forwarder{Dialer: d, Ports: []Port{{Remote: 8080}}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
			return f.Run(ctx)
		}},
		{"a raw portforward PATH", func(ctx context.Context, srv *silent.Server) error {
			return Pipe(ctx, silentDialer(t, ctx, srv), 8080, strings.NewReader(""), &bytes.Buffer{})
		}},
		// An HTTPS proxy that never answers the CONNECT.
		{"through an HTTPS proxy", func(ctx context.Context, srv *silent.Server) error {
			d := silentDialer(t, ctx, srv, func(cfg *rest.Config) {
				proxy, _ := url.Parse(srv.URL)
				cfg.Proxy = http.ProxyURL(proxy)
			})
			f := &Forwarder{Dialer: d, Ports: []Port{{Remote: 8080}}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
			return f.Run(ctx)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := silent.NewServer(t)
			if err := silent.Stop(t, func(ctx context.Context) error { return tc.run(ctx, srv) }); err != nil {
				t.Errorf("error %v, want none (stopped, as on SIGINT)", err)
			}
			if !srv.ClientLeft(20 * time.Second) {
				t.Error("the server still has the connection 20 s after the forwarder stopped")
			}
		})
	}
}

func silentDialer(t *testing.T, ctx context.Context, srv *silent.Server, options ...func(*rest.Config)) httpstream.Dialer {
	t.Helper()
	server, _ := url.Parse(srv.URL)
	cfg, err := transport.RESTConfig(&target.Target{Server: server, Insecure: true}, transport.Options{UserAgent: "kcurl/test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, option := range options {
		option(cfg)
	}
	u, _ := url.Parse(srv.URL + "/api/v1/namespaces/ns/pods/web/portforward")
	d, err := Dialer(ctx, cfg, u)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
