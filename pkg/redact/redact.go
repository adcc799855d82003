// Package redact is the one rule for what kcurl never prints of a header:
// -v, -i and --curl all go through it, so a credential hidden in one is
// hidden in every one.
package redact

import (
	"net/http"
	"strings"
)

// withScheme are credentials whose first word is a scheme worth showing
// ("Bearer <redacted>"); the rest are secret whole.
var withScheme = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
}

var whole = map[string]bool{
	"Cookie":       true,
	"Set-Cookie":   true,
	"X-Auth-Token": true,
	"X-Api-Key":    true,
}

// Secret reports whether a header of this name carries a credential.
func Secret(name string) bool {
	name = http.CanonicalHeaderKey(name)
	return withScheme[name] || whole[name]
}

// Header returns the value of header name as kcurl prints it: a
// credential's secret part replaced by <redacted>, anything else as it is.
func Header(name, value string) string {
	name = http.CanonicalHeaderKey(name)
	switch {
	case withScheme[name]:
		if scheme, _, ok := strings.Cut(value, " "); ok {
			return scheme + " <redacted>"
		}
		return "<redacted>"
	case whole[name]:
		return "<redacted>"
	}
	return value
}
