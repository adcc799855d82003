package request

import (
	"context"
	"strings"
	"testing"
)

func TestCurl(t *testing.T) {
	const (
		sa     = "/var/run/secrets/kubernetes.io/serviceaccount"
		server = "https://10.96.0.1:443"
	)
	podAuth := CurlAuth{TokenFile: sa + "/token", CAFile: sa + "/ca.crt"}
	tests := []struct {
		name string
		spec Spec
		auth CurlAuth
		want string
	}{
		{
			name: "GET in a Pod", auth: podAuth,
			spec: Spec{Path: "/api/v1/namespaces/{namespace}/pods", Namespace: "team-a", Limit: 5},
			want: `TOKEN=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
curl --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt -H "Authorization: Bearer $TOKEN" \
  -H 'Accept: application/json, */*' \
  'https://10.96.0.1:443/api/v1/namespaces/team-a/pods?limit=5'
`,
		},
		{
			name: "plain URL left bare", auth: podAuth,
			spec: Spec{Path: "/version"},
			want: `TOKEN=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
curl --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt -H "Authorization: Bearer $TOKEN" \
  -H 'Accept: application/json, */*' \
  https://10.96.0.1:443/version
`,
		},
		{
			name: "POST needs no -X; single quotes in the body", auth: podAuth,
			spec: Spec{Path: "/api/v1/namespaces/default/configmaps", Body: []byte(`{"data":{"msg":"it's"}}`)},
			want: `TOKEN=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
curl --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt -H "Authorization: Bearer $TOKEN" \
  -H 'Accept: application/json, */*' \
  -H 'Content-Type: application/json' \
  --data-binary '{"data":{"msg":"it'\''s"}}' \
  https://10.96.0.1:443/api/v1/namespaces/default/configmaps
`,
		},
		{
			name: "-X POST without a body", auth: podAuth,
			spec: Spec{Method: "POST", Path: "/x"},
			want: `TOKEN=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
curl --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt -H "Authorization: Bearer $TOKEN" -X POST \
  -H 'Accept: application/json, */*' \
  https://10.96.0.1:443/x
`,
		},
		{
			name: "server-side apply", auth: podAuth,
			spec: Spec{Path: "/apis/apps/v1/namespaces/default/deployments/web", Body: []byte(`{"spec":{"replicas":2}}`), PatchType: "apply", ForceConflicts: true},
			want: `TOKEN=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token)
curl --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt -H "Authorization: Bearer $TOKEN" -X PATCH \
  -H 'Accept: application/json, */*' \
  -H 'Content-Type: application/apply-patch+yaml' \
  --data-binary '{"spec":{"replicas":2}}' \
  'https://10.96.0.1:443/apis/apps/v1/namespaces/default/deployments/web?fieldManager=kcurl&force=true'
`,
		},
		{
			name: "DELETE with -k and a literal token", auth: CurlAuth{Insecure: true, CAFile: sa + "/ca.crt"},
			spec: Spec{Method: "DELETE", Path: "/api/v1/namespaces/default/pods/web"},
			want: `# TOKEN: set it to the bearer token first (kcurl never prints it)
curl -k -H "Authorization: Bearer $TOKEN" -X DELETE \
  -H 'Accept: application/json, */*' \
  https://10.96.0.1:443/api/v1/namespaces/default/pods/web
`,
		},
		{
			name: "DELETE with a body", auth: CurlAuth{Insecure: true},
			spec: Spec{Method: "DELETE", Path: "/x", Body: []byte(`{"propagationPolicy":"Foreground"}`)},
			want: `# TOKEN: set it to the bearer token first (kcurl never prints it)
curl -k -H "Authorization: Bearer $TOKEN" -X DELETE \
  -H 'Accept: application/json, */*' \
  -H 'Content-Type: application/json' \
  --data-binary '{"propagationPolicy":"Foreground"}' \
  https://10.96.0.1:443/x
`,
		},
		{
			name: "no token at all (a client certificate)", auth: CurlAuth{CAFile: "/ca.crt", NoToken: true, CertFile: "/u.crt", KeyFile: "/u.key"},
			spec: Spec{Path: "/api"},
			want: `curl --cacert /ca.crt --cert /u.crt --key /u.key \
  -H 'Accept: application/json, */*' \
  https://10.96.0.1:443/api
`,
		},
		{
			name: "HEAD", auth: CurlAuth{Insecure: true},
			spec: Spec{Method: "HEAD", Path: "/readyz"},
			want: `# TOKEN: set it to the bearer token first (kcurl never prints it)
curl -k -H "Authorization: Bearer $TOKEN" --head \
  -H 'Accept: application/json, */*' \
  https://10.96.0.1:443/readyz
`,
		},
		{
			name: "paths that need quoting", auth: CurlAuth{TokenFile: "/tmp/my token", CAFile: "/tmp/it's ca.crt"},
			spec: Spec{Path: "/api"},
			want: `TOKEN=$(cat '/tmp/my token')
curl --cacert '/tmp/it'\''s ca.crt' -H "Authorization: Bearer $TOKEN" \
  -H 'Accept: application/json, */*' \
  https://10.96.0.1:443/api
`,
		},
		{
			name: "typed Authorization: never printed, no $TOKEN", auth: podAuth,
			spec: Spec{Path: "/api", Headers: []string{"Authorization: Bearer eyJhbGciOi.secret"}},
			want: `curl --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt \
  -H 'Accept: application/json, */*' \
  -H 'Authorization: Bearer <redacted>' \
  https://10.96.0.1:443/api
`,
		},
		{
			name: "typed Authorization without a scheme", auth: podAuth,
			spec: Spec{Path: "/api", Headers: []string{"Authorization: eyJhbGciOi.secret"}},
			want: `curl --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt \
  -H 'Accept: application/json, */*' \
  -H 'Authorization: <redacted>' \
  https://10.96.0.1:443/api
`,
		},
		{
			name: "removed headers, Host and extra headers", auth: CurlAuth{Insecure: true},
			spec: Spec{Path: "/api", Headers: []string{"Accept:", "Host: api.internal", "X-B: 2", "X-A: 1", "X-A: 1b"}},
			want: `# TOKEN: set it to the bearer token first (kcurl never prints it)
curl -k -H "Authorization: Bearer $TOKEN" \
  -H Accept: \
  -H 'Host: api.internal' \
  -H 'X-A: 1' \
  -H 'X-A: 1b' \
  -H 'X-B: 2' \
  https://10.96.0.1:443/api
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := tt.spec.Build(context.Background(), mustURL(t, server))
			if err != nil {
				t.Fatal(err)
			}
			got := Curl(req, tt.spec.Body, tt.auth)
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if strings.Contains(got, "eyJhbGciOi") {
				t.Errorf("the command shows a credential:\n%s", got)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"/a/b-c_d.e:f=g@h,i+j%k", "/a/b-c_d.e:f=g@h,i+j%k"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$TOKEN", "'$TOKEN'"},
		{"a&b", "'a&b'"},
		{"*", "'*'"},
		{"~", "'~'"},
		{"a\nb", "'a\nb'"},
		{"''", `''\'''\'''`},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
