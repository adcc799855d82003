package cmd

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kcurl/kcurl/pkg/target"
	"github.com/kcurl/kcurl/pkg/transport"
)

// apiSession is what the commands beside the request (whoami, can-i,
// api-resources) talk to the server with.
type apiSession struct {
	target *target.Target
	client *http.Client
	// ctx runs out at --max-time, which covers discovery and the review.
	ctx     context.Context
	cancel  context.CancelFunc
	maxTime string
	color   bool // --color, decided with NO_COLOR and the terminal
}

// connect reads the connection and colour flags (usage errors first, before
// credentials are read or a byte is sent), resolves the target and builds
// its client. Every command that uses it has --color.
func connect(c *cli.Context, s Streams) (*apiSession, error) {
	color, err := useColor(c.String("color"), s)
	if err != nil {
		return nil, err
	}
	opts, err := clientOptions(c, s)
	if err != nil {
		return nil, err
	}
	api := &apiSession{maxTime: c.String("max-time"), color: color}
	maxTime, err := parseDuration("max-time", api.maxTime)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(maxTime) // counted from the start
	if api.target, err = resolveTarget(c, s); err != nil {
		return nil, err
	}
	api.client = transport.New(api.target, opts)
	if maxTime > 0 {
		api.ctx, api.cancel = context.WithDeadline(c.Context, deadline)
	} else {
		api.ctx, api.cancel = context.WithCancel(c.Context)
	}
	return api, nil
}

// err is a failed exchange as the user should read it: --max-time running
// out is a timeout (exit 6), whatever the transport made of it.
func (a *apiSession) err(err error) error {
	if err != nil && errors.Is(a.ctx.Err(), context.DeadlineExceeded) {
		return &timeoutError{limit: a.maxTime}
	}
	return err
}
