// Package target finds the API server and the credentials kcurl talks to it
// with: flags and their environment variables first, then the Pod's own
// service account. Everything it resolves records where it came from, so that
// `kcurl config` and the error for "nothing found" can say so.
package target

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// DefaultSADir is where the kubelet mounts a Pod's service-account token.
const DefaultSADir = "/var/run/secrets/kubernetes.io/serviceaccount"

// Options are the user's explicit choices; empty means "find it".
type Options struct {
	Server    string // --server or $KCURL_SERVER
	Token     string // --token (discouraged: visible in ps)
	TokenFile string // --token-file or $KCURL_TOKEN_FILE
	CAFile    string // --cacert or $KCURL_CACERT
	Namespace string // -n
	SADir     string // --sa-dir or $KCURL_SA_DIR
	Insecure  bool   // -k
	// FromPID reads the service account of another process, through
	// /proc/PID/root (--from-pid); 0 looks for one when ours is missing.
	FromPID int
	// ProcDir is where processes are listed, /proc; "" never looks at
	// other processes (tests).
	ProcDir string

	// Kubeconfig (--kubeconfig), Context, Cluster and User choose a
	// kubeconfig target; naming any of them, or setting $KUBECONFIG, wins
	// over the Pod's service account.
	Kubeconfig, Context, Cluster, User string

	// Impersonate is --as, --as-group and --as-uid. For a kubeconfig target
	// each one given replaces the kubeconfig's own (its user's as,
	// as-groups, as-uid), as kubectl's flags do.
	Impersonate Impersonation

	// Origins name the flag or variable each option came from, for messages
	// ("--server", "$KCURL_SERVER"). Missing entries read as the flag name.
	Origins map[string]string
}

// Target is one resolved API server with the credentials to use on it.
type Target struct {
	Server    *url.URL
	Namespace string
	Token     TokenSource // nil only when no credentials are needed (never, so far)
	CA        *CAFile     // nil when Insecure
	Insecure  bool
	// Process is the other container's process whose service account is
	// used (an ephemeral container), or nil.
	Process *Process
	// REST is set for a kubeconfig target: client-go builds its transport,
	// whatever kind of credential the kubeconfig holds. Token and CA then
	// only describe it (for config, whoami, --curl), when they can.
	REST *RESTConfig
	// Impersonate is who the requests act as (Impersonate-* headers):
	// the flags', or a kubeconfig user's own as, as-groups and as-uid.
	// The transport applies it, for every kind of target alike.
	Impersonate Impersonation

	// Sources says where each value came from, keyed by "server", "token",
	// "ca", "namespace".
	Sources map[string]string
}

// Env looks up an environment variable; injected so tests and callers decide
// what kcurl sees instead of the machine's own environment.
type Env func(name string) string

// NotFoundError is returned when no usable server or credentials were found.
// Each entry of Missing is one sentence about one thing that was tried.
type NotFoundError struct {
	Missing []string
}

func (e *NotFoundError) Error() string {
	if len(e.Missing) == 1 {
		return "no Kubernetes credentials found: " + e.Missing[0]
	}
	return "no Kubernetes credentials found:\n  " + strings.Join(e.Missing, "\n  ")
}

func (e *NotFoundError) ExitCode() int { return exitcode.Credentials }

// CredentialsError is a credential that was found but cannot be used: an
// unreadable token file, a CA file without certificates.
type CredentialsError struct {
	What string // "token", "CA"
	Path string
	Err  error
}

func (e *CredentialsError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %v", e.What, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.What, e.Path, e.Err)
}

func (e *CredentialsError) Unwrap() error { return e.Err }
func (e *CredentialsError) ExitCode() int { return exitcode.Credentials }

// Resolve turns the options and the environment into a Target, reading the
// service-account directory of the Pod kcurl runs in when the options leave
// something open.
//
// A target that reads no other process's files drops the capabilities the
// binary may carry for them (docs/security.md): from here on they are of
// no use.
func Resolve(opts Options, env Env) (*Target, error) {
	t, err := resolve(opts, env, hostFS{}, procFS{Dir: opts.ProcDir, Self: os.Getpid()})
	if t != nil && t.Process == nil {
		dropProcessRights()
	}
	return t, err
}

// resolve follows docs/usage.md#where-the-server-and-the-credentials-come-from: an explicit kubeconfig (--kubeconfig, --context,
// --cluster, --user, $KUBECONFIG) first; otherwise the Pod (flags, then the
// service account, ours or another container's); otherwise ~/.kube/config.
func resolve(opts Options, env Env, fsys fileSystem, procs procFS) (*Target, error) {
	if explicitKubeconfig(opts, env) {
		return fromKubeconfig(opts, env)
	}
	t, err := fromPod(opts, env, fsys, procs)
	var notFound *NotFoundError
	if !errors.As(err, &notFound) {
		return t, err
	}
	// Not in a Pod: a laptop or a CI runner with ~/.kube/config, unless
	// connection flags said where to go (they are not kubeconfig overrides
	// of a file the user did not name).
	connectionFlags := opts.Server != "" || opts.Token != "" || opts.TokenFile != "" || opts.CAFile != "" || opts.FromPID != 0
	if connectionFlags {
		return nil, notFound
	}
	if kubeconfigExists(env) {
		return fromKubeconfig(opts, env)
	}
	notFound.Missing = append(notFound.Missing, noKubeconfig(env))
	return nil, notFound
}

// fromPod reads flag paths and our own service-account dir from fsys, and
// looks for other processes' service accounts in procs.
func fromPod(opts Options, env Env, fsys fileSystem, procs procFS) (*Target, error) {
	saDir := opts.SADir
	if saDir == "" {
		saDir = DefaultSADir
	}
	if err := opts.Impersonate.check(); err != nil {
		return nil, &exitcode.UsageError{Err: err}
	}
	t := &Target{Insecure: opts.Insecure, Impersonate: opts.Impersonate, Sources: map[string]string{}}

	// An ephemeral container has no service account of its own: use the one
	// another container of the Pod has, read through /proc/PID/root.
	saFS, saSource, borrowedEnv := fsys, "service account", ""
	// A plain-HTTP server is a kcurl or kubectl proxy that adds credentials
	// itself: a service-account token is never sent over plain HTTP (only
	// one given with --token or --token-file).
	plainHTTP := strings.HasPrefix(strings.ToLower(opts.Server), "http://")
	var proc, unreadable *Process
	var err error
	if !plainHTTP {
		proc, unreadable, err = otherProcess(opts, fsys, procs, saDir)
	}
	if err != nil {
		return nil, err
	} else if proc != nil {
		t.Process = proc
		saFS, saSource = procs.root(proc.PID), "service account of "+proc.String()
		// Our own service variables say where the server is whenever we
		// have any: an ephemeral container gets them too. Only without
		// them are the other process's taken, all of them or none, never
		// its host with our port.
		if !hasServiceEnv(env) {
			env = withEnv(env, procs.environ(proc.PID))
			borrowedEnv = " of " + proc.String()
		}
	}

	server, source, err := resolveServer(opts, env)
	if err != nil {
		return nil, err
	}
	if opts.Server == "" {
		source += borrowedEnv // the variables came from the other process
	}
	t.Server, t.Sources["server"] = server, source

	sa := serviceAccount{fs: saFS, dir: saDir, name: saSource}
	missing, err := podToken(t, opts, env, fsys, sa, plainHTTP, unreadable)
	if err != nil {
		return nil, err
	}
	caMissing, err := podCA(t, opts, fsys, sa)
	if err != nil {
		return nil, err
	}
	missing = append(missing, caMissing...)

	if t.Namespace, t.Sources["namespace"], err = resolveNamespace(opts, env, saFS, saDir, saSource); err != nil {
		return nil, err
	}

	if len(missing) > 0 {
		if opts.Server == "" && env("KUBERNETES_SERVICE_HOST") == "" {
			missing = append([]string{"no server: no --server, and $KUBERNETES_SERVICE_HOST is not set (not in a Pod?)"}, missing...)
		}
		return nil, &NotFoundError{Missing: missing}
	}
	return t, nil
}

// serviceAccount is where a Pod's service-account files are read: our
// own dir, or another process's, through /proc/PID/root.
type serviceAccount struct {
	fs   fileSystem
	dir  string
	name string // "service account", or "service account of process …", for Sources
}

// podToken finds the token: a flag's, else the service account's. What
// is missing is said, not an error, so that every missing part is listed.
func podToken(t *Target, opts Options, env Env, fsys fileSystem, sa serviceAccount, plainHTTP bool, unreadable *Process) (missing []string, err error) {
	switch {
	case opts.Token != "":
		t.Token, t.Sources["token"] = StaticToken(opts.Token), origin(opts, "token", "--token")
	case opts.TokenFile != "":
		file := NewTokenFile(fsys, opts.TokenFile)
		if _, err := file.Token(); err != nil {
			return nil, err
		}
		t.Token, t.Sources["token"] = file, origin(opts, "token-file", "--token-file")+" ("+opts.TokenFile+")"
	case plainHTTP:
		t.Sources["token"] = "none: a plain-HTTP server (a proxy) gets no service-account token"
	default:
		tokenPath := path.Join(sa.dir, "token")
		switch _, err := statFile(sa.fs, tokenPath); {
		case err == nil:
			file := NewTokenFile(sa.fs, tokenPath)
			if _, err := file.Token(); err != nil {
				return nil, err
			}
			t.Token, t.Sources["token"] = file, sa.name+" ("+tokenPath+")"
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, fmt.Sprintf("no token: no --token or --token-file, and no %s: is automountServiceAccountToken false for this Pod?", tokenPath))
			if unreadable != nil && env("KUBERNETES_SERVICE_HOST") != "" {
				// Likely an ephemeral container running as another user than
				// the app it debugs.
				missing = append(missing, fmt.Sprintf("another container's service account may be there, but /proc/%d/root (%s) is not readable: run as that process's user, or with CAP_SYS_PTRACE (docs/examples/ephemeral-container.md)", unreadable.PID, unreadable))
			}
		default:
			return nil, &CredentialsError{What: "token", Path: tokenPath, Err: unwrapPathError(err)}
		}
	}
	return missing, nil
}

// podCA finds the CA the server is verified against: --cacert, else the
// service account's, none with -k or plain HTTP.
func podCA(t *Target, opts Options, fsys fileSystem, sa serviceAccount) (missing []string, err error) {
	if t.Server.Scheme == "http" {
		t.Sources["ca"] = "none: plain HTTP"
	} else if !opts.Insecure {
		caPath, caSource, caFS := opts.CAFile, origin(opts, "cacert", "--cacert")+" ("+opts.CAFile+")", fsys
		if caPath == "" {
			caPath, caSource, caFS = path.Join(sa.dir, "ca.crt"), sa.name+" ("+path.Join(sa.dir, "ca.crt")+")", sa.fs
		}
		switch _, err := statFile(caFS, caPath); {
		case err == nil:
			ca := NewCAFile(caFS, caPath)
			if _, err := ca.Pool(); err != nil {
				return nil, err
			}
			t.CA, t.Sources["ca"] = ca, caSource
		case errors.Is(err, fs.ErrNotExist) && opts.CAFile == "":
			missing = append(missing, fmt.Sprintf("no CA certificate: no --cacert, and no %s (-k skips verification, insecurely)", caPath))
		default:
			return nil, &CredentialsError{What: "CA file", Path: caPath, Err: unwrapPathError(err)}
		}
	} else {
		t.Sources["ca"] = "none: -k, TLS not verified"
	}
	return missing, nil
}

func origin(opts Options, key, flag string) string {
	if o, ok := opts.Origins[key]; ok {
		return o
	}
	return flag
}

// resolveServer follows docs/usage.md#inside-a-pod: --server, then the service environment
// variables the kubelet sets in every Pod, then the cluster DNS name.
func resolveServer(opts Options, env Env) (*url.URL, string, error) {
	if opts.Server != "" {
		u, err := ParseServer(opts.Server)
		if err != nil {
			return nil, "", err
		}
		return u, origin(opts, "server", "--server"), nil
	}
	// The kubelet sets an IPv6 host bare ("fd00::1"); JoinHostPort brackets
	// it, so brackets typed by hand are dropped first instead of doubled.
	host, hostSource := strings.TrimSuffix(strings.TrimPrefix(env("KUBERNETES_SERVICE_HOST"), "["), "]"), "$KUBERNETES_SERVICE_HOST"
	if host == "" {
		host, hostSource = "kubernetes.default.svc", "default host kubernetes.default.svc"
	}
	port, portSource := "443", "default port 443"
	for _, name := range []string{"KUBERNETES_SERVICE_PORT_HTTPS", "KUBERNETES_SERVICE_PORT"} {
		if v := env(name); v != "" {
			port, portSource = v, "$"+name
			break
		}
	}
	u, err := ParseServer("https://" + net.JoinHostPort(host, port))
	if err != nil {
		return nil, "", fmt.Errorf("%s and %s: %w", hostSource, portSource, err)
	}
	return u, hostSource + ", " + portSource, nil
}

// ParseServer accepts what people paste as a server: a URL, or host:port
// (https assumed), with IPv6 literals in brackets; a bare IPv6 address (as
// $KUBERNETES_SERVICE_HOST spells it) is bracketed, since it cannot carry a
// port anyway.
func ParseServer(raw string) (*url.URL, error) {
	if ip := net.ParseIP(raw); ip != nil && strings.Contains(raw, ":") {
		raw = "[" + raw + "]"
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &exitcode.UsageError{Err: fmt.Errorf("invalid server %q: %v", raw, err)}
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, &exitcode.UsageError{Err: fmt.Errorf("invalid server %q: the scheme must be https or http", raw)}
	}
	if u.Hostname() == "" {
		return nil, &exitcode.UsageError{Err: fmt.Errorf("invalid server %q: no host", raw)}
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, &exitcode.UsageError{Err: fmt.Errorf("invalid server %q: only scheme, host, port and path prefix are allowed", raw)}
	}
	// Both forms lose the slash, so that an escaped prefix (%2F) stays
	// escaped: request.Spec.URL builds on EscapedPath.
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), strings.TrimSuffix(u.RawPath, "/")
	return u, nil
}

// resolveNamespace: -n > $POD_NAMESPACE > <sa-dir>/namespace > "default".
// A namespace file that is there but cannot be read (a FIFO, say) is an
// error, not a silent "default".
func resolveNamespace(opts Options, env Env, fsys fileSystem, saDir, saSource string) (string, string, error) {
	if opts.Namespace != "" {
		return opts.Namespace, origin(opts, "namespace", "-n"), nil
	}
	if ns := env("POD_NAMESPACE"); ns != "" {
		return ns, "$POD_NAMESPACE", nil
	}
	nsPath := path.Join(saDir, "namespace")
	b, err := readFile(fsys, nsPath)
	switch {
	case err == nil:
		if ns := strings.TrimSpace(string(b)); ns != "" {
			return ns, saSource + " (" + nsPath + ")", nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", &CredentialsError{What: "namespace file", Path: nsPath, Err: unwrapPathError(err)}
	}
	return "default", "default", nil
}

// ProcessChoiceError is more than one other container with a service
// account, and no --from-pid to choose.
type ProcessChoiceError struct {
	Candidates []Process
}

func (e *ProcessChoiceError) Error() string {
	var b strings.Builder
	b.WriteString("no service account of our own, and several other containers have one; choose with --from-pid PID:")
	for _, p := range e.Candidates {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

func (e *ProcessChoiceError) ExitCode() int { return exitcode.Credentials }

// otherProcess picks the process whose service account to use: --from-pid,
// or, when ours is missing and no token was given, the one other container
// that has one (several with the same token are one Pod's containers).
func otherProcess(opts Options, fsys fileSystem, procs procFS, saDir string) (use, unreadable *Process, err error) {
	tokenPath := path.Join(saDir, "token")
	if opts.FromPID < 0 {
		return nil, nil, &exitcode.UsageError{Err: errors.New("--from-pid takes a process ID")}
	}
	if opts.FromPID > 0 {
		p := Process{PID: opts.FromPID, Command: procs.command(opts.FromPID)}
		if _, err := statFile(procs.root(p.PID), tokenPath); errors.Is(err, fs.ErrPermission) {
			return nil, nil, &NotFoundError{Missing: []string{fmt.Sprintf("no token for --from-pid: %s's /proc/%d/root is not readable: run as that process's user, or with CAP_SYS_PTRACE (see docs/examples/ephemeral-container.md)", p, p.PID)}}
		} else if err != nil {
			return nil, nil, &NotFoundError{Missing: []string{fmt.Sprintf("no token for --from-pid: %s has no %s (%v)", p, tokenPath, unwrapPathError(err))}}
		}
		return &p, nil, nil
	}
	if opts.Token != "" || opts.TokenFile != "" || procs.Dir == "" {
		return nil, nil, nil
	}
	if _, err := statFile(fsys, tokenPath); !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil // ours is there (or unreadable, which is reported as such)
	}
	found, denied := procs.candidates(saDir)
	switch {
	case len(found) == 0 && len(denied) > 0:
		return nil, &denied[0], nil
	case len(found) == 0:
		return nil, nil, nil
	case len(found) == 1 || procs.sameToken(saDir, found):
		return &found[0], nil, nil
	default:
		return nil, nil, &ProcessChoiceError{Candidates: found}
	}
}

func hasServiceEnv(env Env) bool {
	return env("KUBERNETES_SERVICE_HOST") != "" || env("KUBERNETES_SERVICE_PORT") != "" || env("KUBERNETES_SERVICE_PORT_HTTPS") != ""
}

// withEnv falls back to another process's environment: an ephemeral
// container may lack the Pod's KUBERNETES_SERVICE_* variables.
func withEnv(env Env, other map[string]string) Env {
	return func(name string) string {
		if v := env(name); v != "" {
			return v
		}
		if strings.HasPrefix(name, "KUBERNETES_SERVICE_") {
			return other[name]
		}
		return ""
	}
}
