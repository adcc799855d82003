package identity

import (
	"context"

	"github.com/kcurl/kcurl/pkg/apiclient"
)

// UserInfo is the server's view of the caller (SelfSubjectReview).
type UserInfo struct {
	Username string              `json:"username"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// WhoAmI asks the server who the caller is.
func WhoAmI(ctx context.Context, api *apiclient.Client) (*UserInfo, error) {
	var review struct {
		Status struct {
			UserInfo UserInfo `json:"userInfo"`
		} `json:"status"`
	}
	err := api.Create(ctx, "/apis/authentication.k8s.io/v1/selfsubjectreviews",
		map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}, &review)
	if err != nil {
		return nil, err
	}
	return &review.Status.UserInfo, nil
}

// ResourceAttributes is what can-i asks about a resource.
type ResourceAttributes struct {
	Namespace   string `json:"namespace,omitempty"`
	Verb        string `json:"verb"`
	Group       string `json:"group"`
	Resource    string `json:"resource"`
	Subresource string `json:"subresource,omitempty"`
	Name        string `json:"name,omitempty"`
}

// NonResourceAttributes is what can-i asks about a path such as /healthz.
type NonResourceAttributes struct {
	Path string `json:"path"`
	Verb string `json:"verb"`
}

// Decision is the server's answer to an access review.
type Decision struct {
	Allowed         bool   `json:"allowed"`
	Denied          bool   `json:"denied,omitempty"`
	Reason          string `json:"reason,omitempty"`
	EvaluationError string `json:"evaluationError,omitempty"`
}

// CanI asks whether the caller may do something (SelfSubjectAccessReview);
// exactly one of the attributes is set.
func CanI(ctx context.Context, api *apiclient.Client, resource *ResourceAttributes, nonResource *NonResourceAttributes) (*Decision, error) {
	spec := map[string]any{}
	if resource != nil {
		spec["resourceAttributes"] = resource
	} else {
		spec["nonResourceAttributes"] = nonResource
	}
	var review struct {
		Status Decision `json:"status"`
	}
	err := api.Create(ctx, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
		map[string]any{"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec}, &review)
	if err != nil {
		return nil, err
	}
	return &review.Status, nil
}

// Rules is what the caller may do in a namespace (SelfSubjectRulesReview).
type Rules struct {
	ResourceRules []struct {
		Verbs         []string `json:"verbs"`
		APIGroups     []string `json:"apiGroups,omitempty"`
		Resources     []string `json:"resources,omitempty"`
		ResourceNames []string `json:"resourceNames,omitempty"`
	} `json:"resourceRules"`
	NonResourceRules []struct {
		Verbs           []string `json:"verbs"`
		NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
	} `json:"nonResourceRules"`
	Incomplete      bool   `json:"incomplete"`
	EvaluationError string `json:"evaluationError,omitempty"`
}

// RulesIn asks for every rule that applies to the caller in namespace.
func RulesIn(ctx context.Context, api *apiclient.Client, namespace string) (*Rules, error) {
	var review struct {
		Status Rules `json:"status"`
	}
	err := api.Create(ctx, "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
		map[string]any{"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": map[string]string{"namespace": namespace}}, &review)
	if err != nil {
		return nil, err
	}
	return &review.Status, nil
}
