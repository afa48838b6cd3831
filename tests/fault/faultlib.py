"""Helpers for the fault-injection tests (tests/fault): real `tokenq serve`
processes, a throwaway PostgreSQL cluster of their own, an HTTP client,
a multi-threaded order load, and the checks every fault ends with
(acknowledged orders present, gapless numbers, database integrity).

Standard library only; PostgreSQL is reached with the psql CLI.

Environment:
  TOKENQ_BIN          the binary (default build/tokenq under the repo root)
  TOKENQ_TEST_PG      a PostgreSQL server URL where databases may be created
                      (optional: the tests start their own cluster otherwise)
  TOKENQ_FAULT_PG_PORTS  ports this suite may give its own clusters
                      (default 55501-55509)
"""

import contextlib
import http.client
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import tokenq_server  # noqa: E402
from tokenq_server import BIN, PG_SH, REPO, base_env, free_port  # noqa: E402,F401

QUEUES = "A=Dine-in,B=Takeaway"

# Servers run in UTC with the business day starting ~12 hours from now, so
# that no day boundary falls inside a test.
DAY_START = tokenq_server.SUITE_DAY_START


def business_date(now=None):
    return tokenq_server.business_date("UTC", DAY_START, now)


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def pg_ports():
    spec = os.environ.get("TOKENQ_FAULT_PG_PORTS", "55501-55509")
    lo, _, hi = spec.partition("-")
    return range(int(lo), int(hi or lo) + 1)


# ---------------------------------------------------------------- PostgreSQL


def psql(url, sql, timeout=60, check=True):
    """Runs sql with psql; returns stdout rows as lists of fields (unaligned, |)."""
    r = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert r.returncode == 0, f"psql {sql!r} failed: {r.stderr}"
    return [line.split("|") for line in r.stdout.splitlines() if line != ""]


class PgCluster:
    """A PostgreSQL cluster of this suite's own (tests/pg.sh), on a port from
    TOKENQ_FAULT_PG_PORTS, in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tokenq-fault-pg.")
        os.chmod(self.dir, 0o755)
        self.url = None
        for port in pg_ports():
            if not port_free(port):
                continue
            r = subprocess.run(
                ["sh", PG_SH, "start", self.dir, str(port)], capture_output=True, text=True, timeout=180
            )
            if r.returncode == 0:
                self.port = port
                self.url = r.stdout.strip().splitlines()[-1]
                break
            # Another run took the port meanwhile: clean up and try the next one.
            subprocess.run(["sh", PG_SH, "stop", self.dir, "immediate"], capture_output=True, timeout=60)
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = tempfile.mkdtemp(prefix="tokenq-fault-pg.")
            os.chmod(self.dir, 0o755)
        if self.url is None:
            raise RuntimeError("no free port for a PostgreSQL cluster in " + str(list(pg_ports())))

    def stop(self, mode="fast"):
        r = subprocess.run(["sh", PG_SH, "stop", self.dir, mode], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr

    def restart(self, mode="fast"):
        """tests/pg.sh restart: stop (if running) with mode, then start."""
        r = subprocess.run(["sh", PG_SH, "restart", self.dir, mode], capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr

    def destroy(self):
        subprocess.run(["sh", PG_SH, "stop", self.dir, "immediate"], capture_output=True, timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


class Db:
    """A database for one test: a SQLite file, or a fresh PostgreSQL database
    on the server at admin_url."""

    def __init__(self, backend, tmpdir, admin_url=None, path=None):
        self.backend = backend
        if backend == "sqlite":
            self.path = str(path or Path(tmpdir) / f"t_{uuid.uuid4().hex[:10]}.db")
            self.url = "sqlite:" + self.path
        else:
            self.admin_url = admin_url
            self.name = "f_" + uuid.uuid4().hex[:16]
            psql(admin_url, f"CREATE DATABASE {self.name}")
            u = urllib.parse.urlsplit(admin_url)
            self.url = urllib.parse.urlunsplit(u._replace(path="/" + self.name))

    def query(self, sql):
        """Rows of a query, as lists of strings (None for NULL on SQLite)."""
        if self.backend == "sqlite":
            con = sqlite3.connect(self.path, timeout=30)
            try:
                return [[None if v is None else str(v) for v in row] for row in con.execute(sql)]
            finally:
                con.close()
        return psql(self.url, sql)

    def drop(self):
        if self.backend != "sqlite":
            with contextlib.suppress(Exception):
                psql(self.admin_url, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


# ---------------------------------------------------------------- server


def server_env(extra=None):
    """base_env (UTC, the suite's day start) with the suite's queues, then extra."""
    return base_env({"TOKENQ_QUEUES": QUEUES, **(extra or {})})


class Server(tokenq_server.Server):
    """A `tokenq serve` process; its stderr goes to a log file."""

    READY_TIMEOUT = 20
    STOP_TIMEOUT = 15
    LOG_LINES = 60

    def __init__(self, db, logdir, env=None, port=None, argv_prefix=()):
        super().__init__(db, logdir, env=env, port=port, argv_prefix=argv_prefix)

    def environment(self):
        return server_env(self.env)

    def rss_kb(self):
        return proc_status(self.pid).get("VmRSS", 0)

    def nfds(self):
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return -1


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                v = v.strip()
                if v.endswith(" kB"):
                    out[k] = int(v[:-3])
                else:
                    out[k] = v
    except OSError:
        pass
    return out


# ---------------------------------------------------------------- HTTP


class Resp:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.raw = raw
        self.body = None
        try:
            self.body = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            pass

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


def request(port, method, path, body=None, headers=None, timeout=10, conn=None):
    """One request; with conn (an http.client.HTTPConnection) it is reused."""
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=data, headers=hdrs)
        r = c.getresponse()
        return Resp(r.status, r.getheaders(), r.read())
    finally:
        if conn is None:
            c.close()


def order_body(rng, queue=None, big=False):
    n = rng.randint(1, 4) if not big else 200
    items = [
        {
            "name": ("Masala tea " + uuid.uuid4().hex) if not big else ("N" * 110 + uuid.uuid4().hex[:10]),
            "quantity": rng.randint(1, 5),
            "unit_price": rng.randint(0, 2000),
        }
        for _ in range(n)
    ]
    body = {"queue": queue or rng.choice("AB"), "items": items}
    if big:
        body["note"] = "x" * 500
    return json.dumps(body, separators=(",", ":")).encode()


# ---------------------------------------------------------------- load


class Load:
    """n threads, each with a keep-alive connection, posting orders until
    stopped. A share of the orders carry an Idempotency-Key. Records every
    acknowledged order (201, or 200 replay), every status seen, and the keyed
    requests whose outcome is unknown (the connection broke)."""

    def __init__(self, port, threads=64, keyed=0.3, seed=None, retry_keyed=False, big=False):
        self.port = port
        self.n = threads
        self.keyed = keyed
        self.retry_keyed = retry_keyed
        self.big = big
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.acked = {}  # order id -> order JSON (+ "_key")
        self.by_key = {}  # key -> order id (acknowledged)
        self.in_doubt = {}  # key -> body: sent, no answer
        self.statuses = {}
        self.bad = []  # unexpected answers
        self.seed = seed if seed is not None else random.randrange(1 << 30)
        self.threads = []
        self.stopped_at = 0.0

    def start(self):
        for i in range(self.n):
            t = threading.Thread(target=self._run, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self, timeout=90):
        self.stopped_at = time.monotonic()
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout)

    def count(self, status):
        with self.lock:
            return self.statuses.get(status, 0)

    def _note(self, status):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def _ack(self, resp, key):
        o = resp.body
        if key is not None:
            o = dict(o, _key=key)
        with self.lock:
            self.acked[o["id"]] = o
            if key is not None:
                self.by_key[key] = o["id"]
                self.in_doubt.pop(key, None)

    def _run(self, i):
        rng = random.Random(self.seed * 1000 + i)
        conn = None
        pending = None  # (key, body) to retry with the same key
        while not self.stop_flag.is_set() or (pending is not None and self.retry_keyed):
            if self.stop_flag.is_set() and time.monotonic() - self.stopped_at > 60:
                with self.lock:
                    self.bad.append(f"gave up retrying key {pending[0]} 60 s after the load stopped")
                break
            if pending is not None:
                key, body = pending
            else:
                key = f"k-{uuid.uuid4().hex}" if rng.random() < self.keyed else None
                body = order_body(rng, big=self.big)
            hdrs = {"Content-Type": "application/json"}
            if key:
                hdrs["Idempotency-Key"] = key
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("POST", "/api/orders", body=body, headers=hdrs)
                r = conn.getresponse()
                resp = Resp(r.status, r.getheaders(), r.read())
                if resp.headers.get("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                self._note("conn_error")
                if conn is not None:
                    conn.close()
                conn = None
                if key:
                    with self.lock:
                        if key not in self.by_key:
                            self.in_doubt[key] = body
                    if self.retry_keyed:
                        pending = (key, body)
                time.sleep(0.05 + rng.random() * 0.1)
                if self.stop_flag.is_set() and not self.retry_keyed:
                    break
                continue
            self._note(resp.status)
            if resp.status == 201 or (resp.status == 200 and key):
                self._ack(resp, key)
                pending = None
            elif resp.status in (503, 507) or (resp.status == 409 and key):
                if resp.status in (503, 507):
                    code = (resp.body or {}).get("code")
                    if code not in ("database_unavailable", "storage_full") or "retry-after" not in resp.headers:
                        with self.lock:
                            self.bad.append(resp)
                if key:
                    with self.lock:
                        if key not in self.by_key:
                            self.in_doubt[key] = body
                    if self.retry_keyed:
                        pending = (key, body)
                time.sleep(0.05 + rng.random() * 0.15)
            else:
                with self.lock:
                    self.bad.append(resp)
                pending = None
        if conn is not None:
            conn.close()


# ---------------------------------------------------------------- checks


def check_sequences(db):
    """Per queue and business date, the committed orders carry exactly
    1..N, each once; the counter row says N; event ids are 1..M with one
    creation event per order (the venue's counts 1..M); no idempotency key is left without its order.
    Returns the number of orders."""
    rows = db.query(
        "SELECT o.queue, o.business_date, o.n, o.nd, o.lo, o.hi, c.last FROM "
        "(SELECT venue_id, queue, business_date, count(*) AS n, count(DISTINCT sequence) AS nd, "
        "min(sequence) AS lo, max(sequence) AS hi FROM orders GROUP BY venue_id, queue, business_date) o "
        "LEFT JOIN counters c ON c.venue_id = o.venue_id AND c.queue = o.queue "
        "AND c.business_date = o.business_date ORDER BY 1, 2"
    )
    total = 0
    for q, d, n, nd, lo, hi, last in rows:
        n, nd, lo, hi = int(n), int(nd), int(lo), int(hi)
        assert n == nd, f"{q} {d}: {n} orders but {nd} distinct numbers (a duplicate)"
        assert lo == 1 and hi == n, f"{q} {d}: numbers {lo}..{hi} for {n} orders (a gap)"
        assert last is not None and int(last) == n, f"{q} {d}: counter says {last} for {n} orders"
        total += n
    ev = db.query(
        # an event's id is its venue's count times 65536 plus the venue (main: 1)
        "SELECT (SELECT count(*) FROM events WHERE id % 65536 = 1), (SELECT count(DISTINCT id) FROM events), "
        "(SELECT coalesce(min(id / 65536), 0) FROM events), (SELECT coalesce(max(id / 65536), 0) FROM events), "
        "(SELECT last FROM event_counters WHERE venue_id = 1), "
        "(SELECT count(*) FROM events WHERE previous_status IS NULL AND kind = 'token'), "
        "(SELECT count(*) FROM idempotency_keys WHERE order_id IS NULL)"
    )[0]
    n, nd, lo, hi, last, created, lost = (int(x) for x in ev)
    assert n == nd and (n == 0 or (lo == 1 and hi == n)), f"event ids: {n} events, counts {lo}..{hi}"
    assert last == hi, f"event_counters.last {last}, the latest event's count {hi}"
    assert created == total, f"{total} orders but {created} creation events"
    assert lost == 0, f"{lost} idempotency keys without an order (claimed, never finished)"
    return total


def check_integrity(db):
    """SQLite: PRAGMA integrity_check and foreign_key_check. PostgreSQL:
    amcheck's bt_index_check (heapallindexed) on every index of the tokenq
    tables, when contrib is installed; else consistency queries."""
    if db.backend == "sqlite":
        con = sqlite3.connect(db.path, timeout=30)
        try:
            res = [r[0] for r in con.execute("PRAGMA integrity_check")]
            assert res == ["ok"], f"integrity_check: {res[:10]}"
            fk = list(con.execute("PRAGMA foreign_key_check"))
            assert not fk, f"foreign_key_check: {fk[:10]}"
        finally:
            con.close()
        return "integrity_check ok"
    have = psql(db.url, "SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'")[0][0]
    if have != "0":
        rows = psql(
            db.url,
            "CREATE EXTENSION IF NOT EXISTS amcheck; "
            "SELECT c.relname, bt_index_check(c.oid, true) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_am a ON a.oid = c.relam "
            "WHERE t.relnamespace = 'public'::regnamespace AND a.amname = 'btree'",
        )
        assert rows, "no index checked"
        return f"amcheck bt_index_check ok on {len(rows)} indexes"
    # Without amcheck: what the indexes promise, read back from the heap.
    dup = psql(
        db.url,
        "SELECT count(*) FROM (SELECT queue, business_date, sequence FROM orders "
        "GROUP BY 1, 2, 3 HAVING count(*) > 1) d",
    )[0][0]
    assert dup == "0", "duplicate numbers in the heap"
    orphan = psql(db.url, "SELECT count(*) FROM events e LEFT JOIN orders o ON o.id = e.order_id WHERE o.id IS NULL")
    assert orphan[0][0] == "0", "events without an order"
    return "consistency queries ok (amcheck not installed)"


def list_orders(port, date=None, queue=None):
    """Every order of a business date (default today), through GET /api/orders
    pages of 500, following next_after_id; as {id: order}."""
    out, after = {}, None
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for _ in range(100000):
            q = f"/api/orders?limit=500&date={date or business_date()}"
            if queue:
                q += f"&queue={queue}"
            if after is not None:
                q += f"&after_id={after}"
            r = request(port, "GET", q, conn=conn)
            assert r.status == 200, f"GET {q}: {r}"
            for o in r.body["orders"]:
                assert o["id"] not in out, f"order {o['id']} listed twice"
                out[o["id"]] = o
            after = r.body["next_after_id"]
            if after is None:
                return out
    finally:
        conn.close()
    raise AssertionError("paging does not end")


FIELDS = ("token", "queue", "sequence", "business_date", "total", "items")


def check_acked(port, acked, sample=200, pending_only=True):
    """Every acknowledged order is there with its token and number: all of
    them through the listing, and a sample one by one (GET /api/orders/{id})."""
    dates = {o["business_date"] for o in acked.values()}
    listed = {}
    for d in dates:
        listed.update(list_orders(port, d))
    for oid, o in acked.items():
        b = listed.get(oid)
        assert b is not None, f"acknowledged order {oid} ({o['token']}) is gone"
        for f in FIELDS:
            assert b[f] == o[f], f"order {oid}: {f} was {o[f]!r}, now {b[f]!r}"
        if pending_only:
            assert b["status"] == "PENDING", f"order {oid} is {b['status']}"
    ids = sorted(acked)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for oid in random.sample(ids, min(sample, len(ids))):
            r = request(port, "GET", f"/api/orders/{oid}", conn=conn)
            assert r.status == 200, f"acknowledged order {oid} is gone: {r}"
            for f in FIELDS:
                assert r.body[f] == acked[oid][f], f"order {oid}: {f} differs"
            assert r.body["history"] and r.body["history"][0]["previous_status"] is None
    finally:
        conn.close()
    return len(acked)
