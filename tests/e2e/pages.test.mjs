/*
 * pages.test.mjs: the web pages in a real browser (Debian's Chromium driven
 * by playwright-core) against a running tokenq server.
 *
 *   TOKENQ_URL=http://127.0.0.1:8080 TOKENQ_ADMIN_KEY=... [TOKENQ_POS_KEY=...] \
 *   [TOKENQ_CTL=/path/to/ctl] node --test tests/e2e/pages.test.mjs
 *
 * TOKENQ_CTL is a command taking `stop` / `start` that stops and starts the
 * server (keeping its database); `start` should return once the server
 * listens (the test also waits for /healthz).  Without it the reconnection
 * scenario is skipped; without TOKENQ_URL everything is skipped.
 *
 * Use a server of its own: the test completes whatever orders of the day
 * are still open before it starts, so the board has room to show its tokens.
 * Screenshots go to tests/e2e/shots/ (git-ignored).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, watchConsole, problems, apiClient } from './browser.mjs';

const BASE = (process.env.TOKENQ_URL || '').replace(/\/+$/, '');
const ADMIN = process.env.TOKENQ_ADMIN_KEY || '';
const POS = process.env.TOKENQ_POS_KEY || '';
const CTL = process.env.TOKENQ_CTL || '';
const SHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'shots');
const skipAll = !BASE ? 'TOKENQ_URL is not set' : !ADMIN ? 'TOKENQ_ADMIN_KEY is not set' : false;

let browser; // {context, close}
const consoleLog = []; // every page's console problems, checked at the end

/* ---------- helpers ---------- */

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const api = apiClient(BASE, ADMIN);

let queuePrefix = null;
async function firstQueue() {
  if (queuePrefix) return queuePrefix;
  const r = await api('GET', '/api/queues', undefined, null);
  queuePrefix = r.status === 200 && r.data.queues && r.data.queues.length ? r.data.queues[0].prefix : 'A';
  return queuePrefix;
}

async function createOrder(name = 'Masala tea') {
  const queue = await firstQueue();
  const r = await api('POST', '/api/orders', { queue, items: [{ name, quantity: 2, unit_price: 150 }], note: 'e2e' }, ADMIN, {
    'Idempotency-Key': 'e2e-' + Date.now() + '-' + Math.random().toString(36).slice(2),
  });
  assert.equal(r.status, 201, 'POST /api/orders: ' + JSON.stringify(r.data));
  return r.data;
}

async function move(order, status) {
  const r = await api('PATCH', '/api/orders/' + order.id, { status });
  if (r.status === 409) {
    // A retried PATCH whose first try went through: fine if it is there now.
    const now = await api('GET', '/api/orders/' + order.id);
    assert.equal(now.data.status, status, 'PATCH ' + status + ': ' + JSON.stringify(r.data));
    return now.data;
  }
  assert.equal(r.status, 200, 'PATCH ' + status + ': ' + JSON.stringify(r.data));
  return r.data;
}

/** Complete every open order of the day, so the board shows ours. */
async function clearDay() {
  for (let round = 0; round < 20; round++) {
    const r = await api('GET', '/api/orders?status=PENDING,PREPARING,READY&limit=500');
    assert.equal(r.status, 200, 'GET /api/orders: ' + JSON.stringify(r.data));
    if (!r.data.orders.length) return;
    for (const o of r.data.orders) await api('PATCH', '/api/orders/' + o.id, { status: 'COMPLETED' });
  }
}

async function newPage(width = 1280, height = 800) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height });
  const seen = watchConsole(page);
  consoleLog.push(seen);
  return page;
}

/** Wait until `token` is an item of one of the lists (by id) on the board. */
function waitOnBoard(page, lists, token, timeout) {
  return page.waitForFunction(
    ([ids, t]) => ids.some((id) => Array.from(document.querySelectorAll('#' + id + ' .token, .list-' + id + ' .token')).some((li) => li.textContent.trim() === t)),
    [lists, token],
    { timeout, polling: 50 },
  );
}

async function shot(page, name, opts = {}) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name), ...opts });
}

function ctl(cmd) {
  const r = spawnSync(CTL, [cmd], { stdio: 'inherit', timeout: 60000 });
  assert.equal(r.status, 0, `${CTL} ${cmd} exited with ${r.status}`);
}

async function waitHealthy(ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(BASE + '/healthz', { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  throw new Error('the server did not come back within ' + ms + ' ms');
}

/* ---------- setup ---------- */

before(async () => {
  if (skipAll) return;
  browser = await launch();
  await clearDay();
});

after(async () => {
  if (browser) await browser.close();
});

/* ---------- the board ---------- */

test('board: a new order appears within 1 s and moves to Ready within 1 s', { skip: skipAll, timeout: 60000 }, async () => {
  const page = await newPage(1920, 1080);
  await page.goto(BASE + '/');
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  assert.ok(await page.locator('#status-banner').isHidden(), 'no banner while connected');

  const order = await createOrder();
  await waitOnBoard(page, ['pending', 'preparing'], order.token, 1000);

  await move(order, 'PREPARING');
  await waitOnBoard(page, ['preparing'], order.token, 1000);

  // A few more, so the screenshot shows a working board.
  const others = [];
  for (let i = 0; i < 5; i++) others.push(await createOrder('Flat white'));
  await move(others[0], 'PREPARING');
  await move(others[1], 'PREPARING');
  await move(others[2], 'READY');

  await move(order, 'READY');
  await waitOnBoard(page, ['ready'], order.token, 1000);
  const lit = await page.locator('.list-ready .token.highlight').allTextContents();
  assert.ok(lit.map((t) => t.trim()).includes(order.token), 'the newest Ready token is highlighted');
  await waitOnBoard(page, ['preparing'], others[1].token, 1000);
  await sleep(400); // let the highlight animation settle in
  await shot(page, 'board.png');

  // Recall highlights it again; completing it takes it off.
  await api('POST', '/api/orders/' + others[2].id + '/recall');
  await page.waitForFunction((t) => Array.from(document.querySelectorAll('.list-ready .token.highlight'), (e) => e.textContent).includes(t), others[2].token, { timeout: 1000 });
  await move(order, 'COMPLETED');
  await page.waitForFunction(
    (t) => !Array.from(document.querySelectorAll('.token')).some((li) => li.textContent.trim() === t),
    order.token,
    { timeout: 1000 },
  );
  await page.close();
});

test('board: says "Reconnecting" while the server is down and catches up after', { skip: skipAll || (!CTL && 'TOKENQ_CTL is not set'), timeout: 90000 }, async () => {
  const page = await newPage(1920, 1080);
  await page.goto(BASE + '/');
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  const order = await move(await createOrder('Paneer wrap'), 'PREPARING');
  await waitOnBoard(page, ['preparing'], order.token, 2000);

  ctl('stop');
  try {
    const banner = page.locator('#status-banner');
    await banner.waitFor({ state: 'visible', timeout: 15000 });
    assert.match(await banner.textContent(), /Reconnecting/);
    await shot(page, 'board-reconnecting.png');
  } finally {
    ctl('start');
  }
  await waitHealthy(30000);
  // A change made while the board is still cut off: it must catch up.
  await move(order, 'READY');
  await waitOnBoard(page, ['ready'], order.token, 8000);
  await page.locator('#status-banner').waitFor({ state: 'hidden', timeout: 8000 });
  await page.close();
});

/* ---------- the staff console ---------- */

test('staff: sign in, take an order, advance it with one click each', { skip: skipAll, timeout: 60000 }, async () => {
  const page = await newPage(1366, 900);
  await page.goto(BASE + '/staff');
  await page.evaluate(() => localStorage.clear()); // the browser profile is shared by the tests
  await page.reload();

  // A wrong key is refused, the right one is kept.
  await page.locator('#key-input').fill('not-a-key-' + Date.now());
  await page.click('#key-save');
  await page.waitForFunction(() => /not accepted/i.test(document.getElementById('key-error').textContent), null, { timeout: 5000 });
  await page.locator('#key-input').fill(ADMIN);
  await page.click('#key-save');
  await page.locator('#signin').waitFor({ state: 'hidden', timeout: 5000 });
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });

  // New order through the form.
  await page.click('#tab-new');
  const form = page.locator('#new-order');
  await form.locator('.item-name').first().fill('Masala tea');
  await form.locator('.item-qty').first().fill('2');
  await form.locator('.item-price').first().fill('1.50');
  await page.click('#add-item');
  await form.locator('.item-name').nth(1).fill('Veg sandwich');
  await form.locator('.item-price').nth(1).fill('6.50');
  await page.locator('#order-note').fill('less sugar');
  await shot(page, 'staff-new-order.png');
  await page.click('#order-submit');
  const tokenEl = page.locator('#created-token');
  await page.waitForFunction(() => /^[A-Z]{1,3}-\d+$/.test(document.getElementById('created-token').textContent.trim()), null, { timeout: 5000 });
  const token = (await tokenEl.textContent()).trim();

  const list = await api('GET', '/api/orders?status=PENDING&limit=500');
  const created = list.data.orders.find((o) => o.token === token);
  assert.ok(created, 'the order is on the server');
  assert.equal(created.total, 950);
  assert.equal(created.note, 'less sugar');
  assert.deepEqual(
    created.items.map((i) => [i.name, i.quantity, i.unit_price]),
    [
      ['Masala tea', 2, 150],
      ['Veg sandwich', 1, 650],
    ],
  );
  await shot(page, 'staff-created.png');

  // The ticket: fetched with the key, shown in a new window.
  const [popup] = await Promise.all([browser.context.waitForEvent('page', { timeout: 10000 }), page.click('#print-ticket')]);
  consoleLog.push(watchConsole(popup));
  await popup.waitForURL(/^blob:/, { timeout: 10000 });
  await popup.waitForLoadState('load');
  await popup.locator('.ticket-token').waitFor({ timeout: 5000 });
  assert.equal((await popup.locator('.ticket-token').textContent()).trim(), token);
  await popup.setViewportSize({ width: 420, height: 900 });
  await sleep(300);
  await shot(popup, 'ticket.png', { fullPage: true });
  await popup.close();

  // One click to PREPARING, one to READY.
  await page.click('#tab-orders');
  const card = page.locator(`#orders .order[data-id="${created.id}"]`);
  await card.waitFor({ timeout: 5000 });
  assert.equal(await card.getAttribute('data-status'), 'PENDING');
  assert.match(await card.textContent(), /Veg sandwich/);
  await card.locator('[data-action="PREPARING"]').click();
  await page.waitForSelector(`#orders .order[data-id="${created.id}"][data-status="PREPARING"]`, { timeout: 3000 });
  await card.locator('[data-action="READY"]').click();
  await page.waitForSelector(`#orders .order[data-id="${created.id}"][data-status="READY"]`, { timeout: 3000 });
  assert.equal((await api('GET', '/api/orders/' + created.id)).data.status, 'READY');

  // Live: a change made elsewhere shows up without a reload.
  const other = await createOrder('Croissant');
  await page.waitForSelector(`#orders .order[data-id="${other.id}"][data-status="PENDING"]`, { timeout: 3000 });
  await move(other, 'PREPARING');
  await page.waitForSelector(`#orders .order[data-id="${other.id}"][data-status="PREPARING"]`, { timeout: 3000 });
  await shot(page, 'staff.png');

  // Cancel takes a confirming second click.
  const cancel = page.locator(`#orders .order[data-id="${other.id}"] [data-action="CANCELLED"]`);
  await cancel.click();
  assert.equal((await api('GET', '/api/orders/' + other.id)).data.status, 'PREPARING', 'one click does not cancel');
  await cancel.click();
  await page.locator(`#orders .order[data-id="${other.id}"]`).waitFor({ state: 'detached', timeout: 3000 });
  assert.equal((await api('GET', '/api/orders/' + other.id)).data.status, 'CANCELLED');

  // Today.
  await page.click('#tab-today');
  await page.locator('#hour-chart svg').waitFor({ timeout: 5000 });
  await shot(page, 'staff-today.png');

  // The key stays across a reload.
  await page.reload();
  await page.waitForSelector(`#orders .order[data-id="${created.id}"]`, { timeout: 5000 });
  assert.ok(await page.locator('#signin').isHidden());
  await page.close();
});

test('staff: a pos key takes orders but gets no status buttons', { skip: skipAll || (!POS && 'TOKENQ_POS_KEY is not set'), timeout: 30000 }, async () => {
  const page = await newPage(1280, 800);
  await page.goto(BASE + '/staff');
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.locator('#key-input').fill(POS);
  await page.click('#key-save');
  await page.locator('#signin').waitFor({ state: 'hidden', timeout: 5000 });
  await page.waitForFunction(() => document.getElementById('role-badge').textContent === 'pos', null, { timeout: 5000 });
  assert.ok(await page.locator('#tab-new').isVisible());
  assert.ok(await page.locator('#tab-today').isHidden());
  await page.click('#tab-new');
  await page.locator('.item-name').first().fill('Lemon soda');
  await page.locator('.item-price').first().fill('1.80');
  await page.click('#order-submit');
  await page.waitForFunction(() => /^[A-Z]{1,3}-\d+$/.test(document.getElementById('created-token').textContent.trim()), null, { timeout: 5000 });
  await page.click('#tab-orders');
  await page.locator('#orders .order').first().waitFor({ timeout: 5000 });
  assert.equal(await page.locator('#orders [data-action="PREPARING"]').count(), 0);
  await page.close();
});

/* ---------- the customer page ---------- */

test('customer page: status, tokens ahead, live updates; unknown token is friendly', { skip: skipAll, timeout: 60000 }, async () => {
  const first = await createOrder('Filter coffee');
  const mine = await createOrder('Samosa');
  const page = await newPage(390, 844);
  await page.goto(BASE + '/t/' + mine.token);
  await page.waitForSelector('#status[data-status="PENDING"]', { timeout: 5000 });
  assert.equal((await page.locator('#token').textContent()).trim(), mine.token);
  assert.equal((await page.locator('#status').textContent()).trim(), 'Waiting');
  const lookup = await api('GET', '/api/tokens/' + mine.token, undefined, null);
  assert.ok(lookup.data.ahead >= 1, 'the order before it is ahead');
  assert.equal((await page.locator('#ahead').textContent()).trim(), String(lookup.data.ahead));
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });

  // The one before it is done: one fewer ahead, live.
  await move(first, 'COMPLETED');
  await page.waitForFunction((n) => document.getElementById('ahead').textContent.trim() === String(n), lookup.data.ahead - 1, { timeout: 3000 });
  await move(mine, 'PREPARING');
  await page.waitForSelector('#status[data-status="PREPARING"]', { timeout: 3000 });
  assert.equal((await page.locator('#status').textContent()).trim(), 'Being prepared');
  await shot(page, 'token.png');
  await move(mine, 'READY');
  await page.waitForSelector('#status[data-status="READY"]', { timeout: 3000 });
  assert.match(await page.locator('#status').textContent(), /Ready/);
  await shot(page, 'token-ready.png');

  // Lower case works too (the lookup is case-insensitive).
  await page.goto(BASE + '/t/' + mine.token.toLowerCase());
  await page.waitForSelector('#status[data-status="READY"]', { timeout: 5000 });

  await page.goto(BASE + '/t/ZZZ-999');
  await page.locator('#not-found').waitFor({ state: 'visible', timeout: 5000 });
  assert.match(await page.locator('#not-found').textContent(), /can.t find this token/i);
  await page.close();
});

/* ---------- consistency under a burst ---------- */

test('board and staff console agree with the API after a burst of changes', { skip: skipAll, timeout: 120000 }, async () => {
  const board = await newPage(1920, 1080);
  await board.goto(BASE + '/');
  const staff = await newPage(1366, 900);
  await staff.goto(BASE + '/staff');
  await staff.evaluate((k) => localStorage.setItem('tokenq.apiKey', k), ADMIN);
  await staff.reload();
  await board.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  await staff.waitForSelector('html[data-stream="up"]', { timeout: 20000 });

  // 30 orders, each walked some way along, as fast as the API answers.
  const paths = [[], ['PREPARING'], ['READY'], ['PREPARING', 'READY'], ['PREPARING', 'READY', 'COMPLETED'], ['CANCELLED'], ['READY', 'COMPLETED']];
  const made = await Promise.all(Array.from({ length: 30 }, (_, i) => createOrder('Burst ' + i)));
  await Promise.all(
    made.map(async (o, i) => {
      for (const s of paths[i % paths.length]) await move(o, s);
    }),
  );

  const truth = (await api('GET', '/api/board', undefined, null)).data;
  await board.waitForFunction(
    ([p, r]) => {
      const sum = (sel) => Array.from(document.querySelectorAll(sel), (e) => Number(e.textContent) || 0).reduce((a, b) => a + b, 0);
      return sum('.col-preparing .col-count') === p && sum('.col-ready .col-count') === r;
    },
    [truth.preparing.length, truth.ready.length],
    { timeout: 5000 },
  );
  const open = (await api('GET', '/api/orders?status=PENDING,PREPARING,READY&limit=500')).data.orders;
  const want = open.map((o) => o.id + ':' + o.status).sort();
  await staff
    .waitForFunction(
      (w) => JSON.stringify(Array.from(document.querySelectorAll('#orders .order'), (e) => e.dataset.id + ':' + e.dataset.status).sort()) === w,
      JSON.stringify(want),
      { timeout: 5000 },
    )
    .catch(async (e) => {
      const got = await staff.evaluate(() => Array.from(document.querySelectorAll('#orders .order'), (el) => el.dataset.id + ':' + el.dataset.status).sort());
      assert.deepEqual(got, want, 'the staff console lists what the API lists');
      throw e;
    });
  await board.close();
  await staff.close();
});

/* ---------- hygiene ---------- */

test('no CSP violations or script errors on any page', { skip: skipAll }, () => {
  const bad = problems(consoleLog.flat());
  assert.deepEqual(bad, [], 'console problems:\n' + bad.map((m) => `${m.url}: [${m.type}] ${m.text}`).join('\n'));
});
