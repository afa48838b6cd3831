#!/bin/sh
# Runs the browser tests (pages.test.mjs, headless Chromium from Debian driven
# by playwright-core) against a real tokenq server on a fresh SQLite file,
# with an admin and a pos key, and a control script that stops and starts
# the server for the reconnect scenario.  venue.test.mjs (the pages under
# /v/main/) runs against that server when it answers under /v/main/, and
# against mock-server.mjs, which strips the prefix, when it does not; its
# scenario with a second venue runs on the mock.  brand.test.mjs (the venue's
# name, colour, logo and currency) runs last, on a server of its own.
set -eu
cd "$(dirname "$0")"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
BIN=${TOKENQ_BIN:-$PWD/../../build/tokenq}
tmp=$(mktemp -d /tmp/tokenq-e2e.XXXXXX)
db="sqlite:$tmp/e2e.db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# two queues, so the pages are tested telling them apart
export TOKENQ_QUEUES="A=Dine-in,B=Takeaway"
"$BIN" migrate --database "$db" >/dev/null
admin=$("$BIN" keys create --role admin --label e2e --database "$db" 2>/dev/null | head -n 1)
pos=$("$BIN" keys create --role pos --label e2e --database "$db" 2>/dev/null | head -n 1)

cat >"$tmp/ctl" <<CTL
#!/bin/sh
# stop | start the server under test
case "\$1" in
start)
	"$BIN" serve --listen 127.0.0.1:$port --database "$db" >>"$tmp/server.log" 2>&1 &
	echo \$! >"$tmp/pid"
	i=0
	until curl -fs http://127.0.0.1:$port/healthz >/dev/null 2>&1; do
		i=\$((i + 1)); [ \$i -lt 100 ] || exit 1; sleep 0.05
	done ;;
stop)
	[ -f "$tmp/pid" ] || exit 0
	kill -TERM "\$(cat "$tmp/pid")" 2>/dev/null || true
	while kill -0 "\$(cat "$tmp/pid")" 2>/dev/null; do sleep 0.05; done
	rm -f "$tmp/pid" ;;
esac
CTL
chmod +x "$tmp/ctl"
mock=
trap '"$tmp/ctl" stop; [ -z "$mock" ] || kill "$mock" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
"$tmp/ctl" start

export TOKENQ_URL="http://127.0.0.1:$port" TOKENQ_ADMIN_KEY="$admin" TOKENQ_POS_KEY="$pos" \
	TOKENQ_CTL="$tmp/ctl"
rc=0
node --test --test-concurrency=1 --test-reporter=spec pages.test.mjs rush.test.mjs || rc=$?
[ $rc -eq 0 ] || tail -n 30 "$tmp/server.log"

# venue.test.mjs against the server when it answers under /v/main/, else against
# mock-server.mjs; its scenario with a second venue (mg-road) runs on the mock
# either way, as the server has the one venue main.
only=
if curl -fs "$TOKENQ_URL/v/main/api/queues" >/dev/null 2>&1; then
	node --test --test-reporter=spec venue.test.mjs || rc=1
	only='^staff keys|^no CSP'
else
	echo "# the server does not answer under /v/main/: venue.test.mjs runs against mock-server.mjs"
fi
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MOCK_QUEUES="$TOKENQ_QUEUES" node mock-server.mjs --port "$mport" >"$tmp/mock.log" 2>&1 &
mock=$!
i=0
until curl -fs "http://127.0.0.1:$mport/healthz" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/mock.log"; exit 1; }; sleep 0.05
done
TOKENQ_URL="http://127.0.0.1:$mport" TOKENQ_ADMIN_KEY=admin-key TOKENQ_OTHER_VENUE=mg-road \
	TOKENQ_OTHER_VENUE_KEY=admin-key node --test --test-reporter=spec ${only:+--test-name-pattern="$only"} \
	venue.test.mjs || rc=1

# brand.test.mjs (a venue's name, accent, logo and currency) starts a server of
# its own, as it changes the venue's settings; while the server has no
# GET /api/venues/{slug} its venue scenarios skip there and run against the
# mock (whose venue main it changes, so last).
TOKENQ_BIN="$BIN" node --test --test-reporter=spec brand.test.mjs || rc=1
if ! curl -fs "$TOKENQ_URL/api/venues/main" >/dev/null 2>&1; then
	echo "# the server has no GET /api/venues/main: brand.test.mjs runs against mock-server.mjs too"
	BRAND_URL="http://127.0.0.1:$mport" BRAND_ADMIN_KEY=admin-key \
		node --test --test-reporter=spec brand.test.mjs || rc=1
fi
exit $rc
