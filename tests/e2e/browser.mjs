/*
 * browser.mjs: starts Debian's Chromium through playwright-core for the e2e
 * test and the screenshot helper (`npx playwright install` is not available
 * here, so we drive the system browser).  Each launch gets a fresh profile
 * directory, removed again by close(). It also holds what the browser tests
 * share: watching a page's console, WCAG contrast, and a client for the API.
 *
 * CHROMIUM=/path/to/chromium overrides the executable.
 */
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launch(opts = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenq-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // as a kiosk is started: sound without a click (docs/operations.md)
      ...(opts.sound === false ? [] : ['--autoplay-policy=no-user-gesture-required']),
    ],
    viewport: { width: 1280, height: 800 },
  });
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/**
 * Record what a page says on its console, CSP violations and uncaught errors.
 * Returns an array that fills up as the page runs.
 */
export function watchConsole(page) {
  const seen = [];
  page.on('console', (msg) => {
    const type = msg.type();
    if (type === 'error' || type === 'warning' || /Content Security Policy/i.test(msg.text())) {
      seen.push({ type, text: msg.text(), url: page.url() });
    }
  });
  page.on('pageerror', (err) => seen.push({ type: 'pageerror', text: String(err), url: page.url() }));
  return seen;
}

/** The messages that mean something is wrong: errors and CSP violations. */
export function problems(seen) {
  return seen.filter(
    (m) =>
      m.type === 'pageerror' ||
      /Content Security Policy|Refused to/i.test(m.text) ||
      (m.type === 'error' && !/ERR_CONNECTION_REFUSED|net::ERR_|Failed to load resource/i.test(m.text)),
  );
}

/** WCAG relative luminance contrast of two computed colours (rgb/rgba strings). */
export function contrast(fg, bg) {
  const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const a = lum(parse(fg));
  const b = lum(parse(bg));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/**
 * A client for tokenq's API at base: api(method, path, body, key = defaultKey, headers)
 * resolves to {status, data} (data parsed as JSON when it is JSON). Network errors, as
 * right after a restart, are retried a few times; HTTP answers never are.
 */
export function apiClient(base, defaultKey) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  return async function api(method, p, body, key = defaultKey, extraHeaders = {}) {
    const headers = { Accept: 'application/json', ...extraHeaders };
    if (key) headers.Authorization = 'Bearer ' + key;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let lastErr;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const res = await fetch(base + p, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(10000),
        });
        const text = await res.text();
        let data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch {
          data = text;
        }
        return { status: res.status, data };
      } catch (e) {
        lastErr = e;
        await sleep(300);
      }
    }
    throw lastErr;
  };
}
