package cmd

import (
	"bytes"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// cliCase is one entry of testdata/cli.yaml: what the user types, what the
// API server answers, and what the user sees. Adding a case is adding a few
// lines of YAML.
type cliCase struct {
	Name     string            `json:"name"`
	Args     []string          `json:"args"`
	Env      map[string]string `json:"env"`   // on top of the Pod's defaults; "" unsets
	NoSA     bool              `json:"no_sa"` // no service-account dir at all
	Stdin    string            `json:"stdin"`
	Files    map[string]string `json:"files"` // written into {tmp}
	Terminal bool              `json:"terminal"`

	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
		DelayMS int               `json:"delay_ms"` // before the body is sent
	} `json:"response"`

	// Request, when given, is what the server must have received; None
	// says that nothing may reach it.
	Request *struct {
		None    bool              `json:"none"`
		Method  string            `json:"method"`
		URI     string            `json:"uri"`
		Headers map[string]string `json:"headers"`
		Body    *string           `json:"body"`
	} `json:"request"`

	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Exit   int    `json:"exit"`
}

const testToken = "eyJhbGciOiJSUzI1NiJ9.test-token-never-printed.sig"

func TestCLI(t *testing.T) {
	data, err := os.ReadFile("testdata/cli.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []cliCase
	if err := yaml.UnmarshalStrict(data, &cases); err != nil {
		t.Fatalf("testdata/cli.yaml: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) { runCLICase(t, tc) })
	}
}

type recordedRequest struct {
	method, uri string
	header      http.Header
	body        []byte
}

func runCLICase(t *testing.T, tc cliCase) {
	var (
		mu   sync.Mutex
		seen []recordedRequest
	)
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, recordedRequest{r.Method, r.RequestURI, r.Header.Clone(), body})
		mu.Unlock()
		w.Header()["Date"] = nil // keep -i output stable
		for k, v := range tc.Response.Headers {
			w.Header().Set(k, v)
		}
		status := tc.Response.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		if tc.Response.DelayMS > 0 {
			w.(http.Flusher).Flush()
			select {
			case <-time.After(time.Duration(tc.Response.DelayMS) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, tc.Response.Body)
	}))
	server.Config.ErrorLog = log.New(io.Discard, "", 0) // a refused certificate is a case, not noise
	server.StartTLS()
	defer server.Close()

	tmp := t.TempDir()
	saDir := filepath.Join(tmp, "serviceaccount")
	if !tc.NoSA {
		writeSADir(t, saDir, server)
	}
	port := server.URL[strings.LastIndexByte(server.URL, ':')+1:]
	expand := strings.NewReplacer("{server}", server.URL, "{port}", port, "{sadir}", saDir, "{tmp}", tmp).Replace
	for name, content := range tc.Files {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(expand(content)), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// The Pod's environment, and nothing of the machine's.
	env := map[string]string{
		"KUBERNETES_SERVICE_HOST":       "127.0.0.1",
		"KUBERNETES_SERVICE_PORT":       port,
		"KUBERNETES_SERVICE_PORT_HTTPS": port,
		"KCURL_SA_DIR":                  saDir,
		"HOME":                          tmp,
	}
	for k, v := range tc.Env {
		env[k] = expand(v)
	}
	var stdout, stderr bytes.Buffer
	streams := Streams{
		In:            strings.NewReader(tc.Stdin),
		Out:           &stdout,
		ErrOut:        &stderr,
		OutIsTerminal: tc.Terminal,
		Getenv:        func(k string) string { return env[k] },
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
	}
	args := []string{"kcurl"}
	for _, a := range tc.Args {
		args = append(args, expand(a))
	}

	code := Main(args, streams)

	if got, want := stdout.String(), expand(tc.Stdout); got != want {
		t.Errorf("stdout:\n got %q\nwant %q", got, want)
	}
	if got, want := stderr.String(), expand(tc.Stderr); got != want {
		t.Errorf("stderr:\n got %q\nwant %q", got, want)
	}
	if code != tc.Exit {
		t.Errorf("exit code %d, want %d", code, tc.Exit)
	}
	if strings.Contains(stdout.String()+stderr.String(), testToken) {
		t.Errorf("the token appears in the output")
	}

	if tc.Request == nil {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	if tc.Request.None {
		if len(seen) != 0 {
			t.Errorf("the server got %d request(s), want none: %s %s", len(seen), seen[0].method, seen[0].uri)
		}
		return
	}
	if len(seen) != 1 {
		t.Fatalf("the server got %d requests, want 1", len(seen))
	}
	got := seen[0]
	if tc.Request.Method != "" && got.method != tc.Request.Method {
		t.Errorf("method %s, want %s", got.method, tc.Request.Method)
	}
	if tc.Request.URI != "" && got.uri != expand(tc.Request.URI) {
		t.Errorf("request URI %s, want %s", got.uri, expand(tc.Request.URI))
	}
	for k, v := range tc.Request.Headers {
		if g := got.header.Get(k); g != expand(v) {
			t.Errorf("request header %s: %q, want %q", k, g, expand(v))
		}
	}
	if tc.Request.Body != nil && string(got.body) != *tc.Request.Body {
		t.Errorf("request body:\n got %q\nwant %q", got.body, *tc.Request.Body)
	}
}

// writeSADir lays out a service-account dir as the kubelet does: token,
// ca.crt and namespace link through ..data to a timestamped dir.
func writeSADir(t *testing.T, dir string, server *httptest.Server) {
	t.Helper()
	stamp := filepath.Join(dir, "..2026_11_27_10_00_00.000000001")
	if err := os.MkdirAll(stamp, 0o755); err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	for name, content := range map[string][]byte{"token": []byte(testToken), "ca.crt": caPEM, "namespace": []byte("ns1")} {
		if err := os.WriteFile(filepath.Join(stamp, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Base(stamp), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"token", "ca.crt", "namespace"} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}
