/*
 * staff-orders.js: the staff console's Orders tab.  The day's open orders
 * in three columns (Received, Preparing, Ready) with one-click moves
 * (PATCH /api/orders/{id}), recall and cancel (two clicks); search, a queue
 * filter and the keyboard.  Live from /api/events: each event re-reads that
 * order.  Defines TQ.staff.orders:
 *
 *   start()      open the event stream (once signed in), re-read now and then
 *   resync()     re-read the board and the open orders now
 *   upsert(o)    a fresh copy of an order (e.g. one just created)
 *   clear()      forget every order (signing out)
 *   rebuild()    draw every card again (what the key may do changed)
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const { QUEUE, session } = TQ.staff;
  const RELOAD_MS = 5 * 60 * 1000;
  const MAX_PAGES = 40; // 40 x 500 open orders: far beyond a real day

  let listDate = null; // business date the list shows
  const orders = new Map(); // id -> order (open ones only)
  const cards = new Map(); // id -> {el, sig}

  /* ---------- loading ---------- */

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
        const r = await session.call(url, { what: 'read', quiet: true });
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
    TQ.staff.form.fillQueues();
    if (session.key) {
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
      if (o.business_date > listDate) resyncNow();
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
      resyncNow();
      return;
    }
    pumpFetches();
  }
  function pumpFetches() {
    while (fetchActive < 4 && fetchWanted.size) {
      const id = fetchWanted.values().next().value;
      fetchWanted.delete(id);
      fetchActive++;
      session.call('/api/orders/' + id, { what: 'read', quiet: true })
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
    if (!d || typeof d.order_id !== 'number' || !session.key) return;
    if (QUEUE && d.queue !== QUEUE) return;
    if (listDate && d.business_date && d.business_date !== listDate) {
      if (d.business_date > listDate) resyncNow();
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

  /* ---------- rendering ---------- */

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
    if ($('panel-orders').hidden || e.ctrlKey || e.metaKey || e.altKey) return;
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
    const sig = o.status + '|' + o.updated_at + '|' + session.can.move;
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
    if (session.can.move) {
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

  /* ---------- actions (one click; cancel takes two) ---------- */

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
      return TQ.staff.print.ticket(Number(ticket.closest('.order').dataset.id));
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
        r = await session.call('/api/orders/' + id + '/recall', { method: 'POST', what: 'recall' });
        session.toast(order.token + ' called again', 'The boards show and announce it once more.', 'ok');
        flashCard(id);
      } else {
        r = await session.call('/api/orders/' + id, { method: 'PATCH', body: { status: action }, what: action });
      }
      upsert(r.data);
    } catch (err) {
      if (err.status === 409 || err.status === 404) refreshOrder(id);
    } finally {
      card.classList.remove('busy');
      for (const b of card.querySelectorAll('button')) b.disabled = false;
    }
  });

  /* ---------- live ---------- */

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

  const resyncNow = () => live.runResync().catch(() => {});

  TQ.staff.orders = {
    start() {
      live.start();
      setInterval(resyncNow, RELOAD_MS);
      setInterval(tickAges, 30000);
    },
    resync: resyncNow,
    upsert,
    clear() {
      orders.clear();
      renderOrders();
    },
    rebuild() {
      for (const c of cards.values()) c.sig = '';
      renderOrders();
    },
  };
})();
