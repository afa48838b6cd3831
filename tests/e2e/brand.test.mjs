/*
 * brand.test.mjs: each venue's pages in its own name, colour, logo and
 * currency, in a real browser (Debian's Chromium through playwright-core)
 * against a tokenq server of its own on a fresh SQLite file.
 *
 *   [TOKENQ_BIN=build/tokenq] node --test tests/e2e/brand.test.mjs
 *
 * or against a server already running (BRAND_URL and BRAND_ADMIN_KEY, e.g.
 * mock-server.mjs with admin-key); the test changes its venue main.
 *
 * The pages read the venue from GET /api/venues/{slug}. With that route
 * the venue main is renamed "Café Uno", priced in JPY, given an accent and
 * a logo (PATCH /api/venues/main with an admin key), and the board, the
 * staff console and the customer page are checked for them; then it goes
 * back to USD for "$7.00". While the server has no such route (404) those
 * scenarios are skipped, saying so. Whatever the server has, the pages
 * with the venue's answer taken away (a 404 put in by the browser) must
 * keep their own name and colours and count money in USD.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, watchConsole, problems, apiClient } from './browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.TOKENQ_BIN || path.join(HERE, '..', '..', 'build', 'tokenq');
const GIVEN = (process.env.BRAND_URL || '').replace(/\/+$/, '');
const skipAll = GIVEN || fs.existsSync(BIN) ? false : 'no tokenq binary at ' + BIN + ' (set TOKENQ_BIN)';

// A 1×1 PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const NAME = 'Café Uno';
const ACCENT = '#aa3300';
const ACCENT_RGB = 'rgb(170, 51, 0)';

let tmp, server, base, admin, api, browser;
let venueRoute = null; // why the venue scenarios are skipped, or false once the route answers
const consoleLog = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, BIN + ' ' + args.join(' ') + ': ' + r.stderr);
  return r.stdout;
}

async function newPage(width = 1280, height = 800) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height });
  consoleLog.push(watchConsole(page));
  return page;
}

/** An order of total 700 (minor units): 1 × 700. */
async function order700(name) {
  const q = await api('GET', '/api/queues', undefined, null);
  const queue = q.status === 200 && q.data.queues.length ? q.data.queues[0].prefix : 'A';
  const r = await api('POST', '/api/orders', { queue, items: [{ name, quantity: 1, unit_price: 700 }] });
  assert.equal(r.status, 201, 'POST /api/orders: ' + JSON.stringify(r.data));
  assert.equal(r.data.total, 700);
  return r.data;
}

async function patchVenue(body) {
  const r = await api('PATCH', '/api/venues/main', body);
  assert.ok(r.status === 200 || r.status === 204, 'PATCH /api/venues/main: ' + r.status + ' ' + JSON.stringify(r.data));
  const v = await api('GET', '/api/venues/main', undefined, null);
  assert.equal(v.status, 200, 'GET /api/venues/main after the PATCH: ' + JSON.stringify(v.data));
  for (const k of Object.keys(body)) if (k !== 'logo') assert.equal(v.data[k], body[k], 'the venue\'s ' + k);
  return v.data;
}

async function signIn(page) {
  await page.goto(base + '/staff');
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.locator('#key-input').fill(admin);
  await page.click('#key-save');
  await page.locator('#signin').waitFor({ state: 'hidden', timeout: 5000 });
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
}

/** The text of the order's total on its staff card. */
async function cardTotal(page, o) {
  const el = page.locator(`#orders .order[data-id="${o.id}"] .order-total`);
  await el.waitFor({ timeout: 5000 });
  return (await el.textContent()).trim();
}

/** Staff type a price in the form: the order made has unit_price minor units. */
async function formOrder(page, price) {
  await page.click('#tab-new');
  const form = page.locator('#new-order');
  await form.locator('.item-name').first().fill('Brand form item');
  await form.locator('.item-qty').first().fill('1');
  await form.locator('.item-price').first().fill(price);
  const total = (await page.locator('#order-total').textContent()).trim();
  await page.click('#order-submit');
  await page.waitForFunction(() => /^[A-Z]{1,3}-\d+$/.test(document.getElementById('created-token').textContent.trim()), null, { timeout: 5000 });
  const token = (await page.locator('#created-token').textContent()).trim();
  const list = await api('GET', '/api/orders?status=PENDING&limit=500');
  const o = list.data.orders.find((x) => x.token === token);
  assert.ok(o, 'the order from the form is on the server');
  await page.click('#next-order');
  return { order: o, total };
}

const YEN_700 = /^[¥￥]\s?700$/;
const hasDollars700 = (s) => /\$\s?7\.00(?!\d)/.test(s);

async function startServer() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenq-brand-'));
  const db = 'sqlite:' + path.join(tmp, 'brand.db');
  run(['migrate', '--database', db]);
  admin = run(['keys', 'create', '--role', 'admin', '--label', 'brand', '--database', db]).split('\n')[0].trim();
  const port = await freePort();
  base = 'http://127.0.0.1:' + port;
  server = spawn(BIN, ['serve', '--listen', '127.0.0.1:' + port, '--database', db], {
    stdio: ['ignore', 'ignore', fs.openSync(path.join(tmp, 'server.log'), 'a')],
  });
  api = apiClient(base, admin);
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(base + '/healthz')).ok) break;
    } catch {
      /* not yet */
    }
    assert.ok(i < 200, 'the server did not start: ' + fs.readFileSync(path.join(tmp, 'server.log'), 'utf8'));
    await sleep(50);
  }
}

before(async () => {
  if (skipAll) return;
  if (GIVEN) {
    base = GIVEN;
    admin = process.env.BRAND_ADMIN_KEY || '';
    api = apiClient(base, admin);
  } else {
    await startServer();
  }
  const v = await api('GET', '/api/venues/main', undefined, null);
  if (v.status === 404) venueRoute = 'GET /api/venues/main answers 404: the server has no venue settings yet';
  else {
    assert.equal(v.status, 200, 'GET /api/venues/main: ' + JSON.stringify(v.data));
    venueRoute = false;
  }
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r() : server.once('exit', r)));
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/* ---------- no venue settings: the pages as they were, in USD ---------- */

test('without the venue\'s answer: default name and colours, money in USD', { skip: skipAll, timeout: 60000 }, async () => {
  const page = await newPage();
  await page.route('**/api/venues/**', (r) =>
    r.fulfill({ status: 404, contentType: 'application/problem+json', body: '{"status":404,"code":"unknown_venue","title":"Not Found"}' }),
  );
  await page.goto(base + '/');
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  assert.equal(await page.locator('#venue-name').isHidden(), true, 'no venue name on the board');
  assert.equal(await page.locator('#venue-logo').isHidden(), true, 'no logo on the board');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.accent), undefined);
  assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()), '#2563eb');
  assert.ok(hasDollars700(await page.evaluate(() => TQ.money(700))), 'TQ.money(700) in USD');

  await signIn(page);
  assert.equal((await page.locator('#venue-name').textContent()).trim(), 'tokenq');
  assert.equal(await page.locator('#venue-logo').isHidden(), true);
  const o = await order700('Fallback tea');
  assert.ok(hasDollars700(await cardTotal(page, o)), 'the card shows $7.00');
  const { order, total } = await formOrder(page, '7');
  assert.equal(order.total, 700, '"7" is 700 cents');
  assert.ok(hasDollars700(total), 'the form\'s total ' + total);

  await page.goto(base + '/t/' + o.token);
  await page.waitForFunction(() => document.getElementById('status').dataset.status === 'PENDING', null, { timeout: 10000 });
  assert.equal(await page.locator('#venue').isHidden(), true, 'no venue header on the customer page');
  await page.close();
});

/* ---------- a venue of its own: Café Uno, in yen ---------- */

test('venue Café Uno in JPY: name, logo and accent on board, staff console and customer page; ¥700', { skip: skipAll, timeout: 90000 }, async (t) => {
  if (venueRoute) return t.skip(venueRoute);
  const v = await patchVenue({ name: NAME, currency: 'JPY', accent: ACCENT, logo: 'data:image/png;base64,' + PNG });
  assert.ok(typeof v.logo === 'string' && v.logo, 'the venue has a logo: ' + JSON.stringify(v.logo));
  const logo = await fetch(new URL(v.logo, base));
  assert.equal(logo.status, 200, 'GET ' + v.logo);
  assert.match(logo.headers.get('content-type') || '', /^image\/png/);

  const o = await order700('Uno matcha');
  const page = await newPage(1920, 1080);

  // The board.
  await page.goto(base + '/');
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  await page.waitForFunction((n) => document.getElementById('venue-name').textContent === n, NAME, { timeout: 5000 });
  assert.equal(await page.locator('#venue-name').isVisible(), true);
  await page.waitForFunction(() => document.getElementById('venue-logo').naturalWidth > 0 && !document.getElementById('venue-logo').hidden, null, { timeout: 5000 });
  assert.equal(await page.locator('#venue-logo').getAttribute('alt'), NAME);
  assert.equal(await page.locator('#venue-logo').getAttribute('src'), v.logo);
  assert.ok((await page.title()).includes(NAME), 'the board\'s title names the venue: ' + (await page.title()));
  assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()), ACCENT);
  const shadow = await page.evaluate(() => getComputedStyle(document.querySelector('.board-head')).boxShadow);
  assert.ok(shadow.includes(ACCENT_RGB), 'the board\'s header is underlined in the accent: ' + shadow);

  // The staff console: the name, the accent on its main button, yen.
  await signIn(page);
  assert.equal((await page.locator('#venue-name').textContent()).trim(), NAME);
  await page.waitForFunction(() => document.getElementById('venue-logo').naturalWidth > 0 && !document.getElementById('venue-logo').hidden, null, { timeout: 5000 });
  assert.equal(await page.locator('#venue-logo').getAttribute('alt'), NAME);
  assert.ok((await page.title()).includes(NAME), 'the console\'s title names the venue');
  const total = await cardTotal(page, o);
  assert.match(total, YEN_700, 'the card\'s total of 700 in JPY: ' + total);
  const form = await formOrder(page, '700');
  assert.equal(form.order.total, 700, 'in JPY "700" is 700 minor units');
  assert.equal(form.order.items[0].unit_price, 700);
  assert.match(form.total, YEN_700, 'the form\'s total: ' + form.total);
  assert.equal(await page.locator('.item-price').first().getAttribute('placeholder'), '0', 'no decimals in the hint');
  await page.click('#tab-new');
  const button = await page.evaluate(() => getComputedStyle(document.getElementById('order-submit')).backgroundColor);
  assert.equal(button, ACCENT_RGB, 'the console\'s main button in the accent');
  // "7.50" is no price in yen.
  await page.locator('#new-order .item-name').first().fill('Half yen');
  await page.locator('#new-order .item-price').first().fill('7.50');
  await page.click('#order-submit');
  await page.waitForFunction(() => /price/.test(document.getElementById('form-error').textContent), null, { timeout: 5000 });

  // The customer page.
  await page.goto(base + '/t/' + o.token);
  await page.waitForFunction(() => document.getElementById('status').dataset.status === 'PENDING', null, { timeout: 10000 });
  await page.waitForFunction((n) => document.getElementById('venue-name').textContent === n, NAME, { timeout: 5000 });
  assert.equal(await page.locator('#venue').isVisible(), true);
  await page.waitForFunction(() => document.getElementById('venue-logo').naturalWidth > 0 && !document.getElementById('venue-logo').hidden, null, { timeout: 5000 });
  assert.equal(await page.locator('#venue-logo').getAttribute('alt'), NAME);
  const border = await page.evaluate(() => getComputedStyle(document.getElementById('venue')).borderBottomColor);
  assert.equal(border, ACCENT_RGB, 'the customer page\'s venue header in the accent');
  assert.match(await page.evaluate(() => TQ.money(700)), YEN_700);
  await page.close();
});

test('the customer page shows the order\'s total in JPY', { skip: skipAll, timeout: 60000 }, async (t) => {
  if (venueRoute) return t.skip(venueRoute);
  const o = await order700('Uno hojicha');
  const tok = await api('GET', '/api/tokens/' + o.token, undefined, null);
  assert.equal(tok.status, 200);
  if (typeof tok.data.total !== 'number') return t.skip('GET /api/tokens/{token} gives no total: the customer page has none to show');
  const page = await newPage(390, 844);
  await page.goto(base + '/t/' + o.token);
  await page.locator('#total-row').waitFor({ state: 'visible', timeout: 10000 });
  assert.match((await page.locator('#total').textContent()).trim(), YEN_700);
  await page.close();
});

test('a USD venue shows $7.00 for 700', { skip: skipAll, timeout: 60000 }, async (t) => {
  if (venueRoute) return t.skip(venueRoute);
  await patchVenue({ currency: 'USD' });
  const o = await order700('Dollar tea');
  const page = await newPage();
  await signIn(page);
  const total = await cardTotal(page, o);
  assert.ok(hasDollars700(total), 'the card\'s total: ' + total);
  const form = await formOrder(page, '7');
  assert.equal(form.order.total, 700, 'in USD "7" is 700 cents');
  assert.ok(hasDollars700(form.total), 'the form\'s total: ' + form.total);
  await page.goto(base + '/t/' + o.token);
  await page.waitForFunction(() => document.getElementById('status').dataset.status === 'PENDING', null, { timeout: 10000 });
  assert.ok(hasDollars700(await page.evaluate(() => TQ.money(700))));
  await page.close();
});

test('no CSP violation, no uncaught script error', { skip: skipAll }, () => {
  const bad = problems(consoleLog.flat());
  assert.deepEqual(bad, [], 'console problems:\n' + bad.map((m) => `${m.url}: [${m.type}] ${m.text}`).join('\n'));
});
