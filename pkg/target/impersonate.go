package target

import "errors"

// Impersonation is acting as another user (kubectl's --as, --as-group,
// --as-uid; a kubeconfig user's as, as-groups, as-uid, as-user-extra):
// the server checks that the real user may impersonate, then authorizes
// the request as the one impersonated.
type Impersonation struct {
	User   string
	Groups []string
	UID    string
	Extra  map[string][]string
}

// IsSet reports whether requests impersonate anyone.
func (i Impersonation) IsSet() bool {
	return i.User != "" || len(i.Groups) > 0 || i.UID != "" || len(i.Extra) > 0
}

// check refuses groups or a UID without a user: the server impersonates a
// user, with those groups (client-go's validation says the same).
func (i Impersonation) check() error {
	if i.User == "" && i.IsSet() {
		return errors.New("--as-group and --as-uid need --as USER: the server impersonates a user, with those groups and that UID")
	}
	return nil
}
