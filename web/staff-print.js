/*
 * staff-print.js: printing an order's ticket from the staff console, for a
 * card's "Ticket" button and the new order's "Print ticket".  Defines
 * TQ.staff.print.ticket(id).
 */
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const { session } = TQ.staff;

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
      r = await session.call('/api/orders/' + id + '/ticket', { headers: { Accept: 'text/html' }, what: 'ticket' });
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

  TQ.staff.print = { ticket: printTicket };
})();
