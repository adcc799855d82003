package cmd

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/stream"
)

// streamPath matches the PATHs that upgrade the connection: a Pod's exec,
// attach and portforward.
var streamPath = lazyRegexp(`^/api/v1/namespaces/[^/]+/pods/[^/]+/(exec|attach|portforward)/?$`)

// rawStreamKind is exec, attach or portforward when the request's one
// argument is such a PATH, "" otherwise.
func rawStreamKind(c *cli.Context) string {
	if c.NArg() != 1 {
		return ""
	}
	p, _, _ := strings.Cut(c.Args().First(), "?")
	if !strings.Contains(p, "/pods/") {
		return "" // most requests: the regexp is not even compiled
	}
	if m := streamPath().FindStringSubmatch(p); m != nil {
		return m[1]
	}
	return ""
}

// rawStreamOptions speaks a raw exec, attach or portforward PATH, as curl
// cannot: the connection is upgraded (WebSocket, SPDY for older servers)
// and its channels go to stdout and stderr, stdin too when the query asks
// for it (stdin=true); kcurl exits with the remote command's code. A
// portforward PATH (?ports=N, one port) carries stdin to the Pod's port
// and its answer to stdout, as nc would.
type rawStreamOptions struct {
	streams  Streams
	session  sessionOptions
	kind     string // exec, attach, portforward
	arg      string
	rawQuery string
	query    url.Values
	port     uint64
	curl     bool
	given    []string // request flags that do not apply
}

func (o *rawStreamOptions) complete(c *cli.Context) error {
	o.arg, o.curl = c.Args().First(), c.Bool("curl")
	for _, flag := range []string{"data", "jq", "output", "watch", "all", "include"} {
		if c.IsSet(flag) {
			o.given = append(o.given, flag)
		}
	}
	_, o.rawQuery, _ = strings.Cut(o.arg, "?")
	var err error
	o.session, err = newSessionOptions(c, o.streams)
	return err
}

func (o *rawStreamOptions) validate() error {
	if o.curl {
		return usagef("curl cannot speak %s: it upgrades the connection to a WebSocket (or SPDY) carrying several streams; kcurl PATH speaks it, and so do kcurl exec, attach and port-forward", o.kind)
	}
	if len(o.given) > 0 {
		return usagef("--%s does not apply to a %s PATH, which streams", o.given[0], o.kind)
	}
	var err error
	if o.query, err = url.ParseQuery(o.rawQuery); err != nil {
		hint := ""
		if strings.Contains(o.rawQuery, ";") {
			hint = " (write ; as %3B: the API server, as Go, refuses it in a query)"
		}
		return usagef("invalid query in %s: %v%s", o.arg, err, hint)
	}
	switch {
	case o.kind == "portforward":
		ports := strings.Split(strings.Join(o.query["ports"], ","), ",")
		if len(ports) != 1 || ports[0] == "" {
			return usagef("a portforward PATH forwards one port here, between stdin and stdout: give ?ports=PORT, one")
		}
		if o.port, err = strconv.ParseUint(ports[0], 10, 16); err != nil || o.port == 0 {
			return usagef("invalid port %q in ports=%s: a portforward PATH takes the Pod's port number (1-65535); kcurl port-forward also takes names", ports[0], ports[0])
		}
	case o.kind == "exec" && len(o.query["command"]) == 0:
		return usagef("an exec PATH needs ?command=…: e.g. %s", withQuery(o.arg, "command=ls", "stdout=true"))
	}
	return nil
}

// withQuery is path with the parameters added that its query lacks.
func withQuery(path string, params ...string) string {
	path = strings.TrimSuffix(path, "?")
	_, query, _ := strings.Cut(path, "?")
	given, _ := url.ParseQuery(query)
	sep := "?"
	if query != "" {
		sep = "&"
	}
	for _, p := range params {
		if name, _, _ := strings.Cut(p, "="); given.Has(name) {
			continue
		}
		path += sep + p
		sep = "&"
	}
	return path
}

func (o *rawStreamOptions) run(c *cli.Context) error {
	s := o.streams
	ss, err := connectStream(c, s, o.session)
	if err != nil {
		return err
	}
	defer ss.cancel()
	u, err := request.Spec{Path: o.arg, Namespace: ss.target.Namespace}.URL(ss.target.Server)
	if err != nil {
		return err
	}
	if o.kind == "portforward" {
		d, err := stream.Dialer(ss.ctx, ss.config, u)
		if err != nil {
			return err
		}
		ss.processors.oneNow()
		return ss.err(stream.Pipe(ss.ctx, d, uint16(o.port), s.In, s.Out))
	}
	yes := func(name string) bool { v := o.query.Get(name); return v == "true" || v == "1" }
	rio, restore, err := remoteIO(s, yes("stdin"), yes("tty"), false)
	defer restore()
	if err != nil {
		return err
	}
	if !yes("stdout") {
		rio.Stdout = nil
	}
	if !yes("stderr") || rio.TTY {
		rio.Stderr = nil
	}
	err = stream.Run(ss.ctx, ss.config, u, ss.processors.counted(rio))
	restore() // cooked before the exit code is said
	return remoteExit(ss.ctx, s, ss.err(err))
}
