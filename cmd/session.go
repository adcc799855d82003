package cmd

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/discovery"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/limits"
	"github.com/kcurl/kcurl/pkg/output"
	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// sessionOptions are the flags every command that talks to the server
// shares: how to connect, --max-time and --color. Reading them reads no
// file.
type sessionOptions struct {
	transport   transport.Options
	maxTimeText string
	// deadline is when --max-time runs out, counted from the start, so
	// that credentials, discovery and the request share it.
	deadline time.Time
	color    bool // --color, decided with NO_COLOR and the terminal
	retry    apiclient.Retry
}

func newSessionOptions(c *cli.Context, s Streams) (sessionOptions, error) {
	var o sessionOptions
	var err error
	if o.color, err = useColor(c.String("color"), s); err != nil {
		return o, err
	}
	if o.transport, err = clientOptions(c, s); err != nil {
		return o, err
	}
	o.maxTimeText = c.String("max-time")
	maxTime, err := parseDuration("max-time", o.maxTimeText)
	if err != nil {
		return o, err
	}
	if maxTime > 0 {
		o.deadline = time.Now().Add(maxTime)
	}
	if c.IsSet("max-value") {
		n, err := parseSize(c.String("max-value"))
		if err != nil {
			return o, usagef("--max-value %s: %v", c.String("max-value"), err)
		}
		limits.SetMaxValue(n)
	}
	if c.IsSet("retry") {
		n := c.Int("retry")
		if n < 0 {
			return o, usagef("--retry %d: give a number of retries, 0 for none", n)
		}
		o.retry.Transient, o.retry.Off = n, n == 0
	}
	if c.Bool("verbose") {
		o.retry.Notes = s.ErrOut
	}
	return o, nil
}

// apiSession is one command's connection to the server: one
// apiclient.Client sends every request, discovery's too.
type apiSession struct {
	streams Streams
	target  *target.Target
	api     *apiclient.Client
	// ctx runs out at --max-time.
	ctx     context.Context
	cancel  context.CancelFunc
	maxTime string
	color   bool
}

// connect reads the session's flags (usage errors first, before
// credentials are read or a byte is sent), resolves the target and builds
// its client. Every command that uses it has --color.
func connect(c *cli.Context, s Streams) (*apiSession, error) {
	o, err := newSessionOptions(c, s)
	if err != nil {
		return nil, err
	}
	return o.connect(c, s)
}

// connect resolves the target and builds its client.
func (o sessionOptions) connect(c *cli.Context, s Streams) (*apiSession, error) {
	t, err := resolveTarget(c, s)
	if err != nil {
		return nil, err
	}
	api := &apiSession{streams: s, target: t, api: &apiclient.Client{HTTP: transport.New(t, o.transport), Server: t.Server, Retry: o.retry, Warnings: apiclient.NewWarnings(s.ErrOut)},
		maxTime: o.maxTimeText, color: o.color}
	if o.deadline.IsZero() {
		api.ctx, api.cancel = context.WithCancel(c.Context)
	} else {
		api.ctx, api.cancel = context.WithDeadline(c.Context, o.deadline)
	}
	return api, nil
}

// discovery is the session's discovery client: through the user's cache,
// when there is one, and the session's one apiclient.Client.
func (a *apiSession) discovery() *discovery.Client {
	return &discovery.Client{API: a.api, CacheDir: discoveryCacheDir(a.streams)}
}

// err is a failed exchange as the user should read it: --max-time running
// out is a timeout (exit 6), whatever the transport made of it, but for a
// jq filter that was still running then (exit 1, "jq ran past --max-time").
func (a *apiSession) err(err error) error {
	if jq := (*output.OutOfTimeError)(nil); errors.As(err, &jq) {
		if jq.Limit == "" { // not --timeout's
			jq.Limit = "--max-time " + a.maxTime
		}
		return jq
	}
	if err != nil && errors.Is(a.ctx.Err(), context.DeadlineExceeded) {
		return &timeoutError{limit: a.maxTime}
	}
	return err
}

// timeoutError is --max-time running out.
type timeoutError struct{ limit string }

func (e *timeoutError) Error() string {
	return "the request did not complete within --max-time " + e.limit
}
func (e *timeoutError) ExitCode() int { return exitcode.Network }

// discoveryCacheDir is $KCURL_CACHE_DIR/discovery,
// $XDG_CACHE_HOME/kcurl/discovery or ~/.cache/kcurl/discovery; "" (no
// cache) without any of them.
func discoveryCacheDir(s Streams) string {
	if d := s.Getenv("KCURL_CACHE_DIR"); d != "" {
		return filepath.Join(d, "discovery")
	}
	if d := s.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "kcurl", "discovery")
	}
	if h := s.Getenv("HOME"); h != "" && h != "/" {
		return filepath.Join(h, ".cache", "kcurl", "discovery")
	}
	return ""
}
