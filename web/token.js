/*
 * token.js: the customer's own page (GET /t/{token}[?date=YYYY-MM-DD], or
 * /v/{slug}/t/{token} for a venue's).
 *
 * Shows the token, its status in words, the orders ahead and the estimated
 * wait from GET /api/tokens/{token} (public).  Live: on any event of the
 * same queue and business date it re-reads the token, at most once a
 * second.  When the order turns READY the phone vibrates and, if the
 * customer allowed it, a notification is shown.
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const DATE = /^\d{4}-\d{2}-\d{2}$/.test(params.get('date') || '') ? params.get('date') : null;
  const TOKEN = (() => {
    const m = /^\/t\/([^/]+)\/?$/.exec(TQ.pagePath());
    try {
      return m ? decodeURIComponent(m[1]).trim().toUpperCase() : '';
    } catch (e) {
      return '';
    }
  })();

  let current = null; // the last /api/tokens answer
  let lastFetch = 0;
  let fetchTimer = 0;

  $('token').textContent = TOKEN || '—';
  document.title = (TOKEN || 'Your order') + ' — order status';

  async function fetchToken() {
    lastFetch = Date.now();
    const url = '/api/tokens/' + encodeURIComponent(TOKEN) + (DATE ? '?date=' + DATE : '');
    try {
      const r = await TQ.api(url);
      show(r.data);
    } catch (e) {
      if (e.status === 404 || e.status === 422) showMissing();
      else throw e;
    }
  }

  /** Re-read the token, at most once a second (trailing call kept). */
  function refetchSoon() {
    if (fetchTimer) return;
    const wait = Math.max(0, lastFetch + 1000 - Date.now());
    fetchTimer = setTimeout(() => {
      fetchTimer = 0;
      fetchToken().catch(() => {});
    }, wait);
  }

  function show(t) {
    const before = current && current.status;
    current = t;
    $('not-found').hidden = true;
    $('card').hidden = false;
    $('token').textContent = t.token;
    const status = $('status');
    status.textContent = TQ.status.words(t.status);
    status.dataset.status = t.status;
    $('card').dataset.status = t.status;
    $('card').dataset.step = String(TQ.status.step(t.status));

    const waiting = TQ.status.isWaiting(t.status);
    $('ahead').textContent = waiting ? String(t.ahead) : '0';
    $('ahead-row').hidden = !waiting;
    $('ahead-row').classList.toggle('next', waiting && t.ahead === 0);
    if (waiting && t.ahead === 0) $('ahead').dataset.note = 'You’re next';
    else delete $('ahead').dataset.note;
    const eta = waiting && typeof t.eta_seconds === 'number' ? etaText(t.eta_seconds) : '';
    // Reads "about 4 min"; "about" sits small on its own line.
    $('eta').replaceChildren(...(eta ? [TQ.el('span', { class: 'eta-about', text: 'about' }), ' ' + eta] : []));
    $('eta-row').hidden = !eta;
    // The total, when the server tells it, in the venue's currency.
    const total = typeof t.total === 'number' && isFinite(t.total);
    $('total').textContent = total ? TQ.money(t.total) : '';
    $('total-row').hidden = !total;

    if (t.updated_at) {
      $('updated-line').hidden = false;
      const u = $('updated');
      u.dateTime = t.updated_at;
      u.textContent = TQ.clock(t.updated_at);
    }
    document.title = (t.status === 'READY' ? '✔ Ready — ' : '') + t.token + ' — order status';
    $('notify').hidden = !(waiting && canAskToNotify());
    if (t.status === 'READY' && before && before !== 'READY') alertReady(t.token);
    showQueue(t.queue);
  }

  function etaText(sec) {
    const min = Math.max(1, Math.round(sec / 60));
    if (min < 60) return min + ' min';
    return TQ.duration(sec);
  }

  function showMissing() {
    current = null;
    $('card').hidden = true;
    $('not-found').hidden = false;
    $('notify').hidden = true;
    $('missing-token').textContent = TOKEN;
    if (DATE) $('not-found').querySelector('h1').textContent = 'We can’t find this token for ' + TQ.longDate(DATE);
  }

  let queueShown = null;
  async function showQueue(prefix) {
    if (queueShown === prefix) return;
    queueShown = prefix;
    const queues = await TQ.queues();
    const q = queues.find((x) => x.prefix === prefix);
    $('queue-name').textContent = q ? q.name : '';
  }

  /* ---------- telling the customer ---------- */

  function canAskToNotify() {
    return 'Notification' in window && window.isSecureContext && Notification.permission === 'default';
  }

  $('notify').addEventListener('click', async () => {
    try {
      await Notification.requestPermission();
    } catch (e) {
      /* older browsers: callback form; not worth it */
    }
    $('notify').hidden = true;
  });

  function alertReady(token, recalled) {
    const card = $('card');
    card.classList.remove('called');
    void card.offsetWidth;
    card.classList.add('called');
    card.dataset.alerts = String(Number(card.dataset.alerts || 0) + 1);
    if (recalled) $('status').textContent = 'Called again — please collect now';
    try {
      if (navigator.vibrate) navigator.vibrate([300, 150, 300, 150, 300]);
    } catch (e) {
      /* not allowed without a tap: fine */
    }
    try {
      if ('Notification' in window && Notification.permission === 'granted' && document.visibilityState !== 'visible') {
        new Notification('Order ' + token + (recalled ? ' — you are called again' : ' is ready'), { body: 'Please collect it at the counter.', tag: 'tokenq-' + token, renotify: true });
      }
    } catch (e) {
      /* Android needs a service worker for this: the page itself still shows it */
    }
  }

  /* ---------- live ---------- */

  const live = new TQ.Live({
    banner: $('status-banner'),
    resync: async () => {
      const [board] = await Promise.all([TQ.api('/api/board'), fetchToken()]);
      return Number(board.data && board.data.last_event_id) || 0;
    },
    onEvent: (type, d) => {
      if (!d) return;
      // A recall: the customer did not come; tell the phone again.
      if (type === 'recall' && current && d.token === current.token && d.business_date === current.business_date) alertReady(current.token, true);
      if (current) {
        if (d.queue === current.queue && d.business_date === current.business_date) refetchSoon();
      } else if (d.token === TOKEN) {
        refetchSoon();
      }
    },
  });

  /* ---------- the venue ---------- */

  /** Its logo and name above the card, its accent as the phone's theme colour. */
  function showVenue(v) {
    const name = TQ.brand(v, $('venue-name'), $('venue-logo'));
    $('venue').hidden = !name && !$('venue-logo').getAttribute('src');
    const meta = document.querySelector('meta[name="theme-color"]');
    if (meta && document.documentElement.dataset.accent) meta.content = document.documentElement.dataset.accent;
  }

  // The venue first: amounts are in its currency from the first answer.
  const venueRead = TQ.venue()
    .then(showVenue)
    .catch((e) => console.warn('venue not shown', e));
  if (!TOKEN) {
    showMissing();
  } else {
    venueRead.then(() => live.start());
  }
})();
