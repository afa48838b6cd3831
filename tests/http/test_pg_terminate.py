"""PostgreSQL ends the server's connections.

A failover, a pooler restart or an administrator's pg_terminate_backend()
closes every connection a server holds, usually while it sits idle between
requests. Once /healthz answers 200 again, no request may fail because a
connection died while it was idle: every connection the server holds (the
issuer's, the request workers', the LISTEN connection and the event hub's)
notices by itself, or retries a statement that cannot have had an effect.

These tests end the backends of one test database only (refusing new
connections to it for a moment, as a failover does), so they leave the
shared PostgreSQL server running for the other tests.
"""

import http.client
import json
import socket
import threading
import time

import pytest

from conftest import PG_URL, Factory, order_body, psql


@pytest.fixture
def pg_factory(tmp_path):
    if not PG_URL:
        pytest.skip("TOKENQ_TEST_PG is not set: no PostgreSQL server to test against")
    f = Factory("postgres", tmp_path)
    yield f
    f.close()


def backends(db, app=None):
    """The pids of the server's backends on db (application_name tokenq/...)."""
    where = f"datname = '{db.name}' AND application_name LIKE 'tokenq%'"
    if app:
        where += f" AND application_name = '{app}'"
    out = psql(f"SELECT pid FROM pg_stat_activity WHERE {where}")
    return [int(x) for x in out.split() if x.isdigit()]


def terminate(db, refuse=True, app=None, hold=0.5):
    """Ends the server's backends on db (only those named app when given);
    with refuse, the database refuses connections for `hold` seconds first
    and accepts them again afterwards."""
    if refuse:
        psql(f"ALTER DATABASE {db.name} ALLOW_CONNECTIONS false")
    where = f"datname = '{db.name}' AND pid <> pg_backend_pid()"
    if app:
        where += f" AND application_name = '{app}'"
    psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {where}")
    deadline = time.monotonic() + 5
    while backends(db, app) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not backends(db, app), "the backends were not ended"
    time.sleep(hold)
    if refuse:
        psql(f"ALTER DATABASE {db.name} ALLOW_CONNECTIONS true")


def wait_healthy(api, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get("/healthz", key="", timeout=5)
        if r.status == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"/healthz not 200 within {timeout} s")


def ready_orders(api, n):
    out = []
    for _ in range(n):
        o = api.create("A")
        api.set_status(o["id"], "READY")
        out.append(o)
    return out


# Each route: (name, a function (api, orders, i) -> response). Every call
# after the recovery must succeed; each is made several times so that it
# meets more than one of the server's connections.
ROUTES = [
    ("POST /api/orders", lambda api, o, i: api.post("/api/orders", order_body("A"))),
    (
        "POST /api/orders (keyed)",
        lambda api, o, i: api.post(
            "/api/orders", order_body("A"), headers={"Idempotency-Key": f"term-{time.time_ns()}"}
        ),
    ),
    ("PATCH /api/orders/{id}", lambda api, o, i: api.patch(f"/api/orders/{o[i]['id']}", {"status": "COMPLETED"})),
    ("POST /api/orders/{id}/recall", lambda api, o, i: api.post(f"/api/orders/{o[i]['id']}/recall")),
    ("GET /api/orders/{id}", lambda api, o, i: api.get(f"/api/orders/{o[i]['id']}")),
    ("GET /api/orders", lambda api, o, i: api.get("/api/orders")),
    ("GET /api/tokens/{token}", lambda api, o, i: api.get(f"/api/tokens/{o[i]['token']}", key="")),
    ("GET /api/board", lambda api, o, i: api.get("/api/board", key="")),
    ("GET /api/stats", lambda api, o, i: api.get("/api/stats")),
    ("GET /api/orders.csv", lambda api, o, i: api.get("/api/orders.csv")),
    ("GET /metrics", lambda api, o, i: api.get("/metrics")),
    ("GET /api/orders/{id}/ticket", lambda api, o, i: api.get(f"/api/orders/{o[i]['id']}/ticket")),
]

CALLS = 8  # more than the server's request workers


@pytest.mark.parametrize("name,call", ROUTES, ids=[r[0] for r in ROUTES])
def test_first_requests_after_termination_succeed(pg_factory, name, call):
    api = pg_factory.api(queues="A=Orders")
    orders = ready_orders(api, CALLS)
    # Let every connection of the server go idle, as it would between customers.
    time.sleep(0.3)
    terminate(api.db)
    wait_healthy(api)
    for i in range(CALLS):
        r = call(api, orders, i)
        assert r.status in (200, 201), f"{name} call {i + 1} after the database came back: {r}"


def test_only_the_issuers_backend_ended(pg_factory):
    api = pg_factory.api(queues="A=Orders")
    api.create("A")
    assert backends(api.db, "tokenq/issuer"), "the issuer's connection is not named tokenq/issuer"
    terminate(api.db, refuse=False, app="tokenq/issuer", hold=0.2)
    for _ in range(3):
        o = api.create("A")
        assert o["status"] == "PENDING"


def test_event_stream_survives_termination(pg_factory):
    """A stream opened before the termination gets the events committed after
    it, and a stream opened after it starts normally."""
    api = pg_factory.api(queues="A=Orders")
    api.create("A")
    s = socket.create_connection((api.server.connect_host, api.server.port), timeout=10)
    s.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while b"tokenq event stream" not in got:
        got += s.recv(4096)
    time.sleep(0.3)
    terminate(api.db)
    wait_healthy(api)
    o = api.create("A")
    deadline = time.monotonic() + 5
    while f'"order_id":{o["id"]}'.encode() not in got and time.monotonic() < deadline:
        try:
            got += s.recv(65536)
        except socket.timeout:
            break
    s.close()
    assert f'"order_id":{o["id"]}'.encode() in got, "the open stream missed the order made after the termination"

    c = http.client.HTTPConnection(api.server.connect_host, api.server.port, timeout=5)
    c.request("GET", "/api/events?last_event_id=0")
    r = c.getresponse()
    assert r.status == 200
    c.close()


def test_no_503_after_recovery_under_load(pg_factory):
    """16 clients order, read and move orders while the backends are ended.
    Requests in flight at the moment of the termination may fail with 503;
    none started after /healthz answered 200 again may."""
    api = pg_factory.api(queues="A=Orders")
    seed = [api.create("A") for _ in range(16)]
    stop = threading.Event()
    results = []  # (started, status, what)
    lock = threading.Lock()

    def client(n):
        c = http.client.HTTPConnection(api.server.connect_host, api.server.port, timeout=20)
        hdrs = {"Authorization": "Bearer " + api.keys["admin"], "Content-Type": "application/json"}
        i = 0
        while not stop.is_set():
            i += 1
            kind = i % 4
            if kind == 0:
                req = ("POST", "/api/orders", json.dumps(order_body("A")))
            elif kind == 1:
                req = ("GET", f"/api/orders/{seed[n]['id']}", None)
            elif kind == 2:
                req = ("GET", "/api/board", None)
            else:
                req = ("GET", f"/api/tokens/{seed[n]['token']}", None)
            t0 = time.monotonic()
            try:
                c.request(req[0], req[1], body=req[2], headers=hdrs)
                r = c.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException):
                c.close()
                c = http.client.HTTPConnection(api.server.connect_host, api.server.port, timeout=20)
                status = None
            with lock:
                results.append((t0, status, f"{req[0]} {req[1]}"))
        c.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    terminate(api.db, hold=1.0)
    healthy_at = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = api.get("/healthz", key="", timeout=5)
        if r.status == 200:
            healthy_at = time.monotonic()
            break
        time.sleep(0.02)
    assert healthy_at is not None, "/healthz did not turn 200 after the database came back"
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join(30)
    after = [x for x in results if x[0] > healthy_at]
    bad = [x for x in after if x[1] not in (200, 201)]
    assert len(after) > 50, f"too few requests after the recovery to tell: {len(after)}"
    assert not bad, f"{len(bad)} of {len(after)} requests after /healthz was 200 failed: {bad[:10]}"
