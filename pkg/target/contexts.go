package target

import (
	"encoding/json"
	"maps"
	"slices"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	clientcmdlatest "k8s.io/client-go/tools/clientcmd/api/latest"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// Contexts are the contexts of the kubeconfig kcurl would read, as kubectl
// config get-contexts and current-context read them: --kubeconfig, else
// every file of $KUBECONFIG merged, else ~/.kube/config. --context does not
// change which one is current here, as it does not for kubectl.
type Contexts struct {
	Current string                           // current-context; "" when the kubeconfig sets none
	ByName  map[string]*clientcmdapi.Context // cluster, user and namespace of each
	// The names of its clusters and users, sorted, as kubectl config
	// get-clusters and get-users list them (kubectl's get-clusters in its
	// map's order, which changes from run to run).
	Clusters, Users []string
}

// ReadContexts reads them; no kubeconfig file at all is no contexts, as
// for kubectl (in a Pod, say).
func ReadContexts(opts Options, env Env) (*Contexts, error) {
	_, raw, _, err := loadKubeconfig(opts, env)
	if err != nil {
		return nil, err
	}
	return &Contexts{
		Current: raw.CurrentContext, ByName: raw.Contexts,
		Clusters: slices.Sorted(maps.Keys(raw.Clusters)), Users: slices.Sorted(maps.Keys(raw.AuthInfos)),
	}, nil
}

// Select is the contexts named (every one when none is), sorted as
// kubectl lists them, and the names that are not there.
func (c *Contexts) Select(names []string) (found, missing []string) {
	if len(names) == 0 {
		for name := range c.ByName {
			found = append(found, name)
		}
	}
	for _, name := range names {
		if c.ByName[name] == nil {
			missing = append(missing, name)
		} else {
			found = append(found, name)
		}
	}
	slices.Sort(found)
	return found, missing
}

// KubeconfigView is the kubeconfig as kubectl config view shows it
// (k8s.io/kubectl/pkg/cmd/config/view.go), as JSON: --kubeconfig's file
// alone, else $KUBECONFIG's merged, else ~/.kube/config; with minify, only
// what the current context (opts.Context, when given, made current) uses;
// every secret REDACTED and certificate data DATA+OMITTED, in kubeconfig's
// v1 form. kubectl's --raw and --flatten, which show the secrets, are not
// kcurl's: it never prints a credential.
func KubeconfigView(opts Options, env Env, minify bool) ([]byte, error) {
	var raw *clientcmdapi.Config
	var err error
	if opts.Kubeconfig != "" {
		// As kubectl: the file as it is, its relative paths not resolved.
		if raw, err = clientcmd.LoadFromFile(opts.Kubeconfig); err != nil {
			return nil, &CredentialsError{What: "kubeconfig", Path: "--kubeconfig " + opts.Kubeconfig, Err: configError(err)}
		}
	} else if _, raw, _, err = loadKubeconfig(opts, env); err != nil {
		return nil, err
	}
	if minify {
		if opts.Context != "" {
			raw.CurrentContext = opts.Context
		}
		if err := clientcmdapi.MinifyConfig(raw); err != nil {
			return nil, exitcode.With(exitcode.Credentials, err)
		}
	}
	if err := clientcmdapi.RedactSecrets(raw); err != nil {
		return nil, err
	}
	clientcmdapi.ShortenConfig(raw)
	v1, err := clientcmdlatest.Scheme.ConvertToVersion(raw, clientcmdlatest.ExternalVersion)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v1)
}
