package target

import (
	"errors"
	"fmt"
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
// wins over the Pod's service account.
func explicitKubeconfig(opts Options, env Env) bool {
	return opts.Kubeconfig != "" || opts.Context != "" || opts.Cluster != "" || opts.User != "" || env("KUBECONFIG") != ""
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
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: opts.Kubeconfig}
	where := "--kubeconfig " + opts.Kubeconfig
	if opts.Kubeconfig == "" {
		if list := env("KUBECONFIG"); list != "" {
			rules.Precedence = filepath.SplitList(list)
			where = "$KUBECONFIG (" + list + ")"
		} else {
			rules.Precedence = []string{homeKubeconfig(env)}
			where = homeKubeconfig(env)
		}
	}
	overrides := &clientcmd.ConfigOverrides{
		CurrentContext: opts.Context,
		Context:        clientcmdapi.Context{Cluster: opts.Cluster, AuthInfo: opts.User, Namespace: opts.Namespace},
		ClusterInfo:    clientcmdapi.Cluster{Server: opts.Server, CertificateAuthority: opts.CAFile, InsecureSkipTLSVerify: opts.Insecure},
		AuthInfo:       clientcmdapi.AuthInfo{Token: opts.Token, TokenFile: opts.TokenFile},
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, &CredentialsError{What: "kubeconfig", Path: where, Err: err}
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, &NotFoundError{Missing: []string{"no usable kubeconfig in " + where + ": " + emptyReason(raw)}}
		}
		return nil, &CredentialsError{What: "kubeconfig", Path: where, Err: errors.New(strings.TrimPrefix(err.Error(), "invalid configuration: "))}
	}
	if opts.Token != "" || opts.TokenFile != "" {
		// A token given on the command line replaces the user's credentials:
		// sent beside a client certificate, it would lose to it at the API
		// server (kubectl sends both), and the flag would seem to do nothing.
		cfg.CertFile, cfg.CertData, cfg.KeyFile, cfg.KeyData = "", nil, "", nil
		cfg.ExecProvider, cfg.AuthProvider, cfg.Username, cfg.Password = nil, nil, "", ""
	}
	namespace, _, err := loader.Namespace()
	if err != nil {
		return nil, &CredentialsError{What: "kubeconfig", Path: where, Err: err}
	}
	server, err := ParseServer(cfg.Host)
	if err != nil {
		return nil, err
	}

	contextName := opts.Context
	if contextName == "" {
		contextName = raw.CurrentContext
	}
	ctx := raw.Contexts[contextName]
	from := fmt.Sprintf("kubeconfig %s, context %q", where, contextName)
	t := &Target{
		Server:    server,
		Namespace: namespace,
		Insecure:  cfg.Insecure,
		REST:      cfg,
		Sources:   map[string]string{"server": from, "namespace": from, "ca": from, "token": from},
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
	switch {
	case cfg.Insecure:
		t.Sources["ca"] = "none: TLS not verified (" + from + ")"
	case opts.CAFile != "":
		t.Sources["ca"] = origin(opts, "cacert", "--cacert") + " (" + opts.CAFile + ")"
	}
	if cfg.CAFile != "" {
		t.CA = NewCAFile(hostFS{}, cfg.CAFile)
	}

	// What kind of credential, for `kcurl config`, whoami and --curl; the
	// transport itself is client-go's.
	user := ""
	if ctx != nil {
		user = ctx.AuthInfo
	}
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
	return t, nil
}

// emptyReason says what was missing from an empty kubeconfig.
func emptyReason(raw clientcmdapi.Config) string {
	if len(raw.Clusters) == 0 && len(raw.Contexts) == 0 {
		return "the file is missing or empty"
	}
	return "no current-context and no --context"
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
