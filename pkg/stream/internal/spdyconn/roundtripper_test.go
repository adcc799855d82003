package spdyconn

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	streamhttp "k8s.io/streaming/pkg/httpstream"
	streamspdy "k8s.io/streaming/pkg/httpstream/spdy"

	"github.com/kcurl/kcurl/pkg/stream/internal/silent"
)

// The round tripper upgrades with the config's credentials, and the
// connection it makes is this package's (pooled frames), speaking to the
// module's SPDY server as the kubelet's is; a refusal keeps the server's
// words.
func TestRoundTripper(t *testing.T) {
	server := streamspdy.NewResponseUpgrader()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer the-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/refused" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"web\" is forbidden","reason":"Forbidden","code":403}`)
			return
		}
		conn := server.UpgradeResponse(w, r, func(s streamhttp.Stream, _ <-chan struct{}) error {
			go func() {
				io.Copy(s, s) // echo until the client's half-close
				s.Close()
			}()
			return nil
		})
		if conn != nil {
			<-conn.CloseChan()
		}
	}))
	defer srv.Close()
	cfg := &rest.Config{Host: srv.URL, BearerToken: "the-token", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}

	upgrade := func(path string) (*RoundTripper, *http.Response) {
		t.Helper()
		rt, upgrader, err := RoundTripperFor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		return upgrader, resp
	}

	client, resp := upgrade("/exec")
	conn, err := client.NewConnection(resp)
	if err != nil {
		t.Fatalf("NewConnection: %v", err)
	}
	defer conn.Close()
	if _, ours := conn.(*connection); !ours {
		t.Fatalf("the connection is a %T, not this package's", conn)
	}
	stream, err := conn.CreateStream(http.Header{})
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat("kcurl ", 20000) // several frames
	if _, err := io.WriteString(stream, payload); err != nil {
		t.Fatal(err)
	}
	stream.Close()
	if got, err := io.ReadAll(stream); err != nil || string(got) != payload {
		t.Errorf("echo: %d bytes back (err %v), want %d", len(got), err, len(payload))
	}

	client, resp = upgrade("/refused")
	if _, err := client.NewConnection(resp); err == nil || !strings.Contains(err.Error(), `pods "web" is forbidden`) {
		t.Errorf("a refused upgrade: %v, want the server's message", err)
	}
}

// A server that never answers the upgrade (a kubelet that hangs behind the
// apiserver), or an HTTPS proxy that never answers the CONNECT: the round
// trip ends when its context does (SIGINT), with the context's cause, and
// closes the connection, which the silent one sees.
func TestSilentUntilTheContextEnds(t *testing.T) {
	silent.EachPeer(t, func(ctx context.Context, cfg *rest.Config) error {
		rt, _, err := RoundTripperFor(cfg)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Host+"/exec", nil)
		if err != nil {
			return err
		}
		_, err = rt.RoundTrip(req)
		return err
	})
}

// The dial watch follows the request's context, not the one net gives the
// dial, which net cancels as the dial returns: a connection is shut down
// when the request's context ends, and only then.
func TestDialWatchFollowsTheRequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			io.Copy(c, c) // echo
		}
	}()
	request, endRequest := context.WithCancel(context.Background())
	defer endRequest()
	dial, endDial := context.WithCancel(request)
	var watch dialWatch
	watch.watch(request)
	conn, err := (&net.Dialer{ControlContext: watch.control}).DialContext(dial, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	endDial() // as net does when a dial returns
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 5)
	if _, err := conn.Write([]byte("kcurl")); err != nil {
		t.Fatalf("write after the dial's context ended: %v", err)
	}
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "kcurl" {
		t.Fatalf("echo after the dial's context ended: %q, %v", buf, err)
	}
	endRequest()
	if _, err := conn.Read(buf); err != io.EOF {
		t.Errorf("read after the request's context ended: %v, want EOF (shut down)", err)
	}
	if watch.stop() {
		t.Error("stop says the connection is kcurl's after the request's context ended")
	}
}
