package cmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/auth"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

func whoamiCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "whoami",
		Usage:     "who the server says kcurl is, and what the token itself claims (never the token)",
		UsageText: "kcurl whoami [-o json|yaml]",
		Flags:     append([]cli.Flag{identityOutputFlag(), colorFlag()}, connectionFlags()...),
		Action:    func(c *cli.Context) error { return runWhoami(c, s) },
	}
}

func identityOutputFlag() cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`FORMAT`: text (default), json or yaml"}
}

func colorFlag() cli.Flag {
	return &cli.StringFlag{Name: "color", Value: "auto", Usage: "`WHEN`: auto (a terminal, and no $NO_COLOR), always, never"}
}

// now is the clock for "time left"; tests set it.
var now = time.Now

func runWhoami(c *cli.Context, s Streams) error {
	if c.NArg() > 0 {
		return usagef("whoami takes no arguments, got %s", strings.Join(c.Args().Slice(), " "))
	}
	format, err := identityFormat(c)
	if err != nil {
		return err
	}
	t, err := resolveTarget(c, s)
	if err != nil {
		return err
	}
	opts, err := clientOptions(c, s)
	if err != nil {
		return err
	}
	client := &auth.Client{HTTP: transport.New(t, opts), Server: t.Server}
	user, err := client.WhoAmI(c.Context)
	if err != nil {
		var status *transport.StatusError
		if !errors.As(err, &status) || status.Code >= 500 {
			return err
		}
		// An old server without SelfSubjectReview, or one that forbids it:
		// the token's own claims are still worth showing.
		fmt.Fprintf(s.ErrOut, "kcurl: the server did not say who this is: %v\n", err)
	}
	claims, rawClaims, claimsErr := tokenClaims(t)

	if format != "text" {
		doc, _ := json.Marshal(struct {
			UserInfo *auth.UserInfo `json:"userInfo"`
			Token    any            `json:"token"`
		}{user, jsonOrNull(rawClaims)})
		color, err := useColor(c.String("color"), s)
		if err != nil {
			return err
		}
		return output.NewPrinter(s.Out, s.ErrOut, output.Options{Format: output.Format(format), Indent: 2, Color: color}).
			Print(c.Context, bytes.NewReader(doc), "application/json")
	}

	var rows [][]string
	add := func(key string, values ...string) {
		for i, v := range values {
			if i > 0 {
				key = ""
			}
			rows = append(rows, []string{key, v})
		}
	}
	if user != nil {
		add("Username:", user.Username)
		if user.UID != "" {
			add("UID:", user.UID)
		}
		add("Groups:", user.Groups...)
		var extra []string
		for _, k := range slices.Sorted(maps.Keys(user.Extra)) {
			extra = append(extra, k+"="+strings.Join(user.Extra[k], ","))
		}
		add("Extra:", extra...)
	}
	if err := output.WriteColumns(s.Out, rows, false); err != nil {
		return err
	}
	fmt.Fprintln(s.Out)
	if claimsErr != nil {
		fmt.Fprintf(s.Out, "Token: %v\n", claimsErr)
		return nil
	}
	fmt.Fprintln(s.Out, "Token (decoded here, not verified; the token itself is never shown):")
	return output.WriteColumns(s.Out, claimRows(claims, t), false)
}

func identityFormat(c *cli.Context) (string, error) {
	switch f := c.String("output"); f {
	case "", "text":
		return "text", nil
	case "json", "yaml":
		return f, nil
	default:
		return "", usagef("unknown output format %q: use text, json or yaml", f)
	}
}

// tokenClaims reads the current token and decodes what it claims.
func tokenClaims(t *target.Target) (*auth.Claims, json.RawMessage, error) {
	if t.Token == nil {
		return nil, nil, errors.New("none")
	}
	token, err := t.Token.Token()
	if err != nil {
		return nil, nil, err
	}
	return auth.ParseClaims(token)
}

func claimRows(c *auth.Claims, t *target.Target) [][]string {
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
			ref  *auth.Ref
		}{{"Pod", k.Pod}, {"Secret", k.Secret}} {
			if bound.ref != nil {
				add("Bound to:", fmt.Sprintf("%s %s (uid %s)", bound.kind, bound.ref.Name, bound.ref.UID))
			}
		}
		if k.Node != nil {
			add("Node:", k.Node.Name)
		}
	}
	add("Subject:", c.Subject)
	add("Issuer:", c.Issuer)
	add("Audiences:", strings.Join(c.Audiences, ", "))
	if c.IssuedAt != nil {
		add("Issued:", c.IssuedAt.Format(time.RFC3339))
	}
	if c.Expiry != nil {
		add("Expires:", c.Expiry.Format(time.RFC3339)+" ("+timeLeft(c.Expiry.Time)+")")
	} else {
		add("Expires:", "never (a legacy Secret-based token)")
	}
	if c.Kubernetes != nil && c.Kubernetes.WarnAfter != nil {
		add("Warn after:", c.Kubernetes.WarnAfter.Format(time.RFC3339))
	}
	if f := t.Token.File(); f != "" {
		add("Read from:", t.Sources["token"])
	}
	return rows
}

// timeLeft says how long until t, or how long ago it passed, as a person
// would: "59m12s left", "3649 days left", "expired 2h5m ago".
func timeLeft(t time.Time) string {
	d := t.Sub(now())
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

func jsonOrNull(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	return raw
}
