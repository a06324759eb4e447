'use strict'
// The Node example plugins (examples/plugins/node) loaded by the real gateway: the authorizer's veto
// as callers and functions see it, the audit logger's lines for calls that succeed and fail, and the
// two together. Starts the real binary in dev mode with -plugin, and a real function server on
// 127.0.0.1. The plugins need their npm packages: npm ci --prefix examples/plugins/node.

const { describe, test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { Gateway, waitUntil } = require('../common/gateway')

const PLUGINS = path.join(__dirname, '..', '..', 'examples', 'plugins', 'node')
// Each is executable with `#!/usr/bin/env node`, and the gateway starts a plugin with no arguments:
// -plugin names the script itself, no wrapper needed.
const AUTHORIZER = path.join(PLUGINS, 'authorizer.js')
const AUDIT_LOGGER = path.join(PLUGINS, 'audit-logger.js')
const TOKEN = 's3cret-for-the-plugin-tests'
const ANSWER = 'hello from the function'

// A function endpoint that records the events it receives and answers in the shape an http event's
// function answers (statusCode, headers, body), which the gateway turns into the caller's response.
const received = []
const functionServer = http.createServer((request, response) => {
  let body = ''
  request.setEncoding('utf8')
  request.on('data', chunk => { body += chunk })
  request.on('end', () => {
    received.push(JSON.parse(body))
    response.setHeader('Content-Type', 'application/json')
    response.end(JSON.stringify({ statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: ANSWER }))
  })
})
let functionUrl

// Every request of a test carries a marker of its own (a header, and the data of a custom event),
// so that what the function and the audit file saw can be told apart request by request.
let markers = 0
const marker = what => `${what}-${++markers}`
const mentions = (value, mark) => JSON.stringify(value).includes(mark)
const calledWith = mark => received.filter(event => mentions(event, mark))

function request (gateway, { method = 'GET', route, event, mark, authorization, data }) {
  const headers = { 'X-Test-Request': mark }
  if (event) Object.assign(headers, { Event: event, 'Content-Type': 'application/json' })
  if (authorization) headers.Authorization = authorization
  const body = event ? JSON.stringify({ ...data, mark }) : undefined
  return fetch(`${gateway.eventsUrl}${route}`, { method, headers, body }).then(async response => ({
    status: response.status, contentType: response.headers.get('content-type'), text: await response.text()
  }))
}

// The plugin's refusal as the caller hears it: the gateway's error shape with the plugin's words.
function assertRefused (answer, message) {
  assert.equal(answer.status, 401, answer.text)
  assert.equal(answer.contentType, 'application/json')
  const body = JSON.parse(answer.text)
  assert.equal(body.errors.length, 1, answer.text)
  assert.match(body.errors[0].message, message)
}

const WITHOUT_TOKEN = [
  { authorization: undefined, message: /^missing Authorization header/ },
  { authorization: 'Bearer not-the-token', message: /^invalid bearer token$/ }
]

// The audit file's complete lines; a line being written when the file is read is left for later.
function auditLines (file) {
  if (!fs.existsSync(file)) return []
  return fs.readFileSync(file, 'utf8').split('\n').slice(0, -1).map(line => JSON.parse(line))
}

async function registerFunction (gateway, functionId, url, subscriptions) {
  assert.equal((await gateway.config('POST', '/functions', { functionId, type: 'http', provider: { url } })).status, 201)
  for (const subscription of subscriptions) {
    const created = await gateway.config('POST', '/subscriptions', { functionId, ...subscription })
    assert.equal(created.status, 201, JSON.stringify(created.body))
  }
}

before(async () => {
  // Without its packages a plugin exits 1 and the gateway refuses to start: say what to run instead.
  assert.ok(fs.existsSync(path.join(PLUGINS, 'node_modules', '@grpc', 'grpc-js')),
    `the example plugins need their packages: npm ci --prefix ${path.relative(process.cwd(), PLUGINS)}`)
  await new Promise(resolve => functionServer.listen(0, '127.0.0.1', resolve))
  functionUrl = `http://127.0.0.1:${functionServer.address().port}/`
})

after(() => functionServer.close())

describe('authorizer.js', () => {
  let gateway

  before(async () => {
    gateway = await Gateway.start({ env: { AUTHORIZER_TOKEN: TOKEN }, args: ['-plugin', AUTHORIZER] })
    await registerFunction(gateway, 'greeter', functionUrl, [
      { event: 'http', method: 'GET', path: '/greet' },
      { event: 'user.created', path: '/' }
    ])
    // Once the probe's route is live the authorizer refuses the probe (401), which is not the 404 of
    // an unknown route that sync() waits to see go.
    await gateway.sync()
  })

  after(() => gateway.stop())

  test('refuses a custom event without the token with 401 and delivers nothing; with it, 202 and delivered', async () => {
    const refused = []
    for (const { authorization, message } of WITHOUT_TOKEN) {
      const mark = marker('custom-refused')
      refused.push(mark)
      assertRefused(await request(gateway, { method: 'POST', route: '/', event: 'user.created', mark, authorization }), message)
    }
    const mark = marker('custom-authorized')
    const accepted = await request(gateway, {
      method: 'POST', route: '/', event: 'user.created', mark, authorization: `Bearer ${TOKEN}`, data: { name: 'Ada' }
    })
    assert.equal(accepted.status, 202, accepted.text)
    // Delivery is asynchronous: once the accepted event has arrived, a refused one emitted before it
    // would have been spooled before it too.
    await waitUntil(() => calledWith(mark).length > 0, 'the accepted event to reach the function')
    const [delivered] = calledWith(mark)
    assert.equal(delivered.event, 'user.created')
    assert.deepEqual(delivered.data, { name: 'Ada', mark })
    for (const refusedMark of refused) assert.deepEqual(calledWith(refusedMark), [], refusedMark)
  })

  test('refuses an http event without the token with 401 and calls nothing; with it, the function answers', async () => {
    for (const { authorization, message } of WITHOUT_TOKEN) {
      const mark = marker('http-refused')
      assertRefused(await request(gateway, { route: '/greet', mark, authorization }), message)
      // An http event's function is called before the caller's answer: it would have been by now.
      assert.deepEqual(calledWith(mark), [])
    }
    const mark = marker('http-authorized')
    const answer = await request(gateway, { route: '/greet', mark, authorization: `Bearer ${TOKEN}` })
    assert.equal(answer.status, 200, answer.text)
    assert.equal(answer.text, ANSWER)
    assert.equal(answer.contentType, 'text/plain')
    const calls = calledWith(mark)
    assert.equal(calls.length, 1)
    assert.equal(calls[0].event, 'http')
    assert.equal(calls[0].data.path, '/greet')
  })
})

describe('audit-logger.js', () => {
  let gateway
  let directory
  let auditFile

  before(async () => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'eg-audit-'))
    auditFile = path.join(directory, 'audit.jsonl')
    gateway = await Gateway.start({ env: { AUDIT_LOG_FILE: auditFile }, args: ['-plugin', AUDIT_LOGGER] })
    await registerFunction(gateway, 'greeter', functionUrl, [{ event: 'http', method: 'GET', path: '/greet' }])
    // Port 9 (discard) on loopback: nothing listens there, so the call fails at once.
    await registerFunction(gateway, 'unreachable', 'http://127.0.0.1:9/', [{ event: 'http', method: 'GET', path: '/unreachable' }])
    await gateway.sync()
  })

  after(async () => {
    await gateway.stop()
    fs.rmSync(directory, { recursive: true, force: true })
  })

  test('writes received, invoking and invoked for a call that succeeds, and invocationFailed for one that fails', async () => {
    const succeeded = marker('audit-ok')
    const ok = await request(gateway, { route: '/greet', mark: succeeded })
    assert.equal(ok.status, 200, ok.text)
    const okId = calledWith(succeeded)[0].id
    const failed = await request(gateway, { route: '/unreachable', mark: marker('audit-failed') })
    assert.equal(failed.status, 502, failed.text)
    const failedId = /request id ([0-9a-f-]{36})/.exec(JSON.parse(failed.text).errors[0].message)[1]

    // Gateway.sync()'s probes pass through the plugin too, in a space of their own: only the lines of
    // space "default" are this test's. Every system event carries the http event it is about.
    const linesOf = id => auditLines(auditFile).filter(line => line.event.data.space === 'default' &&
      line.event.data.event.id === id)
    const typesOf = id => linesOf(id).map(line => line.eventType).sort()
    // invoked and invocationFailed are announced last, once the call is over, and never both.
    await waitUntil(() => typesOf(okId).length === 3 && typesOf(failedId).length === 3, 'the audit lines of both calls')
    assert.deepEqual(typesOf(okId), ['gateway.event.received', 'gateway.function.invoked', 'gateway.function.invoking'])
    assert.deepEqual(typesOf(failedId),
      ['gateway.event.received', 'gateway.function.invocationFailed', 'gateway.function.invoking'])

    for (const line of [...linesOf(okId), ...linesOf(failedId)]) {
      assert.equal(line.event.event, line.eventType, 'each line is {eventType, event: the system event}')
      assert.equal(line.event.data.event.event, 'http')
    }
    const find = (id, type) => linesOf(id).find(line => line.eventType === type).event.data
    assert.equal(find(okId, 'gateway.event.received').path, '/greet')
    assert.equal(find(okId, 'gateway.function.invoking').functionId, 'greeter')
    assert.deepEqual(find(okId, 'gateway.function.invoked').result,
      { statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: ANSWER })
    const failure = find(failedId, 'gateway.function.invocationFailed')
    assert.equal(failure.functionId, 'unreachable')
    assert.equal(typeof failure.error, 'string')
    assert.equal(failure.willRetry, false, 'an http event is called once, for the caller waiting on it')
  })
})

describe('authorizer.js, then audit-logger.js', () => {
  let gateway
  let directory
  let auditFile

  before(async () => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'eg-audit-'))
    auditFile = path.join(directory, 'audit.jsonl')
    gateway = await Gateway.start({
      env: { AUTHORIZER_TOKEN: TOKEN, AUDIT_LOG_FILE: auditFile },
      args: ['-plugin', AUTHORIZER, '-plugin', AUDIT_LOGGER]
    })
    await registerFunction(gateway, 'greeter', functionUrl, [
      { event: 'http', method: 'GET', path: '/greet' },
      { event: 'user.created', path: '/' }
    ])
    await gateway.sync()
  })

  after(async () => {
    await gateway.stop()
    fs.rmSync(directory, { recursive: true, force: true })
  })

  // The authorizer is asked (sync) before the event is routed; the gateway announces
  // gateway.event.received to async subscribers only once the sync ones have let the event through.
  // So a refused request leaves no line at all in the audit file: the audit trail records what the
  // gateway accepted, not the refusals (those are only in the caller's 401).
  test('a refused request reaches neither the function nor the audit logger; an accepted one both', async () => {
    const refused = [marker('both-custom-refused'), marker('both-http-refused')]
    assertRefused(await request(gateway, { method: 'POST', route: '/', event: 'user.created', mark: refused[0] }),
      /^missing Authorization header/)
    assertRefused(await request(gateway, { route: '/greet', mark: refused[1] }), /^missing Authorization header/)

    const accepted = marker('both-http-authorized')
    const answer = await request(gateway, { route: '/greet', mark: accepted, authorization: `Bearer ${TOKEN}` })
    assert.equal(answer.status, 200, answer.text)
    assert.equal(answer.text, ANSWER)
    // invoked is announced after the refused requests were answered, and after this request's own
    // received: once it is written, a line about the refused requests would have been too.
    const acceptedTypes = () => auditLines(auditFile).filter(line => mentions(line, accepted)).map(line => line.eventType)
    await waitUntil(() => acceptedTypes().includes('gateway.function.invoked'), 'the accepted request\'s audit lines')
    assert.deepEqual(acceptedTypes().sort(),
      ['gateway.event.received', 'gateway.function.invoked', 'gateway.function.invoking'])

    const lines = auditLines(auditFile)
    for (const mark of refused) {
      assert.deepEqual(lines.filter(line => mentions(line, mark)), [], `audit lines about ${mark}`)
      assert.deepEqual(calledWith(mark), [], `function calls for ${mark}`)
    }
    // Nothing refused in space "default" went into the file under another shape either: every
    // received line there is the accepted request's.
    const receivedHere = lines.filter(line => line.eventType === 'gateway.event.received' && line.event.data.space === 'default')
    assert.equal(receivedHere.length, 1)
    assert.ok(mentions(receivedHere[0], accepted))
  })
})
