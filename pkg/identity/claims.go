// Package identity is who kcurl is and what it may do, as the server sees
// it and as its token claims: the reviews (SelfSubjectReview for whoami,
// SelfSubjectAccessReview and SelfSubjectRulesReview for can-i), asked
// through apiclient, and the claims of a service-account token, decoded
// but not verified; the rows whoami and can-i --list print of them.
package identity

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Claims is what a service-account token says about itself. It is decoded
// here without verifying the signature: only the API server can tell
// whether it is true; this says what the token claims.
type Claims struct {
	Issuer    string   `json:"iss,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Audiences Audience `json:"aud,omitempty"`
	IssuedAt  *Time    `json:"iat,omitempty"`
	NotBefore *Time    `json:"nbf,omitempty"`
	Expiry    *Time    `json:"exp,omitempty"`
	ID        string   `json:"jti,omitempty"`
	// Kubernetes is the bound-token part (TokenRequest, projected volumes).
	Kubernetes *struct {
		Namespace      string `json:"namespace,omitempty"`
		ServiceAccount *Ref   `json:"serviceaccount,omitempty"`
		Pod            *Ref   `json:"pod,omitempty"`
		Secret         *Ref   `json:"secret,omitempty"`
		Node           *Ref   `json:"node,omitempty"`
		WarnAfter      *Time  `json:"warnafter,omitempty"`
	} `json:"kubernetes.io,omitempty"`
	// Legacy Secret-based tokens spell it out in flat claims.
	LegacyNamespace      string `json:"kubernetes.io/serviceaccount/namespace,omitempty"`
	LegacyServiceAccount string `json:"kubernetes.io/serviceaccount/service-account.name,omitempty"`
	LegacySecret         string `json:"kubernetes.io/serviceaccount/secret.name,omitempty"`
}

// Ref names a bound object.
type Ref struct {
	Name string `json:"name"`
	UID  string `json:"uid,omitempty"`
}

// Audience is a JWT "aud": one string or a list.
type Audience []string

func (a *Audience) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*a = nil
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	err := json.Unmarshal(b, &many)
	*a = many
	return err
}

// Time is a JWT NumericDate.
type Time struct{ time.Time }

func (t *Time) UnmarshalJSON(b []byte) error {
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return err
	}
	t.Time = time.Unix(int64(secs), 0).UTC()
	return nil
}

func (t Time) MarshalJSON() ([]byte, error) { return json.Marshal(t.Format(time.RFC3339)) }

// ErrNotJWT is a token that is not a JSON Web Token (a static token, or
// one of another authenticator): it says nothing about itself.
var ErrNotJWT = errors.New("the token is not a JWT, so it says nothing about itself")

// ParseClaims decodes a JWT's payload. The token itself is never kept.
func ParseClaims(token string) (*Claims, json.RawMessage, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, ErrNotJWT
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, nil, ErrNotJWT
	}
	// Only an object is a set of claims: "null" would decode into none.
	var c Claims
	if !bytes.HasPrefix(bytes.TrimSpace(payload), []byte("{")) || json.Unmarshal(payload, &c) != nil {
		return nil, nil, ErrNotJWT
	}
	return &c, payload, nil
}

// ServiceAccount is "namespace/name", from bound or legacy claims.
func (c *Claims) ServiceAccount() string {
	switch {
	case c.Kubernetes != nil && c.Kubernetes.ServiceAccount != nil:
		return c.Kubernetes.Namespace + "/" + c.Kubernetes.ServiceAccount.Name
	case c.LegacyServiceAccount != "":
		return c.LegacyNamespace + "/" + c.LegacyServiceAccount
	}
	return ""
}
