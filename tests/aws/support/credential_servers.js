'use strict'
// Stand-ins, on 127.0.0.1, for the places the AWS SDKs' default credential chain fetches temporary
// credentials from, each speaking its protocol as AWS documents it:
//   - STS (Query API, form-encoded POST, XML answers): AssumeRoleWithWebIdentity, unsigned, checks the
//     web identity token; AssumeRole, whose SigV4 signature it verifies with the AWS SDK's own signer
//     against the source credentials it knows, as STS does;
//   - the ECS/EKS container credentials endpoint: GET, refused without the expected Authorization;
//   - the EC2 instance metadata service, IMDSv2: PUT /latest/api/token with a TTL header gives a
//     session token; every GET without a valid token is a 401.
// Credentials they hand out are minted fresh on every request and registered with the Lambda
// stand-in (FakeAws), so that a call signed with them is accepted there and names its source.

const http = require('node:http')
const crypto = require('node:crypto')
const { signer } = require('./signer')

let minted = 0

// New temporary credentials for `tag` (`WEBID`, `ROLE`, `ECS`, `IMDS`, …), valid for `lifetimeMs`.
function mint (aws, tag, lifetimeMs) {
  const credentials = {
    accessKeyId: `ASIA${tag}${String(++minted).padStart(4, '0')}`,
    secretAccessKey: crypto.randomBytes(20).toString('base64'),
    sessionToken: crypto.randomBytes(32).toString('base64'),
    expiration: new Date(Date.now() + lifetimeMs)
  }
  aws.keys[credentials.accessKeyId] = { secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken }
  return credentials
}

class StandIn {
  constructor () {
    this.requests = [] // { method, url, headers, body }
    this.server = http.createServer((request, response) => {
      const chunks = []
      request.on('data', chunk => chunks.push(chunk))
      request.on('end', () => {
        const body = Buffer.concat(chunks)
        this.requests.push({ method: request.method, url: request.url, headers: request.headers, body: body.toString() })
        Promise.resolve(this.handle(request, body)).then(
          ({ status = 200, type = 'application/json', body: text = '' }) => {
            response.writeHead(status, { 'Content-Type': type })
            response.end(text)
          },
          error => { response.writeHead(500); response.end(String(error)) })
      })
    })
  }

  async listen () {
    await new Promise(resolve => this.server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${this.server.address().port}`
    return this
  }

  close () { this.server.close() }
}

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/'

function stsError (status, code, message) {
  return {
    status,
    type: 'text/xml',
    body: `<ErrorResponse xmlns="${STS_NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${crypto.randomUUID()}</RequestId></ErrorResponse>`
  }
}

function stsCredentials (action, credentials, roleArn, sessionName) {
  const extra = action === 'AssumeRoleWithWebIdentity'
    ? '<SubjectFromWebIdentityToken>system:serviceaccount:default:gateway</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience><Provider>oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE</Provider>'
    : ''
  return {
    type: 'text/xml',
    body: `<${action}Response xmlns="${STS_NS}"><${action}Result>${extra}` +
      `<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:${sessionName}</AssumedRoleId><Arn>${roleArn.replace(':role/', ':assumed-role/')}/${sessionName}</Arn></AssumedRoleUser>` +
      `<Credentials><AccessKeyId>${credentials.accessKeyId}</AccessKeyId><SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>` +
      `<SessionToken>${credentials.sessionToken}</SessionToken><Expiration>${credentials.expiration.toISOString()}</Expiration></Credentials>` +
      `</${action}Result><ResponseMetadata><RequestId>${crypto.randomUUID()}</RequestId></ResponseMetadata></${action}Response>`
  }
}

class FakeSts extends StandIn {
  // `webIdentityToken`: the token AssumeRoleWithWebIdentity accepts; `sourceKeys`: accessKeyId →
  // secretAccessKey that may sign AssumeRole.
  constructor (aws, { webIdentityToken, sourceKeys = {}, lifetimeMs = 3600_000 }) {
    super()
    Object.assign(this, { aws, webIdentityToken, sourceKeys, lifetimeMs })
  }

  async handle (request, body) {
    if (request.method !== 'POST') return stsError(405, 'InvalidAction', 'POST only')
    if (!/^application\/x-www-form-urlencoded/.test(request.headers['content-type'] || '')) {
      return stsError(400, 'InvalidParameterValue', 'expected a form-encoded body')
    }
    const form = new URLSearchParams(body.toString())
    const action = form.get('Action')
    if (form.get('Version') !== '2011-06-15') return stsError(400, 'InvalidParameterValue', 'Version must be 2011-06-15')
    const roleArn = form.get('RoleArn')
    const sessionName = form.get('RoleSessionName')
    if (!/^arn:aws:iam::\d{12}:role\/.+/.test(roleArn || '') || !/^[\w+=,.@-]{2,64}$/.test(sessionName || '')) {
      return stsError(400, 'ValidationError', 'RoleArn or RoleSessionName is invalid')
    }
    if (action === 'AssumeRoleWithWebIdentity') {
      if (request.headers.authorization) return stsError(400, 'InvalidAction', 'AssumeRoleWithWebIdentity is unsigned')
      if (form.get('WebIdentityToken') !== this.webIdentityToken) return stsError(400, 'InvalidIdentityToken', 'Token is not valid')
      return stsCredentials(action, mint(this.aws, 'WEBID', this.lifetimeMs), roleArn, sessionName)
    }
    if (action === 'AssumeRole') {
      const refused = await this.verify(request, body)
      if (refused) return refused
      return stsCredentials(action, mint(this.aws, 'ROLE', this.lifetimeMs), roleArn, sessionName)
    }
    return stsError(400, 'InvalidAction', `Could not find operation ${action}`)
  }

  // As STS does: the signature recomputed with the secret of the key that signed, or a refusal.
  async verify (request, body) {
    const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/sts\/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$/.exec(request.headers.authorization || '')
    if (!match) return stsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token')
    const [, accessKeyId, region, signedHeaders] = match
    const secretAccessKey = this.sourceKeys[accessKeyId]
    if (!secretAccessKey) return stsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
    const amzDate = request.headers['x-amz-date']
    const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'))
    const headers = {}
    for (const name of signedHeaders.split(';')) headers[name] = request.headers[name]
    const expected = await signer({ service: 'sts', region, credentials: { accessKeyId, secretAccessKey } }).sign({
      method: 'POST', protocol: 'http:', hostname: request.headers.host.split(':')[0], path: request.url, query: {}, headers, body
    }, { signingDate })
    if (expected.headers.authorization !== request.headers.authorization) {
      return stsError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.')
    }
    this.signedBy = accessKeyId
    return null
  }
}

class FakeContainerEndpoint extends StandIn {
  constructor (aws, { path = '/v2/credentials/task', authorization, lifetimeMs = 3600_000 }) {
    super()
    Object.assign(this, { aws, path, authorization, lifetimeMs, failing: false })
  }

  handle (request) {
    if (this.failing) return { status: 500, body: JSON.stringify({ code: 'InternalError', message: 'agent unavailable' }) }
    if (request.method !== 'GET' || request.url !== this.path) return { status: 404, body: '{"message":"not found"}' }
    if (this.authorization && request.headers.authorization !== this.authorization) {
      return { status: 401, body: '{"message":"unauthorized: the Authorization header is missing or wrong"}' }
    }
    const credentials = mint(this.aws, 'ECS', this.lifetimeMs)
    return {
      body: JSON.stringify({
        RoleArn: 'arn:aws:iam::123456789012:role/task',
        AccessKeyId: credentials.accessKeyId,
        SecretAccessKey: credentials.secretAccessKey,
        Token: credentials.sessionToken,
        Expiration: credentials.expiration.toISOString()
      })
    }
  }
}

class FakeInstanceMetadata extends StandIn {
  constructor (aws, { role = 'gateway-instance-role', lifetimeMs = 6 * 3600_000 }) {
    super()
    Object.assign(this, { aws, role, lifetimeMs, tokens: new Set() })
  }

  handle (request) {
    const text = (status, body) => ({ status, type: 'text/plain', body })
    if (request.url === '/latest/api/token') {
      if (request.method !== 'PUT') return text(405, 'Method Not Allowed')
      const ttl = Number(request.headers['x-aws-ec2-metadata-token-ttl-seconds'])
      if (!(ttl >= 1 && ttl <= 21600)) return text(400, 'Bad Request')
      const token = crypto.randomBytes(24).toString('base64')
      this.tokens.add(token)
      return text(200, token)
    }
    if (request.method !== 'GET') return text(405, 'Method Not Allowed')
    if (!this.tokens.has(request.headers['x-aws-ec2-metadata-token'])) return text(401, 'Unauthorized')
    const prefix = '/latest/meta-data/iam/security-credentials/'
    if (request.url === prefix) return text(200, this.role)
    if (request.url !== prefix + this.role) return text(404, 'Not Found')
    const credentials = mint(this.aws, 'IMDS', this.lifetimeMs)
    return {
      body: JSON.stringify({
        Code: 'Success',
        LastUpdated: new Date().toISOString(),
        Type: 'AWS-HMAC',
        AccessKeyId: credentials.accessKeyId,
        SecretAccessKey: credentials.secretAccessKey,
        Token: credentials.sessionToken,
        Expiration: credentials.expiration.toISOString()
      }, null, 2)
    }
  }
}

module.exports = { FakeSts, FakeContainerEndpoint, FakeInstanceMetadata }
