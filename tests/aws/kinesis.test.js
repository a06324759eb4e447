'use strict'
// awskinesis functions against kinesalite, a real implementation of the Kinesis API: the test
// creates a stream, lets the gateway put events on it, and reads them back with GetRecords.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const kinesalite = require('kinesalite')
const { Gateway, freePort, waitUntil } = require('../common/gateway')
const { callJsonApi } = require('./support/signer')

const REGION = 'us-west-2'
const CREDENTIALS = { accessKeyId: 'AKIAKINESISEXAMPLE', secretAccessKey: 'kinesis/secret' }
let server
let kinesisUrl
let gateway

function kinesis (operation, body) {
  return callJsonApi({ url: kinesisUrl, service: 'kinesis', region: REGION, credentials: CREDENTIALS, target: `Kinesis_20131202.${operation}`, body })
}

async function createStream (StreamName) {
  await kinesis('CreateStream', { StreamName, ShardCount: 1 })
  await waitUntil(async () => (await kinesis('DescribeStream', { StreamName })).StreamDescription.StreamStatus === 'ACTIVE',
    `stream ${StreamName} to become active`)
}

async function readRecords (StreamName) {
  const { StreamDescription } = await kinesis('DescribeStream', { StreamName })
  const { ShardIterator } = await kinesis('GetShardIterator', {
    StreamName, ShardId: StreamDescription.Shards[0].ShardId, ShardIteratorType: 'TRIM_HORIZON'
  })
  const { Records } = await kinesis('GetRecords', { ShardIterator })
  return Records.map(record => ({ ...record, event: JSON.parse(Buffer.from(record.Data, 'base64').toString()) }))
}

before(async () => {
  server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 })
  const port = await freePort()
  await new Promise(resolve => server.listen(port, '127.0.0.1', resolve))
  kinesisUrl = `http://127.0.0.1:${port}`
  await createStream('user-events')
  gateway = await Gateway.start()
})

after(async () => {
  await gateway.stop()
  await new Promise(resolve => server.close(resolve))
})

function stream (streamName) {
  return { streamName, region: REGION, endpoint: kinesisUrl, awsAccessKeyId: CREDENTIALS.accessKeyId, awsSecretAccessKey: CREDENTIALS.secretAccessKey }
}

test('puts emitted events on the stream, keyed by event id, readable with GetRecords', async () => {
  assert.equal((await gateway.registerInvocable('toStream', 'awskinesis', stream('user-events'))).status, 201)
  assert.equal((await gateway.config('POST', '/subscriptions', { event: 'user.created', functionId: 'toStream', path: '/' })).status, 201)
  await gateway.sync()

  for (const name of ['Ann', 'Bob', 'Cy']) assert.equal(await gateway.emit('user.created', { name }), 202)
  let records = []
  await waitUntil(async () => (records = await readRecords('user-events')).length === 3, 'three records on the stream')
  assert.deepEqual(records.map(record => record.event.data.name).sort(), ['Ann', 'Bob', 'Cy'])
  for (const record of records) {
    assert.equal(record.event.event, 'user.created')
    assert.equal(record.event.dataType, 'application/json')
    assert.equal(record.PartitionKey, record.event.id)
  }
})

test('answers sync callers with the record\'s shard and sequence number', async () => {
  const answer = await gateway.invoke('toStream', { name: 'Dee' })
  assert.equal(answer.status, 200, answer.text)
  assert.equal(answer.contentType, 'application/json')
  const { ShardId, SequenceNumber } = JSON.parse(answer.text)
  const stored = (await readRecords('user-events')).find(record => record.SequenceNumber === SequenceNumber)
  assert.equal(ShardId, 'shardId-000000000000')
  assert.deepEqual(stored.event.data, { name: 'Dee' })
  assert.equal(stored.event.event, 'invoke')
})

test('an unknown stream is reported as not found', async () => {
  await gateway.registerInvocable('noStream', 'awskinesis', stream('missing'))
  const answer = await gateway.invoke('noStream', {})
  assert.equal(answer.status, 502)
  assert.match(await gateway.loggedFailure(answer),
    /Kinesis stream missing was not found in region us-west-2 \(ResourceNotFoundException: Stream missing under account .* not found\.\)/)
})
