package identity

import (
	"fmt"
	"strings"
	"time"
)

// Rows lay the claims out for whoami, with where the token was read from
// (none: "") and how long it has left at now.
func (c *Claims) Rows(readFrom string, now time.Time) [][]string {
	var rows [][]string
	add := func(key, value string) {
		if value != "" {
			rows = append(rows, []string{key, value})
		}
	}
	add("Service account:", c.ServiceAccount())
	if k := c.Kubernetes; k != nil {
		for _, bound := range []struct {
			kind string
			ref  *Ref
		}{{"Pod", k.Pod}, {"Secret", k.Secret}} {
			if bound.ref != nil {
				add("Bound to:", bound.kind+" "+refText(bound.ref))
			}
		}
		if k.Node != nil {
			add("Node:", k.Node.Name)
		}
	}
	if c.LegacySecret != "" { // valid as long as that Secret exists
		add("Bound to:", "Secret "+c.LegacySecret)
	}
	add("Subject:", c.Subject)
	add("Issuer:", c.Issuer)
	add("Audiences:", strings.Join(c.Audiences, ", "))
	if c.IssuedAt != nil {
		add("Issued:", c.IssuedAt.Format(time.RFC3339))
	}
	if c.Expiry != nil {
		add("Expires:", c.Expiry.Format(time.RFC3339)+" ("+TimeLeft(c.Expiry.Time, now)+")")
	} else {
		add("Expires:", "never (a legacy Secret-based token)")
	}
	if c.Kubernetes != nil && c.Kubernetes.WarnAfter != nil {
		add("Warn after:", c.Kubernetes.WarnAfter.Format(time.RFC3339))
	}
	add("Read from:", readFrom)
	return rows
}

func refText(r *Ref) string {
	if r.UID == "" {
		return r.Name
	}
	return r.Name + " (uid " + r.UID + ")"
}

// TimeLeft says how long until t, or how long ago it passed, as a person
// would: "59m12s left", "3649 days left", "expired 2h5m ago".
func TimeLeft(t, now time.Time) string {
	d := t.Sub(now)
	if d < 0 {
		return "expired " + humanDuration(-d) + " ago"
	}
	return humanDuration(d) + " left"
}

func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	default:
		return d.Round(time.Second).String()
	}
}
