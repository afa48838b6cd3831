/*
 * common.js: what the board, the staff console and the customer page share.
 * Loaded before each page's own script; it defines one global, `TQ`:
 *
 *   TQ.base / TQ.slug      the venue the page is served for: a page under
 *                          /v/{slug}/ has TQ.base "/v/{slug}" and TQ.slug
 *                          slug; an unprefixed page is the venue "main", with
 *                          TQ.base "".
 *   TQ.venue()             the venue's settings (GET /api/venues/{slug}: name,
 *                          currency, accent, logo...), read once per page; a
 *                          promise of the object, or of null when the server
 *                          does not tell (then money is in USD and the page
 *                          keeps its own name and colours).  On arrival the
 *                          accent becomes --accent on :root and TQ.money
 *                          switches to the venue's currency.
 *   TQ.brand(v, name, logo) show the venue's name in the element name and
 *                          its logo in the <img> logo (hidden when it has none).
 *   TQ.url(path)           a path of the venue ("/api/board", "/t/A-001") as
 *                          this page must ask for it: TQ.base + path.  Every
 *                          API call, the event stream and every link to
 *                          another page go through it; /assets/ is shared by
 *                          every venue and stays as it is.
 *   TQ.api(path, opts)     fetch JSON with a timeout; a non-2xx answer throws a
 *                          TQ.ApiError built from the application/problem+json
 *                          body (status, code, title, detail, field); a network
 *                          failure throws one with status 0 and code "network".
 *   TQ.Live                the event stream (/api/events) kept alive for days:
 *                          reconnects, catches up, watches for silence, and
 *                          drives the "Reconnecting…" banner.
 *   TQ.el / TQ.svg         tiny DOM builders (no innerHTML anywhere: the pages
 *                          run under a strict Content-Security-Policy and show
 *                          text typed by customers and staff).
 *   TQ.reconcile           put a list of nodes into a parent, moving only what
 *                          moved (keeps focus and running animations intact).
 *   formatting helpers     money (TQ.money, TQ.moneyDigits, TQ.parseMoney in the
 *                          venue's currency), clock times, ages, durations,
 *                          token speech.
 *
 * An order's statuses and what follows from them are in status.js (TQ.status).
 */
'use strict';

(function () {
  const TQ = {};

  /* ---------- the venue ---------- */

  // A slug: 1-32 of a-z, 0-9 and -, starting with a letter.
  const venueMatch = /^\/v\/([a-z][a-z0-9-]{0,31})(?=\/|$)/.exec(location.pathname);
  TQ.slug = venueMatch ? venueMatch[1] : 'main';
  TQ.base = venueMatch ? '/v/' + venueMatch[1] : '';
  /** "/api/board" -> "/v/mg-road/api/board" on a page of /v/mg-road/ (as is elsewhere). */
  TQ.url = (path) => (typeof path === 'string' && path[0] === '/' && path[1] !== '/' ? TQ.base + path : path);
  /** The page's path inside its venue: "/v/mg-road/t/A-001" -> "/t/A-001". */
  TQ.pagePath = () => location.pathname.slice(TQ.base.length) || '/';

  /* ---------- HTTP ---------- */

  class ApiError extends Error {
    constructor(status, problem) {
      const p = problem || {};
      super(p.detail || p.title || (status ? 'HTTP ' + status : 'Network error'));
      this.name = 'ApiError';
      this.status = status;
      this.code = p.code || (status ? 'http_' + status : 'network');
      this.title = p.title || '';
      this.detail = p.detail || '';
      this.field = p.field || null;
      this.network = status === 0;
    }
  }
  TQ.ApiError = ApiError;

  /**
   * TQ.api(path, {method, body, key, headers, timeoutMs}) -> {status, data, headers}
   * path: the venue's ("/api/orders"), fetched at TQ.url(path).
   * body: an object (sent as JSON) or a string (sent as is, as JSON).
   * key: API key for "Authorization: Bearer".  data is parsed JSON, or text
   * when the answer is not JSON.  Throws ApiError on anything but 2xx.
   */
  TQ.api = async function api(path, opts) {
    const o = opts || {};
    const headers = Object.assign({ Accept: 'application/json' }, o.headers || {});
    let body;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['Content-Type'] = 'application/json';
    }
    if (o.key) headers.Authorization = 'Bearer ' + o.key;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), o.timeoutMs || 15000);
    let res;
    try {
      res = await fetch(TQ.url(path), {
        method: o.method || 'GET',
        headers,
        body,
        cache: 'no-store',
        credentials: 'same-origin',
        signal: ctl.signal,
      });
    } catch (e) {
      clearTimeout(timer);
      throw new ApiError(0, { detail: 'Cannot reach the server. Check the connection and try again.' });
    }
    let data = null;
    try {
      const type = res.headers.get('Content-Type') || '';
      if (/json/i.test(type)) data = await res.json();
      else data = await res.text();
    } catch (e) {
      data = null;
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      const problem = data && typeof data === 'object' ? data : { title: res.statusText };
      throw new ApiError(res.status, problem);
    }
    return { status: res.status, data, headers: res.headers };
  };

  /* ---------- DOM ---------- */

  /** TQ.el('p', {class: 'x', dataset: {id: 1}, text: 'hi'}, child, ...) */
  TQ.el = function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const c of children) append(node, c);
    return node;
  };

  const SVGNS = 'http://www.w3.org/2000/svg';
  /** TQ.svg('rect', {x: 1, y: 2, width: 3, height: 4, class: 'bar'}) */
  TQ.svg = function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVGNS, tag);
    setAttrs(node, attrs);
    for (const c of children) append(node, c);
    return node;
  };

  function setAttrs(node, attrs) {
    if (!attrs) return;
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') node.textContent = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k === 'class') node.setAttribute('class', v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  function append(node, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach((x) => append(node, x));
    else node.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }

  /** Make parent's children exactly `nodes`, in order, moving as little as possible. */
  TQ.reconcile = function reconcile(parent, nodes) {
    let cur = parent.firstChild;
    for (const n of nodes) {
      if (n === cur) cur = cur.nextSibling;
      else parent.insertBefore(n, cur);
    }
    while (cur) {
      const next = cur.nextSibling;
      parent.removeChild(cur);
      cur = next;
    }
  };

  /* ---------- formatting ---------- */

  /*
   * Money is in the venue's currency, with as many decimals as it has minor
   * units (Intl knows them: 2 for USD, 0 for JPY, 3 for KWD); USD until the
   * venue is read, or when it cannot be.
   */
  let money = currencyFormat(undefined, 'USD');
  function currencyFormat(lang, currency) {
    let fmt;
    try {
      fmt = new Intl.NumberFormat(lang, { style: 'currency', currency });
    } catch (e) {
      return null; // a malformed code or language tag
    }
    const digits = fmt.resolvedOptions().maximumFractionDigits;
    return { fmt, digits, scale: 10 ** digits };
  }
  /** 12345 (minor units) -> "$123.45"; 700 in JPY -> "¥700" */
  TQ.money = (minor) => money.fmt.format((Number(minor) || 0) / money.scale);
  /** The decimals of the currency: 2, or 0 for JPY, 3 for KWD. */
  TQ.moneyDigits = () => money.digits;
  /** Minor units as the number typed in a price box: 450 -> "4.50" (JPY: 450 -> "450"). */
  TQ.moneyInput = (minor) => ((Number(minor) || 0) / money.scale).toFixed(money.digits);
  /**
   * What staff type in a price box, in minor units: "12", "12.5", "12,50" ->
   * 1200, 1250, 1250 (in JPY "700" -> 700, and no decimals); NaN if not money.
   */
  TQ.parseMoney = (text) => {
    const s = String(text).trim().replace(/\s/g, '');
    const d = money.digits;
    const m = (d > 0 ? new RegExp('^(\\d{1,9})(?:[.,](\\d{1,' + d + '}))?$') : /^(\d{1,9})$/).exec(s);
    if (!m) return NaN;
    return Number(m[1]) * money.scale + Number((m[2] || '').padEnd(d, '0') || 0);
  };

  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const timeSecFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  /** RFC 3339 string or Date -> local "08:15" */
  TQ.clock = (t, withSeconds) => {
    const d = t instanceof Date ? t : new Date(t);
    if (isNaN(d)) return '';
    return (withSeconds ? timeSecFmt : timeFmt).format(d);
  };

  /** "2026-11-27" -> "Fri 27 Nov 2026" (no time-zone shift: it is a calendar date) */
  TQ.longDate = (ymd) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || '');
    if (!m) return ymd || '';
    const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], 12));
    return new Intl.DateTimeFormat(undefined, {
      weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC',
    }).format(d);
  };

  /** seconds -> "45 s", "4 min", "1 h 05 min" */
  TQ.duration = (sec) => {
    if (sec === null || sec === undefined || !isFinite(sec)) return '–';
    sec = Math.max(0, Math.round(sec));
    if (sec < 60) return sec + ' s';
    const min = Math.round(sec / 60);
    if (min < 60) return min + ' min';
    return Math.floor(min / 60) + ' h ' + String(min % 60).padStart(2, '0') + ' min';
  };

  /** age of a timestamp, short: "now", "3 min", "1 h 20 min" */
  TQ.age = (t, now) => {
    const ms = (now || Date.now()) - new Date(t).getTime();
    if (!isFinite(ms)) return '';
    if (ms < 60000) return 'now';
    return TQ.duration(ms / 1000);
  };

  /** "A-042" -> "A 42", "TX-007" -> "T X 7": how a token is read aloud */
  TQ.spokenToken = (token) => {
    const m = /^([A-Za-z]+)-0*(\d+)$/.exec(token || '');
    if (!m) return token;
    return m[1].toUpperCase().split('').join(' ') + ' ' + m[2];
  };

  /** An Idempotency-Key; crypto.randomUUID exists only on https/localhost. */
  TQ.uuid = () => {
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  };

  /** GET /api/queues once; [] when the server has no such route. */
  let queuesPromise = null;
  TQ.queues = () => {
    if (!queuesPromise) {
      queuesPromise = TQ.api('/api/queues')
        .then((r) => (r.data && Array.isArray(r.data.queues) ? r.data.queues : []))
        .catch(() => {
          queuesPromise = null; // try again next time
          return [];
        });
    }
    return queuesPromise;
  };

  /* ---------- the venue's name, colour and logo ---------- */

  let venuePromise = null;
  TQ.venue = () => {
    if (!venuePromise) {
      venuePromise = TQ.api('/api/venues/' + TQ.slug, { timeoutMs: 5000 })
        .then((r) => (r.data && typeof r.data === 'object' ? applyVenue(r.data) : null))
        .catch(() => null); // no such route, or no answer: the defaults stay
    }
    return venuePromise;
  };

  function applyVenue(v) {
    const cur = typeof v.currency === 'string' && /^[A-Z]{3}$/.test(v.currency) ? v.currency : null;
    const lang = typeof v.language === 'string' && v.language ? v.language : undefined;
    if (cur) money = currencyFormat(lang, cur) || currencyFormat(undefined, cur) || money;
    const accent = typeof v.accent === 'string' ? hexColour(v.accent) : null;
    if (accent) {
      const root = document.documentElement;
      root.style.setProperty('--accent', v.accent);
      // Text on the accent, and the accent as text on white, both >= 4.5:1.
      root.style.setProperty('--accent-fg', contrast(accent, [255, 255, 255]) >= 4.5 ? '#fff' : '#0f172a');
      root.style.setProperty('--accent-ink', inkOnWhite(accent));
      root.dataset.accent = v.accent;
    }
    return v;
  }

  /** "#aa3300" or "#a30" -> [170, 51, 0]; null for anything else. */
  function hexColour(s) {
    let m = /^#([0-9a-f]{6})$/i.exec(s);
    if (!m && /^#[0-9a-f]{3}$/i.test(s)) m = [s, s[1] + s[1] + s[2] + s[2] + s[3] + s[3]];
    if (!m) return null;
    const n = parseInt(m[1], 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  function luminance(rgb) {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]);
  }
  function contrast(a, b) {
    const x = luminance(a);
    const y = luminance(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  /** The colour, darkened until it reads on white (4.5:1), as rgb(). */
  function inkOnWhite(rgb) {
    let c = rgb;
    for (let k = 1; contrast(c, [255, 255, 255]) < 4.5 && k < 20; k++) c = rgb.map((v) => Math.round(v * (1 - k * 0.05)));
    return 'rgb(' + c.join(', ') + ')';
  }

  /**
   * TQ.brand(v, nameEl, logoEl): the venue's name as nameEl's text (shown),
   * its logo in the <img> logoEl with the name as alt; logoEl stays hidden
   * when there is no logo or it fails to load.  Returns the name, or '' when
   * v has none.
   */
  TQ.brand = (v, nameEl, logoEl) => {
    const name = v && typeof v.name === 'string' ? v.name.trim() : '';
    if (name && nameEl) {
      nameEl.textContent = name;
      nameEl.hidden = false;
    }
    // Only the server's own path: the pages may load images from it alone.
    const logo = v && typeof v.logo === 'string' && /^\/(?!\/)/.test(v.logo) ? v.logo : null;
    if (logo && logoEl) {
      logoEl.addEventListener('error', () => (logoEl.hidden = true), { once: true });
      logoEl.addEventListener('load', () => (logoEl.hidden = false), { once: true });
      logoEl.alt = name || TQ.slug;
      logoEl.src = logo;
    }
    return name;
  };

  /* ---------- the event stream ---------- */

  /**
   * new TQ.Live({resync, onEvent, onState, banner, path})
   *
   * path: the stream, "/api/events" unless given (the venue's: see TQ.url).
   * resync(): async; the page re-reads its authoritative state (e.g.
   *   /api/board) and returns the last_event_id that state includes, or
   *   null/undefined to start the stream live.  Called before the first
   *   connection, after every reconnection, and when the stream looks stale.
   * onEvent(type, data, id): an event ("token" or "recall"), each id once.
   * onState(up): the stream went up (true) or down (false).
   * onFatal(err): resync was refused with a 4xx (a wrong ?queue=...): the page
   *   shows the server's message; no banner, a quiet retry a minute later.
   * banner: element shown while down (its `hidden` attribute is toggled).
   *
   * Failure handling:
   *  - the browser's EventSource retries by itself after a network error
   *    (readyState CONNECTING), sending Last-Event-ID, so it catches up;
   *  - if it gives up (CLOSED, e.g. the server answered 503) we retry with
   *    backoff 1 s .. 30 s, resyncing first and resuming from its last id;
   *  - EventSource hides SSE comments, so the server's ": ping" heartbeat is
   *    invisible here.  After 45 s without an event we probe /api/board: if
   *    its last_event_id is beyond what we saw, the stream silently died and
   *    we rebuild it; if the probe fails, the server is unreachable and we
   *    show the banner and go to the backoff path.
   */
  class Live {
    constructor(opts) {
      this.resync = opts.resync;
      this.onEvent = opts.onEvent || (() => {});
      this.onState = opts.onState || (() => {});
      this.onFatal = opts.onFatal || null;
      this.banner = opts.banner || null;
      this.path = opts.path || '/api/events';
      this.silenceMs = opts.silenceMs || 45000;
      this.es = null;
      this.lastId = 0;
      this.up = null; // null: never connected yet
      this.retryMs = 1000;
      this.retryTimer = 0;
      this.watchdog = 0;
      this.downGuard = 0;
      this.syncing = null;
      this.opened = false;
      this.stopped = false;
      this.types = ['token', 'recall', 'message'];
      this.handleMessage = this.handleMessage.bind(this);
      window.addEventListener('online', () => {
        if (this.up === false && !this.es) this.connectNow();
      });
    }

    start() {
      this.connectNow();
    }

    /** Resync then open a fresh EventSource; on failure, back off. */
    async connectNow() {
      clearTimeout(this.retryTimer);
      this.retryTimer = 0;
      this.closeStream();
      let from;
      try {
        from = await this.runResync();
      } catch (e) {
        if (this.onFatal && Live.isFatal(e)) {
          // The server answered, and says this page asks for something
          // wrong (e.g. 422 unknown_queue): show that, not "Reconnecting…",
          // and look again now and then in case the settings change.
          if (this.banner) this.banner.hidden = true;
          document.documentElement.dataset.stream = 'refused';
          try {
            this.onFatal(e);
          } catch (err) {
            console.warn('fatal handler failed', err);
          }
          this.retryTimer = setTimeout(() => this.connectNow(), 60000);
          return;
        }
        this.setUp(false);
        this.scheduleRetry();
        return;
      }
      if (this.stopped) return;
      this.open(from);
    }

    runResync() {
      // One resync at a time; a caller during one waits for it.
      if (!this.syncing) {
        this.syncing = Promise.resolve()
          .then(() => this.resync())
          .finally(() => {
            this.syncing = null;
          });
      }
      return this.syncing;
    }

    open(from) {
      const hasId = typeof from === 'number' && isFinite(from) && from >= 0;
      if (hasId) this.lastId = Math.max(this.lastId, from);
      const path = TQ.url(this.path);
      const url = hasId ? path + '?last_event_id=' + from : path;
      const es = new EventSource(url);
      this.es = es;
      this.opened = false;
      for (const t of this.types) es.addEventListener(t, this.handleMessage);
      es.onopen = () => {
        if (es !== this.es) return;
        const reconnected = this.opened; // the browser's own retry succeeded
        this.opened = true;
        this.retryMs = 1000;
        clearTimeout(this.downGuard);
        this.downGuard = 0;
        this.setUp(true);
        this.armWatchdog();
        // After the browser's own retry, what we show may be stale: resync.
        // (A connection we opened ourselves was preceded by a resync.)
        if (reconnected) this.runResync().catch(() => {});
      };
      es.onerror = () => {
        if (es !== this.es) return;
        clearTimeout(this.watchdog);
        this.setUp(false);
        if (es.readyState === EventSource.CLOSED) {
          this.closeStream();
          this.scheduleRetry();
        } else if (!this.downGuard) {
          // The browser is retrying; if that drags on, take over.
          this.downGuard = setTimeout(() => {
            this.downGuard = 0;
            if (es === this.es && es.readyState !== EventSource.OPEN) this.connectNow();
          }, this.silenceMs);
        }
      };
    }

    handleMessage(e) {
      if (e.target !== this.es) return;
      let data;
      try {
        data = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      const id = Number(e.lastEventId || (data && data.event_id)) || 0;
      if (id && id <= this.lastId) return; // already seen
      if (id) this.lastId = id;
      if (this.up !== true) this.setUp(true);
      this.armWatchdog();
      const type = e.type === 'message' ? (data && data.event) || 'token' : e.type;
      try {
        this.onEvent(type, data, id);
      } catch (err) {
        console.warn('event handler failed', err);
      }
    }

    armWatchdog() {
      clearTimeout(this.watchdog);
      this.watchdog = setTimeout(() => this.probe(), this.silenceMs);
    }

    async probe() {
      const es = this.es;
      if (!es || es.readyState !== EventSource.OPEN) return;
      try {
        const r = await TQ.api('/api/board', { timeoutMs: 10000 });
        if (es !== this.es) return;
        const latest = Number(r.data && r.data.last_event_id) || 0;
        if (latest > this.lastId) this.connectNow(); // the stream missed events
        else this.armWatchdog();
      } catch (e) {
        if (es !== this.es) return;
        this.setUp(false);
        this.closeStream();
        this.scheduleRetry();
      }
    }

    scheduleRetry() {
      if (this.stopped || this.retryTimer) return;
      const wait = this.retryMs * (0.8 + Math.random() * 0.4);
      this.retryMs = Math.min(30000, Math.round(this.retryMs * 1.7));
      this.retryTimer = setTimeout(() => {
        this.retryTimer = 0;
        this.connectNow();
      }, wait);
    }

    closeStream() {
      clearTimeout(this.watchdog);
      clearTimeout(this.downGuard);
      this.watchdog = this.downGuard = 0;
      if (this.es) {
        const es = this.es;
        this.es = null;
        es.onopen = es.onerror = null;
        for (const t of this.types) es.removeEventListener(t, this.handleMessage);
        es.close();
      }
    }

    setUp(up) {
      if (this.up === up) return;
      this.up = up;
      if (this.banner) this.banner.hidden = up;
      document.documentElement.classList.toggle('is-offline', !up);
      document.documentElement.dataset.stream = up ? 'up' : 'down'; // a hook for tests
      try {
        this.onState(up);
      } catch (err) {
        console.warn('state handler failed', err);
      }
    }

    /** An answer that a retry will not change: a 4xx other than 401/408/429. */
    static isFatal(e) {
      return !!e && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 408 && e.status !== 429;
    }

    stop() {
      this.stopped = true;
      clearTimeout(this.retryTimer);
      this.closeStream();
    }
  }
  TQ.Live = Live;

  window.TQ = TQ;
})();
