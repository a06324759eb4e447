'use strict';
// The plugin side of hashicorp/go-plugin's handshake, serving the gateway's Reacter service; the same
// as ../python/plugin_server.py, which explains the protocol. In short: refuse to run without the
// gateway's magic cookie; listen on a unix socket in a fresh 0700 directory (127.0.0.1 with
// PLUGIN_NETWORK=tcp); print `1|1|unix|/tmp/event-gateway-plugin-XXXX/plugin.sock|grpc`; serve until
// SIGTERM, SIGINT or the gateway's death, then remove the directory and exit 0.
// A plugin calls checkStartedByGateway() first, reads its settings, then serve().

const fs = require('fs');
const os = require('os');
const path = require('path');

const MAGIC_COOKIE_KEY = 'EVENT_GATEWAY_MAGIC_COOKIE';
const MAGIC_COOKIE_VALUE = '0329c93c-a64c-4eb5-bf72-63172430d433';
const CORE_PROTOCOL_VERSION = 1; // go-plugin's own handshake version
const APP_PROTOCOL_VERSION = 1; // proto/plugin/v1
const SHUTDOWN_GRACE_MS = 2000;
const PROTO = path.join(__dirname, '..', '..', '..', 'proto', 'plugin', 'v1', 'reacter.proto');

// Exits 1 with the message on stderr, which the gateway logs under the plugin's name.
function die(message) {
  process.stderr.write(`${path.basename(process.argv[1])}: ${message}\n`);
  process.exit(1);
}

function checkStartedByGateway() {
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    die('this program is a plugin for the event gateway and is not meant to be run directly; ' +
        `the gateway starts it: event-gateway -dev -plugin ${process.argv[1]}`);
  }
  const offered = process.env.PLUGIN_PROTOCOL_VERSIONS || String(APP_PROTOCOL_VERSION);
  if (!offered.split(',').map((v) => v.trim()).includes(String(APP_PROTOCOL_VERSION))) {
    die(`the gateway speaks plugin protocol versions '${offered}', this plugin only ` +
        `${APP_PROTOCOL_VERSION}: use a plugin built for this gateway's version`);
  }
}

// The value of an environment variable the plugin cannot run without.
function requireEnv(name, meaning) {
  const value = process.env[name];
  if (!value) die(`${name} is not set: it must hold ${meaning}`);
  return value;
}

function loadGrpc() {
  try {
    const grpc = require('@grpc/grpc-js');
    const protoLoader = require('@grpc/proto-loader');
    // keepCase: the proto's field names (event_type, status_code); enums as their names ('SYNC').
    const definition = protoLoader.loadSync(PROTO, { keepCase: true, enums: String, defaults: true });
    return { grpc, Reacter: grpc.loadPackageDefinition(definition).eventgateway.plugin.v1.Reacter };
  } catch (error) {
    if (error.code !== 'MODULE_NOT_FOUND') throw error;
    return die(`${error.message.split('\n')[0]}: run npm ci --prefix ${path.relative(process.cwd(), __dirname) || '.'}`);
  }
}

// subscriptions: [[eventType, 'SYNC' or 'ASYNC']], answered to every Subscriptions call.
// react(eventType, event, eventJson) returns (or resolves to) a ReactResponse
// {error, status_code, data}: event is the parsed system event, eventJson the Buffer the gateway sent.
// For an async subscription the answer is ignored. The events arrive on ReactStream (sync) and Notify
// (async) streams, many per message (the cheap way), rather than as a React call each.
function serve(subscriptions, react) {
  checkStartedByGateway();
  const { grpc, Reacter } = loadGrpc();
  const server = new grpc.Server();
  const answer = {
    subscriptions: subscriptions.map(([event_type, type]) => ({ event_type, type })),
    notify_stream: true,
    react_stream: true,
  };
  // A sync event's answer; a plugin that throws fails closed, as a failed React call does (503).
  const answerOf = (request) => Promise.resolve()
    .then(() => react(request.event_type, JSON.parse(request.event.toString('utf8')), request.event))
    .catch((error) => {
      console.error(error);
      return { error: String(error), status_code: 503 };
    });
  server.addService(Reacter.service, {
    Subscriptions: (call, callback) => callback(null, answer),
    // Each call is answered by its id as soon as it is decided, so a slow one holds up no other.
    ReactStream: (call) => {
      let running = 0;
      let reading = true;
      const endIfDone = () => { if (!reading && running === 0) call.end(); };
      call.on('data', (message) => {
        for (const { id, request } of message.calls) {
          running += 1;
          answerOf(request).then((response) => {
            call.write({ answers: [{ id, response }] });
            running -= 1;
            endIfDone();
          });
        }
      });
      call.on('end', () => { reading = false; endIfDone(); });
    },
    Notify: (call, callback) => {
      call.on('data', (message) => {
        for (const request of message.events) {
          Promise.resolve()
            .then(() => react(request.event_type, JSON.parse(request.event.toString('utf8')), request.event))
            .catch((error) => console.error(error)); // an async event has no one to answer: log and go on
        }
      });
      call.on('end', () => callback(null, {}));
    },
    React: (call, callback) => {
      let event;
      try {
        event = JSON.parse(call.request.event.toString('utf8'));
      } catch (error) {
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: `event is not JSON: ${error.message}` });
      }
      return Promise.resolve()
        .then(() => react(call.request.event_type, event, call.request.event))
        .then((response) => callback(null, response), (error) => {
          // A sync subscription fails closed on this status; the stack tells the operator why.
          console.error(error);
          callback({ code: grpc.status.INTERNAL, details: String(error) });
        });
    },
  });

  let socketDir = null;
  let network = 'unix';
  let address;
  if (process.env.PLUGIN_NETWORK === 'tcp') {
    network = 'tcp';
    address = '127.0.0.1:0';
  } else {
    // PLUGIN_UNIX_SOCKET_DIR is go-plugin's name for where the socket goes.
    socketDir = fs.mkdtempSync(path.join(process.env.PLUGIN_UNIX_SOCKET_DIR || os.tmpdir(), 'event-gateway-plugin-'));
    address = path.join(socketDir, 'plugin.sock');
  }
  const removeSocketDir = () => socketDir && fs.rmSync(socketDir, { recursive: true, force: true });
  process.on('exit', removeSocketDir);

  const bindAddress = network === 'unix' ? `unix:${address}` : address;
  server.bindAsync(bindAddress, grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) die(`cannot listen for the gateway: ${error.message}`);
    if (network === 'tcp') address = `127.0.0.1:${port}`;
    // Synchronous on a pipe (Linux), so the gateway has the line before we serve a call.
    process.stdout.write(`${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|${network}|${address}|grpc\n`);
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => { server.forceShutdown(); process.exit(0); }, SHUTDOWN_GRACE_MS).unref();
    server.tryShutdown(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A gateway killed with SIGKILL cannot stop us: when we are handed to another parent, stop.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid === parent) return;
    console.error('the gateway is gone: stopping');
    stop();
  }, 1000).unref();
}

module.exports = { checkStartedByGateway, requireEnv, die, serve };
