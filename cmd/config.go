package cmd

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/auth"
	"github.com/kcurl/kcurl/pkg/output"
)

func configCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "config",
		Usage:     "show the resolved target: server, namespace, CA, token, and where each came from (sends nothing)",
		UsageText: "kcurl config [-o json|yaml]",
		Flags:     append([]cli.Flag{identityOutputFlag(), colorFlag()}, connectionFlags()...),
		Action:    func(c *cli.Context) error { return runConfig(c, s) },
		// A mistyped flag is a usage error (exit 2), as before the command.
	}
}

// resolvedConfig is what `kcurl config` reports.
type resolvedConfig struct {
	Server    field  `json:"server"`
	Namespace field  `json:"namespace"`
	CA        *field `json:"ca,omitempty"`
	Token     *field `json:"token,omitempty"`
	Process   string `json:"process,omitempty"`
}

type field struct {
	Value  string `json:"value"`
	Detail string `json:"detail,omitempty"`
	// Expires is RFC 3339, for scripts; the text adds the time left.
	Expires string `json:"expires,omitempty"`
	Source  string `json:"source"`
}

func runConfig(c *cli.Context, s Streams) error {
	if c.NArg() > 0 {
		return usagef("config takes no arguments, got %s", strings.Join(c.Args().Slice(), " "))
	}
	format, err := identityFormat(c)
	if err != nil {
		return err
	}
	t, err := resolveTarget(c, s)
	if err != nil {
		return err
	}
	cfg := resolvedConfig{
		Server:    field{Value: t.Server.String(), Source: t.Sources["server"]},
		Namespace: field{Value: t.Namespace, Source: t.Sources["namespace"]},
	}
	if t.Process != nil {
		cfg.Process = t.Process.String()
	}
	switch {
	case t.CA != nil:
		pemBytes, err := t.CA.PEM()
		cfg.CA = caField(pemBytes, err, t.Sources["ca"])
	case t.REST != nil && len(t.REST.CAData) > 0:
		cfg.CA = caField(t.REST.CAData, nil, t.Sources["ca"]+" (inline certificate-authority-data)")
	case t.REST != nil && !t.Insecure:
		cfg.CA = &field{Value: "the system's roots", Source: t.Sources["ca"]}
	case t.Insecure:
		// Sources["ca"] of -k reads "none: -k, TLS not verified", which
		// says it twice after "from".
		source := t.Sources["ca"]
		if c.Bool("insecure") {
			source = "-k"
		}
		cfg.CA = &field{Value: "not verified", Source: source}
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

	if format != "text" {
		color, err := useColor(c.String("color"), s)
		if err != nil {
			return err
		}
		doc, _ := json.Marshal(cfg)
		return output.NewPrinter(s.Out, s.ErrOut, output.Options{Format: output.Format(format), Indent: 2, Color: color}).
			Print(c.Context, bytes.NewReader(doc), "application/json")
	}
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
			rows = append(rows, []string{"", expiresText(cfg.CA.Expires, s.now()), ""})
		}
	}
	if cfg.Token == nil && t.Sources["token"] != "" {
		rows = append(rows, []string{"Credentials:", "no token", "from " + t.Sources["token"]})
	}
	if cfg.Token != nil {
		rows = append(rows, []string{"Token:", cfg.Token.Value, "from " + cfg.Token.Source})
		if cfg.Token.Expires != "" {
			rows = append(rows, []string{"", expiresText(cfg.Token.Expires, s.now()), ""})
		}
	}
	return output.WriteColumns(s.Out, rows, false)
}

// expiresText is "expires 2026-11-27T09:01:44Z (1h0m0s left)".
func expiresText(rfc3339 string, now time.Time) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return "expires " + rfc3339
	}
	return "expires " + rfc3339 + " (" + auth.TimeLeft(t, now) + ")"
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
