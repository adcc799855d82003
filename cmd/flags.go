package cmd

import (
	"fmt"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

const (
	catConnection = "Connection (found automatically inside a Pod)"
	catRequest    = "Request"
	catOutput     = "Output"
	catLogs       = "Logs (RESOURCE pods/NAME/log)"
)

// connectionFlags are shared by every command that talks to the API server.
// Their environment variables are read from Streams.Getenv in
// targetOptions, not by urfave/cli, so that tests control the environment.
func connectionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "server", Category: catConnection, Usage: "API server `URL` [$KCURL_SERVER] (default: https://$KUBERNETES_SERVICE_HOST, port $KUBERNETES_SERVICE_PORT_HTTPS)"},
		&cli.StringFlag{Name: "token-file", Category: catConnection, Usage: "read the bearer token from `FILE`, re-read when it changes [$KCURL_TOKEN_FILE] (default: SA-DIR/token)"},
		&cli.StringFlag{Name: "token", Category: catConnection, Usage: "bearer `TOKEN` (discouraged: visible in ps; prefer --token-file)"},
		&cli.StringFlag{Name: "cacert", Category: catConnection, Usage: "verify the server against the CA certificates in `FILE` [$KCURL_CACERT] (default: SA-DIR/ca.crt)"},
		&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Category: catConnection, Usage: "`NS` for {namespace} and RESOURCE (default: $POD_NAMESPACE, then SA-DIR/namespace, or the kubeconfig context's, then default)"},
		&cli.StringFlag{Name: "sa-dir", Category: catConnection, Usage: "service-account `DIR` with token, ca.crt, namespace [$KCURL_SA_DIR] (default: " + target.DefaultSADir + ")"},
		&cli.BoolFlag{Name: "insecure", Aliases: []string{"k"}, Category: catConnection, Usage: "do not verify the server's certificate (warns)"},
		&cli.StringFlag{Name: "kubeconfig", Category: catConnection, Usage: "use the kubeconfig `FILE` (outside a Pod; $KUBECONFIG, several files merged, and ~/.kube/config are read too)"},
		&cli.StringFlag{Name: "context", Category: catConnection, Usage: "the kubeconfig `CONTEXT` to use (default: its current-context)"},
		&cli.StringFlag{Name: "cluster", Category: catConnection, Usage: "the kubeconfig `CLUSTER` to use"},
		&cli.StringFlag{Name: "user", Category: catConnection, Usage: "the kubeconfig `USER` to use"},
		&cli.StringFlag{Name: "as", Category: catConnection, Usage: "act as `USER` (impersonation; needs the right to impersonate)"},
		&cli.StringSliceFlag{Name: "as-group", Category: catConnection, Usage: "with --as: act as a member of `GROUP` (repeatable)"},
		&cli.StringFlag{Name: "as-uid", Category: catConnection, Usage: "with --as: act as the user with this `UID`"},
		&cli.IntFlag{Name: "from-pid", Category: catConnection, Usage: "use the service account of process `PID`, through /proc/PID/root (ephemeral containers; automatic when exactly one other container has one)"},
		&cli.StringFlag{Name: "connect-timeout", Value: "10s", Category: catConnection, Usage: "limit for connecting and the TLS handshake (`DURATION`, or seconds)"},
		&cli.StringFlag{Name: "max-time", Aliases: []string{"m"}, Category: catConnection, Usage: "limit for the whole request (`DURATION`, or seconds; default: none)"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Category: catConnection, Usage: "print request and response headers on stderr (credentials redacted)"},
	}
}

// apiFlags are connectionFlags and --retry: the flags of the commands that
// send through apiclient; not the proxy's, which passes the server's answers
// (a 429 too) on to its client as they are, as kubectl proxy does.
func apiFlags() []cli.Flag {
	return append(connectionFlags(), &cli.StringFlag{Name: "max-value", Category: catOutput, Usage: "hold at most `SIZE` of one value in memory (an object, a watch event, what a jq filter of the whole answer takes), as 512Mi or 1G; larger is exit 1 [$KCURL_MAX_VALUE] (default: 256Mi, less in a container with a smaller memory limit)"}, &cli.IntFlag{Name: "retry", Category: catConnection, Usage: "also retry transient failures of GET, HEAD, PUT, DELETE `N` times, with backoff (connection refused or reset, timeouts, 408, 429, 5xx); 0: no retry at all, not even on Retry-After (default: a 429 or 5xx with Retry-After only, up to 10 times)"})
}

func requestFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "request", Aliases: []string{"X"}, Category: catRequest, Usage: "`METHOD`: GET, HEAD, POST, PUT, PATCH, DELETE (default: GET; POST with -d; PATCH with --type)"},
		&cli.StringFlag{Name: "data", Aliases: []string{"d"}, Category: catRequest, Usage: "request `BODY`: JSON or YAML, @FILE, or @- for stdin; checked before sending"},
		&cli.StringFlag{Name: "type", Category: catRequest, Usage: "patch `TYPE`: json, merge (default), strategic, or apply (server-side apply)"},
		&cli.StringFlag{Name: "field-manager", Category: catRequest, Usage: "field manager `NAME` (default for --type apply: kcurl)"},
		&cli.BoolFlag{Name: "force-conflicts", Category: catRequest, Usage: "server-side apply: take over fields other managers own"},
		&cli.BoolFlag{Name: "dry-run", Category: catRequest, Usage: "ask the server to validate without persisting (dryRun=All)"},
		&cli.StringSliceFlag{Name: "header", Aliases: []string{"H"}, Category: catRequest, Usage: "add a header `'NAME: VALUE'` (repeatable; 'NAME:' removes one)"},
		&cli.StringFlag{Name: "selector", Aliases: []string{"l"}, Category: catRequest, Usage: "label `SELECTOR` (labelSelector=)"},
		&cli.StringFlag{Name: "field-selector", Category: catRequest, Usage: "field `SELECTOR` (fieldSelector=)"},
		&cli.Int64Flag{Name: "limit", Category: catRequest, Usage: "at most `N` items per list (limit=)"},
		&cli.BoolFlag{Name: "curl", Category: catRequest, Usage: "print the equivalent curl command (token as $TOKEN) and send nothing"},
		&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Category: catRequest, Usage: "RESOURCE: list across all namespaces"},
		&cli.BoolFlag{Name: "all", Category: catRequest, Usage: "the whole list as one: a streaming list (one snapshot) where the server allows it, else pages of 500 following metadata.continue (always with -o raw or --limit N)"},
		&cli.BoolFlag{Name: "per-page", Category: catRequest, Usage: "with --all: print (and filter) each page as it arrives"},
		&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Category: catRequest, Usage: "watch: print each event as it arrives, resuming when the server ends the watch"},
		&cli.BoolFlag{Name: "watch-only", Category: catRequest, Usage: "watch the changes only, not the objects that exist already (implies -w)"},
		&cli.BoolFlag{Name: "relist", Category: catRequest, Usage: "watch: when the server says 410 Gone, list again and go on instead of exiting"},
		&cli.StringFlag{Name: "timeout", Category: catRequest, Usage: "watch or follow: stop cleanly after `DURATION`"},
	}
}

// logFlags map to the query parameters of a pod's log (pods/NAME/log).
func logFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Category: catLogs, Usage: "keep streaming new lines (follow=true)"},
		&cli.StringFlag{Name: "container", Category: catLogs, Usage: "the `CONTAINER` to read (on a log, -c means --container)"},
		&cli.Int64Flag{Name: "tail", Value: -1, Category: catLogs, Usage: "only the last `N` lines (tailLines=)"},
		&cli.StringFlag{Name: "since", Category: catLogs, Usage: "only lines newer than a `DURATION` (5m) or an RFC 3339 time"},
		&cli.BoolFlag{Name: "timestamps", Category: catLogs, Usage: "prefix each line with its timestamp"},
		&cli.BoolFlag{Name: "previous", Aliases: []string{"p"}, Category: catLogs, Usage: "the previous, terminated container's log"},
	}
}

func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Category: catOutput, Usage: "`FORMAT`: json, yaml, raw (the body untouched), table, wide (the server's table, like kubectl get), name; kubectl's kyaml, jsonpath=, jsonpath-as-json=, jsonpath-file=, custom-columns=, custom-columns-file=, go-template=, go-template-file="},
		&cli.BoolFlag{Name: "compact-output", Aliases: []string{"c"}, Category: catOutput, Usage: "compact JSON, one value per line"},
		&cli.StringFlag{Name: "color", Value: "auto", Category: catOutput, Usage: "`WHEN`: auto (a terminal, and no $NO_COLOR), always, never"},
		&cli.StringFlag{Name: "jq", Aliases: []string{"q"}, Category: catOutput, Usage: "filter the answer with a jq `EXPR` (gojq)"},
		&cli.BoolFlag{Name: "raw-output", Aliases: []string{"r"}, Category: catOutput, Usage: "jq: print strings without quotes"},
		&cli.StringSliceFlag{Name: "arg", Category: catOutput, Usage: "jq: `NAME VALUE` sets $NAME to the string VALUE (repeatable)"},
		&cli.StringSliceFlag{Name: "argjson", Category: catOutput, Usage: "jq: `NAME JSON` sets $NAME to the JSON value (repeatable)"},
		&cli.BoolFlag{Name: "exit-status", Aliases: []string{"e"}, Category: catOutput, Usage: "jq: exit 1 when the last result is false or null, or there is none"},
		&cli.BoolFlag{Name: "include", Aliases: []string{"i"}, Category: catOutput, Usage: "print the status line and response headers before the body"},
		&cli.BoolFlag{Name: "silent", Aliases: []string{"s"}, Category: catOutput, Usage: "print no body, but read it to its end (the exit code still tells)"},
	}
}

// kubectlFormatFlags are kubectl get's flags for its formats and for the
// object sent or read (SPEC §12), in one block.
func kubectlFormatFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "allow-missing-template-keys", Value: true, Category: catOutput, Usage: "jsonpath, go-template: a missing field prints nothing (jsonpath) or <no value> (go-template); =false makes it an error"},
		&cli.BoolFlag{Name: "show-managed-fields", Category: catOutput, Usage: "kyaml: keep metadata.managedFields, which kubectl hides"},
		&cli.BoolFlag{Name: "no-headers", Category: catOutput, Usage: "-o table, wide, custom-columns: no header line, as kubectl's"},
		&cli.BoolFlag{Name: "ignore-not-found", Category: catOutput, Usage: "a NotFound answer is success (exit 0) with nothing printed, and an empty table says nothing, as kubectl get's and delete's"},
		&cli.BoolFlag{Name: "show-kind", Category: catOutput, Usage: "-o table, wide: each name after its kind (pod/web), as kubectl's"},
		&cli.BoolFlag{Name: "show-labels", Category: catOutput, Usage: "-o table, wide: each object's labels in a last LABELS column, as kubectl's"},
		&cli.StringSliceFlag{Name: "label-columns", Aliases: []string{"L"}, Category: catOutput, Usage: "-o table, wide: a column with each object's label `KEY` (comma separated, or repeated), as kubectl's"},
		&cli.StringFlag{Name: "sort-by", Category: catOutput, Usage: "a list's items, a table's rows, in the order of their `JSONPATH` field (.metadata.name), as kubectl get's --sort-by; reads the whole list first"},
		&cli.StringFlag{Name: "template", Category: catOutput, Usage: "the `TEMPLATE` (or file, for -o jsonpath-file, go-template-file) of -o jsonpath, go-template and the others given without =, as kubectl's --template"},
		&cli.StringFlag{Name: "subresource", Category: catRequest, Usage: "RESOURCE/NAME: its `SUBRESOURCE`: status, scale or resize (as kubectl's --subresource)"},
		&cli.StringFlag{Name: "field-validation", Category: catRequest, Usage: "a write's fieldValidation=: `MODE` Strict, Warn or Ignore (default for POST, PUT, PATCH of a RESOURCE: Strict, as kubectl)"},
	}
}

// flagOrEnv is a flag's value if it was given, else the environment
// variable's; origin names where it came from ("--server", "$KCURL_SERVER").
func flagOrEnv(c *cli.Context, s Streams, flag, envVar string) (value, origin string) {
	if c.IsSet(flag) {
		return c.String(flag), "--" + flag
	}
	if envVar != "" {
		if v := s.Getenv(envVar); v != "" {
			return v, "$" + envVar
		}
	}
	return "", ""
}

// targetOptions reads the connection flags and their variables.
func targetOptions(c *cli.Context, s Streams) target.Options {
	o := target.Options{Origins: map[string]string{}}
	set := func(dst *string, key, flag, envVar string) {
		v, origin := flagOrEnv(c, s, flag, envVar)
		*dst = v
		if origin != "" {
			o.Origins[key] = origin
		}
	}
	set(&o.Server, "server", "server", "KCURL_SERVER")
	set(&o.TokenFile, "token-file", "token-file", "KCURL_TOKEN_FILE")
	set(&o.Token, "token", "token", "")
	set(&o.CAFile, "cacert", "cacert", "KCURL_CACERT")
	set(&o.Namespace, "namespace", "namespace", "")
	set(&o.SADir, "sa-dir", "sa-dir", "KCURL_SA_DIR")
	o.Insecure = c.Bool("insecure")
	o.ProcDir = s.ProcDir
	o.Kubeconfig, o.Context, o.Cluster, o.User = c.String("kubeconfig"), c.String("context"), c.String("cluster"), c.String("user")
	o.Impersonate = target.Impersonation{User: c.String("as"), Groups: c.StringSlice("as-group"), UID: c.String("as-uid")}
	if c.IsSet("from-pid") {
		if o.FromPID = c.Int("from-pid"); o.FromPID <= 0 {
			o.FromPID = -1 // refused by Resolve
		}
	}
	return o
}

// parseDuration takes Go durations ("1m30s") and, as curl does, plain
// seconds ("2.5").
func parseDuration(flag, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, usagef("invalid --%s %q: give a duration such as 10s or 1m, or seconds", flag, v)
	}
	return d, nil
}

// clientOptions reads the connection flags that shape the HTTP client.
func clientOptions(c *cli.Context, s Streams) (transport.Options, error) {
	opts := transport.Options{UserAgent: userAgent(), Compress: true}
	var err error
	if opts.ConnectTimeout, err = parseDuration("connect-timeout", c.String("connect-timeout")); err != nil {
		return opts, err
	}
	if c.Bool("verbose") {
		opts.Trace = s.ErrOut
	}
	return opts, nil
}

// resolveTarget finds the server and credentials for a command, and says on
// stderr when they are another container's (an ephemeral container).
func resolveTarget(c *cli.Context, s Streams) (*target.Target, error) {
	t, err := target.Resolve(targetOptions(c, s), s.Getenv)
	if err != nil {
		return nil, err
	}
	if t.Process != nil {
		fmt.Fprintf(s.ErrOut, "kcurl: using the service account of %s\n", t.Process)
	}
	if t.Insecure && t.Server.Scheme == "https" {
		fmt.Fprintln(s.ErrOut, "kcurl: warning: -k: the server's certificate is not verified")
	}
	if r := t.REST; r != nil && !r.Insecure && r.CAFile == "" && len(r.CAData) == 0 {
		// As kubectl does, but not silently (docs/security.md#credentials-never-leave): the kubeconfig names
		// no CA for this cluster.
		fmt.Fprintln(s.ErrOut, "kcurl: warning: the kubeconfig gives no CA for this cluster: the server is verified against the system's roots")
	}
	return t, nil
}
