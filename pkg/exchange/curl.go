package exchange

import (
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// CurlAuth is what --curl says about a target's credentials: the files
// curl should read, and notes for what it cannot say.
func CurlAuth(t *target.Target) request.CurlAuth {
	auth := request.CurlAuth{Insecure: t.Insecure && t.Server.Scheme == "https", NoToken: t.Token == nil,
		Impersonation: transport.ImpersonationHeaders(t.Impersonate)}
	if t.CA != nil {
		auth.CAFile = t.CA.Path()
	}
	if t.Token != nil {
		auth.TokenFile = t.Token.File()
	}
	if r := t.REST; r != nil {
		auth.CertFile, auth.KeyFile = r.CertFile, r.KeyFile
		if len(r.CAData) > 0 && t.CA == nil && !t.Insecure {
			auth.CAFile = "ca.crt"
			auth.Notes = append(auth.Notes, "ca.crt: the kubeconfig's certificate-authority-data, saved as a file")
		}
		if len(r.CertData) > 0 {
			auth.Notes = append(auth.Notes, "the kubeconfig's client certificate is inline data: save it and its key, and add --cert and --key")
		}
		if r.ExecProvider != nil && t.Token == nil {
			auth.NoToken = false
			auth.Notes = append(auth.Notes, "TOKEN: what the kubeconfig's exec plugin ("+r.ExecProvider.Command+") prints as status.token")
		}
	}
	return auth
}
