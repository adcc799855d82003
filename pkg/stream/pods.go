package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kcurl/kcurl/pkg/apiclient"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/request"
	"github.com/kcurl/kcurl/pkg/transport"
)

// DefaultContainerAnnotation names the container kubectl picks when none
// is given (KEP-2227).
const DefaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// Pod is the part of a Pod the streaming commands read.
type Pod struct {
	Metadata struct {
		Name              string            `json:"name"`
		Namespace         string            `json:"namespace"`
		UID               string            `json:"uid"`
		DeletionTimestamp string            `json:"deletionTimestamp"`
		Annotations       map[string]string `json:"annotations"`
		CreationTimestamp string            `json:"creationTimestamp"`
	} `json:"metadata"`
	Spec struct {
		Containers          []Container `json:"containers"`
		InitContainers      []Container `json:"initContainers"`
		EphemeralContainers []Container `json:"ephemeralContainers"`
		NodeName            string      `json:"nodeName"`
	} `json:"spec"`
	Status struct {
		Phase      string `json:"phase"`
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"conditions"`
		ContainerStatuses []struct {
			State struct {
				Waiting *struct {
					Reason string `json:"reason"`
				} `json:"waiting"`
			} `json:"state"`
		} `json:"containerStatuses"`
	} `json:"status"`
}

// Container is a container's name, ports, and whether it has a terminal.
type Container struct {
	Name  string `json:"name"`
	TTY   bool   `json:"tty"`
	Ports []struct {
		Name          string `json:"name"`
		ContainerPort int32  `json:"containerPort"`
		Protocol      string `json:"protocol"`
	} `json:"ports"`
}

// Running: exec, attach and port-forward need a Pod whose containers run.
func (p *Pod) Running() bool { return p.Status.Phase == "Running" }

func (p *Pod) ready() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// Path is the Pod's API path, with a subresource (exec, attach,
// portforward) when one is given.
func (p *Pod) Path(subresource string) string {
	path := "/api/v1/namespaces/" + url.PathEscape(p.Metadata.Namespace) + "/pods/" + url.PathEscape(p.Metadata.Name)
	if subresource != "" {
		path += "/" + subresource
	}
	return path
}

// Container picks the container as kubectl does: the one named, else the
// default-container annotation's, else the first, saying so on notices
// ("Defaulted container …") when the Pod has others.
func (p *Pod) Container(name string, notices io.Writer) (string, error) {
	if len(p.Spec.Containers) == 0 {
		return "", fmt.Errorf("pod %s/%s does not have any containers", p.Metadata.Namespace, p.Metadata.Name)
	}
	if name == "" {
		name = p.Metadata.Annotations[DefaultContainerAnnotation]
	}
	if name != "" {
		if c, _ := p.find(name); c != nil {
			return name, nil
		}
		return "", exitcode.Targetf("container %s is not valid for pod %s out of: %s", name, p.Metadata.Name, p.containerNames())
	}
	first := p.Spec.Containers[0].Name
	if notices != nil && (len(p.Spec.Containers) > 1 || len(p.Spec.InitContainers) > 0 || len(p.Spec.EphemeralContainers) > 0) {
		fmt.Fprintf(notices, "Defaulted container %q out of: %s\n", first, p.containerNames())
	}
	return first, nil
}

// find is the container named, of any kind, and whether it is one of the
// Pod's ephemeral containers (kubectl debug's); nil when there is none.
func (p *Pod) find(name string) (c *Container, ephemeral bool) {
	for i, list := range [][]Container{p.Spec.Containers, p.Spec.InitContainers, p.Spec.EphemeralContainers} {
		for j := range list {
			if list[j].Name == name {
				return &list[j], i == 2
			}
		}
	}
	return nil, false
}

// HasTTY: the container named has a terminal (tty: true).
func (p *Pod) HasTTY(name string) bool {
	c, _ := p.find(name)
	return c != nil && c.TTY
}

// IsEphemeral says whether the container named is one of the Pod's
// ephemeral containers.
func (p *Pod) IsEphemeral(name string) bool {
	_, ephemeral := p.find(name)
	return ephemeral
}

// containerNames lists them as kubectl does.
func (p *Pod) containerNames() string {
	var names []string
	for _, c := range p.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range p.Spec.EphemeralContainers {
		names = append(names, c.Name+" (ephem)")
	}
	for _, c := range p.Spec.InitContainers {
		names = append(names, c.Name+" (init)")
	}
	return strings.Join(names, ", ")
}

// NamedPort finds a container port by name, as port-forward accepts them.
func (p *Pod) NamedPort(name string) (int32, bool) {
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if port.Name == name && (port.Protocol == "" || port.Protocol == "TCP") {
				return port.ContainerPort, true
			}
		}
	}
	return 0, false
}

// workloads are the RESOURCE forms that name Pods through a selector, as
// kubectl's attachable-pod lookup takes them: their API path (under the
// namespace) by every name kubectl's REST mapper accepts for them: the
// short names, the singular, the plural and the Kind, each also followed
// by .GROUP and .VERSION.GROUP (deploy.apps, deployments.v1.apps).
var workloads = map[string]string{}

func init() {
	for _, r := range []struct {
		group, plural, singular, kind string
		short                         []string
	}{
		{"", "services", "service", "Service", []string{"svc"}},
		{"", "replicationcontrollers", "replicationcontroller", "ReplicationController", []string{"rc"}},
		{"apps", "deployments", "deployment", "Deployment", []string{"deploy"}},
		{"apps", "replicasets", "replicaset", "ReplicaSet", []string{"rs"}},
		{"apps", "statefulsets", "statefulset", "StatefulSet", []string{"sts"}},
		{"apps", "daemonsets", "daemonset", "DaemonSet", []string{"ds"}},
		{"batch", "jobs", "job", "Job", nil},
	} {
		path, suffixes := "/api/v1/namespaces/%s/"+r.plural+"/%s", []string{""}
		if r.group != "" {
			path = "/apis/" + r.group + "/v1/namespaces/%s/" + r.plural + "/%s"
			suffixes = append(suffixes, "."+r.group, ".v1."+r.group)
		}
		for _, n := range append(r.short, r.singular, r.plural, r.kind) {
			for _, suffix := range suffixes {
				workloads[n+suffix] = path
			}
		}
	}
}

// Ref is what the user named: a Pod (NAME, pod/NAME) or a workload
// (deploy/NAME, svc/NAME, …) one of whose Pods is meant.
type Ref struct {
	Kind, Name string // Kind "" is a Pod
}

// workloadForms are the forms the errors of ParseRef list.
const workloadForms = "deploy/NAME, rs/NAME, sts/NAME, ds/NAME, job/NAME, rc/NAME, svc/NAME"

// ParseRef reads POD, pod/NAME, po/NAME, or one of the workload forms.
func ParseRef(arg string) (Ref, error) {
	kind, name, ok := strings.Cut(arg, "/")
	if !ok {
		kind, name = "", arg
	}
	switch {
	case name == "" || strings.Contains(name, "/"):
		return Ref{}, exitcode.Usagef("%q is not a Pod: give NAME, pod/NAME, or a workload: %s", arg, workloadForms)
	case kind == "" || kind == "po" || kind == "pod" || kind == "pods" || kind == "Pod":
		return Ref{Name: name}, nil
	case workloads[kind] != "":
		return Ref{Kind: kind, Name: name}, nil
	}
	return Ref{}, exitcode.Usagef("cannot find a Pod of %q: kcurl knows pod/NAME and the workloads %s, by kubectl's other names for them too (deployments.apps/NAME, …)", arg, workloadForms)
}

// Pods finds Pods for the streaming commands.
type Pods struct {
	Client    *apiclient.Client
	Namespace string
}

// Get reads one Pod.
func (p Pods) Get(ctx context.Context, name string) (*Pod, error) {
	var pod Pod
	path := fmt.Sprintf("/api/v1/namespaces/%s/pods/%s", url.PathEscape(p.Namespace), url.PathEscape(name))
	if err := p.read(ctx, request.Spec{Path: path, Accept: "application/json"}, &pod); err != nil {
		return nil, err
	}
	return &pod, nil
}

// Gone says why pod is no longer there to stream to: deleted, replaced by
// another of its name, being deleted, or no longer running; nil while it
// runs, or when it cannot be read (that says nothing of the Pod).
func (p Pods) Gone(ctx context.Context, pod *Pod) error {
	now, err := p.Get(ctx, pod.Metadata.Name)
	var status *transport.StatusError
	switch {
	case errors.As(err, &status) && status.Code == http.StatusNotFound:
		return fmt.Errorf("pod %s was deleted", pod.Metadata.Name)
	case err != nil:
		return nil
	case now.Metadata.UID != pod.Metadata.UID:
		return fmt.Errorf("pod %s was deleted, and another took its name", pod.Metadata.Name)
	case now.Metadata.DeletionTimestamp != "":
		return fmt.Errorf("pod %s is being deleted", pod.Metadata.Name)
	case !now.Running():
		return fmt.Errorf("pod %s is %s", pod.Metadata.Name, now.Status.Phase)
	}
	return nil
}

// Find resolves ref to one Pod: the Pod itself, or the most active Pod the
// workload's selector matches (ready and running first, then the oldest),
// as kubectl does. When none of the workload's Pods has started (there is
// none yet, or each is Pending), it waits up to wait for one to
// (startedPod). The workload's object is returned too (a Service's ports
// map the ports to forward).
func (p Pods) Find(ctx context.Context, ref Ref, wait time.Duration) (*Pod, *Workload, error) {
	if ref.Kind == "" {
		pod, err := p.Get(ctx, ref.Name)
		return pod, nil, err
	}
	var w Workload
	path := fmt.Sprintf(workloads[ref.Kind], url.PathEscape(p.Namespace), url.PathEscape(ref.Name))
	if err := p.read(ctx, request.Spec{Path: path, Accept: "application/json"}, &w); err != nil {
		return nil, nil, err
	}
	selector, err := w.selector()
	if err != nil {
		return nil, nil, exitcode.With(exitcode.Failed, fmt.Errorf("%s/%s: %w", ref.Kind, ref.Name, err))
	}
	pod, err := p.startedPod(ctx, ref, selector, wait)
	if err != nil {
		return nil, nil, err
	}
	return pod, &w, nil
}

func moreActive(a, b *Pod) bool {
	rank := func(p *Pod) int {
		r := 0
		if p.Spec.NodeName != "" {
			r++
		}
		switch p.Status.Phase {
		case "Running":
			r += 4
		case "Unknown":
			r += 2
		}
		if p.ready() {
			r += 8
		}
		return r
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra > rb
	}
	return a.Metadata.CreationTimestamp < b.Metadata.CreationTimestamp
}

func (p Pods) read(ctx context.Context, spec request.Spec, out any) error {
	resp, err := p.Client.Send(ctx, spec)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return apiclient.DecodeJSON(resp.Body, out)
}

// Workload is the part of a Deployment, StatefulSet, …, or Service that
// leads to its Pods.
type Workload struct {
	Kind string `json:"kind"`
	Spec struct {
		// Selector is a map for a Service or a ReplicationController,
		// the others' a LabelSelector.
		Selector json.RawMessage `json:"selector"`
		Ports    []ServicePort   `json:"ports"`
	} `json:"spec"`
}

// ServicePort maps a Service's port to its Pods' port.
type ServicePort struct {
	Name       string          `json:"name"`
	Port       int32           `json:"port"`
	Protocol   string          `json:"protocol"`
	TargetPort json.RawMessage `json:"targetPort"` // a number or a port name
}

func (w *Workload) selector() (string, error) {
	if len(w.Spec.Selector) == 0 || string(w.Spec.Selector) == "null" {
		return "", fmt.Errorf("it has no selector")
	}
	if w.Kind == "Service" || w.Kind == "ReplicationController" {
		// A plain map of labels, not a LabelSelector.
		var m map[string]string
		if err := json.Unmarshal(w.Spec.Selector, &m); err != nil {
			return "", err
		}
		if len(m) == 0 {
			// Empty, it would select every Pod of the namespace (kubectl
			// refuses it too).
			return "", fmt.Errorf("it has no selector")
		}
		return labels(m), nil
	}
	var ls struct {
		MatchLabels      map[string]string `json:"matchLabels"`
		MatchExpressions []struct {
			Key      string   `json:"key"`
			Operator string   `json:"operator"`
			Values   []string `json:"values"`
		} `json:"matchExpressions"`
	}
	if err := json.Unmarshal(w.Spec.Selector, &ls); err != nil {
		return "", err
	}
	parts := []string{}
	if s := labels(ls.MatchLabels); s != "" {
		parts = append(parts, s)
	}
	for _, e := range ls.MatchExpressions {
		switch e.Operator {
		case "In", "NotIn":
			parts = append(parts, fmt.Sprintf("%s %s (%s)", e.Key, strings.ToLower(e.Operator), strings.Join(e.Values, ",")))
		case "Exists":
			parts = append(parts, e.Key)
		case "DoesNotExist":
			parts = append(parts, "!"+e.Key)
		}
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("its selector is empty")
	}
	return strings.Join(parts, ","), nil
}

func labels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// NamedPort finds a Service's port by name (port-forward svc/NAME
// accepts them, as kubectl's does).
func (w *Workload) NamedPort(name string) (int32, bool) {
	for _, sp := range w.Spec.Ports {
		if sp.Name == name && (sp.Protocol == "" || sp.Protocol == "TCP") {
			return sp.Port, true
		}
	}
	return 0, false
}

// TargetPort is the Pod port behind a Service's port (kubectl
// port-forward svc/NAME PORT forwards to it); a Service without that port
// is an error, as in kubectl.
func (w *Workload) TargetPort(port int32, pod *Pod) (int32, error) {
	for _, sp := range w.Spec.Ports {
		if sp.Port != port || (sp.Protocol != "" && sp.Protocol != "TCP") {
			continue
		}
		raw := strings.TrimSpace(string(sp.TargetPort))
		if raw == "" || raw == "null" {
			return port, nil
		}
		if n, err := strconv.ParseInt(raw, 10, 32); err == nil {
			return int32(n), nil
		}
		var name string
		if err := json.Unmarshal(sp.TargetPort, &name); err == nil {
			if n, err := strconv.ParseInt(name, 10, 32); err == nil {
				return int32(n), nil
			}
			if n, ok := pod.NamedPort(name); ok {
				return n, nil
			}
			return 0, exitcode.Targetf("the Service's port %d targets port %q, which Pod %s does not name", port, name, pod.Metadata.Name)
		}
	}
	return 0, exitcode.Targetf("the Service has no TCP port %d", port)
}
