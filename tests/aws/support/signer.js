'use strict'
// The AWS SDK's own SigV4 signer (@smithy/signature-v4), independent of the gateway's C++ one: the
// stand-ins verify the gateway's signatures with it, and the tests sign their own calls to kinesalite.

const { SignatureV4 } = require('@smithy/signature-v4')
const { Sha256 } = require('@aws-crypto/sha256-js')

function signer ({ service, region, credentials }) {
  // applyChecksum false: the AWS SDKs add x-amz-content-sha256 only for S3.
  return new SignatureV4({ service, region, credentials, sha256: Sha256, applyChecksum: false })
}

// Signs and sends an AWS JSON-protocol call (Kinesis, Firehose); returns the parsed answer.
async function callJsonApi ({ url, service, region, credentials, target, body }) {
  const endpoint = new URL(url)
  const request = {
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: Number(endpoint.port),
    path: '/',
    query: {},
    headers: { host: endpoint.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body: JSON.stringify(body)
  }
  const signed = await signer({ service, region, credentials }).sign(request)
  const response = await fetch(url, { method: 'POST', headers: signed.headers, body: request.body })
  const text = await response.text()
  if (!response.ok) throw new Error(`${target} answered ${response.status}: ${text}`)
  return text ? JSON.parse(text) : {}
}

module.exports = { signer, callJsonApi }
