package irsa

import (
	"fmt"
	"sort"
	"strings"
)

// CheckAnnotation refuses a service account that is not on IRSA with the
// workload's role: no annotation (nothing to migrate from), a role in
// another account than the cluster's (a Pod Identity association's role
// must be in the cluster's account), or another role than roleName.
func CheckAnnotation(value, roleName, clusterAccount string) error {
	if value == "" {
		return fmt.Errorf("has no %s annotation: it is not on IRSA, so there is nothing to migrate; remove from: irsa and phase to give it a role with Pod Identity alone", RoleArnAnnotation)
	}
	parts := strings.SplitN(value, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return fmt.Errorf("has %s %q, which is not an IAM role ARN", RoleArnAnnotation, value)
	}
	if parts[4] != clusterAccount {
		return fmt.Errorf("has %s %q, a role in account %s, not the cluster's account %s: a Pod Identity association's role must be in the cluster's account (iam:PassRole), so this role cannot be migrated in place; give the workload a role in %s (roleName) and reach this one with targetRoleArn", RoleArnAnnotation, value, parts[4], clusterAccount, clusterAccount)
	}
	name := parts[5][strings.LastIndex(parts[5], "/")+1:]
	if name != roleName {
		return fmt.Errorf("has %s %q, role %s, but roleName is %q: the migration takes over the role the service account uses; set roleName to %q", RoleArnAnnotation, value, name, roleName, name)
	}
	return nil
}

// CheckRegion refuses China Regions, where EKS has no Pod Identity.
func CheckRegion(partition string) error {
	if partition == "aws-cn" {
		return fmt.Errorf("its partition is aws-cn: Pod Identity is not available in China Regions (docs.amazonaws.cn, pod-identities), so a service account there stays on IRSA")
	}
	return nil
}

// Pod is a pod that runs as the service account, as discovery found it.
type Pod struct {
	Name string
	// OwnerKind and OwnerName are the pod's controller, followed up from a
	// ReplicaSet to its Deployment; empty for a bare pod.
	OwnerKind, OwnerName string
	// Fargate says the pod runs on Fargate (its
	// eks.amazonaws.com/fargate-profile label), Windows on a Windows node
	// (its kubernetes.io/os selector).
	Fargate, Windows bool
	// OnIRSA says EKS's webhook gave the pod IRSA's variables
	// (AWS_WEB_IDENTITY_TOKEN_FILE) when it was admitted: it still
	// assumes the role through the OIDC trust.
	OnIRSA bool
}

// CheckPods refuses pods Pod Identity cannot serve: on Fargate or Windows
// they would lose their credentials at their next restart.
func CheckPods(pods []Pod) []string {
	var out []string
	for _, p := range pods {
		switch {
		case p.Fargate:
			out = append(out, fmt.Sprintf("pod %s runs on Fargate, where Pod Identity is not available: it would get no credentials once restarted; keep this service account on IRSA", p.Name))
		case p.Windows:
			out = append(out, fmt.Sprintf("pod %s runs on a Windows node, where Pod Identity is not available: it would get no credentials once restarted; keep this service account on IRSA", p.Name))
		}
	}
	return out
}

// StillOnIRSA names the pods admitted with IRSA's credentials.
func StillOnIRSA(pods []Pod) []Pod {
	var out []Pod
	for _, p := range pods {
		if p.OnIRSA {
			out = append(out, p)
		}
	}
	return out
}

// rollable are the controllers `kubectl rollout restart` restarts.
var rollable = map[string]string{"Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset"}

// Restarts are the commands that re-admit every pod of pods, so each gets
// the credentials of the phase: one `kubectl rollout restart` per
// controller, a delete for a pod nothing recreates (its maker must run it
// again), and for a Job's pod, which no restart re-admits, a note to wait
// for it. skip names pods the stack itself re-creates.
func Restarts(namespace string, pods []Pod, skip func(name string) bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pods {
		if skip != nil && skip(p.Name) {
			continue
		}
		var cmd string
		switch kind, ok := rollable[p.OwnerKind]; {
		case ok:
			cmd = fmt.Sprintf("kubectl rollout restart %s/%s -n %s", kind, p.OwnerName, namespace)
		case p.OwnerKind == "Job":
			// It finishes, and the Job's next pod is admitted anew.
			cmd = fmt.Sprintf("# pod %s of Job %s: wait for it to finish, or kubectl delete job %s -n %s", p.Name, p.OwnerName, p.OwnerName, namespace)
		case p.OwnerKind == "":
			cmd = fmt.Sprintf("kubectl delete pod %s -n %s  # a bare pod: create it again as it was made", p.Name, namespace)
		default:
			cmd = fmt.Sprintf("kubectl delete pod %s -n %s  # owned by %s/%s, which re-creates it", p.Name, namespace, p.OwnerKind, p.OwnerName)
		}
		if !seen[cmd] {
			seen[cmd] = true
			out = append(out, cmd)
		}
	}
	sort.Strings(out)
	return out
}
