#!/bin/sh
# Makes the upgrade test's fixtures: a database on each backend made and
# filled by a released tokenq, through its own HTTP API and CLI.
#
#   tests/upgrade/make-fixtures.sh [COMMIT [NAME]]   (default: e9b0c87 release-3)
#
# Builds COMMIT in a temporary git worktree, runs its `tokenq serve --migrate`
# on a fresh SQLite file and on a fresh database of a throwaway PostgreSQL
# server (tests/pg.sh), fills both with tests/upgrade/fill.py, and writes
#   tests/upgrade/fixtures/NAME.sqlite   the SQLite file (`tokenq backup`: no -wal)
#   tests/upgrade/fixtures/NAME.pg.sql   pg_dump --no-owner --no-privileges
#   tests/upgrade/fixtures/NAME.json     what the test needs to know of both
# Commit e9b0c87 is the release with schema version 3 (0001_init,
# 0002_webhooks, 0003_print_jobs).
set -eu
cd "$(dirname "$0")/../.."
repo=$PWD
commit=${1:-e9b0c87}
name=${2:-release-3}
PYTHON=${PYTHON:-/usr/bin/python3}
out=$repo/tests/upgrade/fixtures
tmp=$(mktemp -d /tmp/tokenq-fixtures.XXXXXX)
pgdir=$(mktemp -d /tmp/tokenq-fixtures-pg.XXXXXX) # its own: the server's user must reach it
pgport=$(( 52000 + $$ % 4000 ))

cleanup() {
	tests/pg.sh stop "$pgdir" immediate >/dev/null 2>&1 || true
	git -C "$repo" worktree remove --force "$tmp/src" >/dev/null 2>&1 || true
	rm -rf "$tmp" "$pgdir"
}
trap cleanup EXIT INT TERM

echo "building $commit in $tmp/src"
git -C "$repo" worktree add --detach "$tmp/src" "$commit" >/dev/null
make -C "$tmp/src" >"$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log"; exit 1; }
bin=$tmp/src/build/tokenq
printer=$tmp/src/tests/print/fake_printer.py

url=$(tests/pg.sh start "$pgdir" "$pgport")
psql -X -q -v ON_ERROR_STOP=1 "$url" -c "CREATE DATABASE fixture"
pgdb=${url%/*}/fixture

mkdir -p "$out"
echo "filling SQLite"
"$PYTHON" tests/upgrade/fill.py --bin "$bin" --database "sqlite:$tmp/fixture.db" \
	--fake-printer "$printer" --out "$tmp/sqlite.json" --log "$tmp/serve-sqlite.log" ||
	{ tail -30 "$tmp/serve-sqlite.log"; exit 1; }
echo "filling PostgreSQL"
"$PYTHON" tests/upgrade/fill.py --bin "$bin" --database "$pgdb" \
	--fake-printer "$printer" --out "$tmp/postgresql.json" --log "$tmp/serve-pg.log" ||
	{ tail -30 "$tmp/serve-pg.log"; exit 1; }

rm -f "$out/$name.sqlite" "$out/$name.sqlite-wal" "$out/$name.sqlite-shm"
"$bin" backup "$out/$name.sqlite" --database "sqlite:$tmp/fixture.db" >/dev/null
for f in "$out/$name.sqlite-wal" "$out/$name.sqlite-shm"; do
	[ ! -e "$f" ] || { echo "make-fixtures.sh: $f left beside the copy" >&2; exit 1; }
done
# Without the \restrict KEY lines of newer pg_dumps (a random key each time): the
# dump then loads with any psql, older ones too.
pg_dump --no-owner --no-privileges "$pgdb" >"$tmp/dump.sql"
sed '/^\\\(un\)\{0,1\}restrict /d' "$tmp/dump.sql" >"$out/$name.pg.sql"

"$PYTHON" - "$commit" "$(git -C "$repo" rev-parse "$commit")" "$bin" "$tmp" "$out/$name.json" <<'PY'
import json, subprocess, sys
sys.path.insert(0, "tests/upgrade")
import fill
short, full, binary, tmp, dest = sys.argv[1:]
version = subprocess.run([binary, "version"], capture_output=True, text=True).stdout.strip()
migrations = [line.split("\t")[0] for line in subprocess.run(
    [binary, "migrate", "status", "--database", f"sqlite:{tmp}/fixture.db"],
    capture_output=True, text=True).stdout.splitlines()]
data = {
    "made_by": {"commit": full, "version": version, "migrations": migrations,
                "script": "tests/upgrade/make-fixtures.sh"},
    "settings": fill.SETTINGS,
    "backends": {b: json.load(open(f"{tmp}/{b}.json")) for b in ("sqlite", "postgresql")},
}
with open(dest, "w") as f:
    json.dump(data, f, indent=1, ensure_ascii=False)
    f.write("\n")
PY
ls -l "$out"
