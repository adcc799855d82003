package target

import (
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/kcurl/kcurl/pkg/target/targettest"
)

func TestResolve(t *testing.T) {
	ca := targettest.NewCA(t, "cluster CA")
	pod := map[string]string{"token": "pod-token", "ca.crt": string(ca.CertPEM), "namespace": "team-a"}
	otherCA := filepath.Join(t.TempDir(), "other-ca.crt")
	writeFile(t, otherCA, string(ca.CertPEM))
	tokenFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, tokenFile, "  file-token\n")

	tests := []struct {
		name     string
		opts     Options
		env      map[string]string
		sa       map[string]string // nil: an empty service-account directory
		server   string
		token    string
		ns       string
		insecure bool
		sources  map[string]string // "$SA" stands for the service-account directory
	}{
		{
			name:   "pod: host and https port",
			env:    map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT_HTTPS": "443", "KUBERNETES_SERVICE_PORT": "6443"},
			sa:     pod,
			server: "https://10.96.0.1:443", token: "pod-token", ns: "team-a",
			sources: map[string]string{
				"server":    "$KUBERNETES_SERVICE_HOST, $KUBERNETES_SERVICE_PORT_HTTPS",
				"token":     "service account ($SA/token)",
				"ca":        "service account ($SA/ca.crt)",
				"namespace": "service account ($SA/namespace)",
			},
		},
		{
			name:   "pod: port from KUBERNETES_SERVICE_PORT",
			env:    map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "6443"},
			sa:     pod,
			server: "https://10.96.0.1:6443", token: "pod-token", ns: "team-a",
			sources: map[string]string{"server": "$KUBERNETES_SERVICE_HOST, $KUBERNETES_SERVICE_PORT"},
		},
		{
			name:   "pod: default port 443",
			env:    map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
			sa:     pod,
			server: "https://10.96.0.1:443", token: "pod-token", ns: "team-a",
			sources: map[string]string{"server": "$KUBERNETES_SERVICE_HOST, default port 443"},
		},
		{
			name:   "no host variable: the cluster DNS name",
			env:    map[string]string{"KUBERNETES_SERVICE_PORT": "8443"},
			sa:     pod,
			server: "https://kubernetes.default.svc:8443", token: "pod-token", ns: "team-a",
			sources: map[string]string{"server": "default host kubernetes.default.svc, $KUBERNETES_SERVICE_PORT"},
		},
		{
			name:   "no variables at all",
			sa:     pod,
			server: "https://kubernetes.default.svc:443", token: "pod-token", ns: "team-a",
			sources: map[string]string{"server": "default host kubernetes.default.svc, default port 443"},
		},
		{
			name:   "IPv6 host is bracketed",
			env:    map[string]string{"KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "443"},
			sa:     pod,
			server: "https://[fd00:10:96::1]:443", token: "pod-token", ns: "team-a",
		},
		{
			name:   "IPv6 host already bracketed is not bracketed twice",
			env:    map[string]string{"KUBERNETES_SERVICE_HOST": "[fd00:10:96::1]", "KUBERNETES_SERVICE_PORT": "443"},
			sa:     pod,
			server: "https://[fd00:10:96::1]:443", token: "pod-token", ns: "team-a",
		},
		{
			name:   "--server wins over the Pod's variables",
			opts:   Options{Server: "https://api.example:6443/prefix/"},
			env:    map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"},
			sa:     pod,
			server: "https://api.example:6443/prefix", token: "pod-token", ns: "team-a",
			sources: map[string]string{"server": "--server"},
		},
		{
			name:   "$KCURL_SERVER as the origin",
			opts:   Options{Server: "api.example:6443", Origins: map[string]string{"server": "$KCURL_SERVER"}},
			sa:     pod,
			server: "https://api.example:6443", token: "pod-token", ns: "team-a",
			sources: map[string]string{"server": "$KCURL_SERVER"},
		},
		{
			name:   "--server with a bare IPv6 address",
			opts:   Options{Server: "::1"},
			sa:     pod,
			server: "https://[::1]", token: "pod-token", ns: "team-a",
		},
		{
			name:   "--server with a bracketed IPv6 address and port",
			opts:   Options{Server: "[::1]:6443"},
			sa:     pod,
			server: "https://[::1]:6443", token: "pod-token", ns: "team-a",
		},
		{
			name:   "--token wins over --token-file and the service account",
			opts:   Options{Token: "literal", TokenFile: tokenFile},
			sa:     pod,
			server: "https://kubernetes.default.svc:443", token: "literal", ns: "team-a",
			sources: map[string]string{"token": "--token"},
		},
		{
			name:   "--token-file wins over the service account, trimmed",
			opts:   Options{TokenFile: tokenFile},
			sa:     pod,
			server: "https://kubernetes.default.svc:443", token: "file-token", ns: "team-a",
			sources: map[string]string{"token": "--token-file (" + tokenFile + ")"},
		},
		{
			name:   "$KCURL_TOKEN_FILE as the origin",
			opts:   Options{TokenFile: tokenFile, Origins: map[string]string{"token-file": "$KCURL_TOKEN_FILE"}},
			sa:     pod,
			server: "https://kubernetes.default.svc:443", token: "file-token", ns: "team-a",
			sources: map[string]string{"token": "$KCURL_TOKEN_FILE (" + tokenFile + ")"},
		},
		{
			name:   "service-account token is trimmed of whitespace",
			sa:     map[string]string{"token": "\t pod-token \r\n", "ca.crt": string(ca.CertPEM)},
			server: "https://kubernetes.default.svc:443", token: "pod-token", ns: "default",
		},
		{
			name:   "--cacert wins over the service account",
			opts:   Options{CAFile: otherCA},
			sa:     pod,
			server: "https://kubernetes.default.svc:443", token: "pod-token", ns: "team-a",
			sources: map[string]string{"ca": "--cacert (" + otherCA + ")"},
		},
		{
			name:   "$KCURL_CACERT as the origin",
			opts:   Options{CAFile: otherCA, Origins: map[string]string{"cacert": "$KCURL_CACERT"}},
			sa:     pod,
			server: "https://kubernetes.default.svc:443", token: "pod-token", ns: "team-a",
			sources: map[string]string{"ca": "$KCURL_CACERT (" + otherCA + ")"},
		},
		{
			name:   "-k needs no CA",
			opts:   Options{Insecure: true},
			sa:     map[string]string{"token": "pod-token"},
			server: "https://kubernetes.default.svc:443", token: "pod-token", ns: "default", insecure: true,
			sources: map[string]string{"ca": "none: -k, TLS not verified"},
		},
		{
			name:   "-k ignores a bad CA",
			opts:   Options{Insecure: true},
			sa:     map[string]string{"token": "pod-token", "ca.crt": "not a certificate"},
			server: "https://kubernetes.default.svc:443", token: "pod-token", ns: "default", insecure: true,
		},
		{
			name:   "-n wins over $POD_NAMESPACE",
			opts:   Options{Namespace: "flag-ns"},
			env:    map[string]string{"POD_NAMESPACE": "env-ns"},
			sa:     pod,
			server: "https://kubernetes.default.svc:443", token: "pod-token", ns: "flag-ns",
			sources: map[string]string{"namespace": "-n"},
		},
		{
			name:   "$POD_NAMESPACE wins over the namespace file",
			env:    map[string]string{"POD_NAMESPACE": "env-ns"},
			sa:     pod,
			server: "https://kubernetes.default.svc:443", token: "pod-token", ns: "env-ns",
			sources: map[string]string{"namespace": "$POD_NAMESPACE"},
		},
		{
			name:   "namespace file is trimmed",
			sa:     map[string]string{"token": "pod-token", "ca.crt": string(ca.CertPEM), "namespace": " team-b\n"},
			server: "https://kubernetes.default.svc:443", token: "pod-token", ns: "team-b",
			sources: map[string]string{"namespace": "service account ($SA/namespace)"},
		},
		{
			name:   "no namespace anywhere: default",
			sa:     map[string]string{"token": "pod-token", "ca.crt": string(ca.CertPEM)},
			server: "https://kubernetes.default.svc:443", token: "pod-token", ns: "default",
			sources: map[string]string{"namespace": "default"},
		},
		{
			name:   "blank namespace file: default",
			sa:     map[string]string{"token": "pod-token", "ca.crt": string(ca.CertPEM), "namespace": "\n"},
			server: "https://kubernetes.default.svc:443", token: "pod-token", ns: "default",
			sources: map[string]string{"namespace": "default"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saDir := t.TempDir()
			if tt.sa != nil {
				saDir = targettest.NewServiceAccount(t, tt.sa).Dir
			}
			opts := tt.opts
			opts.SADir = saDir
			got, err := Resolve(opts, targettest.Env(tt.env))
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got.Server.String() != tt.server {
				t.Errorf("server = %q, want %q", got.Server, tt.server)
			}
			token, err := got.Token.Token()
			if err != nil || token != tt.token {
				t.Errorf("token = %q, %v; want %q", token, err, tt.token)
			}
			if got.Namespace != tt.ns {
				t.Errorf("namespace = %q, want %q", got.Namespace, tt.ns)
			}
			if got.Insecure != tt.insecure || (got.CA == nil) != tt.insecure {
				t.Errorf("insecure = %v, CA = %v; want insecure %v", got.Insecure, got.CA, tt.insecure)
			}
			for key, want := range tt.sources {
				want = strings.ReplaceAll(want, "$SA", saDir)
				if got.Sources[key] != want {
					t.Errorf("Sources[%q] = %q, want %q", key, got.Sources[key], want)
				}
			}
			for _, key := range []string{"server", "token", "ca", "namespace"} {
				if got.Sources[key] == "" {
					t.Errorf("Sources[%q] is empty", key)
				}
			}
		})
	}
}

func TestResolveNotFound(t *testing.T) {
	ca := targettest.NewCA(t, "cluster CA")
	tests := []struct {
		name string
		env  map[string]string
		sa   map[string]string
		want string // "$SA" stands for the service-account directory
	}{
		{
			name: "nothing at all",
			want: "no Kubernetes credentials found:\n" +
				"  no server: no --server, and $KUBERNETES_SERVICE_HOST is not set (not in a Pod?)\n" +
				"  no token: no --token or --token-file, and no $SA/token: is automountServiceAccountToken false for this Pod?\n" +
				"  no CA certificate: no --cacert, and no $SA/ca.crt (-k skips verification, insecurely)\n" +
				"  no kubeconfig: no --kubeconfig, no $KUBECONFIG, and no $HOME for ~/.kube/config",
		},
		{
			name: "in a Pod without automountServiceAccountToken",
			env:  map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
			sa:   map[string]string{"ca.crt": string(ca.CertPEM)},
			want: "no Kubernetes credentials found:\n  no token: no --token or --token-file, and no $SA/token: is automountServiceAccountToken false for this Pod?\n" +
				"  no kubeconfig: no --kubeconfig, no $KUBECONFIG, and no $HOME for ~/.kube/config",
		},
		{
			name: "token but no CA",
			env:  map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
			sa:   map[string]string{"token": "t"},
			want: "no Kubernetes credentials found:\n  no CA certificate: no --cacert, and no $SA/ca.crt (-k skips verification, insecurely)\n" +
				"  no kubeconfig: no --kubeconfig, no $KUBECONFIG, and no $HOME for ~/.kube/config",
		},
		{
			name: "token link dangling after its file went away",
			env:  map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
			sa:   map[string]string{"ca.crt": string(ca.CertPEM), "token": "t"},
			want: "no Kubernetes credentials found:\n  no token: no --token or --token-file, and no $SA/token: is automountServiceAccountToken false for this Pod?\n" +
				"  no kubeconfig: no --kubeconfig, no $KUBECONFIG, and no $HOME for ~/.kube/config",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saDir := t.TempDir()
			if tt.sa != nil {
				sa := targettest.NewServiceAccount(t, tt.sa)
				if strings.Contains(tt.name, "dangling") {
					sa.Rotate(map[string]string{"ca.crt": string(ca.CertPEM)})
				}
				saDir = sa.Dir
			}
			_, err := Resolve(Options{SADir: saDir}, targettest.Env(tt.env))
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("err = %v (%T), want *NotFoundError", err, err)
			}
			if want := strings.ReplaceAll(tt.want, "$SA", saDir); err.Error() != want {
				t.Errorf("message:\n%s\nwant:\n%s", err, want)
			}
		})
	}
}

// TestResolveDefaultSADir reads the default directory through a fake file
// system, so the test never looks at the machine's own service account.
func TestResolveDefaultSADir(t *testing.T) {
	_, err := resolve(Options{}, targettest.Env(nil), mapFS{}, procFS{})
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Missing) != 4 {
		t.Fatalf("err = %v, want a NotFoundError with 4 lines", err)
	}
	for _, want := range []string{DefaultSADir + "/token", DefaultSADir + "/ca.crt"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message does not name %s:\n%s", want, err)
		}
	}

	fsys := mapFS{DefaultSADir + "/token": "fake", DefaultSADir + "/namespace": "fake-ns"}
	got, err := resolve(Options{Insecure: true}, targettest.Env(nil), fsys, procFS{})
	if err != nil {
		t.Fatal(err)
	}
	if tok, _ := got.Token.Token(); tok != "fake" || got.Namespace != "fake-ns" || got.Token.File() != DefaultSADir+"/token" {
		t.Errorf("token %q from %q, namespace %q", tok, got.Token.File(), got.Namespace)
	}
}

func TestResolveErrors(t *testing.T) {
	ca := targettest.NewCA(t, "cluster CA")
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	emptyToken := filepath.Join(dir, "empty-token")
	writeFile(t, emptyToken, " \n")
	notADir := filepath.Join(dir, "plain-file")
	writeFile(t, notADir, "")

	tests := []struct {
		name     string
		opts     Options
		env      map[string]string
		sa       map[string]string
		wantType any
		want     string // substring of the message; "$SA" stands for the service-account directory
	}{
		{name: "bad --server scheme", opts: Options{Server: "ftp://h"}, wantType: &exitcode.UsageError{}, want: `invalid server "ftp://h": the scheme must be https or http`},
		{name: "bad --server port", opts: Options{Server: "https://h:port"}, wantType: &exitcode.UsageError{}, want: "invalid server"},
		{name: "--server with a query", opts: Options{Server: "https://h/?a=b"}, wantType: &exitcode.UsageError{}, want: "only scheme, host, port and path prefix"},
		{name: "--server with user info", opts: Options{Server: "https://me@h"}, wantType: &exitcode.UsageError{}, want: "only scheme, host, port and path prefix"},
		{name: "--server without a host", opts: Options{Server: "https:///api"}, wantType: &exitcode.UsageError{}, want: "no host"},
		{
			name: "bad port variable", env: map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "https"},
			wantType: &exitcode.UsageError{}, want: "$KUBERNETES_SERVICE_HOST and $KUBERNETES_SERVICE_PORT: invalid server",
		},
		{
			name: "bad CA in the service account", sa: map[string]string{"token": "t", "ca.crt": "garbage"},
			wantType: &CredentialsError{}, want: "CA file $SA/ca.crt: no PEM certificates in it",
		},
		{
			name: "empty CA file", sa: map[string]string{"token": "t", "ca.crt": ""},
			wantType: &CredentialsError{}, want: "CA file $SA/ca.crt: no PEM certificates in it",
		},
		{
			name: "--cacert that does not exist", opts: Options{CAFile: missing}, sa: map[string]string{"token": "t"},
			wantType: &CredentialsError{}, want: "CA file " + missing + ": no such file or directory",
		},
		{
			name: "--token-file that does not exist", opts: Options{TokenFile: missing}, sa: map[string]string{"ca.crt": string(ca.CertPEM)},
			wantType: &CredentialsError{}, want: "token " + missing + ": no such file or directory",
		},
		{
			name: "empty --token-file", opts: Options{TokenFile: emptyToken}, sa: map[string]string{"ca.crt": string(ca.CertPEM)},
			wantType: &CredentialsError{}, want: "token " + emptyToken + ": the file is empty",
		},
		{
			name: "empty service-account token", sa: map[string]string{"token": "", "ca.crt": string(ca.CertPEM)},
			wantType: &CredentialsError{}, want: "token $SA/token: the file is empty",
		},
		{
			name: "token is a directory", opts: Options{TokenFile: dir}, sa: map[string]string{"ca.crt": string(ca.CertPEM)},
			wantType: &CredentialsError{}, want: "token " + dir + ": a directory, not a regular file: credentials are read only from regular files",
		},
		{
			name: "--sa-dir is a file", opts: Options{SADir: notADir},
			wantType: &CredentialsError{}, want: "token " + notADir + "/token: not a directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.SADir == "" {
				opts.SADir = t.TempDir()
				if tt.sa != nil {
					opts.SADir = targettest.NewServiceAccount(t, tt.sa).Dir
				}
			}
			got, err := Resolve(opts, targettest.Env(tt.env))
			if err == nil {
				t.Fatalf("Resolve = %+v, want an error", got)
			}
			switch tt.wantType.(type) {
			case *exitcode.UsageError:
				var target *exitcode.UsageError
				if !errors.As(err, &target) {
					t.Errorf("err = %v (%T), want *exitcode.UsageError", err, err)
				}
			case *CredentialsError:
				var target *CredentialsError
				if !errors.As(err, &target) {
					t.Errorf("err = %v (%T), want *CredentialsError", err, err)
				}
			}
			if want := strings.ReplaceAll(tt.want, "$SA", opts.SADir); !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not contain %q", err, want)
			}
		})
	}
}

func TestParseServer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://10.0.0.1:6443", "https://10.0.0.1:6443"},
		{"10.0.0.1:6443", "https://10.0.0.1:6443"},
		{"localhost", "https://localhost"},
		{"http://127.0.0.1:8001/", "http://127.0.0.1:8001"},
		{"HTTPS://Api.Example:443/", "https://Api.Example:443"},
		{"https://h/prefix/", "https://h/prefix"},
		{"https://h/a%2Fb/", "https://h/a%2Fb"},
		{"::1", "https://[::1]"},
		{"fd00::1", "https://[fd00::1]"},
		{"[fd00::1]:6443", "https://[fd00::1]:6443"},
		{"https://[fd00::1]/", "https://[fd00::1]"},
	}
	for _, tt := range tests {
		u, err := ParseServer(tt.in)
		if err != nil {
			t.Errorf("ParseServer(%q): %v", tt.in, err)
			continue
		}
		if u.String() != tt.want {
			t.Errorf("ParseServer(%q) = %q, want %q", tt.in, u, tt.want)
		}
	}
}

func TestTokenFileRotation(t *testing.T) {
	sa := targettest.NewServiceAccount(t, map[string]string{"token": "token-1"})
	fsys := &countingFS{}
	tf := NewTokenFile(fsys, sa.Path("token"))

	expectToken := func(want string, wantReads int64) {
		t.Helper()
		got, err := tf.Token()
		if err != nil || got != want {
			t.Fatalf("Token() = %q, %v; want %q", got, err, want)
		}
		if n := fsys.reads.Load(); n != wantReads {
			t.Fatalf("%d reads, want %d", n, wantReads)
		}
	}
	expectToken("token-1", 1)
	expectToken("token-1", 1) // unchanged: no read

	sa.Rotate(map[string]string{"token": "token-2"}) // same size: only the inode tells
	expectToken("token-2", 2)
	expectToken("token-2", 2)

	changed, err := tf.Reload()
	if err != nil || changed {
		t.Fatalf("Reload() without rotation = %v, %v; want false", changed, err)
	}
	if n := fsys.reads.Load(); n != 3 {
		t.Fatalf("Reload read %d times in all, want 3", n)
	}
	sa.Rotate(map[string]string{"token": "token-3"})
	if changed, err := tf.Reload(); err != nil || !changed {
		t.Fatalf("Reload() after rotation = %v, %v; want true", changed, err)
	}
	expectToken("token-3", 4)

	// The same token written anew (the kubelet refreshing the volume) is no
	// change for Reload.
	sa.Rotate(map[string]string{"token": "token-3"})
	if changed, err := tf.Reload(); err != nil || changed {
		t.Fatalf("Reload() after rewriting the same token = %v, %v; want false", changed, err)
	}

	if tf.File() != sa.Path("token") {
		t.Errorf("File() = %q", tf.File())
	}
}

func TestTokenFileErrors(t *testing.T) {
	sa := targettest.NewServiceAccount(t, map[string]string{"token": "t", "ca.crt": "x"})
	tf := NewTokenFile(hostFS{}, sa.Path("token"))
	if _, err := tf.Token(); err != nil {
		t.Fatal(err)
	}
	sa.Rotate(map[string]string{"ca.crt": "x"}) // the token is gone
	var ce *CredentialsError
	if _, err := tf.Token(); !errors.As(err, &ce) || ce.What != "token" {
		t.Errorf("Token() after removal: %v, want a token CredentialsError", err)
	}
	if _, err := tf.Reload(); !errors.As(err, &ce) {
		t.Errorf("Reload() after removal: %v, want a CredentialsError", err)
	}
}

func TestTokenFileConcurrent(t *testing.T) {
	sa := targettest.NewServiceAccount(t, map[string]string{"token": "token-0"})
	tf := NewTokenFile(hostFS{}, sa.Path("token"))
	valid := map[string]bool{}
	for i := range 20 {
		valid["token-"+string(rune('a'+i))] = true
	}
	valid["token-0"] = true

	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok, err := tf.Token()
				if err == nil {
					_, err = tf.Reload()
				}
				if err == nil && !valid[tok] {
					err = errors.New("torn token " + tok)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range 20 {
		sa.Rotate(map[string]string{"token": "token-" + string(rune('a'+i))})
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if tok, _ := tf.Token(); tok != "token-t" {
		t.Errorf("final token %q, want token-t", tok)
	}
}

func TestCAFileRotation(t *testing.T) {
	ca1, ca2 := targettest.NewCA(t, "one"), targettest.NewCA(t, "two")
	sa := targettest.NewServiceAccount(t, map[string]string{"ca.crt": string(ca1.CertPEM)})
	fsys := &countingFS{}
	caf := NewCAFile(fsys, sa.Path("ca.crt"))
	if caf.Path() != sa.Path("ca.crt") {
		t.Errorf("Path() = %q", caf.Path())
	}

	verifies := func(ca *targettest.CA) bool {
		pool, err := caf.Pool()
		if err != nil {
			t.Fatal(err)
		}
		_, err = ca.Cert.Verify(x509VerifyOptions(pool))
		return err == nil
	}
	if !verifies(ca1) || verifies(ca2) {
		t.Fatal("pool before rotation does not hold exactly CA one")
	}
	pemBytes, err := caf.PEM()
	if err != nil || string(pemBytes) != string(ca1.CertPEM) || fsys.reads.Load() != 1 {
		t.Fatalf("PEM() = %q, %v after %d reads", pemBytes, err, fsys.reads.Load())
	}

	sa.Rotate(map[string]string{"ca.crt": string(ca2.CertPEM)})
	if verifies(ca1) || !verifies(ca2) {
		t.Fatal("pool after rotation does not hold exactly CA two")
	}

	sa.Rotate(map[string]string{"ca.crt": "garbage"})
	var ce *CredentialsError
	if _, err := caf.Pool(); !errors.As(err, &ce) || !strings.Contains(err.Error(), "no PEM certificates") {
		t.Errorf("Pool() on a bad bundle: %v", err)
	}
	sa.Rotate(map[string]string{})
	if _, err := caf.Pool(); !errors.As(err, &ce) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Pool() on a missing bundle: %v", err)
	}
}

func TestErrorMessages(t *testing.T) {
	if got := (&NotFoundError{Missing: []string{"a"}}).Error(); got != "no Kubernetes credentials found: a" {
		t.Errorf("one line: %q", got)
	}
	if got := (&NotFoundError{Missing: []string{"a", "b"}}).Error(); got != "no Kubernetes credentials found:\n  a\n  b" {
		t.Errorf("two lines: %q", got)
	}
	if got := (&CredentialsError{What: "token", Err: errors.New("x")}).Error(); got != "token: x" {
		t.Errorf("no path: %q", got)
	}
	inner := errors.New("inner")
	if !errors.Is(&CredentialsError{What: "token", Path: "/p", Err: inner}, inner) {
		t.Error("CredentialsError does not unwrap")
	}
	if !errors.Is(&exitcode.UsageError{Err: inner}, inner) {
		t.Error("UsageError does not unwrap")
	}
}

// countingFS is the host's file system, counting the opens whose content
// was read.
type countingFS struct{ reads atomic.Int64 }

func (c *countingFS) Open(name string) (fs.File, error) {
	f, err := hostFS{}.Open(name)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, reads: &c.reads}, nil
}

type countingFile struct {
	fs.File
	reads   *atomic.Int64
	counted bool
}

func (c *countingFile) Read(p []byte) (int, error) {
	if !c.counted {
		c.counted = true
		c.reads.Add(1)
	}
	return c.File.Read(p)
}

// mapFS is a file system of regular files held in memory.
type mapFS map[string]string

func (m mapFS) Open(name string) (fs.File, error) {
	s, ok := m[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return fstest.MapFS{"f": &fstest.MapFile{Data: []byte(s), Mode: 0o644}}.Open("f")
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func x509VerifyOptions(roots *x509.CertPool) x509.VerifyOptions {
	return x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
}

// vanishingFS loses every file for its first `misses` lookups, as a reader
// does whose lookup went through the `..data` link the kubelet just
// replaced, into the directory it then removed.
type vanishingFS struct {
	mapFS
	misses int
}

func (v *vanishingFS) miss(op, name string) error {
	if v.misses > 0 {
		v.misses--
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return nil
}

func (v *vanishingFS) Open(name string) (fs.File, error) {
	if err := v.miss("open", name); err != nil {
		return nil, err
	}
	return v.mapFS.Open(name)
}

func TestLookupDuringRotation(t *testing.T) {
	ca := targettest.NewCA(t, "cluster")
	for _, misses := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("%d misses", misses), func(t *testing.T) {
			fsys := &vanishingFS{mapFS: mapFS{"/sa/token": "tok", "/sa/ca.crt": string(ca.CertPEM)}}
			tf, caf := NewTokenFile(fsys, "/sa/token"), NewCAFile(fsys, "/sa/ca.crt")

			fsys.misses = misses
			tok, err := tf.Token()
			if gone := misses >= 3; gone != (err != nil) || (!gone && tok != "tok") {
				t.Errorf("Token() = %q, %v after %d misses", tok, err, misses)
			}
			fsys.misses = misses
			_, err = tf.Reload()
			if gone := misses >= 3; gone != (err != nil) {
				t.Errorf("Reload() = %v after %d misses", err, misses)
			}
			fsys.misses = misses
			_, err = caf.Pool()
			if gone := misses >= 3; gone != (err != nil) {
				t.Errorf("Pool() = %v after %d misses", err, misses)
			}
		})
	}
}
