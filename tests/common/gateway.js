'use strict'
// For the Node test suites (tests/sdk, tests/aws, tests/plugins): starts the real event-gateway
// binary in dev mode on free loopback ports, with an environment of the test's choosing: every AWS_*
// variable of the caller removed, HOME pointed at an empty directory and the EC2 metadata service
// off (AWS_EC2_METADATA_DISABLED=true), so that neither the developer's nor the CI's AWS setup can
// leak into a test.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const binary = process.env.EG_BINARY || path.join(__dirname, '..', '..', 'build', 'event-gateway')

function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

// `attempts`: tries 10 ms apart (plus each predicate's own time), 5 s or more by default.
async function waitUntil (predicate, what, attempts = 500) {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await predicate()) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

// The metadata service is off unless a test turns it on: a CI runner on EC2 would answer with its own
// credentials.
function cleanEnvironment (home) {
  const env = { HOME: home, AWS_EC2_METADATA_DISABLED: 'true' }
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('AWS_') && name !== 'HOME') env[name] = value
  }
  return env
}

class Gateway {
  // `env`: variables for this gateway (AWS_* settings; plugins' settings, since its plugins inherit
  // its environment); `files`: paths under its HOME → contents; `args`: flags added to the command
  // line.
  static async start ({ env = {}, files = {}, args = [] } = {}) {
    const gateway = new Gateway()
    gateway.home = fs.mkdtempSync(path.join(os.tmpdir(), 'eg-aws-home-'))
    gateway.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eg-aws-data-'))
    for (const [file, contents] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(gateway.home, file)), { recursive: true })
      fs.writeFileSync(path.join(gateway.home, file), contents)
    }
    const [configPort, eventsPort] = [await freePort(), await freePort()]
    gateway.configUrl = `http://127.0.0.1:${configPort}`
    gateway.eventsUrl = `http://127.0.0.1:${eventsPort}`
    gateway.log = ''
    gateway.probes = 0
    gateway.process = spawn(binary, ['-dev', '-embed-data-dir', gateway.dataDir, '-config-port', configPort,
      '-events-port', eventsPort, '-listen-address', '127.0.0.1', ...args],
    { env: { ...cleanEnvironment(gateway.home), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    for (const stream of [gateway.process.stdout, gateway.process.stderr]) {
      stream.on('data', chunk => { gateway.log += chunk })
    }
    // 'close', not 'exit': by then the log holds the gateway's last words, which say why it stopped.
    gateway.process.once('close', (code, signal) => { gateway.exited = { code, signal } })
    // The gateway serves nothing until every -plugin has handshaken and answered Subscriptions, one
    // after the other, each within -plugin-start-timeout (10 s by default): give each plugin that
    // long. A plugin that cannot start ends the gateway's start, so stop waiting when the gateway
    // exits, with what it logged, rather than at the timeout.
    const plugins = args.filter(arg => /^--?plugin(=|$)/.test(String(arg))).length
    try {
      await waitUntil(async () => {
        if (gateway.exited) {
          const { code, signal } = gateway.exited
          throw new Error(`the gateway exited while starting (code ${code}, signal ${signal}):\n${gateway.log}`)
        }
        try { return (await fetch(`${gateway.configUrl}/v1/status`)).ok } catch { return false }
      }, 'the gateway to start', 500 + 1000 * plugins)
    } catch (error) {
      // Not left running (nor its plugins) to keep the test process alive after the failure.
      const running = !gateway.exited
      if (running) gateway.process.kill('SIGTERM')
      fs.rmSync(gateway.home, { recursive: true, force: true })
      fs.rmSync(gateway.dataDir, { recursive: true, force: true })
      throw running ? new Error(`${error.message}; the gateway logged:\n${gateway.log}`) : error
    }
    return gateway
  }

  // Stops the gateway; throws unless it shut down cleanly (a sanitizer build reports leaks and
  // undefined behaviour on its way out).
  async stop () {
    const exited = new Promise(resolve => this.process.once('exit', (code, signal) => resolve({ code, signal })))
    this.process.kill('SIGTERM')
    const { code, signal } = await exited
    fs.rmSync(this.home, { recursive: true, force: true })
    fs.rmSync(this.dataDir, { recursive: true, force: true })
    if (code !== 0 || /Sanitizer|runtime error/.test(this.log)) {
      throw new Error(`the gateway exited with code ${code}, signal ${signal}:\n${this.log}`)
    }
  }

  async config (method, route, body, space = 'default') {
    const response = await fetch(`${this.configUrl}/v1/spaces/${space}${route}`, {
      method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body)
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : null }
  }

  // Configuration reaches the Events API asynchronously (the routing snapshot follows the store).
  // Waits until a fresh probe endpoint is routable: snapshots apply changes in order, so everything
  // configured before it is routable too. The probe's function is never reachable, so a routed
  // request is a 502 and calls nothing. The probes live in a space of their own, out of the tests' way.
  async sync () {
    const probe = `probe${++this.probes}`
    const space = 'syncprobe'
    await this.config('POST', '/functions', { functionId: probe, type: 'http', provider: { url: 'http://127.0.0.1:1/' } }, space)
    await this.config('POST', '/subscriptions', { event: 'http', method: 'GET', path: `/${probe}`, functionId: probe }, space)
    await waitUntil(async () => (await fetch(`${this.eventsUrl}/${probe}`)).status !== 404, 'the configuration to apply')
  }

  // Registers a function and an invoke subscription for it, and waits until it can be invoked;
  // returns the registration's answer.
  async registerInvocable (functionId, type, provider) {
    const registered = await this.config('POST', '/functions', { functionId, type, provider })
    if (registered.status === 201) {
      await this.config('POST', '/subscriptions', { event: 'invoke', functionId, path: '/' })
      await this.sync()
    }
    return registered
  }

  async invoke (functionId, data) {
    const response = await fetch(`${this.eventsUrl}/`, {
      method: 'POST',
      headers: { Event: 'invoke', 'Function-ID': functionId, 'Content-Type': 'application/json' },
      body: JSON.stringify(data)
    })
    return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() }
  }

  // For a failed call: what the gateway logged about it. The caller hears only a generic message and
  // a request id (nothing of the function's location, account or keys: docs/events.md); the log line
  // under that id says what went wrong.
  async loggedFailure (answer) {
    const message = JSON.parse(answer.text).errors[0].message
    const id = /request id ([0-9a-f-]{36})/.exec(message)?.[1]
    if (!id) throw new Error(`no request id in the caller's message: ${message}`)
    if (/arn:|AKIA|ASIA|https?:|amazonaws|\.internal/.test(message)) {
      throw new Error(`the caller's message tells more than it should: ${message}`)
    }
    await waitUntil(() => this.log.includes(id), `the log line of request ${id}`)
    return this.log.split('\n').find(line => line.includes(id))
  }

  async emit (event, data, eventPath = '/') {
    const response = await fetch(`${this.eventsUrl}${eventPath}`, {
      method: 'POST', headers: { Event: event, 'Content-Type': 'application/json' }, body: JSON.stringify(data)
    })
    return response.status
  }
}

module.exports = { Gateway, binary, freePort, waitUntil }
