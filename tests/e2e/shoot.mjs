#!/usr/bin/env node
/*
 * shoot.mjs: screenshot one page, print its console problems (a dev helper).
 *   node shoot.mjs URL OUT.png [WIDTHxHEIGHT] [WAIT_MS] [localStorageKey=value]
 */
import { launch, watchConsole } from './browser.mjs';

const [url, out, size = '1920x1080', wait = '1500', ls] = process.argv.slice(2);
const [width, height] = size.split('x').map(Number);
const { context, close } = await launch();
const page = await context.newPage();
await page.setViewportSize({ width, height });
const seen = watchConsole(page);
page.on('response', (r) => { if (r.status() >= 400) console.log('HTTP', r.status(), r.url()); });
if (ls) {
  const [k, v] = ls.split('=');
  await page.addInitScript(([k, v]) => localStorage.setItem(k, v), [k, v]);
}
await page.goto(url);
await page.waitForTimeout(Number(wait));
await page.screenshot({ path: out });
for (const m of seen) console.log(`[${m.type}] ${m.text}`);
await close();
