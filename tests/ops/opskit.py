"""Helpers and fixtures for the operations tests (tests/ops): databases,
`tokenq serve` processes, a small HTTP client, and the CLI.

The fixtures live here, not in a conftest.py, and each test module imports
the ones it uses (`from opskit import ops, kind, pg`): a second conftest
module would shadow the one that tests/http imports names from when several
suites run in one pytest. `ops` is one test's environment (Env), which stops
its servers and drops its PostgreSQL databases afterwards, and prints the
servers' logs when the test failed; `kind` runs a test on SQLite and on
PostgreSQL; `pg` skips a test, with the reason, without PostgreSQL.

Standard library and pytest only. Environment:
  TOKENQ_BIN      the binary (default build/tokenq under the repo root)
  TOKENQ_TEST_PG  URL of a PostgreSQL server where each test may CREATE
                  DATABASE (dropped WITH (FORCE) afterwards); the PostgreSQL
                  cases are skipped when it is unset
"""

import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import tokenq_server  # noqa: E402
from tokenq_server import BIN, REPO, base_env, business_date  # noqa: E402,F401 (used by the tests)

PG_URL = os.environ.get("TOKENQ_TEST_PG")

# Servers run in UTC with the business day starting about 12 hours from
# now (SUITE_TZ, SUITE_DAY_START), so that no day boundary falls inside a run.


def run_cli(*args, db=None, env=None, timeout=120):
    """`tokenq ARGS [--database URL]` -> CompletedProcess (text)."""
    argv = [BIN, *args]
    if db is not None:
        argv += ["--database", db.url if hasattr(db, "url") else db]
    return subprocess.run(argv, env=base_env(env), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def one_sentence(stderr):
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"want one sentence on stderr, got:\n{stderr}"
    assert lines[0].startswith("tokenq: "), lines[0]
    return lines[0]


def psql(sql, url=None, tuples=False):
    argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    if tuples:
        argv += ["-At"]
    r = subprocess.run(argv + [url or PG_URL, "-f", "-"], input=sql, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, f"psql {sql[:200]!r} failed: {r.stderr}"
    return r.stdout


def pg_url_for(name):
    u = urllib.parse.urlsplit(PG_URL)
    return urllib.parse.urlunsplit(u._replace(path="/" + name))


class Db:
    """One database: a SQLite file in tmpdir, or a new database on TOKENQ_TEST_PG
    (created empty: brand-new, no tables)."""

    def __init__(self, kind, tmpdir, create=True):
        self.kind = kind
        if kind == "sqlite":
            self.name = f"ops_{uuid.uuid4().hex[:10]}.db"
            self.path = Path(tmpdir) / self.name
            self.url = f"sqlite:{self.path}"
        else:
            self.name = "ops_" + uuid.uuid4().hex[:16]
            self.path = None
            if create:
                psql(f"CREATE DATABASE {self.name}")
            self.url = pg_url_for(self.name)

    def drop(self):
        if self.kind == "postgres":
            with contextlib.suppress(Exception):
                psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")

    def query(self, sql):
        """Rows of a query, as tuples of text (None for NULL)."""
        if self.kind == "sqlite":
            import sqlite3
            con = sqlite3.connect(self.path)
            try:
                return [tuple(None if v is None else str(v) for v in row)
                        for row in con.execute(sql).fetchall()]
            finally:
                con.close()
        out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\x1f", "-P", "null=\x1e",
                              "-v", "ON_ERROR_STOP=1", self.url, "-c", sql],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        rows = []
        for line in out.stdout.splitlines():
            rows.append(tuple(None if v == "\x1e" else v for v in line.split("\x1f")))
        return rows

    def execute_script(self, sql):
        if self.kind == "sqlite":
            import sqlite3
            con = sqlite3.connect(self.path)
            try:
                con.executescript(sql)
                con.commit()
            finally:
                con.close()
        else:
            psql(sql, url=self.url)


class Server(tokenq_server.Server):
    """A `tokenq serve` process; its stderr goes to a log file."""

    READY_TIMEOUT = 15
    STOP_TIMEOUT = 15
    LOG_LINES = 60

    def __init__(self, db, logdir, env=None):
        super().__init__(db, logdir, env=env)


class Resp:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.text = raw.decode("utf-8", "replace")
        self.body = self.text
        if "json" in headers.get("content-type", ""):
            with contextlib.suppress(ValueError):
                self.body = json.loads(self.text)

    def __repr__(self):
        return f"<{self.status} {self.headers.get('content-type')} {self.text[:300]!r}>"


class Api:
    """A client for one server; key is a role name ("admin", "pos", "staff"),
    "" for none, or a secret."""

    def __init__(self, server, keys):
        self.server = server
        self.keys = keys

    def request(self, method, path, body=None, key="admin", headers=None):
        hdrs = {}
        if key:
            hdrs["Authorization"] = "Bearer " + self.keys.get(key, key)
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            c.request(method, path, body=data, headers=hdrs)
            r = c.getresponse()
            return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            c.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def create(self, items=None, queue=None, note=None, key="pos", headers=None, raw=None):
        body = {"items": items or [{"name": "Masala tea", "quantity": 2, "unit_price": 150}]}
        if queue is not None:
            body["queue"] = queue
        if note is not None:
            body["note"] = note
        r = self.request("POST", "/api/orders", raw if raw is not None else body, key=key,
                         headers=headers)
        assert r.status == 201, f"creating an order: {r}"
        return r.body

    def move(self, order_id, status, key="staff"):
        r = self.request("PATCH", f"/api/orders/{order_id}", {"status": status}, key=key)
        assert r.status == 200, f"PATCH {order_id} {status}: {r}"
        return r.body

    def recall(self, order_id):
        r = self.request("POST", f"/api/orders/{order_id}/recall", key="staff")
        assert r.status == 200, f"recall {order_id}: {r}"
        return r.body

    def list_all(self, query=""):
        out, after = [], None
        for _ in range(10000):
            q = f"/api/orders?limit=500{'&' + query if query else ''}"
            if after is not None:
                q += f"&after_id={after}"
            r = self.get(q)
            assert r.status == 200, f"GET {q}: {r}"
            out += r.body["orders"]
            after = r.body["next_after_id"]
            if after is None:
                return out
        raise AssertionError("paging does not end")


def create_key(db, role, label=None):
    args = ["keys", "create", "--role", role] + (["--label", label] if label else [])
    r = run_cli(*args, db=db)
    assert r.returncode == 0, f"keys create: {r.stderr}"
    return r.stdout.splitlines()[0].strip()


class Env:
    """What one test starts: databases and servers, all undone by close()."""

    def __init__(self, tmpdir):
        self.tmpdir = Path(tmpdir)
        self.dbs = []
        self.servers = []

    def db(self, kind):
        d = Db(kind, self.tmpdir)
        self.dbs.append(d)
        return d

    def adopt(self, db):
        self.dbs.append(db)
        return db

    def server(self, db, env=None):
        s = Server(db, self.tmpdir, env=env)
        self.servers.append(s)
        return s.start()

    def api(self, db, env=None, keys=None):
        """A server on db with a key per role (made first unless keys are given)."""
        if keys is None:
            keys = {role: create_key(db, role, f"{role}-key") for role in ("admin", "pos", "staff")}
        return Api(self.server(db, env=env), keys)

    def close(self):
        bad = []
        for s in self.servers:
            rc = s.stop()
            if rc != 0:
                bad.append(f"server on {s.db.url} exited {rc} after SIGTERM:\n{s.log_tail(30)}")
        for d in self.dbs:
            d.drop()
        assert not bad, "\n".join(bad)


class Load:
    """Threads posting orders until stopped (bounded in count and time); every
    acknowledged (201) order is recorded with the monotonic time of its answer."""

    def __init__(self, api, threads=4, max_orders=4000, max_seconds=60, queue=None):
        self.api = api
        self.nthreads = threads
        self.max_orders = max_orders
        self.deadline = time.monotonic() + max_seconds
        self.queue = queue
        self.acked = []  # (monotonic time of the 201, order)
        self.errors = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []

    def _run(self, n):
        i = 0
        while not self.stopping.is_set() and time.monotonic() < self.deadline:
            with self.lock:
                if len(self.acked) >= self.max_orders:
                    return
            i += 1
            body = {"items": [{"name": f"load {n}-{i}", "quantity": 1 + i % 3,
                               "unit_price": 100 + i}]}
            if self.queue:
                body["queue"] = self.queue
            try:
                r = self.api.request("POST", "/api/orders", body, key="pos")
            except OSError as e:
                with self.lock:
                    self.errors.append(repr(e))
                continue
            t = time.monotonic()
            with self.lock:
                if r.status == 201:
                    self.acked.append((t, r.body))
                else:
                    self.errors.append(repr(r))

    def start(self):
        for n in range(self.nthreads):
            th = threading.Thread(target=self._run, args=(n,), daemon=True)
            th.start()
            self.threads.append(th)
        return self

    def wait_for(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.acked) >= count:
                    return
            time.sleep(0.01)
        raise AssertionError(f"the load made only {len(self.acked)} orders: {self.errors[:3]}")

    def acked_before(self, t):
        with self.lock:
            return [o for (at, o) in self.acked if at < t]

    def stop(self):
        self.stopping.set()
        for th in self.threads:
            th.join(60)
        return self


def need_pg():
    if not PG_URL:
        pytest.skip("TOKENQ_TEST_PG is not set: no PostgreSQL server to test against "
                    "(tests/pg.sh start DIR PORT prints one)")


def have(tool):
    return shutil.which(tool) is not None


# ---------------------------------------------------------------- fixtures


def _binary_exists():
    if not os.path.exists(BIN):
        pytest.exit(f"tokenq binary {BIN} not found: build it (make) or set TOKENQ_BIN",
                    returncode=2)


@pytest.fixture(params=["sqlite", "postgres"])
def kind(request):
    if request.param == "postgres":
        need_pg()
    return request.param


@pytest.fixture
def pg():
    need_pg()
    return PG_URL


@pytest.fixture
def ops(request, tmp_path):
    _binary_exists()
    failed_before = request.session.testsfailed
    e = Env(tmp_path)
    yield e
    try:
        e.close()
    finally:
        if request.session.testsfailed > failed_before:
            for s in e.servers:
                print(f"---- tokenq log, {s.db.url} ----\n{s.log_tail()}")
