"""The walkthrough's S3 reader from Python, through the component provider.

Generate the SDK here and install it (see the README, "Use it from
TypeScript, Python, YAML or C#"):

    pulumi package gen-sdk ../../componentprovider/schema.json --language python --out sdk
    pip install ./sdk/python
"""
import pulumi
import platform_eng_eks_pod_identity as podidentity

config = pulumi.Config()

s3_reader = podidentity.PodIdentity(
    "s3-reader",
    cluster_name=config.require("clusterName"),
    cluster_arn=config.require("clusterArn"),
    workloads=[
        podidentity.WorkloadArgs(
            name="s3-reader",
            namespace="default",
            service_account="s3-reader",
            policy_arns=["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
            test_pod=True,
            verify=True,
        )
    ],
)

pulumi.export("roleArn", s3_reader.workloads.apply(lambda w: w["s3-reader"].role_arn))
