"""The event stream, GET /api/events, over raw sockets on both backends:
format, replay from an id exactly once across the seam, heartbeat, a stalled
client dropped while others keep receiving, many clients on few threads,
several servers on one database, and shutdown."""
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from streamlib import PG, Server, Stream, pg_database



# Event ids are a venue's count of events times STEP plus the venue's id; on a
# new database, main's (id 1) n-th event is ev(n).
STEP = 65536


def ev(n, venue=1):
    return n * STEP + venue

def collect(stream, count, timeout=10.0):
    got = []
    deadline = time.time() + timeout
    while len(got) < count:
        ev = stream.next_event(max(0.01, deadline - time.time()))
        if ev is None:
            break
        got.append(ev)
    return got


def test_format_of_a_live_event(database, make_server):
    srv = make_server(database)
    s = Stream(srv)
    assert s.status == 200
    assert s.headers["content-type"].startswith("text/event-stream")
    assert "no-store" in s.headers.get("cache-control", "")
    order = srv.order("Masala tea")
    eid, kind, data = s.next_event()
    assert kind == "token"
    assert data == {
        "event_id": eid, "order_id": order["id"], "token": order["token"], "queue": "A",
        "business_date": order["business_date"], "status": "PENDING", "previous_status": None,
        "at": order["created_at"]}
    srv.move(order["id"], "READY")
    eid2, kind, data = s.next_event()
    assert (eid2, kind, data["status"], data["previous_status"]) == (eid + STEP, "token", "READY", "PENDING")
    code, _ = srv.request("POST", f"/api/orders/{order['id']}/recall")
    assert code == 200
    eid3, kind, data = s.next_event()
    assert (eid3, kind, data["status"]) == (eid + 2 * STEP, "recall", "READY")
    s.close()


def test_without_an_id_the_stream_starts_live(database, make_server):
    srv = make_server(database)
    for _ in range(3):
        srv.order()
    s = Stream(srv)
    assert s.next_event(timeout=0.7) is None
    srv.order()
    eid, _, _ = s.next_event()
    assert eid == ev(4)
    s.close()


def test_replay_from_an_id_exactly_once_across_the_seam(database, make_server):
    srv = make_server(database)
    orders = [srv.order() for _ in range(5)]
    for header in (True, False):
        s = Stream(srv, last_event_id=ev(2)) if header else Stream(srv, query=f"?last_event_id={ev(2)}")
        stop = threading.Event()

        def writer():
            for o in orders:
                if stop.is_set():
                    return
                srv.move(o["id"], "PREPARING" if header else "READY")
        t = threading.Thread(target=writer)
        t.start()
        t.join()
        # replayed 3..5, then the 5 live moves: the venue's next ids, no gap, no duplicate
        first = 3 if header else 3
        want = 3 + 5 if header else 3 + 5 + 5
        got = collect(s, want)
        ids = [e[0] for e in got]
        assert ids == [ev(i) for i in range(first, first + want)], ids
        assert s.next_event(timeout=0.5) is None
        s.close()


def test_the_header_wins_over_the_query(database, make_server):
    srv = make_server(database)
    for _ in range(4):
        srv.order()
    s = Stream(srv, last_event_id=ev(3), query="?last_event_id=0")
    assert [e[0] for e in collect(s, 1)] == [ev(4)]
    s.close()


def test_zero_replays_everything_and_board_id_joins_without_gap(database, make_server):
    srv = make_server(database)
    for _ in range(3):
        srv.order()
    s = Stream(srv, last_event_id=0)
    assert [e[0] for e in collect(s, 3)] == [ev(1), ev(2), ev(3)]
    s.close()
    code, board = srv.request("GET", "/api/board")
    assert code == 200 and board["last_event_id"] == ev(3)
    s = Stream(srv, last_event_id=board["last_event_id"])
    o = srv.order()
    eid, _, data = s.next_event()
    assert eid == ev(4) and data["order_id"] == o["id"]
    s.close()


def test_bad_last_event_id_is_refused(database, make_server):
    srv = make_server(database)
    for bad in ("x", "-1", "1.5", "99999999999999999999"):
        code, body = srv.request("GET", "/api/events?last_event_id=" + bad)
        assert code == 422 and body["code"] == "invalid_field" and body["field"] == "last_event_id"


def test_heartbeat_comment_when_idle(make_server, tmp_path):
    srv = make_server(f"sqlite:{tmp_path}/hb.db")
    s = Stream(srv)
    start = time.time()
    seen_comment = False
    while time.time() - start < 16:
        block = s.next_block(timeout=16)
        if block and all(line.startswith(":") for line in block if line) and time.time() - start > 1:
            seen_comment = True
            break
    assert seen_comment, "no comment line within 15 s of silence"
    s.close()


def test_stalled_client_is_dropped_and_others_keep_receiving(make_server, tmp_path):
    srv = make_server(f"sqlite:{tmp_path}/stall.db", env={"TOKENQ_STREAM_STALL_MS": "2000"})
    stalled = Stream(srv, rcvbuf=4096)  # never reads again
    reader = Stream(srv)
    total = 1500  # ~400 KB of events: more than the stalled socket's buffers hold
    received = []

    def read_all():
        received.extend(collect(reader, total, timeout=60))
    t = threading.Thread(target=read_all)
    t.start()
    start = time.time()
    for i in range(total):
        srv.order(f"Item {i} " + "x" * 100)
    t.join(timeout=90)
    assert [e[0] for e in received] == [ev(i) for i in range(1, total + 1)]
    assert time.time() - start < 60
    # Within a few seconds of stalling, the server ends the stalled stream.
    time.sleep(4)
    closed = False
    stalled.sock.settimeout(5)
    try:
        while True:
            data = stalled.sock.recv(1 << 20)
            if not data:
                closed = True
                break
    except (ConnectionResetError, socket.timeout) as e:
        closed = isinstance(e, ConnectionResetError)
    assert closed, "the stalled client was not dropped"
    code, _ = srv.request("GET", "/healthz")
    assert code == 200
    stalled.close()
    reader.close()


def test_500_clients_on_a_bounded_number_of_threads(make_server, tmp_path):
    srv = make_server(f"sqlite:{tmp_path}/many.db")
    base_threads = srv.threads()
    clients = [Stream(srv) for _ in range(500)]
    time.sleep(0.5)
    assert srv.threads() == base_threads, "threads grew with stream clients"
    assert srv.threads() <= 16
    o = srv.order()
    start = time.time()
    for c in clients:
        ev = c.next_event(timeout=5)
        assert ev is not None and ev[2]["order_id"] == o["id"]
    assert time.time() - start < 5
    for c in clients:
        c.close()


@pytest.mark.skipif(not PG, reason="TOKENQ_TEST_PG is not set")
def test_two_servers_on_one_postgresql_database(tmp_path):
    url, drop = pg_database()
    a = Server(url, tmp_path).start()
    b = Server(url, tmp_path).start()
    try:
        s = Stream(b)
        t0 = time.time()
        o = a.order()
        ev = s.next_event(timeout=1.0)
        assert ev is not None and ev[2]["order_id"] == o["id"], "not delivered within 1 s"
        # Kill b's LISTEN connection; events must still arrive, and quickly.
        out = subprocess.run(
            ["psql", url, "-Atc",
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"],
            capture_output=True, text=True, check=True)
        assert "t" in out.stdout, "no LISTEN connection found"
        time.sleep(0.2)
        o2 = a.order()
        ev = s.next_event(timeout=1.5)
        assert ev is not None and ev[2]["order_id"] == o2["id"]
        assert ev[0] == 2 * STEP + 1
        s.close()
    finally:
        a.stop()
        b.stop()
        drop()


def test_two_servers_on_one_sqlite_file(tmp_path):
    db = f"sqlite:{tmp_path}/shared.db"
    a = Server(db, tmp_path).start()
    b = Server(db, tmp_path).start()
    try:
        s = Stream(b)
        o = a.order()
        ev = s.next_event(timeout=1.0)
        assert ev is not None and ev[2]["order_id"] == o["id"]
        s.close()
    finally:
        a.stop()
        b.stop()


def test_sigterm_ends_open_streams_and_exits_zero(database, tmp_path):
    srv = Server(database, tmp_path).start()
    streams = [Stream(srv) for _ in range(20)]
    t0 = time.time()
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=10) == 0
    assert time.time() - t0 < 10
    for s in streams:
        s.sock.settimeout(5)
        with pytest.raises((EOFError, ConnectionResetError)):
            while True:
                if s.next_event(timeout=5) is None:
                    raise AssertionError("stream still open after shutdown")
        s.close()


def test_venues_streams_across_two_servers_with_one_listen_each(tmp_path):
    """50 venues on one PostgreSQL database and two servers: a venue's board
    on server b gets that venue's events made on server a, and nothing of
    the busy venue next door; each server holds one LISTEN connection."""
    if not PG:
        pytest.skip("TOKENQ_TEST_PG is not set (tests/run.sh starts a PostgreSQL server)")
    url, drop = pg_database()
    try:
        r = subprocess.run([os.environ["TOKENQ_BIN"], "migrate", "--database", url],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        for i in range(1, 51):
            r = subprocess.run([os.environ["TOKENQ_BIN"], "venues", "create", f"v{i}", "--name",
                                f"Venue {i}", "--database", url], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
        a = Server(url, tmp_path).start()
        b = Server(url, tmp_path).start()
        try:
            busy, quiet = Stream(b, prefix="/v/v1"), Stream(b, prefix="/v/v2")
            made = [a.order(f"busy {i}", prefix="/v/v1")["id"] for i in range(30)]
            mine = a.order("quiet one", prefix="/v/v2")
            got = [busy.next_event(timeout=2.0) for _ in range(30)]
            assert [e[2]["order_id"] for e in got if e] == made
            ev = quiet.next_event(timeout=2.0)
            assert ev is not None and ev[2]["order_id"] == mine["id"]
            assert ev[0] % STEP == 3, "an event id carries its venue (v2 is the third)"
            assert quiet.next_event(timeout=1.0) is None, "the quiet venue got another's event"
            out = subprocess.run(
                ["psql", url, "-Atc", "SELECT count(*) FROM pg_stat_activity WHERE "
                 "datname = current_database() AND application_name = 'tokenq/listen'"],
                capture_output=True, text=True, check=True)
            assert out.stdout.strip() == "2", f"LISTEN connections: {out.stdout}"
            busy.close()
            quiet.close()
        finally:
            a.stop()
            b.stop()
    finally:
        drop()
