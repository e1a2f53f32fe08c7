package podidentity

import (
	"reflect"
	"strings"
	"testing"

	"github.com/platform-eng/eks-pod-identity/components/presets"
)

// A preset fills every field the workload leaves empty, in the cluster's
// partition, and what the workload sets wins, field by field.
func TestWorkloadWithPreset(t *testing.T) {
	tests := []struct {
		name string
		in   Workload
		want Workload
		docs []string
	}{
		{"managed policies, no inputs", Workload{Preset: "ebs-csi", Verify: true}, Workload{
			Preset: "ebs-csi", Name: "ebs-csi", Namespace: "kube-system", ServiceAccount: "ebs-csi-controller-sa",
			ExternalServiceAccount: true, Trust: TrustScoped, Verify: true,
			PolicyArns:  []string{"arn:aws-cn:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"},
			AccessCheck: "ec2 describe-volumes --max-items 1",
		}, nil},
		{"document with inputs", Workload{Preset: "mountpoint-s3", PresetInputs: presets.Inputs{BucketArns: []string{"arn:aws-cn:s3:::data"}}}, Workload{
			Preset: "mountpoint-s3", PresetInputs: presets.Inputs{BucketArns: []string{"arn:aws-cn:s3:::data"}},
			Name: "mountpoint-s3", Namespace: "kube-system", ServiceAccount: "s3-csi-driver-sa", ExternalServiceAccount: true,
			Trust: TrustScoped, PolicyArns: []string{}, AccessCheck: "s3api list-objects-v2 --bucket data --max-items 1",
		}, []string{"mountpoint-s3"}},
		{"every field overridden", Workload{
			Preset: "external-dns", PresetInputs: presets.Inputs{HostedZoneArns: []string{"arn:aws-cn:route53:::hostedzone/Z1"}},
			Name: "dns", Namespace: "dns", ServiceAccount: "edns", PolicyArns: []string{"arn:aws-cn:iam::111122223333:policy/p"},
			InlinePolicies: map[string]string{}, AccessCheck: "off",
		}, Workload{
			Preset: "external-dns", PresetInputs: presets.Inputs{HostedZoneArns: []string{"arn:aws-cn:route53:::hostedzone/Z1"}},
			Name: "dns", Namespace: "dns", ServiceAccount: "edns", ExternalServiceAccount: true, Trust: TrustScoped,
			PolicyArns: []string{"arn:aws-cn:iam::111122223333:policy/p"}, InlinePolicies: map[string]string{}, AccessCheck: "off",
		}, nil},
		{"inputs the preset refuses build no check from them", Workload{Preset: "mountpoint-s3"}, Workload{
			Preset: "mountpoint-s3", Name: "mountpoint-s3", Namespace: "kube-system", ServiceAccount: "s3-csi-driver-sa",
			ExternalServiceAccount: true, Trust: TrustScoped, PolicyArns: []string{}, AccessCheck: "s3 ls",
		}, []string{"mountpoint-s3"}},
		{"no preset: the walkthrough's default", Workload{ServiceAccount: "app"}, Workload{
			Name: "app", Namespace: "default", ServiceAccount: "app", Trust: TrustScoped,
			PolicyArns: []string{"arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess"}, AccessCheck: "s3 ls",
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.Effective("aws-cn")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			var docs []string
			for _, d := range got.presetDocuments() {
				docs = append(docs, d.Name)
			}
			if !reflect.DeepEqual(docs, tt.docs) {
				t.Errorf("preset documents = %v, want %v", docs, tt.docs)
			}
		})
	}
}

func TestPresetValidation(t *testing.T) {
	args := func(ws ...Workload) Args { return Args{Partition: "aws", Workloads: ws} }
	tests := []struct {
		name string
		args Args
		want []string
	}{
		{"unknown preset is one problem", args(Workload{Preset: "ebs"}),
			[]string{`workloads[0].preset: "ebs" is not a preset (known: ebs-csi, efs-csi, vpc-cni, cloudwatch-observability, external-dns, cert-manager, mountpoint-s3, cluster-autoscaler)`}},
		{"input missing", args(Workload{Preset: "cert-manager"}),
			[]string{`workloads[0].presetInputs.hostedZoneArns: is required by preset "cert-manager"`}},
		{"input in another partition", args(Workload{Preset: "external-dns", PresetInputs: presets.Inputs{HostedZoneArns: []string{"arn:aws-us-gov:route53:::hostedzone/Z1"}}}),
			[]string{`workloads[0].presetInputs.hostedZoneArns[0]: "arn:aws-us-gov:route53:::hostedzone/Z1" is in partition "aws-us-gov" but the cluster is in "aws"`}},
		{"input without a preset", args(Workload{ServiceAccount: "app", PresetInputs: presets.Inputs{HostedZoneArns: []string{"arn:aws:route53:::hostedzone/Z1"}}}),
			[]string{`workloads[0].presetInputs.hostedZoneArns: is set, but the workload names no preset; it is an input of preset external-dns, cert-manager`}},
		{"preset check kept for replaced policies", args(Workload{Preset: "vpc-cni", Verify: true, InlinePolicies: map[string]string{"v6": `{"Version":"2012-10-17","Statement":[]}`}}),
			[]string{`workloads[0].inlinePolicies.v6: policy document has an empty "Statement" list`, `workloads[0].accessCheck: is not set, and preset "vpc-cni"'s check`}},
		{"two workloads, one service account", args(Workload{Preset: "ebs-csi"}, Workload{Preset: "ebs-csi", Name: "ebs-2"}),
			[]string{`workloads[1].serviceAccount: "ebs-csi-controller-sa" in namespace "kube-system" is already workloads[0]`}},
		{"valid", Args{Partition: "aws-us-gov", Workloads: []Workload{{Preset: "ebs-csi", Verify: true}, {Preset: "cluster-autoscaler", Verify: true}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.args.ValidateSettings("pi")
			var got []string
			if ps, ok := err.(Problems); ok {
				for _, p := range ps {
					got = append(got, p.Error())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("problems = %q, want %d: %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("problem %d = %q, want it to start with %q", i, got[i], w)
				}
			}
		})
	}
}
