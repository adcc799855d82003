package cmd

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// cliCase is one entry of testdata/*.yaml: what the user types, what the
// API server answers, and what the user sees. Adding a case is adding a few
// lines of YAML.
type cliCase struct {
	Name  string            `json:"name"`
	Argv0 string            `json:"argv0"` // the program as run; kcurl when empty
	Args  []string          `json:"args"`
	Env   map[string]string `json:"env"`   // on top of the Pod's defaults; "" unsets
	NoSA  bool              `json:"no_sa"` // no service-account dir at all
	Stdin string            `json:"stdin"`
	Files map[string]string `json:"files"` // written into {tmp} (mode 0600, dirs 0700)
	Modes map[string]string `json:"modes"` // chmod (octal) of a path under {tmp} after that
	// Special replaces files (placeholders expanded) by what no
	// credential may be: "fifo" makes a named pipe, "size:N" a sparse
	// regular file of N bytes.
	Special  map[string]string `json:"special"`
	Terminal bool              `json:"terminal"`
	Columns  int               `json:"columns"` // the terminal's width
	// Token is the service account's token, instead of testToken;
	// TokenClaims is a JWT payload (JSON, kept byte for byte) that becomes
	// the token, signed by nobody. Either way it must never be printed.
	Token       string `json:"token"`
	TokenClaims string `json:"token_claims"`

	// Response answers every request that no route and no discovery
	// answers.
	Response cliResponse `json:"response"`
	// Routes answer by path (without the query): one response, or a list
	// of them for the requests to that path in turn (pages, a watch that
	// resumes), the last one again after that.
	Routes map[string]cliResponses `json:"routes"`
	// Discovery serves testdata/discovery/{api,apis}.json at /api and
	// /apis as aggregated discovery (unless a route says otherwise).
	Discovery bool `json:"discovery"`

	// Requests, when given, is every request the server received, in
	// order: "METHOD URI".
	Requests []string `json:"requests"`
	// MaxRequests, when given, is as many requests as the server may get.
	MaxRequests int `json:"max_requests"`
	// Request, when given, is what the server's last request must have
	// been (its only one, unless routes or discovery are given); None
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

type cliResponse struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	DelayMS int               `json:"delay_ms"` // before the body is sent
	// Hold keeps the response open after the body until the client goes
	// away: a watch or a followed log that the server does not end.
	Hold bool `json:"hold"`
	// Cut breaks the connection after the body, as a crashing server or
	// a load balancer would: no clean end of the response.
	Cut bool `json:"cut"`
}

// cliResponses is one response, or a list of them.
type cliResponses []cliResponse

func (r *cliResponses) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // as strict as the rest of the file
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		return dec.Decode((*[]cliResponse)(r))
	}
	var one cliResponse
	if err := dec.Decode(&one); err != nil {
		return err
	}
	*r = cliResponses{one}
	return nil
}

const testToken = "eyJhbGciOiJSUzI1NiJ9.test-token-never-printed.sig"

// wsKey is the Sec-WebSocket-Key line -v shows: 16 random bytes, base64.
var wsKey = regexp.MustCompile(`Sec-WebSocket-Key: [A-Za-z0-9+/]{22}==`)

// cliNow is the clock of every case ("1h0m0s left"): 2026-11-27T10:00:00Z,
// unix 1795773600, the time the service-account dir is stamped with.
var cliNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// fakeJWT wraps a payload into a token that looks like a service account's:
// header.payload.signature, base64url without padding.
func fakeJWT(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"test-key"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte("not-a-signature"))
}

// aggregatedDiscovery is the Content-Type of aggregated discovery.
const aggregatedDiscovery = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

func TestCLI(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.yaml: %v", err)
	}
	names := map[string]string{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cases []cliCase
		if err := yaml.UnmarshalStrict(data, &cases); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, tc := range cases {
			if other, dup := names[tc.Name]; dup {
				t.Errorf("%s: case %q is in %s too", file, tc.Name, other)
			}
			names[tc.Name] = file
			t.Run(tc.Name, func(t *testing.T) { runCLICase(t, tc) })
		}
	}
}

// discoveryRoutes are the aggregated discovery answers of the test cluster.
func discoveryRoutes(t *testing.T) map[string]cliResponses {
	t.Helper()
	routes := map[string]cliResponses{}
	for path, file := range map[string]string{"/api": "api.json", "/apis": "apis.json"} {
		body, err := os.ReadFile(filepath.Join("testdata", "discovery", file))
		if err != nil {
			t.Fatal(err)
		}
		routes[path] = cliResponses{{Headers: map[string]string{"Content-Type": aggregatedDiscovery}, Body: string(body)}}
	}
	return routes
}

type recordedRequest struct {
	method, uri string
	header      http.Header
	body        []byte
}

func runCLICase(t *testing.T, tc cliCase) {
	routes := map[string]cliResponses{}
	if tc.Discovery {
		routes = discoveryRoutes(t)
	}
	for path, rs := range tc.Routes {
		if len(rs) == 0 {
			t.Fatalf("route %s: no response", path)
		}
		routes[path] = rs
	}
	var (
		mu     sync.Mutex
		seen   []recordedRequest
		counts = map[string]int{} // requests per path so far
	)
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, recordedRequest{r.Method, r.RequestURI, r.Header.Clone(), body})
		resp := tc.Response
		if rs, ok := routes[r.URL.Path]; ok {
			resp = rs[min(counts[r.URL.Path], len(rs)-1)]
		}
		counts[r.URL.Path]++
		mu.Unlock()
		w.Header()["Date"] = nil // keep -i output stable
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		status := resp.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		if resp.DelayMS > 0 {
			w.(http.Flusher).Flush()
			select {
			case <-time.After(time.Duration(resp.DelayMS) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, resp.Body)
		if resp.Cut {
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		if resp.Hold {
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second): // a case that forgot --timeout fails, not hangs
			}
		}
	}))
	server.Config.ErrorLog = log.New(io.Discard, "", 0) // a refused certificate is a case, not noise
	server.StartTLS()
	defer server.Close()

	token := testToken
	switch {
	case tc.Token != "" && tc.TokenClaims != "":
		t.Fatal("token and token_claims: give one")
	case tc.Token != "":
		token = tc.Token
	case tc.TokenClaims != "":
		token = fakeJWT(tc.TokenClaims)
	}
	tmp := t.TempDir()
	saDir := filepath.Join(tmp, "serviceaccount")
	if !tc.NoSA {
		writeSADir(t, saDir, server, token)
	}
	port := server.URL[strings.LastIndexByte(server.URL, ':')+1:]
	// {discoverycache} is this server's discovery cache file, under {tmp};
	// {now} the wall clock's time (the cache's age is real time).
	sum := sha256.Sum256([]byte(server.URL))
	discoveryCache := filepath.Join("cache", "kcurl", "discovery", hex.EncodeToString(sum[:12])+".json")
	expand := strings.NewReplacer("{server}", server.URL, "{port}", port, "{sadir}", saDir, "{tmp}", tmp, "{discoverycache}", discoveryCache,
		"{now}", time.Now().UTC().Format(time.RFC3339)).Replace
	for name, content := range tc.Files {
		file := filepath.Join(tmp, expand(name))
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(expand(content)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, mode := range tc.Modes {
		m, err := strconv.ParseUint(mode, 8, 32)
		if err == nil {
			err = os.Chmod(filepath.Join(tmp, expand(name)), os.FileMode(m))
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	for name, kind := range tc.Special {
		makeSpecial(t, expand(name), kind)
	}

	// The Pod's environment, and nothing of the machine's. The discovery
	// cache lives in this case's own temp dir.
	env := map[string]string{
		"KUBERNETES_SERVICE_HOST":       "127.0.0.1",
		"KUBERNETES_SERVICE_PORT":       port,
		"KUBERNETES_SERVICE_PORT_HTTPS": port,
		"KCURL_SA_DIR":                  saDir,
		"HOME":                          tmp,
		"XDG_CACHE_HOME":                filepath.Join(tmp, "cache"),
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
		Columns:       tc.Columns,
		Getenv:        func(k string) string { return env[k] },
		Now:           func() time.Time { return cliNow },
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
	}
	args := []string{"kcurl"}
	if tc.Argv0 != "" {
		args[0] = tc.Argv0
	}
	for _, a := range tc.Args {
		args = append(args, expand(a))
	}

	// A case that would hang (a FIFO read without O_NONBLOCK) fails.
	done := make(chan int, 1)
	go func() { done <- Main(args, streams) }()
	var code int
	select {
	case code = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("kcurl did not exit within 30 s; stderr so far: %q", stderr.String())
	}

	if got, want := stdout.String(), expand(tc.Stdout); got != want {
		t.Errorf("stdout:\n got %q\nwant %q", got, want)
	}
	// A WebSocket upgrade's key is random, as the protocol wants it.
	if got, want := wsKey.ReplaceAllString(stderr.String(), "Sec-WebSocket-Key: {wskey}"), expand(tc.Stderr); got != want {
		t.Errorf("stderr:\n got %q\nwant %q", got, want)
	}
	if code != tc.Exit {
		t.Errorf("exit code %d, want %d", code, tc.Exit)
	}
	if strings.Contains(stdout.String()+stderr.String(), token) {
		t.Errorf("the token appears in the output")
	}

	mu.Lock()
	defer mu.Unlock()
	if tc.MaxRequests > 0 && len(seen) > tc.MaxRequests {
		t.Errorf("the server got %d requests, want at most %d", len(seen), tc.MaxRequests)
	}
	if tc.Requests != nil {
		var got []string
		for _, r := range seen {
			got = append(got, r.method+" "+r.uri)
		}
		want := make([]string, len(tc.Requests))
		for i, r := range tc.Requests {
			want[i] = expand(r)
		}
		if !slices.Equal(got, want) {
			t.Errorf("requests:\n got %s\nwant %s", listing(got), listing(want))
		}
	}
	if tc.Request == nil {
		return
	}
	if tc.Request.None {
		if len(seen) != 0 {
			t.Errorf("the server got %d request(s), want none: %s %s", len(seen), seen[0].method, seen[0].uri)
		}
		return
	}
	if len(seen) == 0 || len(seen) != 1 && !tc.Discovery && tc.Routes == nil {
		t.Fatalf("the server got %d requests, want 1", len(seen))
	}
	got := seen[len(seen)-1]
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

// makeSpecial replaces name by a file of the given kind (cliCase.Special).
func makeSpecial(t *testing.T, name, kind string) {
	t.Helper()
	if err := os.Remove(name); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	switch size, isSize := strings.CutPrefix(kind, "size:"); {
	case kind == "fifo":
		if err := syscall.Mkfifo(name, 0o600); err != nil {
			t.Fatal(err)
		}
	case isSize:
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(name)
		if err == nil {
			err = f.Truncate(n)
			f.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("special %s: unknown kind %q", name, kind)
	}
}

// listing prints requests one a line, for a readable diff.
func listing(requests []string) string {
	var b strings.Builder
	for _, r := range requests {
		fmt.Fprintf(&b, "\n    %s", r)
	}
	if b.Len() == 0 {
		return "(none)"
	}
	return b.String()
}

// writeSADir lays out a service-account dir as the kubelet does: token,
// ca.crt and namespace link through ..data to a timestamped dir.
func writeSADir(t *testing.T, dir string, server *httptest.Server, token string) {
	t.Helper()
	stamp := filepath.Join(dir, "..2026_11_27_10_00_00.000000001")
	if err := os.MkdirAll(stamp, 0o755); err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	for name, content := range map[string][]byte{"token": []byte(token), "ca.crt": caPEM, "namespace": []byte("ns1")} {
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
