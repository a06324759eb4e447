'use strict'
// awslambda functions against a local Lambda stand-in that verifies every request's SigV4 signature
// with the AWS SDK's own signer: static credentials, session tokens, the environment chain (variables
// and the shared credentials file with AWS_PROFILE), functions named by full ARN, function errors and
// the errors AWS answers for credentials and throttling.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Gateway, waitUntil } = require('../common/gateway')
const { FakeAws, ACCOUNT } = require('./support/fake_aws')

const STATIC = { accessKeyId: 'AKIASTATICEXAMPLE', secretAccessKey: 'static/secret+KEY=example' }
const TEMPORARY = { accessKeyId: 'ASIATEMPORARYEXAMPLE', secretAccessKey: 'temporary/secret', sessionToken: 'FwoGZXIvYXdzE//session+token==' }
const FROM_ENV = { accessKeyId: 'AKIAENVEXAMPLE', secretAccessKey: 'env/secret', sessionToken: 'env-session-token' }
const PROFILE = { accessKeyId: 'AKIAPROFILEEXAMPLE', secretAccessKey: 'profile/secret' }
const DEFAULT_PROFILE = { accessKeyId: 'AKIADEFAULTEXAMPLE', secretAccessKey: 'default/secret' }
const EXPIRED = { accessKeyId: 'ASIAEXPIREDEXAMPLE', secretAccessKey: 'expired/secret', sessionToken: 'old-token', expired: true }

const aws = new FakeAws(Object.fromEntries([STATIC, TEMPORARY, FROM_ENV, PROFILE, DEFAULT_PROFILE, EXPIRED]
  .map(({ accessKeyId, ...rest }) => [accessKeyId, rest])))
let gateway

function lambda (arn, credentials = STATIC, extra = {}) {
  return {
    arn,
    region: 'us-east-1',
    awsAccessKeyId: credentials.accessKeyId,
    awsSecretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { awsSessionToken: credentials.sessionToken } : {}),
    ...extra
  }
}

before(async () => {
  await aws.listen()
  gateway = await Gateway.start({ env: { AWS_ENDPOINT_URL_LAMBDA: aws.url } })
})

after(async () => {
  await gateway.stop()
  aws.close()
})

test('invokes a function by name with static credentials and returns its payload', async () => {
  assert.equal((await gateway.registerInvocable('echo', 'awslambda', lambda('echo'))).status, 201)
  const answer = await gateway.invoke('echo', { name: 'Max' })
  assert.equal(answer.status, 200, answer.text)
  assert.equal(answer.contentType, 'application/json')
  const body = JSON.parse(answer.text)
  assert.equal(body.functionName, 'echo')
  assert.equal(body.received.event, 'invoke')
  assert.deepEqual(body.received.data, { name: 'Max' })
  const call = aws.accepted.at(-1)
  assert.deepEqual([call.accessKeyId, call.region, call.service], [STATIC.accessKeyId, 'us-east-1', 'lambda'])
})

test('invokes a function given as a full ARN, signing the encoded path as AWS does', async () => {
  const arn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:echo`
  assert.equal((await gateway.registerInvocable('byArn', 'awslambda', lambda(arn))).status, 201)
  const answer = await gateway.invoke('byArn', { n: 1 })
  assert.equal(answer.status, 200, answer.text)
  assert.equal(JSON.parse(answer.text).functionName, arn)
  assert.equal(aws.accepted.at(-1).rawPath, `/2015-03-31/functions/${encodeURIComponent(arn)}/invocations`)
})

test('signs with a session token', async () => {
  const arn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:echo`
  assert.equal((await gateway.registerInvocable('temporary', 'awslambda', lambda(arn, TEMPORARY))).status, 201)
  const answer = await gateway.invoke('temporary', {})
  assert.equal(answer.status, 200, answer.text)
  assert.equal(aws.accepted.at(-1).accessKeyId, TEMPORARY.accessKeyId)
})

test('serves http events from a Lambda function\'s {statusCode, headers, body}', async () => {
  assert.equal((await gateway.config('POST', '/functions', { functionId: 'hello', type: 'awslambda', provider: lambda('hello') })).status, 201)
  assert.equal((await gateway.config('POST', '/subscriptions', { event: 'http', method: 'GET', path: '/hello', functionId: 'hello' })).status, 201)
  await gateway.sync()
  const response = await fetch(`${gateway.eventsUrl}/hello`)
  assert.equal(response.status, 200)
  assert.equal(response.headers.get('content-type'), 'text/plain')
  assert.equal(await response.text(), 'hello world')
})

test('a function error is a 500 to the caller and a gateway.function.invocationFailed event', async () => {
  // A subscriber of invocationFailed: the echo function, which records what it receives.
  assert.equal((await gateway.config('POST', '/functions', { functionId: 'failureLog', type: 'awslambda', provider: lambda('echo') })).status, 201)
  assert.equal((await gateway.config('POST', '/subscriptions', { event: 'gateway.function.invocationFailed', functionId: 'failureLog', path: '/' })).status, 201)
  assert.equal((await gateway.registerInvocable('fails', 'awslambda', lambda('fails'))).status, 201)

  const answer = await gateway.invoke('fails', {})
  assert.equal(answer.status, 500)
  assert.match(await gateway.loggedFailure(answer), /AWS Lambda function fails failed \(Unhandled\): Error: boom/)
  // (The probes of Gateway.sync() fail too, and are reported the same way.)
  const reportOf = call => call.event.event === 'gateway.function.invocationFailed' && call.event.data.functionId === 'fails'
  await waitUntil(() => aws.accepted.some(reportOf), 'the invocationFailed system event')
  const failed = aws.accepted.find(reportOf).event.data
  assert.equal(failed.event.event, 'invoke')
  assert.match(failed.error, /AWS Lambda function fails failed \(Unhandled\): Error: boom/)
})

test('access denied, unknown keys, expired tokens and throttling get messages that say what to do', async () => {
  await gateway.registerInvocable('denied', 'awslambda', lambda('denied'))
  const denied = await gateway.invoke('denied', {})
  assert.equal(denied.status, 502)
  assert.match(await gateway.loggedFailure(denied), /AWS denied access: the credentials from provider\.awsAccessKeyId \(access key AKIASTATICEXAMPLE\) may not call lambda:InvokeFunction on AWS Lambda function denied; allow it in their IAM policy \(AccessDeniedException: User: .* is not authorized/)

  await gateway.registerInvocable('unknownKey', 'awslambda', lambda('echo', { accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' }))
  const unknown = await gateway.invoke('unknownKey', {})
  assert.equal(unknown.status, 502)
  assert.match(await gateway.loggedFailure(unknown), /AWS does not recognize the credentials from provider\.awsAccessKeyId \(access key AKIANOBODY\): check the access key id.*\(UnrecognizedClientException: /)

  await gateway.registerInvocable('wrongSecret', 'awslambda', lambda('echo', { accessKeyId: STATIC.accessKeyId, secretAccessKey: 'not-the-secret' }))
  const wrongSecret = await gateway.invoke('wrongSecret', {})
  assert.match(await gateway.loggedFailure(wrongSecret), /AWS refused the request signature: check that the secret access key .* \(InvalidSignatureException: /)

  await gateway.registerInvocable('expired', 'awslambda', lambda('echo', EXPIRED))
  const expired = await gateway.invoke('expired', {})
  assert.equal(expired.status, 502)
  assert.match(await gateway.loggedFailure(expired), /session token of the credentials from provider\.awsAccessKeyId .* has expired; give the gateway fresh temporary credentials \(ExpiredTokenException: /)

  await gateway.registerInvocable('throttled', 'awslambda', lambda('throttled'))
  const throttled = await gateway.invoke('throttled', {})
  assert.equal(throttled.status, 502)
  assert.match(await gateway.loggedFailure(throttled), /AWS throttled the call to AWS Lambda function throttled: .*retry later .*\(TooManyRequestsException: Rate Exceeded\.\)/)

  await gateway.registerInvocable('missing', 'awslambda', lambda('nope'))
  const missing = await gateway.invoke('missing', {})
  assert.match(await gateway.loggedFailure(missing), /AWS Lambda function nope was not found in region us-east-1 \(ResourceNotFoundException: /)

  for (const secret of [STATIC.secretAccessKey, EXPIRED.secretAccessKey, EXPIRED.sessionToken, 'not-the-secret']) {
    assert.ok(!gateway.log.includes(secret), `the log holds the secret ${secret}`)
  }
})

test('secrets are stored but never returned by the Configuration API', async () => {
  await gateway.registerInvocable('secretive', 'awslambda', lambda('echo', TEMPORARY))
  const read = await gateway.config('GET', '/functions/secretive')
  assert.equal(read.status, 200)
  assert.deepEqual(read.body.provider, { arn: 'echo', region: 'us-east-1', awsAccessKeyId: TEMPORARY.accessKeyId })
  const listed = JSON.stringify((await gateway.config('GET', '/functions')).body)
  for (const secret of [STATIC.secretAccessKey, TEMPORARY.secretAccessKey, TEMPORARY.sessionToken]) {
    assert.ok(!listed.includes(secret))
  }
})

test('a provider endpoint overrides the environment, and a closed one is a 502', async () => {
  await gateway.registerInvocable('closed', 'awslambda', lambda('echo', STATIC, { endpoint: 'http://127.0.0.1:1' }))
  const answer = await gateway.invoke('closed', {})
  assert.equal(answer.status, 502)
  assert.match(await gateway.loggedFailure(answer), /calling AWS Lambda function echo at http:\/\/127\.0\.0\.1:1 failed/)
})

test('credentials and region from the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION', async () => {
  const fromEnv = await Gateway.start({
    env: {
      AWS_ENDPOINT_URL: aws.url,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: FROM_ENV.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FROM_ENV.secretAccessKey,
      AWS_SESSION_TOKEN: FROM_ENV.sessionToken
    }
  })
  try {
    const arn = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:echo`
    assert.equal((await fromEnv.registerInvocable('envChain', 'awslambda', { arn })).status, 201)
    const answer = await fromEnv.invoke('envChain', { marker: 'env-chain' })
    assert.equal(answer.status, 200, answer.text)
    const call = aws.accepted.findLast(accepted => accepted.event.data?.marker === 'env-chain')
    assert.deepEqual([call.accessKeyId, call.region], [FROM_ENV.accessKeyId, 'eu-west-1'])
    assert.ok(!fromEnv.log.includes(FROM_ENV.secretAccessKey))
  } finally {
    await fromEnv.stop()
  }
})

test('credentials from the shared credentials file, profile chosen by AWS_PROFILE', async () => {
  const credentialsFile = [
    '# written by the test',
    '[default]',
    `aws_access_key_id = ${DEFAULT_PROFILE.accessKeyId}`,
    `aws_secret_access_key = ${DEFAULT_PROFILE.secretAccessKey}`,
    '',
    '[ci]',
    `aws_access_key_id=${PROFILE.accessKeyId}`,
    `aws_secret_access_key=${PROFILE.secretAccessKey}`,
    ''
  ].join('\n')
  const withProfile = await Gateway.start({
    env: { AWS_ENDPOINT_URL_LAMBDA: aws.url, AWS_PROFILE: 'ci' },
    files: { '.aws/credentials': credentialsFile }
  })
  const withDefault = await Gateway.start({
    env: { AWS_ENDPOINT_URL_LAMBDA: aws.url },
    files: { '.aws/credentials': credentialsFile }
  })
  try {
    for (const [gatewayUnderTest, expected] of [[withProfile, PROFILE], [withDefault, DEFAULT_PROFILE]]) {
      assert.equal((await gatewayUnderTest.registerInvocable('profiled', 'awslambda', { arn: 'echo', region: 'us-east-1' })).status, 201)
      const answer = await gatewayUnderTest.invoke('profiled', { marker: expected.accessKeyId })
      assert.equal(answer.status, 200, answer.text)
      const call = aws.accepted.findLast(accepted => accepted.event.data?.marker === expected.accessKeyId)
      assert.equal(call.accessKeyId, expected.accessKeyId)
    }
  } finally {
    await withProfile.stop()
    await withDefault.stop()
  }
})

test('without credentials or region the call fails with a message that says how to provide them', async () => {
  assert.equal((await gateway.registerInvocable('noCredentials', 'awslambda', { arn: 'echo', region: 'us-east-1' })).status, 201)
  const noCredentials = await gateway.invoke('noCredentials', {})
  assert.equal(noCredentials.status, 502)
  assert.match(await gateway.loggedFailure(noCredentials), /no AWS credentials found: give the function provider\.awsAccessKeyId and provider\.awsSecretAccessKey, or start the gateway with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set, or with profile "default" in .*\.aws\/credentials/)

  assert.equal((await gateway.registerInvocable('noRegion', 'awslambda', { arn: 'echo', awsAccessKeyId: STATIC.accessKeyId, awsSecretAccessKey: STATIC.secretAccessKey })).status, 201)
  const noRegion = await gateway.invoke('noRegion', {})
  assert.equal(noRegion.status, 502)
  assert.match(await gateway.loggedFailure(noRegion), /no AWS region: give the function provider\.region or set AWS_REGION/)
})

test('invalid AWS settings are refused with a 400', async () => {
  const cases = [
    [{ arn: 'echo', region: 'us-east-1', endpoint: 'localhost:4566' }, /provider\.endpoint must be an absolute http/],
    [{ arn: 'echo', region: 'US East' }, /provider\.region must be an AWS region name/],
    [{ arn: 'echo', awsAccessKeyId: 'AKIA' }, /must be given together/]
  ]
  for (const [provider, message] of cases) {
    const answer = await gateway.config('POST', '/functions', { functionId: 'invalid', type: 'awslambda', provider })
    assert.equal(answer.status, 400)
    assert.match(answer.body.errors[0].message, message)
  }
})
