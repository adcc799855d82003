package cmd

import (
	"context"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/proxy"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

func proxyCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "proxy",
		Usage:     "serve the API on localhost with the Pod's credentials, as kubectl proxy (for sidecars)",
		UsageText: "kcurl proxy [-p PORT] [--address ADDR] [-u SOCKET] [--accept-paths RE] [--reject-paths RE] [-v]",
		Description: "Every request gets the Pod's token, re-read as the kubelet rotates it; an Authorization header a\n" +
			"client sends is dropped, and so are its Impersonate-* headers unless --allow-impersonation.\n" +
			"Watches, logs and other chunked answers stream through as they arrive.\n" +
			"SIGTERM or SIGINT stops accepting, lets requests in flight finish, and exits within 5 seconds.",
		Flags: append([]cli.Flag{
			&cli.IntFlag{Name: "port", Aliases: []string{"p"}, Value: 8001, Usage: "the `PORT` to serve on; 0 picks a free one (and prints it)"},
			&cli.StringFlag{Name: "address", Value: "127.0.0.1", Usage: "the `IP` address to serve on"},
			&cli.StringFlag{Name: "unix-socket", Aliases: []string{"u"}, Usage: "serve on a unix socket at `PATH` (mode 0600) instead of a port"},
			&cli.StringFlag{Name: "api-prefix", Value: "/", Usage: "serve the API under `PREFIX`"},
			&cli.StringFlag{Name: "accept-hosts", Value: proxy.DefaultAcceptHosts, Usage: "Host headers to accept, comma-separated regular expressions (against DNS rebinding)"},
			&cli.StringFlag{Name: "accept-paths", Value: proxy.DefaultAcceptPaths, Usage: "paths to accept, comma-separated regular expressions"},
			&cli.StringFlag{Name: "reject-paths", Value: proxy.DefaultRejectPaths, Usage: "paths to reject even when accepted (default: a Pod's exec, attach and portforward, and the kubelet's own exec, run, attach and portForward through a node's proxy)"},
			&cli.StringFlag{Name: "reject-methods", Value: proxy.DefaultRejectMethods, Usage: "HTTP methods to reject, comma-separated regular expressions"},
			&cli.BoolFlag{Name: "disable-filter", Usage: "accept every host, path and method (dangerous: warns)"},
			&cli.IntFlag{Name: "max-clients", Value: proxy.DefaultMaxClients, Usage: "serve at most `N` connections at once; more wait until one closes"},
			&cli.BoolFlag{Name: "allow-impersonation", Usage: "pass clients' Impersonate-* headers on (dropped by default: any local client could act as whoever the Pod may impersonate)"},
		}, connectionFlags()...),
		Action: func(c *cli.Context) error { return runCommand(c, &proxyOptions{streams: s}) },
	}
}

// shutdownGrace is how long requests in flight (a watch) may go on after
// SIGTERM; the kubelet's default grace period is 30 s, kcurl's promise 5 s.
const shutdownGrace = 4 * time.Second

// proxyOptions is `kcurl proxy`: kubectl proxy's flags.
type proxyOptions struct {
	streams Streams
	port    int
	address string
	socket  string
	proxy   proxy.Options // its Filter nil with --disable-filter
	client  transport.Options

	portGiven  bool
	maxClients int
}

func (o *proxyOptions) complete(c *cli.Context) error {
	if err := noArguments("proxy", c.Args().Slice()); err != nil {
		return err
	}
	o.port, o.portGiven, o.address, o.socket = c.Int("port"), c.IsSet("port"), c.String("address"), c.String("unix-socket")
	o.maxClients = c.Int("max-clients")
	o.proxy = proxy.Options{APIPrefix: c.String("api-prefix"), AllowImpersonation: c.Bool("allow-impersonation"), Errors: o.streams.ErrOut}
	if c.Bool("verbose") {
		o.proxy.Log = o.streams.ErrOut
	}
	if !c.Bool("disable-filter") {
		o.proxy.Filter = &proxy.Filter{}
		for _, f := range []struct {
			flag string
			dst  *[]*regexp.Regexp
		}{
			{"accept-hosts", &o.proxy.Filter.AcceptHosts}, {"accept-paths", &o.proxy.Filter.AcceptPaths},
			{"reject-paths", &o.proxy.Filter.RejectPaths}, {"reject-methods", &o.proxy.Filter.RejectMethods},
		} {
			res, err := proxy.Regexps(c.String(f.flag))
			if err != nil {
				return usagef("--%s: %v", f.flag, err)
			}
			*f.dst = res
		}
	}
	var err error
	o.client, err = clientOptions(c, o.streams)
	o.client.Trace = nil // -v logs one line per request here, not every header
	return err
}

func (o *proxyOptions) validate() error {
	switch {
	case o.portGiven && o.socket != "":
		return usagef("--unix-socket and --port cannot be used together")
	case o.port < 0 || o.port > 65535:
		return usagef("invalid --port %d", o.port)
	case o.maxClients < 1:
		return usagef("invalid --max-clients %d: at least 1", o.maxClients)
	}
	return nil
}

func (o *proxyOptions) run(c *cli.Context) error {
	s := o.streams
	if o.proxy.Filter == nil {
		fmt.Fprintln(s.ErrOut, "kcurl: warning: --disable-filter: the proxy accepts every host, path and method; whoever reaches it acts as this Pod's service account")
	}
	t, err := resolveTarget(c, s)
	if err != nil {
		return err
	}
	// Per request, the proxy's own work is small next to TLS and HTTP/2:
	// a stat of the token file for each one, and the collector running
	// every few hundred kilobytes, were most of it (docs/performance.md).
	if tokens, ok := t.Token.(*target.TokenFile); ok {
		tokens.CheckEvery(time.Second)
	}
	debug.SetGCPercent(400) // a proxy's heap is a few MB: trade some for CPU

	popts := o.proxy
	popts.Transport, popts.Upgrade = proxy.Transports(t, o.client)
	// Caught before "Starting to serve" is printed: whoever read it and
	// sends SIGTERM gets the graceful stop, not the default death.
	ctx, stop := stopOnSignals(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := listen(o.socket, o.address, o.port)
	if err != nil {
		return err
	}
	l = proxy.LimitListener(l, o.maxClients)
	server := &http.Server{
		Handler:           proxy.New(t, popts),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(s.ErrOut, "kcurl proxy: ", 0),
	}
	fmt.Fprintf(s.Out, "Starting to serve on %s\n", l.Addr())
	return serve(ctx, server, l)
}

// serve serves on l until ctx ends, then stops accepting and lets the
// requests in flight finish within shutdownGrace.
func serve(ctx context.Context, server *http.Server, l net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- server.Serve(l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	grace, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := server.Shutdown(grace); err != nil {
		_ = server.Close() // a watch still open after the grace period
	}
	return nil
}

// listen opens the socket the proxy serves on: a unix socket only its user
// may use, or a TCP address.
func listen(socket, address string, port int) (net.Listener, error) {
	if socket == "" {
		addr := net.JoinHostPort(address, strconv.Itoa(port)) // [::1]:8001
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, exitcode.With(exitcode.Failed, fmt.Errorf("cannot serve on %s: %w", addr, err))
		}
		return l, nil
	}
	// A socket left by a previous run is replaced; any other file is not.
	if info, err := os.Lstat(socket); err == nil && info.Mode()&fs.ModeSocket != 0 {
		_ = os.Remove(socket)
	}
	old := syscall.Umask(0o177) // created 0600: no moment when others may connect
	l, err := net.Listen("unix", socket)
	syscall.Umask(old)
	if err != nil {
		return nil, exitcode.With(exitcode.Failed, fmt.Errorf("cannot serve on %s: %w", socket, err))
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}
