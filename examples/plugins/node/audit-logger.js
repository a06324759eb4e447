#!/usr/bin/env node
'use strict';
// Event gateway plugin: one JSON line per system event, for an audit trail.
//
// ASYNC on every system event, so it never delays or changes what the gateway does. Each line is
// {"eventType": ..., "event": <the system event>}, written to stdout (which the gateway logs under
// the plugin's name) or appended to the file AUDIT_LOG_FILE names.
//
//     AUDIT_LOG_FILE=/var/log/event-gateway-audit.jsonl \
//         event-gateway -dev -plugin examples/plugins/node/audit-logger.js

const fs = require('fs');
const plugin = require('./plugin-server');

const SYSTEM_EVENTS = [
  'gateway.event.received',
  'gateway.function.invoking',
  'gateway.function.invoked',
  'gateway.function.invocationFailed',
];

plugin.checkStartedByGateway();
let fd = 1; // stdout
if (process.env.AUDIT_LOG_FILE) {
  try {
    fd = fs.openSync(process.env.AUDIT_LOG_FILE, 'a');
  } catch (error) {
    plugin.die(`cannot open AUDIT_LOG_FILE: ${error.message}`);
  }
}
plugin.serve(SYSTEM_EVENTS.map((type) => [type, 'ASYNC']), (eventType, event) => {
  // One write per line, so lines never interleave (Node runs one React at a time).
  fs.writeSync(fd, `${JSON.stringify({ eventType, event })}\n`);
  return {};
});
