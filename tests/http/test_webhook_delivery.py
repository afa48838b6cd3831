"""Webhook delivery (the server's dispatcher) from the outside: real servers
on SQLite and PostgreSQL deliver to a receiver in Node
(tests/hooks/receiver.js) that verifies every delivery with the Standard
Webhooks library, `standardwebhooks` from npm. Endpoints through the CLI
and HTTP are test_webhooks.py; the receiver and helpers, webhooklib.py.

The receiver listens on loopback, so every endpoint here is created with
--allow-private. The servers run with a short retry base and poll so that
retries happen within the test: TOKENQ_WEBHOOK_RETRY_BASE_MS=200 and
TOKENQ_WEBHOOK_POLL_MS=100.
"""

import collections
import http.client
import json
import signal
import socket
import sqlite3
import time

import pytest

from conftest import Api, create_keys, psql, run_cli
from webhooklib import (EVENT_TYPES, HOOK_ENV, cli_create, cli_deliveries, cli_list, hook_api, ids_once_in_order,
                        make_events, read_events, summary, wait_until)
from webhooklib import receiver_js, receivers  # noqa: F401 (fixtures the tests ask for)


# ---------------------------------------------------------------- delivery


def test_every_event_type_in_order(factory, receivers):
    api = hook_api(factory)
    recv = receivers()
    _, secret = cli_create(api.db, recv.url("/ok/all"), "--allow-private")
    recv.start(secret)
    o1, o2 = make_events(api)
    recv.wait_for(7)
    time.sleep(0.5)
    log = recv.log()
    bodies = ids_once_in_order(log, 7)
    assert [b["type"] for b in bodies] == EVENT_TYPES, [b["type"] for b in bodies]
    events = read_events(api.server, 7)
    for b in bodies:
        name, data = events[b["data"]["event_id"]]
        assert b["data"] == data, f"delivered data differs from the event stream's: {b['data']} vs {data}"
        assert b["timestamp"] == data["at"], b
        assert set(b) == {"type", "timestamp", "data"}, b
        assert (name == "recall") == (b["type"] == "token.recall"), (name, b["type"])
    assert [b["data"]["order_id"] for b in bodies] == [o1["id"]] * 5 + [o2["id"]] * 2
    assert all(e["id"].startswith("msg_") for e in log), summary(log)
    types = {e["type"].split(";")[0].strip().lower() for e in log}
    assert types == {"application/json"}, f"deliveries sent as {types}"


def test_event_filter(factory, receivers):
    api = hook_api(factory)
    recv = receivers()
    _, secret = cli_create(api.db, recv.url("/ok/recalls"), "--allow-private", "--events", "recall")
    recv.start(secret)
    make_events(api)
    make_events(api)
    recv.wait_for(2)
    time.sleep(1.0)
    bodies = ids_once_in_order(recv.log(), 2)
    assert [b["type"] for b in bodies] == ["token.recall"] * 2


def test_fail_first_gets_each_event_exactly_twice(factory, receivers):
    api = hook_api(factory)
    recv = receivers()
    _, secret = cli_create(api.db, recv.url("/fail-first/ff"), "--allow-private")
    recv.start(secret)
    make_events(api)
    recv.wait_for(14)
    time.sleep(2.0)  # ten retry bases: a third attempt would have come
    log = recv.log()
    assert all(e["verified"] for e in log), summary(log)
    counts = collections.Counter(e["id"] for e in log)
    assert len(counts) == 7 and set(counts.values()) == {2}, f"want 7 messages twice each, got {dict(counts)}"
    ids = [e["id"] for e in log]
    assert ids[0::2] == ids[1::2], f"a later event was sent before the earlier one was delivered: {ids}"
    for a, b in zip(log[0::2], log[1::2]):
        assert a["body"] == b["body"], "the body changed between attempts"
    assert [e["body"]["type"] for e in log[0::2]] == EVENT_TYPES


def test_redirect_is_not_followed(factory, receivers):
    """A 302 is not a 2xx: the delivery is retried at the same URL, and the
    redirect's target is never asked."""
    api = hook_api(factory)
    recv = receivers()
    hid, secret = cli_create(api.db, recv.url("/redirect/r"), "--allow-private")
    recv.start(secret)
    api.create()
    log = recv.wait_for(3)
    assert {e["path"] for e in log} == {"/redirect/r"}, f"a redirect was followed: {summary(log)}"
    assert len({e["id"] for e in log}) == 1, summary(log)
    d = api.get(f"/api/webhooks/{hid}/deliveries").body["deliveries"][0]
    assert d["state"] == "pending" and d["attempts"][0]["status"] == 302 and d["attempts"][0]["error"], d


def test_receiver_down_then_up(factory, receivers):
    api = hook_api(factory)
    recv = receivers()
    hid, secret = cli_create(api.db, recv.url("/ok/late"), "--allow-private")
    make_events(api)

    def failed_attempts():
        ds = api.get(f"/api/webhooks/{hid}/deliveries").body["deliveries"]
        return ds if ds and len(ds[0]["attempts"]) >= 3 else None

    ds = wait_until(failed_attempts, 10, "three failed attempts while the receiver is down")
    a = ds[0]["attempts"][0]
    assert a["status"] is None and isinstance(a["error"], str) and a["error"], a
    assert all(d["state"] == "pending" for d in ds), ds
    assert all(not d["attempts"] for d in ds[1:]), f"a later delivery was tried before the first: {ds}"
    rows = cli_list(api.db)
    assert rows[0]["state"] == "active", rows
    cd = cli_deliveries(api.db, hid)
    assert cd and cd[0]["state"] == "pending" and int(cd[0]["attempts_n"]) >= 3, [d["line"] for d in cd]
    assert not cd[0]["last_status"].isdigit() and cd[0]["last_error"].strip() not in ("", "-", "ok"), cd[0]["line"]
    assert all(at[2] == "-" or not at[2].isdigit() for at in cd[0]["attempts"]), cd[0]["attempts"]
    time.sleep(1.0)
    recv.start(secret)
    recv.wait_for(7, timeout=30)
    time.sleep(1.0)
    bodies = ids_once_in_order(recv.log(), 7)
    assert [b["type"] for b in bodies] == EVENT_TYPES


def test_kill_9_with_deliveries_pending_loses_none(factory, receivers):
    db = factory.db()
    keys = create_keys(db, ["admin"])
    s1 = factory.server(db=db, env=dict(HOOK_ENV))
    api1 = Api(s1, keys)
    recv = receivers()
    _, secret = cli_create(db, recv.url("/ok/k9"), "--allow-private")
    orders = [api1.create() for _ in range(10)]
    time.sleep(0.5)
    s1.proc.send_signal(signal.SIGKILL)
    s1.proc.wait()
    s2 = factory.server(db=db, env=dict(HOOK_ENV))
    api2 = Api(s2, keys)
    recv.start(secret)
    recv.wait_for(10, timeout=60)
    time.sleep(1.0)
    bodies = ids_once_in_order(recv.log(), 10)
    assert [b["data"]["order_id"] for b in bodies] == [o["id"] for o in orders]
    assert all(b["type"] == "token.pending" for b in bodies)
    o = api2.create()
    log = recv.wait_for(11)
    assert log[-1]["body"]["data"]["order_id"] == o["id"]


def test_two_servers_on_postgres_deliver_each_event_once(factory, receivers):
    if factory.backend != "postgres":
        pytest.skip("several servers share a database only on PostgreSQL")
    db = factory.db()
    keys = create_keys(db, ["admin"])
    s1 = factory.server(db=db, env=dict(HOOK_ENV))
    s2 = factory.server(db=db, env=dict(HOOK_ENV))
    apis = [Api(s1, keys), Api(s2, keys)]
    recv = receivers()
    _, secret = cli_create(db, recv.url("/ok/pg2"), "--allow-private")
    recv.start(secret)
    orders = [apis[i % 2].create() for i in range(50)]
    recv.wait_for(50, timeout=30)
    time.sleep(1.5)
    bodies = ids_once_in_order(recv.log(), 50)
    assert sorted(b["data"]["order_id"] for b in bodies) == sorted(o["id"] for o in orders)


def p99(samples):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


def order_latencies(api, n=200):
    c = http.client.HTTPConnection(api.server.connect_host, api.server.port, timeout=30)
    hdrs = {"Authorization": "Bearer " + api.keys["admin"], "Content-Type": "application/json"}
    body = json.dumps({"queue": "A", "items": [{"name": "Masala tea", "quantity": 1, "unit_price": 150}]})
    out = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            c.request("POST", "/api/orders", body=body, headers=hdrs)
            r = c.getresponse()
            r.read()
            out.append(time.perf_counter() - t0)
            assert r.status == 201, r.status
    finally:
        c.close()
    return out


def test_hanging_endpoint_does_not_slow_orders(factory, receivers):
    api = hook_api(factory)
    order_latencies(api, 20)  # warm up
    plain = p99(order_latencies(api))
    hang = receivers()
    ok = receivers()
    _, hang_secret = cli_create(api.db, hang.url("/hang/h1"), "--allow-private")
    cli_create(api.db, hang.url("/hang/h2"), "--allow-private")
    _, ok_secret = cli_create(api.db, ok.url("/ok/beside"), "--allow-private")
    hang.start(hang_secret)
    ok.start(ok_secret)
    hung = p99(order_latencies(api))
    print(f"p99 of 200 POST /api/orders: {plain * 1000:.1f} ms without webhooks, "
          f"{hung * 1000:.1f} ms with two hanging endpoints")
    assert hung < 3 * plain + 0.050, f"p99 {hung * 1000:.1f} ms with hanging endpoints vs {plain * 1000:.1f} ms without"
    got = hang.log()
    assert {e["path"] for e in got} == {"/hang/h1", "/hang/h2"}, f"the hanging endpoints were not tried: {summary(got)}"
    # an endpoint beside them is not held up: all 200 arrive promptly
    ok.wait_for(200, timeout=20)


def test_revoked_endpoint_gets_nothing_new(factory, receivers):
    api = hook_api(factory)
    gone, kept = receivers(), receivers()
    gid, gsecret = cli_create(api.db, gone.url("/ok/gone"), "--allow-private")
    r = api.post("/api/webhooks", {"url": kept.url("/ok/kept"), "allow_private": True})
    kid, ksecret = r.body["id"], r.body["secret"]
    gone.start(gsecret)
    kept.start(ksecret)
    api.create()
    gone.wait_for(1)
    kept.wait_for(1)
    r = run_cli("webhooks", "revoke", str(gid), db=api.db)
    assert r.returncode == 0, r.stderr
    for _ in range(3):
        api.create()
    kept.wait_for(4)
    time.sleep(1.0)  # ten poll periods
    assert len(gone.log()) == 1, f"a revoked endpoint got more: {summary(gone.log())}"
    assert len(api.get(f"/api/webhooks/{gid}/deliveries").body["deliveries"]) == 1
    # revoked over HTTP as well
    assert api.request("DELETE", f"/api/webhooks/{kid}").status == 200
    api.create()
    time.sleep(1.0)
    assert len(kept.log()) == 4, f"an endpoint revoked over HTTP got more: {summary(kept.log())}"


def test_revoked_while_pending_gets_nothing(factory, receivers):
    """Deliveries waiting for an endpoint (its receiver down) are not sent
    once it is revoked."""
    api = hook_api(factory)
    recv = receivers()
    hid, secret = cli_create(api.db, recv.url("/ok/pending"), "--allow-private")
    api.create()
    api.create()
    wait_until(lambda: api.get(f"/api/webhooks/{hid}/deliveries").body["deliveries"][0]["attempts"], 10,
               "a failed attempt while the receiver is down")
    assert api.request("DELETE", f"/api/webhooks/{hid}").status == 200
    recv.start(secret)
    time.sleep(2.0)  # ten retry bases
    assert recv.log() == [], f"a revoked endpoint got deliveries that were waiting: {summary(recv.log())}"


def sql(db, statement):
    """Runs one statement on the test's database, behind the server's back."""
    if db.backend == "sqlite":
        con = sqlite3.connect(db.url[len("sqlite:"):])
        con.execute(statement)
        con.commit()
        con.close()
    else:
        psql(statement, url=db.url)


def test_name_resolving_to_loopback_is_refused_at_creation(factory):
    api = hook_api(factory)
    for url in ("http://localhost:9/ok/guard", "http://till.localhost./ok/guard"):
        r = cli_create(api.db, url, check=False)
        assert r.returncode == 2, f"{url}: exit {r.returncode}, want 2: {r.stderr}"
        assert len([ln for ln in r.stderr.splitlines() if ln.strip()]) == 1, r.stderr
        assert "loopback" in r.stderr and r.stdout == "", (r.stdout, r.stderr)
    assert cli_list(api.db) == []


def test_name_resolving_to_loopback_is_refused_at_delivery(factory, receivers):
    """The guard is on the address each connection goes to, not only on the
    name when it was created: an endpoint whose name resolves to loopback by
    the time it is delivered to (here: made private-allowed, then the flag
    taken away behind the server's back, as a name that later resolves
    elsewhere would be) is never connected to."""
    api = hook_api(factory)
    recv = receivers()
    url = recv.url("/ok/guard").replace("127.0.0.1", "localhost")
    hid, secret = cli_create(api.db, url, "--allow-private")
    sql(api.db, f"UPDATE webhook_endpoints SET allow_private = 0 WHERE id = {hid}")
    recv.start(secret)
    api.create()
    ds = wait_until(lambda: (api.get(f"/api/webhooks/{hid}/deliveries").body["deliveries"] or [{}])[0].get("attempts"),
                    10, "an attempt at the endpoint")
    time.sleep(0.5)
    assert recv.log() == [], f"a name resolving to loopback was connected to: {summary(recv.log())}"
    assert ds[0]["status"] is None and "loopback" in ds[0]["error"], ds


class Hang:
    """A listener that accepts connections and never answers."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.conns = []
        self.sock.settimeout(0.1)

    def accepted(self):
        try:
            while True:
                self.conns.append(self.sock.accept()[0])
        except (socket.timeout, BlockingIOError):
            pass
        return len(self.conns)

    def close(self):
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.mark.slow
def test_kill_9_in_the_middle_of_an_attempt_sends_it_again(factory, receivers):
    """At least once: a server killed while an attempt waits for its answer
    leaves the delivery to be sent again (after the lease) by the next one. Slow: the lease is 30 s."""
    db = factory.db()
    keys = create_keys(db, ["admin"])
    s1 = factory.server(db=db, env=dict(HOOK_ENV))
    recv = receivers()
    hang = Hang(recv.port)
    try:
        _, secret = cli_create(db, recv.url("/ok/mid"), "--allow-private")
        o = Api(s1, keys).create()
        wait_until(hang.accepted, 10, "the dispatcher connecting to the endpoint")
        s1.proc.send_signal(signal.SIGKILL)
        s1.proc.wait()
    finally:
        hang.close()
    factory.server(db=db, env=dict(HOOK_ENV))
    recv.start(secret)
    log = recv.wait_for(1, timeout=60)
    time.sleep(0.5)
    bodies = ids_once_in_order(recv.log(), 1)
    assert bodies[0]["data"]["order_id"] == o["id"] and log[0]["verified"]


def test_sigterm_with_a_hanging_endpoint_exits_promptly(factory, receivers):
    api = hook_api(factory)
    hang = receivers()
    _, secret = cli_create(api.db, hang.url("/hang/stop"), "--allow-private")
    hang.start(secret)
    api.create()
    hang.wait_for(1)
    t0 = time.monotonic()
    rc = api.server.stop()
    took = time.monotonic() - t0
    assert rc == 0 and took < 3, f"SIGTERM with an attempt in flight: exit {rc} after {took:.1f} s (want 0 within 3 s)"
