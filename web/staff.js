/*
 * staff.js: the staff console (GET /staff, or /v/{slug}/staff for a
 * venue's), the last of its scripts: the tabs, what the key's role shows,
 * and the start.  The views are
 *
 *   staff-session.js   the API key, sign-in, calls with the key, toasts
 *   staff-print.js     printing a ticket
 *   staff-orders.js    Orders: the open orders' cards, their moves, live updates
 *   staff-form.js      New order: the form, the menu picker
 *   staff-today.js     Today: the day's figures and charts
 *
 * each a TQ.staff.* namespace, loaded in that order after common.js,
 * status.js and charts.js (see staff.html).
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const { session, orders, form, today } = TQ.staff;

  let started = false;

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
    if (id === 'panel-today') today.shown();
    if (id === 'panel-new') form.shown();
  }
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => selectPanel(tab.dataset.panel));

  /* ---------- what the key may do ---------- */

  /** Learn the key's role, then show only what it may do. */
  async function probeRole() {
    const role = await session.probeRole();
    const can = session.can;
    $('role-badge').textContent = role;
    $('tab-new').hidden = !can.create;
    $('tab-today').hidden = !can.move;
    const note = $('role-note');
    note.hidden = can.move;
    note.textContent = can.move ? '' : 'This key can take orders and read them, but not move them on: the kitchen does that with a staff key.';
    document.body.classList.toggle('can-move', can.move);
    if (!can.create && currentPanel === 'panel-new') selectPanel('panel-orders');
    if (!can.move && currentPanel === 'panel-today') selectPanel('panel-orders');
    orders.rebuild(); // the cards' buttons
  }

  /* ---------- the venue ---------- */

  // Its name and logo in the top bar; its currency before any card is drawn.
  const venueRead = TQ.venue().then((v) => {
    const name = TQ.brand(v, $('venue-name'), $('venue-logo'));
    if (name) document.title = 'Staff console — ' + name;
  }).catch((e) => console.warn('venue not shown', e));

  /* ---------- start ---------- */

  async function afterSignin() {
    await venueRead;
    await probeRole().catch(() => {});
    if (!started) {
      started = true;
      orders.start();
    } else {
      await orders.resync();
    }
  }

  session.onSignIn = afterSignin;
  session.onSignOut = orders.clear;

  if (session.key) {
    afterSignin();
  } else {
    session.showSignin('');
  }
})();
