package request

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/kcurl/kcurl/pkg/redact"
)

// CurlAuth is what --curl needs to know about the credentials, never the
// token itself.
type CurlAuth struct {
	TokenFile string // "" when the token was given literally
	CAFile    string // "" with Insecure
	Insecure  bool
	// NoToken: the target sends none (a client certificate, a proxy).
	NoToken bool
	// CertFile and KeyFile are a kubeconfig user's client certificate.
	CertFile, KeyFile string
	// Notes are shell comments printed first: what --curl cannot say
	// (an inline CA, a token only an exec plugin knows).
	Notes []string
}

// Curl renders req as the curl command that sends the same request, the
// token as $TOKEN (set from its file on the line before, when it has one).
func Curl(req *http.Request, body []byte, auth CurlAuth) string {
	var b strings.Builder
	// A typed Authorization header (even an empty one, which sends the
	// request anonymously) replaces the token.
	_, typedAuth := req.Header["Authorization"]
	for _, note := range auth.Notes {
		b.WriteString("# " + note + "\n")
	}
	switch {
	case typedAuth || auth.NoToken:
	case auth.TokenFile != "":
		b.WriteString("TOKEN=$(cat " + shellQuote(auth.TokenFile) + ")\n")
	default:
		b.WriteString("# TOKEN: set it to the bearer token first (kcurl never prints it)\n")
	}
	b.WriteString("curl")
	if auth.Insecure {
		b.WriteString(" -k")
	} else if auth.CAFile != "" {
		b.WriteString(" --cacert " + shellQuote(auth.CAFile))
	}
	if auth.CertFile != "" {
		b.WriteString(" --cert " + shellQuote(auth.CertFile) + " --key " + shellQuote(auth.KeyFile))
	}
	if !typedAuth && !auth.NoToken {
		b.WriteString(` -H "Authorization: Bearer $TOKEN"`)
	}
	switch {
	case req.Method == http.MethodHead:
		b.WriteString(" --head")
	case req.Method == http.MethodGet && body == nil, req.Method == http.MethodPost && body != nil:
		// curl's own default for the request
	default:
		b.WriteString(" -X " + req.Method)
	}
	header := req.Header
	if req.Host != "" && req.Host != req.URL.Host { // -H 'Host: …'
		header = header.Clone()
		header["Host"] = []string{req.Host}
	}
	for _, name := range slices.Sorted(maps.Keys(header)) {
		if len(header[name]) == 0 { // removed with -H 'Name:'; curl's own default too
			b.WriteString(" \\\n  -H " + shellQuote(name+":"))
		}
		for _, v := range header[name] {
			v = redact.Header(name, v) // a credential typed with -H is never printed

			b.WriteString(" \\\n  -H " + shellQuote(name+": "+v))
		}
	}
	if body != nil {
		b.WriteString(" \\\n  --data-binary " + shellQuote(string(body)))
	}
	b.WriteString(" \\\n  " + shellQuote(req.URL.String()) + "\n")
	return b.String()
}

// shellQuote quotes s for a POSIX shell, leaving plain words bare.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
