#!/usr/bin/env node
'use strict';
// Event gateway plugin: refuses received events whose request lacks the right bearer token.
//
// SYNC on gateway.event.received: the gateway waits for the answer and, on a veto, answers the
// caller 401 without routing the event. Accepted: `Authorization: Bearer <AUTHORIZER_TOKEN>`.
//
//     AUTHORIZER_TOKEN=s3cret event-gateway -dev -plugin examples/plugins/node/authorizer.js

const crypto = require('crypto');
const plugin = require('./plugin-server');

// A request header's value. Names are case-insensitive (RFC 9110): do not rely on canonical names.
function header(headers, name) {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

// Equal digests have equal lengths, so timingSafeEqual applies, and neither the token's content nor
// its length shows in the response time.
const digest = (text) => crypto.createHash('sha256').update(text, 'utf8').digest();

const refuse = (error) => ({ error, status_code: 401 });

function makeReact(token) {
  const expected = digest(token);
  return (eventType, event) => {
    const headers = event && event.data && event.data.headers;
    const value = headers && typeof headers === 'object' ? header(headers, 'Authorization') : undefined;
    if (typeof value !== 'string') {
      return refuse("missing Authorization header: send 'Authorization: Bearer <token>'");
    }
    const [, scheme, presented] = /^\s*(\S+)\s+(.*?)\s*$/.exec(value) || [];
    if (!scheme || scheme.toLowerCase() !== 'bearer' || !presented) {
      return refuse("Authorization header is not a bearer token: send 'Authorization: Bearer <token>'");
    }
    if (!crypto.timingSafeEqual(digest(presented), expected)) return refuse('invalid bearer token');
    return {};
  };
}

plugin.checkStartedByGateway();
const token = plugin.requireEnv('AUTHORIZER_TOKEN', 'the bearer token callers must present');
plugin.serve([['gateway.event.received', 'SYNC']], makeReact(token));
