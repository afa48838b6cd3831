/*
 * venue.test.mjs: the pages under a venue's prefix, /v/{slug}/ (same
 * environment as pages.test.mjs).  The board at /v/main/, the staff console
 * at /v/main/staff and a customer page at /v/main/t/TOKEN load and follow
 * live changes; every request they make stays under /v/main/ (the API at
 * /v/main/api/..., the assets at the shared /assets/), and every link they
 * render to a page carries /v/main.  The staff console keeps one key per
 * venue, and the console of the venue main (/staff, /v/main/staff) reads
 * the key stored before there were venues.
 *
 *   TOKENQ_OTHER_VENUE=mg-road TOKENQ_OTHER_VENUE_KEY=...  a second venue and
 *   an admin key of it, for the keys scenario (skipped without them).
 *
 * run.sh runs it against the C server when that answers under /v/main/, else
 * against mock-server.mjs (which strips the prefix), and the scenario with a
 * second venue against the mock (it has mg-road).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, watchConsole, problems, apiClient } from './browser.mjs';

const ORIGIN = (process.env.TOKENQ_URL || '').replace(/\/+$/, '');
const ADMIN = process.env.TOKENQ_ADMIN_KEY || '';
const OTHER = process.env.TOKENQ_OTHER_VENUE || '';
const OTHER_KEY = process.env.TOKENQ_OTHER_VENUE_KEY || '';
const VENUE = '/v/main';
const skipAll = !ORIGIN ? 'TOKENQ_URL is not set' : !ADMIN ? 'TOKENQ_ADMIN_KEY is not set' : false;

let browser;
const consoleLog = [];
const api = apiClient(ORIGIN + VENUE, ADMIN); // the test's own calls use the prefix too

async function order(name) {
  const q = await api('GET', '/api/queues', undefined, null);
  const queue = q.status === 200 && q.data.queues.length ? q.data.queues[0].prefix : 'A';
  const r = await api('POST', '/api/orders', { queue, items: [{ name, quantity: 1, unit_price: 200 }] });
  assert.equal(r.status, 201, 'POST ' + VENUE + '/api/orders: ' + JSON.stringify(r.data));
  return r.data;
}
async function setStatus(o, status) {
  const r = await api('PATCH', '/api/orders/' + o.id, { status });
  assert.equal(r.status, 200, 'PATCH ' + status + ': ' + JSON.stringify(r.data));
}

/**
 * A page that records the path of every request it makes to the server
 * (page loads, assets, fetch, the event stream), with its resource type.
 */
async function venuePage(width, height) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height });
  consoleLog.push(watchConsole(page));
  page.requests = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin === ORIGIN) page.requests.push({ path: u.pathname, type: r.resourceType() });
  });
  return page;
}

/** Every request of page stayed in venue: API calls under venue/api/, the rest there or /assets/. */
function assertStaysIn(page, venue) {
  const api = page.requests.filter((r) => ['fetch', 'xhr', 'eventsource'].includes(r.type));
  assert.ok(api.some((r) => r.path === venue + '/api/events'), 'the event stream is ' + venue + '/api/events');
  // GET /metrics is the console's probe for an admin key: the venue's too.
  const strays = api.filter((r) => !r.path.startsWith(venue + '/api/') && r.path !== venue + '/metrics');
  assert.deepEqual(strays, [], 'API calls outside ' + venue + '/api/');
  const others = page.requests.filter((r) => !r.path.startsWith('/assets/') && r.path !== venue && !r.path.startsWith(venue + '/'));
  assert.deepEqual(others, [], 'requests outside ' + venue + '/ and /assets/');
}

/** Every link on the page to another page of the server carries venue. */
async function assertLinksIn(page, venue) {
  const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => a.href));
  const bad = hrefs.filter((h) => {
    const u = new URL(h);
    return u.origin === ORIGIN && !u.pathname.startsWith('/assets/') && u.pathname !== venue && !u.pathname.startsWith(venue + '/');
  });
  assert.deepEqual(bad, [], 'links without ' + venue);
}

const onBoard = (page, list, token) =>
  page.waitForFunction(
    ([l, t]) => Array.from(document.querySelectorAll('#' + l + ' .token, .list-' + l + ' .token')).some((e) => e.textContent.trim() === t),
    [list, token],
    { timeout: 3000, polling: 50 },
  );

async function signIn(page, key) {
  await page.locator('#key-input').fill(key);
  await page.click('#key-save');
  await page.locator('#signin').waitFor({ state: 'hidden', timeout: 5000 });
}

before(async () => {
  if (skipAll) return;
  browser = await launch();
  // Room on the board for the tokens made here (earlier suites leave many READY).
  const open = await api('GET', '/api/orders?status=PENDING,PREPARING,READY&limit=500');
  assert.equal(open.status, 200, 'GET ' + VENUE + '/api/orders: ' + JSON.stringify(open.data));
  for (const o of open.data.orders) await api('PATCH', '/api/orders/' + o.id, { status: 'COMPLETED' });
});
after(async () => {
  if (browser) await browser.close();
});

test('venue board at /v/main/: live, and it asks only /v/main/api/', { skip: skipAll, timeout: 60000 }, async () => {
  const page = await venuePage(1920, 1080);
  await page.goto(ORIGIN + VENUE + '/');
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  const o = await order('Venue tea');
  await onBoard(page, 'pending', o.token).catch(() => onBoard(page, 'preparing', o.token));
  await setStatus(o, 'READY');
  await onBoard(page, 'ready', o.token);
  assertStaysIn(page, VENUE);
  await assertLinksIn(page, VENUE);
  await page.close();
});

test('venue staff console at /v/main/staff: an order, live, the ticket; only /v/main/api/', { skip: skipAll, timeout: 60000 }, async () => {
  const page = await venuePage(1366, 900);
  await page.goto(ORIGIN + VENUE + '/staff');
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await signIn(page, ADMIN);
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });

  await page.click('#tab-new');
  await page.locator('#new-order .item-name').first().fill('Venue sandwich');
  await page.locator('#new-order .item-price').first().fill('3.00');
  await page.click('#order-submit');
  await page.waitForFunction(() => /^[A-Z]{1,3}-\d+$/.test(document.getElementById('created-token').textContent.trim()), null, { timeout: 5000 });
  const token = (await page.locator('#created-token').textContent()).trim();
  const made = (await api('GET', '/api/orders?status=PENDING&limit=500')).data.orders.find((x) => x.token === token);
  assert.ok(made, 'the order is on the server');

  // The ticket's customer page: the venue's.
  const [popup] = await Promise.all([browser.context.waitForEvent('page', { timeout: 10000 }), page.click('#print-ticket')]);
  consoleLog.push(watchConsole(popup));
  await popup.locator('.ticket-url').waitFor({ timeout: 10000 });
  const link = new URL((await popup.locator('.ticket-url').textContent()).trim());
  assert.equal(link.pathname, VENUE + '/t/' + token, 'the ticket links the venue\'s customer page');
  await popup.close();

  // Live: a change made through the API shows up.
  await page.click('#tab-orders');
  await page.waitForSelector(`#orders .order[data-id="${made.id}"][data-status="PENDING"]`, { timeout: 5000 });
  await setStatus(made, 'PREPARING');
  await page.waitForSelector(`#orders .order[data-id="${made.id}"][data-status="PREPARING"]`, { timeout: 3000 });
  await page.locator(`#orders .order[data-id="${made.id}"] [data-action="READY"]`).click();
  await page.waitForSelector(`#orders .order[data-id="${made.id}"][data-status="READY"]`, { timeout: 3000 });
  await page.click('#tab-today');
  await page.locator('#hour-chart svg').waitFor({ timeout: 5000 });

  assert.ok(page.requests.some((r) => r.path === VENUE + '/api/orders' && r.type === 'fetch'), 'the order went to ' + VENUE + '/api/orders');
  assertStaysIn(page, VENUE);
  await assertLinksIn(page, VENUE);
  await page.close();
});

test('venue customer page at /v/main/t/TOKEN: live, and it asks only /v/main/api/', { skip: skipAll, timeout: 60000 }, async () => {
  const mine = await order('Venue samosa');
  const page = await venuePage(390, 844);
  await page.goto(ORIGIN + VENUE + '/t/' + mine.token.toLowerCase());
  await page.waitForSelector('#status[data-status="PENDING"]', { timeout: 5000 });
  assert.equal((await page.locator('#token').textContent()).trim(), mine.token);
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  await setStatus(mine, 'PREPARING');
  await page.waitForSelector('#status[data-status="PREPARING"]', { timeout: 3000 });
  await setStatus(mine, 'READY');
  await page.waitForSelector('#status[data-status="READY"]', { timeout: 3000 });
  assert.ok(page.requests.some((r) => r.path === VENUE + '/api/tokens/' + mine.token), 'the token is read from ' + VENUE + '/api/tokens/');
  assertStaysIn(page, VENUE);
  await assertLinksIn(page, VENUE);

  await page.goto(ORIGIN + VENUE + '/t/ZZZ-999');
  await page.locator('#not-found').waitFor({ state: 'visible', timeout: 5000 });
  await page.close();
});

test('staff keys: one per venue; /staff and /v/main/staff keep the key stored before venues', { skip: skipAll || ((!OTHER || !OTHER_KEY) && 'TOKENQ_OTHER_VENUE(_KEY) is not set'), timeout: 60000 }, async () => {
  const other = '/v/' + OTHER;
  const page = await venuePage(1280, 800);
  // A till from before venues: its key is under the old name.
  await page.goto(ORIGIN + '/staff');
  await page.evaluate((k) => {
    localStorage.clear();
    localStorage.setItem('tokenq.apiKey', k);
  }, ADMIN);
  await page.reload();
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  assert.ok(await page.locator('#signin').isHidden(), '/staff still has its key');
  await page.goto(ORIGIN + VENUE + '/staff');
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  assert.ok(await page.locator('#signin').isHidden(), VENUE + '/staff is the same venue: the same key');

  // Another venue asks for its own key, and keeps it apart.
  page.requests = [];
  await page.goto(ORIGIN + other + '/staff');
  await page.locator('#signin').waitFor({ state: 'visible', timeout: 5000 });
  await signIn(page, OTHER_KEY);
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  const stored = await page.evaluate(() => Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)])));
  assert.deepEqual(stored, { 'tokenq.apiKey': ADMIN, ['tokenq.apiKey:' + other]: OTHER_KEY });
  assertStaysIn(page, other);

  // Signing out of it leaves main's key alone.
  await page.click('#sign-out');
  await page.locator('#signin').waitFor({ state: 'visible', timeout: 5000 });
  assert.equal(await page.evaluate((o) => localStorage.getItem('tokenq.apiKey:' + o), other), null);
  await page.goto(ORIGIN + VENUE + '/staff');
  await page.waitForSelector('html[data-stream="up"]', { timeout: 20000 });
  assert.ok(await page.locator('#signin').isHidden(), 'main still signed in');
  await page.close();
});

test('no CSP violations or script errors on any page under a venue', { skip: skipAll }, () => {
  const bad = problems(consoleLog.flat());
  assert.deepEqual(bad, [], 'console problems:\n' + bad.map((m) => `${m.url}: [${m.type}] ${m.text}`).join('\n'));
});
