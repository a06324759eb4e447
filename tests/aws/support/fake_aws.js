'use strict'
// A stand-in for AWS Lambda (Invoke) and Kinesis Firehose (PutRecord) on 127.0.0.1 that does what
// AWS does first with every request: recompute its SigV4 signature, here with the AWS SDK's own
// signer, and refuse it unless it matches exactly. It knows a few access keys, a few Lambda
// functions with fixed behaviours, and records what it accepted.

const http = require('node:http')
const crypto = require('node:crypto')
const { signer } = require('./signer')

const ACCOUNT = '123456789012'

// Lambda functions by the name the gateway puts in the path (a plain name or a full ARN).
function lambdaBehaviour (name) {
  const plain = name.startsWith('arn:') ? name.split(':')[6] : name
  return ['echo', 'hello', 'fails', 'denied', 'throttled'].includes(plain) ? plain : null
}

function parseAuthorization (header) {
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(header || '')
  return match && { accessKeyId: match[1], date: match[2], region: match[3], service: match[4], signedHeaders: match[5].split(';') }
}

function amzDateToDate (amzDate) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate || '')
  return m && new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]))
}

class FakeAws {
  // `keys`: accessKeyId → { secretAccessKey, sessionToken?, expired? }
  constructor (keys) {
    this.keys = keys
    this.accepted = [] // { service, region, accessKeyId, rawPath, functionName?, streamName?, payload }
    this.deliveryStreams = { 'events-archive': [] }
    this.server = http.createServer((request, response) => {
      const chunks = []
      request.on('data', chunk => chunks.push(chunk))
      request.on('end', () => {
        this.handle(request, Buffer.concat(chunks)).then(
          answer => this.answer(response, answer),
          error => this.answer(response, { status: 500, type: 'InternalFailure', message: String(error) }))
      })
    })
  }

  async listen () {
    await new Promise(resolve => this.server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${this.server.address().port}`
  }

  close () { this.server.close() }

  answer (response, { status = 200, type, message, headers = {}, body }) {
    if (type) {
      // As Lambda does: the error type in x-amzn-ErrorType, the message in the body.
      response.setHeader('x-amzn-ErrorType', `${type}:http://internal.amazon.com/coral/com.amazonaws.awsfake/`)
      body = { __type: type, message }
    }
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value)
    response.setHeader('Content-Type', 'application/json')
    response.statusCode = status
    response.end(JSON.stringify(body ?? {}))
  }

  // { refused: the error AWS would answer } for a wrong signature, else { verified: who signed what }.
  async verify (request, body, service) {
    const refuse = error => ({ refused: error })
    const auth = parseAuthorization(request.headers.authorization)
    if (!auth) return refuse({ status: 403, type: 'IncompleteSignatureException', message: 'Authorization header malformed' })
    const key = this.keys[auth.accessKeyId]
    if (!key) return refuse({ status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' })
    if (key.sessionToken && request.headers['x-amz-security-token'] !== key.sessionToken) {
      return refuse({ status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' })
    }
    if (key.expired) return refuse({ status: 403, type: 'ExpiredTokenException', message: 'The security token included in the request is expired' })
    if (auth.service !== service) return refuse({ status: 403, type: 'InvalidSignatureException', message: `Credential should be scoped to correct service: '${service}'.` })
    const signingDate = amzDateToDate(request.headers['x-amz-date'])
    if (!signingDate || Math.abs(Date.now() - signingDate) > 5 * 60 * 1000) {
      return refuse({ status: 403, type: 'InvalidSignatureException', message: 'Signature expired or X-Amz-Date missing' })
    }
    const rawPath = request.url.split('?')[0]
    const url = new URL(request.url, 'http://placeholder')
    const headers = {}
    for (const name of auth.signedHeaders) headers[name] = request.headers[name]
    const expected = await signer({
      service, region: auth.region, credentials: { accessKeyId: auth.accessKeyId, ...key }
    }).sign({
      method: request.method,
      protocol: 'http:',
      hostname: request.headers.host.split(':')[0],
      path: rawPath, // as sent: the SDK's signer encodes it once more, as AWS does
      query: Object.fromEntries(url.searchParams),
      headers,
      body
    }, { signingDate })
    if (expected.headers.authorization !== request.headers.authorization) {
      return refuse({ status: 403, type: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' })
    }
    return { verified: { service, region: auth.region, accessKeyId: auth.accessKeyId, rawPath } }
  }

  async handle (request, body) {
    const invoke = /^\/2015-03-31\/functions\/([^/?]+)\/invocations(\?|$)/.exec(request.url)
    if (request.method === 'POST' && invoke) return this.handleInvoke(request, body, decodeURIComponent(invoke[1]))
    if (request.method === 'POST' && request.headers['x-amz-target'] === 'Firehose_20150804.PutRecord') {
      return this.handlePutRecord(request, body)
    }
    return { status: 404, type: 'UnknownOperationException', message: `no such operation ${request.method} ${request.url}` }
  }

  async handleInvoke (request, body, functionName) {
    const { refused, verified } = await this.verify(request, body, 'lambda')
    if (refused) return refused
    const behaviour = lambdaBehaviour(functionName)
    const arn = `arn:aws:lambda:${verified.region}:${ACCOUNT}:function:${functionName}`
    if (!behaviour) return { status: 404, type: 'ResourceNotFoundException', message: `Function not found: ${arn}` }
    if (request.headers['x-amz-invocation-type'] !== 'RequestResponse') {
      return { status: 400, type: 'InvalidParameterValueException', message: 'expected X-Amz-Invocation-Type RequestResponse' }
    }
    const event = JSON.parse(body.toString())
    this.accepted.push({ ...verified, functionName, event })
    switch (behaviour) {
      case 'fails':
        return { headers: { 'X-Amz-Function-Error': 'Unhandled' }, body: { errorType: 'Error', errorMessage: 'boom', trace: [] } }
      case 'denied':
        return { status: 403, type: 'AccessDeniedException', message: `User: arn:aws:iam::${ACCOUNT}:user/ci is not authorized to perform: lambda:InvokeFunction on resource: ${arn}` }
      case 'throttled':
        return { status: 429, type: 'TooManyRequestsException', message: 'Rate Exceeded.' }
      case 'hello':
        return { body: { statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: `hello ${event.data?.name ?? 'world'}` } }
      default:
        return { body: { functionName, received: event } }
    }
  }

  async handlePutRecord (request, body) {
    const { refused, verified } = await this.verify(request, body, 'firehose')
    if (refused) return refused
    const input = JSON.parse(body.toString())
    const records = this.deliveryStreams[input.DeliveryStreamName]
    if (!records) {
      return { status: 400, type: 'ResourceNotFoundException', message: `Firehose ${input.DeliveryStreamName} under account ${ACCOUNT} not found.` }
    }
    const recordId = crypto.randomBytes(16).toString('hex')
    records.push({ recordId, data: Buffer.from(input.Record.Data, 'base64').toString() })
    this.accepted.push({ ...verified, streamName: input.DeliveryStreamName })
    return { body: { RecordId: recordId, Encrypted: false } }
  }
}

module.exports = { FakeAws, ACCOUNT }
