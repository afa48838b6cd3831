/*
 * rush.test.mjs: the pages at rush hour, in Debian's Chromium against a
 * running tokenq server (same environment as pages.test.mjs; run.sh starts
 * the server with two queues, A=Dine-in and B=Takeaway).
 *
 *  - the board at 1920x1080 with 120 READY tokens shows every one of them
 *    within one paging cycle, none smaller than the documented minimum;
 *  - a burst of 18 READY: all 18 highlighted, all 18 spoken in order
 *    (speechSynthesis stubbed, counting the texts handed to speak);
 *  - ?queue=Z (unknown) shows the server's error, not "Reconnecting…";
 *  - sound allowed without a click (kiosk flag): no button; not allowed: a hint;
 *  - a recall reaches the customer's page again (vibrate, highlight);
 *  - the staff console on a 1024x768 tablet: "Bearer ..." keys, queue names
 *    on the cards, allergy notes marked, dir="auto" on customer text;
 *  - Today: one row per queue and a total row, with the right counts;
 *  - Arabic note and item name: dir="auto" and computed direction rtl, on
 *    the card and on the ticket.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, watchConsole, problems, contrast, apiClient } from './browser.mjs';

const BASE = (process.env.TOKENQ_URL || '').replace(/\/+$/, '');
const ADMIN = process.env.TOKENQ_ADMIN_KEY || '';
const SHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'shots');
// The README's pictures are rewritten only when asked (TOKENQ_UPDATE_PICTURES=1), so a
// test run leaves the tree as it was.
const IMG = process.env.TOKENQ_UPDATE_PICTURES === '1'
  ? path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/img')
  : SHOTS;
const skipAll = !BASE ? 'TOKENQ_URL is not set' : !ADMIN ? 'TOKENQ_ADMIN_KEY is not set' : false;
const MIN_TOKEN_PX = 48; // README: token text at least 48 px on a 1080p board
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let browser;
const consoleLog = [];

const api = apiClient(BASE, ADMIN);

async function createOrder(queue = 'A', note) {
  const body = { queue, items: [{ name: 'Masala tea', quantity: 1, unit_price: 150 }] };
  if (note) body.note = note;
  const r = await api('POST', '/api/orders', body);
  assert.equal(r.status, 201, JSON.stringify(r.data));
  return r.data;
}
const patch = (o, status) => api('PATCH', '/api/orders/' + o.id, { status });

async function pool(items, n, fn) {
  const out = [];
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) {
      const k = i++;
      out[k] = await fn(items[k], k);
    }
  }));
  return out;
}

async function clearDay() {
  for (let round = 0; round < 20; round++) {
    const r = await api('GET', '/api/orders?status=PENDING,PREPARING,READY&limit=500');
    if (!r.data.orders.length) return;
    await pool(r.data.orders, 8, (o) => patch(o, 'COMPLETED'));
  }
}

async function newPage(w, h, ctx = browser.context) {
  const page = await ctx.newPage();
  await page.setViewportSize({ width: w, height: h });
  consoleLog.push(watchConsole(page));
  return page;
}

before(async () => {
  if (skipAll) return;
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
});

test('board, 1920x1080, 120 READY: every token on screen within one paging cycle, text >= 48 px', { skip: skipAll, timeout: 90000 }, async () => {
  await clearDay();
  const page = await newPage(1920, 1080);
  await page.goto(BASE + '/');
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  const made = await pool(Array.from({ length: 120 }), 8, () => createOrder('A'));
  await pool(made, 8, (o) => patch(o, 'READY'));
  const want = made.map((o) => o.token);
  const readyList = '.list-ready[data-queue="A"], #ready';
  await page.waitForFunction((sel) => {
    const l = document.querySelector(sel);
    return l && l.closest('.board-col').querySelector('.col-count').textContent === '120';
  }, readyList, { timeout: 10000 });
  await sleep(300);
  const pages = Number(await page.locator(readyList).first().getAttribute('data-pages'));
  assert.ok(pages > 1, 'more than fits at the minimum size: the list pages');
  assert.match(await page.locator(readyList).first().locator('xpath=..').locator('.col-page').textContent(), /page \d+ of \d+/);
  fs.mkdirSync(IMG, { recursive: true });
  await page.screenshot({ path: path.join(IMG, 'board-paged-1.png') });

  const seen = new Map(); // token -> smallest font size seen while fully on screen
  const deadline = Date.now() + pages * 8000 + 2500;
  let shot2 = false;
  while (Date.now() < deadline) {
    const visible = await page.evaluate((sel) => {
      const list = document.querySelector(sel);
      const box = list.getBoundingClientRect();
      return Array.from(list.querySelectorAll('.token'), (li) => {
        const r = li.getBoundingClientRect();
        const inside = r.top >= box.top - 1 && r.bottom <= box.bottom + 1 && r.left >= box.left - 1 && r.right <= box.right + 1 && r.bottom <= innerHeight && r.right <= innerWidth;
        const text = li.querySelector('.token-text');
        const clipped = text.scrollWidth > text.clientWidth + 1;
        return { t: li.textContent.trim(), px: parseFloat(getComputedStyle(li).fontSize), ok: inside && !clipped };
      });
    }, readyList);
    for (const v of visible) if (v.ok) seen.set(v.t, Math.min(seen.get(v.t) || Infinity, v.px));
    if (!shot2 && (await page.locator(readyList).first().getAttribute('data-page')) === '2') {
      await sleep(200);
      await page.screenshot({ path: path.join(IMG, 'board-paged-2.png') });
      shot2 = true;
    }
    if (want.every((t) => seen.has(t))) break;
    await sleep(250);
  }
  const missing = want.filter((t) => !seen.has(t));
  assert.deepEqual(missing, [], 'tokens never shown within one cycle');
  const small = [...seen].filter(([, px]) => px < MIN_TOKEN_PX);
  assert.deepEqual(small, [], 'tokens shown smaller than ' + MIN_TOKEN_PX + ' px');
  await page.close();
});

test('board: a burst of 18 READY is all highlighted and all spoken, in order (?voice=1)', { skip: skipAll, timeout: 60000 }, async () => {
  await clearDay();
  const page = await newPage(1920, 1080);
  await page.addInitScript(() => {
    window.__spoken = [];
    const fake = {
      speak(u) {
        window.__spoken.push(u.text);
        setTimeout(() => u.onend && u.onend({}), 60);
      },
      cancel() {},
      getVoices: () => [],
    };
    Object.defineProperty(window, 'speechSynthesis', { value: fake, configurable: true });
  });
  await page.goto(BASE + '/?voice=1');
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  await page.waitForSelector('html[data-sound="on"]', { timeout: 5000 });
  const made = await pool(Array.from({ length: 18 }), 6, () => createOrder('A'));
  for (const o of made) await patch(o, 'READY'); // one after another: a known order
  await page.waitForFunction(() => document.querySelectorAll('.list-ready .token.highlight').length === 18, null, { timeout: 3000 });
  await page.screenshot({ path: path.join(IMG, 'board-burst.png') });
  await page.waitForFunction(() => window.__spoken.length >= 18, null, { timeout: 30000 });
  const spoken = await page.evaluate(() => window.__spoken.slice());
  const expect = made.map((o) => 'Token ' + o.token.replace(/^([A-Z]+)-0*(\d+)$/, (m, p, n) => p.split('').join(' ') + ' ' + n) + ', please collect');
  assert.deepEqual(spoken, expect, 'every READY spoken once, in order');
  // A recall is spoken again.
  await api('POST', '/api/orders/' + made[0].id + '/recall');
  await page.waitForFunction(() => window.__spoken.length === 19, null, { timeout: 8000 });
  assert.equal(await page.evaluate(() => window.__spoken[18]), expect[0]);
  await page.close();
});

test('board: ?queue=Z (unknown) shows the server\'s error instead of "Reconnecting…"', { skip: skipAll, timeout: 30000 }, async () => {
  const page = await newPage(1920, 1080);
  await page.goto(BASE + '/?queue=Z');
  await page.locator('#board-error').waitFor({ state: 'visible', timeout: 5000 });
  assert.match(await page.locator('#board-error').textContent(), /unknown_queue/);
  await sleep(2500);
  assert.ok(await page.locator('#status-banner').isHidden(), 'no Reconnecting banner over the message');
  await page.close();
});

test('board: sound allowed without a click hides the button; otherwise a hint stays', { skip: skipAll, timeout: 30000 }, async () => {
  const page = await newPage(1280, 720);
  await page.goto(BASE + '/');
  await page.waitForSelector('html[data-sound="on"]', { timeout: 5000 });
  assert.ok(await page.locator('#sound-enable').isHidden());
  await page.close();
  const quiet = await launch({ sound: false });
  try {
    const p = await quiet.context.newPage();
    await p.goto(BASE + '/');
    await p.waitForSelector('html[data-sound="off"]', { timeout: 5000 });
    await sleep(1000);
    assert.ok(await p.locator('#sound-enable').isVisible(), 'a visible hint while sound is locked');
  } finally {
    await quiet.close();
  }
});

test('customer page: a recall alerts the phone again (vibrate, highlight)', { skip: skipAll, timeout: 30000 }, async () => {
  const o = await createOrder('B');
  await patch(o, 'READY');
  const page = await newPage(390, 844);
  await page.addInitScript(() => {
    window.__vibrations = 0;
    navigator.vibrate = () => {
      window.__vibrations++;
      return true;
    };
  });
  await page.goto(BASE + '/t/' + o.token);
  await page.waitForSelector('#status[data-status="READY"]', { timeout: 5000 });
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  await api('POST', '/api/orders/' + o.id + '/recall');
  await page.waitForFunction(() => window.__vibrations >= 1, null, { timeout: 3000 });
  assert.ok(await page.locator('#card.called').count(), 'the card is highlighted');
  assert.match(await page.locator('#status').textContent(), /called again/i);
  await page.close();
});

test('staff console on a 1024x768 tablet: "Bearer" key, queue names, allergy notes, dir=auto', { skip: skipAll, timeout: 30000 }, async () => {
  const a = await createOrder('A', 'NUT ALLERGY — no peanuts please');
  const b = await createOrder('B', 'بدون سكر');
  const page = await newPage(1024, 768);
  await page.goto(BASE + '/staff');
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.locator('#key-input').fill('Bearer ' + ADMIN);
  await page.click('#key-save');
  await page.locator('#signin').waitFor({ state: 'hidden', timeout: 5000 });
  const cardA = page.locator(`#orders .order[data-id="${a.id}"]`);
  const cardB = page.locator(`#orders .order[data-id="${b.id}"]`);
  await cardA.waitFor({ timeout: 5000 });
  await page.waitForFunction(() => document.querySelectorAll('.order-queue').length > 0, null, { timeout: 5000 });
  assert.equal((await cardA.locator('.order-queue').textContent()).trim(), 'Dine-in');
  assert.equal((await cardB.locator('.order-queue').textContent()).trim(), 'Takeaway');
  assert.ok(await cardA.locator('.order-note.allergy').count(), 'an allergy note is marked');
  assert.equal(await cardB.locator('.order-note.allergy').count(), 0);
  assert.equal(await cardB.locator('.order-note').getAttribute('dir'), 'auto');
  fs.mkdirSync(IMG, { recursive: true });
  await page.screenshot({ path: path.join(IMG, 'staff-tablet.png') });
  await page.close();
});

test('staff console at rush hour (1024x768): search, queue filter, keyboard, scrolling columns, menu', { skip: skipAll, timeout: 40000 }, async () => {
  await clearDay();
  const made = await pool(Array.from({ length: 32 }), 8, (_, i) => createOrder(i % 2 ? 'B' : 'A', i === 5 ? 'gluten free please' : undefined));
  const page = await newPage(1024, 768);
  await page.goto(BASE + '/staff');
  await page.evaluate((k) => localStorage.setItem('tokenq.apiKey', k), ADMIN);
  await page.reload();
  await page.waitForFunction((n) => document.querySelectorAll('#orders .order').length === n, made.length, { timeout: 8000 });
  // The page does not grow with the orders: the column scrolls on its own.
  const sizes = await page.evaluate(() => {
    const l = document.querySelector('.order-col[data-status="PENDING"] .order-list');
    return { page: document.documentElement.scrollHeight, inner: innerHeight, list: l.scrollHeight, box: l.clientHeight, overflow: getComputedStyle(l).overflowY };
  });
  assert.ok(sizes.page <= sizes.inner + 40, 'the page stays about one screen high: ' + JSON.stringify(sizes));
  assert.ok(sizes.list > sizes.box && sizes.overflow === 'auto', 'the column scrolls: ' + JSON.stringify(sizes));
  // Search.
  await page.keyboard.press('/');
  await page.keyboard.type(made[5].token);
  await page.waitForFunction(() => document.querySelectorAll('#orders .order').length === 1, null, { timeout: 3000 });
  await page.fill('#order-search', 'gluten');
  await page.waitForFunction((id) => { const c = document.querySelectorAll('#orders .order'); return c.length === 1 && c[0].dataset.id === String(id); }, made[5].id, { timeout: 3000 });
  await page.fill('#order-search', '');
  // Queue filter.
  await page.selectOption('#queue-filter', 'B');
  await page.waitForFunction(() => { const c = Array.from(document.querySelectorAll('#orders .order')); return c.length === 16 && c.every((e) => e.querySelector('.order-queue').textContent === 'Takeaway'); }, null, { timeout: 3000 });
  await page.selectOption('#queue-filter', '');
  // Keyboard: j to the first card, Enter advances it.
  await page.locator('body').click({ position: { x: 5, y: 740 } });
  await page.keyboard.press('j');
  const first = await page.evaluate(() => document.activeElement.dataset.id);
  assert.ok(first, 'j focuses a card');
  await page.keyboard.press('Enter');
  await page.waitForSelector(`#orders .order[data-id="${first}"][data-status="PREPARING"]`, { timeout: 3000 });
  // The banner never covers the tabs (it sits at the bottom).
  const over = await page.evaluate(() => {
    const b = document.getElementById('status-banner');
    b.hidden = false;
    const r = b.getBoundingClientRect();
    const t = document.querySelector('.tabs').getBoundingClientRect();
    b.hidden = true;
    return r.bottom > t.top && r.top < t.bottom;
  });
  assert.equal(over, false, 'the Reconnecting banner does not cover the tabs');
  // The menu picker: shown when GET /api/menu answers 200, hidden on 404.
  const menu = await api('GET', '/api/menu');
  await page.click('#tab-new');
  await sleep(500);
  if (menu.status === 200) {
    await page.locator('#menu-picker').waitFor({ state: 'visible', timeout: 3000 });
    await page.locator('.menu-item').first().click();
    const it = menu.data.items[0];
    assert.equal(await page.locator('.item-name').first().inputValue(), it.name);
    assert.equal(await page.locator('.item-price').first().inputValue(), (it.unit_price / 100).toFixed(2));
  } else {
    assert.equal(menu.status, 404);
    assert.ok(await page.locator('#menu-picker').isHidden(), 'no picker without a menu');
  }
  await page.close();
});

/** Every visible element with text of its own: its text, class, colour, background and font size. */
function visibleText(page) {
  return page.evaluate(() => {
    const out = [];
    const bgOf = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        const m = c.match(/[\d.]+/g);
        if (m && (m.length < 4 || Number(m[3]) > 0.5)) return c;
      }
      return 'rgb(255, 255, 255)';
    };
    for (const el of document.querySelectorAll('body *')) {
      if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;
      const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own) continue;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || Number(cs.opacity) === 0) continue;
      out.push({ text: el.textContent.trim().slice(0, 30), cls: el.className && el.className.baseVal === undefined ? el.className : '', fg: cs.color, bg: bgOf(el), px: parseFloat(cs.fontSize) });
    }
    return out;
  });
}

test('contrast: text on the pages is at least 4.5:1 (WCAG AA) and at least 14 px', { skip: skipAll, timeout: 30000 }, async () => {
  const o = await createOrder('A', 'note');
  await patch(o, 'PREPARING');
  const checks = [
    ['/staff', 1024, 768],
    ['/', 1920, 1080],
    ['/t/' + o.token, 390, 844],
  ];
  const bad = [];
  for (const [url, w, h] of checks) {
    const page = await newPage(w, h);
    await page.goto(BASE + url);
    await page.evaluate((k) => localStorage.setItem('tokenq.apiKey', k), ADMIN);
    await page.reload();
    await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
    await sleep(800);
    const found = await visibleText(page);
    for (const f of found) {
      const ratio = contrast(f.fg, f.bg);
      if (ratio < 4.5) bad.push(`${url} "${f.text}" .${f.cls}: ${ratio.toFixed(2)}:1 (${f.fg} on ${f.bg})`);
      if (f.px < 14) bad.push(`${url} "${f.text}" .${f.cls}: ${f.px}px`);
    }
    await page.close();
  }
  assert.deepEqual(bad, [], 'text below AA contrast or 14 px');
});

/** The figures a Today row shows, from one GET /api/stats answer. */
function figures(s) {
  const by = s.by_status;
  return { orders: s.orders, completed: by.COMPLETED, open: by.PENDING + by.PREPARING + by.READY, cancelled: by.CANCELLED, revenue: s.revenue };
}

test('Today on a 1024x768 tablet: one row per queue with its counts, and a total row', { skip: skipAll, timeout: 40000 }, async () => {
  await clearDay();
  const stats = async (q) => {
    const r = await api('GET', '/api/stats' + (q ? '?queue=' + q : ''));
    assert.equal(r.status, 200, JSON.stringify(r.data));
    return figures(r.data);
  };
  const before = { A: await stats('A'), B: await stats('B'), all: await stats(null) };
  // A: 3 orders, 2 completed, 1 open.  B: 4 orders, 1 completed, 1 cancelled, 2 open.
  const a = await pool([0, 1, 2], 3, () => createOrder('A'));
  const b = await pool([0, 1, 2, 3], 4, () => createOrder('B'));
  assert.equal((await patch(a[0], 'READY')).status, 200);
  for (const o of [a[0], a[1], b[0]]) assert.equal((await patch(o, 'COMPLETED')).status, 200);
  assert.equal((await patch(b[1], 'CANCELLED')).status, 200);
  await patch(b[2], 'READY');
  const add = (f, d) => ({ orders: f.orders + d.orders, completed: f.completed + d.completed, open: f.open + d.open, cancelled: f.cancelled + d.cancelled, revenue: f.revenue + d.revenue });
  const dA = { orders: 3, completed: 2, open: 1, cancelled: 0, revenue: 3 * 150 };
  const dB = { orders: 4, completed: 1, open: 2, cancelled: 1, revenue: 3 * 150 };
  const want = {
    A: add(before.A, dA),
    B: add(before.B, dB),
    all: add(before.all, add(dA, dB)),
  };
  assert.equal(want.all.orders, want.A.orders + want.B.orders, 'every order is in A or B');

  const page = await newPage(1024, 768);
  await page.goto(BASE + '/staff');
  await page.evaluate((k) => localStorage.setItem('tokenq.apiKey', k), ADMIN);
  await page.reload();
  await page.locator('#signin').waitFor({ state: 'hidden', timeout: 5000 });
  await page.click('#tab-today');
  await page.locator('#queue-stats').waitFor({ state: 'visible', timeout: 5000 });
  const table = await page.evaluate(() => {
    const read = (tr) => Object.fromEntries(Array.from(tr.children, (c) => [c.dataset.col, c.textContent.trim()]));
    return {
      rows: Array.from(document.querySelectorAll('#queue-table tbody tr'), (tr) => ({ prefix: tr.dataset.queue, ...read(tr) })),
      total: Array.from(document.querySelectorAll('#queue-table tfoot tr'), read),
    };
  });
  const money = (minor) => page.evaluate((m) => window.TQ.money(m), minor);
  const expect = async (f) => ({ orders: String(f.orders), completed: String(f.completed), open: String(f.open), cancelled: String(f.cancelled), revenue: await money(f.revenue) });
  const pick = (r) => ({ orders: r.orders, completed: r.completed, open: r.open, cancelled: r.cancelled, revenue: r.revenue });
  assert.deepEqual(table.rows.map((r) => [r.prefix, r.queue]), [['A', 'Dine-in (A)'], ['B', 'Takeaway (B)']], 'one row per configured queue, in order');
  assert.deepEqual(pick(table.rows[0]), await expect(want.A), 'queue A');
  assert.deepEqual(pick(table.rows[1]), await expect(want.B), 'queue B');
  assert.equal(table.total.length, 1, 'one total row');
  assert.match(table.total[0].queue, /All queues/);
  assert.deepEqual(pick(table.total[0]), await expect(want.all), 'total');
  for (const r of [table.rows[0], table.rows[1], table.total[0]]) assert.notEqual(r.prep, '–', 'a typical prep time once orders were ready');

  // Readable on the tablet: the table fits the width, the panel's text at AA contrast and >= 14 px.
  assert.ok(await page.evaluate(() => document.getElementById('queue-table').getBoundingClientRect().right <= innerWidth), 'the table fits 1024 px');
  const bad = (await visibleText(page)).filter((f) => contrast(f.fg, f.bg) < 4.5 || f.px < 14).map((f) => `"${f.text}" .${f.cls}: ${contrast(f.fg, f.bg).toFixed(2)}:1 ${f.px}px`);
  assert.deepEqual(bad, [], 'Today text below AA contrast or 14 px');
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, 'staff-today-queues.png') });
  await page.close();
});

test('Arabic text on the staff console and its ticket: dir=auto, computed direction rtl', { skip: skipAll, timeout: 30000 }, async () => {
  const note = 'بدون سكر من فضلك';
  const r = await api('POST', '/api/orders', { queue: 'B', note, items: [{ name: 'شاي بالنعناع', quantity: 1, unit_price: 150 }] });
  assert.equal(r.status, 201, JSON.stringify(r.data));
  const page = await newPage(1024, 768);
  await page.goto(BASE + '/staff');
  await page.evaluate((k) => localStorage.setItem('tokenq.apiKey', k), ADMIN);
  await page.reload();
  const card = page.locator(`#orders .order[data-id="${r.data.id}"]`);
  await card.waitFor({ timeout: 5000 });
  const dirs = async (p, sel) => p.evaluate((s) => Array.from(document.querySelectorAll(s), (e) => ({ text: e.textContent.trim(), dir: e.getAttribute('dir'), direction: getComputedStyle(e).direction })), sel);
  const cardNote = await dirs(page, `#orders .order[data-id="${r.data.id}"] .order-note`);
  assert.deepEqual(cardNote, [{ text: note, dir: 'auto', direction: 'rtl' }], 'the note on the card');
  const cardItem = await dirs(page, `#orders .order[data-id="${r.data.id}"] .name`);
  assert.deepEqual(cardItem, [{ text: 'شاي بالنعناع', dir: 'auto', direction: 'rtl' }], 'the item name on the card');
  // The page itself stays left to right: only the Arabic text turns.
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.order-queue')).direction), 'ltr');

  const [popup] = await Promise.all([browser.context.waitForEvent('page', { timeout: 10000 }), card.locator('button[data-ticket]').click()]);
  consoleLog.push(watchConsole(popup));
  await popup.waitForURL(/^blob:/, { timeout: 10000 });
  await popup.locator('.ticket-note').waitFor({ timeout: 5000 });
  assert.deepEqual(await dirs(popup, '.ticket-note'), [{ text: note, dir: 'auto', direction: 'rtl' }], 'the note on the ticket');
  assert.deepEqual(await dirs(popup, '.ticket-items td.name'), [{ text: 'شاي بالنعناع', dir: 'auto', direction: 'rtl' }], 'the item name on the ticket');
  await popup.close();
  await page.close();
});

test('rush: no CSP violations or script errors', { skip: skipAll }, () => {
  const bad = problems(consoleLog.flat());
  assert.deepEqual(bad, [], bad.map((m) => `${m.url}: [${m.type}] ${m.text}`).join('\n'));
});
