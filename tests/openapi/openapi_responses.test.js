'use strict'
// The OpenAPI documents of docs/openapi/ against the real binary: a realistic run through both APIs
// (every operation of both documents, successes and the errors a user meets), each answer checked
// against the document (status, documented headers, media type, body), each request the test expects
// to succeed checked against it too, and the events functions receive against the Events API
// document's Event schema. A response the document does not describe fails the test, and so does an
// operation of the document no request reached: the documents cannot drift from the code. The
// gateway serves both documents byte for byte as they are in docs/openapi/.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { Gateway, binary, waitUntil } = require('../common/gateway')
const { Contract } = require('./support/contract')

const documents = path.join(__dirname, '..', '..', 'docs', 'openapi')
const configApi = new Contract(path.join(documents, 'config-api.json'))
const eventsApi = new Contract(path.join(documents, 'events-api.json'), { catchAll: '/{path}' })

// What the Configuration API answers for a path it does not serve: a document that lists one is stale.
const unknownConfigRoute = /^no such Configuration API resource/

// A client of one API whose every exchange is checked against that API's document.
class CheckedClient {
  constructor (baseUrl, contract, unknownRoute) {
    this.baseUrl = baseUrl
    this.contract = contract
    this.unknownRoute = unknownRoute
  }

  // `json`: a body sent as application/json; `valid`: the document must accept the request too.
  async send (method, target, { headers = {}, json, body, valid = false } = {}) {
    const sent = { ...headers }
    if (json !== undefined) {
      body = JSON.stringify(json)
      sent['Content-Type'] = sent['Content-Type'] || 'application/json'
    }
    const response = await fetch(this.baseUrl + target, { method, headers: sent, body })
    const text = await response.text()
    const url = new URL(target, 'http://gateway')
    this.contract.check(
      { method, path: url.pathname, headers: sent, body: json ?? body, valid, query: Object.fromEntries(url.searchParams) },
      { status: response.status, headers: response.headers, text })
    let parsed
    try { parsed = JSON.parse(text) } catch { parsed = undefined }
    if (this.unknownRoute && this.unknownRoute.test(parsed?.errors?.[0]?.message)) {
      throw new Error(`${method} ${target}: the gateway serves no such path, which ${this.contract.file} lists`)
    }
    return { status: response.status, headers: response.headers, text, json: parsed }
  }
}

// Opens the live traffic stream at `target`, reads it until the `until` text has arrived (or the
// stream ends, for a refusal), hangs up, and checks what was read against the document.
async function openStream (client, target, { headers = {}, until = 'event: open\n' } = {}) {
  const controller = new AbortController()
  const response = await fetch(client.baseUrl + target, { headers, signal: controller.signal })
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
    if (response.ok && text.includes(until)) break
  }
  controller.abort()
  client.contract.check({ method: 'GET', path: new URL(target, 'http://gateway').pathname, headers, valid: response.ok },
    { status: response.status, headers: response.headers, text })
  return { status: response.status, text }
}

// Functions of every kind of answer, on one local server; it keeps every event it was called with.
const received = []
let functions
let functionsUrl
function answer (response, status, body, contentType = 'application/json') {
  response.writeHead(status, { 'Content-Type': contentType })
  response.end(typeof body === 'string' ? body : JSON.stringify(body))
}
const behaviours = {
  '/hello': (event, response) => event.event === 'invoke'
    ? answer(response, 200, { greeting: 'hello', data: event.data })
    : answer(response, 200, { statusCode: 200, headers: { 'Content-Type': 'application/json', 'X-Hello': 'yes' }, body: JSON.stringify({ message: 'Hello, world!' }) }),
  '/created': (event, response) => answer(response, 200, { statusCode: 201, headers: { Location: '/items/1' }, body: '' }),
  '/text': (event, response) => answer(response, 200, { statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: 'plain words' }),
  '/broken': (event, response) => answer(response, 500, 'it broke', 'text/plain'),
  '/garbage': (event, response) => answer(response, 200, 'not a response object', 'text/plain'),
  '/gone': (event, response) => answer(response, 410, 'gone for good', 'text/plain'),
  '/slow': () => {} // never answers: the gateway's -function-timeout does
}

before(async () => {
  functions = http.createServer((request, response) => {
    let body = ''
    request.on('data', chunk => { body += chunk })
    request.on('end', () => {
      const event = JSON.parse(body)
      received.push(event)
      ;(behaviours[request.url] || ((e, r) => answer(r, 404, 'no such function', 'text/plain')))(event, response)
    })
  })
  await new Promise(resolve => functions.listen(0, '127.0.0.1', resolve))
  functionsUrl = `http://127.0.0.1:${functions.address().port}`
})

after(() => {
  functions.closeAllConnections()
  functions.close()
})

const httpFunction = (functionId, route) => ({ functionId, type: 'http', provider: { url: functionsUrl + route } })

async function waitForDeadLetters (config, count) {
  let letters = []
  await waitUntil(async () => {
    letters = (await config.send('GET', '/v1/spaces/default/deadletters')).json.deadLetters
    return letters.length >= count && letters.every(letter => !letter.redelivering)
  }, `${count} dead letters`, 3000) // 30 s or more: a busy CI machine
  return letters
}

test('both documents are valid OpenAPI 3.0, of this version of the gateway, and served byte for byte', async () => {
  const gateway = await Gateway.start()
  try {
    const version = execFileSync(binary, ['-version']).toString().trim().replace(/^event-gateway /, '')
    const config = new CheckedClient(gateway.configUrl, configApi, unknownConfigRoute)
    for (const [target, contract] of [['/v1/openapi.json', configApi], ['/v1/openapi/events-api.json', eventsApi]]) {
      assert.equal(contract.raw.info.version, version, `${contract.file}: info.version is the gateway's version`)
      const served = await config.send('GET', target, { valid: true })
      assert.equal(served.status, 200)
      assert.equal(served.headers.get('content-type'), 'application/json')
      assert.equal(served.text, contract.text, `${target} serves ${contract.file} as it is`)
      // As bytes too: the file must be UTF-8, which the text comparison above takes for granted.
      assert.deepEqual(Buffer.from(served.text), fs.readFileSync(contract.file))
      new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(contract.file))
    }
    // Only GET: another method is a 405 naming it, as for every resource of the API.
    const refused = await fetch(`${gateway.configUrl}/v1/openapi.json`, { method: 'DELETE' })
    assert.equal(refused.status, 405)
    assert.equal(refused.headers.get('allow'), 'GET')
  } finally {
    await gateway.stop()
  }
})

test('a realistic run through both APIs answers only what the documents describe, and reaches every operation', async () => {
  const gateway = await Gateway.start()
  try {
    const config = new CheckedClient(gateway.configUrl, configApi, unknownConfigRoute)
    const events = new CheckedClient(gateway.eventsUrl, eventsApi)
    const spaceUrl = '/v1/spaces/default'

    // The instance and its probes.
    for (const target of ['/healthz', '/readyz', '/v1/status', '/metrics', '/v1/metrics']) {
      assert.equal((await config.send('GET', target, { valid: true })).status, 200, target)
    }
    assert.match((await config.send('GET', '/metrics')).headers.get('content-type'), /^text\/plain; version=0\.0\.4/)

    // Functions of every type; the AWS ones are registered, never called.
    for (const [functionId, route] of [['hello', '/hello'], ['created', '/created'], ['text', '/text'], ['broken', '/broken'],
      ['garbage', '/garbage'], ['gone', '/gone'], ['spare', '/hello']]) {
      assert.equal((await config.send('POST', `${spaceUrl}/functions`, { json: httpFunction(functionId, route), valid: true })).status, 201)
    }
    assert.equal((await config.send('POST', `${spaceUrl}/functions`, {
      json: { functionId: 'unreachable', type: 'http', provider: { url: 'http://127.0.0.1:1/' } }, valid: true
    })).status, 201)
    const aws = { region: 'us-east-1', awsAccessKeyId: 'AKIAEXAMPLE', awsSecretAccessKey: 'secret', awsSessionToken: 'token' }
    for (const json of [
      { functionId: 'lambda', type: 'awslambda', provider: { arn: 'arn:aws:lambda:us-east-1:123456789012:function:f', ...aws } },
      { functionId: 'kinesis', type: 'awskinesis', provider: { streamName: 'stream', ...aws } },
      { functionId: 'firehose', type: 'awsfirehose', provider: { deliveryStreamName: 'delivery', region: 'eu-west-1' } }
    ]) {
      const created = await config.send('POST', `${spaceUrl}/functions`, { json, valid: true })
      assert.equal(created.status, 201)
      assert.equal(created.json.provider.awsSecretAccessKey, undefined, 'the document says secrets are never returned')
    }
    assert.equal((await config.send('POST', `${spaceUrl}/functions`, { json: httpFunction('hello', '/hello') })).status, 409)
    assert.equal((await config.send('POST', `${spaceUrl}/functions`, { json: { functionId: 'nothing', type: 'http' } })).status, 400)
    assert.equal((await config.send('POST', `${spaceUrl}/functions`, { json: { functionId: 'f', type: 'ftp', provider: {} } })).status, 400)
    assert.equal((await config.send('POST', `${spaceUrl}/functions`, { body: '{"functionId":', headers: { 'Content-Type': 'application/json' } })).status, 400)
    assert.equal((await config.send('POST', `${spaceUrl}/functions`, { body: 'functionId=f', headers: { 'Content-Type': 'text/plain' } })).status, 415)
    assert.equal((await config.send('POST', `${spaceUrl}/functions`, {
      json: httpFunction('page', '/hello'), headers: { Origin: 'https://evil.example' }
    })).status, 403)
    assert.equal((await config.send('GET', '/v1/spaces/not%20a%20space/functions')).status, 400)
    assert.equal((await config.send('GET', `${spaceUrl}/functions`, { valid: true })).json.functions.length, 11)
    assert.equal((await config.send('GET', `${spaceUrl}/functions/lambda`, { valid: true })).status, 200)
    assert.equal((await config.send('GET', `${spaceUrl}/functions/missing`)).status, 404)
    assert.equal((await config.send('PUT', `${spaceUrl}/functions/spare`, { json: { type: 'http', provider: { url: functionsUrl + '/text' } }, valid: true })).status, 200)
    assert.equal((await config.send('PUT', `${spaceUrl}/functions/spare`, { json: { functionId: 'other', type: 'http', provider: { url: functionsUrl } } })).status, 400)
    assert.equal((await config.send('PUT', `${spaceUrl}/functions/missing`, { json: { type: 'http', provider: { url: functionsUrl } } })).status, 404)

    // Subscriptions of every kind.
    const subscribe = json => config.send('POST', `${spaceUrl}/subscriptions`, { json, valid: true })
    for (const json of [
      { event: 'http', method: 'GET', path: '/hello', functionId: 'hello' },
      { event: 'http', method: 'post', path: '/items', functionId: 'created', cors: { origins: ['https://app.example'], allowCredentials: true } },
      { event: 'http', method: 'PUT', path: '/items/:id', functionId: 'created', cors: {} },
      { event: 'http', method: 'PATCH', path: '/items/:id', functionId: 'created' },
      { event: 'http', method: 'DELETE', path: '/items/:id', functionId: 'created' },
      { event: 'http', method: 'HEAD', path: '/hello', functionId: 'hello' },
      { event: 'http', method: 'OPTIONS', path: '/files/*rest', functionId: 'text' },
      { event: 'http', method: 'GET', path: '/', functionId: 'text' },
      { event: 'http', method: 'GET', path: '/broken', functionId: 'broken' },
      { event: 'http', method: 'GET', path: '/garbage', functionId: 'garbage' },
      { event: 'http', method: 'GET', path: '/unreachable', functionId: 'unreachable' },
      { event: 'http', method: 'GET', path: '/private', functionId: 'hello', requireApiKey: true },
      { event: 'invoke', functionId: 'hello' },
      { event: 'invoke', functionId: 'broken', path: '/' },
      { event: 'user.created', functionId: 'hello', path: '/users/' },
      { event: 'user.created', functionId: 'gone', path: '/letters', delivery: { maxAttempts: 1 } },
      { event: 'gateway.function.invoked', functionId: 'spare', delivery: { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 100, maxAgeSeconds: 60 } }
    ]) {
      const created = await subscribe(json)
      assert.equal(created.status, 201, JSON.stringify(json))
    }
    assert.equal((await config.send('POST', `${spaceUrl}/subscriptions`, { json: { event: 'http', method: 'GET', path: '/hello', functionId: 'spare' } })).status, 409)
    assert.equal((await config.send('POST', `${spaceUrl}/subscriptions`, { json: { event: 'http', method: 'PUT', path: '/items/:name', functionId: 'spare' } })).status, 400)
    assert.equal((await config.send('POST', `${spaceUrl}/subscriptions`, { json: { event: 'user.created', functionId: 'nobody' } })).status, 400)
    assert.equal((await config.send('POST', `${spaceUrl}/subscriptions`, { json: { event: 'http', method: 'GET', path: '/healthz', functionId: 'hello' } })).status, 400)
    assert.equal((await config.send('POST', `${spaceUrl}/subscriptions`, { json: { event: 'user.created', functionId: 'hello', delivery: { retries: 3 } } })).status, 400)
    const listed = (await config.send('GET', `${spaceUrl}/subscriptions`, { valid: true })).json.subscriptions
    assert.equal(listed.length, 17)
    const customId = 'user.created,hello,%2Fusers'
    assert.equal((await config.send('GET', `${spaceUrl}/subscriptions/${customId}`, { valid: true })).json.path, '/users')
    assert.equal((await config.send('GET', `${spaceUrl}/subscriptions/${encodeURIComponent('http,GET,%2Fhello')}`, { valid: true })).status, 200)
    assert.equal((await config.send('GET', `${spaceUrl}/subscriptions/user.created,nobody,%2F`)).status, 404)
    assert.equal((await config.send('DELETE', `${spaceUrl}/functions/hello`)).status, 400, 'subscriptions still use it')
    await gateway.sync()

    // http events: the function's answer, and the gateway's own errors.
    const hello = await events.send('GET', '/hello?name=Max', { valid: true })
    assert.equal(hello.status, 200)
    assert.equal(hello.headers.get('x-hello'), 'yes')
    assert.equal((await events.send('HEAD', '/hello', { valid: true })).status, 200)
    assert.equal((await events.send('GET', '/', { valid: true })).text, 'plain words')
    assert.equal((await events.send('POST', '/items', { json: { name: 'box' }, headers: { Origin: 'https://app.example' }, valid: true })).headers.get('access-control-allow-credentials'), 'true')
    assert.equal((await events.send('PUT', '/items/1', { json: { name: 'box' }, headers: { Origin: 'https://any.example' }, valid: true })).headers.get('access-control-allow-origin'), '*')
    assert.equal((await events.send('PATCH', '/items/1', { body: 'raw', headers: { 'Content-Type': 'text/plain' }, valid: true })).status, 201)
    assert.equal((await events.send('DELETE', '/items/1', { valid: true })).status, 201)
    assert.equal((await events.send('OPTIONS', '/files/a/b', { valid: true })).status, 200)
    const preflight = await events.send('OPTIONS', '/items', { headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' }, valid: true })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example')
    assert.equal((await events.send('OPTIONS', '/', { headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' }, valid: true })).headers.get('access-control-allow-origin'), '*')
    assert.equal((await events.send('GET', '/broken')).status, 500)
    assert.equal((await events.send('GET', '/garbage')).status, 500)
    assert.equal((await events.send('GET', '/unreachable')).status, 502)
    assert.equal((await events.send('GET', '/private')).status, 401, 'requireApiKey on a gateway without -events-api-keys')
    for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'POST']) {
      for (const target of ['/nowhere/at/all', '/items']) {
        if (method === 'POST' && target === '/items') continue
        assert.equal((await events.send(method, target)).status, 404, `${method} ${target}`)
      }
    }
    for (const method of ['PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'POST']) {
      assert.equal((await events.send(method, '/')).status, 404, `${method} /`)
    }
    assert.equal((await events.send('GET', '/hello', { headers: { 'Event-Gateway-Hops': 'many' } })).status, 400)
    assert.equal((await events.send('GET', '/hello', { headers: { 'Event-Gateway-Hops': '17' } })).status, 508)

    // Custom events and invoke.
    const emitted = await events.send('POST', '/users', { json: { name: 'Max' }, headers: { Event: 'user.created', Origin: 'https://app.example' }, valid: true })
    assert.equal(emitted.status, 202)
    assert.equal(emitted.headers.get('access-control-allow-origin'), '*')
    assert.equal((await events.send('POST', '/', { body: 'bytes', headers: { Event: 'nobody.listens', 'Content-Type': 'application/octet-stream', Space: 'other' }, valid: true })).status, 202)
    assert.equal((await events.send('POST', '/', { json: {}, headers: { Event: 'gateway.function.invoked' } })).status, 400)
    assert.equal((await events.send('POST', '/', { body: '{"a":', headers: { Event: 'user.created', 'Content-Type': 'application/json' } })).status, 400)
    assert.equal((await events.send('POST', '/', { json: {}, headers: { Event: 'user.created', Space: 'no space' } })).status, 400)
    assert.equal((await events.send('GET', '/users', { headers: { Event: 'user.created' } })).status, 400)
    const invoked = await events.send('POST', '/', { json: { n: 1 }, headers: { Event: 'invoke', 'Function-ID': 'hello' }, valid: true })
    assert.deepEqual(invoked.json, { greeting: 'hello', data: { n: 1 } })
    assert.equal((await events.send('POST', '/', { json: {}, headers: { Event: 'invoke', 'Function-ID': 'broken' } })).status, 500)
    assert.equal((await events.send('POST', '/', { json: {}, headers: { Event: 'invoke', 'Function-ID': 'created' } })).status, 404)
    assert.equal((await events.send('POST', '/', { json: {}, headers: { Event: 'invoke' } })).status, 400)
    for (const target of ['/healthz', '/readyz']) assert.equal((await events.send('GET', target, { valid: true })).status, 200)

    // The console's catalog and live traffic (docs/console.md).
    const stream = openStream(config, `${spaceUrl}/events/stream`, { until: 'event: received\n' })
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.equal((await events.send('POST', '/', { json: { n: 3 }, headers: { Event: 'catalog.seen' }, valid: true })).status, 202)
    assert.match((await stream).text, /"event":"catalog\.seen"/)
    const catalog = await config.send('GET', `${spaceUrl}/events/catalog`, { valid: true })
    assert.equal(catalog.status, 200)
    assert.ok(catalog.json.events.some(event => event.name === 'catalog.seen'))
    assert.equal((await config.send('GET', '/v1/spaces/no%20space/events/catalog')).status, 400)
    assert.equal((await openStream(config, '/v1/spaces/no%20space/events/stream')).status, 400)

    // Dead letters: a function that answers 410 is not retried.
    assert.equal((await events.send('POST', '/letters', { json: { n: 2 }, headers: { Event: 'user.created' }, valid: true })).status, 202)
    const [letter] = await waitForDeadLetters(config, 1)
    const letterUrl = `${spaceUrl}/deadletters/${letter.deadLetterId}`
    assert.equal((await config.send('GET', letterUrl, { valid: true })).json.attempts, 1)
    assert.equal((await config.send('GET', `${spaceUrl}/deadletters?limit=1`, { valid: true })).status, 200)
    assert.equal((await config.send('GET', `${spaceUrl}/deadletters?limit=0`)).status, 400)
    assert.equal((await config.send('GET', `${spaceUrl}/deadletters?cursor=not-a-cursor`)).status, 400)
    assert.equal((await config.send('GET', `${spaceUrl}/deadletters/none`)).status, 404)
    const redelivering = await config.send('POST', `${letterUrl}/redeliver`, { valid: true })
    assert.equal(redelivering.status, 202)
    assert.equal(redelivering.json.redelivering, true)
    const [returned] = await waitForDeadLetters(config, 1) // it fails for good again
    const returnedUrl = `${spaceUrl}/deadletters/${returned.deadLetterId}`
    assert.equal((await config.send('POST', `${spaceUrl}/deadletters/none/redeliver`)).status, 404)
    assert.equal((await config.send('DELETE', `${spaceUrl}/subscriptions/user.created,gone,%2Fletters`, { valid: true })).status, 204)
    assert.equal((await config.send('POST', `${returnedUrl}/redeliver`)).status, 409)
    assert.equal((await config.send('DELETE', returnedUrl, { valid: true })).status, 204)
    assert.equal((await config.send('DELETE', returnedUrl)).status, 404)

    // Deletions.
    assert.equal((await config.send('DELETE', `${spaceUrl}/subscriptions/user.created,gone,%2Fletters`)).status, 404)
    assert.equal((await config.send('DELETE', `${spaceUrl}/functions/gone`, { body: 'why', headers: { 'Content-Type': 'text/plain' } })).status, 415)
    assert.equal((await config.send('DELETE', `${spaceUrl}/functions/gone`, { valid: true })).status, 204)
    assert.equal((await config.send('DELETE', `${spaceUrl}/functions/gone`)).status, 404)

    // What functions received is the document's Event, with HttpEventData for http events.
    await waitUntil(() => received.some(event => event.event === 'gateway.function.invoked'), 'a system event', 3000)
    assert.ok(received.length > 10)
    for (const event of received) {
      eventsApi.validateSchema('Event', event)
      if (event.event === 'http') eventsApi.validateSchema('HttpEventData', event.data)
    }
  } finally {
    await gateway.stop()
  }
})

// The documents say which operations need no key (`security: []`); a gateway with keys on both
// APIs must agree, and its refusals must be the documented ones.
test('with keys on both APIs, what the documents call public needs no key, and the refusals are documented', async () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'eg-openapi-keys-'))
  const keyFile = path.join(directory, 'keys')
  const key = 'openapi-key-0123456789abcdef'
  const teamKey = 'openapi-team-key-0123456789'
  const digest = text => crypto.createHash('sha256').update(text).digest('hex')
  fs.writeFileSync(keyFile, `${digest(key)} *\n${digest(teamKey)} team\n`)
  const gateway = await Gateway.start({ args: ['-config-api-keys', keyFile, '-events-api-keys', keyFile, '-max-body-bytes', '1024', '-function-timeout', '300'] })
  try {
    const config = new CheckedClient(gateway.configUrl, configApi, unknownConfigRoute)
    const events = new CheckedClient(gateway.eventsUrl, eventsApi)
    for (const { template, method, operation } of configApi.operations()) {
      if (!operation.security || operation.security.length > 0) continue
      const answered = await config.send(method.toUpperCase(), template, { valid: true })
      assert.equal(answered.status, 200, `${method} ${template} is public`)
    }
    const withKey = { Authorization: `Bearer ${key}` }
    const refused = await config.send('GET', '/v1/spaces/default/functions')
    assert.equal(refused.status, 401)
    assert.equal((await config.send('GET', '/v1/spaces/default/functions', { headers: { Authorization: 'Bearer not-a-known-key-at-all' } })).status, 401)
    assert.equal((await config.send('GET', '/v1/spaces/default/functions', { headers: { Authorization: `Bearer ${teamKey}` } })).status, 403)
    assert.equal((await config.send('GET', '/metrics', { headers: { Authorization: `Bearer ${teamKey}` } })).status, 403)
    assert.equal((await config.send('GET', '/v1/metrics')).status, 401)
    assert.equal((await config.send('GET', '/v1/spaces/team/events/catalog')).status, 401)
    assert.equal((await config.send('GET', '/v1/spaces/default/events/catalog', { headers: { Authorization: `Bearer ${teamKey}` } })).status, 403)
    assert.equal((await openStream(config, '/v1/spaces/team/events/stream')).status, 401)
    assert.equal((await openStream(config, '/v1/spaces/default/events/stream', { headers: { Authorization: `Bearer ${teamKey}` } })).status, 403)
    const watchers = []
    for (let i = 0; i < 16; i++) {
      const controller = new AbortController()
      const response = await fetch(`${gateway.configUrl}/v1/spaces/team/events/stream`, { headers: { Authorization: `Bearer ${teamKey}` }, signal: controller.signal })
      assert.equal(response.status, 200)
      watchers.push(controller)
    }
    assert.equal((await openStream(config, '/v1/spaces/team/events/stream', { headers: { Authorization: `Bearer ${teamKey}` } })).status, 503)
    for (const controller of watchers) controller.abort()
    assert.equal((await config.send('GET', '/metrics', { headers: withKey, valid: true })).status, 200)
    assert.equal((await config.send('GET', '/v1/spaces/team/functions', { headers: { Authorization: `Bearer ${teamKey}` }, valid: true })).status, 200)
    assert.equal((await config.send('POST', '/v1/spaces/default/functions', { json: httpFunction('slow', '/slow'), headers: withKey, valid: true })).status, 201)
    assert.equal((await config.send('POST', '/v1/spaces/default/functions', { json: { ...httpFunction('big', '/slow'), padding: 'x'.repeat(2048) }, headers: withKey })).status, 413)
    for (const json of [{ event: 'invoke', functionId: 'slow' }, { event: 'http', method: 'GET', path: '/slow', functionId: 'slow' },
      { event: 'http', method: 'GET', path: '/private', functionId: 'slow', requireApiKey: true }]) {
      assert.equal((await config.send('POST', '/v1/spaces/default/subscriptions', { json, headers: withKey, valid: true })).status, 201)
    }
    await waitUntil(async () => (await fetch(`${gateway.eventsUrl}/slow`)).status !== 404, 'the route to apply')

    assert.equal((await events.send('POST', '/', { json: {}, headers: { Event: 'user.created' } })).status, 401)
    assert.equal((await events.send('POST', '/', { json: {}, headers: { Event: 'invoke', 'Function-ID': 'slow', Authorization: `Bearer ${teamKey}` } })).status, 403)
    assert.equal((await events.send('POST', '/', { json: {}, headers: { Event: 'user.created', ...withKey }, valid: true })).status, 202)
    assert.equal((await events.send('POST', '/', { body: 'x'.repeat(2048), headers: { Event: 'user.created', ...withKey } })).status, 413)
    assert.equal((await events.send('GET', '/private')).status, 401)
    assert.equal((await events.send('GET', '/private', { headers: { Authorization: `Bearer ${teamKey}` } })).status, 403)
    assert.equal((await events.send('GET', '/slow')).status, 504)
    assert.equal((await events.send('POST', '/', { json: {}, headers: { Event: 'invoke', 'Function-ID': 'slow', ...withKey } })).status, 504)
  } finally {
    await gateway.stop()
    fs.rmSync(directory, { recursive: true, force: true })
  }
})

// Last, once every test above has sent its requests: a path or an operation of a document that no
// request reached is one the gateway may not serve (a stale path), or one no test checks.
test('every operation of both documents answered a request the tests checked', () => {
  assert.deepEqual(configApi.unreached(), [], 'operations of the Configuration API document no request reached')
  assert.deepEqual(eventsApi.unreached(), [], 'operations of the Events API document no request reached')
})
