// The Event Gateway console (docs/console.md). Everything it shows comes from strangers (event names,
// payloads, URLs): it is put on the page with textContent and DOM calls only, never as HTML.
'use strict';

const REFRESH_MS = 5000;
const MAX_LIVE_ROWS = 200;

const state = {
  space: 'default',
  key: '',
  paused: false,
  skipped: 0,
  stream: null, // the AbortController of the open live stream
  refreshTimer: null,
  lastScrape: null, // {at, counters}
};

function $(id) {
  return document.getElementById(id);
}

// An element with text (or child nodes) and a class, never HTML.
function el(tag, content, className) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const item of [].concat(content === undefined || content === null ? [] : content)) {
    node.append(item instanceof Node ? item : document.createTextNode(String(item)));
  }
  return node;
}

function fillTable(table, rows, emptyText) {
  const body = table.tBodies[0];
  const fresh = document.createElement('tbody');
  if (rows.length === 0) {
    const cell = el('td', emptyText, 'empty');
    cell.colSpan = table.tHead.rows[0].cells.length;
    fresh.append(el('tr', cell));
  }
  for (const row of rows) fresh.append(el('tr', row.map((value) => el('td', value))));
  table.replaceChild(fresh, body);
}

function setStatus(text) {
  $('status').textContent = text;
}

function headers(extra) {
  const all = Object.assign({}, extra || {});
  if (state.key) all.Authorization = 'Bearer ' + state.key;
  return all;
}

function spacePath(rest) {
  return '/v1/spaces/' + encodeURIComponent(state.space) + rest;
}

function messageOf(body, status) {
  if (body && Array.isArray(body.errors) && body.errors.length > 0) {
    return body.errors.map((error) => error.message).join('; ');
  }
  return 'HTTP ' + status;
}

async function api(path, options) {
  const settings = Object.assign({}, options || {});
  settings.headers = headers(settings.headers);
  settings.credentials = 'omit';
  const response = await fetch(path, settings);
  const text = await response.text();
  let body = text;
  if ((response.headers.get('Content-Type') || '').startsWith('application/json') && text) {
    body = JSON.parse(text);
  }
  if (!response.ok) {
    const error = new Error(response.status + ': ' + messageOf(body, response.status));
    error.status = response.status;
    throw error;
  }
  return body;
}

function corsText(cors) {
  if (!cors) return 'off';
  return 'origins ' + cors.origins.join(', ') + '; methods ' + cors.methods.join(', ');
}

function timeText(ms) {
  if (ms === null || ms === undefined) return 'never';
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

// ---- functions, subscriptions, routes ----

function targetOf(provider) {
  if (!provider) return '';
  return provider.url || provider.arn || provider.streamName || provider.deliveryStreamName || '';
}

async function loadFunctions() {
  const body = await api(spacePath('/functions'));
  const rows = body.functions.map((fn) => {
    const provider = fn.provider || {};
    return [el('code', fn.functionId), fn.type, el('code', targetOf(provider)), provider.region || ''];
  });
  fillTable($('functions'), rows, 'no functions in this space');
}

// What a subscription listens to: http requests and invocations are synchronous, the rest asynchronous.
function kindOf(event) {
  if (event === 'http' || event === 'invoke') return event + ' (sync)';
  if (event.startsWith('gateway.')) return 'system (async)';
  return 'custom (async)';
}

async function loadSubscriptions() {
  const body = await api(spacePath('/subscriptions'));
  const subscriptions = body.subscriptions;
  fillTable(
    $('subscriptions'),
    subscriptions.map((sub) => [
      el('code', sub.subscriptionId),
      kindOf(sub.event),
      sub.event,
      (sub.method ? sub.method + ' ' : '') + sub.path,
      el('code', sub.functionId),
      corsText(sub.cors),
    ]),
    'no subscriptions in this space',
  );
  const routes = subscriptions.filter((sub) => sub.event === 'http');
  fillTable(
    $('routes'),
    routes.map((sub) => [sub.method, el('code', sub.path), el('code', sub.functionId), corsText(sub.cors)]),
    'no http routes in this space',
  );
}

// ---- the event catalog ----

function sampleNode(sample) {
  if (sample === null || sample === undefined) return '';
  let text = sample;
  try {
    text = JSON.stringify(JSON.parse(sample), null, 2);
  } catch (ignored) {
    // cut at 4 KiB: shown as it is
  }
  return el('pre', text);
}

async function loadCatalog() {
  const body = await api(spacePath('/events/catalog'));
  const rows = body.events.map((event) => [
    el('code', event.name),
    String(event.count),
    timeText(event.lastSeen),
    event.subscribers.length === 0
      ? 'none'
      : el(
          'ul',
          event.subscribers.map((sub) => el('li', [el('code', sub.functionId), ' (' + sub.subscriptionId + ')'])),
        ),
    [sampleNode(event.sample), event.sampleTruncated ? ' (cut at 4 KiB)' : ''],
  ]);
  fillTable($('catalog'), rows, 'no custom events seen in this space yet');
  const notes = [];
  if (body.overflow > 0) notes.push(body.overflow + ' events of names beyond the catalog\u2019s room');
  if (body.unlistedSpaces > 0) notes.push(body.unlistedSpaces + ' events of spaces beyond its room');
  $('catalog-overflow').textContent = notes.join('; ');
}

// ---- dead letters ----

async function loadDeadLetters() {
  const body = await api(spacePath('/deadletters'));
  const rows = body.deadLetters.map((letter) => {
    const button = el('button', 'Redeliver');
    button.type = 'button';
    button.disabled = letter.redelivering;
    button.addEventListener('click', () => redeliver(letter.deadLetterId));
    return [
      el('code', letter.deadLetterId),
      el('code', letter.subscriptionId),
      el('code', letter.functionId),
      String(letter.attempts),
      letter.lastError,
      button,
    ];
  });
  fillTable($('deadletters'), rows, 'no dead letters in this space');
}

async function redeliver(id) {
  const answer = $('redeliver-answer');
  try {
    const letter = await api(spacePath('/deadletters/' + encodeURIComponent(id) + '/redeliver'), {
      method: 'POST',
    });
    answer.textContent = 'Redelivering ' + letter.deadLetterId + ' to ' + letter.functionId;
  } catch (error) {
    answer.textContent = 'Not redelivered: ' + error.message;
  }
  loadDeadLetters().catch(() => {});
}

// ---- rates, from two scrapes of the metrics ----

// The counters of the Prometheus text this space's rates need, by "name{labels}".
function parseCounters(text) {
  const counters = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('gateway_events_received_total') && !line.startsWith('gateway_function_calls_total')) {
      continue;
    }
    const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const pair of match[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    if (labels.space !== state.space) continue;
    const what =
      match[1] === 'gateway_events_received_total'
        ? 'events received (' + labels.type + ')'
        : 'function calls: ' + labels.outcome;
    counters.set(what, (counters.get(what) || 0) + Number(match[3]));
  }
  return counters;
}

async function scrapeRates() {
  let text;
  try {
    text = await api('/v1/metrics');
  } catch (error) {
    $('rates-note').textContent =
      error.status === 403 ? '(the metrics need a key for every space)' : '(' + error.message + ')';
    return;
  }
  const now = Date.now();
  const counters = parseCounters(text);
  const before = state.lastScrape;
  state.lastScrape = { at: now, counters };
  if (!before) {
    $('rates-note').textContent = '(measuring\u2026)';
    return;
  }
  const seconds = (now - before.at) / 1000;
  const rows = [];
  for (const [what, value] of counters) {
    const rate = (value - (before.counters.get(what) || 0)) / seconds;
    rows.push([what, rate.toFixed(2)]);
  }
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  fillTable($('rates'), rows, 'nothing counted in this space yet');
  $('rates-note').textContent = '(over the last ' + seconds.toFixed(0) + ' s)';
}

// ---- live traffic ----

function liveRow(kind, data) {
  const failed = data.outcome && data.outcome !== 'success';
  const outcome = data.outcome ? el('span', data.outcome, failed ? 'outcome-failure' : 'outcome-success') : '';
  const details = [];
  if (kind === 'received') {
    details.push(data.type);
    if (data.path) details.push('path ' + data.path);
    details.push('id ' + data.eventId);
  } else {
    if (data.status) details.push('status ' + data.status);
    details.push(Number(data.durationMs).toFixed(1) + ' ms');
    if (data.attempt) details.push('attempt ' + data.attempt);
  }
  if (data.traceId) details.push('trace ' + data.traceId);
  const row = el('tr', [
    el('td', timeText(data.time)),
    el('td', kind),
    el('td', el('code', data.event || '')),
    el('td', data.functionId ? el('code', data.functionId) : ''),
    el('td', outcome),
    el('td', details.join(', ')),
  ]);
  row.className = 'live-' + kind;
  return row;
}

function clearLive() {
  const table = $('live');
  table.replaceChild(document.createElement('tbody'), table.tBodies[0]);
}

function onStreamEvent(kind, text) {
  if (kind === 'dropped') {
    $('dropped').textContent = String(JSON.parse(text).dropped);
    return;
  }
  if (kind === 'open') {
    $('live-state').textContent = 'watching ' + JSON.parse(text).space;
    return;
  }
  if (kind !== 'received' && kind !== 'call') return;
  if (state.paused) {
    state.skipped += 1;
    $('skipped').textContent = String(state.skipped);
    return;
  }
  const body = $('live').tBodies[0];
  body.prepend(liveRow(kind, JSON.parse(text)));
  while (body.rows.length > MAX_LIVE_ROWS) body.deleteRow(body.rows.length - 1);
}

// Server-sent events read with fetch(), since EventSource cannot send the Authorization header.
function parseMessages(buffer, deliver) {
  let end;
  while ((end = buffer.indexOf('\n\n')) >= 0) {
    const message = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    let kind = 'message';
    const data = [];
    for (const line of message.split('\n')) {
      if (line.startsWith(':')) continue; // a comment: the keepalive
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') kind = value;
      if (field === 'data') data.push(value);
    }
    if (data.length > 0) deliver(kind, data.join('\n'));
  }
  return buffer;
}

async function openStream() {
  if (state.stream) state.stream.abort();
  const controller = new AbortController();
  state.stream = controller;
  $('live-state').textContent = 'connecting\u2026';
  try {
    const response = await fetch(spacePath('/events/stream'), {
      headers: headers({ Accept: 'text/event-stream' }),
      credentials: 'omit',
      signal: controller.signal,
    });
    if (!response.ok) {
      const text = await response.text();
      let body = null;
      try {
        body = JSON.parse(text);
      } catch (ignored) {
        // not JSON
      }
      $('live-state').textContent = 'not connected: ' + response.status + ' ' + messageOf(body, response.status);
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer = parseMessages(buffer + decoder.decode(value, { stream: true }), onStreamEvent);
    }
    $('live-state').textContent = 'the stream ended';
  } catch (error) {
    if (controller.signal.aborted) return;
    $('live-state').textContent = 'disconnected: ' + error.message;
  }
  if (state.stream === controller) {
    setTimeout(() => {
      if (state.stream === controller) openStream();
    }, 3000);
  }
}

// ---- the page ----

async function refresh() {
  const failures = [];
  const steps = [loadFunctions(), loadSubscriptions(), loadCatalog(), loadDeadLetters()];
  for (const step of steps) {
    try {
      await step;
    } catch (error) {
      failures.push(error.message);
    }
  }
  setStatus(failures.length > 0 ? failures[0] : 'space ' + state.space + ', updated ' + timeText(Date.now()));
  document.body.dataset.loaded = String(Date.now());
}

// Reads everything again; a new space or key also starts the live view and the rates afresh.
function load() {
  const space = $('space').value.trim() || 'default';
  const key = $('key').value;
  const changed = !state.stream || space !== state.space || key !== state.key;
  state.space = space;
  state.key = key;
  sessionStorage.setItem('eg.space', state.space);
  sessionStorage.setItem('eg.key', state.key);
  clearInterval(state.refreshTimer);
  refresh();
  if (changed) {
    state.lastScrape = null;
    clearLive();
    scrapeRates();
    openStream();
  }
  state.refreshTimer = setInterval(() => {
    refresh();
    scrapeRates();
  }, REFRESH_MS);
}

function start() {
  $('space').value = sessionStorage.getItem('eg.space') || 'default';
  $('key').value = sessionStorage.getItem('eg.key') || '';
  $('settings').addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  $('pause').addEventListener('click', () => {
    state.paused = !state.paused;
    $('pause').textContent = state.paused ? 'Resume' : 'Pause';
  });
  $('clear').addEventListener('click', clearLive);
  load();
}

document.addEventListener('DOMContentLoaded', start);
