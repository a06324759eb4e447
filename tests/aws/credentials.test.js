'use strict'
// The AWS SDKs' default credential chain, each source against a local stand-in that speaks its
// protocol (support/credential_servers.js): web identity and assumed roles through STS,
// credential_process, the container endpoint and the EC2 metadata service (IMDSv2). Every test
// registers a Lambda function without keys of its own and watches its call reach the Lambda stand-in
// (which verifies SigV4 with the AWS SDK's signer) signed with the access key the source handed out.
// Refresh and expiry use credentials that expire within seconds, never real waits for an hour.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Gateway, waitUntil } = require('../common/gateway')
const { FakeAws } = require('./support/fake_aws')
const { FakeSts, FakeContainerEndpoint, FakeInstanceMetadata } = require('./support/credential_servers')

const SOURCE = { accessKeyId: 'AKIASOURCEEXAMPLE', secretAccessKey: 'source/secret' }
const PROFILE = { accessKeyId: 'AKIAPROFILEKEYS', secretAccessKey: 'profile/secret' }
const FROM_ENV = { accessKeyId: 'AKIAENVCHAIN', secretAccessKey: 'env/secret' }
const PROCESS = { accessKeyId: 'ASIAPROCESSEXAMPLE', secretAccessKey: 'process/secret', sessionToken: 'process-token' }
const ROLE_ARN = 'arn:aws:iam::123456789012:role/gateway'
const WEB_IDENTITY_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl'
const CONTAINER_TOKEN = 'container-authorization-token'
const MARGIN_MS = 5 * 60_000 // the gateway fetches again five minutes before credentials expire

const aws = new FakeAws(Object.fromEntries([PROFILE, FROM_ENV, PROCESS].map(({ accessKeyId, ...rest }) => [accessKeyId, rest])))
const sts = new FakeSts(aws, { webIdentityToken: WEB_IDENTITY_TOKEN, sourceKeys: { [SOURCE.accessKeyId]: SOURCE.secretAccessKey } })
const container = new FakeContainerEndpoint(aws, { authorization: CONTAINER_TOKEN })
const metadata = new FakeInstanceMetadata(aws, {})
const running = new Set()

let scratch // files the gateways' variables point at

before(async () => {
  for (const server of [aws, sts, container, metadata]) await server.listen()
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'eg-aws-chain-'))
})

after(async () => {
  for (const gateway of running) await gateway.stop()
  for (const server of [aws, sts, container, metadata]) server.close()
  fs.rmSync(scratch, { recursive: true, force: true })
})

function scratchFile (name, text, mode = 0o600) {
  const file = path.join(scratch, name)
  fs.writeFileSync(file, text, { mode })
  return file
}

async function start ({ env = {}, files = {} }) {
  const gateway = await Gateway.start({ env: { AWS_ENDPOINT_URL_LAMBDA: aws.url, AWS_REGION: 'us-east-1', ...env }, files })
  running.add(gateway)
  return gateway
}

async function stop (gateway) {
  running.delete(gateway)
  await gateway.stop()
}

// Invokes a fresh keyless Lambda function; returns the call the Lambda stand-in accepted.
let calls = 0
async function signedCall (gateway, provider = { arn: 'echo' }) {
  const functionId = `chain${++calls}`
  assert.equal((await gateway.registerInvocable(functionId, 'awslambda', provider)).status, 201)
  return invokeAgain(gateway, functionId)
}

async function invokeAgain (gateway, functionId) {
  const marker = `${functionId}-${++calls}`
  const answer = await gateway.invoke(functionId, { marker })
  assert.equal(answer.status, 200, answer.status === 502 ? await gateway.loggedFailure(answer) : answer.text)
  return aws.accepted.findLast(call => call.event.data?.marker === marker)
}


// Each source's variables, as a test gateway gets them.
const webIdentityEnv = () => ({
  AWS_WEB_IDENTITY_TOKEN_FILE: scratchFile('web-identity-token', `${WEB_IDENTITY_TOKEN}\n`),
  AWS_ROLE_ARN: ROLE_ARN,
  AWS_ENDPOINT_URL_STS: sts.url
})
const containerEnv = (server = container) => ({
  AWS_CONTAINER_CREDENTIALS_FULL_URI: `${server.url}${server.path}`,
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: scratchFile('container-token', `${CONTAINER_TOKEN}\n`)
})
const metadataEnv = (server = metadata) => ({ AWS_EC2_METADATA_DISABLED: 'false', AWS_EC2_METADATA_SERVICE_ENDPOINT: server.url })
const profileKeysFile = `[default]\naws_access_key_id = ${PROFILE.accessKeyId}\naws_secret_access_key = ${PROFILE.secretAccessKey}\n`

test('web identity (EKS): the token file and AWS_ROLE_ARN through an unsigned STS AssumeRoleWithWebIdentity', async () => {
  const gateway = await start({ env: { ...webIdentityEnv(), AWS_ROLE_SESSION_NAME: 'gateway-test' } })
  const call = await signedCall(gateway)
  assert.match(call.accessKeyId, /^ASIAWEBID/)
  const request = sts.requests.findLast(r => new URLSearchParams(r.body).get('Action') === 'AssumeRoleWithWebIdentity')
  const form = new URLSearchParams(request.body)
  assert.deepEqual([form.get('RoleArn'), form.get('RoleSessionName'), form.get('WebIdentityToken')],
    [ROLE_ARN, 'gateway-test', WEB_IDENTITY_TOKEN])
  assert.equal(request.headers.authorization, undefined)
  await stop(gateway)
})

test('a role of ~/.aws/config: role_arn with source_profile through STS AssumeRole, signed with the source profile\'s keys; its region', async () => {
  const gateway = await start({
    env: { AWS_ENDPOINT_URL_STS: sts.url, AWS_PROFILE: 'app', AWS_REGION: '' },
    files: {
      '.aws/credentials': `[base]\naws_access_key_id = ${SOURCE.accessKeyId}\naws_secret_access_key = ${SOURCE.secretAccessKey}\n`,
      '.aws/config': `[profile app]\nrole_arn = ${ROLE_ARN}\nsource_profile = base\nrole_session_name = from-config\nregion = eu-west-1\n` +
        's3 =\n  max_concurrent_requests = 10\n'
    }
  })
  const call = await signedCall(gateway)
  assert.match(call.accessKeyId, /^ASIAROLE/)
  assert.equal(call.region, 'eu-west-1', 'the region of the profile in ~/.aws/config')
  assert.equal(sts.signedBy, SOURCE.accessKeyId)
  const form = new URLSearchParams(sts.requests.at(-1).body)
  assert.deepEqual([form.get('Action'), form.get('RoleSessionName')], ['AssumeRole', 'from-config'])
  await stop(gateway)
})

test('credential_process of ~/.aws/config, and one that fails says why', async () => {
  const script = scratchFile('credentials.js', `process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: '${PROCESS.accessKeyId}', ` +
    `SecretAccessKey: '${PROCESS.secretAccessKey}', SessionToken: '${PROCESS.sessionToken}', Expiration: new Date(Date.now() + 3600e3).toISOString() }))\n`)
  const failing = scratchFile('failing.sh', 'echo "no SSO session: run aws sso login" >&2\nexit 3\n', 0o700)
  const gateway = await start({
    env: { AWS_PROFILE: 'proc' },
    files: { '.aws/config': `[profile proc]\ncredential_process = "${process.execPath}" ${script}\n[profile broken]\ncredential_process = ${failing}\n` }
  })
  assert.equal((await signedCall(gateway)).accessKeyId, PROCESS.accessKeyId)
  await stop(gateway)

  const broken = await start({ env: { AWS_PROFILE: 'broken' }, files: { '.aws/config': `[profile broken]\ncredential_process = ${failing}\n` } })
  await broken.registerInvocable('broken', 'awslambda', { arn: 'echo' })
  const answer = await broken.invoke('broken', {})
  assert.equal(answer.status, 502)
  assert.match(await broken.loggedFailure(answer), /credential_process exited with status 3: no SSO session: run aws sso login/)
  await stop(broken)
})

test('the container endpoint (ECS): AWS_CONTAINER_CREDENTIALS_FULL_URI with the token file; region from AWS_DEFAULT_REGION', async () => {
  const gateway = await start({ env: { ...containerEnv(), AWS_REGION: '', AWS_DEFAULT_REGION: 'ap-south-1' } })
  const call = await signedCall(gateway)
  assert.match(call.accessKeyId, /^ASIAECS/)
  assert.equal(call.region, 'ap-south-1')
  assert.equal(container.requests.at(-1).headers.authorization, CONTAINER_TOKEN)
  await stop(gateway)

  const wrongToken = await start({ env: { ...containerEnv(), AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: scratchFile('wrong', 'nope') } })
  await wrongToken.registerInvocable('wrongToken', 'awslambda', { arn: 'echo' })
  const answer = await wrongToken.invoke('wrongToken', {})
  assert.equal(answer.status, 502)
  assert.match(await wrongToken.loggedFailure(answer), /the container credentials endpoint http:\/\/127\.0\.0\.1:\d+\/v2\/credentials\/task answered HTTP status 401/)
  await stop(wrongToken)
})

test('the container endpoint refuses a FULL_URI over http on an address that is not loopback, as the SDKs do', async () => {
  const gateway = await start({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://192.0.2.1/creds' } })
  await gateway.registerInvocable('remote', 'awslambda', { arn: 'echo' })
  const answer = await gateway.invoke('remote', {})
  assert.equal(answer.status, 502)
  assert.match(await gateway.loggedFailure(answer), /AWS_CONTAINER_CREDENTIALS_FULL_URI over http:\/\/ must be on a loopback address/)
  await stop(gateway)
})

test('the EC2 instance metadata service, IMDSv2: a session token first, then the role and its credentials', async () => {
  const before = metadata.requests.length
  const gateway = await start({ env: metadataEnv() })
  const call = await signedCall(gateway)
  assert.match(call.accessKeyId, /^ASIAIMDS/)
  const requests = metadata.requests.slice(before).map(r => `${r.method} ${r.url}`)
  assert.deepEqual(requests, ['PUT /latest/api/token', 'GET /latest/meta-data/iam/security-credentials/',
    `GET /latest/meta-data/iam/security-credentials/${metadata.role}`])
  assert.equal(metadata.requests[before].headers['x-aws-ec2-metadata-token-ttl-seconds'], '21600')
  await stop(gateway)
  // What the stand-in does without a token, as IMDSv2 does: a 401.
  assert.equal((await fetch(`${metadata.url}/latest/meta-data/iam/security-credentials/`)).status, 401)
})

test('the chain\'s order: environment, web identity, profile, container, metadata service', async () => {
  const everything = { ...metadataEnv(), ...containerEnv(), ...webIdentityEnv() }
  const cases = [
    [{ ...everything, AWS_ACCESS_KEY_ID: FROM_ENV.accessKeyId, AWS_SECRET_ACCESS_KEY: FROM_ENV.secretAccessKey }, /^AKIAENVCHAIN$/],
    [everything, /^ASIAWEBID/],
    [{ ...metadataEnv(), ...containerEnv() }, /^AKIAPROFILEKEYS$/, profileKeysFile],
    [{ ...metadataEnv(), ...containerEnv() }, /^ASIAECS/],
    [metadataEnv(), /^ASIAIMDS/]
  ]
  for (const [env, expected, credentialsFile] of cases) {
    const gateway = await start({ env, files: credentialsFile ? { '.aws/credentials': credentialsFile } : {} })
    assert.match((await signedCall(gateway)).accessKeyId, expected)
    await stop(gateway)
  }
})

test('credentials are fetched again before they expire, off the calls\' path', async () => {
  const shortLived = await new FakeInstanceMetadata(aws, { lifetimeMs: MARGIN_MS + 1500 }).listen()
  const gateway = await start({ env: metadataEnv(shortLived) })
  const first = await signedCall(gateway)
  const functionId = `chain${calls - 1}`
  let latest = first
  await waitUntil(async () => {
    latest = await invokeAgain(gateway, functionId) // every call in between succeeds
    return latest.accessKeyId !== first.accessKeyId
  }, 'a call signed with the refreshed credentials')
  assert.match(latest.accessKeyId, /^ASIAIMDS/)
  await stop(gateway)
  shortLived.close()
})

test('a failing refresh keeps the credentials until they expire, logs why, then calls fail saying so', async () => {
  const flaky = await new FakeContainerEndpoint(aws, { lifetimeMs: 3000 }).listen()
  const gateway = await start({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${flaky.url}${flaky.path}` } })
  const first = await signedCall(gateway)
  const functionId = `chain${calls - 1}`
  flaky.failing = true
  await waitUntil(() => /fetching AWS credentials failed: the container credentials endpoint .* answered HTTP status 500.*; calls keep using those from/.test(gateway.log),
    'the logged failure of the refresh')
  assert.equal((await invokeAgain(gateway, functionId)).accessKeyId, first.accessKeyId)
  let answer
  await waitUntil(async () => (answer = await gateway.invoke(functionId, {})).status === 502, 'the credentials to expire', 1000)
  assert.match(await gateway.loggedFailure(answer), /the AWS credentials from the container credentials endpoint .* expired at .* and could not be fetched again: .*HTTP status 500/)
  assert.ok(!gateway.log.includes(aws.keys[first.accessKeyId].secretAccessKey), 'the log holds a secret')
  await stop(gateway)
  flaky.close()
})
