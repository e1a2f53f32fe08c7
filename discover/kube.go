package discover

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/platform-eng/eks-pod-identity/irsa"
	"github.com/platform-eng/eks-pod-identity/stackconfig"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// KubeAPILookup is the KubeLookup over the Kubernetes API, with the same
// kubeconfig and context as the stack's Kubernetes provider (so the same
// cluster and credentials, `aws eks get-token` included). It issues plain
// GETs through client-go's authenticated transport and decodes only the
// fields discovery needs.
type KubeAPILookup struct {
	host   string
	client *http.Client
}

// NewKubeAPILookup builds the lookup from a kubeconfig's content or path and
// an optional context, as the Kubernetes provider reads them.
func NewKubeAPILookup(kubeconfig, kubeContext string) (*KubeAPILookup, error) {
	content := []byte(kubeconfig)
	if !stackconfig.LooksLikeKubeconfigContent(kubeconfig) {
		b, err := os.ReadFile(kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("read kubeconfig: %w", stackconfig.PathErrorCause(err))
		}
		content = b
	}
	raw, err := clientcmd.Load(content)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &KubeAPILookup{host: cfg.Host, client: client}, nil
}

// kubeObject is the part of an object discovery decodes.
type kubeObject struct {
	// Kind is set in a list's items (Recorded).
	Kind     string `json:"kind"`
	Metadata struct {
		Name          string            `json:"name"`
		Namespace     string            `json:"namespace"`
		Labels        map[string]string `json:"labels"`
		Annotations   map[string]string `json:"annotations"`
		ManagedFields []struct {
			Manager  string          `json:"manager"`
			FieldsV1 json.RawMessage `json:"fieldsV1"`
		} `json:"managedFields"`
	} `json:"metadata"`
	Spec struct {
		ServiceAccountName           string `json:"serviceAccountName"`
		RestartPolicy                string `json:"restartPolicy"`
		AutomountServiceAccountToken *bool  `json:"automountServiceAccountToken"`
		SecurityContext              struct {
			RunAsNonRoot   *bool  `json:"runAsNonRoot"`
			RunAsUser      *int64 `json:"runAsUser"`
			RunAsGroup     *int64 `json:"runAsGroup"`
			SeccompProfile struct {
				Type string `json:"type"`
			} `json:"seccompProfile"`
		} `json:"securityContext"`
		Volumes []struct {
			Name     string          `json:"name"`
			EmptyDir json.RawMessage `json:"emptyDir"`
		} `json:"volumes"`
		Containers []struct {
			Name    string   `json:"name"`
			Image   string   `json:"image"`
			Command []string `json:"command"`
			Args    []string `json:"args"`
			Env     []struct {
				Name      string          `json:"name"`
				Value     string          `json:"value"`
				ValueFrom json.RawMessage `json:"valueFrom"`
			} `json:"env"`
			VolumeMounts []struct {
				Name      string `json:"name"`
				MountPath string `json:"mountPath"`
			} `json:"volumeMounts"`
			SecurityContext struct {
				AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
				ReadOnlyRootFilesystem   *bool `json:"readOnlyRootFilesystem"`
				Capabilities             struct {
					Drop []string `json:"drop"`
				} `json:"capabilities"`
			} `json:"securityContext"`
		} `json:"containers"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
	} `json:"status"`
}

func (l *KubeAPILookup) get(ctx context.Context, path string) (*kubeObject, error) {
	var o kubeObject
	found, err := l.getJSON(ctx, path, &o)
	if !found || err != nil {
		return nil, err
	}
	return &o, nil
}

// Namespace reads a namespace (get namespaces).
func (l *KubeAPILookup) Namespace(ctx context.Context, name string) (*FoundObject, error) {
	o, err := l.get(ctx, "/api/v1/namespaces/"+url.PathEscape(name))
	if o == nil || err != nil {
		return nil, err
	}
	return o.object(), nil
}

// ServiceAccount reads a service account (get serviceaccounts).
func (l *KubeAPILookup) ServiceAccount(ctx context.Context, namespace, name string) (*FoundObject, error) {
	o, err := l.get(ctx, "/api/v1/namespaces/"+url.PathEscape(namespace)+"/serviceaccounts/"+url.PathEscape(name))
	if o == nil || err != nil {
		return nil, err
	}
	return o.object(), nil
}

// Pod reads a pod and its spec (get pods).
func (l *KubeAPILookup) Pod(ctx context.Context, namespace, name string) (*FoundObject, error) {
	o, err := l.get(ctx, "/api/v1/namespaces/"+url.PathEscape(namespace)+"/pods/"+url.PathEscape(name))
	if o == nil || err != nil {
		return nil, err
	}
	return o.pod(), nil
}

// object is what discovery keeps of any object: its metadata.
func (o *kubeObject) object() *FoundObject {
	f := &FoundObject{Labels: o.Metadata.Labels, Annotations: o.Metadata.Annotations}
	for _, m := range o.Metadata.ManagedFields {
		var fields struct {
			Metadata struct {
				Annotations map[string]json.RawMessage `json:"f:annotations"`
			} `json:"f:metadata"`
		}
		if json.Unmarshal(m.FieldsV1, &fields) != nil {
			continue
		}
		for k := range fields.Metadata.Annotations {
			if key, ok := strings.CutPrefix(k, "f:"); ok {
				if f.AnnotationManagers == nil {
					f.AnnotationManagers = map[string][]string{}
				}
				f.AnnotationManagers[key] = append(f.AnnotationManagers[key], m.Manager)
			}
		}
	}
	return f
}

// pod is the pod's labels, the spec fields discovery compares and its phase.
func (o *kubeObject) pod() *FoundObject {
	sc := o.Spec.SecurityContext
	spec := &PodSpec{ServiceAccountName: o.Spec.ServiceAccountName, RestartPolicy: o.Spec.RestartPolicy,
		AutomountServiceAccountToken: o.Spec.AutomountServiceAccountToken,
		RunAsNonRoot:                 sc.RunAsNonRoot, RunAsUser: sc.RunAsUser, RunAsGroup: sc.RunAsGroup,
		SeccompProfile: sc.SeccompProfile.Type}
	for _, v := range o.Spec.Volumes {
		if len(v.EmptyDir) > 0 && string(v.EmptyDir) != "null" {
			spec.EmptyDirs = append(spec.EmptyDirs, v.Name)
		}
	}
	for _, c := range o.Spec.Containers {
		pc := Container{Name: c.Name, Image: c.Image, Command: c.Command, Args: c.Args,
			AllowPrivilegeEscalation: c.SecurityContext.AllowPrivilegeEscalation,
			ReadOnlyRootFilesystem:   c.SecurityContext.ReadOnlyRootFilesystem,
			DropCapabilities:         c.SecurityContext.Capabilities.Drop}
		for _, e := range c.Env {
			if len(e.ValueFrom) == 0 {
				if pc.Env == nil {
					pc.Env = map[string]string{}
				}
				pc.Env[e.Name] = e.Value
			}
		}
		for _, m := range c.VolumeMounts {
			if pc.Mounts == nil {
				pc.Mounts = map[string]string{}
			}
			pc.Mounts[m.MountPath] = m.Name
		}
		spec.Containers = append(spec.Containers, pc)
	}
	f := o.object()
	f.Pod, f.Phase = spec, o.Status.Phase
	return f
}

// podListItem is the part of a listed pod (or ReplicaSet) PodsOf reads.
type podListItem struct {
	Metadata struct {
		Name            string            `json:"name"`
		Labels          map[string]string `json:"labels"`
		OwnerReferences []struct {
			Kind       string `json:"kind"`
			Name       string `json:"name"`
			Controller *bool  `json:"controller"`
		} `json:"ownerReferences"`
	} `json:"metadata"`
	Spec struct {
		ServiceAccountName string            `json:"serviceAccountName"`
		NodeSelector       map[string]string `json:"nodeSelector"`
		Containers         []struct {
			Env []struct {
				Name string `json:"name"`
			} `json:"env"`
		} `json:"containers"`
	} `json:"spec"`
}

// webIdentityEnv is the variable EKS's webhook adds to a pod on IRSA.
const webIdentityEnv = "AWS_WEB_IDENTITY_TOKEN_FILE"

func (o podListItem) onIRSA() bool {
	for _, c := range o.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == webIdentityEnv {
				return true
			}
		}
	}
	return false
}

// controller is the object's controlling owner, "" for none.
func (o podListItem) controller() (kind, name string) {
	for _, r := range o.Metadata.OwnerReferences {
		if r.Controller != nil && *r.Controller {
			return r.Kind, r.Name
		}
	}
	return "", ""
}

// fargateProfileLabel is on every pod EKS schedules onto Fargate.
const fargateProfileLabel = "eks.amazonaws.com/fargate-profile"

// PodsOf lists the namespace's pods that run as serviceAccount (list pods),
// following a ReplicaSet to the Deployment that owns it (get replicasets).
func (l *KubeAPILookup) PodsOf(ctx context.Context, namespace, serviceAccount string) ([]irsa.Pod, error) {
	ns := "/namespaces/" + url.PathEscape(namespace)
	var list struct{ Items []podListItem }
	if _, err := l.getJSON(ctx, "/api/v1"+ns+"/pods", &list); err != nil {
		return nil, err
	}
	var out []irsa.Pod
	for _, o := range list.Items {
		sa := o.Spec.ServiceAccountName
		if sa == "" {
			sa = "default"
		}
		if sa != serviceAccount {
			continue
		}
		p := irsa.Pod{Name: o.Metadata.Name, Fargate: o.Metadata.Labels[fargateProfileLabel] != "",
			Windows: o.Spec.NodeSelector["kubernetes.io/os"] == "windows", OnIRSA: o.onIRSA()}
		p.OwnerKind, p.OwnerName = o.controller()
		if p.OwnerKind == "ReplicaSet" {
			var rs podListItem
			if _, err := l.getJSON(ctx, "/apis/apps/v1"+ns+"/replicasets/"+url.PathEscape(p.OwnerName), &rs); err != nil {
				return nil, err
			}
			if kind, name := rs.controller(); kind == "Deployment" {
				p.OwnerKind, p.OwnerName = kind, name
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// getJSON GETs path (an object or a list) into v; false when it does not
// exist. Any other answer than 200 or 404 is an error, never "absent".
func (l *KubeAPILookup) getJSON(ctx context.Context, path string, v any) (bool, error) {
	u, err := url.JoinPath(l.host, path)
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return false, nil
	default:
		var status struct{ Message string }
		_ = json.Unmarshal(body, &status)
		return false, fmt.Errorf("GET %s: %s: %s", path, resp.Status, status.Message)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return false, fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return true, nil
}
