package transport

import (
	"net/http"

	"k8s.io/client-go/rest"

	"github.com/kcurl/kcurl/pkg/target"
)

// RESTConfig is t as client-go's streaming protocols need it (exec, attach
// and port-forward upgrade a connection of their own, over WebSocket or
// SPDY): the same server, CA, credentials and impersonation as New's client.
// For a Pod's service account the token is kcurl's TokenSource, read at
// each connection (so a rotated token is used), sent only to the target's
// own scheme and host, and added above -v's tracer, so that -v shows what
// is sent (`Bearer <redacted>`). A kubeconfig target keeps client-go's
// configuration, every kind of credential included.
func RESTConfig(t *target.Target, opts Options) (*rest.Config, error) {
	var cfg *rest.Config
	if t.REST != nil {
		cfg = rest.CopyConfig(t.REST)
	} else {
		cfg = &rest.Config{Host: t.Server.String()}
		cfg.Insecure = t.Insecure
		if t.CA != nil && !t.Insecure {
			pem, err := t.CA.PEM()
			if err != nil {
				return nil, err
			}
			cfg.CAData = pem
			cfg.ServerName = t.Server.Hostname()
		}
	}
	cfg.Impersonate = rest.ImpersonationConfig{}
	if i := t.Impersonate; i.IsSet() {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: i.User, UID: i.UID, Groups: i.Groups, Extra: i.Extra}
	}
	cfg.UserAgent = opts.UserAgent
	if opts.Trace != nil {
		w := opts.Trace
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &tracer{next: rt, w: w} })
	}
	if t.REST == nil && t.Token != nil {
		tokens, scheme, host := t.Token, t.Server.Scheme, t.Server.Host
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return &bearerAuth{next: rt, tokens: tokens, scheme: scheme, host: host}
		})
	}
	return cfg, nil
}
