// Every S3, SES and SSM call the functions made during a run, evaluated offline against
// the function's own policy and the files bucket's policy, as infra/template.yaml
// states them (resolved by scripts/iam-policies.py), by a maintained evaluator:
// @cloud-copilot/iam-simulate. fakecloud enforces S3's identity policies itself, but
// neither the bucket's resource policy nor SES's or SSM's; this covers them.
//
// Each call is evaluated as AWS would see it from a Lambda function: signed by the
// function's role, over TLS (`aws:SecureTransport`), in the template's region.
//
// Usage (scripts/iam-evaluate.sh): SESAME_IAM_SIMULATE_ROOT=DIR node iam-evaluate.mjs FUNCTIONS.json RESOURCES.json CALLS.jsonl
// Exits 1 when a call is not allowed, when a call could not be evaluated, or when
// no call was recorded (the suite did not run as deployed).

import { readFileSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'

// Installed by scripts/iam-evaluate.sh into the tools' cache, not beside this file.
const require = createRequire(`${process.env.SESAME_IAM_SIMULATE_ROOT}/package.json`)
const { runSimulation } = require('@cloud-copilot/iam-simulate')

const [functionsPath, resourcesPath, callsPath] = process.argv.slice(2)
const functions = JSON.parse(readFileSync(functionsPath, 'utf8'))
const resources = JSON.parse(readFileSync(resourcesPath, 'utf8'))
const lines = existsSync(callsPath) ? readFileSync(callsPath, 'utf8').split('\n').filter(Boolean) : []

// The same request made a thousand times is evaluated once.
const distinct = new Map()
for (const line of lines) {
  const call = JSON.parse(line)
  const key = JSON.stringify([call.function, call.action, call.resources, call.context])
  const seen = distinct.get(key)
  if (seen) seen.count += 1
  else distinct.set(key, { ...call, count: 1 })
}

const failures = []
const allowed = new Map()
for (const call of distinct.values()) {
  const fn = functions[call.function]
  if (!fn) {
    failures.push(`${call.function}: not a function of the template (${call.operation})`)
    continue
  }
  if (call.action.startsWith('unknown:') || call.resources.length === 0) {
    failures.push(`${call.function}: ${call.operation}: the recorder (tests/src/iam.rs) does not know its IAM request`)
    continue
  }
  for (const resource of call.resources) {
    const simulation = {
      identityPolicies: fn.policies.map((policy, i) => ({ name: `${fn.resource}Policy${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: resource.startsWith('arn:aws:s3:::') ? resources.bucket_policy : undefined,
      request: {
        action: call.action,
        principal: `arn:aws:sts::${resources.account}:assumed-role/${fn.resource}Role/${call.function}`,
        resource: { resource, accountId: resources.account },
        contextVariables: {
          'aws:SecureTransport': 'true',
          'aws:RequestedRegion': resources.region,
          ...call.context,
        },
      },
    }
    let result
    try {
      result = await runSimulation(simulation, {})
    } catch (e) {
      failures.push(`${call.function}: ${call.action} on ${resource}: cannot be evaluated: ${e}`)
      continue
    }
    if (result.errors) {
      failures.push(`${call.function}: ${call.action} on ${resource}: cannot be evaluated: ${JSON.stringify(result.errors)}`)
      continue
    }
    if (result.overallResult !== 'Allowed') {
      failures.push(
        `${call.function}: ${call.action} on ${resource} ${JSON.stringify(call.context)}: ${result.overallResult} (${call.count} calls)`,
      )
      continue
    }
    const what = `${call.function} ${call.action}`
    allowed.set(what, (allowed.get(what) ?? 0) + call.count)
  }
}

for (const [what, count] of [...allowed].sort()) console.log(`allowed: ${what} (${count} calls)`)
for (const failure of failures) console.log(`NOT ALLOWED: ${failure}`)
if (lines.length === 0) {
  console.log(`no S3, SES or SSM call was recorded in ${callsPath}: the suite did not run as deployed`)
  process.exit(1)
}
console.log(`${lines.length} calls, ${distinct.size} distinct, ${failures.length} not allowed`)
process.exit(failures.length === 0 ? 0 : 1)
