// The walkthrough's S3 reader from TypeScript, through the component
// provider (see the README, "Use it from TypeScript, Python, YAML or C#").
// Generate the SDK here first, then install:
//   pulumi package gen-sdk ../../componentprovider/schema.json --language nodejs --out sdk
//   npm install
import * as pulumi from "@pulumi/pulumi";
import { PodIdentity } from "@platform-eng/eks-pod-identity";

const config = new pulumi.Config();

const s3Reader = new PodIdentity("s3-reader", {
    clusterName: config.require("clusterName"),
    clusterArn: config.require("clusterArn"),
    workloads: [{
        name: "s3-reader",
        namespace: "default",
        serviceAccount: "s3-reader",
        policyArns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
        testPod: true,
        verify: true,
    }],
});

export const roleArn = s3Reader.workloads.apply(w => w["s3-reader"].roleArn);
export const associationId = s3Reader.workloads.apply(w => w["s3-reader"].associationId);
