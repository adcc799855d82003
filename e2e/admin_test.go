//go:build e2e

package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// admin talks to the test cluster as system:masters, to set up what a test
// needs (namespaces, service accounts, RBAC, tokens) and to check what kcurl
// did. It is the harness's own client, never kcurl.
var admin *http.Client

func initAdmin() error {
	cert, err := tls.LoadX509KeyPair(cluster["KCURL_CLUSTER_ADMIN_CERT"], cluster["KCURL_CLUSTER_ADMIN_KEY"])
	if err != nil {
		return fmt.Errorf("admin credential: %w", err)
	}
	caPEM, err := os.ReadFile(cluster["KCURL_CLUSTER_CA"])
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	admin = &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:           nil,
			TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}},
		},
	}
	return nil
}

// adminDo sends one request as admin and returns the status and body.
func adminDo(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, cluster["KCURL_CLUSTER_SERVER"]+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return adminSend(t, req)
}

// adminMust is adminDo that fails the test on anything but 2xx, and decodes
// the answer into out when out is not nil.
func adminMust(t testing.TB, method, path string, body, out any) {
	t.Helper()
	code, b := adminDo(t, method, path, body)
	if code/100 != 2 {
		t.Fatalf("admin %s %s: HTTP %d: %s", method, path, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("admin %s %s: %v", method, path, err)
		}
	}
}

type obj = map[string]any

// adminDoAccept is adminDo with another Accept header (a Table).
func adminDoAccept(t testing.TB, method, path, accept string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, cluster["KCURL_CLUSTER_SERVER"]+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	return adminSend(t, req)
}

// adminDoPatch sends a merge patch.
func adminDoPatch(t testing.TB, path, patch string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("PATCH", cluster["KCURL_CLUSTER_SERVER"]+path, strings.NewReader(patch))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/merge-patch+json")
	return adminSend(t, req)
}

func adminSend(t testing.TB, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := admin.Do(req)
	if err != nil {
		t.Fatalf("admin %s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
