/*
 * staff-today.js: the staff console's Today tab.  GET /api/stats as
 * numbers, a table by queue when the venue has several, and two inline SVG
 * charts (charts.js); re-read every minute while the tab is open.  Defines
 * TQ.staff.today.shown(), called when the tab is opened.
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const { QUEUE, session } = TQ.staff;

  let statsTimer = 0;
  async function loadStats() {
    clearTimeout(statsTimer);
    if ($('panel-today').hidden || !session.key) return;
    statsTimer = setTimeout(loadStats, 60000);
    try {
      const queues = await TQ.queues();
      const get = (q) => session.call('/api/stats' + (q ? '?queue=' + encodeURIComponent(q) : ''), { what: 'stats', quiet: true }).then((r) => r.data);
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

  TQ.staff.today = { shown: loadStats };
})();
