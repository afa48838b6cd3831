#!/bin/sh
# Runs pages.test.mjs, rush.test.mjs and venue.test.mjs (with a second venue,
# mg-road) against the in-memory mock server, to check the pages
# and the test itself without the C server:   tests/e2e/run-mock.sh
set -eu
cd "$(dirname "$0")"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
port=${MOCK_PORT:-18099}
tmp=$(mktemp -d)
export MOCK_PIDFILE="$tmp/mock.pid"
# two queues, as run.sh gives the server (rush.test.mjs orders in A and B)
export MOCK_QUEUES="${MOCK_QUEUES:-A=Dine-in,B=Takeaway}"
node mock-server.mjs --port "$port" --pidfile "$MOCK_PIDFILE" >"$tmp/mock.log" 2>&1 &
mock=$!
trap 'kill $mock 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
export TOKENQ_URL="http://127.0.0.1:$port"
i=0
until curl -fs "$TOKENQ_URL/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || { cat "$tmp/mock.log"; exit 1; }
	sleep 0.1
done
export TOKENQ_ADMIN_KEY=admin-key TOKENQ_POS_KEY=pos-key TOKENQ_CTL="$PWD/mock-ctl.mjs"
export TOKENQ_OTHER_VENUE=mg-road TOKENQ_OTHER_VENUE_KEY=admin-key
node --test --test-concurrency=1 --test-reporter=spec pages.test.mjs rush.test.mjs venue.test.mjs
