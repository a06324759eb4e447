'use strict'
// The Node SDK our users already have (@serverless/event-gateway-sdk 0.3.0, the version matching
// the README's API) must work unchanged against this gateway. Starts the real binary in dev mode
// and a real function server on 127.0.0.1.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const EventGateway = require('@serverless/event-gateway-sdk')
const { Gateway, binary, waitUntil } = require('../common/gateway')

// A function endpoint that records the events it receives and answers invokes with a fixed body.
const received = []
const functionServer = http.createServer((request, response) => {
  let body = ''
  request.on('data', chunk => { body += chunk })
  request.on('end', () => {
    received.push({ contentType: request.headers['content-type'], event: JSON.parse(body) })
    response.setHeader('Content-Type', 'application/json')
    response.end(JSON.stringify({ greeting: 'hello from the function' }))
  })
})

let gateway
let sdk
let functionUrl

before(async () => {
  await new Promise(resolve => functionServer.listen(0, '127.0.0.1', resolve))
  functionUrl = `http://127.0.0.1:${functionServer.address().port}/fn`
  gateway = await Gateway.start()
  sdk = new EventGateway({ url: gateway.eventsUrl, configurationUrl: gateway.configUrl })
})

after(async () => {
  functionServer.close()
  await gateway.stop()
})

test('registers, lists, subscribes, emits, invokes, unsubscribes and deletes through the SDK', async () => {
  const registered = await sdk.registerFunction({
    functionId: 'sendEmail', type: 'http', provider: { url: functionUrl }
  })
  assert.deepEqual(registered, { space: 'default', functionId: 'sendEmail', type: 'http', provider: { url: functionUrl } })
  assert.deepEqual((await sdk.listFunctions()).map(f => f.functionId), ['sendEmail'])

  const subscription = await sdk.subscribe({ event: 'user.created', functionId: 'sendEmail', path: '/myteam' })
  assert.equal(subscription.subscriptionId, 'user.created,sendEmail,%2Fmyteam')
  await sdk.subscribe({ event: 'invoke', functionId: 'sendEmail' })
  assert.equal((await sdk.listSubscriptions()).length, 2)

  // emit() posts to the Events API root; subscribe to "/" too so the emitted event has a target.
  await sdk.subscribe({ event: 'user.created', functionId: 'sendEmail' })
  await gateway.sync()
  await sdk.emit({ event: 'user.created', data: { name: 'Max' } })
  await waitUntil(() => received.some(r => r.event.event === 'user.created'), 'the emitted event')
  const emitted = received.find(r => r.event.event === 'user.created')
  assert.equal(emitted.contentType, 'application/json')
  assert.deepEqual(emitted.event.data, { name: 'Max' })
  assert.equal(emitted.event.dataType, 'application/json')
  assert.match(emitted.event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)

  const answer = await sdk.invoke({ functionId: 'sendEmail', data: { name: 'Max' } })
  assert.equal(answer.status, 200)
  assert.deepEqual(await answer.json(), { greeting: 'hello from the function' })
  const invoked = received.find(r => r.event.event === 'invoke')
  assert.deepEqual(invoked.event.data, { name: 'Max' })

  await assert.rejects(sdk.deleteFunction({ functionId: 'sendEmail' }), /uses it/)
  for (const { subscriptionId } of await sdk.listSubscriptions()) await sdk.unsubscribe({ subscriptionId })
  assert.deepEqual(await sdk.listSubscriptions(), [])
  await sdk.deleteFunction({ functionId: 'sendEmail' })
  assert.deepEqual(await sdk.listFunctions(), [])
})

test('SDK errors carry the gateway\'s error messages', async () => {
  await assert.rejects(sdk.registerFunction({ functionId: 'bad', type: 'nope', provider: {} }), /not a known function type/)
  await assert.rejects(sdk.unsubscribe({ subscriptionId: 'user.created,nobody,%2F' }), /not found/)
})

// The SDK sends `Authorization: bearer <apiKey>` (its apiKey option, or EVENT_GATEWAY_API_KEY) on every
// Configuration API call: with -config-api-keys it works unchanged, and without a key it hears why.
test('with -config-api-keys the SDK works with its apiKey, and without one it is refused', async () => {
  const key = 'sdk-key-0123456789abcdef'
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'eg-sdk-keys-'))
  const keys = path.join(directory, 'keys')
  fs.writeFileSync(keys, execFileSync(binary, ['-hash-key'], { input: `${key}\n` }))
  const keyed = await Gateway.start({ args: ['-config-api-keys', keys] })
  try {
    const urls = { url: keyed.eventsUrl, configurationUrl: keyed.configUrl }
    const withKey = new EventGateway({ ...urls, apiKey: key })
    await withKey.registerFunction({ functionId: 'keyed', type: 'http', provider: { url: functionUrl } })
    await withKey.subscribe({ event: 'user.created', functionId: 'keyed' })
    assert.deepEqual((await withKey.listFunctions()).map(f => f.functionId), ['keyed'])
    assert.equal((await withKey.listSubscriptions()).length, 1)

    const withoutKey = new EventGateway(urls)
    await assert.rejects(withoutKey.listFunctions(), /needs a key: send Authorization: Bearer <key>/)
    await assert.rejects(withoutKey.registerFunction({ functionId: 'stranger', type: 'http', provider: { url: functionUrl } }),
      /needs a key/)
    await assert.rejects(new EventGateway({ ...urls, apiKey: 'not-the-key-0123456789' }).listFunctions(),
      /not one this gateway knows/)

    process.env.EVENT_GATEWAY_API_KEY = key
    try {
      for (const { subscriptionId } of await withoutKey.listSubscriptions()) await withoutKey.unsubscribe({ subscriptionId })
      await withoutKey.deleteFunction({ functionId: 'keyed' })
    } finally {
      delete process.env.EVENT_GATEWAY_API_KEY
    }
    assert.deepEqual(await withKey.listFunctions(), [])
  } finally {
    await keyed.stop()
    fs.rmSync(directory, { recursive: true, force: true })
  }
})
