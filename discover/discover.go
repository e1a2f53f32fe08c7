// Package discover finds what already exists under the stack's natural
// keys, before anything is registered: read-only lookups behind two
// interfaces (AWSLookup, KubeLookup), their real implementations over the
// AWS SDK for Go v2 and client-go (aws.go, kube.go), and Nothing, the world
// of the mocks and the offline check. This is the only package that links
// the AWS SDK and client-go.
package discover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/irsa"
)

// AWSLookup reads existing AWS objects by their natural keys. A nil result
// with a nil error means "not found"; any other failure is an error, since
// guessing "absent" would let `up` fail half-way on a conflict.
type AWSLookup interface {
	Role(ctx context.Context, name string) (*FoundRole, error)
	Addon(ctx context.Context, cluster, name string) (*FoundAddon, error)
	Association(ctx context.Context, cluster, namespace, serviceAccount string) (*FoundAssociation, error)
	// ClusterAssociations lists every association of the cluster with its
	// role: a role the stack names may be used by associations it does not
	// declare, which its trust policy and its destroy would cut off.
	ClusterAssociations(ctx context.Context, cluster string) ([]*FoundAssociation, error)
}

// KubeLookup reads existing Kubernetes objects by namespace and name, with
// the same contract as AWSLookup.
type KubeLookup interface {
	Namespace(ctx context.Context, name string) (*FoundObject, error)
	ServiceAccount(ctx context.Context, namespace, name string) (*FoundObject, error)
	Pod(ctx context.Context, namespace, name string) (*FoundObject, error)
	// PodsOf lists the pods that run as a service account, with the
	// controllers that re-create them: the pods a move from IRSA must
	// restart.
	PodsOf(ctx context.Context, namespace, serviceAccount string) ([]irsa.Pod, error)
}

// Lookups are the two readers discovery uses: the real ones talk to AWS
// with the stack's AWS identity and to the cluster with the stack's
// kubeconfig (aws.go, kube.go); tests pass fakes.
type Lookups struct {
	AWS  AWSLookup
	Kube KubeLookup
}

// discoveryParallelism bounds the lookups in flight: one or a few per
// workload, each a round trip, so a stack with many workloads does not
// wait for them one after another, nor floods the APIs.
const discoveryParallelism = 8

// Discover looks up every object the stack would create under its natural
// key and reports what exists. Objects with names Pulumi generates
// (auto-named roles) cannot exist yet and are not looked up; policy
// attachments and inline policies are not either, because creating them
// over existing ones succeeds (AttachRolePolicy and PutRolePolicy are
// idempotent). Every failed lookup is reported, not only the first.
func Discover(ctx context.Context, l Lookups, want Want) (Existing, error) {
	found := Existing{
		Roles:              map[string]*FoundRole{},
		Associations:       map[string]*FoundAssociation{},
		ServiceAccounts:    map[string]*FoundObject{},
		Namespaces:         map[string]*FoundObject{},
		Pods:               map[string]*FoundObject{},
		ServiceAccountPods: map[string][]irsa.Pod{},
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
		sem  = make(chan struct{}, discoveryParallelism)
	)
	// lookup runs fn in the pool and records its error under what it was
	// looking for; fn stores its own result under mu.
	lookup := func(what string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := fn(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("look up %s: %w", what, err))
				mu.Unlock()
			}
		}()
	}
	store := func(fn func()) {
		mu.Lock()
		defer mu.Unlock()
		fn()
	}

	if want.Agent {
		lookup(fmt.Sprintf("EKS add-on %s on cluster %s", podidentity.AgentAddonName, want.Cluster), func() error {
			a, err := l.AWS.Addon(ctx, want.Cluster, podidentity.AgentAddonName)
			store(func() { found.Agent = a })
			return err
		})
	}
	if slices.ContainsFunc(want.Workloads, func(w podidentity.Workload) bool { return w.RoleName != "" }) {
		lookup("pod identity associations on cluster "+want.Cluster, func() error {
			as, err := l.AWS.ClusterAssociations(ctx, want.Cluster)
			store(func() { found.AllAssociations = as })
			return err
		})
	}
	seen := map[string]bool{}
	once := func(k string) bool {
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	for _, w := range want.Workloads {
		if w.RoleName != "" && once("role/"+w.RoleName) {
			lookup("IAM role "+w.RoleName, func() error {
				r, err := l.AWS.Role(ctx, w.RoleName)
				if r != nil {
					store(func() { found.Roles[w.RoleName] = r })
				}
				return err
			})
		}
		sa := w.Namespace + "/" + w.ServiceAccount
		lookup(fmt.Sprintf("pod identity association for %s on cluster %s", sa, want.Cluster), func() error {
			a, err := l.AWS.Association(ctx, want.Cluster, w.Namespace, w.ServiceAccount)
			if a != nil {
				store(func() { found.Associations[sa] = a })
			}
			return err
		})
		if w.CreateNamespace && once("ns/"+w.Namespace) {
			lookup("Namespace "+w.Namespace, func() error {
				o, err := l.Kube.Namespace(ctx, w.Namespace)
				if o != nil {
					store(func() { found.Namespaces[w.Namespace] = o })
				}
				return err
			})
		}
		if w.Irsa != nil {
			// The service account on IRSA, and who runs as it.
			lookup("ServiceAccount "+sa, func() error {
				o, err := l.Kube.ServiceAccount(ctx, w.Namespace, w.ServiceAccount)
				if o != nil {
					store(func() { found.ServiceAccounts[sa] = o })
				}
				return err
			})
			lookup("pods running as ServiceAccount "+sa, func() error {
				pods, err := l.Kube.PodsOf(ctx, w.Namespace, w.ServiceAccount)
				store(func() { found.ServiceAccountPods[sa] = pods })
				return err
			})
		}
		if !w.ExternalServiceAccount {
			lookup("ServiceAccount "+sa, func() error {
				o, err := l.Kube.ServiceAccount(ctx, w.Namespace, w.ServiceAccount)
				if o != nil {
					store(func() { found.ServiceAccounts[sa] = o })
				}
				return err
			})
		}
		if w.TestPod {
			pod := w.Namespace + "/" + w.TestPodName
			lookup("Pod "+pod, func() error {
				o, err := l.Kube.Pod(ctx, w.Namespace, w.TestPodName)
				if o != nil {
					store(func() { found.Pods[pod] = o })
				}
				return err
			})
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return Existing{}, fmt.Errorf("find what already exists before creating anything (nothing was created): %w", errors.Join(errs...))
	}
	return found, nil
}

// Want is what the stack declares, by natural key: what discovery looks for.
type Want struct {
	Cluster string
	// Component is the component's name, the app.kubernetes.io/instance label.
	Component string
	// Agent says whether the stack manages the eks-pod-identity-agent add-on.
	Agent bool
	// Image is the test pod's image.
	Image string
	// Workloads are the workloads with their defaults resolved, in config order.
	Workloads []podidentity.Workload
}

// WantFor derives what the stack declares from the component's arguments.
func WantFor(cluster, component string, args podidentity.Args) Want {
	w := Want{Cluster: cluster, Component: component, Agent: !args.Agent.Skip, Image: args.Image}
	if w.Image == "" {
		w.Image = podidentity.DefaultImage
	}
	partition := args.Partition
	if partition == "" {
		partition = podidentity.DefaultPartition
	}
	for _, raw := range args.Workloads {
		w.Workloads = append(w.Workloads, raw.Resolved(partition))
	}
	return w
}

// Existing is what discovery found under the stack's natural keys; a key
// absent from a map (or a nil Agent) was not found.
type Existing struct {
	Agent *FoundAddon
	// Roles by role name.
	Roles map[string]*FoundRole
	// Associations by "namespace/serviceAccount".
	Associations map[string]*FoundAssociation
	// AllAssociations are all of the cluster's associations, listed when a
	// workload names its role (an auto-named role is new, so nothing else
	// can use it yet).
	AllAssociations []*FoundAssociation
	// ServiceAccounts and Pods by "namespace/name", Namespaces by name.
	ServiceAccounts map[string]*FoundObject
	Namespaces      map[string]*FoundObject
	Pods            map[string]*FoundObject
	// ServiceAccountPods lists, by "namespace/serviceAccount", the pods
	// running as a service account that moves from IRSA (Workload.Irsa).
	ServiceAccountPods map[string][]irsa.Pod
}

// FoundAddon is an EKS add-on as DescribeAddon reports it.
type FoundAddon struct {
	Tags map[string]string
}

// FoundRole is an IAM role as GetRole reports it.
type FoundRole struct {
	Name, Path, Arn string
	Tags            map[string]string
	// Trust is the role's trust policy document, URL-decoded.
	Trust string
	// PermissionsBoundary (its ARN), MaxSessionDuration (seconds) and
	// Description are what taking the role over must not change.
	PermissionsBoundary string
	MaxSessionDuration  int
	Description         string
}

// FoundAssociation is a Pod Identity Association as
// DescribePodIdentityAssociation reports it.
type FoundAssociation struct {
	ID, RoleArn string
	// Namespace and ServiceAccount are set in AllAssociations.
	Namespace, ServiceAccount string
	// OwnerArn is set when an add-on owns the association.
	OwnerArn string
	Tags     map[string]string
}

// FoundObject is a Kubernetes object: its labels and, for a pod, the spec
// fields the test pod sets and its phase.
type FoundObject struct {
	Labels      map[string]string
	Annotations map[string]string
	// AnnotationManagers are, by annotation key, the field managers that own
	// it (metadata.managedFields): server-side apply removes a field only
	// when its last owner leaves it out.
	AnnotationManagers map[string][]string
	Pod                *PodSpec
	// Phase is a pod's status.phase (Pending, Running, Succeeded, Failed,
	// Unknown).
	Phase string
}

// PodSpec is the part of a pod's (immutable) spec the test pod declares.
// Unset booleans and numbers are nil.
type PodSpec struct {
	ServiceAccountName           string
	RestartPolicy                string
	AutomountServiceAccountToken *bool
	// The pod's securityContext.
	RunAsNonRoot          *bool
	RunAsUser, RunAsGroup *int64
	SeccompProfile        string
	// EmptyDirs names the pod's emptyDir volumes.
	EmptyDirs  []string
	Containers []Container
}

// Container is one container of a PodSpec.
type Container struct {
	Name, Image   string
	Command, Args []string
	// Env holds the variables with a literal value.
	Env map[string]string
	// Mounts maps a mount path to its volume's name.
	Mounts map[string]string
	// The container's securityContext.
	AllowPrivilegeEscalation, ReadOnlyRootFilesystem *bool
	DropCapabilities                                 []string
}

// Nothing is the world under mocks and in the offline check: every lookup
// finds nothing.
type Nothing struct{}

func (Nothing) Role(context.Context, string) (*FoundRole, error)           { return nil, nil }
func (Nothing) Addon(context.Context, string, string) (*FoundAddon, error) { return nil, nil }
func (Nothing) Association(context.Context, string, string, string) (*FoundAssociation, error) {
	return nil, nil
}
func (Nothing) ClusterAssociations(context.Context, string) ([]*FoundAssociation, error) {
	return nil, nil
}
func (Nothing) Namespace(context.Context, string) (*FoundObject, error) { return nil, nil }
func (Nothing) ServiceAccount(context.Context, string, string) (*FoundObject, error) {
	return nil, nil
}
func (Nothing) Pod(context.Context, string, string) (*FoundObject, error) { return nil, nil }
func (Nothing) PodsOf(context.Context, string, string) ([]irsa.Pod, error) {
	return nil, nil
}
