package discover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/platform-eng/eks-pod-identity/irsa"
)

// Recorded is a world recorded with read-only aws and kubectl commands
// (docs/check-stack.md, "Rehearsing adopt"), as check-stack -existing reads
// it: it answers both lookups as the real ones would have when the file was
// made. Every key holds a command's JSON output as it printed it:
//
//	addon          aws eks describe-addon --cluster-name C --addon-name eks-pod-identity-agent (null: none)
//	roles          [aws iam get-role --role-name R, ...] (GetRole's output carries the role's tags)
//	associations   [aws eks describe-pod-identity-association --cluster-name C --association-id A, ...]
//	kubernetes     kubectl get namespaces,serviceaccounts,pods -A -o json
type Recorded struct {
	Agent *FoundAddon
	// Roles by name as IAM spells it.
	Roles        []*FoundRole
	Associations []*FoundAssociation
	// Objects by kind ("Namespace", "ServiceAccount", "Pod") and
	// "namespace/name" (a namespace: its name).
	Objects map[string]map[string]*FoundObject
}

// recordedFile is the file's shape, each part as its command prints it.
type recordedFile struct {
	Addon *struct {
		Addon struct {
			AddonName string            `json:"addonName"`
			Tags      map[string]string `json:"tags"`
		} `json:"addon"`
	} `json:"addon"`
	Roles []struct {
		Role struct {
			RoleName, Path, Arn string
			Tags                []struct{ Key, Value string }
			// The AWS CLI prints it decoded, as an object; the API's
			// URL-encoded string is read too.
			AssumeRolePolicyDocument json.RawMessage
		}
	} `json:"roles"`
	Associations []struct {
		Association struct {
			AssociationID  string            `json:"associationId"`
			Namespace      string            `json:"namespace"`
			ServiceAccount string            `json:"serviceAccount"`
			RoleArn        string            `json:"roleArn"`
			OwnerArn       string            `json:"ownerArn"`
			Tags           map[string]string `json:"tags"`
		} `json:"association"`
	} `json:"associations"`
	Kubernetes *struct {
		Items []kubeObject `json:"items"`
	} `json:"kubernetes"`
}

// ParseRecorded reads a recorded world. Unknown keys are refused, so a
// misspelt part is not taken for "nothing exists".
func ParseRecorded(data []byte) (*Recorded, error) {
	var f recordedFile
	// Only the top level is strict: the commands' outputs carry many
	// fields the lookups do not read.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	var problems []error
	for k := range top {
		switch k {
		case "addon", "roles", "associations", "kubernetes":
		default:
			problems = append(problems, fmt.Errorf("unknown key %q (allowed: addon, roles, associations, kubernetes)", k))
		}
	}
	if _, ok := top["kubernetes"]; !ok {
		problems = append(problems, errors.New(`no "kubernetes": record it with kubectl get namespaces,serviceaccounts,pods -A -o json (an empty cluster is {"items": []})`))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	r := &Recorded{Objects: map[string]map[string]*FoundObject{}}
	if f.Addon != nil {
		if f.Addon.Addon.AddonName == "" {
			return nil, errors.New(`"addon" has no addon.addonName: it is not aws eks describe-addon's output (null records no add-on)`)
		}
		r.Agent = &FoundAddon{Tags: f.Addon.Addon.Tags}
	}
	for i, x := range f.Roles {
		if x.Role.RoleName == "" {
			return nil, fmt.Errorf(`"roles"[%d] has no Role.RoleName: it is not aws iam get-role's output`, i)
		}
		role := &FoundRole{Name: x.Role.RoleName, Path: x.Role.Path, Arn: x.Role.Arn, Tags: map[string]string{}}
		if doc := x.Role.AssumeRolePolicyDocument; len(doc) > 0 {
			var s string
			if json.Unmarshal(doc, &s) == nil {
				u, err := url.PathUnescape(s)
				if err != nil {
					return nil, fmt.Errorf(`"roles"[%d].Role.AssumeRolePolicyDocument: %w`, i, err)
				}
				role.Trust = u
			} else {
				role.Trust = string(doc)
			}
		}
		for _, t := range x.Role.Tags {
			role.Tags[t.Key] = t.Value
		}
		r.Roles = append(r.Roles, role)
	}
	for i, x := range f.Associations {
		a := x.Association
		if a.AssociationID == "" {
			return nil, fmt.Errorf(`"associations"[%d] has no association.associationId: it is not aws eks describe-pod-identity-association's output`, i)
		}
		r.Associations = append(r.Associations, &FoundAssociation{ID: a.AssociationID, RoleArn: a.RoleArn, Namespace: a.Namespace,
			ServiceAccount: a.ServiceAccount, OwnerArn: a.OwnerArn, Tags: a.Tags})
	}
	for i := range f.Kubernetes.Items {
		o := &f.Kubernetes.Items[i]
		key := o.Metadata.Namespace + "/" + o.Metadata.Name
		var found *FoundObject
		switch o.Kind {
		case "Namespace":
			key, found = o.Metadata.Name, o.object()
		case "ServiceAccount":
			found = o.object()
		case "Pod":
			found = o.pod()
		default:
			continue
		}
		if r.Objects[o.Kind] == nil {
			r.Objects[o.Kind] = map[string]*FoundObject{}
		}
		r.Objects[o.Kind][key] = found
	}
	return r, nil
}

// Role finds a role as GetRole does: IAM role names are unique regardless
// of case.
func (r *Recorded) Role(_ context.Context, name string) (*FoundRole, error) {
	for _, x := range r.Roles {
		if strings.EqualFold(x.Name, name) {
			return x, nil
		}
	}
	return nil, nil
}

func (r *Recorded) Addon(_ context.Context, _, name string) (*FoundAddon, error) {
	if name != "eks-pod-identity-agent" {
		return nil, nil
	}
	return r.Agent, nil
}

func (r *Recorded) Association(_ context.Context, _, namespace, serviceAccount string) (*FoundAssociation, error) {
	for _, a := range r.Associations {
		if a.Namespace == namespace && a.ServiceAccount == serviceAccount {
			return a, nil
		}
	}
	return nil, nil
}

func (r *Recorded) ClusterAssociations(context.Context, string) ([]*FoundAssociation, error) {
	return r.Associations, nil
}

func (r *Recorded) Namespace(_ context.Context, name string) (*FoundObject, error) {
	return r.Objects["Namespace"][name], nil
}

func (r *Recorded) ServiceAccount(_ context.Context, namespace, name string) (*FoundObject, error) {
	return r.Objects["ServiceAccount"][namespace+"/"+name], nil
}

func (r *Recorded) Pod(_ context.Context, namespace, name string) (*FoundObject, error) {
	return r.Objects["Pod"][namespace+"/"+name], nil
}

// PodsOf lists the recorded pods that run as the service account; the
// record keeps no owners, so each is a bare pod.
func (r *Recorded) PodsOf(_ context.Context, namespace, serviceAccount string) ([]irsa.Pod, error) {
	var out []irsa.Pod
	for key, o := range r.Objects["Pod"] {
		ns, name, _ := strings.Cut(key, "/")
		if ns == namespace && o.Pod != nil && o.Pod.ServiceAccountName == serviceAccount {
			p := irsa.Pod{Name: name}
			for _, c := range o.Pod.Containers {
				_, on := c.Env[webIdentityEnv]
				p.OnIRSA = p.OnIRSA || on
			}
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
