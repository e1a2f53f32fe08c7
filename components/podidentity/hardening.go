package podidentity

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The test Pod and the verification Job's pod meet Pod Security
// Admission's restricted profile and mount no Kubernetes API token: they
// need none, and EKS Pod Identity's webhook injects its own projected token
// (eks-pod-identity-token) whatever automountServiceAccountToken says.
const (
	// PodUser and PodGroup are the numeric user and group the containers
	// run as. The aws-cli image runs as root by default, and the kubelet can
	// check runAsNonRoot only against a numeric user.
	PodUser  = 1000
	PodGroup = 1000
	// SeccompProfile is the pods' seccomp profile type.
	SeccompProfile = "RuntimeDefault"
	// HomeDir is the containers' HOME, an emptyDir named HomeVolume: the
	// root filesystem is read-only, and the AWS CLI writes under
	// ~/.aws/cli/cache. The verification script writes nothing.
	HomeDir    = "/tmp/home"
	HomeVolume = "home"
	// DroppedCapabilities are dropped from every container.
	DroppedCapabilities = "ALL"
)

// hardeningRevision is part of the verification Job's name: a Job's pod
// template cannot change, so a change to what hardenPod sets must name a
// new Job (and run verification again) rather than update the old one.
const hardeningRevision = "restricted-1"

// hardenPod adds to a pod spec with one container what both pods share:
// no API token, the restricted profile's pod and container security
// contexts, a read-only root filesystem and the HOME emptyDir.
func hardenPod(spec *corev1.PodSpecArgs, c *corev1.ContainerArgs) {
	spec.AutomountServiceAccountToken = pulumi.Bool(false)
	spec.SecurityContext = &corev1.PodSecurityContextArgs{
		RunAsNonRoot:   pulumi.Bool(true),
		RunAsUser:      pulumi.Int(PodUser),
		RunAsGroup:     pulumi.Int(PodGroup),
		SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String(SeccompProfile)},
	}
	spec.Volumes = corev1.VolumeArray{&corev1.VolumeArgs{
		Name:     pulumi.String(HomeVolume),
		EmptyDir: &corev1.EmptyDirVolumeSourceArgs{},
	}}
	c.SecurityContext = &corev1.SecurityContextArgs{
		AllowPrivilegeEscalation: pulumi.Bool(false),
		ReadOnlyRootFilesystem:   pulumi.Bool(true),
		Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{DroppedCapabilities})},
	}
	c.VolumeMounts = corev1.VolumeMountArray{&corev1.VolumeMountArgs{
		Name:      pulumi.String(HomeVolume),
		MountPath: pulumi.String(HomeDir),
	}}
	env, _ := c.Env.(corev1.EnvVarArray)
	c.Env = append(corev1.EnvVarArray{&corev1.EnvVarArgs{Name: pulumi.String("HOME"), Value: pulumi.String(HomeDir)}}, env...)
	spec.Containers = corev1.ContainerArray{c}
}
