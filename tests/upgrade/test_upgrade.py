"""Upgrading in place: a database made and filled by a released tokenq
(tests/upgrade/fixtures, made by make-fixtures.sh) is migrated by the tokenq
under test, on SQLite and on PostgreSQL, and loses nothing a user can see.

Before `tokenq migrate`, the binary under test refuses to serve it whenever
it has migrations the release had not (`tokenq serve` exits 1 with one
sentence naming them; `tokenq migrate status` exits 1 listing them). After
it, through HTTP: every order with its token, status, items, total, note,
history and times; the day's list and the token lookups; every key with its
role, the revoked one still refused; idempotency records; the event stream's
replay and ids that keep growing; the day's stats; the webhook endpoint;
the install as the venue main, with its settings, its orders under
/v/main/ too. In the database: the day's counters still hold the last
number of each queue, so the next order of that day continues the
numbering.

The fixture's business date is in the past when this runs: orders are read
by id and by `?date=`, never as "today's".

Environment: TOKENQ_BIN (the binary under test), TOKENQ_TEST_PG (a
PostgreSQL server URL; a new database per test; the PostgreSQL cases are
skipped without it).
"""

import http.client
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "print"))
import opskit  # noqa: E402
from fake_printer import FakePrinter  # noqa: E402
from opskit import Api, Db, Env, one_sentence, run_cli  # noqa: E402
from opskit import ops  # noqa: E402,F401 (a fixture: one test's databases and servers)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NAME = "release-3"
DATA = json.loads((FIXTURES / f"{NAME}.json").read_text())
SETTINGS = DATA["settings"]  # the release served the fixture with these and a printer
BACKENDS = ("sqlite", "postgresql")


# ---------------------------------------------------------------- helpers


def need_backend(backend):
    if backend == "postgresql":
        opskit.need_pg()
    if not Path(opskit.BIN).exists():
        pytest.exit(f"tokenq binary {opskit.BIN} not found: build it (make) or set TOKENQ_BIN",
                    returncode=2)


def load(backend, tmpdir):
    """A new database holding the fixture, as the release left it."""
    db = Db("sqlite" if backend == "sqlite" else "postgres", tmpdir)
    if backend == "sqlite":
        shutil.copyfile(FIXTURES / f"{NAME}.sqlite", db.path)
    else:
        r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", db.url,
                            "-f", str(FIXTURES / f"{NAME}.pg.sql")],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"loading {NAME}.pg.sql: {r.stderr}"
    return db


def cli(*args, db):
    return run_cli(*args, db=db, env=SETTINGS)


def migrate_status(db):
    """(exit status, {"0001_init": "applied", ...} in order)."""
    r = cli("migrate", "status", db=db)
    states = {}
    for line in r.stdout.splitlines():
        name, state = line.split("\t")[:2]
        states[name] = state
    return r.returncode, states, r


def known_migrations(tmpdir):
    """The migrations the binary under test has: all pending on a fresh database."""
    path = Path(tmpdir) / "fresh-for-status.db"
    rc, states, r = migrate_status(f"sqlite:{path}")
    assert rc == 1 and states and set(states.values()) == {"pending"}, (
        f"`tokenq migrate status` on an empty database: want every migration pending "
        f"and exit 1, got {r.returncode}:\n{r.stdout}{r.stderr}")
    return list(states)


def rows(db, table):
    """Every row of table as dicts, whatever columns it has."""
    if db.kind == "sqlite":
        con = sqlite3.connect(db.path)
        try:
            cur = con.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]
        finally:
            con.close()
    r = subprocess.run(["psql", "-X", "-A", "-F", "\x1f", "-P", "footer=off", "-v",
                        "ON_ERROR_STOP=1", db.url, "-c", f"SELECT * FROM {table}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    names = lines[0].split("\x1f")
    return [dict(zip(names, line.split("\x1f"))) for line in lines[1:]]


def check_contains(actual, expected, where="body"):
    """actual holds expected: equal scalars, lists of the same length, and
    every member of an expected object (newer versions may add members)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: want an object, got {actual!r}"
        for k, v in expected.items():
            assert k in actual, f"{where}: member {k!r} is gone (have {sorted(actual)})"
            check_contains(actual[k], v, f"{where}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (
            f"{where}: want {len(expected)} entries, got {actual!r}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            check_contains(a, e, f"{where}[{i}]")
    else:
        assert actual == expected, f"{where}: was {expected!r} before the upgrade, now {actual!r}"


class Stream:
    """GET /api/events from Last-Event-ID; read() returns the next message."""

    def __init__(self, server, last_event_id):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        self.conn.request("GET", "/api/events", headers={"Last-Event-ID": str(last_event_id)})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.status

    def read(self):
        msg = {}
        while True:
            line = self.resp.fp.readline()
            assert line, "the event stream ended"
            line = line.decode().rstrip("\n")
            if line == "":
                if "data" in msg:
                    return {"id": int(msg["id"]), "event": msg["event"],
                            "data": json.loads(msg["data"])}
                msg = {}
            elif not line.startswith(":") and ":" in line:
                k, v = line.split(":", 1)
                msg[k] = v[1:] if v.startswith(" ") else v

    def close(self):
        self.conn.close()


def upgrade(backend, env, printer):
    """Loads the fixture, migrates it with the binary under test and serves
    it with the fixture's settings and printer: (its fixture data, the
    database, an Api with the fixture's keys)."""
    fx = DATA["backends"][backend]
    db = env.adopt(load(backend, env.tmpdir))
    r = cli("migrate", db=db)
    assert r.returncode == 0, f"tokenq migrate: {r.returncode}\n{r.stdout}{r.stderr}"
    keys = {name: k["secret"] for name, k in fx["keys"].items()}
    server = env.server(db, env={**SETTINGS, "TOKENQ_PRINTER": printer.address})
    return fx, db, Api(server, keys)


@pytest.fixture
def printer():
    p = FakePrinter("ready")
    yield p
    p.close()


@pytest.fixture(params=BACKENDS)
def backend(request):
    need_backend(request.param)
    return request.param


@pytest.fixture(scope="module", params=BACKENDS)
def upgraded(request, tmp_path_factory):
    """One upgraded server per backend for the tests that only read."""
    need_backend(request.param)
    e = Env(tmp_path_factory.mktemp(f"upgraded-{request.param}"))
    p = FakePrinter("ready")
    try:
        yield upgrade(request.param, e, p)
    finally:
        try:
            e.close()
        finally:
            p.close()


# ---------------------------------------------------------------- migrating


def test_refused_until_migrated_then_applied(backend, ops, tmp_path):
    known = known_migrations(tmp_path)
    released = DATA["made_by"]["migrations"]
    db = ops.adopt(load(backend, ops.tmpdir))

    rc, states, r = migrate_status(db)
    assert list(states) == known, (
        f"`tokenq migrate status` on the release's database lists {list(states)}, "
        f"want the binary's migrations {known}:\n{r.stdout}{r.stderr}")
    for name in released:
        assert states[name] == "applied", f"{name} of the release is {states[name]}:\n{r.stdout}"
    pending = [name for name, state in states.items() if state == "pending"]
    newer = [name for name in known if name not in released]
    assert pending == newer, (
        f"the binary has migrations {newer} that the release had not, yet `migrate status` "
        f"on the release's database reports {pending or 'nothing'} pending:\n{r.stdout}")

    if pending:
        assert rc == 1, f"`migrate status` exits {rc} with {pending} pending:\n{r.stdout}"
        port = opskit.tokenq_server.free_port()
        r = subprocess.run([opskit.BIN, "serve", "--listen", f"127.0.0.1:{port}",
                            "--database", db.url], env=opskit.base_env(SETTINGS),
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert r.returncode == 1, f"tokenq serve on an unmigrated database exited {r.returncode}"
        sentence = one_sentence(r.stderr)
        for name in pending:
            assert name in sentence, f"the refusal does not name {name}: {sentence}"
        r = cli("keys", "list", db=db)
        assert r.returncode == 1, f"`keys list` before migrating exited {r.returncode}"
    else:
        # Only while the binary has no migration past the release's: nothing
        # to refuse yet (the check above fails loudly once it has one).
        assert rc == 0, f"`migrate status` exits {rc} with nothing pending:\n{r.stdout}"

    r = cli("migrate", db=db)
    assert r.returncode == 0, f"tokenq migrate: {r.returncode}\n{r.stdout}{r.stderr}"
    want = (f"applied {len(pending)} migration{'' if len(pending) == 1 else 's'}" if pending
            else "the database is up to date")
    assert r.stdout.strip() == want, r.stdout
    rc, states, r = migrate_status(db)
    assert rc == 0 and list(states) == known and set(states.values()) == {"applied"}, (
        f"after `tokenq migrate`: exit {rc}\n{r.stdout}{r.stderr}")
    r = cli("migrate", db=db)
    assert r.returncode == 0 and r.stdout.strip() == "the database is up to date", r.stdout


# ---------------------------------------------------------------- what users see


def test_every_order_kept(upgraded):
    fx, _, api = upgraded
    for name, before in fx["orders"].items():
        r = api.get(f"/api/orders/{before['id']}", key="staff")
        assert r.status == 200, f"order {name} ({before['id']}): {r}"
        check_contains(r.body, before, f"order {name}")
    recalls = [e for e in fx["orders"]["a_completed"]["history"] if e["event"] == "recall"]
    assert len(recalls) == 2, "the fixture's order a_completed was recalled twice"


def test_day_listed_by_date(upgraded):
    fx, _, api = upgraded
    date = fx["business_date"]
    r = api.get(f"/api/orders?date={date}&limit=500", key="pos")
    assert r.status == 200, r
    check_contains(r.body, fx["order_list"], f"GET /api/orders?date={date}")
    for q in ("A", "B"):
        r = api.get(f"/api/orders?date={date}&queue={q}", key="staff")
        assert r.status == 200, r
        want = [o["id"] for o in fx["order_list"]["orders"] if o["queue"] == q]
        assert [o["id"] for o in r.body["orders"]] == want, r
    statuses = {o["status"] for o in fx["order_list"]["orders"]}
    assert statuses == {"PENDING", "PREPARING", "READY", "COMPLETED", "CANCELLED"}, statuses


def test_tokens_looked_up_by_date(upgraded):
    fx, _, api = upgraded
    date = fx["business_date"]
    for token, before in fx["tokens"].items():
        for spelled in (token, token.lower()):
            r = api.get(f"/api/tokens/{spelled}?date={date}", key="")
            assert r.status == 200, f"token {spelled} of {date}: {r}"
            assert "eta_seconds" in r.body, r.body  # an estimate of now: not compared
            check_contains(r.body, {k: v for k, v in before.items() if k != "eta_seconds"},
                           f"token {spelled}")


def test_keys_keep_their_roles(upgraded):
    fx, db, api = upgraded
    date = fx["business_date"]
    # What each role may do tells the roles apart: pos lists orders but not
    # stats, staff reads stats but not webhooks, admin reads webhooks.
    probes = {"pos": (f"/api/orders?date={date}", f"/api/stats?date={date}"),
              "staff": (f"/api/stats?date={date}", "/api/webhooks"),
              "admin": ("/api/webhooks", None)}
    for name, k in fx["keys"].items():
        allowed, refused = probes[k["role"]]
        r = api.get(allowed, key=k["secret"])
        if k["revoked"]:
            assert r.status == 401, f"revoked key {name}: {r}"
            assert r.body["code"] == "unauthorized", r
            continue
        assert r.status == 200, f"key {name} ({k['role']}) on {allowed}: {r}"
        if refused:
            r = api.get(refused, key=k["secret"])
            assert r.status == 403, f"key {name} ({k['role']}) on {refused}: {r}"
    r = cli("keys", "list", db=db)
    assert r.returncode == 0, r.stderr
    # One key a line: id, role, label, created, last used, then "active" or
    # when it was revoked (columns may be added).
    listed = {int(line.split("\t")[0]): line.split("\t") for line in r.stdout.splitlines()}
    for name, k in fx["keys"].items():
        row = listed.get(k["id"])
        assert row and row[1:3] == [k["role"], k["label"]], f"key {name}: {row}\n{r.stdout}"
        assert ("active" not in row) == k["revoked"], f"key {name}: {row}"


def test_event_stream_replays_old_events(upgraded):
    fx, _, api = upgraded
    s = Stream(api.server, 0)
    try:
        got = [s.read() for _ in fx["events"]]
    finally:
        s.close()
    check_contains(got, fx["events"], "replay from Last-Event-ID: 0")
    assert got[-1]["id"] == fx["last_event_id"]


def test_stats_unchanged(upgraded):
    fx, _, api = upgraded
    date = fx["business_date"]
    for q, before in fx["stats"].items():
        path = f"/api/stats?date={date}" + ("" if q == "all" else f"&queue={q}")
        r = api.get(path, key="staff")
        assert r.status == 200, f"{path}: {r}"
        check_contains(r.body, before, path)


def test_webhook_endpoint_kept(upgraded):
    fx, db, api = upgraded
    hook = fx["webhooks"]
    r = cli("webhooks", "list", db=db)
    assert r.returncode == 0, r.stderr
    lines = [line.split("\t") for line in r.stdout.splitlines()]
    assert len(lines) == 1 and lines[0][0] == str(hook["id"]), r.stdout
    assert hook["url"] in lines[0] and hook["events"] in lines[0], r.stdout
    r = api.get("/api/webhooks", key="admin")
    assert r.status == 200, r
    check_contains(r.body["webhooks"], [{k: v for k, v in w.items()
                                         if k not in ("state", "failing_since")}
                                        for w in hook["http_list"]["webhooks"]], "webhooks")


def test_counters_hold_last_numbers(upgraded):
    """Continuity of numbering, read where it is kept: the counters of the
    fixture's date hold each queue's highest number (the next order of that
    day gets the one after it). A venue column, if any, is the venue main's."""
    fx, db, _ = upgraded
    date = fx["business_date"]
    highest = {}
    for o in fx["orders"].values():
        highest[o["queue"]] = max(highest.get(o["queue"], 0), o["sequence"])
    day = [c for c in rows(db, "counters") if c["business_date"] == date]
    assert sorted((c["queue"], int(c["last"])) for c in day) == sorted(highest.items()), (
        f"counters of {date}: want the highest numbers {highest}, have {day}")
    if any("venue_id" in c for c in day):
        main = [v for v in rows(db, "venues") if v.get("slug") == "main"]
        assert len(main) == 1, f"venues after the upgrade: {rows(db, 'venues')}"
        for c in day:
            assert str(c["venue_id"]) == str(main[0]["id"]), (
                f"counter {c} is not the venue main's ({main[0]})")


def test_venue_main_exists(upgraded):
    """The install becomes the venue main, with the settings it is served
    with, and its data is under /v/main/ too."""
    fx, _, api = upgraded
    r = api.get("/api/venues", key="admin")
    assert r.status == 200, r
    main = [v for v in r.body["venues"] if v.get("slug") == "main"]
    assert len(main) == 1, r.body
    queues = [dict(zip(("prefix", "name"), q.split("=", 1)))
              for q in SETTINGS["TOKENQ_QUEUES"].split(",")]
    check_contains(main[0], {"timezone": SETTINGS["TOKENQ_TIMEZONE"],
                             "day_start": SETTINGS["TOKENQ_DAY_START"], "queues": queues},
                   "venue main")
    date = fx["business_date"]
    for name, before in fx["orders"].items():
        r = api.get(f"/v/main/api/orders/{before['id']}", key="staff")
        assert r.status == 200, f"order {name} under /v/main/: {r}"
        check_contains(r.body, before, f"order {name} under /v/main/")
        r = api.get(f"/v/main/api/tokens/{before['token']}?date={date}", key="")
        assert r.status == 200 and r.body["status"] == before["status"], r


def test_idempotency_keys_replay(upgraded):
    # Last of the tests that share a server: a replay that fails creates an order.
    fx, _, api = upgraded
    for rec in fx["idempotency"]:
        headers = {"Idempotency-Key": rec["key"]}
        r = api.request("POST", "/api/orders", rec["body"].encode(), key=rec["role"],
                        headers=headers)
        assert r.status == 200, f"replaying {rec['key']}: {r}"
        assert r.headers.get("idempotent-replayed") == "true", r.headers
        assert r.body["id"] == rec["order_id"], r.body
        check_contains(r.body, {k: v for k, v in fx["orders"][rec["order"]].items()
                                if k not in ("history", "print")}, f"replay of {rec['key']}")
        other = json.loads(rec["body"])
        other["note"] = "another body"
        r = api.request("POST", "/api/orders", json.dumps(other).encode(), key=rec["role"],
                        headers=headers)
        assert r.status == 422 and r.body["code"] == "idempotency_key_reused", r


# ---------------------------------------------------------------- going on


def test_numbers_and_events_continue(backend, ops, printer):
    """The upgraded database takes new orders and changes: event ids above
    every old one, the stream going on from the old last id, numbering
    that continues the fixture's day (or starts at 1 on a later day), and a
    reprint of a ticket the release printed."""
    fx, db, api = upgrade(backend, ops, printer)
    date, last = fx["business_date"], fx["last_event_id"]
    highest = {}
    for o in fx["orders"].values():
        highest[o["queue"]] = max(highest.get(o["queue"], 0), o["sequence"])

    s = Stream(api.server, last)
    try:
        made = []
        for q in ("A", "B"):
            o = api.create(queue=q, items=[{"name": "After the upgrade", "quantity": 1,
                                            "unit_price": 250}])
            if o["business_date"] == date:
                assert o["sequence"] == highest[q] + 1, f"numbering of {date} restarted: {o}"
            else:
                assert o["business_date"] > date and o["sequence"] == 1, o
            made.append(o)
        old = fx["orders"]["a_pending"]
        moved = api.move(old["id"], "PREPARING")
        assert moved["token"] == old["token"] and moved["status"] == "PREPARING", moved
        recalled = api.recall(fx["orders"]["a_ready"]["id"])
        assert recalled["status"] == "READY", recalled

        got = [s.read() for _ in range(4)]
    finally:
        s.close()
    ids = [e["id"] for e in got]
    assert ids == sorted(set(ids)) and ids[0] > last, f"event ids after {last}: {ids}"
    assert [(e["event"], e["data"]["order_id"]) for e in got] == [
        ("token", made[0]["id"]), ("token", made[1]["id"]), ("token", old["id"]),
        ("recall", fx["orders"]["a_ready"]["id"])], got
    newest = max(o["id"] for o in fx["orders"].values())
    assert all(o["id"] > newest for o in made), made
    r = api.get(f"/api/orders/{old['id']}", key="staff")
    assert r.body["history"][-1]["event_id"] == ids[2], r.body

    # The release printed this ticket once; nothing is printed again on its
    # own, and a reprint is a second job of the same order.
    printed = fx["orders"][fx["print"]["order"]]
    assert printer.jobs == [], "the upgraded server printed a ticket nobody asked for"
    r = api.request("POST", f"/api/orders/{printed['id']}/print", key="staff")
    assert r.status == 202, r
    assert len(printer.wait_jobs(1, timeout=10)) == 1, "the reprint did not reach the printer"
    for _ in range(100):
        r = api.get(f"/api/orders/{printed['id']}", key="staff")
        if r.body["print"]["state"] == "printed":
            break
        time.sleep(0.05)
    assert r.body["print"]["state"] == "printed", r.body["print"]
    assert r.body["print"]["queued_at"] > printed["print"]["queued_at"], r.body["print"]
