package identity

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".signature"
}

func TestParseClaims(t *testing.T) {
	t.Run("a bound token", func(t *testing.T) {
		c, raw, err := ParseClaims(jwt(`{"aud":["https://audience.kcurl.test"],"exp":1795852800,"iat":1795849200,"iss":"https://issuer","jti":"j-1",` +
			`"kubernetes.io":{"namespace":"ns","node":{"name":"node-1","uid":"n-uid"},"pod":{"name":"web","uid":"p-uid"},"serviceaccount":{"name":"app","uid":"sa-uid"},"warnafter":1795851600},` +
			`"nbf":1795849200,"sub":"system:serviceaccount:ns:app"}`))
		if err != nil {
			t.Fatal(err)
		}
		if c.ServiceAccount() != "ns/app" || c.Kubernetes.Pod.Name != "web" || c.Kubernetes.Node.Name != "node-1" || c.Issuer != "https://issuer" {
			t.Errorf("%+v", c)
		}
		if want := time.Unix(1795852800, 0).UTC(); !c.Expiry.Equal(want) || c.Kubernetes.WarnAfter == nil {
			t.Errorf("expiry %v, want %v", c.Expiry, want)
		}
		if len(c.Audiences) != 1 || len(raw) == 0 {
			t.Errorf("audiences %v", c.Audiences)
		}
	})
	t.Run("one audience as a string, legacy claims", func(t *testing.T) {
		c, _, err := ParseClaims(jwt(`{"aud":"only","iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"ns","kubernetes.io/serviceaccount/service-account.name":"old","sub":"system:serviceaccount:ns:old"}`))
		if err != nil || c.ServiceAccount() != "ns/old" || len(c.Audiences) != 1 || c.Audiences[0] != "only" || c.Expiry != nil {
			t.Errorf("%+v, %v", c, err)
		}
	})
	for name, token := range map[string]string{
		"a static token":     "abcdef0123456789",
		"two parts":          "a.b",
		"a payload not JSON": jwt("not json"),
		"bad base64":         "a.%%%.c",
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := ParseClaims(token); !errors.Is(err, ErrNotJWT) {
				t.Errorf("got %v, want ErrNotJWT", err)
			}
		})
	}
}

func TestParseClaimsEdges(t *testing.T) {
	t.Run("a payload that is JSON but no object says nothing", func(t *testing.T) {
		for _, payload := range []string{"null", `"x"`, "[]", "42"} {
			if _, _, err := ParseClaims(jwt(payload)); !errors.Is(err, ErrNotJWT) {
				t.Errorf("%s: got %v, want ErrNotJWT", payload, err)
			}
		}
	})
	t.Run("a null audience is none", func(t *testing.T) {
		c, _, err := ParseClaims(jwt(`{"aud":null,"sub":"s"}`))
		if err != nil || c.Audiences != nil {
			t.Errorf("audiences %q, %v", c.Audiences, err)
		}
	})
}
