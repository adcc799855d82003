package debug

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/kcurl/kcurl/pkg/identity"
	"github.com/kcurl/kcurl/pkg/transport"
)

// The rights kcurl debug needs on the Pod, in the order it uses them.
var rights = []identity.ResourceAttributes{
	{Verb: "get", Resource: "pods"},
	{Verb: "patch", Resource: "pods", Subresource: "ephemeralcontainers"},
	{Verb: "watch", Resource: "pods"},
	{Verb: "get", Resource: "pods", Subresource: "log"},
}

// checkAccess asks the server (SelfSubjectAccessReview) whether every
// right is there, so that a missing one is found before anything is
// created, and says it as the server would have (403, exit 4). When the
// reviews themselves are refused, the requests' own 403s will say it.
func (d *Debugger) checkAccess(ctx context.Context, o Options) error {
	for _, r := range rights {
		r.Namespace, r.Name = o.Namespace, o.Pod
		decision, err := identity.CanI(ctx, d.Client, &r, nil)
		var status *transport.StatusError
		if errors.As(err, &status) && (status.Code == http.StatusForbidden || status.Code == http.StatusNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !decision.Allowed {
			return d.forbidden(ctx, r)
		}
	}
	return nil
}

// forbidden is the 403 the server would send for r, with the user the
// server knows us as (SelfSubjectReview), as RBAC words it.
func (d *Debugger) forbidden(ctx context.Context, r identity.ResourceAttributes) error {
	user := "you"
	if info, err := identity.WhoAmI(ctx, d.Client); err == nil && info.Username != "" {
		user = fmt.Sprintf("User %q", info.Username)
	}
	resource := r.Resource
	if r.Subresource != "" {
		resource += "/" + r.Subresource
	}
	return &transport.StatusError{Code: http.StatusForbidden, Reason: "Forbidden", Message: fmt.Sprintf(
		"pods %q is forbidden: %s cannot %s resource %q in API group %q in the namespace %q (kcurl debug needs get and watch pods, patch pods/ephemeralcontainers, get pods/log)",
		r.Name, user, r.Verb, resource, r.Group, r.Namespace)}
}
