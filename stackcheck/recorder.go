package stackcheck

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Registration is what the engine would receive for one resource: its
// inputs and the options that decide ordering and replacement.
type Registration struct {
	Type, Name          string
	Custom              bool
	Inputs              resource.PropertyMap
	Provider            string // provider reference, "<urn>::<id>"
	Parent              string // URN
	Dependencies        []string
	DeleteBeforeReplace bool
	// Remote says it is a component another plugin constructs (pulumi-eks's),
	// which creates cloud resources as a custom resource does.
	Remote bool
	URN    string
	// ImportID is set when the program takes an existing object over.
	ImportID string
	// AliasTypes are the types the resource may have had before (aliases
	// that change its type), from alias specs or alias URNs.
	AliasTypes []string
	// RetainOnDelete says destroy leaves the object; ReplaceOnChanges
	// lists the inputs whose change replaces it.
	RetainOnDelete   bool
	ReplaceOnChanges []string
}

// NewRegistration captures a registration's inputs and options; URN is left
// to the caller, which knows the parent's.
func NewRegistration(args pulumi.MockResourceArgs) *Registration {
	reg := &Registration{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs, Provider: args.Provider}
	if rpc := args.RegisterRPC; rpc != nil {
		reg.Parent = rpc.GetParent()
		reg.Dependencies = rpc.GetDependencies()
		reg.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
		reg.Remote = rpc.GetRemote()
		reg.ImportID = rpc.GetImportId()
		reg.RetainOnDelete = rpc.GetRetainOnDelete()
		reg.ReplaceOnChanges = rpc.GetReplaceOnChanges()
		for _, a := range rpc.GetAliases() {
			if spec := a.GetSpec(); spec != nil && spec.GetType() != "" {
				reg.AliasTypes = append(reg.AliasTypes, spec.GetType())
			} else if u := a.GetUrn(); u != "" {
				reg.AliasTypes = append(reg.AliasTypes, string(resource.URN(u).Type()))
			}
		}
		for _, u := range rpc.GetAliasURNs() {
			reg.AliasTypes = append(reg.AliasTypes, string(resource.URN(u).Type()))
		}
	}
	return reg
}

// URN rebuilds the URN the engine assigns, with the parent's type chain,
// so dependency and parent URNs can be matched to registrations. parent is
// nil for a resource parented to the stack.
func URN(project, stack string, reg, parent *Registration) string {
	typ := reg.Type
	if parent != nil && parent.Type != "pulumi:pulumi:Stack" {
		parts := strings.Split(parent.URN, "::")
		typ = parts[len(parts)-2] + "$" + reg.Type
	}
	return fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", stack, project, typ, reg.Name)
}

// Answer is what AWS and Kubernetes would return for a new resource in the
// cluster's account and region: its physical ID and its outputs (the
// inputs plus computed ARNs, IDs and names). salt varies the association
// IDs, as a re-created association gets a new one.
func Answer(args pulumi.MockResourceArgs, c Cluster, salt string) (string, resource.PropertyMap) {
	outs := args.Inputs.Copy()
	id := args.Name + "-id"
	switch args.TypeToken {
	case "aws:iam/role:Role":
		name := AutoName(args.Name)
		if args.Inputs["name"].HasValue() {
			name = args.Inputs["name"].StringValue()
		}
		path := "/"
		if args.Inputs["path"].HasValue() {
			path = args.Inputs["path"].StringValue()
		}
		outs["name"] = resource.NewStringProperty(name)
		outs["arn"] = resource.NewStringProperty(fmt.Sprintf("arn:%s:iam::%s:role%s%s", c.Partition, c.Account, path, name))
		id = name
	case "aws:eks/podIdentityAssociation:PodIdentityAssociation":
		assoc := "a-" + shortHash(salt+args.Name+args.Inputs["namespace"].StringValue()+args.Inputs["serviceAccount"].StringValue())
		outs["associationId"] = resource.NewStringProperty(assoc)
		outs["associationArn"] = resource.NewStringProperty(fmt.Sprintf("arn:%s:eks:%s:%s:podidentityassociation/%s/%s",
			c.Partition, c.Region, c.Account, args.Inputs["clusterName"].StringValue(), assoc))
		id = args.Inputs["clusterName"].StringValue() + "," + assoc
	case "aws:cloudcontrol/resource:Resource":
		id, outs = answerCloudControl(args, outs, c, salt)
	case "aws:eks/addon:Addon":
		if !args.Inputs["addonVersion"].HasValue() {
			outs["addonVersion"] = resource.NewStringProperty(MockAgentVersion)
		}
		id = args.Inputs["clusterName"].StringValue() + ":" + args.Inputs["addonName"].StringValue()
	}
	return id, outs
}

// MockAgentVersion is the add-on version the mocked EKS installs when the
// stack pins none.
const MockAgentVersion = "v1.3.8-eksbuild.2"

// AutoName is the name the mocks give a resource Pulumi auto-names: its
// resource name and a suffix, as Pulumi's auto-naming would.
func AutoName(resourceName string) string {
	return resourceName + "-" + shortHash(resourceName)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:7]
}

// Recorder is a pulumi.MockResourceMonitor that answers like AWS and
// Kubernetes would for Cluster and keeps every registration and invoke.
type Recorder struct {
	Project, Stack string
	Cluster        Cluster

	mu    sync.Mutex
	regs  []*Registration
	calls []pulumi.MockCallArgs
	// On the createCluster path (create.go): references to the stand-ins
	// for pulumi-eks's children, and their URNs to their components' types.
	clusterRef, nodeGroupRef resource.PropertyValue
	standIns                 map[string]string
}

// NewResource records the registration and answers it.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	reg := NewRegistration(args)
	r.mu.Lock()
	defer r.mu.Unlock()
	id, outs, created := r.answerCreated(args)
	if !created {
		id, outs = Answer(args, r.Cluster, "")
	}
	reg.URN = URN(r.Project, r.Stack, reg, r.byURN(reg.Parent))
	if component, ok := standInFor[reg.Type]; ok {
		// A stand-in for a pulumi-eks child: not in the plan; what waits
		// for it waits for its component.
		if r.standIns == nil {
			r.standIns = map[string]string{}
		}
		r.standIns[reg.URN] = component
		return id, outs, nil
	}
	for i, d := range reg.Dependencies {
		if component, ok := r.standIns[d]; ok {
			if c := r.byType(component); c != nil {
				reg.Dependencies[i] = c.URN
			}
		}
	}
	r.regs = append(r.regs, reg)
	return id, outs, nil
}

// Call answers the cluster lookup for the stack's cluster, the add-on
// lookups and the partition lookup, and refuses any other invoke: the
// program makes no other.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	r.mu.Lock()
	r.calls = append(r.calls, args)
	r.mu.Unlock()
	if args.Token == "aws:eks/getCluster:getCluster" {
		if got := args.Args["name"].StringValue(); got != r.Cluster.Name {
			return nil, fmt.Errorf("ResourceNotFoundException: No cluster found for name: %s", got)
		}
		return r.Cluster.LookupResult(), nil
	}
	if args.Token == getPartitionTok {
		return r.Cluster.partitionResult(), nil
	}
	if args.Token == "aws:eks/getAddon:getAddon" {
		// Offline, no EKS add-on is installed: pulumi-aws's answer for EKS's
		// ResourceNotFoundException. The real lookup at `pulumi up` decides.
		return nil, AddonNotFound(args)
	}
	return nil, fmt.Errorf("the offline check does not know invoke %s", args.Token)
}

// Registrations returns what was registered, in registration order.
func (r *Recorder) Registrations() []*Registration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Registration(nil), r.regs...)
}

// Invokes returns the invokes made.
func (r *Recorder) Invokes() []pulumi.MockCallArgs {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pulumi.MockCallArgs(nil), r.calls...)
}

func (r *Recorder) byType(typ string) *Registration {
	for _, reg := range r.regs {
		if reg.Type == typ {
			return reg
		}
	}
	return nil
}

func (r *Recorder) byURN(urn string) *Registration {
	for _, reg := range r.regs {
		if reg.URN == urn {
			return reg
		}
	}
	return nil
}

// AddonNotFound is pulumi-aws's answer to aws:eks/getAddon for an add-on
// the cluster does not have (EKS's ResourceNotFoundException).
func AddonNotFound(args pulumi.MockCallArgs) error {
	return fmt.Errorf("invoking aws:eks/getAddon:getAddon: 1 error occurred:\n\t* reading EKS Add-On (%s,%s): couldn't find resource",
		args.Args["clusterName"].StringValue(), args.Args["addonName"].StringValue())
}

// answerCloudControl is what Cloud Control reports for the association
// type: the desired state plus the read-only AssociationArn and
// AssociationId, and the ExternalId EKS sets for a target role
// (region/account/cluster/namespace/service account). The resource's ID is
// the type's primary identifier, the association ARN.
func answerCloudControl(args pulumi.MockResourceArgs, outs resource.PropertyMap, c Cluster, salt string) (string, resource.PropertyMap) {
	id := args.Name + "-id"
	if args.Inputs["typeName"].StringValue() != "AWS::EKS::PodIdentityAssociation" || !args.Inputs["desiredState"].IsString() {
		return id, outs
	}
	var props map[string]any
	if json.Unmarshal([]byte(args.Inputs["desiredState"].StringValue()), &props) != nil {
		return id, outs
	}
	str := func(k string) string { s, _ := props[k].(string); return s }
	assoc := "a-" + shortHash(salt+args.Name+str("Namespace")+str("ServiceAccount"))
	props["AssociationId"] = assoc
	props["AssociationArn"] = fmt.Sprintf("arn:%s:eks:%s:%s:podidentityassociation/%s/%s", c.Partition, c.Region, c.Account, str("ClusterName"), assoc)
	if str("TargetRoleArn") != "" {
		props["ExternalId"] = strings.Join([]string{c.Region, c.Account, str("ClusterName"), str("Namespace"), str("ServiceAccount")}, "/")
	}
	b, _ := json.Marshal(props)
	outs["properties"] = resource.NewStringProperty(string(b))
	return props["AssociationArn"].(string), outs
}
