"""HTTP acceptance tests for tokenq: fixtures shared by every test file.

The suite checks the server against its documented API (docs/api.md), from
the outside: it starts real `tokenq serve` processes on SQLite and on
PostgreSQL, creates keys with the `tokenq keys` command, and talks HTTP.

Environment:
  TOKENQ_BIN          the binary (default build/tokenq under the repo root)
  TOKENQ_TEST_PG      URL of a throwaway PostgreSQL server; each server
                      fixture gets a fresh database on it (postgres tests are
                      skipped when it is unset)
  TOKENQ_TEST_PG_DIR  that server's cluster directory, for tests/pg.sh
                      (the outage tests, `-m outage`, need it)

Every server's stderr goes to a log file, shown in the report of a failing
test that used the server.

Run:  /usr/bin/python3 -m pytest tests/http -q            (everything)
      /usr/bin/python3 -m pytest tests/http -q -m outage  (only the outage tests,
                                                            which always run last)
"""

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import tokenq_server  # noqa: E402
from tokenq_server import (  # noqa: E402,F401 (the names the test files import from here)
    BIN,
    PG_SH,
    REPO,
    SUITE_DAY_START,
    SUITE_TZ,
    base_env,
    business_date,
    free_port,
)

PG_URL = os.environ.get("TOKENQ_TEST_PG")
PG_DIR = os.environ.get("TOKENQ_TEST_PG_DIR")

ROLES = ("admin", "pos", "staff")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NOTSET = object()

# Servers of this suite run in UTC with the business day starting about 12
# hours from now (SUITE_TZ, SUITE_DAY_START: tests/lib/tokenq_server.py).


def suite_business_date():
    return business_date(SUITE_TZ, SUITE_DAY_START)


# ---------------------------------------------------------------- helpers


def run_cli(*args, db=None, env=None, timeout=30, input=None):
    """Runs `tokenq ARGS [--database URL]`; returns CompletedProcess (text)."""
    argv = [BIN, *args]
    if db is not None:
        argv += ["--database", db.url if hasattr(db, "url") else db]
    return subprocess.run(
        argv,
        env=base_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def psql(sql, url=None):
    r = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url or PG_URL, "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, f"psql {sql!r} failed: {r.stderr}"
    return r.stdout


def pg_ctl(cmd, mode="fast"):
    r = subprocess.run(
        ["sh", PG_SH, cmd, PG_DIR, mode], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, f"tests/pg.sh {cmd} failed: {r.stderr}"


class Db:
    """One database: a SQLite file or a fresh database on TOKENQ_TEST_PG."""

    def __init__(self, backend, tmpdir):
        self.backend = backend
        if backend == "sqlite":
            self.name = f"t_{uuid.uuid4().hex[:10]}.db"
            self.url = "sqlite:" + str(Path(tmpdir) / self.name)
        else:
            self.name = "t_" + uuid.uuid4().hex[:16]
            psql(f"CREATE DATABASE {self.name}")
            u = urllib.parse.urlsplit(PG_URL)
            self.url = urllib.parse.urlunsplit(u._replace(path="/" + self.name))

    @property
    def kind(self):
        return "sqlite" if self.backend == "sqlite" else "postgresql"

    def drop(self):
        """PostgreSQL databases are dropped together at the end of the run
        (see _drop_databases): dropping one costs a checkpoint."""
        if self.backend == "postgres":
            _to_drop.append(self.name)


_to_drop = []


@pytest.fixture(scope="session", autouse=True)
def _drop_databases():
    yield
    if _to_drop and PG_URL:
        argv = ["psql", "-X", "-q", PG_URL]
        for name in _to_drop:
            argv += ["-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"]
        subprocess.run(argv, capture_output=True, timeout=300)


def create_key(db, role, label=None):
    """`tokenq keys create`; returns the secret (stdout's first line)."""
    args = ["keys", "create", "--role", role]
    if label is not None:
        args += ["--label", label]
    r = run_cli(*args, db=db)
    assert r.returncode == 0, f"keys create failed ({r.returncode}): {r.stderr}"
    secret = r.stdout.splitlines()[0].strip() if r.stdout else ""
    assert secret, f"keys create printed no secret: {r.stdout!r} {r.stderr!r}"
    return secret


def create_keys(db, roles):
    """One key per role, labelled ROLE-key: {role: secret}. The first is made
    alone (it may migrate a brand-new database), the others side by side."""
    keys = {}
    if not roles:
        return keys
    keys[roles[0]] = create_key(db, roles[0], label=f"{roles[0]}-key")
    procs = {
        role: subprocess.Popen(
            [BIN, "keys", "create", "--role", role, "--label", f"{role}-key", "--database", db.url],
            env=base_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL)
        for role in roles[1:]
    }
    for role, p in procs.items():
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, f"keys create --role {role} failed ({p.returncode}): {err}"
        keys[role] = out.splitlines()[0].strip()
        assert keys[role], f"keys create printed no secret: {out!r} {err!r}"
    return keys


def key_id(db, label):
    """The id of the key with this (unique) label, from `tokenq keys list`."""
    r = run_cli("keys", "list", db=db)
    assert r.returncode == 0, r.stderr
    for line in r.stdout.splitlines():
        if label in line:
            m = re.search(r"\d+", line)
            assert m, f"no id in keys list line {line!r}"
            return m.group(0)
    raise AssertionError(f"label {label!r} not in keys list:\n{r.stdout}")


def revoke_key(db, label):
    kid = key_id(db, label)
    r = run_cli("keys", "revoke", kid, db=db)
    assert r.returncode == 0, f"keys revoke {kid} failed: {r.stderr}"


# ---------------------------------------------------------------- server

_started_in_test = []


class Server(tokenq_server.Server):
    """A `tokenq serve` process with its stderr in a log file, named after its
    backend and port; the servers a test started are shown in its report
    when it fails."""

    def __init__(self, db, logdir, env=None, host="127.0.0.1", args=()):
        super().__init__(db, logdir, env=env, host=host, args=args)
        self.name = f"{db.backend}:{self.port}"

    def start(self, wait=True):
        super().start(wait=False)
        _started_in_test.append(self)
        if wait:
            self.wait_ready()
        return self


class Resp:
    """status, headers (lower-case names), body (JSON when it parses, else
    text), raw (bytes). Unpacks as (status, headers, body)."""

    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.text = raw.decode("utf-8", "replace")
        self.body = self.text
        if "json" in headers.get("content-type", "").lower():
            try:
                self.body = json.loads(self.text)
            except ValueError:
                pass

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    def __repr__(self):
        return f"<{self.status} {self.headers.get('content-type')} {self.text[:300]!r}>"


class Api:
    """A client for one server. `key` in request(): None = the admin key,
    "" = no Authorization header, a role name = that role's key, anything
    else = sent as the bearer secret."""

    def __init__(self, server, keys):
        self.server = server
        self.keys = keys
        self.db = server.db

    def request(self, method, path, body=None, headers=None, key=None, timeout=30):
        hdrs = {}
        if key is None:
            key = "admin" if "admin" in self.keys else ""
        if key:
            hdrs["Authorization"] = "Bearer " + self.keys.get(key, key)
        data = None
        if body is not None:
            if isinstance(body, bytes):
                data = body
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = json.dumps(body, ensure_ascii=False).encode()
            hdrs["Content-Type"] = "application/json"
        for k, v in (headers or {}).items():
            for existing in [h for h in hdrs if h.lower() == k.lower()]:
                del hdrs[existing]
            if v is not None:
                hdrs[k] = v
        c = http.client.HTTPConnection(self.server.connect_host, self.server.port, timeout=timeout)
        try:
            c.request(method, path, body=data, headers=hdrs)
            r = c.getresponse()
            raw = r.read()
            return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, raw)
        finally:
            c.close()

    # shortcuts
    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def create(self, queue="A", items=None, key=None, headers=None, **extra):
        """POSTs a valid order and returns it (asserting 201)."""
        body = order_body(queue, items, **extra)
        r = self.post("/api/orders", body, key=key, headers=headers)
        assert r.status == 201, f"creating an order: {r}"
        return r.body

    def set_status(self, order_id, status, key=None):
        r = self.patch(f"/api/orders/{order_id}", {"status": status}, key=key)
        assert r.status == 200, f"PATCH {order_id} to {status}: {r}"
        return r.body

    def order(self, order_id):
        r = self.get(f"/api/orders/{order_id}")
        assert r.status == 200, f"GET /api/orders/{order_id}: {r}"
        return r.body

    def create_key(self, role, label=None):
        return create_key(self.db, role, label)


# Every answer an Api receives is checked against the OpenAPI document
# (web/openapi.json), so the document cannot drift from the server.
sys.path.insert(0, str(REPO / "tests" / "openapi"))
import hook  # noqa: E402

hook.install(Api)


def list_all(api, query=""):
    """Every order GET /api/orders?QUERY lists, following next_after_id."""
    out, after = [], None
    for _ in range(1000):
        q = f"/api/orders?limit=500{'&' + query if query else ''}"
        if after is not None:
            q += f"&after_id={after}"
        r = api.get(q)
        assert r.status == 200, f"GET {q}: {r}"
        out += r.body["orders"]
        after = r.body["next_after_id"]
        if after is None:
            return out
    raise AssertionError("paging does not end")


def order_body(queue="A", items=None, **extra):
    body = {}
    if queue is not None:
        body["queue"] = queue
    body["items"] = items if items is not None else [{"name": "Masala tea", "quantity": 2, "unit_price": 150}]
    body.update(extra)
    return body


@contextlib.contextmanager
def no_new_order(api, queue="A"):
    """Asserts that whatever runs inside wrote no order: the next accepted
    order takes the number right after the one accepted before."""
    before = api.create(queue=queue)
    yield
    after = api.create(queue=queue)
    assert after["sequence"] == before["sequence"] + 1, (
        f"a refused request used a number: {before['token']} then {after['token']}"
    )


def assert_problem(r, status, code=None, field=NOTSET):
    """An RFC 9457 problem document with this status, code and field."""
    assert r.status == status, f"expected {status} {code or ''} {'' if field is NOTSET else field}, got {r}"
    ct = r.headers.get("content-type", "")
    assert ct.split(";")[0].strip().lower() == "application/problem+json", f"content type {ct!r}: {r}"
    b = r.body
    assert isinstance(b, dict), f"problem body is not a JSON object: {r}"
    assert b.get("status") == status, f"problem status member: {b}"
    assert isinstance(b.get("title"), str) and b["title"], f"problem title: {b}"
    assert isinstance(b.get("detail"), str) and b["detail"], f"problem detail: {b}"
    if code is not None:
        assert b.get("code") == code, f"expected code {code}, got {b}"
    if field is not NOTSET:
        assert b.get("field") == field, f"expected field {field!r}, got {b}"
    return b


def assert_json_ct(r):
    ct = r.headers.get("content-type", "").lower().replace(" ", "")
    assert ct in ("application/json", "application/json;charset=utf-8"), f"content type {ct!r}: {r}"


# ---------------------------------------------------------------- raw sockets


def raw_request(server, data, timeout=10, shut_write=False, chunks=None, delay=0.0):
    """Sends raw bytes (or `chunks` with `delay` between them) and reads the
    answer until the server closes or a full response is in. Returns
    (status or None, headers, body bytes, all bytes)."""
    s = socket.create_connection((server.connect_host, server.port), timeout=timeout)
    buf = b""
    try:
        try:
            if chunks is None:
                s.sendall(data)
            else:
                for ch in chunks:
                    s.sendall(ch)
                    if delay:
                        time.sleep(delay)
            if shut_write:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                part = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not part:
                break
            buf += part
            parsed = parse_response(buf)
            if parsed and parsed[3]:
                break
    finally:
        s.close()
    parsed = parse_response(buf)
    if not parsed:
        return None, {}, b"", buf
    return parsed[0], parsed[1], parsed[2], buf


def parse_response(buf):
    """(status, headers, body, complete) or None when no full head yet."""
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        return None
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = headers.get("content-length")
    if n is not None and n.isdigit():
        complete = len(rest) >= int(n)
        rest = rest[: int(n)]
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        complete = rest.endswith(b"0\r\n\r\n")
        rest = _dechunk(rest) if complete else rest
    else:
        complete = False
    return int(m.group(1)), headers, rest, complete


def _dechunk(data):
    out = b""
    while data:
        size, _, data = data.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            break
        out += data[:n]
        data = data[n + 2 :]
    return out


def read_stream(server, path, headers=None, want=1, timeout=5):
    """GETs an event stream until `want` messages are in (or timeout);
    returns (status, headers, the dechunked body)."""
    s = socket.create_connection((server.connect_host, server.port), timeout=timeout)
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    buf = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                part = s.recv(65536)
            except socket.timeout:
                break
            if not part:
                break
            buf += part
            head, _, rest = buf.partition(b"\r\n\r\n")
            if rest and _dechunk(rest).count(b"\ndata: ") >= want:
                break
    finally:
        s.close()
    parsed = parse_response(buf)
    assert parsed, f"no answer: {buf[:300]!r}"
    status, hdrs, rest, _ = parsed
    if "chunked" in hdrs.get("transfer-encoding", ""):
        rest = _dechunk(rest)
    return status, hdrs, rest


def raw_resp(status, headers, body):
    """A Resp from raw_request's parts (status must not be None)."""
    return Resp(status, headers, body)


def http_bytes(method, path, body=b"", headers=None, key=None, content_type="application/json"):
    """Builds a raw HTTP/1.1 request with Connection: close."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    if content_type and body:
        lines.append(f"Content-Type: {content_type}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    head = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n"
    return head + body


# ---------------------------------------------------------------- fixtures


def pytest_configure(config):
    config.addinivalue_line("markers", "outage: stops and restarts PostgreSQL itself; runs last")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda it: 1 if it.get_closest_marker("outage") else 0)


def pytest_runtest_setup(item):
    _started_in_test.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    servers = list(_started_in_test)
    for v in getattr(item, "funcargs", {}).values():
        s = getattr(v, "server", v)
        if isinstance(s, Server) and s not in servers:
            servers.append(s)
    for s in servers:
        rep.sections.append((f"tokenq log {s.name} ({s.log_path})", s.log_tail()))


def _backend_param(request):
    if request.param == "postgres" and not PG_URL:
        pytest.skip("TOKENQ_TEST_PG is not set: no PostgreSQL server to test against")
    return request.param


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request):
    return _backend_param(request)


@pytest.fixture(scope="session", autouse=True)
def _binary_exists():
    if not os.path.exists(BIN):
        pytest.exit(f"tokenq binary {BIN} not found: build it (make) or set TOKENQ_BIN", returncode=2)


class Factory:
    """Starts servers (each on a database of its own unless `db` is given)
    and stops them, dropping their databases, at close()."""

    def __init__(self, backend, tmpdir):
        self.backend = backend
        self.tmpdir = tmpdir
        self.servers = []
        self.dbs = []

    def db(self):
        d = Db(self.backend, self.tmpdir)
        self.dbs.append(d)
        return d

    def server(self, db=None, queues=None, env=None, host="127.0.0.1", args=(), start=True):
        env = dict(env or {})
        if queues is not None:
            env["TOKENQ_QUEUES"] = queues
        s = Server(db or self.db(), self.tmpdir, env=env, host=host, args=args)
        self.servers.append(s)
        if start:
            s.start()
        return s

    def api(self, queues=None, env=None, roles=ROLES, host="127.0.0.1", db=None):
        """A server with a key per role (none if roles is empty) and its client."""
        db = db or self.db()
        keys = create_keys(db, roles)
        s = self.server(db=db, queues=queues, env=env, host=host)
        return Api(s, keys)

    def close(self):
        errors = []
        for s in self.servers:
            if s.running():
                rc = s.stop()
                if rc != 0:
                    errors.append(f"server {s.name} exit status after SIGTERM: {rc} (want 0 within 10 s)\n{s.log_tail(40)}")
        for d in self.dbs:
            d.drop()
        assert not errors, "\n".join(errors)


@pytest.fixture(scope="module")
def module_factory(backend, tmp_path_factory):
    f = Factory(backend, tmp_path_factory.mktemp(f"srv-{backend}"))
    yield f
    f.close()


@pytest.fixture
def factory(backend, tmp_path):
    f = Factory(backend, tmp_path)
    yield f
    f.close()


@pytest.fixture(scope="module")
def api(module_factory):
    """The module's shared server: queues A, B and TX, a key per role."""
    return module_factory.api(queues="A=Dine-in,B=Takeaway,TX=Tax desk")


# ---- the route table, for tests that go over every route ----


def route_table():
    r = run_cli("routes")
    assert r.returncode == 0, r.stderr
    table = []
    for line in r.stdout.splitlines():
        method, path, roles = line.split("\t")
        table.append((method, path, roles))
    assert table, "tokenq routes printed no route"
    return table


def concrete(path, order):
    return (path.replace("{id}", str(order["id"]))
                .replace("{token}", order["token"])
                .replace("{name}", "board.js")
                .replace("{venue}", "main"))


def body_for(method, path):
    """A body with which the request would succeed: so a 401/403 can only
    come from the role check."""
    if method == "POST" and path == "/api/orders":
        return order_body("A")
    if method == "PATCH" and path == "/api/orders/{id}":
        return {"status": "PREPARING"}
    if method == "POST" and path == "/api/webhooks":
        return {"url": "http://127.0.0.1:9/roles", "allow_private": True}
    return None
