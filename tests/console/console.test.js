'use strict'
// The web console (docs/console.md) in Debian's headless Chromium, against the real binary: functions
// and subscriptions registered through the API show in its tables, emitted events in its catalog and
// its live traffic, and no secret anywhere on the page. Keeps a screenshot in artifacts/console.png.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { after, before, test } = require('node:test')
const puppeteer = require('puppeteer-core')
const { Gateway, waitUntil } = require('../common/gateway.js')

const chromium = process.env.EG_CHROMIUM || '/usr/bin/chromium'
const artifacts = path.join(__dirname, 'artifacts')
const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY'
const SESSION_TOKEN = 'session-token-never-shown'

let gateway
let upstream
let browser

// A function that answers every call with 200 {}.
function startUpstream () {
  return new Promise(resolve => {
    const server = http.createServer((request, response) => {
      request.resume()
      request.on('end', () => {
        if (request.url === '/gone') {
          response.writeHead(410, { 'Content-Type': 'text/plain' })
          response.end('gone for good') // not retried: a dead letter at once
          return
        }
        response.writeHead(200, { 'Content-Type': 'application/json' })
        response.end('{"statusCode":200,"body":"hello"}')
      })
    })
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

async function configure () {
  const url = `http://127.0.0.1:${upstream.address().port}/receiver`
  const gone = `http://127.0.0.1:${upstream.address().port}/gone`
  const created = [
    await gateway.config('POST', '/functions', { functionId: 'receiver', type: 'http', provider: { url } }),
    await gateway.config('POST', '/functions', { functionId: 'gone', type: 'http', provider: { url: gone } }),
    await gateway.config('POST', '/subscriptions', { event: 'order.failed', functionId: 'gone', path: '/' }),
    await gateway.config('POST', '/functions', {
      functionId: 'lambda',
      type: 'awslambda',
      provider: {
        arn: 'arn:aws:lambda:us-east-1:123456789012:function:f',
        region: 'us-east-1',
        awsAccessKeyId: 'AKIAEXAMPLE',
        awsSecretAccessKey: SECRET,
        awsSessionToken: SESSION_TOKEN
      }
    }),
    await gateway.config('POST', '/subscriptions', { event: 'user.created', functionId: 'receiver', path: '/' }),
    await gateway.config('POST', '/subscriptions', {
      event: 'http', method: 'GET', path: '/hello', functionId: 'receiver', cors: { origins: ['https://app.example'] }
    })
  ]
  for (const answer of created) assert.equal(answer.status, 201, JSON.stringify(answer.body))
  await gateway.sync()
}

// The text of every cell of a table's body, row by row.
function tableText (page, id) {
  return page.$$eval(`#${id} tbody tr`, rows => rows.map(row => [...row.cells].map(cell => cell.textContent.trim())))
}

before(async () => {
  upstream = await startUpstream()
  gateway = await Gateway.start()
  await configure()
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']
  })
})

after(async () => {
  if (browser) await browser.close()
  if (gateway) await gateway.stop()
  if (upstream) upstream.close()
})

test('the console shows the tables, the event catalog and the live traffic, and no secret', async () => {
  const page = await browser.newPage()
  await page.setViewport({ width: 1400, height: 1800 })
  const problems = []
  page.on('pageerror', error => problems.push(`page error: ${error.message}`))
  page.on('console', message => {
    // A blocked inline script or style would show here as a CSP violation.
    if (message.type() === 'error' && /Content Security Policy/.test(message.text())) problems.push(message.text())
  })
  await page.goto(`${gateway.configUrl}/console`, { waitUntil: 'load' })
  await page.waitForSelector('body[data-loaded]')

  const functions = await tableText(page, 'functions')
  assert.deepEqual(functions.map(row => row[0]).sort(), ['gone', 'lambda', 'receiver'])
  const lambda = functions.find(row => row[0] === 'lambda')
  assert.equal(lambda[1], 'awslambda')
  assert.equal(lambda[2], 'arn:aws:lambda:us-east-1:123456789012:function:f')
  assert.equal(lambda[3], 'us-east-1')

  const subscriptions = await tableText(page, 'subscriptions')
  const ids = subscriptions.map(row => row[0]).sort()
  assert.deepEqual(ids, ['http,GET,%2Fhello', 'order.failed,gone,%2F', 'user.created,receiver,%2F'])

  const routes = await tableText(page, 'routes')
  assert.equal(routes.length, 1)
  assert.equal(routes[0][0], 'GET')
  assert.equal(routes[0][1], '/hello')
  assert.equal(routes[0][2], 'receiver')
  assert.match(routes[0][3], /https:\/\/app\.example/)

  // The live stream is open before anything is emitted.
  await page.waitForFunction(() => document.getElementById('live-state').textContent.startsWith('watching'))

  // A name made to look like HTML must stay text.
  assert.equal(await gateway.emit('user.created', { name: 'Ada', note: '<img src=x onerror=alert(1)>' }), 202)
  assert.equal(await gateway.emit('order.placed', { total: 12 }), 202)
  const hello = await fetch(`${gateway.eventsUrl}/hello`)
  assert.equal(hello.status, 200)

  await page.waitForFunction(() => {
    const text = document.querySelector('#live tbody').textContent
    return text.includes('user.created') && text.includes('order.placed') && text.includes('success')
  }, { timeout: 10000 })
  const live = await tableText(page, 'live')
  assert.ok(live.some(row => row[1] === 'received' && row[2] === 'user.created'), JSON.stringify(live))
  assert.ok(live.some(row => row[1] === 'received' && row[2] === 'http'), JSON.stringify(live))
  assert.ok(live.some(row => row[1] === 'call' && row[2] === 'user.created' && row[3] === 'receiver' &&
    row[4] === 'success'), JSON.stringify(live))

  // The catalog is read again on the next refresh (every 5 s), or now, by loading again.
  await page.click('#load')
  await page.waitForFunction(() => document.querySelector('#catalog tbody').textContent.includes('order.placed'),
    { timeout: 10000 })
  const catalog = await tableText(page, 'catalog')
  const user = catalog.find(row => row[0] === 'user.created')
  assert.ok(user, JSON.stringify(catalog))
  assert.equal(user[1], '1')
  assert.match(user[3], /receiver/)
  assert.match(user[4], /"name": "Ada"/)
  assert.match(user[4], /<img src=x onerror=alert\(1\)>/, 'the sample is shown as text')
  const order = catalog.find(row => row[0] === 'order.placed')
  assert.equal(order[3], 'none')
  assert.equal(await page.$('#catalog img'), null, 'nothing from an event became an element')

  // Pausing stops the live view; events meanwhile are counted as skipped.
  await page.click('#pause')
  assert.equal(await gateway.emit('user.created', { name: 'Grace' }), 202)
  await page.waitForFunction(() => Number(document.getElementById('skipped').textContent) > 0, { timeout: 10000 })
  await page.click('#pause')

  // A delivery that fails for good becomes a dead letter, which the console redelivers.
  assert.equal(await gateway.emit('order.failed', { order: 7 }), 202)
  await page.click('#load')
  await page.waitForSelector('#deadletters tbody button:not([disabled])', { timeout: 10000 })
  const letters = await tableText(page, 'deadletters')
  assert.equal(letters.length, 1, JSON.stringify(letters))
  assert.equal(letters[0][2], 'gone')
  assert.match(letters[0][4], /410/)
  await page.click('#deadletters tbody button')
  await page.waitForFunction(() => document.getElementById('redeliver-answer').textContent.startsWith('Redelivering'),
    { timeout: 10000 })
  // The stream's lines come on its own schedule (polled every 200 ms), behind the API's answers: wait
  // for the failed call's row, then say what the view held if it never came.
  await page.waitForFunction(() => [...document.querySelectorAll('#live tbody tr')].some(row => {
    const cells = [...row.cells].map(cell => cell.textContent.trim())
    return cells[1] === 'call' && cells[3] === 'gone' && cells[4] === 'function_error'
  }), { timeout: 10000 }).catch(() => {})
  const liveAfter = await tableText(page, 'live')
  const liveState = await page.$eval('#live-state', element => element.textContent)
  assert.ok(liveAfter.some(row => row[1] === 'call' && row[3] === 'gone' && row[4] === 'function_error'),
    `${liveState}: ${JSON.stringify(liveAfter)}`)

  // Rates come from two scrapes of the metrics, 5 s apart.
  await page.waitForFunction(() => document.querySelector('#rates tbody').textContent.includes('events received'),
    { timeout: 15000 })

  const pageText = await page.evaluate(() => document.body.innerText)
  assert.ok(!pageText.includes(SECRET), 'the secret key is not on the page')
  assert.ok(!pageText.includes(SESSION_TOKEN), 'the session token is not on the page')
  assert.deepEqual(problems, [])

  fs.mkdirSync(artifacts, { recursive: true })
  const screenshot = path.join(artifacts, 'console.png')
  await page.screenshot({ path: screenshot, fullPage: true })
  console.log(`screenshot: ${screenshot}`)
  await waitUntil(() => fs.existsSync(screenshot), 'the screenshot')
})
