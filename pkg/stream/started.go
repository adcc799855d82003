package stream

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/request"
)

// startedPod is the most active of the Pods selector matches that have
// started, waiting up to wait (--pod-running-timeout) for one to. kubectl
// waits only while the selector matches no Pod at all, and takes the
// first one that appears, which is still Pending: its exec then fails
// ("container not found"). kcurl waits until a Pod runs, whether there was
// none yet (a Deployment just created, or scaled from 0) or each was
// Pending. It lists the Pods, then watches them from the list's
// resourceVersion; after a 410 (the watch fell behind) it lists again,
// since a Pod that started meanwhile is in the new list only.
func (p Pods) startedPod(ctx context.Context, ref Ref, selector string, wait time.Duration) (*Pod, error) {
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	pending := map[string]*Pod{} // by name: seen, not started; what a timeout says
	end := func(err error) error {
		if ctx.Err() == nil && waitCtx.Err() != nil {
			return notStarted(ref, selector, wait, pending)
		}
		return err // the caller's end (a signal, --max-time) says itself
	}
	var found *Pod
	spec := request.Spec{Path: fmt.Sprintf("/api/v1/namespaces/%s/pods", url.PathEscape(p.Namespace)), LabelSelector: selector, Accept: "application/json"}
	list := func(ctx context.Context) (rv string, started bool, err error) {
		var list struct {
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
			Items []*Pod `json:"items"`
		}
		if err := p.read(ctx, spec, &list); err != nil {
			return "", false, err
		}
		sort.SliceStable(list.Items, func(i, j int) bool { return moreActive(list.Items[i], list.Items[j]) })
		clear(pending)
		for _, pod := range list.Items {
			if pod.started() {
				found = pod
				return "", true, nil
			}
			pending[pod.Metadata.Name] = pod
		}
		return list.Metadata.ResourceVersion, false, nil
	}
	// The first list is not cut short by wait: a Pod that runs already is
	// taken however short the wait, as kubectl takes it.
	rv, started, err := list(ctx)
	if err != nil {
		return nil, end(err)
	}
	if started {
		return found, nil
	}
	err = p.Client.FollowList(waitCtx, rv, apiclient.ListWatch{
		Collection: spec, Relist: list,
		Event: func(e apiclient.Event) (bool, error) {
			var pod Pod
			if err := json.Unmarshal(e.Object, &pod); err != nil {
				return false, exitcode.With(exitcode.Failed, fmt.Errorf("the server sent a watch event that is not a Pod's: %.200s", e.Raw))
			}
			switch {
			case e.Type == "DELETED":
				delete(pending, pod.Metadata.Name)
			case pod.started():
				found = &pod
				return true, nil
			default:
				pending[pod.Metadata.Name] = &pod
			}
			return false, nil
		},
	})
	if err != nil {
		return nil, end(err)
	}
	return found, nil
}

// started: the Pod has left Pending, its containers run or have run
// (Succeeded, Failed: the caller says that it has completed). Unknown is
// a node that does not answer: waited for too.
func (p *Pod) started() bool {
	switch p.Status.Phase {
	case "Running", "Succeeded", "Failed":
		return true
	}
	return false
}

// notStarted is the timeout of startedPod (exit 1, as kubectl's "timed out
// waiting for the condition"): what it waited for, for how long, and the
// Pods it saw, with what they wait for.
func notStarted(ref Ref, selector string, wait time.Duration, pending map[string]*Pod) error {
	if len(pending) == 0 {
		return exitcode.With(exitcode.Failed, fmt.Errorf("no Pod of %s/%s matched its selector %s within %s (--pod-running-timeout)", ref.Kind, ref.Name, selector, wait))
	}
	const shown = 3
	var said []string
	for i, name := range slices.Sorted(maps.Keys(pending)) {
		if i == shown {
			said = append(said, fmt.Sprintf("and %d more", len(pending)-shown))
			break
		}
		said = append(said, name+" is "+pending[name].state())
	}
	return exitcode.With(exitcode.Failed, fmt.Errorf("no Pod of %s/%s was running within %s (--pod-running-timeout): %s", ref.Kind, ref.Name, wait, strings.Join(said, ", ")))
}

// state is the Pod's phase, and what it waits for when the scheduler or
// a container says (Unschedulable, ImagePullBackOff, ContainerCreating).
func (p *Pod) state() string {
	phase := cmp.Or(p.Status.Phase, "Pending")
	for _, c := range p.Status.Conditions {
		if c.Type == "PodScheduled" && c.Status == "False" && c.Reason != "" {
			return phase + " (" + c.Reason + ")"
		}
	}
	for _, c := range p.Status.ContainerStatuses {
		if w := c.State.Waiting; w != nil && w.Reason != "" {
			return phase + " (" + w.Reason + ")"
		}
	}
	return phase
}
