/*
 * staff-session.js: the staff console's API key (GET /staff).  The first of
 * the console's scripts; it defines TQ.staff and TQ.staff.session:
 *
 *  - Sign-in: asks once for an API key, keeps it in localStorage, sends it as
 *    "Authorization: Bearer KEY" on every call; a 401 asks again, a 403 says
 *    the key's role may not do that.  Keys belong to a venue, so each venue
 *    keeps its own: "tokenq.apiKey" for the venue main (the name from before
 *    venues, so a till keeps its key; /staff and /v/main/staff share it),
 *    "tokenq.apiKey:/v/{slug}" for any other.
 *  - What the key may do is learnt from two reads (GET /api/stats:
 *    staff/admin; GET /metrics: admin), kept in session.can; staff.js hides
 *    what it may not do.
 *  - Toasts: short messages in the corner.
 *
 * staff.js sets session.onSignIn (a key was accepted) and session.onSignOut.
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const KEY_STORE = TQ.slug === 'main' ? 'tokenq.apiKey' : 'tokenq.apiKey:' + TQ.base;
  const params = new URLSearchParams(location.search);

  const session = {
    key: localStorage.getItem(KEY_STORE) || '',
    can: { create: true, move: true }, // until the probe says otherwise
    onSignIn: async () => {},
    onSignOut: () => {},
    call,
    toast,
    showSignin,
    probeRole,
  };

  TQ.staff = {
    /** ?queue=X: the console shows that queue only */
    QUEUE: (params.get('queue') || '').trim().toUpperCase() || null,
    session,
  };

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
   * opts.what names what is being done, for the 403 message: a status moved
   * to, or a key of ROLE_DENIED.
   */
  async function call(path, opts) {
    const o = Object.assign({}, opts || {}, { key: session.key });
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
      session.key = key;
      localStorage.setItem(KEY_STORE, key);
      $('signin').hidden = true;
      document.body.classList.remove('signed-out');
      await session.onSignIn();
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
    session.key = '';
    session.onSignOut();
    showSignin('');
  });

  /*
   * What may this key do?  Read-only probes whose answers the contract fixes:
   * /api/stats is staff/admin, /metrics is admin only; pos may create but
   * not move, staff may move but not create.  No answer (network): assume all.
   * Sets session.can and returns the role's name ('' if none fits).
   */
  async function probeRole() {
    let stats = true;
    let metrics = true;
    try {
      await TQ.api('/api/stats', { key: session.key });
    } catch (e) {
      if (e.status === 403) stats = false;
    }
    if (stats) {
      try {
        await TQ.api('/metrics', { key: session.key, headers: { Accept: 'text/plain' } });
      } catch (e) {
        if (e.status === 403) metrics = false;
      }
    }
    const can = { move: stats, create: !stats || metrics };
    session.can = can;
    return can.move && can.create ? 'admin' : can.move ? 'staff' : can.create ? 'pos' : '';
  }
})();
