"""PostgreSQL stopped under a running server (docs/api.md: 503
database_unavailable, /healthz, and "Public routes that need the database
answer 503 while it is down"): refusals while it is down, recovery by itself,
and no acknowledged order lost. These stop the shared test PostgreSQL, so
they run last (`-m outage` selects them) and always start it again."""

import http.client
import json
import threading
import time

import pytest

from conftest import list_all, PG_DIR, PG_URL, Factory, assert_problem, order_body, pg_ctl

pytestmark = pytest.mark.outage


@pytest.fixture
def pg_factory(tmp_path):
    if not PG_URL:
        pytest.skip("TOKENQ_TEST_PG is not set: no PostgreSQL server to test against")
    if not PG_DIR:
        pytest.skip("TOKENQ_TEST_PG_DIR is not set: cannot stop and start PostgreSQL")
    f = Factory("postgres", tmp_path)
    yield f
    f.close()


class Outage:
    """Stops PostgreSQL; guarantees it runs again when the test ends."""

    def __init__(self):
        self.down = False

    def stop(self, mode="fast"):
        self.down = True
        pg_ctl("stop", mode)

    def start(self):
        pg_ctl("restart")
        self.down = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.down:
            self.start()


def wait_healthy(api, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = api.get("/healthz", key="", timeout=5)
            if last.status == 200:
                return last
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise AssertionError(f"service did not resume within {timeout} s: {last}")


def wait_resumed(api, order_id, timeout):
    """Waits until the service works again: /healthz 200, then 20 requests in
    a row (orders created, read, listed, looked up) all succeed. Returns the
    orders created meanwhile and how many 503s came before the streak."""
    deadline = time.monotonic() + timeout
    late_503 = 0
    made = []
    while time.monotonic() < deadline:
        h = api.get("/healthz", key="", timeout=5)
        if h.status != 200:
            time.sleep(0.1)
            continue
        ok = True
        for i in range(20):
            if i % 4 == 0:
                r = api.post("/api/orders", order_body("A"), timeout=5)
                if r.status == 201:
                    made.append(r.body)
            elif i % 4 == 1:
                r = api.get(f"/api/orders/{order_id}", timeout=5)
            elif i % 4 == 2:
                r = api.get("/api/orders", timeout=5)
            else:
                r = api.get("/api/board", key="", timeout=5)
            if r.status not in (200, 201):
                assert_problem(r, 503, "database_unavailable")
                late_503 += 1
                ok = False
                break
        if ok:
            return made, late_503
        time.sleep(0.1)
    raise AssertionError(f"service did not resume within {timeout} s")


def test_postgres_down_then_back(pg_factory):
    api = pg_factory.api(queues="A=Orders")
    acked = [api.create("A") for _ in range(3)]
    with Outage() as outage:
        outage.stop("fast")
        # every request that needs the database: 503 with Retry-After
        for method, path, body, key in [
            ("POST", "/api/orders", order_body("A"), None),
            ("GET", f"/api/orders/{acked[0]['id']}", None, None),
            ("GET", "/api/orders", None, None),
            ("PATCH", f"/api/orders/{acked[0]['id']}", {"status": "READY"}, None),
            ("POST", f"/api/orders/{acked[0]['id']}/recall", None, None),
            ("GET", f"/api/tokens/{acked[0]['token']}", None, ""),
            ("GET", "/api/board", None, ""),
            ("POST", "/api/orders", order_body("A"), None),
        ]:
            t0 = time.monotonic()
            r = api.request(method, path, body, key=key, timeout=20)
            assert_problem(r, 503, "database_unavailable")
            ra = r.headers.get("retry-after", "")
            assert ra.strip().isdigit(), f"{method} {path}: Retry-After {ra!r}"
            assert time.monotonic() - t0 < 15, f"{method} {path} took {time.monotonic() - t0:.1f} s to fail"
        h = api.get("/healthz", key="", timeout=20)
        assert h.status == 503, h
        assert h.headers.get("content-type", "").split(";")[0].strip() == "application/json", h
        assert isinstance(h.body, dict), h
        assert h.body.get("status") == "unavailable" and h.body.get("database") == "postgresql", h
        # key checks need the database too, but still: a bad key is never let in
        r = api.post("/api/orders", order_body("A"), key="bogus", timeout=20)
        assert r.status in (401, 503), r
        outage.start()
        t0 = time.monotonic()
        after, late_503 = wait_resumed(api, acked[0]["id"], 10)
        print(f"resumed {time.monotonic() - t0:.2f} s after PostgreSQL restarted; "
              f"{late_503} answers of 503 while resuming")
    h = api.get("/healthz", key="")
    assert h.status == 200, h
    assert h.body.get("status") == "ok" and h.body.get("database") == "postgresql", h
    assert after[0]["sequence"] == 4, f"the refused orders left a hole: {after[0]['token']}"
    assert [o["sequence"] for o in after] == list(range(4, 4 + len(after)))
    for o in acked + after:
        g = api.get(f"/api/orders/{o['id']}")
        assert g.status == 200 and g.body["token"] == o["token"], g
        assert g.body["status"] == "PENDING", "the refused PATCH changed the order"
    assert len(api.order(acked[0]["id"])["history"]) == 1


def test_postgres_crash_under_load_loses_no_acknowledged_order(pg_factory):
    api = pg_factory.api(queues="A=Orders")
    data = json.dumps(order_body("A")).encode()
    hdrs = {"Authorization": "Bearer " + api.keys["pos"], "Content-Type": "application/json"}
    stop = threading.Event()
    lock = threading.Lock()
    acked, statuses, errors = [], {}, []

    def worker():
        c = http.client.HTTPConnection(api.server.connect_host, api.server.port, timeout=30)
        while not stop.is_set():
            try:
                c.request("POST", "/api/orders", body=data, headers=hdrs)
                r = c.getresponse()
                raw = r.read()
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(repr(e))
                c.close()
                c = http.client.HTTPConnection(api.server.connect_host, api.server.port, timeout=30)
                time.sleep(0.05)
                continue
            with lock:
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.status == 201:
                    acked.append(json.loads(raw))
                elif r.status == 503:
                    if b"database_unavailable" not in raw or not r.getheader("Retry-After"):
                        errors.append(f"503 without code or Retry-After: {raw[:200]!r}")
            if r.status == 503:
                time.sleep(0.05)
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    with Outage() as outage:
        for t in threads:
            t.start()
        time.sleep(1.0)
        outage.stop("immediate")
        time.sleep(1.5)
        outage.start()
        wait_healthy(api, 10)
        time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors, f"requests failed without an answer: {errors[:5]}"
    assert set(statuses) <= {201, 503}, statuses
    assert statuses.get(503), f"the outage was not noticed: {statuses}"
    assert acked, "no order was acknowledged at all"
    # every acknowledged order is there with its token
    for o in acked:
        g = api.get(f"/api/orders/{o['id']}")
        assert g.status == 200, f"acknowledged {o['token']} lost: {g}"
        assert g.body["token"] == o["token"]
    seqs = [o["sequence"] for o in list_all(api)]
    assert sorted(seqs) == list(range(1, len(seqs) + 1)), "a gap or duplicate in the numbers"
    assert {o["sequence"] for o in acked} <= set(seqs)
    # service works normally afterwards
    assert api.create("A")["sequence"] == len(seqs) + 1
    print(f"statuses {statuses}")
