package cmd

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/identity"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/target"
)

func configCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:        "config",
		Usage:       "show the resolved target: server, namespace, CA, token, and where each came from (sends nothing)",
		UsageText:   "kcurl config [-o json|yaml]\n  kcurl config get-contexts [NAME...] [-o name] [--no-headers]\n  kcurl config current-context\n  kcurl config view [--minify] [-o yaml|json|jsonpath=…]\n  kcurl config get-clusters\n  kcurl config get-users",
		Flags:       append([]cli.Flag{identityOutputFlag(), colorFlag()}, connectionFlags()...),
		Action:      func(c *cli.Context) error { return runCommand(c, &configOptions{streams: s}) },
		Subcommands: configSubcommands(s),
		// A mistyped flag is a usage error (exit 2), as before the command.
	}
}

// kubectlConfigWrites are kubectl config's commands that write the
// kubeconfig; kcurl has its reading ones (get-contexts, current-context,
// view, get-clusters, get-users).
var kubectlConfigWrites = map[string]bool{
	"use-context": true, "use": true, "set-context": true, "set-cluster": true, "set-credentials": true,
	"delete-context": true, "delete-cluster": true, "delete-user": true, "rename-context": true, "set": true, "unset": true,
}

// resolvedConfig is what `kcurl config` reports.
type resolvedConfig struct {
	Server    field  `json:"server"`
	Namespace field  `json:"namespace"`
	CA        *field `json:"ca,omitempty"`
	Token     *field `json:"token,omitempty"`
	Process   string `json:"process,omitempty"`
	// ActingAs is the impersonated user (--as, or the kubeconfig's as).
	ActingAs *field `json:"actingAs,omitempty"`
}

type field struct {
	Value  string `json:"value"`
	Detail string `json:"detail,omitempty"`
	// Expires is RFC 3339, for scripts; the text adds the time left.
	Expires string `json:"expires,omitempty"`
	Source  string `json:"source"`
}

// configOptions is `kcurl config`: the resolved target, and where each of
// its parts came from; it sends nothing.
type configOptions struct {
	streams  Streams
	format   string // text, json or yaml
	color    string // --color, decided only for -o json|yaml
	insecure bool   // -k given
	asGiven  bool   // --as, --as-group or --as-uid given
}

func (o *configOptions) complete(c *cli.Context) error {
	if args := c.Args().Slice(); len(args) > 0 && kubectlConfigWrites[args[0]] {
		return usagef("config %s changes the kubeconfig, which kcurl never writes: kubectl config %s does; kcurl reads another context with --context NAME", args[0], args[0])
	}
	if args := c.Args().Slice(); len(args) > 0 {
		return usagef("config takes no arguments, got %s; its commands are get-contexts, current-context, view, get-clusters and get-users", strings.Join(args, " "))
	}
	var err error
	if o.format, err = identityFormat(c); err != nil {
		return err
	}
	o.color, o.insecure = c.String("color"), c.Bool("insecure")
	o.asGiven = c.IsSet("as") || c.IsSet("as-group") || c.IsSet("as-uid")
	return nil
}

func (o *configOptions) validate() error { return nil } // no flags that go together

func (o *configOptions) run(c *cli.Context) error {
	s := o.streams
	t, err := resolveTarget(c, s)
	if err != nil {
		return err
	}
	cfg := o.describe(t)
	if o.format != "text" {
		color, err := useColor(o.color, s)
		if err != nil {
			return err
		}
		return printDocument(c.Context, s, o.format, color, cfg)
	}
	return output.WriteTrimmedColumns(s.Out, cfg.rows(t, s.now()))
}

// describe is what config reports of t.
func (o *configOptions) describe(t *target.Target) resolvedConfig {
	cfg := resolvedConfig{
		Server:    field{Value: t.Server.String(), Source: t.Sources["server"]},
		Namespace: field{Value: t.Namespace, Source: t.Sources["namespace"]},
		CA:        o.describeCA(t),
	}
	if t.Process != nil {
		cfg.Process = t.Process.String()
	}
	if t.Token != nil {
		cfg.Token = &field{Source: t.Sources["token"]}
		if claims, _, err := tokenClaims(t); err != nil {
			cfg.Token.Value = err.Error()
		} else {
			cfg.Token.Value = claims.Subject
			if claims.Expiry != nil {
				cfg.Token.Expires = claims.Expiry.Format(time.RFC3339)
			}
		}
	}
	if imp := t.Impersonate; imp.IsSet() {
		cfg.ActingAs = &field{Value: impersonationText(imp), Source: "the kubeconfig user's as"}
		if o.asGiven {
			cfg.ActingAs.Source = "--as"
		}
	}
	return cfg
}

// describeCA says what the server is verified against.
func (o *configOptions) describeCA(t *target.Target) *field {
	switch {
	case t.CA != nil:
		pemBytes, err := t.CA.PEM()
		return caField(pemBytes, err, t.Sources["ca"])
	case t.REST != nil && len(t.REST.CAData) > 0:
		return caField(t.REST.CAData, nil, t.Sources["ca"]+" (inline certificate-authority-data)")
	case t.REST != nil && !t.Insecure:
		return &field{Value: "the system's roots", Source: t.Sources["ca"]}
	case t.Insecure:
		// Sources["ca"] of -k reads "none: -k, TLS not verified", which
		// says it twice after "from".
		source := t.Sources["ca"]
		if o.insecure {
			source = "-k"
		}
		return &field{Value: "not verified", Source: source}
	}
	return nil
}

// rows are config's text: each value and where it came from.
func (cfg resolvedConfig) rows(t *target.Target, now time.Time) [][]string {
	rows := [][]string{
		{"Server:", cfg.Server.Value, "from " + cfg.Server.Source},
		{"Namespace:", cfg.Namespace.Value, "from " + cfg.Namespace.Source},
	}
	if cfg.Process != "" {
		rows = append(rows, []string{"Credentials:", "another container's", "from " + cfg.Process})
	}
	if cfg.CA != nil {
		rows = append(rows, []string{"CA:", cfg.CA.Value, "from " + cfg.CA.Source})
		if cfg.CA.Expires != "" {
			rows = append(rows, []string{"", expiresText(cfg.CA.Expires, now), ""})
		}
	}
	if cfg.Token == nil && t.Sources["token"] != "" {
		rows = append(rows, []string{"Credentials:", "no token", "from " + t.Sources["token"]})
	}
	if cfg.Token != nil {
		rows = append(rows, []string{"Token:", cfg.Token.Value, "from " + cfg.Token.Source})
		if cfg.Token.Expires != "" {
			rows = append(rows, []string{"", expiresText(cfg.Token.Expires, now), ""})
		}
	}
	if cfg.ActingAs != nil {
		rows = append(rows, []string{"Acting as:", cfg.ActingAs.Value, "from " + cfg.ActingAs.Source})
	}
	return rows
}

// impersonationText is "jane (groups dev, ops; uid 42)".
func impersonationText(i target.Impersonation) string {
	var more []string
	if len(i.Groups) > 0 {
		more = append(more, "groups "+strings.Join(i.Groups, ", "))
	}
	if i.UID != "" {
		more = append(more, "uid "+i.UID)
	}
	if len(i.Extra) > 0 {
		more = append(more, fmt.Sprintf("%d extra", len(i.Extra)))
	}
	if len(more) == 0 {
		return i.User
	}
	return i.User + " (" + strings.Join(more, "; ") + ")"
}

// expiresText is "expires 2026-11-27T09:01:44Z (1h0m0s left)".
func expiresText(rfc3339 string, now time.Time) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return "expires " + rfc3339
	}
	return "expires " + rfc3339 + " (" + identity.TimeLeft(t, now) + ")"
}

// caField describes the CA bundle by its first certificate's subject.
func caField(pemBytes []byte, err error, source string) *field {
	f := &field{Source: source}
	if err != nil {
		f.Value = err.Error()
		return f
	}
	var subjects []string
	var firstExpiry time.Time
	for rest := pemBytes; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			continue
		}
		subjects = append(subjects, cert.Subject.String())
		if firstExpiry.IsZero() || cert.NotAfter.Before(firstExpiry) {
			firstExpiry = cert.NotAfter
		}
	}
	f.Value = strings.Join(subjects, "; ")
	if !firstExpiry.IsZero() {
		f.Expires = firstExpiry.UTC().Format(time.RFC3339)
	}
	if len(subjects) > 1 {
		f.Detail = fmt.Sprintf("%d certificates", len(subjects))
	}
	return f
}
