// Package debug is kcurl debug: kcurl run in an ephemeral container of a
// Pod, with the target container's own service account mounted at the
// standard path (no /proc, no capabilities), restricted-compliant by
// construction; its log streamed to the end and its exit code returned.
// Everything goes through pkg/apiclient; nothing here prints to os.Stdout.
package debug

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/request"
)

// ServiceAccountDir is where a container's service account is mounted, and
// where the ephemeral container gets the target's.
const ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// ImageUser is the kcurl image's user, for a target whose user the Pod
// does not say (or says is root).
const ImageUser = 65532

// Command is kcurl in the image.
const Command = "/kcurl"

// Options say what to run where.
type Options struct {
	Namespace, Pod string
	// Target is the container whose service account and processes the
	// ephemeral container shares; "" is the Pod's default container.
	Target     string
	Image      string
	PullPolicy string // "" leaves it to the server
	// Name of the ephemeral container; "" is kcurl-XXXXX.
	Name string
	Args []string // kcurl's arguments
	// StartTimeout bounds the wait for the container to start.
	StartTimeout time.Duration
}

// Debugger runs kcurl debug against one API server.
type Debugger struct {
	Client *apiclient.Client
	// Out gets the container's log: kcurl's stdout and stderr, as the
	// kubelet keeps them, in one stream.
	Out io.Writer
	// Notices gets what kcurl debug itself says: the container's name, why
	// it is not running yet.
	Notices io.Writer
	// Suffix makes the name's random part; nil is crypto/rand.
	Suffix func() string
}

// InnerExitError is the inner kcurl's exit code, passed through: its
// output said what went wrong.
type InnerExitError struct {
	Container string
	Code      int
}

func (e *InnerExitError) Error() string {
	return fmt.Sprintf("%s exited %d", e.Container, e.Code)
}
func (e *InnerExitError) ExitCode() int { return e.Code }

// Run checks the rights, reads the Pod, adds the ephemeral container, waits
// for it to start, copies its log to Out to the end, and returns its exit
// code as an InnerExitError (nil for 0). Nothing is created when a right,
// the target container or its service account is missing.
func (d *Debugger) Run(ctx context.Context, o Options) error {
	if err := d.checkAccess(ctx, o); err != nil {
		return err
	}
	p, err := d.getPod(ctx, o)
	if err != nil {
		return err
	}
	ec, err := d.container(p, o)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"spec": map[string]any{"ephemeralContainers": []any{ec}}})
	if err != nil {
		return err
	}
	_, err = d.Client.Read(ctx, request.Spec{Method: http.MethodPatch, PatchType: "strategic",
		Path: podPath(o) + "/ephemeralcontainers", Body: body, Accept: "application/json"})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.Notices, "kcurl: running %s in ephemeral container %s of pod %s/%s, as container %s's service account\n",
		strings.Join(append([]string{"kcurl"}, ec.Args...), " "), ec.Name, o.Namespace, o.Pod, ec.TargetContainerName)

	state, err := d.waitStarted(ctx, o, ec.Name)
	if err != nil {
		return err
	}
	if err := d.copyLog(ctx, o, ec.Name); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(d.Notices, "kcurl: %s goes on running in pod %s (ephemeral containers cannot be stopped)\n", ec.Name, o.Pod)
		}
		return err
	}
	if state.Terminated == nil {
		if state, err = d.waitEnded(ctx, o, ec.Name); err != nil {
			return err
		}
	}
	t := state.Terminated
	if t.Reason != "" && t.Reason != "Completed" && t.Reason != "Error" {
		// Not kcurl's own exit: the runtime's (StartError, OOMKilled).
		fmt.Fprintf(d.Notices, "kcurl: %s ended: %s %s\n", ec.Name, t.Reason, strings.TrimSpace(t.Message))
	}
	if t.ExitCode != 0 {
		return &InnerExitError{Container: ec.Name, Code: t.ExitCode}
	}
	return nil
}

func podPath(o Options) string {
	return "/api/v1/namespaces/" + url.PathEscape(o.Namespace) + "/pods/" + url.PathEscape(o.Pod)
}

// getPod reads the Pod: a 404 or 403 is the server's line.
func (d *Debugger) getPod(ctx context.Context, o Options) (*pod, error) {
	raw, err := d.Client.Read(ctx, request.Spec{Path: podPath(o), Accept: "application/json"})
	if err != nil {
		return nil, err
	}
	var p pod
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, exitcode.With(exitcode.Failed, fmt.Errorf("the answer for pod %s: %w", o.Pod, err))
	}
	return &p, nil
}

// container is the ephemeral container for p: errors are the ones that
// must come before anything is created (an unknown target, a target with
// no service account, a name in use, a Pod that has ended).
func (d *Debugger) container(p *pod, o Options) (*ephemeralContainer, error) {
	if p.Status.Phase == "Succeeded" || p.Status.Phase == "Failed" {
		return nil, exitcode.With(exitcode.Failed, fmt.Errorf("pod %s has ended (%s): an ephemeral container cannot run in it", o.Pod, p.Status.Phase))
	}
	target, err := p.target(o.Pod, o.Target)
	if err != nil {
		return nil, err
	}
	if o.Target == "" && len(p.Spec.Containers) > 1 {
		fmt.Fprintf(d.Notices, "kcurl: targeting container %q of %s; choose another with --target\n", target.Name, strings.Join(p.names(), ", "))
	}
	i := slices.IndexFunc(target.VolumeMounts, func(m volumeMount) bool {
		return path.Clean(m.MountPath) == ServiceAccountDir
	})
	if i < 0 {
		return nil, exitcode.With(exitcode.Credentials, fmt.Errorf(
			"container %q of pod %s has no service account mounted at %s (is automountServiceAccountToken false?): there is none to share",
			target.Name, o.Pod, ServiceAccountDir))
	}
	sa := target.VolumeMounts[i]
	if user, _ := effective(p.Spec.SecurityContext, target.SecurityContext); user != nil && *user == 0 {
		fmt.Fprintf(d.Notices, "kcurl: container %q runs as root (runAsUser: 0); its token may be readable by root alone, and kcurl debug runs as user %d\n", target.Name, ImageUser)
	}
	name := o.Name
	if name == "" {
		name = d.freeName(p)
	} else if slices.Contains(p.allNames(), name) {
		return nil, exitcode.Targetf(
			"pod %s already has a container named %q (ephemeral containers cannot be removed or run again): choose another -c NAME", o.Pod, name)
	}
	args := o.Args
	if len(args) == 0 {
		args = []string{"whoami"}
	}
	return &ephemeralContainer{
		Name:                     name,
		Image:                    o.Image,
		ImagePullPolicy:          o.PullPolicy,
		Command:                  []string{Command},
		Args:                     args,
		TargetContainerName:      target.Name,
		TerminationMessagePolicy: "File",
		VolumeMounts: []volumeMount{{Name: sa.Name, MountPath: ServiceAccountDir, ReadOnly: true,
			SubPath: sa.SubPath, SubPathExpr: sa.SubPathExpr}},
		SecurityContext: restricted(p.Spec.SecurityContext, target.SecurityContext),
	}, nil
}

// restricted is a securityContext that meets the `restricted` Pod Security
// level by itself, running as the target's user and group, so that a token
// the kubelet made readable by that user alone (mode 0600) is readable.
func restricted(podSC, containerSC *securityContext) *securityContext {
	user, group := effective(podSC, containerSC)
	sc := &securityContext{
		RunAsNonRoot:             ptr(true),
		AllowPrivilegeEscalation: ptr(false),
		ReadOnlyRootFilesystem:   ptr(true),
		Capabilities:             &capabilities{Drop: []string{"ALL"}},
		SeccompProfile:           &seccompProfile{Type: "RuntimeDefault"},
		RunAsGroup:               group,
	}
	if user == nil || *user == 0 {
		// Root, or the image's user: the token is readable by all (0644).
		sc.RunAsUser = ptr(int64(ImageUser))
	} else {
		sc.RunAsUser = user
	}
	return sc
}

// effective is the target's user and group: the container's, else the Pod's.
func effective(podSC, containerSC *securityContext) (user, group *int64) {
	for _, sc := range []*securityContext{podSC, containerSC} {
		if sc == nil {
			continue
		}
		if sc.RunAsUser != nil {
			user = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			group = sc.RunAsGroup
		}
	}
	return user, group
}

func ptr[T any](v T) *T { return &v }

// nameAlphabet is kubectl's (k8s.io/apimachinery's rand.String): no
// vowels, no look-alikes.
const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// freeName is kcurl-XXXXX, a name no container of p has: who made it is
// plain to anyone who reads the Pod.
func (d *Debugger) freeName(p *pod) string {
	taken := p.allNames()
	for {
		name := "kcurl-" + d.suffix()
		if !slices.Contains(taken, name) {
			return name
		}
	}
}

func (d *Debugger) suffix() string {
	if d.Suffix != nil {
		return d.Suffix()
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = nameAlphabet[int(b[i])%len(nameAlphabet)]
	}
	return string(b)
}

// waitStarted watches the Pod until the container runs or has ended, as
// kubectl debug does; the reasons it waits are said once each. An image
// that can never come is an error at once.
func (d *Debugger) waitStarted(ctx context.Context, o Options, name string) (containerState, error) {
	if o.StartTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.StartTimeout)
		defer cancel()
	}
	said := map[string]bool{}
	var last string
	state, err := d.watchUntil(ctx, o, name, func(s containerState) (bool, error) {
		if w := s.Waiting; w != nil && w.Reason != "" {
			last = strings.TrimSpace(w.Reason + ": " + w.Message)
			switch w.Reason {
			case "ErrImageNeverPull", "InvalidImageName":
				return false, exitcode.With(exitcode.Failed, fmt.Errorf("%s cannot start: %s", name, last))
			}
			if w.Message != "" && !said[last] {
				said[last] = true
				fmt.Fprintf(d.Notices, "kcurl: %s is waiting: %s\n", name, last)
			}
		}
		return s.Running != nil || s.Terminated != nil, nil
	})
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why := "no status yet"
		if last != "" {
			why = last
		}
		return state, exitcode.With(exitcode.Failed, fmt.Errorf("%s did not start within %s (%s); it stays in pod %s and may still run", name, o.StartTimeout, why, o.Pod))
	}
	return state, err
}

// waitEnded watches the Pod until the container has ended.
func (d *Debugger) waitEnded(ctx context.Context, o Options, name string) (containerState, error) {
	return d.watchUntil(ctx, o, name, func(s containerState) (bool, error) { return s.Terminated != nil, nil })
}

// errDone ends a watch whose condition is met.
var errDone = errors.New("done")

// watchUntil watches the Pod (from its current state: the first event is
// the Pod as it is) until done says so about the container's state.
func (d *Debugger) watchUntil(ctx context.Context, o Options, name string, done func(containerState) (bool, error)) (containerState, error) {
	var state containerState
	spec := request.Spec{Path: "/api/v1/namespaces/" + url.PathEscape(o.Namespace) + "/pods", Name: o.Pod,
		Watch: true, Accept: "application/json"}
	err := d.Client.Watch(ctx, spec, apiclient.WatchOptions{Relist: true, Notices: d.Notices}, func(e apiclient.Event) error {
		if e.Type == "DELETED" {
			return exitcode.With(exitcode.Failed, fmt.Errorf("pod %s was deleted", o.Pod))
		}
		var p pod
		if err := json.Unmarshal(e.Object, &p); err != nil {
			return exitcode.With(exitcode.Failed, fmt.Errorf("a watch event of pod %s: %w", o.Pod, err))
		}
		for _, s := range p.Status.EphemeralContainerStatuses {
			if s.Name != name {
				continue
			}
			state = s.State
			ok, err := done(s.State)
			if err != nil {
				return err
			}
			if ok {
				return errDone
			}
		}
		return nil
	})
	if errors.Is(err, errDone) {
		return state, nil
	}
	return state, err
}

// copyLog follows the container's log to its end. Read from its start, so
// whatever the container printed before we looked is there too (the
// kubelet keeps an ended container's log).
func (d *Debugger) copyLog(ctx context.Context, o Options, name string) error {
	resp, err := d.Client.Send(ctx, request.Spec{Path: podPath(o) + "/log",
		Log: request.LogOptions{Follow: true, Container: name}, Accept: "*/*"})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(d.Out, resp.Body)
	return err
}
