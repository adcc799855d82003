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

// Names are the contexts' names, sorted, as kubectl lists them.
func (c *Contexts) Names() []string {
	names := make([]string, 0, len(c.ByName))
	for name := range c.ByName {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
