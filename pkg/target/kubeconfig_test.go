package target

import (
	"encoding/base64"
	"errors"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kcurl/kcurl/pkg/target/targettest"
)

// kubeconfigAt writes a kubeconfig to path; "{dir}" in content stands for
// the directory the file is in.
func kubeconfigAt(t *testing.T, path, content string) string {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	writeFile(t, path, strings.ReplaceAll(content, "{dir}", filepath.Dir(path)))
	return path
}

// oneCluster is a kubeconfig for server with two contexts on it: "main"
// (the current one, user "main" with token, in namespace) and "other"
// (user "other" with token+"-other", in other-ns).
func oneCluster(server, token, namespace string) string {
	return `apiVersion: v1
kind: Config
current-context: main
clusters:
- name: main
  cluster:
    server: ` + server + `
    insecure-skip-tls-verify: true
contexts:
- name: main
  context: {cluster: main, user: main, namespace: "` + namespace + `"}
- name: other
  context: {cluster: main, user: other, namespace: other-ns}
users:
- name: main
  user: {token: ` + token + `}
- name: other
  user: {token: ` + token + `-other}
`
}

// TestKubeconfigPrecedence: an explicit kubeconfig (--kubeconfig,
// --context, --cluster, --user, $KUBECONFIG) beats the Pod; the Pod beats
// ~/.kube/config; connection flags keep ~/.kube/config out.
func TestKubeconfigPrecedence(t *testing.T) {
	ca := targettest.NewCA(t, "cluster CA")
	dir := t.TempDir()
	explicit := kubeconfigAt(t, filepath.Join(dir, "explicit.yaml"), oneCluster("https://explicit.example:6443", "explicit-token", "explicit-ns"))
	fromEnv := kubeconfigAt(t, filepath.Join(dir, "env.yaml"), oneCluster("https://env.example:6443", "env-token", "env-ns"))
	tokenFile := filepath.Join(dir, "token")
	writeFile(t, tokenFile, "flag-token")
	caFile := filepath.Join(dir, "ca.crt")
	writeFile(t, caFile, string(ca.CertPEM))
	podFiles := map[string]string{"token": "pod-token", "ca.crt": string(ca.CertPEM), "namespace": "pod-ns"}

	tests := []struct {
		name    string
		opts    Options
		env     map[string]string // "HOME" is set unless noHome
		pod     map[string]string // the service-account dir; nil: empty
		home    bool              // ~/.kube/config exists
		server  string
		token   string
		ns      string
		source  string // Sources["server"], "{home}" standing for $HOME
		missing string // a NotFoundError mentioning this, instead of a target
		without string // ... and not this
	}{
		{
			name: "--kubeconfig beats the Pod", opts: Options{Kubeconfig: explicit},
			pod: podFiles, home: true, env: map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
			server: "https://explicit.example:6443", token: "explicit-token", ns: "explicit-ns",
		},
		{
			name: "--kubeconfig beats $KUBECONFIG", opts: Options{Kubeconfig: explicit},
			env:    map[string]string{"KUBECONFIG": fromEnv},
			server: "https://explicit.example:6443", token: "explicit-token", ns: "explicit-ns",
		},
		{
			name: "$KUBECONFIG beats the Pod",
			pod:  podFiles, home: true, env: map[string]string{"KUBECONFIG": fromEnv, "KUBERNETES_SERVICE_HOST": "10.96.0.1"},
			server: "https://env.example:6443", token: "env-token", ns: "env-ns",
		},
		{
			name: "--context alone reads ~/.kube/config and beats the Pod", opts: Options{Context: "other"},
			pod: podFiles, home: true, env: map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
			server: "https://home.example:6443", token: "home-token-other", ns: "other-ns",
		},
		{
			name: "--context alone reads $KUBECONFIG before ~/.kube/config", opts: Options{Context: "other"},
			pod: podFiles, home: true, env: map[string]string{"KUBECONFIG": fromEnv},
			server: "https://env.example:6443", token: "env-token-other", ns: "other-ns",
		},
		{
			name: "--user alone beats the Pod", opts: Options{User: "other"},
			pod: podFiles, home: true,
			server: "https://home.example:6443", token: "home-token-other", ns: "home-ns",
		},
		{
			name: "--cluster alone beats the Pod", opts: Options{Cluster: "main"},
			pod: podFiles, home: true,
			server: "https://home.example:6443", token: "home-token", ns: "home-ns",
		},
		{
			name: "the Pod beats ~/.kube/config",
			pod:  podFiles, home: true, env: map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
			server: "https://10.96.0.1:443", token: "pod-token", ns: "pod-ns",
		},
		{
			name: "flags override the Pod, not ~/.kube/config", opts: Options{Server: "https://flag.example", Namespace: "flag-ns"},
			pod: podFiles, home: true,
			server: "https://flag.example", token: "pod-token", ns: "flag-ns",
		},
		{
			name: "no Pod: ~/.kube/config", home: true,
			server: "https://home.example:6443", token: "home-token", ns: "home-ns",
			source: `kubeconfig {home}/.kube/config, context "main"`,
		},
		{
			name: "a Pod without a token: ~/.kube/config", home: true,
			pod: map[string]string{"ca.crt": string(ca.CertPEM)}, env: map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
			server: "https://home.example:6443", token: "home-token", ns: "home-ns",
		},
		{
			name: "no Pod, -n: ~/.kube/config in that namespace", opts: Options{Namespace: "flag-ns"}, home: true,
			server: "https://home.example:6443", token: "home-token", ns: "flag-ns",
		},
		{
			name: "no Pod, --server: not ~/.kube/config", opts: Options{Server: "https://flag.example"}, home: true,
			missing: "no token: no --token or --token-file", without: "no kubeconfig",
		},
		{
			name: "no Pod, --token: not ~/.kube/config", opts: Options{Token: "flag-token"}, home: true,
			missing: "no CA certificate", without: "no kubeconfig",
		},
		{
			name: "no Pod, --token-file: not ~/.kube/config", opts: Options{TokenFile: tokenFile}, home: true,
			missing: "no CA certificate", without: "no kubeconfig",
		},
		{
			name: "no Pod, --cacert: not ~/.kube/config", opts: Options{CAFile: caFile}, home: true,
			missing: "no token: no --token or --token-file", without: "no kubeconfig",
		},
		{
			name:    "nothing at all",
			missing: "no kubeconfig: no --kubeconfig, no $KUBECONFIG, and no {home}/.kube/config",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			if tt.home {
				kubeconfigAt(t, filepath.Join(home, ".kube", "config"), oneCluster("https://home.example:6443", "home-token", "home-ns"))
			}
			env := map[string]string{"HOME": home}
			for k, v := range tt.env {
				env[k] = v
			}
			opts := tt.opts
			opts.SADir = t.TempDir()
			if tt.pod != nil {
				opts.SADir = targettest.NewServiceAccount(t, tt.pod).Dir
			}
			got, err := Resolve(opts, targettest.Env(env))
			if tt.missing != "" {
				var nf *NotFoundError
				if !errors.As(err, &nf) {
					t.Fatalf("Resolve = %+v, %v; want a NotFoundError", got, err)
				}
				if want := strings.ReplaceAll(tt.missing, "{home}", home); !strings.Contains(err.Error(), want) {
					t.Errorf("message does not say %q:\n%s", want, err)
				}
				if tt.without != "" && strings.Contains(err.Error(), tt.without) {
					t.Errorf("message mentions %q:\n%s", tt.without, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			token, err := got.Token.Token()
			if err != nil {
				t.Fatal(err)
			}
			if got.Server.String() != tt.server || token != tt.token || got.Namespace != tt.ns {
				t.Errorf("got %s, token %q, namespace %q; want %s, %q, %q", got.Server, token, got.Namespace, tt.server, tt.token, tt.ns)
			}
			if want := strings.ReplaceAll(tt.source, "{home}", home); want != "" && got.Sources["server"] != want {
				t.Errorf("Sources[server] = %q, want %q", got.Sources["server"], want)
			}
			if fromPod := tt.token == "pod-token"; (got.REST == nil) != fromPod {
				t.Errorf("REST = %v, want a kubeconfig target: %v", got.REST, !fromPod)
			}
		})
	}
}

func TestKubeconfigNotFound(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		opts Options
		want string // the last line; "{home}" stands for $HOME
	}{
		{name: "no ~/.kube/config", env: map[string]string{"HOME": "{home}"}, want: "no kubeconfig: no --kubeconfig, no $KUBECONFIG, and no {home}/.kube/config"},
		{name: "no $HOME", want: "no kubeconfig: no --kubeconfig, no $KUBECONFIG, and no $HOME for ~/.kube/config"},
		{
			name: "~/.kube/config is a directory", env: map[string]string{"HOME": "{home}/dir-config"},
			want: "", // it exists: reading it fails instead (below)
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			must(t, os.MkdirAll(filepath.Join(home, "dir-config", ".kube", "config"), 0o755))
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = strings.ReplaceAll(v, "{home}", home)
			}
			opts := tt.opts
			opts.SADir = t.TempDir()
			_, err := Resolve(opts, targettest.Env(env))
			if tt.want == "" {
				var ce *CredentialsError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), filepath.Join(home, "dir-config", ".kube", "config")) {
					t.Fatalf("err = %v (%T), want a CredentialsError naming the file", err, err)
				}
				return
			}
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("err = %v (%T), want a NotFoundError", err, err)
			}
			want := strings.ReplaceAll(tt.want, "{home}", home)
			if last := nf.Missing[len(nf.Missing)-1]; last != want {
				t.Errorf("last line %q, want %q\n%s", last, want, err)
			}
			for _, tried := range []string{"no server", "no token", "no CA certificate"} {
				if !strings.Contains(err.Error(), tried) {
					t.Errorf("message does not say %q:\n%s", tried, err)
				}
			}
		})
	}
}

// TestKubeconfigMerge: $KUBECONFIG lists files merged as kubectl merges
// them: the first file to set current-context, or to define a name, wins;
// what only a later file defines is usable; missing files are skipped.
func TestKubeconfigMerge(t *testing.T) {
	dir := t.TempDir()
	first := kubeconfigAt(t, filepath.Join(dir, "first.yaml"), `apiVersion: v1
kind: Config
current-context: first
clusters:
- name: shared
  cluster: {server: "https://first.example", insecure-skip-tls-verify: true}
contexts:
- name: first
  context: {cluster: shared, user: first-user, namespace: first-ns}
- name: shared
  context: {cluster: shared, user: first-user, namespace: shared-from-first}
users:
- name: first-user
  user: {token: first-token}
- name: shared-user
  user: {token: shared-user-from-first}
`)
	second := kubeconfigAt(t, filepath.Join(dir, "second.yaml"), `apiVersion: v1
kind: Config
current-context: second
clusters:
- name: shared
  cluster: {server: "https://second.example", insecure-skip-tls-verify: true}
- name: second-only
  cluster: {server: "https://second-only.example", insecure-skip-tls-verify: true}
contexts:
- name: second
  context: {cluster: second-only, user: second-user, namespace: second-ns}
- name: shared
  context: {cluster: second-only, user: second-user, namespace: shared-from-second}
- name: mixed
  context: {cluster: shared, user: shared-user}
users:
- name: second-user
  user: {token: second-token}
- name: shared-user
  user: {token: shared-user-from-second}
`)
	missing := filepath.Join(dir, "missing.yaml")
	list := strings.Join([]string{missing, first, missing + "2", second}, string(filepath.ListSeparator))

	tests := []struct {
		context           string
		server, token, ns string
	}{
		{context: "", server: "https://first.example", token: "first-token", ns: "first-ns"},
		{context: "second", server: "https://second-only.example", token: "second-token", ns: "second-ns"},
		{context: "shared", server: "https://first.example", token: "first-token", ns: "shared-from-first"},
		{context: "mixed", server: "https://first.example", token: "shared-user-from-first", ns: "default"},
	}
	for _, tt := range tests {
		t.Run("context "+tt.context, func(t *testing.T) {
			got, err := Resolve(Options{Context: tt.context, SADir: t.TempDir()}, targettest.Env(map[string]string{"KUBECONFIG": list, "HOME": t.TempDir()}))
			if err != nil {
				t.Fatal(err)
			}
			token, _ := got.Token.Token()
			if got.Server.String() != tt.server || token != tt.token || got.Namespace != tt.ns {
				t.Errorf("got %s, token %q, namespace %q; want %s, %q, %q", got.Server, token, got.Namespace, tt.server, tt.token, tt.ns)
			}
			context := tt.context
			if context == "" {
				context = "first"
			}
			if want := `kubeconfig $KUBECONFIG (` + list + `), context "` + context + `"`; got.Sources["server"] != want {
				t.Errorf("Sources[server] = %q, want %q", got.Sources["server"], want)
			}
		})
	}

	t.Run("only missing files name nothing: the Pod answers, as with kubectl", func(t *testing.T) {
		only := missing + string(filepath.ListSeparator) + missing + "2"
		_, err := Resolve(Options{SADir: t.TempDir()}, targettest.Env(map[string]string{"KUBECONFIG": only}))
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			t.Fatalf("err = %v (%T), want a NotFoundError", err, err)
		}
		if want := "no kubeconfig: no --kubeconfig, $KUBECONFIG (" + only + ") names no file that exists, and no $HOME for ~/.kube/config"; nf.Missing[len(nf.Missing)-1] != want {
			t.Errorf("message:\n%s\nwant last line:\n%s", err, want)
		}
		sa := targettest.NewServiceAccount(t, map[string]string{"token": "pod-token", "ca.crt": string(targettest.NewCA(t, "pod").CertPEM)})
		got, err := Resolve(Options{SADir: sa.Dir}, targettest.Env(map[string]string{"KUBECONFIG": only, "KUBERNETES_SERVICE_HOST": "10.0.0.1"}))
		if err != nil || got.REST != nil {
			t.Fatalf("in a Pod with a $KUBECONFIG of missing files: %+v, %v", got, err)
		}
	})
}

// TestKubeconfigErrors: every error is of the exit-3 class (a
// NotFoundError or a CredentialsError) and names the file or what it
// lacks.
func TestKubeconfigErrors(t *testing.T) {
	dir := t.TempDir()
	good := kubeconfigAt(t, filepath.Join(dir, "good.yaml"), oneCluster("https://h.example", "tok", ""))
	noCurrent := kubeconfigAt(t, filepath.Join(dir, "no-current.yaml"), strings.Replace(oneCluster("https://h.example", "tok", ""), "current-context: main\n", "", 1))
	danglingCurrent := kubeconfigAt(t, filepath.Join(dir, "dangling-current.yaml"), strings.Replace(oneCluster("https://h.example", "tok", ""), "current-context: main", "current-context: gone", 1))
	danglingCluster := kubeconfigAt(t, filepath.Join(dir, "dangling-cluster.yaml"), strings.Replace(oneCluster("https://h.example", "tok", ""), "{cluster: main, user: main", "{cluster: gone, user: main", 1))
	noServer := kubeconfigAt(t, filepath.Join(dir, "no-server.yaml"), strings.Replace(oneCluster("https://h.example", "tok", ""), "server: https://h.example", "server: \"\"", 1))
	garbage := kubeconfigAt(t, filepath.Join(dir, "garbage.yaml"), "clusters: [this is not: a kubeconfig\n")
	badKey := kubeconfigAt(t, filepath.Join(dir, "bad-key.yaml"), strings.Replace(oneCluster("https://h.example", "tok", ""),
		"user: {token: tok}", "user: {client-certificate: {dir}/missing.crt, client-key: {dir}/missing.key}", 1))
	missingTokenFile := kubeconfigAt(t, filepath.Join(dir, "missing-token.yaml"), strings.Replace(oneCluster("https://h.example", "tok", ""),
		"user: {token: tok}", "user: {tokenFile: missing-token}", 1))
	ftpServer := kubeconfigAt(t, filepath.Join(dir, "ftp.yaml"), oneCluster("ftp://h.example", "tok", ""))
	missing := filepath.Join(dir, "missing.yaml")
	empty := kubeconfigAt(t, filepath.Join(dir, "empty.yaml"), "")

	tests := []struct {
		name     string
		opts     Options
		env      map[string]string
		notFound bool   // a NotFoundError, else a CredentialsError
		want     string // the whole message
	}{
		{
			name: "--kubeconfig that does not exist", opts: Options{Kubeconfig: missing},
			want: "kubeconfig --kubeconfig " + missing + ": no such file or directory",
		},
		{
			name: "--kubeconfig that is empty", opts: Options{Kubeconfig: empty}, notFound: true,
			want: "no Kubernetes credentials found: no usable kubeconfig in --kubeconfig " + empty + ": the file is missing or empty",
		},
		{
			name: "a file that does not parse", opts: Options{Kubeconfig: garbage},
			want: `kubeconfig --kubeconfig ` + garbage + `: error loading config file "` + garbage + `": `,
		},
		{
			name: "unknown --context", opts: Options{Kubeconfig: good, Context: "nope"},
			want: `kubeconfig --kubeconfig ` + good + `: context "nope" does not exist`,
		},
		{
			name: "unknown --cluster", opts: Options{Kubeconfig: good, Cluster: "nope"},
			want: `kubeconfig --kubeconfig ` + good + `: cluster "nope" does not exist`,
		},
		{
			name: "unknown --user", opts: Options{Kubeconfig: good, User: "nope"},
			want: `kubeconfig --kubeconfig ` + good + `: auth info "nope" does not exist`,
		},
		{
			name: "--context alone, no kubeconfig anywhere", opts: Options{Context: "main"}, notFound: true,
			env:  map[string]string{"HOME": dir + "/nohome"},
			want: "no Kubernetes credentials found: no context \"main\": --context chooses a kubeconfig's context, and " + dir + "/nohome/.kube/config is missing or empty (inside a Pod, drop --context to use the Pod's service account; elsewhere, --kubeconfig FILE names the file)",
		},
		{
			name: "--context alone, no $HOME", opts: Options{Context: "main"}, notFound: true,
			want: "no Kubernetes credentials found: no kubeconfig: no --kubeconfig, no $KUBECONFIG, and no $HOME for ~/.kube/config",
		},
		{
			name: "no current-context", opts: Options{Kubeconfig: noCurrent}, notFound: true,
			want: "no Kubernetes credentials found: no usable kubeconfig in --kubeconfig " + noCurrent + ": no current-context and no --context",
		},
		{
			name: "current-context names a context that does not exist", opts: Options{Kubeconfig: danglingCurrent},
			want: `kubeconfig --kubeconfig ` + danglingCurrent + `: current-context "gone" does not exist`,
		},
		{
			name: "the context names a cluster that does not exist", opts: Options{Kubeconfig: danglingCluster}, notFound: true,
			want: `no Kubernetes credentials found: no usable kubeconfig in --kubeconfig ` + danglingCluster + `: context "main" names cluster "gone", which is not defined`,
		},
		{
			name: "a cluster without a server", opts: Options{Kubeconfig: noServer},
			want: `kubeconfig --kubeconfig ` + noServer + `: no server found for cluster "main"`,
		},
		{
			name: "a server that is not https or http", opts: Options{Kubeconfig: ftpServer},
			want: `kubeconfig --kubeconfig ` + ftpServer + `: invalid server "ftp://h.example": the scheme must be https or http`,
		},
		{
			name: "a client key that does not exist", opts: Options{Kubeconfig: badKey},
			want: `kubeconfig --kubeconfig ` + badKey + `: unable to read client-cert ` + dir + `/missing.crt for main due to open ` + dir + `/missing.crt: no such file or directory; ` +
				`unable to read client-key ` + dir + `/missing.key for main due to open ` + dir + `/missing.key: no such file or directory`,
		},
		{
			name: "the user's token file does not exist", opts: Options{Kubeconfig: missingTokenFile},
			want: `kubeconfig --kubeconfig ` + missingTokenFile + `: open ` + dir + `/missing-token: no such file or directory`,
		},
		{
			name: "--token-file that does not exist", opts: Options{Kubeconfig: good, TokenFile: missing},
			want: "token " + missing + ": no such file or directory",
		},
		{
			name: "empty --token-file", opts: Options{Kubeconfig: good, TokenFile: empty},
			want: "token " + empty + ": the file is empty",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.SADir = t.TempDir()
			got, err := Resolve(opts, targettest.Env(tt.env))
			if err == nil {
				t.Fatalf("Resolve = %+v, want an error", got)
			}
			var nf *NotFoundError
			var ce *CredentialsError
			if tt.notFound && !errors.As(err, &nf) || !tt.notFound && !errors.As(err, &ce) {
				t.Errorf("err is a %T, want a NotFoundError: %v", err, tt.notFound)
			}
			if msg := err.Error(); msg != tt.want && !(strings.HasSuffix(tt.want, ": ") && strings.HasPrefix(msg, tt.want)) {
				t.Errorf("message:\n%s\nwant:\n%s", msg, tt.want)
			}
		})
	}
}

// TestKubeconfigFields: what the context chooses, what flags override, and
// Sources for each, in the formats of the Pod's.
func TestKubeconfigFields(t *testing.T) {
	ca := targettest.NewCA(t, "cluster CA")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.crt")
	writeFile(t, caFile, string(ca.CertPEM))
	flagCA := filepath.Join(dir, "flag-ca.crt")
	writeFile(t, flagCA, string(ca.CertPEM))
	userTokenFile := filepath.Join(dir, "user-token")
	writeFile(t, userTokenFile, "user-file-token\n")
	flagTokenFile := filepath.Join(dir, "flag-token")
	writeFile(t, flagTokenFile, " flag-file-token\n")
	for _, name := range []string{"client.crt", "client.key"} {
		writeFile(t, filepath.Join(dir, name), "not checked before the transport is built")
	}
	caData := base64.StdEncoding.EncodeToString(ca.CertPEM)
	kc := kubeconfigAt(t, filepath.Join(dir, "config"), `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster: {server: "https://dev.example:6443", certificate-authority: ca.crt, tls-server-name: api.dev}
- name: prod
  cluster: {server: "https://prod.example/prefix/", certificate-authority-data: `+caData+`}
- name: lab
  cluster: {server: "https://lab.example", insecure-skip-tls-verify: true}
- name: public
  cluster: {server: "https://public.example"}
contexts:
- name: dev
  context: {cluster: dev, user: token, namespace: dev-ns}
- name: prod
  context: {cluster: prod, user: cert}
- name: lab
  context: {cluster: lab, user: exec}
- name: public
  context: {cluster: public, user: basic}
- name: file
  context: {cluster: dev, user: token-file}
- name: anonymous
  context: {cluster: dev, user: nobody}
users:
- name: token
  user: {token: user-token}
- name: token-file
  user: {tokenFile: `+userTokenFile+`}
- name: cert
  user: {client-certificate: client.crt, client-key: `+dir+`/client.key}
- name: cert-data
  user: {client-certificate-data: `+caData+`, client-key-data: `+caData+`}
- name: exec
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token, args: [--cluster, lab], interactiveMode: Never}
- name: basic
  user: {username: admin, password: secret}
- name: nobody
  user: {}
- name: impersonating
  user: {client-certificate-data: `+caData+`, client-key-data: `+caData+`, as: jane, as-groups: [ops]}
`)
	from := func(context string) string {
		return `kubeconfig --kubeconfig ` + kc + `, context "` + context + `"`
	}

	tests := []struct {
		name      string
		opts      Options
		server    string
		ns        string
		token     string // "" for none
		tokenFile string
		caFile    string // Target.CA's path, "" for none
		insecure  bool
		sources   map[string]string
		check     func(t *testing.T, cfg *RESTConfig)
	}{
		{
			name:   "current context: token, CA file, namespace, tls-server-name",
			server: "https://dev.example:6443", ns: "dev-ns", token: "user-token", caFile: caFile,
			sources: map[string]string{
				"server": from("dev"), "namespace": from("dev"), "ca": from("dev"),
				"token": from("dev") + `, user "token" (token)`,
			},
			check: func(t *testing.T, cfg *RESTConfig) {
				if cfg.ServerName != "api.dev" || cfg.CAFile != caFile || cfg.BearerToken != "user-token" {
					t.Errorf("ServerName %q, CAFile %q, BearerToken %q", cfg.ServerName, cfg.CAFile, cfg.BearerToken)
				}
			},
		},
		{
			name: "--context: client certificate, inline CA, no namespace, path prefix", opts: Options{Context: "prod"},
			server: "https://prod.example/prefix", ns: "default",
			sources: map[string]string{
				"namespace": "default (the context names none)", "ca": from("prod"),
				"token": from("prod") + `, user "cert" (client certificate)`,
			},
			check: func(t *testing.T, cfg *RESTConfig) {
				if cfg.CertFile != filepath.Join(dir, "client.crt") || cfg.KeyFile != filepath.Join(dir, "client.key") || len(cfg.CAData) == 0 {
					t.Errorf("relative paths not resolved against the kubeconfig's dir: CertFile %q, KeyFile %q; CAData %d bytes", cfg.CertFile, cfg.KeyFile, len(cfg.CAData))
				}
			},
		},
		{
			name: "--context: exec plugin, insecure cluster", opts: Options{Context: "lab"},
			server: "https://lab.example", ns: "default", insecure: true,
			sources: map[string]string{
				"ca":    "none: TLS not verified (" + from("lab") + ")",
				"token": from("lab") + `, user "exec" (exec plugin get-token)`,
			},
			check: func(t *testing.T, cfg *RESTConfig) {
				if cfg.ExecProvider == nil || strings.Join(cfg.ExecProvider.Args, " ") != "--cluster lab" || !cfg.Insecure {
					t.Errorf("ExecProvider %+v, Insecure %v", cfg.ExecProvider, cfg.Insecure)
				}
			},
		},
		{
			name: "--context: basic auth, the system's roots", opts: Options{Context: "public"},
			server: "https://public.example", ns: "default",
			sources: map[string]string{
				"ca":    "the system's roots (" + from("public") + " names no certificate-authority)",
				"token": from("public") + `, user "basic" (basic auth)`,
			},
			check: func(t *testing.T, cfg *RESTConfig) {
				if cfg.Username != "admin" || cfg.Password != "secret" {
					t.Errorf("Username %q, Password %q", cfg.Username, cfg.Password)
				}
			},
		},
		{
			name: "--context: token file", opts: Options{Context: "file"},
			server: "https://dev.example:6443", ns: "default", token: "user-file-token", tokenFile: userTokenFile, caFile: caFile,
			sources: map[string]string{"token": from("file") + `, user "token-file" (token file ` + userTokenFile + `)`},
			check: func(t *testing.T, cfg *RESTConfig) {
				if cfg.BearerTokenFile != userTokenFile {
					t.Errorf("BearerTokenFile %q", cfg.BearerTokenFile)
				}
			},
		},
		{
			name: "--context: no credentials", opts: Options{Context: "anonymous"},
			server: "https://dev.example:6443", ns: "default", caFile: caFile,
			sources: map[string]string{"token": from("anonymous") + `, user "nobody" (no credentials: anonymous)`},
		},
		{
			name: "--cluster and --user replace the context's", opts: Options{Cluster: "lab", User: "basic"},
			server: "https://lab.example", ns: "dev-ns", insecure: true,
			sources: map[string]string{"token": from("dev") + `, user "basic" (basic auth)`},
		},
		{
			name: "-n", opts: Options{Namespace: "flag-ns"},
			server: "https://dev.example:6443", ns: "flag-ns", token: "user-token", caFile: caFile,
			sources: map[string]string{"namespace": "-n"},
		},
		{
			name: "--server, which drops tls-server-name as kubectl does", opts: Options{Server: "https://flag.example:8443", Origins: map[string]string{"server": "$KCURL_SERVER"}},
			server: "https://flag.example:8443", ns: "dev-ns", token: "user-token", caFile: caFile,
			sources: map[string]string{"server": "$KCURL_SERVER", "namespace": from("dev")},
			check: func(t *testing.T, cfg *RESTConfig) {
				if cfg.Host != "https://flag.example:8443" || cfg.ServerName != "" {
					t.Errorf("Host %q, ServerName %q", cfg.Host, cfg.ServerName)
				}
			},
		},
		{
			name: "--cacert replaces inline data", opts: Options{Context: "prod", CAFile: flagCA},
			server: "https://prod.example/prefix", ns: "default", caFile: flagCA,
			sources: map[string]string{"ca": "--cacert (" + flagCA + ")"},
			check: func(t *testing.T, cfg *RESTConfig) {
				if cfg.CAFile != flagCA || len(cfg.CAData) != 0 {
					t.Errorf("CAFile %q, CAData %d bytes", cfg.CAFile, len(cfg.CAData))
				}
			},
		},
		{
			name: "-k drops the CA", opts: Options{Insecure: true},
			server: "https://dev.example:6443", ns: "dev-ns", token: "user-token", insecure: true,
			sources: map[string]string{"ca": "none: -k, TLS not verified"},
			check: func(t *testing.T, cfg *RESTConfig) {
				if !cfg.Insecure || cfg.CAFile != "" || len(cfg.CAData) != 0 {
					t.Errorf("Insecure %v, CAFile %q, CAData %d bytes", cfg.Insecure, cfg.CAFile, len(cfg.CAData))
				}
			},
		},
		{
			name: "--token replaces a client certificate", opts: Options{Context: "prod", Token: "flag-token"},
			server: "https://prod.example/prefix", ns: "default", token: "flag-token",
			sources: map[string]string{"token": "--token"},
		},
		{
			name: "--token replaces an exec plugin", opts: Options{Context: "lab", Token: "flag-token"},
			server: "https://lab.example", ns: "default", token: "flag-token", insecure: true,
			sources: map[string]string{"token": "--token"},
		},
		{
			name: "--token replaces basic auth", opts: Options{Context: "public", Token: "flag-token"},
			server: "https://public.example", ns: "default", token: "flag-token",
			sources: map[string]string{"token": "--token"},
		},
		{
			name: "--token replaces a token file", opts: Options{Context: "file", Token: "flag-token"},
			server: "https://dev.example:6443", ns: "default", token: "flag-token", caFile: caFile,
			sources: map[string]string{"token": "--token"},
		},
		{
			name: "--token replaces inline client certificate data", opts: Options{User: "cert-data", Token: "flag-token"},
			server: "https://dev.example:6443", ns: "dev-ns", token: "flag-token", caFile: caFile,
		},
		{
			name: "--token keeps impersonation, which is not a credential", opts: Options{User: "impersonating", Token: "flag-token"},
			server: "https://dev.example:6443", ns: "dev-ns", token: "flag-token", caFile: caFile,
			check: func(t *testing.T, cfg *RESTConfig) {
				if cfg.Impersonate.UserName != "jane" || strings.Join(cfg.Impersonate.Groups, ",") != "ops" {
					t.Errorf("Impersonate %+v", cfg.Impersonate)
				}
			},
		},
		{
			name: "--token-file replaces a token", opts: Options{TokenFile: flagTokenFile, Origins: map[string]string{"token-file": "$KCURL_TOKEN_FILE"}},
			server: "https://dev.example:6443", ns: "dev-ns", token: "flag-file-token", tokenFile: flagTokenFile, caFile: caFile,
			sources: map[string]string{"token": "$KCURL_TOKEN_FILE (" + flagTokenFile + ")"},
		},
		{
			name: "--token-file replaces a client certificate", opts: Options{Context: "prod", TokenFile: flagTokenFile},
			server: "https://prod.example/prefix", ns: "default", token: "flag-file-token", tokenFile: flagTokenFile,
			sources: map[string]string{"token": "--token-file (" + flagTokenFile + ")"},
		},
		{
			name: "--token wins over --token-file", opts: Options{Context: "lab", Token: "flag-token", TokenFile: flagTokenFile},
			server: "https://lab.example", ns: "default", token: "flag-token", insecure: true,
			sources: map[string]string{"token": "--token"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Kubeconfig, opts.SADir = kc, t.TempDir()
			got, err := Resolve(opts, targettest.Env(map[string]string{"HOME": t.TempDir()}))
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			cfg := got.REST
			if cfg == nil {
				t.Fatal("no REST config")
			}
			if got.Server.String() != tt.server || got.Namespace != tt.ns || got.Insecure != tt.insecure {
				t.Errorf("server %s, namespace %q, insecure %v; want %s, %q, %v", got.Server, got.Namespace, got.Insecure, tt.server, tt.ns, tt.insecure)
			}

			// Target.Token and CA describe file and literal credentials
			// (for config, whoami, --curl); inline data has no file.
			switch {
			case tt.token == "" && got.Token != nil:
				t.Errorf("Token = %v, want none", got.Token)
			case tt.token != "" && got.Token == nil:
				t.Errorf("no Token, want %q", tt.token)
			case tt.token != "":
				if token, err := got.Token.Token(); err != nil || token != tt.token || got.Token.File() != tt.tokenFile {
					t.Errorf("Token = %q (%v) from %q, want %q from %q", token, err, got.Token.File(), tt.token, tt.tokenFile)
				}
			}
			switch {
			case tt.caFile == "" && got.CA != nil:
				t.Errorf("CA = %s, want none", got.CA.Path())
			case tt.caFile != "" && (got.CA == nil || got.CA.Path() != tt.caFile):
				t.Errorf("CA = %v, want %s", got.CA, tt.caFile)
			}

			// What client-go will send: one kind of credential only.
			if tt.token != "" {
				if cfg.CertFile != "" || cfg.KeyFile != "" || cfg.CertData != nil || cfg.KeyData != nil || cfg.ExecProvider != nil ||
					cfg.AuthProvider != nil || cfg.Username != "" || cfg.Password != "" {
					t.Errorf("a token and more: %+v", cfg)
				}
				if tt.tokenFile == "" && (cfg.BearerToken != tt.token || cfg.BearerTokenFile != "") {
					t.Errorf("BearerToken %q, BearerTokenFile %q; want the token alone", cfg.BearerToken, cfg.BearerTokenFile)
				}
				if tt.tokenFile != "" && cfg.BearerTokenFile != tt.tokenFile {
					t.Errorf("BearerTokenFile %q, want %q", cfg.BearerTokenFile, tt.tokenFile)
				}
			}
			if tt.check != nil {
				tt.check(t, cfg)
			}
			for key, want := range tt.sources {
				if got.Sources[key] != want {
					t.Errorf("Sources[%q] = %q\nwant %q", key, got.Sources[key], want)
				}
			}
			for _, key := range []string{"server", "token", "ca", "namespace"} {
				if got.Sources[key] == "" {
					t.Errorf("Sources[%q] is empty", key)
				}
			}
			if strings.Contains(strings.Join(mapValues(got.Sources), " "), "secret") {
				t.Errorf("Sources show the password: %v", got.Sources)
			}
		})
	}
}

func mapValues(m map[string]string) []string {
	var values []string
	for _, v := range m {
		values = append(values, v)
	}
	return values
}

// TestKubeconfigBadServerFlag: a bad --server is the user's typing (exit
// 2), whichever source it overrides.
func TestKubeconfigBadServerFlag(t *testing.T) {
	kc := kubeconfigAt(t, filepath.Join(t.TempDir(), "config"), oneCluster("https://h.example", "tok", ""))
	_, err := Resolve(Options{Kubeconfig: kc, Server: "ftp://flag.example", SADir: t.TempDir()}, targettest.Env(nil))
	var ue *exitcode.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `invalid server "ftp://flag.example"`) {
		t.Errorf("err = %v (%T), want a UsageError", err, err)
	}
}
