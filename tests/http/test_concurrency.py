"""Concurrency and shutdown: gapless unique numbers under parallel load
(the numbering rule), and SIGTERM draining in-flight requests without losing an
acknowledged order (docs/tokenq.1, serve: SIGTERM drains)."""

import http.client
import json
import signal
import threading
import time

import pytest

from conftest import list_all, Api, order_body

BODY = json.dumps(order_body(None)).encode()


def auth(api):
    return {"Authorization": "Bearer " + api.keys["pos"], "Content-Type": "application/json"}


def test_400_orders_from_32_keep_alive_connections(factory):
    api = factory.api()
    per_thread = [13] * 16 + [12] * 16
    assert sum(per_thread) == 400
    results, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(len(per_thread))

    def worker(n):
        c = http.client.HTTPConnection(api.server.connect_host, api.server.port, timeout=60)
        barrier.wait()
        try:
            for _ in range(n):
                c.request("POST", "/api/orders", body=BODY, headers=auth(api))
                r = c.getresponse()
                raw = r.read()
                with lock:
                    results.append((r.status, raw))
        except Exception as e:  # noqa: BLE001 - reported below
            with lock:
                errors.append(repr(e))
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in per_thread]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.monotonic() - t0
    assert not errors, f"{len(errors)} requests failed: {errors[:5]}"
    bad = [(s, raw[:200]) for s, raw in results if s != 201]
    assert not bad, f"{len(bad)} answers were not 201: {bad[:5]}"
    orders = [json.loads(raw) for _, raw in results]
    assert sorted(o["sequence"] for o in orders) == list(range(1, 401))
    assert sorted(o["token"] for o in orders) == [f"A-{i:03d}" for i in range(1, 401)]
    assert len({o["id"] for o in orders}) == 400
    # the database agrees
    r = api.get("/api/orders?limit=500")
    assert r.status == 200, r
    assert sorted(o["sequence"] for o in r.body["orders"]) == list(range(1, 401))
    assert r.body["next_after_id"] is None
    print(f"400 orders in {elapsed:.2f} s")


def test_sigterm_under_load_loses_no_acknowledged_order(factory):
    api = factory.api()
    server = api.server
    stop = threading.Event()
    lock = threading.Lock()
    acked, bad, refused = [], [], []

    def worker():
        c = None
        while not stop.is_set():
            try:
                if c is None:
                    c = http.client.HTTPConnection(server.connect_host, server.port, timeout=30)
                c.request("POST", "/api/orders", body=BODY, headers=auth(api))
                r = c.getresponse()
                raw = r.read()
            except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError,
                    http.client.RemoteDisconnected) as e:
                # not accepted: the server is closing or gone
                with lock:
                    refused.append(repr(e))
                if c is not None:
                    c.close()
                c = None
                if isinstance(e, ConnectionRefusedError):
                    time.sleep(0.01)
                continue
            except Exception as e:  # noqa: BLE001 - an incomplete answer
                with lock:
                    bad.append(f"incomplete answer: {e!r}")
                c.close()
                c = None
                continue
            with lock:
                if r.status == 201:
                    try:
                        acked.append(json.loads(raw))
                    except ValueError:
                        bad.append(f"201 with a broken body: {raw[:200]!r}")
                else:
                    bad.append(f"{r.status}: {raw[:200]!r}")
        if c is not None:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    n_before = len(acked)
    server.proc.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    try:
        rc = server.proc.wait(10)
    except Exception:  # noqa: BLE001
        rc = None
    exit_time = time.monotonic() - t0
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(60)
    if rc is None:
        server.proc.kill()
        server.proc.wait()
    assert n_before > 0, f"no order was acknowledged before SIGTERM: {bad[:5]} {refused[:5]}"
    problems = []
    if rc != 0:
        problems.append(f"exit status {rc} after SIGTERM (want 0 within 10 s, took {exit_time:.1f} s)")
    if bad:
        problems.append(f"{len(bad)} answers were not complete 201s: {bad[:5]}")

    # every acknowledged order is in the database, with its token
    again = Api(factory.server(db=api.db), api.keys)
    for o in acked:
        g = again.get(f"/api/orders/{o['id']}")
        if g.status != 200 or g.body["token"] != o["token"]:
            problems.append(f"acknowledged order {o['token']} (id {o['id']}) is lost: {g}")
            break
    # and the committed numbers are still 1..N, each once
    seqs = [o["sequence"] for o in list_all(again)]
    if sorted(seqs) != list(range(1, len(seqs) + 1)):
        problems.append("the numbers have a gap or a duplicate")
    assert not problems, "\n".join(problems)
    assert len(seqs) >= len(acked)
    print(f"{len(acked)} acknowledged, {len(refused)} refused, exit in {exit_time:.2f} s")


def test_two_servers_on_one_postgres_database(factory):
    """Several servers may share one PostgreSQL database (the event stream's rule):
    the numbers stay gapless and unique across them, and one idempotency key
    makes one order whichever server it reaches."""
    if factory.backend != "postgres":
        pytest.skip("several servers on one database is a PostgreSQL set-up")
    one = factory.api()
    two = Api(factory.server(db=one.db), one.keys)
    results, errors = [], []
    lock = threading.Lock()

    def worker(api, n):
        c = http.client.HTTPConnection(api.server.connect_host, api.server.port, timeout=60)
        try:
            for _ in range(n):
                c.request("POST", "/api/orders", body=BODY, headers=auth(api))
                r = c.getresponse()
                raw = r.read()
                with lock:
                    results.append((r.status, raw))
        except Exception as e:  # noqa: BLE001 - reported below
            with lock:
                errors.append(repr(e))
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(one if i % 2 else two, 15)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:5]
    assert [s for s, _ in results if s != 201] == []
    assert sorted(json.loads(raw)["sequence"] for _, raw in results) == list(range(1, 241))

    key = "two-servers-" + str(time.time())
    barrier = threading.Barrier(16)
    answers = []

    def idem(api):
        barrier.wait()
        r = api.post("/api/orders", BODY, headers={"Idempotency-Key": key})
        with lock:
            answers.append(r)

    threads = [threading.Thread(target=idem, args=(one if i % 2 else two,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(r.status for r in answers)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201, 409}, statuses
    oid = next(r.body["id"] for r in answers if r.status == 201)
    assert all(r.body["id"] == oid for r in answers if r.status == 200)
    assert one.create(None)["sequence"] == 242, "one key made more than one order"


def test_sigterm_right_after_start_exits_zero_every_time(factory):
    """SIGTERM a moment after the first answers, many times over: the server
    closes its listening socket and exits 0 every time. (Stopping used to race
    libmicrohttpd's polling threads for the listening socket and could abort
    the process: exit -6, "Failed to remove listen FD from epoll set".)"""
    db = factory.db()
    failures = []
    for i in range(25):
        s = factory.server(db=db)
        c = http.client.HTTPConnection(s.connect_host, s.port, timeout=10)
        c.request("GET", "/api/board")
        assert c.getresponse().status == 200
        c.close()
        s.proc.send_signal(signal.SIGTERM)
        rc = s.proc.wait(10)
        if rc != 0:
            failures.append(f"run {i}: exit {rc}\n{s.log_tail(10)}")
        # once stopped, the port refuses connections
        with pytest.raises(ConnectionRefusedError):
            http.client.HTTPConnection(s.connect_host, s.port, timeout=2).connect()
    assert not failures, "\n".join(failures)
