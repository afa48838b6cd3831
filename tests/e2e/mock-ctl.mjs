#!/usr/bin/env node
/*
 * mock-ctl.mjs: TOKENQ_CTL for the mock server: `mock-ctl.mjs stop|start`.
 * stop: the mock drops every connection and stops listening (as if the
 * server died); start: it listens again.  Each returns once that is true.
 * Env: MOCK_PIDFILE (the mock's --pidfile), TOKENQ_URL (to check).
 */
import fs from 'node:fs';

const cmd = process.argv[2];
const pidfile = process.env.MOCK_PIDFILE || '/tmp/tokenq-mock.pid';
const url = process.env.TOKENQ_URL || 'http://127.0.0.1:8099';
if (cmd !== 'stop' && cmd !== 'start') {
  console.error('usage: mock-ctl.mjs stop|start');
  process.exit(2);
}
const pid = Number(fs.readFileSync(pidfile, 'utf8'));
process.kill(pid, cmd === 'stop' ? 'SIGUSR1' : 'SIGUSR2');

const up = async () => {
  try {
    const r = await fetch(url + '/healthz', { signal: AbortSignal.timeout(500) });
    return r.ok;
  } catch {
    return false;
  }
};
const deadline = Date.now() + 10000;
while (Date.now() < deadline) {
  if ((await up()) === (cmd === 'start')) process.exit(0);
  await new Promise((r) => setTimeout(r, 100));
}
console.error(`mock-ctl: the mock did not ${cmd} in time`);
process.exit(1);
