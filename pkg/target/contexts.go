package target

import (
	"slices"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Contexts are the contexts of the kubeconfig kcurl would read, as kubectl
// config get-contexts and current-context read them: --kubeconfig, else
// every file of $KUBECONFIG merged, else ~/.kube/config. --context does not
// change which one is current here, as it does not for kubectl.
type Contexts struct {
	Current string                           // current-context; "" when the kubeconfig sets none
	ByName  map[string]*clientcmdapi.Context // cluster, user and namespace of each
}

// ReadContexts reads them; no kubeconfig file at all is no contexts, as
// for kubectl (in a Pod, say).
func ReadContexts(opts Options, env Env) (*Contexts, error) {
	_, raw, _, err := loadKubeconfig(opts, env)
	if err != nil {
		return nil, err
	}
	return &Contexts{Current: raw.CurrentContext, ByName: raw.Contexts}, nil
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
