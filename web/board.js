/*
 * board.js: the display board for a TV (GET /).
 *
 * Reads /api/board (?queue=X when the page has ?queue=X), then follows
 * /api/events from its last_event_id.  Shows Preparing and Ready in large
 * type (and a small strip of orders just received), highlights a token that
 * turns READY or is recalled, plays a chime and, with ?voice=1, reads it aloud
 * ("Token A 42, please collect") one announcement at a time.
 *
 * It runs for days unattended, so everything it keeps is bounded: the tokens
 * it remembers (one business date, capped), the nodes it shows (at most 60 a
 * column, overflow counted as "+N more"), the announcement queue (8), and the
 * timers are fixed singletons.  Statuses only move forward, so an event or a
 * snapshot that arrives late never moves a token back.
 */
'use strict';

(function () {
  const params = new URLSearchParams(location.search);
  const QUEUE = (params.get('queue') || '').trim().toUpperCase() || null;
  const VOICE = params.get('voice') === '1';

  const MAX_SHOWN = 60; // per column
  const MAX_PENDING_SHOWN = 40;
  const MAX_REMEMBERED = 3000; // tokens of the day, finished ones included
  const HIGHLIGHT_MS = 10000;
  const RESYNC_MS = 5 * 60 * 1000;
  const MAX_ANNOUNCEMENTS = 8;

  const $ = (id) => document.getElementById(id);
  const lists = { PENDING: $('pending'), PREPARING: $('preparing'), READY: $('ready') };
  const counts = { PREPARING: $('count-preparing'), READY: $('count-ready') };
  const main = document.querySelector('.board-main');

  /* ---------- state ---------- */

  let businessDate = null;
  let snapshotId = 0; // last_event_id of the newest snapshot applied
  let loaded = false; // first snapshot applied (no announcements before it)
  let readySeq = 0; // orders the Ready column, newest on top
  let flashSeq = 0; // restarts the highlight animation on a recall
  const tokens = new Map(); // token -> {token, queue, status, ver, key, readySeq, flash}
  const nodes = new Map(); // token -> <li>, only for tokens on screen
  const moreNodes = new Map(); // list -> "+N more" <li>
  let highlight = null; // token highlighted now
  let highlightTimer = 0;
  let renderQueued = false;

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
    return status === FINISHED ? 4 : TQ.rank(status);
  }

  function remember(token, queue) {
    const rec = { token, queue: queue || sortKey(token).prefix, status: null, ver: 0, key: sortKey(token), readySeq: 0, flash: 0 };
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
    highlight = null;
    clearTimeout(highlightTimer);
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
    if (loaded) for (const t of newlyReady.slice(-MAX_ANNOUNCEMENTS)) callToken(t);
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
    if (type === 'recall') {
      if (rec.status === FINISHED) return;
      move(rec, 'READY', id);
      rec.readySeq = ++readySeq;
      callToken(rec.token);
    } else {
      const s = TQ.isOpen(d.status) ? d.status : FINISHED;
      if (rank(s) > rank(rec.status)) {
        if (move(rec, s, id)) callToken(rec.token);
      } else {
        rec.ver = Math.max(rec.ver, id || 0);
      }
    }
    scheduleRender();
  }

  /** Highlight a token that is ready for collection, and announce it. */
  function callToken(token) {
    const rec = tokens.get(token);
    if (!rec) return;
    rec.flash = ++flashSeq;
    highlight = token;
    clearTimeout(highlightTimer);
    highlightTimer = setTimeout(() => {
      highlight = null;
      scheduleRender();
    }, HIGHLIGHT_MS);
    announce(token);
    scheduleRender();
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
      li = TQ.el('li', { class: 'token' }, TQ.el('span', { class: 'token-text', text: rec.token }));
      nodes.set(rec.token, li);
    }
    return li;
  }

  function moreNode(list) {
    let li = moreNodes.get(list);
    if (!li) {
      li = TQ.el('li', { class: 'more', 'aria-hidden': 'true' });
      moreNodes.set(list, li);
    }
    return li;
  }

  function render() {
    renderQueued = false;
    const groups = { PENDING: [], PREPARING: [], READY: [] };
    for (const rec of tokens.values()) if (groups[rec.status]) groups[rec.status].push(rec);
    groups.PENDING.sort(byToken);
    groups.PREPARING.sort(byToken);
    groups.READY.sort((a, b) => b.readySeq - a.readySeq);

    // Layout first (it decides how many tiles fit), then fill.
    document.body.classList.toggle('has-pending', groups.PENDING.length > 0);
    // Portrait (stacked): share the height by how much each list holds.
    const readyWeight = groups.READY.length + (highlight ? 3 : 0);
    const share = Math.min(0.72, Math.max(0.35, (readyWeight + 1) / (readyWeight + groups.PREPARING.length + 2)));
    main.style.setProperty('--ready-share', (share * 100).toFixed(1) + 'fr');
    main.style.setProperty('--prep-share', ((1 - share) * 100).toFixed(1) + 'fr');

    const shown = new Set();
    fill(lists.PREPARING, groups.PREPARING, MAX_SHOWN, shown, true);
    fill(lists.READY, groups.READY, MAX_SHOWN, shown, true);
    fill(lists.PENDING, groups.PENDING, MAX_PENDING_SHOWN, shown, false);
    counts.PREPARING.textContent = groups.PREPARING.length ? String(groups.PREPARING.length) : '';
    counts.READY.textContent = groups.READY.length ? String(groups.READY.length) : '';

    // Forget nodes of tokens no longer on screen.
    for (const t of nodes.keys()) if (!shown.has(t)) nodes.delete(t);
  }

  /** How many of items (already in list) fit inside the list's box. */
  function countFitting(list, items) {
    const limit = list.clientHeight + 1;
    for (let i = 0; i < items.length; i++) {
      if (items[i].offsetTop + items[i].offsetHeight > limit) return i;
    }
    return items.length;
  }

  /*
   * Show recs in list, as many as fit (at most max), the rest as "+N more".
   * A busy column first gets smaller tiles (density levels), so a full
   * counter still shows most of its numbers.
   */
  const DENSITY = ['dense', 'denser'];
  function fill(list, recs, max, shown, densify) {
    const items = [];
    for (const rec of recs.slice(0, max)) {
      const li = tokenNode(rec);
      const hl = rec.token === highlight;
      if (hl && li.dataset.flash !== String(rec.flash)) {
        // (Re)start the animation: a recall of the same token flashes again.
        li.classList.remove('highlight');
        void li.offsetWidth;
        li.dataset.flash = String(rec.flash);
      }
      li.classList.toggle('highlight', hl);
      items.push(li);
    }
    TQ.reconcile(list, items);
    let fits = items.length;
    for (let level = 0; level <= (densify ? DENSITY.length : 0); level++) {
      DENSITY.forEach((cls, i) => list.classList.toggle(cls, i === level - 1));
      fits = countFitting(list, items);
      if (fits >= items.length && recs.length <= max) break;
    }
    let visible = items;
    if (fits < recs.length) {
      const keep = Math.max(0, Math.min(fits, items.length) - 1);
      visible = items.slice(0, keep);
      const more = moreNode(list);
      more.textContent = '+' + (recs.length - keep) + ' more';
      TQ.reconcile(list, visible.concat(more));
    }
    for (let i = 0; i < visible.length; i++) shown.add(recs[i].token);
  }

  /* ---------- sound ---------- */

  const audio = { ctx: null };
  const soundButton = $('sound-enable');

  function initAudio() {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return;
    try {
      audio.ctx = new AC();
    } catch (e) {
      return;
    }
    const update = () => {
      soundButton.hidden = audio.ctx.state === 'running';
    };
    audio.ctx.onstatechange = update;
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

  /* Announcements: one at a time, none cuts another off, bounded, no duplicates. */
  const announcer = { queue: [], current: null, busy: false, guard: 0, utterance: null };

  function announce(token) {
    if (!soundOn()) return; // sound is locked: the highlight alone has to do
    if (announcer.current === token || announcer.queue.includes(token)) return;
    if (announcer.queue.length >= MAX_ANNOUNCEMENTS) announcer.queue.shift();
    announcer.queue.push(token);
    if (!announcer.busy) nextAnnouncement();
  }

  function nextAnnouncement() {
    const token = announcer.queue.shift();
    if (token === undefined) {
      announcer.busy = false;
      announcer.current = null;
      return;
    }
    announcer.busy = true;
    announcer.current = token;
    chime();
    setTimeout(() => (VOICE ? speak(token) : afterAnnouncement()), 1300);
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
    }, 12000);
    synth.speak(u);
  }

  function afterAnnouncement() {
    setTimeout(nextAnnouncement, 800);
  }

  /* ---------- header: queue name and clock ---------- */

  let queueNamed = false;
  async function showQueueName() {
    const queues = await TQ.queues();
    if (!queues.length && !QUEUE) return; // not known yet: the next resync tries again
    queueNamed = true;
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
    document.title = name + ' — order board';
  }

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

  function showError(err) {
    // A misconfigured screen (e.g. ?queue=Z unknown) says so on screen.
    const el = $('board-date');
    if (err && err.code === 'unknown_queue') el.textContent = 'Unknown queue “' + QUEUE + '”';
  }

  const live = new TQ.Live({
    banner: $('status-banner'),
    resync: async () => {
      try {
        const r = await TQ.api('/api/board' + (QUEUE ? '?queue=' + encodeURIComponent(QUEUE) : ''));
        applySnapshot(r.data);
        if (!queueNamed) showQueueName();
        return Number(r.data && r.data.last_event_id) || 0;
      } catch (e) {
        showError(e);
        throw e;
      }
    },
    onEvent: applyEvent,
  });

  initAudio();
  tickClock();
  setInterval(tickClock, 1000);
  live.start();
  // Day changes without events, and anything missed: re-read now and then.
  setInterval(() => {
    if (live.up) live.runResync().catch(() => {});
  }, RESYNC_MS);
  window.addEventListener('resize', scheduleRender);
})();
