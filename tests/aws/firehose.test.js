'use strict'
// awsfirehose functions against a local Firehose stand-in that verifies every request's SigV4
// signature with the AWS SDK's own signer.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Gateway, waitUntil } = require('../common/gateway')
const { FakeAws } = require('./support/fake_aws')

const KEY = { accessKeyId: 'AKIAFIREHOSEEXAMPLE', secretAccessKey: 'firehose/secret' }
const aws = new FakeAws({ [KEY.accessKeyId]: { secretAccessKey: KEY.secretAccessKey } })
let gateway

before(async () => {
  await aws.listen()
  gateway = await Gateway.start({
    env: { AWS_ENDPOINT_URL_FIREHOSE: aws.url, AWS_REGION: 'eu-central-1', AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey }
  })
})

after(async () => {
  await gateway.stop()
  aws.close()
})

test('puts each event on the delivery stream and answers sync callers with the record id', async () => {
  assert.equal((await gateway.registerInvocable('archive', 'awsfirehose', { deliveryStreamName: 'events-archive' })).status, 201)
  assert.equal((await gateway.config('POST', '/subscriptions', { event: 'order.placed', functionId: 'archive', path: '/shop' })).status, 201)
  await gateway.sync()

  assert.equal(await gateway.emit('order.placed', { order: 1 }, '/shop'), 202)
  assert.equal(await gateway.emit('order.placed', { order: 2 }, '/shop'), 202)
  const records = aws.deliveryStreams['events-archive']
  await waitUntil(() => records.length === 2, 'two records on the delivery stream')
  const events = records.map(record => JSON.parse(record.data))
  assert.deepEqual(events.map(event => event.event), ['order.placed', 'order.placed'])
  assert.deepEqual(events.map(event => event.data.order).sort(), [1, 2])

  const answer = await gateway.invoke('archive', { order: 3 })
  assert.equal(answer.status, 200, answer.text)
  assert.equal(answer.contentType, 'application/json')
  const { RecordId } = JSON.parse(answer.text)
  assert.equal(records.at(-1).recordId, RecordId)
  assert.deepEqual(JSON.parse(records.at(-1).data).data, { order: 3 })
  assert.deepEqual([aws.accepted.at(-1).service, aws.accepted.at(-1).region], ['firehose', 'eu-central-1'])
})

test('an unknown delivery stream is reported as not found', async () => {
  await gateway.registerInvocable('nowhere', 'awsfirehose', { deliveryStreamName: 'nowhere' })
  const answer = await gateway.invoke('nowhere', {})
  assert.equal(answer.status, 502)
  assert.match(await gateway.loggedFailure(answer),
    /Firehose delivery stream nowhere was not found in region eu-central-1 \(ResourceNotFoundException: Firehose nowhere under account/)
})
