#!/usr/bin/env node
/*
 * mock-server.mjs: a throwaway, in-memory stand-in for the tokenq server, so
 * the web pages and tests/e2e/pages.test.mjs can be developed and checked
 * before (and independently of) the C server.  It follows the API contract
 * closely enough to exercise the pages; it is not a reference implementation.
 *
 *   node mock-server.mjs [--port 8099] [--seed] [--pidfile PATH]
 *
 * Env: MOCK_QUEUES="A=Orders,B=Takeaway" (default A=Orders),
 *      MOCK_KEYS="admin:admin-key,pos:pos-key,staff:staff-key" (role:secret),
 *      MOCK_VENUES="main,mg-road" (the venues it answers for, the default).
 * Venues: every route and page also answers under /v/{slug} for a slug of
 * MOCK_VENUES (/v/mg-road/staff, /v/mg-road/api/orders); the prefix is
 * stripped and, unlike the real server, every venue sees the same data.
 * The addresses the mock writes itself (Location, the ticket's customer
 * page) carry the prefix the request came with.  Each venue has its own
 * settings (GET /api/venues/{slug}, public; PATCH with an admin key: name,
 * currency, accent, logo as a data: URL or null) and logo ({base}/logo).
 * Control: SIGUSR1 stops listening and drops every connection (as if the
 * server died; the in-memory data stays), SIGUSR2 listens again, SIGHUP
 * toggles a database outage (503 on every route that needs it), SIGWINCH
 * silences the open event streams (as a dead connection would).
 * mock-ctl.mjs wraps that as `stop` / `start` for TOKENQ_CTL.
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const WEB = path.resolve(here, '../../web');

const args = process.argv.slice(2);
const argValue = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const PORT = Number(argValue('--port', process.env.MOCK_PORT || 8099));
const PIDFILE = argValue('--pidfile', process.env.MOCK_PIDFILE || '');
const SEED = args.includes('--seed');

const QUEUES = (process.env.MOCK_QUEUES || 'A=Orders').split(',').map((s) => {
  const [prefix, name] = s.split('=');
  return { prefix, name: name || prefix };
});
const VENUES = (process.env.MOCK_VENUES || 'main,mg-road').split(',').map((s) => s.trim());
const KEYS = new Map(
  (process.env.MOCK_KEYS || 'admin:admin-key,pos:pos-key,staff:staff-key').split(',').map((s) => {
    const [role, secret] = s.split(':');
    return [secret, role];
  }),
);

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; media-src 'self' data:; frame-ancestors 'none'";
const TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/* ---------- data ---------- */

const orders = []; // index = id - 1
const events = []; // {id, type, data}
const counters = new Map(); // "A|2026-11-27" -> last sequence
const idem = new Map(); // key -> {body, id}
const streams = new Set();
// The venues' settings, as GET /api/venues/{slug} gives them; logos: slug -> {type, bytes}.
const venueSettings = new Map(
  VENUES.map((slug) => [slug, { slug, name: slug === 'main' ? 'Main' : slug, timezone: 'UTC', day_start: '04:00', queues: QUEUES, digits: 3, counters: [], language: null, currency: 'USD', accent: null, logo: null }]),
);
const logos = new Map();

function businessDate(d = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
const nowIso = () => new Date().toISOString();

function publish(type, order, previous) {
  const id = events.length + 1;
  const data = {
    event_id: id,
    order_id: order.id,
    token: order.token,
    queue: order.queue,
    business_date: order.business_date,
    status: order.status,
    previous_status: previous,
    at: order.updated_at,
  };
  const ev = { id, type, data };
  events.push(ev);
  order.history.push({ event_id: id, event: type, status: order.status, previous_status: previous, at: order.updated_at });
  for (const s of streams) if (!s.muted) sendEvent(s, ev);
}

function createOrder(queue, items, note, at) {
  const date = businessDate();
  const k = queue + '|' + date;
  const seq = (counters.get(k) || 0) + 1;
  counters.set(k, seq);
  const t = at || nowIso();
  const order = {
    id: orders.length + 1,
    token: `${queue}-${String(seq).padStart(3, '0')}`,
    queue,
    sequence: seq,
    business_date: date,
    status: 'PENDING',
    items,
    total: items.reduce((s, i) => s + i.quantity * i.unit_price, 0),
    note: note ?? null,
    created_at: t,
    updated_at: t,
    history: [],
  };
  orders.push(order);
  publish('token', order, null);
  return order;
}

const RANK = { PENDING: 1, PREPARING: 2, READY: 3, COMPLETED: 4, CANCELLED: 4 };
function canMove(from, to) {
  if (!(to in RANK)) return false;
  if (from === 'COMPLETED' || from === 'CANCELLED') return false;
  if (to === 'CANCELLED') return true;
  return RANK[to] > RANK[from];
}

const publicOrder = (o, withHistory) => {
  const { history, ...rest } = o;
  return withHistory ? { ...rest, history } : rest;
};

/* ---------- HTTP helpers ---------- */

function send(res, status, body, headers = {}) {
  const isStr = typeof body === 'string' || Buffer.isBuffer(body);
  const payload = isStr ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': isStr ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    ...headers,
  });
  res.end(payload);
}

let dbDown = false; // SIGHUP toggles: every route that needs the database answers 503
const TITLES = { 503: 'Service Unavailable', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 415: 'Unsupported Media Type', 422: 'Unprocessable Content' };
function problem(res, status, code, detail, field, headers = {}) {
  const body = { status, title: TITLES[status] || 'Error', code, detail };
  if (field) body.field = field;
  send(res, status, JSON.stringify(body), { 'Content-Type': 'application/problem+json', ...headers });
}

function auth(req, res, roles) {
  const m = /^bearer\s+(.+)$/i.exec(req.headers.authorization || '');
  const role = m ? KEYS.get(m[1].trim()) : undefined;
  if (!role) {
    problem(res, 401, 'unauthorized', 'A valid API key is required: send "Authorization: Bearer KEY".', null, {
      'WWW-Authenticate': 'Bearer',
    });
    return null;
  }
  if (role !== 'admin' && !roles.includes(role)) {
    problem(res, 403, 'forbidden', `A ${role} key may not do this.`);
    return null;
  }
  return role;
}

function readJson(req, res) {
  return new Promise((resolve) => {
    const type = (req.headers['content-type'] || '').toLowerCase();
    if (!type.startsWith('application/json')) {
      problem(res, 415, 'unsupported_media_type', 'Send the body as application/json.');
      return resolve(undefined);
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        const v = JSON.parse(raw);
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        resolve({ value: v, raw });
      } catch (e) {
        problem(res, 400, 'malformed_json', 'The body is not a JSON object.');
        resolve(undefined);
      }
    });
  });
}

function serveFile(res, name) {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) return problem(res, 404, 'not_found', 'No such file.');
  const file = path.join(WEB, name);
  fs.readFile(file, (err, data) => {
    if (err) return problem(res, 404, 'not_found', 'No such file.');
    send(res, 200, data, { 'Content-Type': TYPES[path.extname(name)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
  });
}

/* ---------- SSE ---------- */

function sendEvent(s, ev) {
  s.res.write(`id: ${ev.id}\nevent: ${ev.type}\ndata: ${JSON.stringify(ev.data)}\n\n`);
}

function openStream(req, res, url) {
  const hdr = req.headers['last-event-id'];
  const q = url.searchParams.get('last_event_id');
  const from = hdr !== undefined ? hdr : q;
  if (from !== null && from !== undefined && !/^\d+$/.test(String(from))) {
    return problem(res, 422, 'invalid_field', 'last_event_id must be a non-negative integer.', 'last_event_id');
  }
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
    'Content-Security-Policy': CSP,
  });
  res.write(': hello\n\n');
  const s = { res };
  if (from !== null && from !== undefined) for (const ev of events.slice(Number(from))) sendEvent(s, ev);
  streams.add(s);
  const ping = setInterval(() => res.write(': ping\n\n'), 15000);
  req.on('close', () => {
    clearInterval(ping);
    streams.delete(s);
  });
}

/* ---------- pages the API renders ---------- */

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
const money = (m) => (m / 100).toFixed(2);

/** A QR-looking SVG (not a real QR code: the C server uses libqrencode). */
function fakeQr(text) {
  const n = 29;
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  const rnd = () => ((h = Math.imul(h ^ (h >>> 15), 2246822507) ^ Math.imul(h ^ (h >>> 13), 3266489909)) >>> 0) / 4294967296;
  const cells = [];
  const finder = (x, y) => x < 7 && y < 7;
  const inFinder = (x, y) => finder(x, y) || finder(n - 1 - x, y) || finder(x, n - 1 - y);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      let on;
      if (inFinder(x, y)) {
        const fx = x < 7 ? x : n - 1 - x;
        const fy = y < 7 ? y : n - 1 - y;
        const d = Math.max(Math.abs(fx - 3), Math.abs(fy - 3));
        on = d !== 2;
      } else if ((x === 7 || y === 7 || x === n - 8 || y === n - 8) && (x < 8 || y < 8) && (x < 8 || x > n - 9) && (y < 8 || y > n - 9)) {
        on = false;
      } else on = rnd() < 0.5;
      if (on) cells.push(`M${x + 4} ${y + 4}h1v1h-1z`);
    }
  return `<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${n + 8} ${n + 8}" role="img" aria-label="QR code: ${esc(text)}"><rect width="${n + 8}" height="${n + 8}" fill="#fff"/><path d="${cells.join('')}" fill="#000"/></svg>`;
}

function ticketHtml(o, base) {
  const q = QUEUES.find((x) => x.prefix === o.queue);
  const url = `${base}/t/${o.token}`;
  const rows = o.items
    .map((i) => `<tr><td class="qty">${i.quantity}×</td><td class="name" dir="auto">${esc(i.name)}</td><td class="amount">${money(i.quantity * i.unit_price)}</td></tr>`)
    .join('');
  const when = new Date(o.created_at);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ticket ${esc(o.token)}</title><link rel="stylesheet" href="/assets/ticket.css"></head>
<body><main class="ticket"><h1 class="ticket-token">${esc(o.token)}</h1><p class="ticket-queue" dir="auto">${esc(q ? q.name : o.queue)}</p>
<table class="ticket-items"><thead><tr><th class="qty">Qty</th><th class="name">Item</th><th class="amount">Amount</th></tr></thead><tbody>${rows}</tbody></table>
${o.note ? `<p class="ticket-note" dir="auto">${esc(o.note)}</p>` : ''}
<p class="ticket-total"><span>Total</span> <span>${money(o.total)}</span></p>
<p class="ticket-time"><time datetime="${o.created_at}">${o.business_date} ${when.toTimeString().slice(0, 5)}</time></p>
<div class="ticket-qr">${fakeQr(url)}</div><p class="ticket-url">${esc(url)}</p></main></body></html>`;
}

/* ---------- routes ---------- */

function board(queue) {
  const today = businessDate();
  const out = { business_date: today, pending: [], preparing: [], ready: [], last_event_id: events.length };
  for (const o of orders) {
    if (o.business_date !== today || (queue && o.queue !== queue)) continue;
    const list = { PENDING: out.pending, PREPARING: out.preparing, READY: out.ready }[o.status];
    if (list) list.push(o.token);
  }
  return out;
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function stats(date, queue) {
  const by = { PENDING: 0, PREPARING: 0, READY: 0, COMPLETED: 0, CANCELLED: 0 };
  const hours = new Array(24).fill(0);
  let revenue = 0;
  const prep = [];
  let n = 0;
  for (const o of orders) {
    if (o.business_date !== date || (queue && o.queue !== queue)) continue;
    n++;
    by[o.status]++;
    if (o.status !== 'CANCELLED') revenue += o.total;
    hours[new Date(o.created_at).getHours()]++;
    const ready = o.history.find((h) => h.status === 'READY');
    if (ready) prep.push(Math.round((Date.parse(ready.at) - Date.parse(o.created_at)) / 1000));
  }
  prep.sort((a, b) => a - b);
  return {
    business_date: date,
    queue: queue || null,
    orders: n,
    by_status: by,
    revenue,
    prep_seconds: { count: prep.length, p50: percentile(prep, 50), p90: percentile(prep, 90), max: prep.length ? prep[prep.length - 1] : null },
    orders_per_hour: hours,
  };
}

async function api(req, res, url, base) {
  const p = url.pathname;
  const m = req.method;
  let mm;

  if (p === '/healthz') return dbDown ? send(res, 503, { status: 'unavailable', database: 'mock' }) : send(res, 200, { status: 'ok', database: 'mock' });
  if (dbDown && p !== '/api/queues') return problem(res, 503, 'database_unavailable', 'The database cannot be reached.', null, { 'Retry-After': '2' });
  if (p === '/api/queues') return m === 'GET' ? send(res, 200, { queues: QUEUES }) : problem(res, 405, 'method_not_allowed', 'GET only.', null, { Allow: 'GET' });
  if (p === '/api/board') {
    const q = url.searchParams.get('queue');
    if (q && !QUEUES.some((x) => x.prefix === q)) return problem(res, 422, 'unknown_queue', `There is no queue ${q}.`, 'queue');
    return send(res, 200, board(q));
  }
  if (p === '/api/events') return openStream(req, res, url);

  if ((mm = /^\/api\/tokens\/([^/]+)$/.exec(p))) {
    const token = decodeURIComponent(mm[1]).toUpperCase();
    const date = url.searchParams.get('date') || businessDate();
    const o = orders.find((x) => x.token === token && x.business_date === date);
    if (!o) return problem(res, 404, 'not_found', `No token ${token} on ${date}.`);
    const open = o.status === 'PENDING' || o.status === 'PREPARING';
    const ahead = open
      ? orders.filter((x) => x.queue === o.queue && x.business_date === date && x.sequence < o.sequence && (x.status === 'PENDING' || x.status === 'PREPARING')).length
      : 0;
    const st = stats(date, o.queue).prep_seconds;
    const eta = open && st.p50 !== null ? Math.max(60, (ahead + 1) * Math.round(st.p50 / 2)) : null;
    return send(res, 200, { token: o.token, queue: o.queue, business_date: o.business_date, status: o.status, ahead, eta_seconds: eta, updated_at: o.updated_at });
  }

  if (p === '/api/orders') {
    if (m === 'GET') {
      if (!auth(req, res, ['pos', 'staff'])) return;
      const date = url.searchParams.get('date') || businessDate();
      const queue = url.searchParams.get('queue');
      const status = url.searchParams.get('status');
      const wanted = status ? status.split(',') : null;
      if (wanted && wanted.some((s) => !(s in RANK))) return problem(res, 422, 'invalid_field', 'status must be a comma list of statuses.', 'status');
      const limit = Number(url.searchParams.get('limit') || 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) return problem(res, 422, 'invalid_field', 'limit must be 1..500.', 'limit');
      const after = Number(url.searchParams.get('after_id') || 0);
      const all = orders.filter((o) => o.id > after && o.business_date === date && (!queue || o.queue === queue) && (!wanted || wanted.includes(o.status)));
      const page = all.slice(0, limit);
      return send(res, 200, { orders: page.map((o) => publicOrder(o)), next_after_id: all.length > limit ? page[page.length - 1].id : null });
    }
    if (m === 'POST') {
      if (!auth(req, res, ['pos'])) return;
      const body = await readJson(req, res);
      if (!body) return;
      const v = body.value;
      let queue = v.queue;
      if (queue === undefined) {
        if (QUEUES.length > 1) return problem(res, 422, 'invalid_field', 'queue is required when there are several queues.', 'queue');
        queue = QUEUES[0].prefix;
      }
      if (!QUEUES.some((x) => x.prefix === queue)) return problem(res, 422, 'unknown_queue', `There is no queue ${queue}.`, 'queue');
      if (!Array.isArray(v.items) || v.items.length < 1 || v.items.length > 200) return problem(res, 422, 'invalid_field', 'items must be an array of 1 to 200 items.', 'items');
      for (let i = 0; i < v.items.length; i++) {
        const it = v.items[i];
        if (!it || typeof it.name !== 'string' || !it.name.trim() || it.name.length > 120) return problem(res, 422, 'invalid_item', `items[${i}].name must be 1 to 120 characters.`, `items[${i}].name`);
        if (!Number.isInteger(it.quantity) || it.quantity < 1 || it.quantity > 1000) return problem(res, 422, 'invalid_item', `items[${i}].quantity must be an integer from 1 to 1000.`, `items[${i}].quantity`);
        if (!Number.isInteger(it.unit_price) || it.unit_price < 0 || it.unit_price > 100000000) return problem(res, 422, 'invalid_item', `items[${i}].unit_price must be an integer from 0 to 100000000.`, `items[${i}].unit_price`);
      }
      const total = v.items.reduce((s, i) => s + i.quantity * i.unit_price, 0);
      if (v.total !== undefined && v.total !== total) return problem(res, 422, 'total_mismatch', `total is ${v.total} but the items add up to ${total}.`, 'total');
      if (v.note !== undefined && v.note !== null && (typeof v.note !== 'string' || v.note.length > 500)) return problem(res, 422, 'invalid_field', 'note must be text of up to 500 characters.', 'note');
      const key = req.headers['idempotency-key'];
      if (key !== undefined) {
        const prev = idem.get(key);
        if (prev) {
          if (prev.body !== body.raw) return problem(res, 422, 'idempotency_key_reused', 'This Idempotency-Key was used with another body.', 'Idempotency-Key');
          return send(res, 200, publicOrder(orders[prev.id - 1]), { 'Idempotent-Replayed': 'true', Location: `${base}/api/orders/${prev.id}` });
        }
      }
      const o = createOrder(queue, v.items.map((i) => ({ name: i.name, quantity: i.quantity, unit_price: i.unit_price })), v.note);
      if (key !== undefined) idem.set(key, { body: body.raw, id: o.id });
      return send(res, 201, publicOrder(o), { Location: `${base}/api/orders/${o.id}` });
    }
    return problem(res, 405, 'method_not_allowed', 'GET or POST.', null, { Allow: 'GET, POST' });
  }

  if ((mm = /^\/api\/orders\/(\d+)(\/recall|\/ticket)?$/.exec(p))) {
    const id = Number(mm[1]);
    const sub = mm[2];
    if (sub === '/recall') {
      if (m !== 'POST') return problem(res, 405, 'method_not_allowed', 'POST only.', null, { Allow: 'POST' });
      if (!auth(req, res, ['staff'])) return;
      const o = orders[id - 1];
      if (!o) return problem(res, 404, 'not_found', `No order ${id}.`);
      if (o.status !== 'READY') return problem(res, 409, 'invalid_transition', `Order ${o.token} is ${o.status}; only a READY token can be recalled.`);
      o.updated_at = nowIso();
      publish('recall', o, 'READY');
      return send(res, 200, publicOrder(o));
    }
    if (sub === '/ticket') {
      if (m !== 'GET') return problem(res, 405, 'method_not_allowed', 'GET only.', null, { Allow: 'GET' });
      if (!auth(req, res, ['pos', 'staff'])) return;
      const o = orders[id - 1];
      if (!o) return problem(res, 404, 'not_found', `No order ${id}.`);
      return send(res, 200, ticketHtml(o, `http://${req.headers.host}${base}`), { 'Content-Type': 'text/html; charset=utf-8' });
    }
    if (m === 'GET') {
      if (!auth(req, res, ['pos', 'staff'])) return;
      const o = orders[id - 1];
      if (!o) return problem(res, 404, 'not_found', `No order ${id}.`);
      return send(res, 200, publicOrder(o, true));
    }
    if (m === 'PATCH') {
      if (!auth(req, res, ['staff'])) return;
      const body = await readJson(req, res);
      if (!body) return;
      const extra = Object.keys(body.value).find((k) => k !== 'status');
      if (extra) return problem(res, 422, 'unknown_field', `Unknown member ${extra}.`, extra);
      const o = orders[id - 1];
      if (!o) return problem(res, 404, 'not_found', `No order ${id}.`);
      const to = body.value.status;
      if (!(to in RANK)) return problem(res, 422, 'invalid_field', 'status must be one of PENDING, PREPARING, READY, COMPLETED, CANCELLED.', 'status');
      if (!canMove(o.status, to)) return problem(res, 409, 'invalid_transition', `Order ${o.token} cannot go from ${o.status} to ${to}.`);
      const prev = o.status;
      o.status = to;
      o.updated_at = nowIso();
      publish('token', o, prev);
      return send(res, 200, publicOrder(o));
    }
    return problem(res, 405, 'method_not_allowed', 'GET or PATCH.', null, { Allow: 'GET, PATCH' });
  }

  if ((mm = /^\/api\/venues\/([^/]+)$/.exec(p))) {
    const v = venueSettings.get(mm[1]);
    if (!v) return problem(res, 404, 'unknown_venue', `There is no venue ${mm[1]}.`);
    if (m === 'GET') return send(res, 200, v);
    if (m !== 'PATCH') return problem(res, 405, 'method_not_allowed', 'GET or PATCH.', null, { Allow: 'GET, PATCH' });
    if (!auth(req, res, [])) return;
    const body = await readJson(req, res);
    if (!body) return;
    const b = body.value;
    if ('name' in b && (typeof b.name !== 'string' || !b.name.trim())) return problem(res, 422, 'invalid', 'name: some text.', 'name');
    if ('currency' in b && !/^[A-Z]{3}$/.test(b.currency || '')) return problem(res, 422, 'invalid', 'currency: an ISO 4217 code.', 'currency');
    if ('accent' in b && b.accent !== null && !/^#[0-9a-fA-F]{6}$/.test(b.accent)) return problem(res, 422, 'invalid', 'accent: #rrggbb or null.', 'accent');
    let logo;
    if ('logo' in b && b.logo !== null) {
      logo = /^data:(image\/(?:png|jpeg|svg\+xml|webp));base64,([A-Za-z0-9+/=]+)$/.exec(b.logo || '');
      if (!logo) return problem(res, 422, 'invalid', 'logo: a data: URL of an image, or null.', 'logo');
    }
    for (const k of ['name', 'currency', 'accent']) if (k in b) v[k] = b[k];
    if ('logo' in b) {
      if (logo) logos.set(v.slug, { type: logo[1], bytes: Buffer.from(logo[2], 'base64') });
      else logos.delete(v.slug);
      v.logo = logo ? '/v/' + v.slug + '/logo' : null;
    }
    return send(res, 200, v);
  }
  if (p === '/api/menu') {
    if (!auth(req, res, ['pos', 'staff'])) return;
    return send(res, 200, { items: [{ name: 'Masala tea', unit_price: 1500 }, { name: 'Veg biryani', unit_price: 18000 }, { name: 'Paneer wrap', unit_price: 12000 }], currency: 'INR' });
  }
  if (p === '/metrics') {
    if (!auth(req, res, [])) return;
    return send(res, 200, `# mock\ntokenq_orders_created_total ${orders.length}\n`, { 'Content-Type': 'text/plain; version=0.0.4' });
  }
  if (p === '/api/stats') {
    if (!auth(req, res, ['staff'])) return;
    return send(res, 200, stats(url.searchParams.get('date') || businessDate(), url.searchParams.get('queue')));
  }
  return problem(res, 404, 'not_found', 'No such route.');
}

function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  let p = url.pathname;
  let base = '';
  const venue = /^\/v\/([a-z][a-z0-9-]{0,31})(\/.*)?$/.exec(p);
  if (venue) {
    if (!VENUES.includes(venue[1])) return problem(res, 404, 'unknown_venue', `There is no venue ${venue[1]}.`);
    base = '/v/' + venue[1];
    p = venue[2] || '/';
    url.pathname = p;
  }
  if (p.startsWith('/api/') || p === '/healthz' || p === '/metrics') {
    api(req, res, url, base).catch((e) => {
      console.error(e);
      if (!res.headersSent) problem(res, 500, 'internal', String(e));
    });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 405, 'method_not_allowed', 'GET only.', null, { Allow: 'GET' });
  if (p === '/logo') {
    const logo = logos.get(venue ? venue[1] : 'main');
    if (!logo) return problem(res, 404, 'not_found', 'This venue has no logo.');
    return send(res, 200, logo.bytes, { 'Content-Type': logo.type });
  }
  if (p === '/') return serveFile(res, 'board.html');
  if (p === '/staff') return serveFile(res, 'staff.html');
  if (/^\/t\/[^/]+$/.test(p)) return serveFile(res, 'token.html');
  if (p.startsWith('/assets/')) return serveFile(res, p.slice(8));
  return problem(res, 404, 'not_found', 'No such page.');
}

/* ---------- seed data for screenshots ---------- */

function seed() {
  const menu = [
    ['Masala tea', 150],
    ['Flat white', 380],
    ['Veg sandwich', 650],
    ['Croissant', 290],
    ['Filter coffee', 220],
    ['Paneer wrap', 720],
    ['Lemon soda', 180],
    ['Samosa', 120],
  ];
  const start = Date.now() - 3.5 * 3600 * 1000;
  const n = 34;
  for (let i = 0; i < n; i++) {
    const items = [];
    const k = 1 + (i % 3);
    for (let j = 0; j < k; j++) {
      const [name, price] = menu[(i * 3 + j * 5) % menu.length];
      items.push({ name, quantity: 1 + ((i + j) % 3), unit_price: price });
    }
    const at = new Date(start + (i / n) * 3.4 * 3600 * 1000);
    const o = createOrder(QUEUES[i % QUEUES.length].prefix, items, i % 5 === 2 ? 'less sugar, no ice' : null, at.toISOString());
    const step = (status, minutes) => {
      const prev = o.status;
      o.status = status;
      o.updated_at = new Date(at.getTime() + minutes * 60000).toISOString();
      publish('token', o, prev);
    };
    if (i < n - 14) {
      step('PREPARING', 1);
      step('READY', 3 + (i % 7));
      if (i % 9 === 4) step('CANCELLED', 9);
      else step('COMPLETED', 8 + (i % 5));
    } else if (i < n - 8) {
      step('PREPARING', 1);
      step('READY', 4);
    } else if (i < n - 3) {
      step('PREPARING', 1);
    }
  }
}

/* ---------- start / stop ---------- */

const sockets = new Set();
const server = http.createServer(handle);
server.keepAliveTimeout = 5000;
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

let listening = false;
function listen() {
  if (listening) return;
  server.listen(PORT, '127.0.0.1', () => {
    listening = true;
    console.log(`mock tokenq on http://127.0.0.1:${PORT}`);
  });
}
function stop() {
  if (!listening) return;
  listening = false;
  server.close();
  for (const s of sockets) s.destroy();
  streams.clear();
  console.log('mock tokenq stopped listening');
}

if (SEED) seed();
if (PIDFILE) fs.writeFileSync(PIDFILE, String(process.pid));
process.on('SIGUSR1', stop);
process.on('SIGUSR2', listen);
process.on('SIGWINCH', () => {
  // The open streams go silent (a half-open connection); new ones are fine.
  for (const s of streams) s.muted = true;
  console.log('mock muted ' + streams.size + ' streams');
});
process.on('SIGHUP', () => {
  dbDown = !dbDown;
  console.log('mock database ' + (dbDown ? 'down' : 'up'));
});
setInterval(() => {}, 1 << 30); // stay alive while stopped (signal handlers do not)
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
listen();
