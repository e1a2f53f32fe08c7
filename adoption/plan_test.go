package adoption

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/podidentity"
	"github.com/platform-eng/eks-pod-identity/discover"
	"github.com/platform-eng/eks-pod-identity/discover/discovertest"
	"github.com/platform-eng/eks-pod-identity/stackconfig"
)

const (
	testName   = "organization/eks-pod-identity/dev"
	testMarker = testName + "@0123456789abcdef"
	// otherDev is another state's stack of the same name.
	otherDev = testName + "@feedfacecafebeef"
)

var (
	devWant     = discovertest.DevWant
	walkthrough = discovertest.Walkthrough
	walkAssoc   = discovertest.WalkAssoc
	walkRole    = discovertest.WalkRole
	walkPod     = discovertest.WalkPod
)

// stackPodWorld is the walkthrough with its test pod replaced by one whose
// spec is already the stack's (say, created by this stack before its state
// was lost).
func stackPodWorld() discover.Existing {
	e := walkthrough()
	e.Pods["default/"+walkPod].Pod = discovertest.StackPod("pod-id-sa", podidentity.DefaultImage)
	return e
}

// podDeleted is the walkthrough after `kubectl delete pod`, as the refusal
// of its pod says.
func podDeleted() discover.Existing {
	e := walkthrough()
	delete(e.Pods, "default/"+walkPod)
	return e
}

// managed is the walkthrough after the adopting `up`: tagged and labelled.
func managed() discover.Existing {
	e := walkthrough()
	e.Agent.Tags = map[string]string{stackconfig.StackTagKey: testMarker}
	e.Roles[walkRole].Tags = map[string]string{stackconfig.StackTagKey: testMarker}
	e.Associations["default/pod-id-sa"].Tags = map[string]string{stackconfig.StackTagKey: testMarker}
	labels := func() map[string]string {
		return map[string]string{labelPartOf: "eks-pod-identity", labelInstance: stackconfig.ComponentName, labelWorkload: "pod-id-sa"}
	}
	e.ServiceAccounts["default/pod-id-sa"].Labels = labels()
	e.Pods["default/"+walkPod].Labels = labels()
	annotate(e, testMarker)
	return e
}

// annotate puts a stack annotation on the Kubernetes objects; "" removes it.
func annotate(e discover.Existing, marker string) {
	for _, o := range []*discover.FoundObject{e.ServiceAccounts["default/pod-id-sa"], e.Pods["default/"+walkPod]} {
		o.Annotations = map[string]string{}
		if marker != "" {
			o.Annotations[StackAnnotationKey] = marker
		}
	}
}

// legacy is managed() as a version before stack IDs left it: marked with
// the stack's name alone, no annotation.
func legacy() discover.Existing {
	e := managed()
	retag(e, testName)
	annotate(e, "")
	return e
}

func TestWantForResolvesTheComponentsDefaults(t *testing.T) {
	w := devWant()
	if w.Image != podidentity.DefaultImage || !w.Agent || w.Component != "pod-identity" {
		t.Errorf("want = %+v", w)
	}
	wl := discover.WantFor("c", "pi", podidentity.Args{Agent: podidentity.Agent{Skip: true}, Workloads: []podidentity.Workload{{ServiceAccount: "sa", TestPod: true}}}).Workloads[0]
	if wl.Name != "sa" || wl.Namespace != "default" || wl.TestPodName != "aws-cli-sa" {
		t.Errorf("resolved workload = %+v", wl)
	}
}

func TestPlanAdoption(t *testing.T) {
	devAdoption := &podidentity.Adoption{
		Agent: "my-eks-cluster:eks-pod-identity-agent",
		Workloads: map[string]podidentity.WorkloadAdoption{"pod-id-sa": {
			Role: walkRole, Association: "my-eks-cluster," + walkAssoc, ServiceAccount: "default/pod-id-sa",
			TestPodRunning: true,
		}},
	}
	tests := []struct {
		name  string
		want  func() discover.Want
		found func() discover.Existing
		adopt bool
		// repoint is adoptRepoint.
		repoint bool
		// expected
		adoption  *podidentity.Adoption
		taken     int
		conflicts []string // substrings, one per conflict, in order
		refusals  []string // substrings, one per refusal, in order
		// agentAdopted is Plan.AgentAdopted.
		agentAdopted bool
		// stack is the running stack; zero means testMarker, with an ID on
		// record.
		stack Stack
	}{
		{name: "nothing exists", found: func() discover.Existing { return discover.Existing{} }},
		{name: "nothing exists, adopt on", found: func() discover.Existing { return discover.Existing{} }, adopt: true},
		{
			name: "walkthrough without the switch: every object is a conflict", found: walkthrough,
			conflicts: []string{
				"EKS add-on eks-pod-identity-agent on cluster my-eks-cluster (eks-pod-identity:manageAgent), or set eks-pod-identity:manageAgent to false",
				"IAM role EKSPodIdentityS3Role (eks-pod-identity:workloads[0].roleName)",
				"pod identity association " + walkAssoc + " for default/pod-id-sa on cluster my-eks-cluster",
				"ServiceAccount default/pod-id-sa (eks-pod-identity:workloads[0].serviceAccount)",
			},
			refusals: []string{"Pod default/aws-cli-pod-identity (eks-pod-identity:workloads[0].testPodName) differs from the stack's test pod in spec.containers[0].image"},
		},
		{
			name: "walkthrough with the switch: its pod (unhardened, :latest) is refused with the command to delete it", found: walkthrough, adopt: true,
			refusals: []string{`Pod default/aws-cli-pod-identity (eks-pod-identity:workloads[0].testPodName) differs from the stack's test pod in spec.containers[0].image ("amazon/aws-cli:latest", the stack declares "` +
				podidentity.DefaultImage + `"): a pod's spec cannot change, so it cannot be taken over. Delete it (` + "`kubectl delete pod aws-cli-pod-identity -n default`"},
		},
		{
			name: "walkthrough with the switch, its pod deleted: the rest taken over", found: podDeleted, adopt: true, taken: 4, agentAdopted: true,
			adoption: &podidentity.Adoption{Agent: devAdoption.Agent, Workloads: map[string]podidentity.WorkloadAdoption{"pod-id-sa": {
				Role: walkRole, Association: "my-eks-cluster," + walkAssoc, ServiceAccount: "default/pod-id-sa",
			}}},
		},
		{name: "a pod already the stack's is kept, with the rest taken over", found: stackPodWorld, adopt: true, adoption: devAdoption, taken: 5, agentAdopted: true},
		{
			name: "a pod already the stack's that is still starting is kept",
			found: func() discover.Existing {
				e := stackPodWorld()
				e.Pods["default/"+walkPod].Phase = "Pending"
				return e
			},
			adopt: true, adoption: devAdoption, taken: 5, agentAdopted: true,
		},
		{
			name:  "a pod already the stack's that has completed is refused, not kept dead",
			found: endedPod("Succeeded"), adopt: true,
			refusals: []string{"Pod default/aws-cli-pod-identity (eks-pod-identity:workloads[0].testPodName) has ended (phase Succeeded: its `sleep 3600` is over, or it failed): " +
				"a pod cannot be restarted or exec'd into once it has ended, so it is not taken over. Delete it (`kubectl delete pod aws-cli-pod-identity -n default`) and the stack creates its own, or set eks-pod-identity:workloads[0].testPod to false"},
		},
		{name: "a failed one too", found: endedPod("Failed"), adopt: true, refusals: []string{"has ended (phase Failed"}},
		{
			name: "an ended pod without the switch is refused too, not offered for adoption", found: endedPod("Succeeded"),
			conflicts: []string{"EKS add-on", "IAM role", "pod identity association", "ServiceAccount"},
			refusals:  []string{"has ended (phase Succeeded"},
		},
		{
			name:  "the adopted add-on stays adopted once the stack manages it",
			found: func() discover.Existing { e := managed(); e.Agent.Tags[stackconfig.AdoptedTagKey] = "true"; return e },
			adopt: true, agentAdopted: true,
		},
		{
			name: "a role another association uses is refused, naming it, the key and what to do",
			found: func() discover.Existing {
				e := podDeleted()
				e.AllAssociations = append(e.AllAssociations, &discover.FoundAssociation{ID: "a-reports00000000", Namespace: "reports", ServiceAccount: "reader",
					RoleArn: "arn:aws:iam::123456789012:role/" + walkRole})
				return e
			},
			adopt: true,
			refusals: []string{"IAM role EKSPodIdentityS3Role (eks-pod-identity:workloads[0].roleName) is also the role of pod identity association a-reports00000000 for reports/reader on cluster my-eks-cluster, which this stack does not declare: " +
				"taking it over would narrow its trust policy to default/pod-id-sa, so those pods would be refused credentials at once; and `pulumi destroy` would delete the role they name. " +
				"Point them at a role of their own (`aws eks update-pod-identity-association --cluster-name my-eks-cluster --association-id <id> --role-arn <arn>`) or delete them, " +
				"or set eks-pod-identity:workloads[0].roleName to another name so the stack uses a role of its own"},
		},
		{
			name:      "and without the switch, besides the conflicts",
			found:     sharedRole(walkthrough, "arn:aws:iam::123456789012:role/"+walkRole),
			conflicts: []string{"EKS add-on", "IAM role", "pod identity association", "ServiceAccount"},
			refusals:  []string{"is also the role of pod identity association a-reports00000000 for reports/reader", "differs from the stack's test pod"},
		},
		{
			name:  "named by an ARN with a path, it is the same role",
			found: sharedRole(podDeleted, "arn:aws:iam::123456789012:role/team/"+walkRole), adopt: true,
			refusals: []string{"is also the role of pod identity association a-reports00000000"},
		},
		{
			name:  "an open trust is not narrowed, but destroy would still delete the role",
			want:  func() discover.Want { w := devWant(); w.Workloads[0].Trust = podidentity.TrustOpen; return w },
			found: sharedRole(podDeleted, "arn:aws:iam::123456789012:role/"+walkRole), adopt: true,
			refusals: []string{"which this stack does not declare: taking it over would make it the stack's; and `pulumi destroy` would delete the role they name"},
		},
		{
			name:     "an association made since on a role the stack manages stops the stack before destroy could delete the role",
			found:    sharedRole(managed, "arn:aws:iam::123456789012:role/"+walkRole),
			refusals: []string{"which this stack does not declare: the stack manages the role, and its trust policy admits only default/pod-id-sa, so those pods get no credentials; and `pulumi destroy` would delete the role they name"},
		},
		{
			name: "the stack's own association it no longer declares (the workload moved namespace) is on its way out, not a stranger",
			want: func() discover.Want { w := devWant(); w.Workloads[0].Namespace = "apps"; return w },
			found: func() discover.Existing {
				e := managed()
				e.AllAssociations[0].Tags = map[string]string{stackconfig.StackTagKey: testMarker}
				return e
			},
		},
		{
			name: "another stack's association on the role is a stranger",
			found: func() discover.Existing {
				e := sharedRole(managed, "arn:aws:iam::123456789012:role/"+walkRole)()
				e.AllAssociations[1].Tags = map[string]string{stackconfig.StackTagKey: "organization/eks-pod-identity/other"}
				return e
			},
			refusals: []string{"is also the role of pod identity association a-reports00000000 for reports/reader"},
		},
		{
			name:  "an association of another role is no concern",
			found: sharedRole(managed, "arn:aws:iam::123456789012:role/Other"+walkRole),
		},
		{
			name: "another of the stack's own service accounts is declared, not a stranger",
			want: func() discover.Want {
				w := devWant()
				w.Workloads = append(w.Workloads, w.Workloads[0])
				w.Workloads[1].Name, w.Workloads[1].Namespace, w.Workloads[1].ServiceAccount, w.Workloads[1].TestPod = "reader", "reports", "reader", false
				w.Workloads[1].RoleName = ""
				return w
			},
			found: sharedRole(managed, "arn:aws:iam::123456789012:role/"+walkRole),
		},
		{
			name: "a pod already the stack's, without the switch: a conflict", found: stackPodWorld,
			conflicts: []string{"EKS add-on", "IAM role", "pod identity association", "ServiceAccount",
				"Pod default/aws-cli-pod-identity (eks-pod-identity:workloads[0].testPodName): its spec is the stack's, so adopt would keep it as it is"},
		},
		{name: "after adoption, switch on: nothing to import", found: managed, adopt: true},
		{name: "after adoption, switch off: no conflict", found: managed},
		{
			name:  "another state's stack of the same name: refused, saying how to claim it if it is this stack's",
			found: func() discover.Existing { e := managed(); retag(e, otherDev); annotate(e, otherDev); return e },
			adopt: true,
			refusals: []string{
				"is managed by stack " + otherDev + " (tag eks-pod-identity:stack): one stack owns the add-on; set eks-pod-identity:manageAgent to false in this one. Marked " + otherDev + ", it is not this stack's (" + testMarker + "): a stack of the same name in another state, such as another person's DIY backend. If it is this stack's own (its state was lost or moved without its provider \"stack-marker\"), run `pulumi config set eks-pod-identity:stackId feedfacecafebeef` and `up` again",
				"IAM role EKSPodIdentityS3Role (eks-pod-identity:workloads[0].roleName) is managed by stack " + otherDev,
				"pod identity association " + walkAssoc + " for default/pod-id-sa on cluster my-eks-cluster (eks-pod-identity:workloads[0].serviceAccount) is managed by stack " + otherDev,
				"ServiceAccount default/pod-id-sa (eks-pod-identity:workloads[0].serviceAccount) is annotated eks-pod-identity/stack=" + otherDev + ": another stack with this component's names manages it. Marked",
				"Pod default/aws-cli-pod-identity (eks-pod-identity:workloads[0].testPodName) is annotated eks-pod-identity/stack=" + otherDev,
			},
		},
		{
			name:  "the Kubernetes objects alone of a stack of the same name are refused too",
			found: func() discover.Existing { e := managed(); annotate(e, otherDev); return e },
			refusals: []string{
				"ServiceAccount default/pod-id-sa (eks-pod-identity:workloads[0].serviceAccount) is annotated eks-pod-identity/stack=" + otherDev,
				"Pod default/aws-cli-pod-identity (eks-pod-identity:workloads[0].testPodName) is annotated eks-pod-identity/stack=" + otherDev,
			},
		},
		{
			name:  "marked before stack IDs: the stack's own while it has recorded no ID",
			found: legacy, stack: Stack{Marker: testMarker, Legacy: true},
		},
		{
			name:  "marked before stack IDs: another state's once this stack has an ID",
			found: legacy,
			refusals: []string{
				"is managed by stack " + testName + " (tag eks-pod-identity:stack): one stack owns the add-on; set eks-pod-identity:manageAgent to false in this one. It is marked " + testName + ", with no stack ID",
				"IAM role EKSPodIdentityS3Role (eks-pod-identity:workloads[0].roleName) is managed by stack " + testName,
				"pod identity association",
				"ServiceAccount default/pod-id-sa (eks-pod-identity:workloads[0].serviceAccount) has this component's labels but no eks-pod-identity/stack annotation: it was made before stack IDs, by a stack in another state than this one (" + testMarker + "), which has recorded its ID. If it is this stack's, `kubectl annotate serviceaccount pod-id-sa -n default eks-pod-identity/stack=" + testMarker + "`",
				"`kubectl annotate pod aws-cli-pod-identity -n default eks-pod-identity/stack=",
			},
		},
		{
			name: "agent not managed: a found add-on is none of the stack's business",
			want: func() discover.Want { w := devWant(); w.Agent = false; return w },
			found: func() discover.Existing {
				e := managed()
				e.Agent = &discover.FoundAddon{Tags: map[string]string{stackconfig.StackTagKey: "organization/platform/prod"}}
				return e
			},
		},
		{
			name:  "another stack's role, add-on and association are refused with the switch on",
			found: func() discover.Existing { e := managed(); retag(e, "organization/eks-pod-identity/other"); return e },
			adopt: true,
			refusals: []string{
				"EKS add-on eks-pod-identity-agent on cluster my-eks-cluster (eks-pod-identity:manageAgent) is managed by stack organization/eks-pod-identity/other",
				"IAM role EKSPodIdentityS3Role (eks-pod-identity:workloads[0].roleName) is managed by stack organization/eks-pod-identity/other",
				"pod identity association " + walkAssoc + " for default/pod-id-sa on cluster my-eks-cluster (eks-pod-identity:workloads[0].serviceAccount) is managed by stack organization/eks-pod-identity/other",
			},
		},
		{
			name:  "and without it",
			found: func() discover.Existing { e := managed(); retag(e, "organization/eks-pod-identity/other"); return e },
			refusals: []string{
				"is managed by stack organization/eks-pod-identity/other", "is managed by stack", "is managed by stack",
			},
		},
		{
			name:     "a role at another path would be replaced: refused, naming rolePath",
			found:    func() discover.Existing { e := stackPodWorld(); e.Roles[walkRole].Path = "/legacy/"; return e },
			adopt:    true,
			refusals: []string{`has path "/legacy/", but eks-pod-identity:workloads[0].rolePath is "/": IAM cannot move a role to another path, so taking it over would replace it; set eks-pod-identity:workloads[0].rolePath to "/legacy/"`},
		},
		{
			name: "a role spelled differently would be replaced: refused, naming roleName",
			found: func() discover.Existing {
				e := stackPodWorld()
				e.Roles[walkRole].Name = "eksPodIdentityS3Role"
				return e
			},
			adopt:    true,
			refusals: []string{`the role is spelled "eksPodIdentityS3Role" in IAM; eks-pod-identity:workloads[0].roleName must match it exactly`},
		},
		{
			name: "an association an add-on owns is refused",
			found: func() discover.Existing {
				e := stackPodWorld()
				e.Associations["default/pod-id-sa"].OwnerArn = "arn:aws:eks:us-east-1:123456789012:addon/my-eks-cluster/aws-ebs-csi-driver/x"
				return e
			},
			adopt:    true,
			refusals: []string{"belongs to arn:aws:eks:us-east-1:123456789012:addon/my-eks-cluster/aws-ebs-csi-driver/x"},
		},
		{
			name: "a pod with another image cannot be taken over: refused with the command to delete it",
			found: func() discover.Existing {
				e := stackPodWorld()
				e.Pods["default/"+walkPod].Pod.Containers[0].Image = "mirror/aws-cli:2"
				return e
			},
			adopt: true,
			refusals: []string{`differs from the stack's test pod in spec.containers[0].image ("mirror/aws-cli:2", the stack declares "` + podidentity.DefaultImage +
				`"): a pod's spec cannot change, so it cannot be taken over. Delete it (` + "`kubectl delete pod aws-cli-pod-identity -n default`"},
		},
		{
			name:  "a pod with the stack's image but not hardened cannot be taken over: refused, naming the field",
			want:  func() discover.Want { w := devWant(); w.Image = "amazon/aws-cli:latest"; return w },
			found: walkthrough, adopt: true,
			refusals: []string{`differs from the stack's test pod in spec.automountServiceAccountToken (unset, the stack declares false)`},
		},
		{
			name: "objects another workload of the program labelled are refused",
			found: func() discover.Existing {
				e := managed()
				e.ServiceAccounts["default/pod-id-sa"].Labels[labelWorkload] = "old-name"
				return e
			},
			adopt:    true,
			refusals: []string{`ServiceAccount default/pod-id-sa (eks-pod-identity:workloads[0].serviceAccount) is labelled for workload "old-name" of component "pod-identity"`},
		},
		{
			name: "external service accounts are the user's: not taken over",
			want: func() discover.Want { w := devWant(); w.Workloads[0].ExternalServiceAccount = true; return w },
			found: func() discover.Existing {
				e := managed()
				e.ServiceAccounts["default/pod-id-sa"].Labels = nil
				return e
			},
		},
		{
			name: "a namespace the stack creates is taken over by its name",
			want: func() discover.Want {
				w := devWant()
				w.Workloads[0].Namespace, w.Workloads[0].CreateNamespace = "apps", true
				return w
			},
			found: func() discover.Existing {
				return discover.Existing{Namespaces: map[string]*discover.FoundObject{"apps": {}}}
			},
			adopt: true, taken: 1,
			adoption: &podidentity.Adoption{Namespaces: map[string]string{"apps": "apps"}},
		},
		{
			name:     "an association naming another role is refused, naming both roles and the switch",
			found:    associationNaming("arn:aws:iam::123456789012:role/team/OrdersRole"),
			adopt:    true,
			refusals: []string{`names role arn:aws:iam::123456789012:role/team/OrdersRole, not the workload's (role EKSPodIdentityS3Role): taking it over would repoint it, so the pods of default/pod-id-sa would change identity at the next admission, and role OrdersRole would be left as it is (not deleted, its trust unchanged). To repoint it, set eks-pod-identity:adoptRepoint to true; to keep it, set eks-pod-identity:workloads[0].roleName to that role's name`},
		},
		{
			name:     "a role whose name only ends like the workload's is another role",
			found:    associationNaming("arn:aws:iam::123456789012:role/OldEKSPodIdentityS3Role"),
			adopt:    true,
			refusals: []string{`names role arn:aws:iam::123456789012:role/OldEKSPodIdentityS3Role, not the workload's`},
		},
		{
			name: "an association a Cloud Control workload would make is refused, adopt or not: pulumi-aws cannot import one",
			want: func() discover.Want {
				w := devWant()
				w.Workloads[0].DisableSessionTags, w.Workloads[0].Trust = true, podidentity.TrustOpen
				return w
			},
			found: associationNaming("arn:aws:iam::123456789012:role/EKSPodIdentityS3Role"),
			adopt: true, taken: 3, agentAdopted: true,
			refusals: []string{"pod identity association " + walkAssoc + " for default/pod-id-sa on cluster my-eks-cluster (eks-pod-identity:workloads[0].serviceAccount) cannot be taken over as it is: the workload's association is made through Cloud Control (targetRoleArn, disableSessionTags or sessionPolicy), and pulumi-aws v6 cannot import one (Terraform's aws_cloudcontrolapi_resource has no importer). Either take it over without those keys first (with eks-pod-identity:adopt on, the native association is imported), then add them: the next `up` replaces it, deleting it first; or delete it (`aws eks delete-pod-identity-association --cluster-name my-eks-cluster --association-id " + walkAssoc + "`)"},
		},
		{
			name:  "with adoptRepoint the association naming another role is taken over",
			found: associationNaming("arn:aws:iam::123456789012:role/team/OrdersRole"),
			adopt: true, repoint: true, taken: 5, adoption: devAdoption, agentAdopted: true,
		},
		{
			name:  "the same role under a path is the workload's role",
			found: associationNaming("arn:aws:iam::123456789012:role/eks/EKSPodIdentityS3Role"),
			adopt: true, taken: 5, adoption: devAdoption, agentAdopted: true,
		},
		{
			name: "conflicts and refusals are reported together",
			found: func() discover.Existing {
				e := walkthrough()
				e.Pods["default/"+walkPod].Pod.RestartPolicy = "Always"
				return e
			},
			conflicts: []string{"EKS add-on", "IAM role", "pod identity association", "ServiceAccount"},
			refusals:  []string{`in spec.restartPolicy ("Always", the stack declares "Never")`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := devWant()
			if tt.want != nil {
				want = tt.want()
			}
			st := tt.stack
			if st == (Stack{}) {
				st = Stack{Marker: testMarker}
			}
			plan, err := Decide(want, tt.found(), Switches{Adopt: tt.adopt, Repoint: tt.repoint}, st)
			if len(tt.conflicts)+len(tt.refusals) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !reflect.DeepEqual(plan.Adopt, tt.adoption) {
					t.Errorf("adoption = %+v, want %+v", plan.Adopt, tt.adoption)
				}
				if len(plan.Taken) != tt.taken {
					t.Errorf("taken = %q, want %d entries", plan.Taken, tt.taken)
				}
				if plan.AgentAdopted != tt.agentAdopted {
					t.Errorf("agentAdopted = %v, want %v", plan.AgentAdopted, tt.agentAdopted)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("want an Error, got %v", err)
			}
			matchEach(t, "conflicts", ae.Conflicts, tt.conflicts)
			matchEach(t, "refusals", ae.Refusals, tt.refusals)
			msg := err.Error()
			if !strings.HasPrefix(msg, "objects this stack would create already exist (nothing was created or changed):") {
				t.Errorf("message does not say nothing changed:\n%s", msg)
			}
			if len(tt.conflicts) > 0 && !strings.Contains(msg, "`pulumi config set eks-pod-identity:adopt true`") {
				t.Errorf("conflicts do not name the switch:\n%s", msg)
			}
		})
	}
}

func retag(e discover.Existing, owner string) {
	e.Agent.Tags[stackconfig.StackTagKey] = owner
	e.Roles[walkRole].Tags[stackconfig.StackTagKey] = owner
	e.Associations["default/pod-id-sa"].Tags[stackconfig.StackTagKey] = owner
}

func matchEach(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %d:\n  %s\nwant %d", what, len(got), strings.Join(got, "\n  "), len(want))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("%s[%d] = %q\nwant it to contain %q", what, i, got[i], want[i])
		}
	}
}

func TestPodDifference(t *testing.T) {
	walk := func() *discover.PodSpec { return discovertest.StackPod("sa", "img") }
	unset := func(p *discover.PodSpec) *discover.Container { return &p.Containers[0] }
	other := int64(0)
	tests := []struct {
		name  string
		edit  func(*discover.PodSpec)
		field string
	}{
		{"the stack's pod matches", func(*discover.PodSpec) {}, ""},
		{"what EKS injects is not compared", func(p *discover.PodSpec) {
			p.EmptyDirs = append(p.EmptyDirs, "other")
			unset(p).Env["AWS_REGION"] = "x"
			unset(p).Mounts["/x"] = "y"
		}, ""},
		{"the walkthrough's pod", func(p *discover.PodSpec) {
			*p = discover.PodSpec{ServiceAccountName: "sa", RestartPolicy: "Never",
				Containers: []discover.Container{{Name: "aws-cli", Image: "img", Command: []string{"sleep", "3600"}}}}
		}, "spec.automountServiceAccountToken"},
		{"API token mounted", func(p *discover.PodSpec) { p.AutomountServiceAccountToken = nil }, "spec.automountServiceAccountToken"},
		{"runAsNonRoot", func(p *discover.PodSpec) { p.RunAsNonRoot = nil }, "spec.securityContext.runAsNonRoot"},
		{"runAsUser", func(p *discover.PodSpec) { p.RunAsUser = &other }, "spec.securityContext.runAsUser"},
		{"runAsGroup", func(p *discover.PodSpec) { p.RunAsGroup = nil }, "spec.securityContext.runAsGroup"},
		{"seccomp", func(p *discover.PodSpec) { p.SeccompProfile = "Unconfined" }, "spec.securityContext.seccompProfile.type"},
		{"no HOME volume", func(p *discover.PodSpec) { p.EmptyDirs = nil }, "spec.volumes"},
		{"privilege escalation", func(p *discover.PodSpec) { unset(p).AllowPrivilegeEscalation = nil }, "spec.containers[0].securityContext.allowPrivilegeEscalation"},
		{"writable root", func(p *discover.PodSpec) { unset(p).ReadOnlyRootFilesystem = nil }, "spec.containers[0].securityContext.readOnlyRootFilesystem"},
		{"capabilities kept", func(p *discover.PodSpec) { unset(p).DropCapabilities = []string{"NET_RAW"} }, "spec.containers[0].securityContext.capabilities.drop"},
		{"HOME not mounted", func(p *discover.PodSpec) { delete(unset(p).Mounts, "/tmp/home") }, "spec.containers[0].volumeMounts"},
		{"HOME unset", func(p *discover.PodSpec) { delete(unset(p).Env, "HOME") }, "spec.containers[0].env HOME"},
		{"service account", func(p *discover.PodSpec) { p.ServiceAccountName = "default" }, "spec.serviceAccountName"},
		{"restart policy", func(p *discover.PodSpec) { p.RestartPolicy = "OnFailure" }, "spec.restartPolicy"},
		{"a second container", func(p *discover.PodSpec) { p.Containers = append(p.Containers, discover.Container{Name: "side"}) }, "spec.containers"},
		{"container name", func(p *discover.PodSpec) { p.Containers[0].Name = "cli" }, "spec.containers[0].name"},
		{"image", func(p *discover.PodSpec) { p.Containers[0].Image = "other" }, "spec.containers[0].image"},
		{"command", func(p *discover.PodSpec) { p.Containers[0].Command = []string{"sleep", "60"} }, "spec.containers[0].command"},
		{"args", func(p *discover.PodSpec) { p.Containers[0].Args = []string{"x"} }, "spec.containers[0].args"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := walk()
			tt.edit(p)
			if field, _, _ := podDifference(p, "sa", "img"); field != tt.field {
				t.Errorf("field = %q, want %q", field, tt.field)
			}
		})
	}
	if field, _, _ := podDifference(nil, "sa", "img"); field != "spec" {
		t.Errorf("a pod without a spec matched")
	}
}

// associationNaming is the world where the stack's own test pod runs and
// the walkthrough's association names the role arn.
func associationNaming(arn string) func() discover.Existing {
	return func() discover.Existing {
		e := stackPodWorld()
		e.Associations["default/pod-id-sa"].RoleArn = arn
		return e
	}
}

// endedPod is the world where the stack's test pod has ended in phase.
func endedPod(phase string) func() discover.Existing {
	return func() discover.Existing {
		e := stackPodWorld()
		e.Pods["default/"+walkPod].Phase = phase
		return e
	}
}

// sharedRole is base with a second association, for reports/reader (a
// service account the dev stack does not declare), naming arn.
func sharedRole(base func() discover.Existing, arn string) func() discover.Existing {
	return func() discover.Existing {
		e := base()
		e.AllAssociations = append(e.AllAssociations, &discover.FoundAssociation{ID: "a-reports00000000", Namespace: "reports", ServiceAccount: "reader", RoleArn: arn})
		return e
	}
}
