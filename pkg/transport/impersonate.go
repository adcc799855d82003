package transport

import (
	"net/http"

	clienttransport "k8s.io/client-go/transport"

	"github.com/kcurl/kcurl/pkg/target"
)

// impersonating adds t's Impersonate-* headers to every request, with
// client-go's own round-tripper (so the headers, and the escaping of
// Impersonate-Extra- keys, are kubectl's); a request that already names a
// user (-H 'Impersonate-User: …') is left as it is, as client-go does.
func impersonating(t *target.Target, next http.RoundTripper) http.RoundTripper {
	if !t.Impersonate.IsSet() {
		return next
	}
	return clienttransport.NewImpersonatingRoundTripper(impersonationConfig(t.Impersonate), next)
}

func impersonationConfig(i target.Impersonation) clienttransport.ImpersonationConfig {
	return clienttransport.ImpersonationConfig{UserName: i.User, UID: i.UID, Groups: i.Groups, Extra: i.Extra}
}

// ImpersonationHeaders are the headers the client adds for i, for --curl.
func ImpersonationHeaders(i target.Impersonation) http.Header {
	if !i.IsSet() {
		return nil
	}
	var seen http.Header
	capture := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		seen = req.Header
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
	})
	req, _ := http.NewRequest(http.MethodGet, "http://impersonation.invalid/", nil)
	_, _ = clienttransport.NewImpersonatingRoundTripper(impersonationConfig(i), capture).RoundTrip(req)
	return seen
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
