package agent

// Session tag keys EKS Pod Identity sets on every AssumeRole (EKS user guide,
// "Grant Pods access to AWS resources based on tags", pod-id-abac).
const (
	TagClusterArn     = "eks-cluster-arn"
	TagClusterName    = "eks-cluster-name"
	TagNamespace      = "kubernetes-namespace"
	TagServiceAccount = "kubernetes-service-account"
	TagPodName        = "kubernetes-pod-name"
	TagPodUID         = "kubernetes-pod-uid"
)

// SessionTags are the six tags EKS sets for a pod's session.
func SessionTags(clusterArn, clusterName, namespace, serviceAccount, pod, podUID string) map[string]string {
	return map[string]string{
		TagClusterArn:     clusterArn,
		TagClusterName:    clusterName,
		TagNamespace:      namespace,
		TagServiceAccount: serviceAccount,
		TagPodName:        pod,
		TagPodUID:         podUID,
	}
}

// sessionPartLength caps the cluster and pod names in a session name.
const sessionPartLength = 10

// SessionName is the role session name EKS gives a pod's credentials:
// eks-<cluster>-<pod>-<uuid>. EKS does not document the rule; two published
// get-caller-identity outputs show it (eks-demo-aws-cli-<uuid> for cluster
// demo, pod aws-cli; eks-k8s-wl-dev-engine-boo-<uuid> for a longer pod name),
// which fits cluster and pod names cut to 10 characters each, keeping the
// name within STS's 64-character limit (4+10+1+10+1+36 = 62).
func SessionName(cluster, pod, id string) string {
	return "eks-" + cut(cluster, sessionPartLength) + "-" + cut(pod, sessionPartLength) + "-" + id
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
