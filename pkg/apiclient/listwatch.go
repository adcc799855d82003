package apiclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// ListWatch follows a collection as a wait needs it (kcurl wait,
// --pod-running-timeout): watched from a list's resourceVersion, and
// listed again when the watch falls behind (410 Gone), since what changed
// in between shows in a new list only.
type ListWatch struct {
	// Collection is the collection's list; it is watched with Watch set,
	// from each list's resourceVersion.
	Collection request.Spec
	// Describe names the collection in the notice of a relist ("pods -l
	// app=web").
	Describe string
	// Notices gets one line for each resumption that loses or may lose
	// events (a relist, a broken connection); nil discards them.
	Notices io.Writer
	// Relist lists the collection again after a 410: the resourceVersion
	// to watch on from, or done (what was waited for is in the new list).
	Relist func(ctx context.Context) (rv string, done bool, err error)
	// Event is given each event of the watch; done ends it.
	Event func(Event) (done bool, err error)
}

// errFollowed ends the watch of FollowList: Event said done.
var errFollowed = errors.New("done")

// FollowList watches lw.Collection from rv, the resourceVersion of the
// caller's first list, until lw.Event or lw.Relist says done (nil). The
// first list stays the caller's because each reads it its own way: kcurl
// wait without --timeout looks only once, and --pod-running-timeout takes
// a Pod that runs already however short its wait. Watch resumes the watch
// when the server ends it or its connection breaks; any other error ends
// FollowList as it is, ctx's included, so that the caller tells its own
// timeout from its caller's. A server that answers 410 to every watch is
// listed again ever more slowly: at once the first time, then after
// backoff(1), backoff(2), … until a watch that lasted minWatch brings an
// event.
func (c *Client) FollowList(ctx context.Context, rv string, lw ListWatch) error {
	notices := cmp.Or[io.Writer](lw.Notices, io.Discard)
	for relists := 0; ; {
		watch := lw.Collection
		watch.Watch = true
		watch.Query = withParams(lw.Collection.Query, url.Values{"resourceVersion": {rv}})
		var ended error // what lw.Event ended the watch with: errFollowed when done
		watched := time.Now()
		err := c.Watch(ctx, watch, WatchOptions{Notices: lw.Notices}, func(e Event) error {
			if time.Since(watched) >= minWatch {
				// The watch moved on and lasted: progress. A server
				// that sends an event, then 410, to every watch is
				// still listed again ever more slowly, as Watch resumes
				// one that ends at once.
				relists = 0
			}
			done, err := lw.Event(e)
			if err == nil && done {
				err = errFollowed
			}
			ended = err
			return err
		})
		var status *transport.StatusError
		switch {
		case ended == errFollowed:
			return nil
		case ended != nil:
			return ended
		case !errors.As(err, &status) || status.Code != http.StatusGone || ctx.Err() != nil:
			return err
		}
		relists++
		fmt.Fprintf(notices, "kcurl: the watch fell behind (410 Gone); listing %s again\n", lw.Describe)
		if relists > 1 {
			if err := sleepCtx(ctx, backoff(relists-1)); err != nil {
				return err
			}
		}
		var done bool
		if rv, done, err = lw.Relist(ctx); err != nil || done {
			return err
		}
	}
}
