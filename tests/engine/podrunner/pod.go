// Package podrunner is TEST EQUIPMENT for the engine tier: the node the
// loopback cluster lacks, for the pods of this project's stacks. kwok fakes
// a node by setting pod status; this package adds what a real node and EKS
// do to a pod that uses EKS Pod Identity:
//
//   - Webhook: a mutating admission webhook, registered with the apiserver,
//     that injects what EKS's Pod Identity webhook injects (environment,
//     projected token volume and mount) into every container of a pod whose
//     service account has an association when the pod is admitted; a pod
//     admitted before the association exists gets nothing, as on EKS.
//   - Runner: for each pod labelled app.kubernetes.io/part-of=eks-pod-identity
//     (the verification Jobs' pods and the test pod), what the kubelet does
//     with it: projects the service account tokens its volumes ask for,
//     builds the container's environment, and, for a Job's pod, runs the
//     container's command on this machine and reports the pod's phase and
//     the container's exit code from it (kwok's automatic completion is
//     turned off for these pods, tests/engine/cluster/stages). Output goes to
//     a CRI-format log that kwok serves to `kubectl logs`; the same
//     environment is registered with kwok for `kubectl exec`.
//
// Containers do not exist here: commands run as host processes, with the
// host's tools (the AWS CLI v1 that this machine has, not the image's v2).
// Two node facts are mapped instead of mounted or routed, and only those: a
// volume's mountPath in an environment value becomes the host directory
// holding that volume, and the agent's link-local address
// (http://169.254.170.23) becomes the loopback address the agent stand-in
// (../agent) listens on. AWS endpoints resolve to moto via AWS_ENDPOINT_URL.
package podrunner

import "encoding/json"

// The subset of core/v1 the runner and webhook read.

// Pod is a core/v1 Pod.
type Pod struct {
	APIVersion string    `json:"apiVersion,omitempty"`
	Kind       string    `json:"kind,omitempty"`
	Metadata   Meta      `json:"metadata"`
	Spec       PodSpec   `json:"spec"`
	Status     PodStatus `json:"status"`
}

// Meta is an ObjectMeta.
type Meta struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace,omitempty"`
	UID               string            `json:"uid,omitempty"`
	ResourceVersion   string            `json:"resourceVersion,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	OwnerReferences   []OwnerReference  `json:"ownerReferences,omitempty"`
	DeletionTimestamp *string           `json:"deletionTimestamp,omitempty"`
}

// OwnerReference names an object's owner.
type OwnerReference struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	UID        string `json:"uid"`
}

// PodSpec is the part of a pod spec the runner uses.
type PodSpec struct {
	NodeName                      string      `json:"nodeName,omitempty"`
	ServiceAccountName            string      `json:"serviceAccountName,omitempty"`
	RestartPolicy                 string      `json:"restartPolicy,omitempty"`
	TerminationGracePeriodSeconds *int64      `json:"terminationGracePeriodSeconds,omitempty"`
	Containers                    []Container `json:"containers"`
	InitContainers                []Container `json:"initContainers,omitempty"`
	Volumes                       []Volume    `json:"volumes,omitempty"`
}

// Container is the part of a container spec the runner uses.
type Container struct {
	Name                     string        `json:"name"`
	Image                    string        `json:"image,omitempty"`
	Command                  []string      `json:"command,omitempty"`
	Args                     []string      `json:"args,omitempty"`
	WorkingDir               string        `json:"workingDir,omitempty"`
	Env                      []EnvVar      `json:"env,omitempty"`
	VolumeMounts             []VolumeMount `json:"volumeMounts,omitempty"`
	TerminationMessagePolicy string        `json:"terminationMessagePolicy,omitempty"`
}

// EnvVar is a container environment variable; ValueFrom is kept raw and
// resolved for the fieldRefs the runner supports.
type EnvVar struct {
	Name      string          `json:"name"`
	Value     string          `json:"value,omitempty"`
	ValueFrom json.RawMessage `json:"valueFrom,omitempty"`
}

// VolumeMount mounts a volume into a container.
type VolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}

// Volume is a pod volume; only projected volumes are materialized.
type Volume struct {
	Name      string     `json:"name"`
	Projected *Projected `json:"projected,omitempty"`
	// EmptyDir is set (to {}) for an emptyDir volume: the test pod's and
	// the verification Job's writable HOME.
	EmptyDir *struct{} `json:"emptyDir,omitempty"`
}

// Projected is a projected volume.
type Projected struct {
	DefaultMode *int32             `json:"defaultMode,omitempty"`
	Sources     []ProjectedSources `json:"sources"`
}

// ProjectedSources is one source of a projected volume.
type ProjectedSources struct {
	ServiceAccountToken *ServiceAccountTokenProjection `json:"serviceAccountToken,omitempty"`
}

// ServiceAccountTokenProjection asks the kubelet for a token.
type ServiceAccountTokenProjection struct {
	Audience          string `json:"audience,omitempty"`
	ExpirationSeconds *int64 `json:"expirationSeconds,omitempty"`
	Path              string `json:"path"`
}

// PodStatus is the part of a pod status the runner reads.
type PodStatus struct {
	Phase string `json:"phase,omitempty"`
}

// ownedByJob tells whether a Job controls the pod.
func (p *Pod) ownedByJob() bool {
	for _, o := range p.Metadata.OwnerReferences {
		if o.Kind == "Job" {
			return true
		}
	}
	return false
}

func (p *Pod) serviceAccount() string {
	if p.Spec.ServiceAccountName == "" {
		return "default"
	}
	return p.Spec.ServiceAccountName
}
