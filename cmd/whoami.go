package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/identity"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

func whoamiCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "whoami",
		Usage:     "who the server says kcurl is, and what the token itself claims (never the token)",
		UsageText: "kcurl whoami [-o json|yaml]",
		Flags:     append([]cli.Flag{identityOutputFlag(), colorFlag()}, apiFlags()...),
		Action:    func(c *cli.Context) error { return runCommand(c, &whoamiOptions{streams: s}) },
		// A mistyped flag is a usage error (exit 2), as before the command.
	}
}

func identityOutputFlag() cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`FORMAT`: text (default), json or yaml"}
}

func colorFlag() cli.Flag {
	return &cli.StringFlag{Name: "color", Value: "auto", Usage: "`WHEN`: auto (a terminal, and no $NO_COLOR), always, never"}
}

// whoamiOptions is `kcurl whoami`: the SelfSubjectReview, and what the
// token itself claims.
type whoamiOptions struct {
	streams Streams
	format  string // text, json or yaml
}

func (o *whoamiOptions) complete(c *cli.Context) error {
	if err := noArguments("whoami", c.Args().Slice()); err != nil {
		return err
	}
	var err error
	o.format, err = identityFormat(c)
	return err
}

func (o *whoamiOptions) validate() error { return nil } // no flags that go together

func (o *whoamiOptions) run(c *cli.Context) error {
	s := o.streams
	api, err := connect(c, s)
	if err != nil {
		return err
	}
	defer api.cancel()
	t := api.target
	user, unauthorized, err := o.whoAmI(api)
	if err != nil {
		return api.err(err)
	}
	claims, rawClaims, claimsErr := tokenClaims(t)
	if o.format != "text" {
		if err := printDocument(c.Context, s, o.format, api.color, struct {
			UserInfo *identity.UserInfo `json:"userInfo"`
			Token    any                `json:"token"`
		}{user, jsonOrNull(rawClaims)}); err != nil {
			return err
		}
		return unauthorized
	}
	if err := o.printUser(user); err != nil {
		return err
	}
	if claimsErr != nil {
		fmt.Fprintf(s.Out, "Token: %v\n", claimsErr)
		return unauthorized
	}
	fmt.Fprintln(s.Out, "Token (decoded here, not verified; the token itself is never shown):")
	if err := output.WriteTrimmedColumns(s.Out, claims.Rows(tokenSource(t), s.now())); err != nil {
		return err
	}
	return unauthorized
}

// whoAmI asks the server. A 401 is the error to exit with once what the
// token claims has been shown (an expiry passed, another cluster's issuer
// explains it); a 403 or 404 (an old server without SelfSubjectReview, or
// one that forbids it) is a notice: the token's own claims are still worth
// showing.
func (o *whoamiOptions) whoAmI(api *apiSession) (user *identity.UserInfo, unauthorized, err error) {
	user, err = identity.WhoAmI(api.ctx, api.api)
	var status *transport.StatusError
	switch {
	case err == nil:
		return user, nil, nil
	case !errors.As(err, &status) || status.Code != 401 && status.Code != 403 && status.Code != 404:
		return nil, nil, err
	case status.Code == 401:
		return nil, err, nil
	}
	fmt.Fprintf(o.streams.ErrOut, "kcurl: the server did not say who this is: %v\n", err)
	return nil, nil, nil
}

// printUser prints the server's view of the caller as aligned rows.
func (o *whoamiOptions) printUser(user *identity.UserInfo) error {
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
	if len(rows) == 0 {
		return nil
	}
	if err := output.WriteTrimmedColumns(o.streams.Out, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintln(o.streams.Out)
	return err
}

// identityFormat is -o of whoami, can-i and config: text, or their
// document as JSON or YAML.
func identityFormat(c *cli.Context) (string, error) {
	return outputFormat(c.String("output"), "text", "text", "json", "yaml")
}

// tokenClaims reads the current token and decodes what it claims.
func tokenClaims(t *target.Target) (*identity.Claims, json.RawMessage, error) {
	if t.Token == nil {
		// A kubeconfig user with a client certificate, an exec plugin or
		// basic auth: say which, from where.
		return nil, nil, errors.New("none; credentials from " + t.Sources["token"])
	}
	token, err := t.Token.Token()
	if err != nil {
		return nil, nil, err
	}
	return identity.ParseClaims(token)
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
