/*
 * staff.js: the staff console (GET /staff).
 *
 *  - Sign-in: asks once for an API key, keeps it in localStorage, sends it as
 *    "Authorization: Bearer KEY" on every call; a 401 asks again, a 403 says
 *    the key's role may not do that.  What the key may do is learnt from two
 *    reads (GET /api/stats: staff/admin; GET /metrics: admin) and the UI
 *    hides what it may not do.
 *  - Orders: the day's open orders in three columns (Received, Preparing,
 *    Ready) with one-click moves (PATCH /api/orders/{id}), recall and cancel
 *    (two clicks).  Live from /api/events: each event re-reads that order.
 *  - New order: item rows, note, queue; POST /api/orders with an
 *    Idempotency-Key that is reused when the same submission is retried after
 *    a network error; shows the token and prints its ticket.
 *  - Today: GET /api/stats as numbers and two inline SVG charts (charts.js).
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const KEY_STORE = 'tokenq.apiKey';
  const params = new URLSearchParams(location.search);
  const QUEUE = (params.get('queue') || '').trim().toUpperCase() || null;
  const RELOAD_MS = 5 * 60 * 1000;
  const MAX_PAGES = 40; // 40 x 500 open orders: far beyond a real day

  let apiKey = localStorage.getItem(KEY_STORE) || '';
  let can = { create: true, move: true }; // until the probe says otherwise
  let started = false;
  let listDate = null; // business date the list shows
  const orders = new Map(); // id -> order (open ones only)
  const cards = new Map(); // id -> {el, sig}

  /* ---------- API calls with the key ---------- */

  const ROLE_DENIED = {
    recall: 'recall tokens',
    create: 'take new orders',
    stats: 'read the day’s figures',
    ticket: 'print tickets',
    read: 'read orders',
  };

  /**
   * call(path, opts): TQ.api with the key.  401 shows the sign-in again; 403
   * and other errors are toasted (unless opts.quiet) and rethrown.
   */
  async function call(path, opts) {
    const o = Object.assign({}, opts || {}, { key: apiKey });
    try {
      return await TQ.api(path, o);
    } catch (e) {
      if (e.status === 401) {
        showSignin('This key is not accepted (any more). Enter a valid key.');
      } else if (e.status === 403) {
        const what = ROLE_DENIED[o.what] || TQ.status.deniedVerb(o.what) || 'do that';
        toast('Not allowed', 'This key’s role may not ' + what + '.', 'error');
      } else if (!o.quiet) {
        toast(e.title || 'Error', e.detail || e.message, 'error');
      }
      throw e;
    }
  }

  /* ---------- toasts ---------- */

  const toasts = $('toasts');
  function toast(title, detail, kind) {
    const t = TQ.el('div', { class: 'toast ' + (kind || ''), role: kind === 'error' ? 'alert' : 'status' }, TQ.el('strong', { text: title }), detail ? TQ.el('span', { text: detail }) : null);
    toasts.appendChild(t);
    while (toasts.children.length > 4) toasts.firstChild.remove();
    setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
  }

  /* ---------- sign-in ---------- */

  function showSignin(message) {
    $('key-error').textContent = message || '';
    if (!$('signin').hidden) return; // already asking: keep what is being typed
    $('signin').hidden = false;
    document.body.classList.add('signed-out');
    const input = $('key-input');
    input.value = '';
    input.focus();
  }

  $('key-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    // A key pasted with its scheme ("Bearer tq_...") is the same key.
    const key = $('key-input').value.trim().replace(/^bearer\s+/i, '').trim();
    const err = $('key-error');
    if (!key) {
      err.textContent = 'Enter your API key.';
      return;
    }
    const button = $('key-save');
    button.disabled = true;
    err.textContent = '';
    try {
      await TQ.api('/api/orders?limit=1', { key });
      apiKey = key;
      localStorage.setItem(KEY_STORE, key);
      $('signin').hidden = true;
      document.body.classList.remove('signed-out');
      await afterSignin();
    } catch (ex) {
      if (ex.status === 401) err.textContent = 'That key was not accepted. Check it and try again.';
      else if (ex.status === 403) err.textContent = 'This key may not read orders.';
      else err.textContent = ex.detail || ex.message;
    } finally {
      button.disabled = false;
    }
  });

  $('sign-out').addEventListener('click', () => {
    localStorage.removeItem(KEY_STORE);
    apiKey = '';
    orders.clear();
    renderOrders();
    showSignin('');
  });

  /*
   * What may this key do?  Read-only probes whose answers the contract fixes:
   * /api/stats is staff/admin, /metrics is admin only; pos may create but
   * not move, staff may move but not create.  No answer (network): assume all.
   */
  async function probeRole() {
    let stats = true;
    let metrics = true;
    try {
      await TQ.api('/api/stats', { key: apiKey });
    } catch (e) {
      if (e.status === 403) stats = false;
    }
    if (stats) {
      try {
        await TQ.api('/metrics', { key: apiKey, headers: { Accept: 'text/plain' } });
      } catch (e) {
        if (e.status === 403) metrics = false;
      }
    }
    can = { move: stats, create: !stats || metrics };
    const role = can.move && can.create ? 'admin' : can.move ? 'staff' : can.create ? 'pos' : '';
    $('role-badge').textContent = role;
    $('tab-new').hidden = !can.create;
    $('tab-today').hidden = !can.move;
    const note = $('role-note');
    note.hidden = can.move;
    note.textContent = can.move ? '' : 'This key can take orders and read them, but not move them on: the kitchen does that with a staff key.';
    document.body.classList.toggle('can-move', can.move);
    if (!can.create && currentPanel === 'panel-new') selectPanel('panel-orders');
    if (!can.move && currentPanel === 'panel-today') selectPanel('panel-orders');
    for (const c of cards.values()) c.sig = ''; // rebuild buttons
    renderOrders();
  }

  async function afterSignin() {
    await probeRole().catch(() => {});
    if (!started) {
      started = true;
      live.start();
      setInterval(() => live.runResync().catch(() => {}), RELOAD_MS);
      setInterval(tickAges, 30000);
    } else {
      await live.runResync().catch(() => {});
    }
  }

  /* ---------- orders: loading ---------- */

  /*
   * The list is read page by page while events keep coming: whatever is
   * learnt meanwhile (touched) is applied again on top of the fresh list, so
   * a slow read never undoes a newer change.
   */
  let touched = null; // Map id -> order, while a list read runs
  async function loadOrders() {
    const mine = new Map();
    touched = mine;
    const all = new Map();
    try {
      let after = null;
      for (let page = 0; page < MAX_PAGES; page++) {
        let url = '/api/orders?status=' + TQ.status.OPEN.join(',') + '&limit=500';
        if (QUEUE) url += '&queue=' + encodeURIComponent(QUEUE);
        if (after !== null) url += '&after_id=' + after;
        const r = await call(url, { what: 'read', quiet: true });
        for (const o of r.data.orders || []) all.set(o.id, o);
        after = r.data.next_after_id;
        if (after === null || after === undefined) break;
      }
    } finally {
      if (touched === mine) touched = null;
    }
    orders.clear();
    for (const [id, o] of all) if (!closed.has(id)) orders.set(id, o);
    for (const o of mine.values()) applyOrder(o);
    renderOrders();
  }

  /*
   * Statuses only move forward: never let an older copy replace a newer one,
   * nor bring back an order known to be closed (a re-read that started
   * before the order was completed may answer after it).
   */
  const closed = new Set(); // ids of closed orders, the most recent few thousand
  function applyOrder(o) {
    if (touched) touched.set(o.id, o);
    const have = orders.get(o.id);
    if (have && TQ.status.rank(o.status) < TQ.status.rank(have.status)) return;
    if (!TQ.status.isOpen(o.status)) {
      orders.delete(o.id);
      closed.add(o.id);
      if (closed.size > 5000) closed.delete(closed.values().next().value);
    } else if (closed.has(o.id)) {
      return;
    } else if (o.items !== undefined) orders.set(o.id, o);
    else if (have) orders.set(o.id, Object.assign({}, have, o)); // a status-only update
  }

  /** Re-read the board (date, last event) and the open orders. */
  async function resync() {
    const b = await TQ.api('/api/board' + (QUEUE ? '?queue=' + encodeURIComponent(QUEUE) : ''));
    listDate = b.data.business_date;
    $('list-date').textContent = TQ.longDate(listDate);
    if (!$('order-queue').options.length) fillQueues();
    if (apiKey) {
      try {
        await loadOrders();
      } catch (e) {
        if (e.network) throw e; // server unreachable: the stream layer retries
      }
    }
    return Number(b.data.last_event_id) || 0;
  }

  /** Put a fresh copy of an order in place (or drop it when it is closed). */
  function upsert(o) {
    if (!o || typeof o.id !== 'number') return;
    if (listDate && o.business_date !== listDate) {
      if (o.business_date > listDate) live.runResync().catch(() => {});
      return;
    }
    if (QUEUE && o.queue !== QUEUE) return;
    applyOrder(o);
    scheduleRender();
  }

  /* Re-read single orders after events, a few at a time, each id once. */
  const fetchWanted = new Set();
  let fetchActive = 0;
  function refreshOrder(id) {
    fetchWanted.add(id);
    if (fetchWanted.size > 100) {
      // A burst (e.g. after an outage): one list read is cheaper.
      fetchWanted.clear();
      live.runResync().catch(() => {});
      return;
    }
    pumpFetches();
  }
  function pumpFetches() {
    while (fetchActive < 4 && fetchWanted.size) {
      const id = fetchWanted.values().next().value;
      fetchWanted.delete(id);
      fetchActive++;
      call('/api/orders/' + id, { what: 'read', quiet: true })
        .then((r) => upsert(r.data))
        .catch((e) => {
          if (e.status === 404) {
            orders.delete(id);
            scheduleRender();
          }
        })
        .finally(() => {
          fetchActive--;
          pumpFetches();
        });
    }
  }

  function onEvent(type, d) {
    if (!d || typeof d.order_id !== 'number' || !apiKey) return;
    if (QUEUE && d.queue !== QUEUE) return;
    if (listDate && d.business_date && d.business_date !== listDate) {
      if (d.business_date > listDate) live.runResync().catch(() => {});
      return;
    }
    const have = orders.get(d.order_id);
    if (type === 'recall') {
      if (have) flashCard(d.order_id);
      return;
    }
    if (!TQ.status.isOpen(d.status)) {
      applyOrder({ id: d.order_id, status: d.status }); // closed: off the list
      scheduleRender();
      return;
    }
    if (have && TQ.status.rank(d.status) > TQ.status.rank(have.status)) {
      // Show the move at once; the re-read brings the rest.
      applyOrder({ id: d.order_id, status: d.status, updated_at: d.at });
      scheduleRender();
    }
    refreshOrder(d.order_id);
  }

  /* ---------- orders: rendering ---------- */

  const columns = {};
  for (const col of document.querySelectorAll('#orders .order-col')) {
    columns[col.dataset.status] = { list: col.querySelector('.order-list'), count: col.querySelector('.col-count') };
  }

  let renderQueued = false;
  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    setTimeout(renderOrders, 0);
  }

  /* Search and queue filter: what the columns show, not what is kept. */
  const search = $('order-search');
  const queueFilter = $('queue-filter');
  function matches(o) {
    if (queueFilter.value && o.queue !== queueFilter.value) return false;
    const q = search.value.trim().toLowerCase();
    if (!q) return true;
    const hay = [o.token, o.note || ''].concat((o.items || []).map((it) => it.name)).join('\n').toLowerCase();
    return hay.includes(q);
  }
  search.addEventListener('input', scheduleRender);
  queueFilter.addEventListener('change', scheduleRender);
  TQ.queues().then((qs) => {
    if (qs.length < 2 || QUEUE) return;
    for (const q of qs) queueFilter.appendChild(TQ.el('option', { value: q.prefix, text: q.name + ' (' + q.prefix + ')' }));
    queueFilter.hidden = false;
  });

  /* Keyboard: / search, j/k (or arrows) move between cards, Enter advances, r recalls. */
  document.addEventListener('keydown', (e) => {
    if (currentPanel !== 'panel-orders' || e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = e.target.closest && e.target.closest('input, textarea, select');
    if (e.key === 'Escape' && e.target === search) {
      search.value = '';
      search.blur();
      scheduleRender();
      return;
    }
    if (typing) return;
    const all = Array.from(document.querySelectorAll('#orders .order'));
    const cur = document.activeElement && document.activeElement.closest ? document.activeElement.closest('.order') : null;
    const i = cur ? all.indexOf(cur) : -1;
    if (e.key === '/') {
      e.preventDefault();
      search.focus();
    } else if (e.key === 'j' || e.key === 'ArrowDown') {
      e.preventDefault();
      if (all.length) all[Math.min(all.length - 1, i + 1)].focus();
    } else if (e.key === 'k' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (all.length) all[Math.max(0, i - 1)].focus();
    } else if ((e.key === 'Enter' || e.key === 'r') && cur && e.target === cur) {
      const sel = e.key === 'r' ? 'button[data-action="recall"]' : 'button[data-action]:not([data-action="CANCELLED"]):not([data-action="recall"])';
      const b = cur.querySelector(sel);
      if (b) {
        e.preventDefault();
        const id = cur.dataset.id;
        b.click();
        // Keep the keyboard on the card once it has moved on.
        setTimeout(() => {
          const again = document.querySelector('#orders .order[data-id="' + id + '"]');
          if (again) again.focus();
        }, 300);
      }
    }
  });

  function renderOrders() {
    renderQueued = false;
    const groups = Object.fromEntries(TQ.status.OPEN.map((s) => [s, []]));
    for (const o of orders.values()) if (groups[o.status] && matches(o)) groups[o.status].push(o);
    const now = Date.now();
    let open = 0;
    for (const status of Object.keys(groups)) {
      const list = groups[status].sort((a, b) => a.id - b.id);
      open += list.length;
      TQ.reconcile(columns[status].list, list.map((o) => cardFor(o, now)));
      columns[status].count.textContent = String(list.length);
    }
    for (const id of cards.keys()) if (!orders.has(id)) cards.delete(id);
    $('open-count').textContent = open ? String(open) : '';
  }

  function cardFor(o, now) {
    const sig = o.status + '|' + o.updated_at + '|' + can.move;
    let c = cards.get(o.id);
    if (c && c.sig === sig) return c.el;
    const el = c ? c.el : TQ.el('article', { class: 'order', tabindex: '0' });
    el.dataset.id = String(o.id);
    el.dataset.status = o.status;
    el.setAttribute('aria-label', 'Order ' + o.token);
    const items = TQ.el(
      'ul',
      { class: 'order-items' },
      (o.items || []).map((it) => TQ.el('li', null, TQ.el('span', { class: 'qty', text: it.quantity + ' ×' }), ' ', TQ.el('span', { class: 'name', dir: 'auto', text: it.name }))),
    );
    const actions = TQ.el('div', { class: 'order-actions' });
    if (can.move) {
      for (const [action, label, style] of TQ.status.actions(o.status)) {
        actions.appendChild(TQ.el('button', { type: 'button', class: 'btn ' + (style ? 'btn-' + style : ''), 'data-action': action, text: label }));
      }
      actions.appendChild(TQ.el('button', { type: 'button', class: 'btn btn-danger btn-quiet', 'data-action': 'CANCELLED', text: 'Cancel' }));
    }
    const parts = [
      TQ.el(
        'header',
        { class: 'order-head' },
        TQ.el('span', { class: 'order-token', text: o.token }),
        queueLabel(o.queue),
        TQ.el('time', { class: 'order-age', datetime: o.created_at, title: 'Taken at ' + TQ.clock(o.created_at) }),
      ),
      items,
      o.note ? TQ.el('p', { class: 'order-note' + (ALLERGY.test(o.note) ? ' allergy' : ''), dir: 'auto', text: (ALLERGY.test(o.note) ? '⚠ ' : '') + o.note }) : null,
      TQ.el(
        'div',
        { class: 'order-meta' },
        TQ.el('span', { class: 'order-total', text: TQ.money(o.total) }),
        TQ.el('button', { type: 'button', class: 'btn btn-link', 'data-ticket': '', text: 'Ticket' }),
      ),
      actions,
    ];
    el.replaceChildren(...parts.filter(Boolean)); // (replaceChildren would print a null)
    updateAge(el, o, now);
    cards.set(o.id, { el, sig });
    return el;
  }

  /* Notes that may matter for health stand out on the card. */
  const ALLERGY = /allerg|\bnuts?\b|peanut|almond|cashew|gluten|coeliac|celiac|dairy|lactose|milk|\begg|vegan|halal|kosher|jain|shellfish|soy|sesame/i;

  let queueNames = [];
  TQ.queues().then((q) => {
    queueNames = q;
    for (const c of cards.values()) c.sig = '';
    scheduleRender();
  });
  function queueLabel(prefix) {
    if (queueNames.length < 2) return null;
    const q = queueNames.find((x) => x.prefix === prefix);
    return TQ.el('span', { class: 'order-queue', dir: 'auto', text: q ? q.name : prefix });
  }

  function updateAge(el, o, now) {
    const age = el.querySelector('.order-age');
    if (!age) return;
    age.textContent = TQ.age(o.created_at, now);
    const mins = (now - Date.parse(o.created_at)) / 60000;
    el.classList.toggle('late', TQ.status.isWaiting(o.status) && mins >= 10 && mins < 20);
    el.classList.toggle('very-late', TQ.status.isWaiting(o.status) && mins >= 20);
  }

  function tickAges() {
    const now = Date.now();
    for (const [id, c] of cards) {
      const o = orders.get(id);
      if (o) updateAge(c.el, o, now);
    }
  }

  function flashCard(id) {
    const c = cards.get(id);
    if (!c) return;
    c.el.classList.remove('flash');
    void c.el.offsetWidth;
    c.el.classList.add('flash');
  }

  /* ---------- orders: actions (one click; cancel takes two) ---------- */

  let armed = null; // {button, timer}: a Cancel waiting for its confirmation
  function disarm() {
    if (!armed) return;
    clearTimeout(armed.timer);
    armed.button.classList.remove('armed');
    armed.button.textContent = 'Cancel';
    armed = null;
  }

  $('orders').addEventListener('click', async (e) => {
    const ticket = e.target.closest('button[data-ticket]');
    if (ticket) {
      disarm();
      return printTicket(Number(ticket.closest('.order').dataset.id));
    }
    const button = e.target.closest('button[data-action]');
    if (!button) return disarm();
    const card = button.closest('.order');
    const id = Number(card && card.dataset.id);
    const order = orders.get(id);
    if (!order) return;
    const action = button.dataset.action;
    if (action === 'CANCELLED' && (!armed || armed.button !== button)) {
      disarm();
      button.classList.add('armed');
      button.textContent = 'Confirm cancel';
      armed = { button, timer: setTimeout(disarm, 4000) };
      return;
    }
    disarm();
    card.classList.add('busy');
    for (const b of card.querySelectorAll('button')) b.disabled = true;
    try {
      let r;
      if (action === 'recall') {
        r = await call('/api/orders/' + id + '/recall', { method: 'POST', what: 'recall' });
        toast(order.token + ' called again', 'The boards show and announce it once more.', 'ok');
        flashCard(id);
      } else {
        r = await call('/api/orders/' + id, { method: 'PATCH', body: { status: action }, what: action });
      }
      upsert(r.data);
    } catch (err) {
      if (err.status === 409 || err.status === 404) refreshOrder(id);
    } finally {
      card.classList.remove('busy');
      for (const b of card.querySelectorAll('button')) b.disabled = false;
    }
  });

  /* ---------- ticket ---------- */

  let ticketUrl = null;
  /**
   * Fetch the ticket with the key, then show it in a new window from a Blob
   * URL and print it there.  The window is opened at once, inside the click,
   * so that popup blockers let it through; a <base> makes the ticket's
   * /assets/ticket.css resolve from a blob: document.
   */
  async function printTicket(id) {
    const win = window.open('', '_blank');
    if (win) {
      try {
        win.document.title = 'Ticket';
        win.document.body.textContent = 'Loading ticket…';
      } catch (e) {
        /* not ours to write to: fine */
      }
    }
    let r;
    try {
      r = await call('/api/orders/' + id + '/ticket', { headers: { Accept: 'text/html' }, what: 'ticket' });
    } catch (e) {
      if (win) win.close();
      return;
    }
    const html = withBase(String(r.data || ''), location.origin + '/');
    if (ticketUrl) URL.revokeObjectURL(ticketUrl);
    ticketUrl = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
    if (win && !win.closed) {
      win.location.replace(ticketUrl);
      printWhenLoaded(win, ticketUrl);
    } else {
      const p = $('ticket-fallback');
      p.hidden = false;
      p.replaceChildren('Pop-ups are blocked: ', TQ.el('a', { href: ticketUrl, target: '_blank', rel: 'noopener', text: 'open the ticket' }), ' and print it from there.');
    }
  }

  function withBase(html, base) {
    const tag = '<base href="' + base.replace(/"/g, '&quot;') + '">';
    if (/<head[^>]*>/i.test(html)) return html.replace(/<head[^>]*>/i, (m) => m + tag);
    return tag + html;
  }

  function printWhenLoaded(win, url) {
    let tries = 0;
    const poll = setInterval(() => {
      tries++;
      let ready = false;
      try {
        ready = win.closed || (win.location.href === url && win.document.readyState === 'complete');
      } catch (e) {
        ready = true; // no longer ours to look at
      }
      if (ready || tries > 100) {
        clearInterval(poll);
        if (!win.closed && ready) {
          try {
            fitPageToTicket(win.document);
            win.focus();
            win.print();
          } catch (e) {
            /* the user can print from the window */
          }
        }
      }
    }, 100);
  }

  /*
   * A receipt roll has no page height, and CSS cannot say "as long as the
   * content" (size: 80mm auto is not valid): measure the ticket and give the
   * page exactly its length, so it prints as one piece with no blank feed.
   */
  function fitPageToTicket(doc) {
    const ticket = doc.querySelector('.ticket');
    const sheet = Array.from(doc.styleSheets).find((x) => /ticket\.css/.test(x.href || ''));
    if (!ticket || !sheet) return;
    const mm = Math.ceil((ticket.getBoundingClientRect().height * 25.4) / 96) + 6;
    sheet.insertRule('@page { size: 80mm ' + mm + 'mm; margin: 0; }', sheet.cssRules.length);
  }

  /* ---------- new order ---------- */

  const form = $('new-order');
  const rows = $('item-rows');
  const rowTemplate = $('item-row-template');
  let attempt = null; // {key, body}: the submission an Idempotency-Key belongs to
  let created = null;

  function addRow(focus) {
    const row = rowTemplate.content.firstElementChild.cloneNode(true);
    rows.appendChild(row);
    updateRemoveButtons();
    if (focus) row.querySelector('.item-name').focus();
    return row;
  }

  function updateRemoveButtons() {
    const all = rows.querySelectorAll('.remove-item');
    for (const b of all) b.disabled = all.length === 1;
  }

  /** "12", "12.5", "12,50" -> 1200, 1250, 1250 (minor units); NaN if not money. */
  function parseMoney(text) {
    const s = String(text).trim().replace(/\s/g, '');
    const m = /^(\d{1,9})(?:[.,](\d{1,2}))?$/.exec(s);
    if (!m) return NaN;
    return Number(m[1]) * 100 + Number((m[2] || '0').padEnd(2, '0'));
  }

  function readRow(row) {
    return {
      name: row.querySelector('.item-name').value.trim(),
      qtyText: row.querySelector('.item-qty').value.trim(),
      priceText: row.querySelector('.item-price').value.trim(),
    };
  }

  function updateTotals() {
    let total = 0;
    for (const row of rows.children) {
      const r = readRow(row);
      const qty = Number(r.qtyText);
      const price = r.priceText === '' ? 0 : parseMoney(r.priceText);
      const amount = Number.isInteger(qty) && qty > 0 && isFinite(price) ? qty * price : 0;
      row.querySelector('.item-amount').textContent = TQ.money(amount);
      total += amount;
    }
    $('order-total').textContent = TQ.money(total);
  }

  function markInvalid(input, message) {
    input.classList.add('invalid');
    input.setAttribute('aria-invalid', 'true');
    if (message) input.title = message;
  }

  function clearInvalid() {
    for (const el of form.querySelectorAll('.invalid')) {
      el.classList.remove('invalid');
      el.removeAttribute('aria-invalid');
      el.removeAttribute('title');
    }
    $('form-error').textContent = '';
  }

  /** Build the request body, or show what is wrong and return null. */
  let itemRows = []; // the row each sent item came from (to place a 422)
  function collect() {
    clearInvalid();
    const items = [];
    const problems = [];
    const all = Array.from(rows.children);
    itemRows = [];
    for (const row of all) {
      const r = readRow(row);
      if (!r.name && !r.priceText && all.length > 1) continue; // a blank spare row
      const n = items.length + 1;
      const qty = Number(r.qtyText);
      const price = r.priceText === '' ? NaN : parseMoney(r.priceText);
      if (!r.name) {
        markInvalid(row.querySelector('.item-name'));
        problems.push('item ' + n + ' needs a name');
      }
      if (!Number.isInteger(qty) || qty < 1 || qty > 1000) {
        markInvalid(row.querySelector('.item-qty'));
        problems.push('item ' + n + ': quantity is a whole number from 1 to 1000');
      }
      if (!isFinite(price) || price > 100000000) {
        markInvalid(row.querySelector('.item-price'));
        problems.push('item ' + n + ': a price like 4.50');
      }
      items.push({ name: r.name, quantity: qty, unit_price: price });
      itemRows.push(row);
    }
    if (!items.length) problems.push('add at least one item');
    if (problems.length) {
      $('form-error').textContent = 'Check the order: ' + problems.join('; ') + '.';
      const first = form.querySelector('.invalid');
      if (first) first.focus();
      return null;
    }
    const body = {};
    const queue = $('order-queue').value;
    if (queue) body.queue = queue;
    body.items = items;
    body.total = items.reduce((s, it) => s + it.quantity * it.unit_price, 0);
    const note = $('order-note').value.trim();
    if (note) body.note = note;
    return body;
  }

  /** Point at the input a 422's `field` names (items[1].quantity, note...). */
  function markField(field) {
    const m = /^items\[(\d+)\](?:\.(\w+))?$/.exec(field || '');
    if (m) {
      const row = itemRows[Number(m[1])];
      const cls = { name: '.item-name', quantity: '.item-qty', unit_price: '.item-price' }[m[2]] || '.item-name';
      if (row) markInvalid(row.querySelector(cls));
    } else if (field === 'note') markInvalid($('order-note'));
    else if (field === 'queue') markInvalid($('order-queue'));
  }

  form.addEventListener('input', (e) => {
    if (e.target.classList.contains('invalid')) {
      e.target.classList.remove('invalid');
      e.target.removeAttribute('aria-invalid');
    }
    updateTotals();
  });

  $('add-item').addEventListener('click', () => addRow(true));
  rows.addEventListener('click', (e) => {
    const b = e.target.closest('.remove-item');
    if (!b || rows.children.length < 2) return;
    b.closest('.item-row').remove();
    updateRemoveButtons();
    updateTotals();
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = collect();
    if (!body) return;
    const text = JSON.stringify(body);
    // Same bytes as a failed try: same key, so the server makes it at most once.
    if (!attempt || attempt.body !== text) attempt = { key: TQ.uuid(), body: text };
    const submit = $('order-submit');
    submit.disabled = true;
    submit.textContent = 'Sending…';
    try {
      for (let inUse = 0; ; inUse++) {
        try {
          const r = await call('/api/orders', { method: 'POST', body: text, headers: { 'Idempotency-Key': attempt.key }, what: 'create', quiet: true });
          attempt = null;
          showCreated(r.data);
          upsert(r.data);
          break;
        } catch (err) {
          if (err.code === 'idempotency_key_in_use' && inUse < 5) {
            await new Promise((res) => setTimeout(res, 1000)); // the first try is still running
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      if (err.network) {
        $('form-error').textContent = 'No answer from the server, so the order may or may not have been taken. Press “Create order” again: it is safe, the same order is never made twice.';
      } else {
        attempt = null;
        if (err.status !== 401 && err.status !== 403) {
          $('form-error').textContent = err.detail || err.title || err.message;
          markField(err.field);
        }
      }
    } finally {
      submit.disabled = false;
      submit.textContent = 'Create order';
    }
  });

  function showCreated(o) {
    created = o;
    form.hidden = true;
    $('order-result').hidden = false;
    $('created-token').textContent = o.token;
    const n = (o.items || []).reduce((s, it) => s + it.quantity, 0);
    $('created-summary').textContent = n + (n === 1 ? ' item' : ' items') + ' · total ' + TQ.money(o.total);
    $('ticket-fallback').hidden = true;
    $('print-ticket').focus();
  }

  function resetForm() {
    created = null;
    attempt = null;
    rows.replaceChildren();
    addRow(false);
    $('order-note').value = '';
    clearInvalid();
    updateTotals();
    form.hidden = false;
    $('order-result').hidden = true;
    rows.querySelector('.item-name').focus();
  }

  $('print-ticket').addEventListener('click', () => {
    if (created) printTicket(created.id);
  });
  $('next-order').addEventListener('click', resetForm);

  /*
   * The venue's menu (GET /api/menu: {"items": [{"name", "unit_price"}],
   * "currency"}): staff pick instead of typing names and prices.  No menu
   * (404, or a server without the route): no picker, the rows as before.
   */
  let menuLoaded = false;
  async function loadMenu() {
    if (menuLoaded || !apiKey) return;
    menuLoaded = true;
    let items = [];
    try {
      const r = await TQ.api('/api/menu', { key: apiKey });
      items = r.data && Array.isArray(r.data.items) ? r.data.items : [];
    } catch (e) {
      if (e.status !== 404) menuLoaded = false; // try again next time
      items = [];
    }
    const box = $('menu-items');
    box.replaceChildren(
      ...items
        .filter((it) => it && typeof it.name === 'string' && Number.isInteger(it.unit_price))
        .map((it) => TQ.el('button', { type: 'button', class: 'menu-item', dataset: { name: it.name, price: String(it.unit_price) } }, TQ.el('span', { dir: 'auto', text: it.name }), TQ.el('span', { class: 'price', text: TQ.money(it.unit_price) }))),
    );
    $('menu-picker').hidden = box.children.length === 0;
  }
  $('menu-items').addEventListener('click', (e) => {
    const b = e.target.closest('.menu-item');
    if (!b) return;
    const price = Number(b.dataset.price);
    let row = Array.from(rows.children).find((r) => r.querySelector('.item-name').value.trim() === b.dataset.name);
    if (row) {
      const q = row.querySelector('.item-qty');
      q.value = String((Number(q.value) || 0) + 1);
    } else {
      row = Array.from(rows.children).find((r) => !r.querySelector('.item-name').value.trim() && !r.querySelector('.item-price').value.trim()) || addRow(false);
      row.querySelector('.item-name').value = b.dataset.name;
      row.querySelector('.item-price').value = (price / 100).toFixed(2);
    }
    updateTotals();
  });

  async function fillQueues() {
    const queues = await TQ.queues();
    const select = $('order-queue');
    select.replaceChildren(...queues.map((q) => TQ.el('option', { value: q.prefix, text: q.name + ' (' + q.prefix + ')' })));
    if (QUEUE && queues.some((q) => q.prefix === QUEUE)) select.value = QUEUE;
    $('queue-field').hidden = queues.length < 2;
  }

  /* ---------- Today ---------- */

  let statsTimer = 0;
  async function loadStats() {
    clearTimeout(statsTimer);
    if (currentPanel !== 'panel-today' || !apiKey) return;
    statsTimer = setTimeout(loadStats, 60000);
    try {
      const queues = await TQ.queues();
      const get = (q) => call('/api/stats' + (q ? '?queue=' + encodeURIComponent(q) : ''), { what: 'stats', quiet: true }).then((r) => r.data);
      // With two queues or more: once per queue and once for all of them,
      // side by side; the figures above still follow ?queue=.
      const perQueue = queues.length > 1 ? queues : [];
      const [all, ...each] = await Promise.all([get(null), ...perQueue.map((q) => get(q.prefix))]);
      const own = QUEUE ? each[perQueue.findIndex((q) => q.prefix === QUEUE)] || (await get(QUEUE)) : all;
      $('stats-error').textContent = '';
      renderStats(own);
      renderQueueTable(perQueue, each, all);
    } catch (e) {
      $('stats-error').textContent = e.status === 403 ? 'This key’s role may not read the day’s figures.' : e.detail || e.message;
    }
  }

  function renderStats(s) {
    $('stats').hidden = false;
    $('stats-date').textContent = TQ.longDate(s.business_date);
    const by = s.by_status || {};
    const prep = s.prep_seconds || {};
    const openNote = TQ.status.OPEN.map((st) => (by[st] || 0) + ' ' + TQ.status.label(st).toLowerCase()).join(' · ');
    const kpi = (label, value, note, cls) => TQ.el('div', { class: 'kpi ' + (cls || '') }, TQ.el('dt', { text: label }), TQ.el('dd', { text: value }), note ? TQ.el('dd', { class: 'kpi-note', text: note }) : null);
    $('kpis').replaceChildren(
      kpi('Orders', String(s.orders || 0), (by.CANCELLED || 0) + ' cancelled'),
      kpi('Revenue', TQ.money(s.revenue || 0), 'excluding cancelled'),
      kpi('Open now', String(TQ.status.openCount(by)), openNote),
      kpi('Completed', String(by.COMPLETED || 0), ''),
      kpi('Typical prep', prep.count ? TQ.duration(prep.p50) : '–', prep.count ? 'median of ' + prep.count : 'no orders ready yet'),
    );
    $('hour-chart').replaceChildren(TQ.charts.hours(Array.isArray(s.orders_per_hour) ? s.orders_per_hour : []));
    $('prep-chart').replaceChildren(TQ.charts.prep(prep));
  }

  /* One row per configured queue and a total row (the unfiltered figures). */
  function renderQueueTable(queues, each, all) {
    $('queue-stats').hidden = !queues.length;
    if (!queues.length) return;
    const row = (cellTag, name, prefix, s) => {
      const by = s.by_status || {};
      const prep = s.prep_seconds || {};
      const num = (text, what) => TQ.el('td', { class: 'num', 'data-col': what, text });
      const attrs = prefix ? { 'data-queue': prefix } : { class: 'total' };
      if (prefix && prefix === QUEUE) attrs.class = 'current';
      return TQ.el('tr', attrs,
        TQ.el(cellTag, { scope: 'row', 'data-col': 'queue' }, TQ.el('span', { dir: 'auto', text: name }), prefix ? TQ.el('span', { class: 'muted', text: ' (' + prefix + ')' }) : null),
        num(String(s.orders || 0), 'orders'),
        num(String(by.COMPLETED || 0), 'completed'),
        num(String(TQ.status.openCount(by)), 'open'),
        num(String(by.CANCELLED || 0), 'cancelled'),
        num(TQ.money(s.revenue || 0), 'revenue'),
        num(prep.count ? TQ.duration(prep.p50) : '–', 'prep'),
      );
    };
    const table = $('queue-table');
    table.tBodies[0].replaceChildren(...queues.map((q, i) => row('th', q.name, q.prefix, each[i] || {})));
    table.tFoot.replaceChildren(row('th', 'All queues', null, all || {}));
  }

  $('stats-refresh').addEventListener('click', loadStats);

  /* ---------- tabs ---------- */

  let currentPanel = 'panel-orders';
  function selectPanel(id) {
    currentPanel = id;
    for (const tab of document.querySelectorAll('.tab')) {
      const on = tab.dataset.panel === id;
      if (on) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
      $(tab.dataset.panel).hidden = !on;
    }
    if (id === 'panel-today') loadStats();
    if (id === 'panel-new') loadMenu();
    if (id === 'panel-new' && !created) {
      const first = rows.querySelector('.item-name');
      if (first) first.focus();
    }
  }
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => selectPanel(tab.dataset.panel));

  /* ---------- start ---------- */

  const live = new TQ.Live({
    banner: $('status-banner'),
    resync,
    onEvent,
    onState: (up) => {
      const dot = $('live-dot');
      dot.classList.toggle('down', !up);
      dot.title = up ? 'Live updates' : 'Reconnecting…';
    },
  });

  addRow(false);
  updateTotals();
  if (apiKey) {
    afterSignin();
  } else {
    showSignin('');
  }
})();
