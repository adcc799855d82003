package debug

import (
	"strings"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// The parts of a Pod that kcurl debug reads and writes, as the API spells
// them (k8s.io/api/core/v1 would weigh on the binary for a dozen fields).

type pod struct {
	Metadata struct {
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Containers          []container          `json:"containers"`
		InitContainers      []container          `json:"initContainers"`
		EphemeralContainers []ephemeralContainer `json:"ephemeralContainers"`
		SecurityContext     *securityContext     `json:"securityContext"`
	} `json:"spec"`
	Status struct {
		Phase                      string            `json:"phase"`
		EphemeralContainerStatuses []containerStatus `json:"ephemeralContainerStatuses"`
	} `json:"status"`
}

type container struct {
	Name            string           `json:"name"`
	VolumeMounts    []volumeMount    `json:"volumeMounts"`
	SecurityContext *securityContext `json:"securityContext"`
}

type ephemeralContainer struct {
	Name                     string           `json:"name"`
	Image                    string           `json:"image,omitempty"`
	ImagePullPolicy          string           `json:"imagePullPolicy,omitempty"`
	Command                  []string         `json:"command,omitempty"`
	Args                     []string         `json:"args,omitempty"`
	TargetContainerName      string           `json:"targetContainerName,omitempty"`
	TerminationMessagePolicy string           `json:"terminationMessagePolicy,omitempty"`
	VolumeMounts             []volumeMount    `json:"volumeMounts,omitempty"`
	SecurityContext          *securityContext `json:"securityContext,omitempty"`
}

type volumeMount struct {
	Name        string `json:"name"`
	MountPath   string `json:"mountPath"`
	ReadOnly    bool   `json:"readOnly,omitempty"`
	SubPath     string `json:"subPath,omitempty"`
	SubPathExpr string `json:"subPathExpr,omitempty"`
}

type securityContext struct {
	RunAsUser                *int64          `json:"runAsUser,omitempty"`
	RunAsGroup               *int64          `json:"runAsGroup,omitempty"`
	RunAsNonRoot             *bool           `json:"runAsNonRoot,omitempty"`
	AllowPrivilegeEscalation *bool           `json:"allowPrivilegeEscalation,omitempty"`
	ReadOnlyRootFilesystem   *bool           `json:"readOnlyRootFilesystem,omitempty"`
	Capabilities             *capabilities   `json:"capabilities,omitempty"`
	SeccompProfile           *seccompProfile `json:"seccompProfile,omitempty"`
}

type capabilities struct {
	Drop []string `json:"drop,omitempty"`
}

type seccompProfile struct {
	Type string `json:"type"`
}

type containerStatus struct {
	Name  string         `json:"name"`
	State containerState `json:"state"`
}

type containerState struct {
	Waiting *struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"waiting"`
	Running *struct {
		StartedAt string `json:"startedAt"`
	} `json:"running"`
	Terminated *struct {
		ExitCode int    `json:"exitCode"`
		Reason   string `json:"reason"`
		Message  string `json:"message"`
	} `json:"terminated"`
}

// defaultContainerAnnotation names the container kubectl picks when none
// is given.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// target is the container named (a container or a sidecar among the init
// containers), or, with no name, the Pod's default one: the annotation's,
// else the first.
func (p *pod) target(podName, name string) (*container, error) {
	if name == "" {
		name = p.Metadata.Annotations[defaultContainerAnnotation]
		if name == "" && len(p.Spec.Containers) > 0 {
			name = p.Spec.Containers[0].Name
		}
	}
	for _, list := range [][]container{p.Spec.Containers, p.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i], nil
			}
		}
	}
	return nil, exitcode.Targetf("pod %s has no container %q: choose --target from %s", podName, name, strings.Join(p.names(), ", "))
}

// names are the containers a target may be.
func (p *pod) names() []string {
	var names []string
	for _, list := range [][]container{p.Spec.Containers, p.Spec.InitContainers} {
		for _, c := range list {
			names = append(names, c.Name)
		}
	}
	return names
}

// allNames are every container's, the ephemeral ones included: a new
// container's name must be none of them.
func (p *pod) allNames() []string {
	names := p.names()
	for _, c := range p.Spec.EphemeralContainers {
		names = append(names, c.Name)
	}
	return names
}
