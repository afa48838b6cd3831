/*
 * board.js: the display board for a TV (GET /, or /v/{slug}/ for a venue's).
 *
 * Reads /api/board (?queue=X when the page has ?queue=X), then follows
 * /api/events from its last_event_id.  Shows Preparing and Ready in large
 * type (and a small strip of orders just received), one band per queue when
 * the venue has several, highlights every token that turns READY or is
 * recalled, plays a chime and, with ?voice=1, reads each one aloud ("Token
 * A 42, please collect"), one after another, none dropped.
 *
 * No token is ever hidden: a busy list first gets smaller tiles, down to a
 * legible minimum (token text 2.5 units: 48 px on a 1920x1080 screen), and
 * past that it pages through its tokens every 8 s (?paging=SECONDS), with
 * the page number in the list's heading.  The newest and recalled tokens
 * come first, so they are on page 1, and a call brings the list back to
 * page 1 (at most once per paging cycle, so every page still gets its turn).
 * ?cols=N and ?rows=N fix the tile grid for screens of other shapes.
 *
 * It runs for days unattended, so everything it keeps is bounded: the tokens
 * it remembers (one business date, capped), the announcement queue, and the
 * timers are fixed singletons.  Statuses only move forward, so an event or a
 * snapshot that arrives late never moves a token back.
 */
'use strict';

(function () {
  const params = new URLSearchParams(location.search);
  const QUEUE = (params.get('queue') || '').trim().toUpperCase() || null;
  const VOICE = params.get('voice') === '1';
  const intParam = (name, lo, hi) => {
    const n = Number(params.get(name));
    return Number.isInteger(n) && n >= lo && n <= hi ? n : null;
  };
  const COLS = intParam('cols', 1, 12);
  const ROWS = intParam('rows', 1, 30);
  const PAGE_MS = (intParam('paging', 3, 60) || 8) * 1000;

  const MAX_PENDING_SHOWN = 40;
  const MAX_REMEMBERED = 3000; // tokens of the day, finished ones included
  const HIGHLIGHT_MS = 10000;
  const RESYNC_MS = 5 * 60 * 1000;
  const MAX_ANNOUNCEMENTS = 500; // a whole rush, far more than a real burst

  const $ = (id) => document.getElementById(id);
  const main = $('board-main');
  const pendingList = $('pending');

  /* ---------- state ---------- */

  let businessDate = null;
  let snapshotId = 0; // last_event_id of the newest snapshot applied
  let loaded = false; // first snapshot applied (no announcements before it)
  let readySeq = 0; // orders the Ready column, newest on top
  let flashSeq = 0; // restarts the highlight animation on a recall
  const tokens = new Map(); // token -> {token, queue, status, ver, key, readySeq, flash, until}
  const nodes = new Map(); // token -> <li>, only for tokens on screen
  const highlighted = new Set(); // tokens highlighted now (a whole burst)
  let highlightTimer = 0;
  let renderQueued = false;
  let queueList = []; // [{prefix, name}] from /api/queues
  const bands = new Map(); // prefix ('' for all) -> {el, lists: {PREPARING, READY}}
  const paging = new Map(); // list element -> {page, pages, jumpedAt}

  const FINISHED = 'DONE'; // COMPLETED or CANCELLED: off the board

  function sortKey(token) {
    const m = /^([A-Z]+)-(\d+)$/.exec(token);
    return m ? { prefix: m[1], num: Number(m[2]) } : { prefix: token, num: 0 };
  }
  function byToken(a, b) {
    if (a.key.prefix !== b.key.prefix) return a.key.prefix < b.key.prefix ? -1 : 1;
    return a.key.num - b.key.num;
  }
  function rank(status) {
    return TQ.status.rank(status === FINISHED ? 'COMPLETED' : status);
  }

  function remember(token, queue) {
    const rec = { token, queue: queue || sortKey(token).prefix, status: null, ver: 0, key: sortKey(token), readySeq: 0, flash: 0, until: 0 };
    tokens.set(token, rec);
    if (tokens.size > MAX_REMEMBERED) forgetOldFinished();
    return rec;
  }

  function forgetOldFinished() {
    // Map iterates in insertion order: the oldest finished tokens go first.
    for (const [t, rec] of tokens) {
      if (tokens.size <= MAX_REMEMBERED * 0.9) return;
      if (rec.status === FINISHED) tokens.delete(t);
    }
    // Only open tokens left and still too many (not a real day): drop the oldest.
    for (const t of tokens.keys()) {
      if (tokens.size <= MAX_REMEMBERED) return;
      tokens.delete(t);
    }
  }

  function resetDay(date) {
    businessDate = date;
    tokens.clear();
    nodes.clear();
    highlighted.clear();
    $('board-date').textContent = TQ.longDate(date);
  }

  /** Move rec to status; returns true when it just became READY. */
  function move(rec, status, ver) {
    const was = rec.status;
    rec.status = status;
    rec.ver = Math.max(rec.ver, ver || 0);
    if (status === 'READY' && was !== 'READY') {
      rec.readySeq = ++readySeq;
      return true;
    }
    return false;
  }

  /** Apply a /api/board answer. */
  function applySnapshot(b) {
    if (!b || typeof b.business_date !== 'string') return;
    if (businessDate && b.business_date < businessDate) return; // an older day: ignore
    if (b.business_date !== businessDate) resetDay(b.business_date);
    const L = Number(b.last_event_id) || 0;
    const seen = new Map();
    for (const t of b.pending || []) seen.set(t, 'PENDING');
    for (const t of b.preparing || []) seen.set(t, 'PREPARING');
    for (const t of b.ready || []) seen.set(t, 'READY'); // oldest first: newest gets the top
    const newlyReady = [];
    for (const [t, rec] of tokens) {
      if (rec.ver > L) continue; // we already hold news newer than this snapshot
      const s = seen.has(t) ? seen.get(t) : FINISHED;
      if (rank(s) > rank(rec.status) && move(rec, s, L)) newlyReady.push(t);
    }
    for (const [t, s] of seen) {
      if (tokens.has(t)) continue;
      const rec = remember(t, null);
      if (move(rec, s, L)) newlyReady.push(t);
    }
    snapshotId = Math.max(snapshotId, L);
    // Ready while we were not listening (e.g. during an outage): call them now.
    if (loaded) for (const t of newlyReady) callToken(t);
    loaded = true;
    scheduleRender();
  }

  /** Apply one event from the stream. */
  function applyEvent(type, d, id) {
    if (!d || typeof d.token !== 'string') return;
    if (QUEUE && d.queue !== QUEUE) return;
    if (d.business_date) {
      if (businessDate && d.business_date < businessDate) return; // yesterday's
      if (d.business_date !== businessDate) resetDay(d.business_date);
    }
    let rec = tokens.get(d.token);
    if (!rec) {
      // Not in a snapshot newer than this event: it was finished by then.
      if (id && id <= snapshotId) return;
      rec = remember(d.token, d.queue);
    }
    if (d.queue) rec.queue = d.queue;
    if (type === 'recall') {
      if (rec.status === FINISHED) return;
      move(rec, 'READY', id);
      rec.readySeq = ++readySeq;
      callToken(rec.token);
    } else {
      const s = TQ.status.isOpen(d.status) ? d.status : FINISHED;
      if (rank(s) > rank(rec.status)) {
        if (move(rec, s, id)) callToken(rec.token);
      } else {
        rec.ver = Math.max(rec.ver, id || 0);
      }
    }
    scheduleRender();
  }

  /** Highlight a token that is ready for collection (with the rest of its burst), and announce it. */
  function callToken(token) {
    const rec = tokens.get(token);
    if (!rec) return;
    rec.flash = ++flashSeq;
    rec.until = Date.now() + HIGHLIGHT_MS;
    highlighted.add(token);
    armHighlightTimer();
    const band = bandFor(rec.queue);
    if (band) backToFirstPage(band.lists.READY);
    announce(token);
    scheduleRender();
  }

  function armHighlightTimer() {
    clearTimeout(highlightTimer);
    let next = Infinity;
    for (const t of highlighted) next = Math.min(next, (tokens.get(t) || { until: 0 }).until);
    if (next === Infinity) return;
    highlightTimer = setTimeout(() => {
      const now = Date.now();
      for (const t of highlighted) {
        const rec = tokens.get(t);
        if (!rec || rec.until <= now + 50 || rec.status !== 'READY') highlighted.delete(t);
      }
      armHighlightTimer();
      scheduleRender();
    }, Math.max(50, next - Date.now()));
  }

  /* ---------- layout: one band per queue ---------- */

  /** The queues shown in their own bands: one band ('') unless the venue has several and no ?queue=. */
  function bandKeys() {
    if (QUEUE || queueList.length < 2) return [''];
    return queueList.map((q) => q.prefix);
  }

  function bandFor(queue) {
    return bands.get(bands.has(queue) ? queue : '') || null;
  }

  function column(status, title, sub, queue) {
    const label = queue ? queueList.find((q) => q.prefix === queue) : null;
    const count = TQ.el('span', { class: 'col-count' });
    const page = TQ.el('span', { class: 'col-page', hidden: true });
    const list = TQ.el('ol', { class: 'token-list list-' + status.toLowerCase(), dataset: { status, queue: queue || '' } });
    if (!queue) list.id = status.toLowerCase(); // #preparing, #ready on a one-queue board
    if (COLS || ROWS) {
      list.classList.add('fixed-grid');
      if (COLS) list.style.setProperty('--cols', String(COLS));
      if (ROWS) list.style.setProperty('--rows', String(ROWS));
    }
    const head = TQ.el(
      'h2',
      { class: 'col-head' },
      TQ.el('span', { class: 'col-dot', 'aria-hidden': 'true' }),
      label ? TQ.el('span', { class: 'col-queue', dir: 'auto', text: label.name + ' · ' + label.prefix }) : null,
      title,
      sub ? TQ.el('span', { class: 'col-sub', text: sub }) : null,
      page,
      count,
    );
    const col = TQ.el('section', { class: 'board-col col-' + status.toLowerCase(), dataset: { queue: queue || '' } }, head, list);
    return { col, list, count, page };
  }

  function buildBands() {
    const keys = bandKeys();
    if (bands.size === keys.length && keys.every((k) => bands.has(k))) return;
    bands.clear();
    paging.clear();
    nodes.clear();
    const els = [];
    for (const k of keys) {
      const prep = column('PREPARING', TQ.status.label('PREPARING'), '', k);
      const ready = column('READY', TQ.status.label('READY'), 'please collect', k);
      const el = TQ.el('section', { class: 'band', dataset: { queue: k } }, prep.col, ready.col);
      bands.set(k, { el, lists: { PREPARING: prep.list, READY: ready.list }, counts: { PREPARING: prep.count, READY: ready.count }, pages: { PREPARING: prep.page, READY: ready.page } });
      els.push(el);
    }
    main.replaceChildren(...els);
    main.classList.toggle('multi', keys.length > 1);
  }

  /* ---------- rendering ---------- */

  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    setTimeout(render, 16);
  }

  function tokenNode(rec) {
    let li = nodes.get(rec.token);
    if (!li) {
      li = TQ.el('li', { class: 'token', dataset: { token: rec.token } }, TQ.el('span', { class: 'token-text', text: rec.token }));
      nodes.set(rec.token, li);
    }
    return li;
  }

  function render() {
    renderQueued = false;
    buildBands();
    const groups = new Map(); // band key -> {PREPARING: [], READY: []}
    for (const k of bands.keys()) groups.set(k, { PREPARING: [], READY: [] });
    const pending = [];
    for (const rec of tokens.values()) {
      if (rec.status === 'PENDING') pending.push(rec);
      else if (TQ.status.isOpen(rec.status)) {
        const g = groups.get(groups.has(rec.queue) ? rec.queue : '') || groups.get(bands.keys().next().value);
        if (g) g[rec.status].push(rec);
      }
    }
    pending.sort(byToken);
    document.body.classList.toggle('has-pending', pending.length > 0);

    // Each band gets height by how much it holds (a quiet queue keeps a small band).
    const rows = [];
    for (const [k, g] of groups) {
      const n = g.PREPARING.length + g.READY.length;
      rows.push('minmax(calc(var(--u) * 14), ' + Math.max(4, n + 4) + 'fr)');
      const band = bands.get(k);
      // Landscape: the busier list gets the wider column.
      const wide = Math.min(0.75, Math.max(0.3, (g.READY.length * 1.3 + 2) / (g.READY.length * 1.3 + g.PREPARING.length + 4)));
      band.el.style.setProperty('--ready-width', (wide * 100).toFixed(1) + 'fr');
      band.el.style.setProperty('--prep-width', ((1 - wide) * 100).toFixed(1) + 'fr');
      // Portrait (stacked): share the height by how much each list holds.
      const readyWeight = g.READY.length + (g.READY.some((r) => highlighted.has(r.token)) ? 3 : 0);
      const share = Math.min(0.72, Math.max(0.35, (readyWeight + 1) / (readyWeight + g.PREPARING.length + 2)));
      band.el.style.setProperty('--ready-share', (share * 100).toFixed(1) + 'fr');
      band.el.style.setProperty('--prep-share', ((1 - share) * 100).toFixed(1) + 'fr');
    }
    main.style.gridTemplateRows = bands.size > 1 ? rows.join(' ') : '';

    const shown = new Set();
    for (const [k, g] of groups) {
      const band = bands.get(k);
      g.PREPARING.sort(byToken);
      g.READY.sort((a, b) => b.readySeq - a.readySeq);
      for (const status of ['PREPARING', 'READY']) {
        fill(band.lists[status], g[status], shown, band.pages[status]);
        band.counts[status].textContent = g[status].length ? String(g[status].length) : '';
      }
    }
    fillPending(pending, shown);

    // Forget nodes of tokens no longer on screen.
    for (const t of nodes.keys()) if (!shown.has(t)) nodes.delete(t);
  }

  /** How many of items (already in list) fit inside the list's box. */
  function countFitting(list, items) {
    const limit = list.clientHeight + 1;
    const width = list.clientWidth + 1;
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (it.offsetTop + it.offsetHeight > limit || it.offsetLeft + it.offsetWidth > width) return i;
    }
    return items.length;
  }

  function pageState(list) {
    let st = paging.get(list);
    if (!st) {
      st = { page: 0, pages: 1, jumpedAt: 0 };
      paging.set(list, st);
    }
    return st;
  }

  /** A call shows page 1 again, but at most once a paging cycle: every page keeps its turn. */
  function backToFirstPage(list) {
    const st = pageState(list);
    if (st.page === 0 || st.pages < 2) return;
    const now = Date.now();
    if (now - st.jumpedAt < st.pages * PAGE_MS) return;
    st.jumpedAt = now;
    st.page = 0;
  }

  /*
   * Show recs in list: all of them if they fit (a busy list first gets
   * smaller tiles, down to the legible minimum), else one page of them.
   */
  const DENSITY = ['dense', 'denser'];
  function fill(list, recs, shown, pageLabel) {
    const items = [];
    const solo = list.dataset.status === 'READY' && recs.filter((r) => highlighted.has(r.token)).length === 1;
    for (const rec of recs) {
      const li = tokenNode(rec);
      const hl = highlighted.has(rec.token);
      if (hl && li.dataset.flash !== String(rec.flash)) {
        // (Re)start the animation: a recall of the same token flashes again.
        li.classList.remove('highlight');
        void li.offsetWidth;
        li.dataset.flash = String(rec.flash);
      }
      li.classList.toggle('highlight', hl);
      li.classList.toggle('solo', hl && solo);
      items.push(li);
    }
    TQ.reconcile(list, items);
    let fits = items.length;
    let level = 0;
    for (; level <= DENSITY.length; level++) {
      DENSITY.forEach((cls, i) => list.classList.toggle(cls, i === level - 1));
      fits = countFitting(list, items);
      if (fits >= items.length) break;
    }
    if (fits < items.length && solo) {
      // The big tile of a single call costs room: drop it before paging.
      for (const li of items) li.classList.remove('solo');
      fits = countFitting(list, items);
    }
    const st = pageState(list);
    let visible = items;
    let first = 0;
    if (fits < items.length) {
      const per = Math.max(1, fits);
      st.pages = Math.ceil(items.length / per);
      if (st.page >= st.pages) st.page = 0;
      first = st.page * per;
      visible = items.slice(first, first + per);
      TQ.reconcile(list, visible);
    } else {
      st.pages = 1;
      st.page = 0;
    }
    list.dataset.page = String(st.page + 1);
    list.dataset.pages = String(st.pages);
    pageLabel.hidden = st.pages < 2;
    pageLabel.textContent = st.pages < 2 ? '' : 'page ' + (st.page + 1) + ' of ' + st.pages;
    for (let i = 0; i < visible.length; i++) shown.add(recs[first + i].token);
  }

  /** The "Received" strip: a glance only, so it shows what fits and counts the rest. */
  let moreNode = null;
  function fillPending(recs, shown) {
    const items = recs.slice(0, MAX_PENDING_SHOWN).map(tokenNode);
    for (const li of items) li.classList.remove('highlight', 'solo');
    TQ.reconcile(pendingList, items);
    const fits = countFitting(pendingList, items);
    let visible = items;
    if (fits < recs.length) {
      const keep = Math.max(0, Math.min(fits, items.length) - 1);
      visible = items.slice(0, keep);
      if (!moreNode) moreNode = TQ.el('li', { class: 'more', 'aria-hidden': 'true' });
      moreNode.textContent = '+' + (recs.length - keep) + ' more';
      TQ.reconcile(pendingList, visible.concat(moreNode));
    }
    for (let i = 0; i < visible.length; i++) shown.add(recs[i].token);
  }

  function turnPages() {
    let any = false;
    for (const st of paging.values()) {
      if (st.pages < 2) continue;
      st.page = (st.page + 1) % st.pages;
      any = true;
    }
    if (any) scheduleRender();
  }

  /* ---------- sound ---------- */

  const audio = { ctx: null };
  const soundButton = $('sound-enable');

  /*
   * Sound works without a click when the browser allows it (a kiosk started
   * with --autoplay-policy=no-user-gesture-required): then the AudioContext
   * starts "running" and the button never shows.  Otherwise the button stays
   * on screen as a small hint until someone clicks or taps the board.
   */
  function initAudio() {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return;
    try {
      audio.ctx = new AC();
    } catch (e) {
      return;
    }
    const update = () => {
      const on = audio.ctx.state === 'running';
      soundButton.hidden = on;
      document.documentElement.dataset.sound = on ? 'on' : 'off';
      if (on && announcer.queue.length && !announcer.busy) nextAnnouncement();
    };
    audio.ctx.onstatechange = update;
    let allowed = false;
    try {
      allowed = typeof navigator.getAutoplayPolicy === 'function' && navigator.getAutoplayPolicy(audio.ctx) === 'allowed';
    } catch (e) {
      allowed = false;
    }
    if (allowed || audio.ctx.state !== 'running') audio.ctx.resume().then(update, () => {});
    update();
    // Browsers keep audio (and speech) off until the first user gesture.
    const unlock = () => {
      if (audio.ctx.state !== 'running') audio.ctx.resume().then(update, () => {});
    };
    soundButton.addEventListener('click', unlock);
    document.addEventListener('pointerdown', unlock, { passive: true });
    document.addEventListener('keydown', unlock);
  }

  function soundOn() {
    return audio.ctx && audio.ctx.state === 'running';
  }

  /** A two-note bell from oscillators (no audio file). */
  function chime() {
    if (!soundOn()) return;
    const ctx = audio.ctx;
    const t0 = ctx.currentTime + 0.03;
    const notes = [
      [659.25, 0],
      [987.77, 0.32],
    ];
    for (const [freq, at] of notes) {
      for (const [mult, vol, type] of [
        [1, 0.32, 'sine'],
        [2, 0.06, 'triangle'],
      ]) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = type;
        osc.frequency.value = freq * mult;
        gain.gain.setValueAtTime(0.0001, t0 + at);
        gain.gain.exponentialRampToValueAtTime(vol, t0 + at + 0.015);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + 1.1);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.onended = () => {
          osc.disconnect();
          gain.disconnect();
        };
        osc.start(t0 + at);
        osc.stop(t0 + at + 1.15);
      }
    }
  }

  /*
   * Announcements: a queue of every READY and every recall, spoken in order,
   * one at a time (each waits for the one before it to end), none dropped.
   * A burst gets one chime, then its tokens one after another.
   */
  const announcer = { queue: [], busy: false, guard: 0, utterance: null, lastEnd: 0 };

  function announce(token) {
    if (!soundOn()) return; // sound is locked: the highlight alone has to do
    if (announcer.queue.length >= MAX_ANNOUNCEMENTS) announcer.queue.shift();
    announcer.queue.push(token);
    if (!announcer.busy) nextAnnouncement();
  }

  function nextAnnouncement() {
    const token = announcer.queue.shift();
    if (token === undefined) {
      announcer.busy = false;
      announcer.lastEnd = Date.now();
      return;
    }
    announcer.busy = true;
    // A chime opens a burst; tokens that follow straight on are just spoken.
    const fresh = Date.now() - announcer.lastEnd > 3000;
    if (fresh || !VOICE) chime();
    const wait = fresh || !VOICE ? 1300 : 250;
    setTimeout(() => (VOICE ? speak(token) : afterAnnouncement()), wait);
  }

  function speak(token) {
    const synth = window.speechSynthesis;
    if (!synth || typeof SpeechSynthesisUtterance !== 'function') return afterAnnouncement();
    const u = new SpeechSynthesisUtterance('Token ' + TQ.spokenToken(token) + ', please collect');
    u.lang = 'en';
    u.rate = 0.9;
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      clearTimeout(announcer.guard);
      announcer.utterance = null;
      afterAnnouncement();
    };
    u.onend = end;
    u.onerror = end;
    // Keep a reference (Chrome may collect it and never fire onend), and do
    // not wait forever if onend never comes.
    announcer.utterance = u;
    announcer.guard = setTimeout(() => {
      synth.cancel();
      end();
    }, 15000);
    synth.speak(u);
  }

  function afterAnnouncement() {
    announcer.lastEnd = Date.now();
    setTimeout(nextAnnouncement, VOICE ? 350 : 800);
  }

  /* ---------- header: queue name and clock ---------- */

  let queueNamed = false;
  async function showQueueName() {
    const queues = await TQ.queues();
    if (!queues.length && !QUEUE) return; // not known yet: the next resync tries again
    queueNamed = true;
    queueList = queues;
    let name;
    if (QUEUE) {
      const q = queues.find((x) => x.prefix === QUEUE);
      name = q ? q.name : 'Queue ' + QUEUE;
    } else if (queues.length) {
      name = queues.map((q) => q.name).join(' · ');
    } else {
      name = 'Orders';
    }
    $('queue-name').textContent = name;
    boardTitle();
    scheduleRender();
  }

  /* The venue's name and logo before the queue's name, in the title too. */
  let venueName = '';
  function boardTitle() {
    document.title = (venueName ? venueName + ' · ' : '') + $('queue-name').textContent + ' — order board';
  }
  TQ.venue().then((v) => {
    venueName = TQ.brand(v, $('venue-name'), $('venue-logo'));
    boardTitle();
  }).catch((e) => console.warn('venue not shown', e));

  let clockText = '';
  function tickClock() {
    const now = new Date();
    const text = TQ.clock(now);
    if (text !== clockText) {
      clockText = text;
      const c = $('clock');
      c.textContent = text;
      c.dateTime = now.toISOString();
    }
  }

  /* ---------- start ---------- */

  /** A misconfigured screen (e.g. ?queue=Z unknown) says what is wrong, not "Reconnecting…". */
  async function showError(err) {
    const box = $('board-error');
    if (!err) {
      box.hidden = true;
      document.body.classList.remove('has-error');
      return;
    }
    let text = err.detail || err.title || err.message;
    if (err.code === 'unknown_queue') {
      const queues = await TQ.queues();
      $('board-error-title').textContent = 'Unknown queue “' + QUEUE + '”';
      if (queues.length) text += ' This venue’s queues: ' + queues.map((q) => q.prefix + ' (' + q.name + ')').join(', ') + '.';
    }
    $('board-error-detail').textContent = text + ' (' + err.status + ' ' + err.code + ')';
    box.hidden = false;
    document.body.classList.add('has-error');
  }

  const live = new TQ.Live({
    banner: $('status-banner'),
    resync: async () => {
      const r = await TQ.api('/api/board' + (QUEUE ? '?queue=' + encodeURIComponent(QUEUE) : ''));
      showError(null);
      applySnapshot(r.data);
      if (!queueNamed) await showQueueName();
      return Number(r.data && r.data.last_event_id) || 0;
    },
    onEvent: applyEvent,
    onFatal: showError,
  });

  initAudio();
  tickClock();
  setInterval(tickClock, 1000);
  setInterval(turnPages, PAGE_MS);
  buildBands();
  live.start();
  // Day changes without events, and anything missed: re-read now and then.
  setInterval(() => {
    if (live.up) live.runResync().catch(() => {});
  }, RESYNC_MS);
  window.addEventListener('resize', scheduleRender);
})();
