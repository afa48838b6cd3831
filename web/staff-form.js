/*
 * staff-form.js: the staff console's New order tab.  Item rows (or picks
 * from the venue's menu), a note and a queue; POST /api/orders with an
 * Idempotency-Key that is reused when the same submission is retried after
 * a network error; shows the token and prints its ticket.  Defines
 * TQ.staff.form:
 *
 *   shown()        the tab was opened: load the menu, focus the first item
 *   fillQueues()   fill the queue picker, unless it already is
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const { QUEUE, session } = TQ.staff;

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

  /** "12", "12.5", "12,50" -> 1200, 1250, 1250 (minor units, in the venue's currency); NaN if not money. */
  const parseMoney = TQ.parseMoney;

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
        problems.push('item ' + n + ': a price like ' + TQ.moneyInput(450));
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
          const r = await session.call('/api/orders', { method: 'POST', body: text, headers: { 'Idempotency-Key': attempt.key }, what: 'create', quiet: true });
          attempt = null;
          showCreated(r.data);
          TQ.staff.orders.upsert(r.data);
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
    if (created) TQ.staff.print.ticket(created.id);
  });
  $('next-order').addEventListener('click', resetForm);

  /*
   * The venue's menu (GET /api/menu: {"items": [{"name", "unit_price"}],
   * "currency"}): staff pick instead of typing names and prices.  No menu
   * (404, or a server without the route): no picker, the rows as before.
   */
  let menuLoaded = false;
  async function loadMenu() {
    if (menuLoaded || !session.key) return;
    menuLoaded = true;
    let items = [];
    try {
      const r = await TQ.api('/api/menu', { key: session.key });
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
      row.querySelector('.item-price').value = TQ.moneyInput(price);
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

  TQ.staff.form = {
    shown() {
      loadMenu();
      if (!created) {
        const first = rows.querySelector('.item-name');
        if (first) first.focus();
      }
    },
    fillQueues() {
      if (!$('order-queue').options.length) fillQueues();
    },
  };

  /** The price boxes' hint in the venue's currency: "0.00", or "0" for JPY. */
  function pricePlaceholders() {
    const hint = TQ.moneyInput(0);
    for (const input of form.querySelectorAll('.item-price')) input.placeholder = hint;
    rowTemplate.content.querySelector('.item-price').placeholder = hint;
  }

  addRow(false);
  updateTotals();
  // The venue's currency: amounts and hints as it writes them.
  TQ.venue().then(() => {
    pricePlaceholders();
    updateTotals();
  });
})();
