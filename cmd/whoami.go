package cmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

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
		// A mistyped flag is a usage error (exit 2), as before the command.
	}
}

func identityOutputFlag() cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`FORMAT`: text (default), json or yaml"}
}

func colorFlag() cli.Flag {
	return &cli.StringFlag{Name: "color", Value: "auto", Usage: "`WHEN`: auto (a terminal, and no $NO_COLOR), always, never"}
}

func runWhoami(c *cli.Context, s Streams) error {
	if c.NArg() > 0 {
		return usagef("whoami takes no arguments, got %s", strings.Join(c.Args().Slice(), " "))
	}
	format, err := identityFormat(c)
	if err != nil {
		return err
	}
	api, err := connect(c, s)
	if err != nil {
		return err
	}
	defer api.cancel()
	color := api.color
	t := api.target
	client := &auth.Client{API: api.apiClient()}
	user, err := client.WhoAmI(api.ctx)
	var unauthorized error
	if err != nil {
		var status *transport.StatusError
		errors.As(err, &status)
		switch {
		case status == nil || status.Code != 401 && status.Code != 403 && status.Code != 404:
			return api.err(err)
		case status.Code == 401:
			// The server knows no one by this token: an error, but what the
			// token claims (an expiry passed, another cluster's issuer) is
			// what explains it, so it is shown first.
			unauthorized = err
		default:
			// An old server without SelfSubjectReview, or one that forbids it:
			// the token's own claims are still worth showing.
			fmt.Fprintf(s.ErrOut, "kcurl: the server did not say who this is: %v\n", err)
		}
	}
	claims, rawClaims, claimsErr := tokenClaims(t)

	if format != "text" {
		doc, _ := json.Marshal(struct {
			UserInfo *auth.UserInfo `json:"userInfo"`
			Token    any            `json:"token"`
		}{user, jsonOrNull(rawClaims)})
		if err := output.NewPrinter(s.Out, s.ErrOut, output.Options{Format: output.Format(format), Indent: 2, Color: color}).
			Print(c.Context, bytes.NewReader(doc), "application/json"); err != nil {
			return err
		}
		return unauthorized
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
	if len(rows) > 0 {
		if err := output.WriteColumns(s.Out, rows, false); err != nil {
			return err
		}
		fmt.Fprintln(s.Out)
	}
	if claimsErr != nil {
		fmt.Fprintf(s.Out, "Token: %v\n", claimsErr)
		return unauthorized
	}
	fmt.Fprintln(s.Out, "Token (decoded here, not verified; the token itself is never shown):")
	if err := output.WriteColumns(s.Out, claims.Rows(tokenSource(t), s.now()), false); err != nil {
		return err
	}
	return unauthorized
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
		// A kubeconfig user with a client certificate, an exec plugin or
		// basic auth: say which, from where.
		return nil, nil, errors.New("none; credentials from " + t.Sources["token"])
	}
	token, err := t.Token.Token()
	if err != nil {
		return nil, nil, err
	}
	return auth.ParseClaims(token)
}

// tokenSource is where the token was read from, "" when it was given.
func tokenSource(t *target.Target) string {
	if t.Token.File() == "" {
		return ""
	}
	return t.Sources["token"]
}

func jsonOrNull(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	return raw
}
