// Command listserver is a benchmark input: an HTTPS server on 127.0.0.1
// that answers GET for one namespace's ConfigMaps as the API server would,
// with a list of N generated ConfigMaps (about 1.66 KB each as compact JSON,
// so 100,000 are 166 MB), made as it is sent and never held. It serves what
// kcurl, kubectl and curl need to list them: discovery (/api, /api/v1,
// /apis), pages (limit=, continue=), gzip when asked, the Table rendering
// (Accept: …;as=Table) and a watch (each ConfigMap as an ADDED event, then
// the connection held open). Loading 100,000 objects into etcd takes longer
// than the benchmark; this is not a test double for correctness, which the
// e2e tests check against a real API server.
//
//	go run ./scripts/bench/listserver -n 100000 -dir DIR
//
// It writes DIR/ca.crt, DIR/token, DIR/namespace (a service-account dir),
// DIR/kubeconfig and DIR/server (https://127.0.0.1:PORT), and serves until
// it is sent SIGTERM or SIGINT.
package main

import (
	"bufio"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const namespace = "bench"

func main() {
	n := flag.Int("n", 100000, "how many ConfigMaps the list has")
	dir := flag.String("dir", "", "where to write ca.crt, token, namespace, kubeconfig and server")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "listserver: -dir is required")
		os.Exit(2)
	}
	if err := run(*n, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "listserver:", err)
		os.Exit(1)
	}
}

func run(n int, dir string) error {
	cert, caPEM, err := selfSigned()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := "https://" + ln.Addr().String()
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: bench, cluster: {server: %q, certificate-authority: %q}}]
users: [{name: bench, user: {tokenFile: %q}}]
contexts: [{name: bench, context: {cluster: bench, user: bench, namespace: %s}}]
current-context: bench
`, server, filepath.Join(dir, "ca.crt"), filepath.Join(dir, "token"), namespace)
	for name, content := range map[string]string{"ca.crt": string(caPEM), "token": "bench-token", "namespace": namespace, "kubeconfig": kubeconfig, "server": server + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: &lists{n: n}, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}, ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		srv.Close()
	}()
	if err := srv.ServeTLS(ln, "", ""); err != http.ErrServerClosed {
		return err
	}
	return nil
}

type lists struct{ n int }

func (l *lists) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "only GET", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api":
		io.WriteString(w, `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1"}]}`)
	case "/apis":
		io.WriteString(w, `{"kind":"APIGroupList","apiVersion":"v1","groups":[]}`)
	case "/api/v1":
		io.WriteString(w, `{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"configmaps","singularName":"configmap","namespaced":true,"kind":"ConfigMap","verbs":["get","list","watch"],"shortNames":["cm"]}]}`)
	case "/version":
		io.WriteString(w, `{"major":"1","minor":"37","gitVersion":"v1.37.2"}`)
	case "/api/v1/namespaces/" + namespace + "/configmaps":
		l.list(w, r)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"not found","reason":"NotFound","code":404}`)
	}
}

func (l *lists) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("continue"))
	end := l.n
	if limit, _ := strconv.Atoi(q.Get("limit")); limit > 0 && start+limit < end {
		end = start + limit
	}
	table := strings.Contains(r.Header.Get("Accept"), "as=Table")
	var out io.Writer = w
	var gz *gzip.Writer
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed) // the API server's level
		defer gz.Close()
		out = gz
	}
	b := bufio.NewWriterSize(out, 64<<10)
	defer b.Flush()
	if q.Get("watch") == "true" || q.Get("watch") == "1" {
		l.watch(b, r)
		b.Flush()
		if gz != nil {
			gz.Flush()
		}
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	meta := `{"resourceVersion":"1000000"}`
	if end < l.n {
		meta = fmt.Sprintf(`{"resourceVersion":"1000000","continue":"%d","remainingItemCount":%d}`, end, l.n-end)
	}
	if table {
		fmt.Fprintf(b, `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":%s,"columnDefinitions":[{"name":"Name","type":"string","format":"name","description":"Name must be unique within a namespace.","priority":0},{"name":"Data","type":"string","format":"","description":"Data contains the configuration data.","priority":0},{"name":"Age","type":"string","format":"","description":"CreationTimestamp is a timestamp representing the server time when this object was created.","priority":0}],"rows":[`, meta)
	} else {
		fmt.Fprintf(b, `{"kind":"ConfigMapList","apiVersion":"v1","metadata":%s,"items":[`, meta)
	}
	for i := start; i < end; i++ {
		if i > start {
			b.WriteByte(',')
		}
		if table {
			fmt.Fprintf(b, `{"cells":["cm-%06d",2,"5d"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"cm-%06d","namespace":"%s","uid":"%s","resourceVersion":"%d","creationTimestamp":"2026-11-26T10:00:00Z"}}}`, i, i, namespace, uid(i), 1000+i)
		} else {
			writeConfigMap(b, i, false)
		}
	}
	b.WriteString("]}")
}

// watch sends each ConfigMap as an ADDED event, and for a streaming list
// (sendInitialEvents=true, --all) the bookmark that ends it; the caller
// then holds the connection until the client goes.
func (l *lists) watch(b *bufio.Writer, r *http.Request) {
	for i := 0; i < l.n && r.Context().Err() == nil; i++ {
		b.WriteString(`{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1",`)
		writeConfigMap(b, i, true)
		b.WriteString("}\n")
	}
	if q := r.URL.Query(); q.Get("sendInitialEvents") == "true" && q.Get("allowWatchBookmarks") == "true" {
		b.WriteString(`{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"1000000","annotations":{"k8s.io/initial-events-end":"true"}}}}` + "\n")
	}
}

// writeConfigMap writes ConfigMap i as the API server sends it: about 1.66
// KB with its managed fields. An item of a list carries no kind; an event's
// object does, and opened its brace already.
func writeConfigMap(b *bufio.Writer, i int, opened bool) {
	if !opened {
		b.WriteByte('{')
	}
	fmt.Fprintf(b, `"metadata":{"name":"cm-%06d","namespace":"%s","uid":"%s","resourceVersion":"%d","creationTimestamp":"2026-11-26T10:%02d:%02dZ","labels":{"app":"bench","shard":"s%d"},`+
		`"managedFields":[{"manager":"kubectl-create","operation":"Update","apiVersion":"v1","time":"2026-11-26T10:%02d:%02dZ","fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},"f:index":{},"f:payload":{}},"f:metadata":{"f:labels":{".":{},"f:app":{},"f:shard":{}}}}}]},`+
		`"data":{"index":"%d","payload":"%s"}}`,
		i, namespace, uid(i), 1000+i, i/60%60, i%60, i%10, i/60%60, i%60, i, payload)
}

var payload = strings.Repeat("x", 1158)

func uid(i int) string {
	return fmt.Sprintf("5f0c%04x-1b2c-4d5e-8f90-%012x", i%0x10000, i)
}

// selfSigned makes a CA-signed-by-itself certificate for 127.0.0.1.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "listserver"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
