"""`tokenq copy --to URL` (docs/tokenq.1, copy): every row into an
empty database of either kind, keeping ids, numbers, counters, keys and
idempotency records, read from one snapshot while the source takes orders;
a target that holds tokenq rows is refused and left as it was."""

import os
import pty
import select
import subprocess
import time

import pytest

import opskit
from opskit import ops, kind, pg  # noqa: F401 (fixtures)
from opskit import one_sentence, run_cli

QUEUES = {"TOKENQ_QUEUES": "A=Dine-in,B=Takeaway"}


def fill(api):
    """Orders in every status (a recall too), in two queues, with notes and
    idempotency keys; a revoked key. Returns what the checks need."""
    tricky = [{"name": 'Chai, "strong"', "quantity": 2, "unit_price": 150},
              {"name": "Dosa; plain ×2", "quantity": 1, "unit_price": 1200}]
    made = [api.create(items=tricky, queue="A", note="less sugar\r\nno ice, \"please\"")]
    for i in range(11):
        made.append(api.create(queue="A" if i % 3 else "B",
                               items=[{"name": f"Item {i}", "quantity": 1 + i, "unit_price": 75}]))
    api.move(made[1]["id"], "PREPARING")
    api.move(made[2]["id"], "READY")
    api.recall(made[2]["id"])
    api.recall(made[2]["id"])
    api.move(made[3]["id"], "READY")
    api.move(made[3]["id"], "COMPLETED")
    api.move(made[4]["id"], "CANCELLED")
    api.move(made[5]["id"], "PREPARING")
    api.move(made[5]["id"], "CANCELLED")
    raw = b'{"queue":"B","items":[{"name":"Idem","quantity":1,"unit_price":10}]}'
    idem = api.create(raw=raw, headers={"Idempotency-Key": "idem-copy-1"})
    r = api.request("POST", "/api/orders", raw, key="pos", headers={"Idempotency-Key": "idem-copy-1"})
    assert r.status == 200 and r.headers.get("idempotent-replayed") == "true", r
    revoked = opskit.create_key(api.server.db, "pos", "old-till")
    kid = [ln.split("\t")[0] for ln in run_cli("keys", "list", db=api.server.db).stdout.splitlines()
           if "old-till" in ln][0]
    assert run_cli("keys", "revoke", kid, db=api.server.db).returncode == 0
    for args in (["http://127.0.0.1:9/hook", "--allow-private"],
                 ["https://hooks.example.com/ready", "--events", "token,recall"]):
        r = run_cli("webhooks", "create", *args, db=api.server.db)
        assert r.returncode == 0, r.stderr
    assert run_cli("webhooks", "revoke", "2", db=api.server.db).returncode == 0
    return {"raw": raw, "idem": idem, "revoked": revoked}


def content(api):
    """What a copy must keep, as the API and the CLI show it."""
    orders = api.list_all()
    history = {o["id"]: api.get(f"/api/orders/{o['id']}").body for o in orders}
    csv = api.get("/api/orders.csv")
    assert csv.status == 200, csv
    board = api.get("/api/board").body
    return {"orders": orders, "history": history, "csv": csv.raw, "board": board}


def keys_list(db):
    r = run_cli("keys", "list", db=db)
    assert r.returncode == 0, r.stderr
    return r.stdout


def webhooks_list(db):
    r = run_cli("webhooks", "list", db=db)
    assert r.returncode == 0, r.stderr
    return r.stdout


def copy(src, dst, **kw):
    return run_cli("copy", "--to", dst.url, db=src, **kw)


def check_continues(api, before, facts):
    """The target continues the day: next numbers, ids, revoked key, replay."""
    for q in ("A", "B"):
        last = max(o["sequence"] for o in before["orders"] if o["queue"] == q)
        o = api.create(queue=q)
        assert o["sequence"] == last + 1, f"queue {q}: {o['token']} after {last}"
    assert o["id"] > max(x["id"] for x in before["orders"]), "an order id was reused"
    r = api.get("/api/orders", key=facts["revoked"])
    assert r.status == 401, f"the revoked key works on the copy: {r}"
    r = api.request("POST", "/api/orders", facts["raw"], key="pos",
                    headers={"Idempotency-Key": "idem-copy-1"})
    assert r.status == 200, r
    assert r.headers.get("idempotent-replayed") == "true"
    assert r.body["id"] == facts["idem"]["id"]
    ev = api.get("/api/board").body["last_event_id"]
    assert ev > before["board"]["last_event_id"]
    # a new key takes an id after the copied ones (PostgreSQL: the sequence moved)
    opskit.create_key(api.server.db, "staff", "made-after-copy")
    ids = [int(ln.split("\t")[0]) for ln in keys_list(api.server.db).splitlines()]
    assert ids == sorted(set(ids)) and len(ids) == 5, ids
    # webhook endpoints and their deliveries came along, and a new endpoint follows them
    r = run_cli("webhooks", "deliveries", "1", db=api.server.db)
    assert r.returncode == 0 and r.stdout.strip(), f"endpoint 1's deliveries were not copied: {r}"
    r = run_cli("webhooks", "create", "https://hooks.example.com/new", db=api.server.db)
    assert r.returncode == 0, r.stderr
    ids = [int(ln.split("\t")[0]) for ln in webhooks_list(api.server.db).splitlines()]
    assert ids == [1, 2, 3], ids


def test_copy_sqlite_postgres_sqlite_round_trip(pg, ops):
    src = ops.db("sqlite")
    api1 = ops.api(src, env=QUEUES)
    facts = fill(api1)
    c1 = content(api1)
    k1 = keys_list(src)

    mid = ops.db("postgres")  # brand-new: copy migrates it
    r = copy(src, mid)
    assert r.returncode == 0, r.stderr
    assert "from sqlite to postgresql" in r.stderr, r.stderr
    assert keys_list(mid) == k1
    assert webhooks_list(mid) == webhooks_list(src)
    api2 = ops.api(mid, env=QUEUES, keys=api1.keys)
    c2 = content(api2)
    assert c2 == c1, "the PostgreSQL copy differs from the SQLite source"
    k2 = keys_list(mid)

    back = ops.db("sqlite")
    r = copy(mid, back)
    assert r.returncode == 0, r.stderr
    assert "from postgresql to sqlite" in r.stderr, r.stderr
    assert keys_list(back) == k2
    assert webhooks_list(back) == webhooks_list(src)
    api3 = ops.api(back, env=QUEUES, keys=api1.keys)
    c3 = content(api3)
    assert c3 == c1, "the SQLite copy of the copy differs from the source"
    assert run_cli("migrate", "status", db=mid).returncode == 0
    assert run_cli("migrate", "status", db=back).returncode == 0

    # a copy into a database with rows is refused and changes nothing
    r = copy(src, mid)
    assert r.returncode == 1, r.stderr
    assert "already holds" in one_sentence(r.stderr)
    r = copy(src, back)
    assert r.returncode == 1, r.stderr
    assert content(api2) == c1 and content(api3) == c1

    check_continues(api2, c1, facts)  # PostgreSQL: the id sequences moved on
    check_continues(api3, c1, facts)


def test_copy_sqlite_to_migrated_empty_sqlite(ops):
    src = ops.db("sqlite")
    api1 = ops.api(src, env=QUEUES)
    facts = fill(api1)
    c1 = content(api1)
    dst = ops.db("sqlite")
    assert run_cli("migrate", db=dst).returncode == 0  # migrated, but no rows
    r = copy(src, dst)
    assert r.returncode == 0, r.stderr
    assert "orders: 13" in r.stderr, r.stderr
    assert keys_list(dst) == keys_list(src)
    api2 = ops.api(dst, env=QUEUES, keys=api1.keys)
    assert content(api2) == c1
    check_continues(api2, c1, facts)


def test_copy_refuses_target_with_rows(kind, ops):
    src = ops.db("sqlite")
    opskit.create_key(src, "admin")
    dst = ops.db(kind)
    key = opskit.create_key(dst, "staff", "theirs")
    before = dst.query("SELECT id, role, label, hash FROM api_keys ORDER BY id")
    r = copy(src, dst)
    assert r.returncode == 1, r.stderr
    line = one_sentence(r.stderr)
    assert "keys: 1" in line and "empty" in line, line
    assert dst.query("SELECT id, role, label, hash FROM api_keys ORDER BY id") == before
    assert key


def test_copy_into_database_holding_other_tables(kind, ops):
    """A target that holds only another program's tables holds no tokenq
    rows: tokenq's tables are made beside them and the copy goes ahead,
    leaving the other tables as they were."""
    src = ops.db("sqlite")
    opskit.create_key(src, "admin")
    dst = ops.db(kind)
    dst.execute_script("CREATE TABLE menu (id INTEGER PRIMARY KEY, name TEXT);"
                       "INSERT INTO menu VALUES (1, 'tea');")
    r = copy(src, dst)
    assert r.returncode == 0, r.stderr
    assert dst.query("SELECT name FROM menu") == [("tea",)]
    assert dst.query("SELECT count(*) FROM api_keys") == [("1",)]


def test_copy_refuses_target_whose_table_names_are_taken(kind, ops):
    src = ops.db("sqlite")
    opskit.create_key(src, "admin")
    dst = ops.db(kind)
    dst.execute_script("CREATE TABLE orders (ref TEXT, amount INTEGER);"
                       "INSERT INTO orders VALUES ('x', 1);")
    r = copy(src, dst)
    assert r.returncode == 1, r.stderr
    assert "table named orders" in one_sentence(r.stderr)
    assert dst.query("SELECT ref FROM orders") == [("x",)]
    tables = dst.query("SELECT count(*) FROM sqlite_master WHERE type = 'table'" if kind == "sqlite"
                       else "SELECT count(*) FROM information_schema.tables WHERE "
                            "table_schema = 'public'")
    assert tables == [("1",)], "copy changed a database it refused"


@pytest.mark.parametrize("args", [[], ["--to"], ["--to", "mysql://x/y"], ["--to", "{src}"],
                                  ["stray", "--to", "sqlite:{tmp}/x.db"]])
def test_copy_usage_errors(ops, args):
    src = ops.db("sqlite")
    opskit.create_key(src, "admin")
    args = [a.replace("{src}", src.url).replace("{tmp}", str(ops.tmpdir)) for a in args]
    r = run_cli("copy", *args, db=src)
    assert r.returncode == 2, f"{args}: {r.returncode} {r.stderr}"
    one_sentence(r.stderr)


def test_copy_from_missing_database_creates_nothing(ops):
    r = run_cli("copy", "--to", f"sqlite:{ops.tmpdir}/to.db", db=f"sqlite:{ops.tmpdir}/none.db")
    assert r.returncode == 1
    one_sentence(r.stderr)
    assert not (ops.tmpdir / "none.db").exists() and not (ops.tmpdir / "to.db").exists()


def test_copy_reads_one_snapshot_under_load(kind, ops):
    src = ops.db(kind)
    api = ops.api(src)
    load = opskit.Load(api, threads=4).start()
    try:
        load.wait_for(100)
        for o in load.acked_before(time.monotonic())[:20:4]:
            api.move(o["id"], "READY")
        dst = ops.db("sqlite")
        r = copy(src, dst)
        time.sleep(0.2)
    finally:
        load.stop()
    assert r.returncode == 0, r.stderr
    assert not load.errors, load.errors[:3]
    # everything in the copy agrees with itself, as it did at one instant
    (n, maxseq), = dst.query("SELECT count(*), max(sequence) FROM orders")
    (last,), = dst.query("SELECT last FROM counters")
    assert n == maxseq == last, f"orders {n}, highest number {maxseq}, counter {last}"
    # main's event ids are its count of events times 65536 plus 1
    (nev, maxev), = dst.query("SELECT count(*), max(id / 65536) FROM events")
    (evlast,), = dst.query("SELECT last FROM event_counters WHERE venue_id = 1")
    assert nev == maxev == evlast, f"events {nev}, highest count {maxev}, counter {evlast}"
    orphans = dst.query("SELECT count(*) FROM orders o WHERE NOT EXISTS "
                        "(SELECT 1 FROM events e WHERE e.order_id = o.id)")
    assert orphans == [("0",)]
    assert int(n) < len(load.acked), "the load should have gone on after the snapshot"


def test_copy_progress_bar_on_a_terminal(ops):
    src = ops.db("sqlite")
    api = ops.api(src)
    for _ in range(5):
        api.create()
    dst = ops.db("sqlite")
    master, slave = pty.openpty()
    p = subprocess.Popen([opskit.BIN, "copy", "--to", dst.url, "--database", src.url],
                         env=opskit.base_env(), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    os.close(master)
    assert p.wait(30) == 0, out
    text = out.decode(errors="replace")
    assert "\r" in text and "copying [" in text and "100%" in text, text
    assert "copied orders:" not in text, "plain progress lines are for pipes and logs"


def test_copy_plain_progress_when_not_a_terminal(ops):
    src = ops.db("sqlite")
    api = ops.api(src)
    for _ in range(3):
        api.create()
    dst = ops.db("sqlite")
    r = copy(src, dst)
    assert r.returncode == 0
    assert "\r" not in r.stderr and "copying [" not in r.stderr
    assert "copied orders: 3" in r.stderr, r.stderr


def test_failed_copy_leaves_the_target_without_it(kind, ops):
    src = ops.db("sqlite")
    api = ops.api(src)
    for _ in range(3):
        api.create()
    # damage the source: an event of an order that does not exist (SQLite
    # checks foreign keys only when asked, and this connection does not ask)
    src.execute_script("INSERT INTO events (venue_id, id, order_id, kind, status, previous_status, at) "
                       "VALUES (1, 9999, 424242, 'token', 'PENDING', NULL, 1);")
    dst = ops.db(kind)
    r = copy(src, dst)
    assert r.returncode == 1, r.stderr
    assert "the copy failed while copying events, so nothing was copied" in r.stderr, r.stderr
    if kind == "sqlite":
        assert not dst.path.exists(), "a new target file is removed when the copy fails"
    else:
        assert dst.query("SELECT count(*) FROM orders") == [("0",)]
        assert dst.query("SELECT count(*) FROM events") == [("0",)]
