package target

import (
	"errors"
	"fmt"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Outside a Pod, kcurl reads kubeconfig as kubectl does, through client-go's
// clientcmd: never a parser of its own. The resulting rest.Config carries
// every kind of credential kubeconfig can describe (tokens, token files,
// client certificates, exec plugins, basic auth, proxy-url,
// tls-server-name), and the transport builds on client-go's for it.

// explicitKubeconfig: the user named a kubeconfig or a part of one, which
// wins over the Pod's service account. A $KUBECONFIG whose files are all
// missing (set in an image, say) names nothing: as with kubectl, the Pod
// then answers.
func explicitKubeconfig(opts Options, env Env) bool {
	if opts.Kubeconfig != "" || opts.Context != "" || opts.Cluster != "" || opts.User != "" {
		return true
	}
	for _, path := range filepath.SplitList(env("KUBECONFIG")) {
		if _, err := os.Stat(path); path != "" && err == nil {
			return true
		}
	}
	return false
}

// homeKubeconfig is ~/.kube/config, "" without a HOME.
func homeKubeconfig(env Env) string {
	home := env("HOME")
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".kube", "config")
}

// fromKubeconfig loads kubeconfig: --kubeconfig, else every file of
// $KUBECONFIG merged (the first to set a value wins, as with kubectl), else
// ~/.kube/config. --context, --cluster and --user choose; --server,
// --token, --token-file, --cacert, -k and -n override single fields.
func fromKubeconfig(opts Options, env Env) (*Target, error) {
	rules, raw, where, err := loadKubeconfig(opts, env)
	if err != nil {
		return nil, err
	}
	contextName := opts.Context
	if contextName == "" {
		contextName = raw.CurrentContext
	}
	ctx := raw.Contexts[contextName]
	if opts.Context == "" && contextName != "" && ctx == nil && !isEmpty(raw) {
		return nil, &CredentialsError{What: "kubeconfig", Path: where, Err: fmt.Errorf("current-context %q does not exist", contextName)}
	}
	user := opts.User
	if user == "" && ctx != nil {
		user = ctx.AuthInfo
	}
	overrides, err := kubeconfigOverrides(opts, raw, user)
	if err != nil {
		return nil, err
	}
	// Not NewNonInteractiveDeferredLoadingClientConfig: where the kubeconfig
	// is empty, or names no namespace, it falls back to the in-cluster
	// configuration, read from the process's own environment and the
	// default service-account dir, behind kcurl's precedence and --sa-dir.
	loader := clientcmd.NewNonInteractiveClientConfig(*raw, opts.Context, overrides, rules)
	cfg, err := loader.ClientConfig()
	if err != nil {
		if isEmpty(raw) || clientcmd.IsEmptyConfig(err) {
			return nil, noKubeconfigContext(opts, raw, where, contextName)
		}
		return nil, &CredentialsError{What: "kubeconfig", Path: where, Err: configError(err)}
	}
	namespace, _, err := loader.Namespace()
	if err != nil {
		return nil, &CredentialsError{What: "kubeconfig", Path: where, Err: configError(err)}
	}
	server, err := ParseServer(cfg.Host)
	if err != nil && opts.Server == "" {
		// The file's, not a flag's: not a usage error (exit 2).
		return nil, &CredentialsError{What: "kubeconfig", Path: where, Err: err}
	}
	if err != nil {
		return nil, err
	}

	from := fmt.Sprintf("kubeconfig %s, context %q", where, contextName)
	t := &Target{
		Server:    server,
		Namespace: namespace,
		Insecure:  cfg.Insecure,
		REST:      cfg,
		Impersonate: Impersonation{
			User: cfg.Impersonate.UserName, UID: cfg.Impersonate.UID,
			Groups: cfg.Impersonate.Groups, Extra: cfg.Impersonate.Extra,
		},
		Sources: map[string]string{"server": from, "namespace": from, "ca": from, "token": from},
	}
	if opts.Server != "" {
		t.Sources["server"] = origin(opts, "server", "--server")
	}
	switch {
	case opts.Namespace != "":
		t.Sources["namespace"] = origin(opts, "namespace", "-n")
	case ctx == nil || ctx.Namespace == "":
		t.Sources["namespace"] = "default (the context names none)"
	}
	if source := kubeconfigCASource(opts, cfg, from); source != "" {
		t.Sources["ca"] = source
	}
	if cfg.CAFile != "" {
		t.CA = NewCAFile(hostFS{}, cfg.CAFile)
	}
	kubeconfigCredentials(t, opts, cfg, from, user)
	return t, nil
}

// loadKubeconfig reads the kubeconfig files opts and the environment name:
// --kubeconfig, else $KUBECONFIG, else ~/.kube/config; where says which,
// as messages name it.
func loadKubeconfig(opts Options, env Env) (rules *clientcmd.ClientConfigLoadingRules, raw *clientcmdapi.Config, where string, err error) {
	rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: opts.Kubeconfig}
	where = "--kubeconfig " + opts.Kubeconfig
	if opts.Kubeconfig == "" {
		switch list, home := env("KUBECONFIG"), homeKubeconfig(env); {
		case list != "":
			rules.Precedence = filepath.SplitList(list)
			where = "$KUBECONFIG (" + list + ")"
		case home != "":
			rules.Precedence = []string{home}
			where = home
		default:
			return nil, nil, "", &NotFoundError{Missing: []string{noKubeconfig(env)}}
		}
	}
	raw, err = rules.Load()
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) && pathErr.Path == opts.Kubeconfig {
			err = pathErr.Err // the message names the file already
		}
		return nil, nil, "", &CredentialsError{What: "kubeconfig", Path: where, Err: configError(err)}
	}
	return rules, raw, where, nil
}

// kubeconfigOverrides are the flags that override the kubeconfig (and may
// change raw's user: a token flag replaces its credentials; its token
// file is read here, with the limits of every credential file).
func kubeconfigOverrides(opts Options, raw *clientcmdapi.Config, user string) (*clientcmd.ConfigOverrides, error) {
	overrides := &clientcmd.ConfigOverrides{
		CurrentContext: opts.Context,
		Context:        clientcmdapi.Context{Cluster: opts.Cluster, AuthInfo: opts.User, Namespace: opts.Namespace},
		ClusterInfo:    clientcmdapi.Cluster{Server: opts.Server, CertificateAuthority: opts.CAFile, InsecureSkipTLSVerify: opts.Insecure},
	}
	if imp := opts.Impersonate; imp.User != "" || len(imp.Groups) > 0 || imp.UID != "" {
		if info := raw.AuthInfos[user]; imp.User == "" && (info == nil || info.Impersonate == "") {
			return nil, &exitcode.UsageError{Err: imp.check()}
		}
		overrides.AuthInfo.Impersonate = imp.User
		overrides.AuthInfo.ImpersonateGroups = imp.Groups
		overrides.AuthInfo.ImpersonateUID = imp.UID
	}
	switch {
	case opts.Token != "":
		overrides.AuthInfo.Token = opts.Token
	case opts.TokenFile != "":
		token, err := NewTokenFile(hostFS{}, opts.TokenFile).Token()
		if err != nil {
			return nil, err
		}
		// With the token given, clientcmd does not read the file itself
		// (it would, whole, and wait on a FIFO forever).
		overrides.AuthInfo.Token, overrides.AuthInfo.TokenFile = token, opts.TokenFile
	}
	if opts.Token != "" || opts.TokenFile != "" {
		// A token given on the command line replaces the user's credentials:
		// merged with them, it would fail validation beside basic auth, lose
		// to the user's token file (client-go re-reads it for every request)
		// or to a client certificate at the API server (kubectl sends both),
		// and the flag would seem to do nothing.
		replaceCredentials(raw, user)
	}
	// The user's tokenFile is read by kcurl, with the limits of every
	// credential file, and handed to clientcmd, which would read it
	// without any.
	if ai := raw.AuthInfos[user]; ai != nil && ai.TokenFile != "" && ai.Token == "" && opts.Token == "" && opts.TokenFile == "" {
		// A missing file is left to clientcmd, which says so in its words.
		switch token, err := NewTokenFile(hostFS{}, ai.TokenFile).Token(); {
		case err == nil:
			ai.Token = token
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
	}
	return overrides, nil
}

// kubeconfigCASource says what the server is verified against, where that
// is not simply the kubeconfig (from); "" when it is.
func kubeconfigCASource(opts Options, cfg *rest.Config, from string) string {
	switch {
	case opts.Insecure:
		return "none: -k, TLS not verified"
	case cfg.Insecure:
		return "none: TLS not verified (" + from + ")"
	case opts.CAFile != "":
		return origin(opts, "cacert", "--cacert") + " (" + opts.CAFile + ")"
	case cfg.CAFile == "" && len(cfg.CAData) == 0:
		// client-go, as kubectl, then verifies against the system's roots.
		return "the system's roots (" + from + " names no certificate-authority)"
	}
	return ""
}

// kubeconfigCredentials says what kind of credential the user has, for
// `kcurl config`, whoami and --curl; the transport itself is client-go's.
func kubeconfigCredentials(t *Target, opts Options, cfg *rest.Config, from, user string) {
	switch {
	case cfg.BearerTokenFile != "":
		t.Token = NewTokenFile(hostFS{}, cfg.BearerTokenFile)
		t.Sources["token"] = fmt.Sprintf("%s, user %q (token file %s)", from, user, cfg.BearerTokenFile)
	case cfg.BearerToken != "":
		t.Token = StaticToken(cfg.BearerToken)
		t.Sources["token"] = fmt.Sprintf("%s, user %q (token)", from, user)
	case cfg.ExecProvider != nil:
		t.Sources["token"] = fmt.Sprintf("%s, user %q (exec plugin %s)", from, user, cfg.ExecProvider.Command)
	case cfg.CertFile != "" || len(cfg.CertData) > 0:
		t.Sources["token"] = fmt.Sprintf("%s, user %q (client certificate)", from, user)
	case cfg.Username != "":
		t.Sources["token"] = fmt.Sprintf("%s, user %q (basic auth)", from, user)
	default:
		t.Sources["token"] = fmt.Sprintf("%s, user %q (no credentials: anonymous)", from, user)
	}
	if opts.Token != "" {
		t.Sources["token"] = origin(opts, "token", "--token")
	} else if opts.TokenFile != "" {
		t.Sources["token"] = origin(opts, "token-file", "--token-file") + " (" + opts.TokenFile + ")"
	}
}

// replaceCredentials empties the credentials of the named user, keeping
// what is not a credential (impersonation), so that a token from the
// command line is the only one.
func replaceCredentials(raw *clientcmdapi.Config, user string) {
	old, ok := raw.AuthInfos[user]
	if !ok {
		return
	}
	raw.AuthInfos[user] = &clientcmdapi.AuthInfo{
		LocationOfOrigin:     old.LocationOfOrigin,
		Impersonate:          old.Impersonate,
		ImpersonateUID:       old.ImpersonateUID,
		ImpersonateGroups:    old.ImpersonateGroups,
		ImpersonateUserExtra: old.ImpersonateUserExtra,
	}
}

// configError is clientcmd's error without its "invalid configuration: "
// and the brackets around several problems: one sentence each, joined.
func configError(err error) error {
	var several interface{ Errors() []error }
	if !errors.As(err, &several) {
		return err
	}
	var msgs []string
	for _, e := range several.Errors() {
		msgs = append(msgs, e.Error())
	}
	return errors.New(strings.Join(msgs, "; "))
}

func isEmpty(raw *clientcmdapi.Config) bool {
	return len(raw.Clusters) == 0 && len(raw.Contexts) == 0 && len(raw.AuthInfos) == 0
}

// noKubeconfigContext: the kubeconfig gave no cluster. In a Pod, --context
// is a habit from a laptop: no kubeconfig there holds it, and the Pod's own
// account needs no flag.
func noKubeconfigContext(opts Options, raw *clientcmdapi.Config, where, contextName string) error {
	if opts.Context != "" && isEmpty(raw) {
		return &NotFoundError{Missing: []string{fmt.Sprintf("no context %q: --context chooses a kubeconfig's context, and %s is missing or empty "+
			"(inside a Pod, drop --context to use the Pod's service account; elsewhere, --kubeconfig FILE names the file)", opts.Context, where)}}
	}
	return &NotFoundError{Missing: []string{"no usable kubeconfig in " + where + ": " + emptyReason(raw, contextName)}}
}

// emptyReason says why a kubeconfig gave no cluster.
func emptyReason(raw *clientcmdapi.Config, contextName string) string {
	ctx := raw.Contexts[contextName]
	switch {
	case isEmpty(raw):
		return "the file is missing or empty"
	case contextName == "":
		return "no current-context and no --context"
	case ctx == nil || ctx.Cluster == "":
		return fmt.Sprintf("context %q names no cluster", contextName)
	default:
		return fmt.Sprintf("context %q names cluster %q, which is not defined", contextName, ctx.Cluster)
	}
}

// noKubeconfig is the line of a NotFoundError about kubeconfig.
func noKubeconfig(env Env) string {
	if list := env("KUBECONFIG"); list != "" {
		return "no kubeconfig: no --kubeconfig, $KUBECONFIG (" + list + ") names no file that exists, and no " + homeOr(env)
	}
	if home := homeKubeconfig(env); home != "" {
		return "no kubeconfig: no --kubeconfig, no $KUBECONFIG, and no " + home
	}
	return "no kubeconfig: no --kubeconfig, no $KUBECONFIG, and no $HOME for ~/.kube/config"
}

func homeOr(env Env) string {
	if home := homeKubeconfig(env); home != "" {
		return home
	}
	return "$HOME for ~/.kube/config"
}

// kubeconfigExists: ~/.kube/config is there to fall back on.
func kubeconfigExists(env Env) bool {
	path := homeKubeconfig(env)
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}

// RESTConfig is the client-go configuration of a kubeconfig target.
type RESTConfig = rest.Config
