"""A scripted HTTP session against a running tokenq, for the valgrind and
ThreadSanitizer runs (tests/fault/memcheck.sh): every route once or more,
the error paths (404, 405, 413, 415, 400, 422, 409), idempotent replays,
status changes through to COMPLETED, a recall, event streams that read,
that never read and that leave mid-stream, and, with --load N, N threads
posting orders concurrently for a few seconds (--load-only: just that,
tolerating errors, for a server stopped under load).

  python3 tests/fault/session.py PORT [--load THREADS] [--seconds S] [--load-only]

Exits 0 when every answer was the expected one.
"""

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import faultlib  # noqa: E402
from faultlib import request  # noqa: E402


def expect(r, status, what):
    if r.status != status:
        raise AssertionError(f"{what}: expected {status}, got {r}")
    return r


def order(queue="A", note=None):
    b = {"queue": queue, "items": [{"name": "Masala tea", "quantity": 2, "unit_price": 150}]}
    if note is not None:
        b["note"] = note
    return b


def stream(port, last_id, read_for, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(f"GET /api/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: {last_id}\r\n\r\n".encode())
    data = b""
    if read:
        deadline = time.monotonic() + read_for
        s.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                b = s.recv(65536)
                if not b:
                    break
                data += b
            except socket.timeout:
                pass
    return s, data


def scripted(port, timeout):
    p = port
    expect(request(p, "GET", "/healthz", timeout=timeout), 200, "healthz")
    expect(request(p, "GET", "/api/queues", timeout=timeout), 200, "queues")
    for path in ("/", "/staff", "/t/A-001", "/assets/nope.js"):
        r = request(p, "GET", path, timeout=timeout)
        assert r.status in (200, 404), r
    s_live, _ = stream(p, 0, 0, read=False)  # connects now, reads later
    s_idle, _ = stream(p, 0, 0, read=False)  # never reads
    made = []
    for q, note in (("A", None), ("B", "less sugar\nno ice"), ("A", "é" * 500)):
        r = expect(request(p, "POST", "/api/orders", body=order(q, note), timeout=timeout), 201, "create")
        made.append(r.body)
    key = {"Idempotency-Key": "session-key-1"}
    first = expect(request(p, "POST", "/api/orders", body=order(), headers=key, timeout=timeout), 201, "keyed")
    again = expect(request(p, "POST", "/api/orders", body=order(), headers=key, timeout=timeout), 200, "replay")
    assert again.body["id"] == first.body["id"]
    expect(request(p, "POST", "/api/orders", body=order("B"), headers=key, timeout=timeout), 422, "key reused")
    expect(
        request(p, "POST", "/api/orders", body=order(), headers={"Idempotency-Key": ""}, timeout=timeout),
        422,
        "empty key",
    )
    oid = made[0]["id"]
    for st in ("PREPARING", "READY"):
        expect(request(p, "PATCH", f"/api/orders/{oid}", body={"status": st}, timeout=timeout), 200, st)
    expect(request(p, "POST", f"/api/orders/{oid}/recall", timeout=timeout), 200, "recall")
    expect(request(p, "PATCH", f"/api/orders/{oid}", body={"status": "COMPLETED"}, timeout=timeout), 200, "done")
    expect(request(p, "PATCH", f"/api/orders/{oid}", body={"status": "READY"}, timeout=timeout), 409, "backwards")
    expect(request(p, "PATCH", f"/api/orders/{oid}", body={"colour": "red"}, timeout=timeout), 422, "unknown")
    expect(request(p, "POST", f"/api/orders/{oid}/recall", timeout=timeout), 409, "recall done")
    expect(request(p, "PATCH", f"/api/orders/{made[1]['id']}", body={"status": "CANCELLED"}, timeout=timeout), 200, "x")
    r = expect(request(p, "GET", f"/api/orders/{oid}", timeout=timeout), 200, "get")
    assert len(r.body["history"]) == 5, r.body["history"]
    expect(request(p, "GET", "/api/orders/999999", timeout=timeout), 404, "missing")
    expect(request(p, "GET", "/api/orders?limit=1", timeout=timeout), 200, "list")
    expect(request(p, "GET", "/api/orders?status=READY,COMPLETED&queue=A", timeout=timeout), 200, "list status")
    expect(request(p, "GET", "/api/orders?limit=0", timeout=timeout), 422, "bad limit")
    expect(request(p, "GET", "/api/orders?date=2026-02-30", timeout=timeout), 422, "bad date")
    expect(request(p, "GET", f"/api/orders/{oid}/ticket", timeout=timeout), 200, "ticket")
    expect(request(p, "GET", "/api/orders.csv", timeout=timeout), 200, "csv")
    expect(request(p, "GET", "/api/stats", timeout=timeout), 200, "stats")
    expect(request(p, "GET", "/metrics", timeout=timeout), 200, "metrics")
    expect(request(p, "GET", "/api/board", timeout=timeout), 200, "board")
    expect(request(p, "GET", "/api/board?queue=Q", timeout=timeout), 422, "board queue")
    expect(request(p, "GET", f"/api/tokens/{made[2]['token'].lower()}", timeout=timeout), 200, "token")
    expect(request(p, "GET", "/api/tokens/A-999999", timeout=timeout), 404, "no token")
    expect(request(p, "GET", "/nowhere", timeout=timeout), 404, "404")
    expect(request(p, "DELETE", "/api/orders", timeout=timeout), 405, "405")
    expect(request(p, "POST", "/api/orders", body=b"{", timeout=timeout), 400, "malformed")
    expect(request(p, "POST", "/api/orders", body=b'{"items":[],"items":[]}', timeout=timeout), 400, "dup")
    expect(
        request(p, "POST", "/api/orders", body=b"{}", headers={"Content-Type": "text/plain"}, timeout=timeout),
        415,
        "media type",
    )
    expect(request(p, "POST", "/api/orders", body=b"[" * 65537, timeout=timeout), 413, "too large")
    expect(request(p, "POST", "/api/orders", body=b"[" * 5000 + b"]" * 5000, timeout=timeout), 400, "deep")
    expect(request(p, "POST", "/api/orders", body={"items": [{"name": "x"}]}, timeout=timeout), 422, "item")
    expect(
        request(p, "GET", "/api/orders", headers={"Authorization": "Bearer nope"}, timeout=timeout), 401, "bad key"
    )
    # Streams: one replays and reads, one left unread, one leaves mid-stream.
    _, data = stream(p, 0, 1.5)
    assert b"event: recall" in data and b"id: 1\n" in data, data[:300]
    s_live.settimeout(2)
    assert s_live.recv(65536)
    s_live.close()
    s_gone, _ = stream(p, 0, 0.3)
    s_gone.close()
    return s_idle


def load(port, threads, seconds, tolerate=False):
    stop = threading.Event()
    errors = []
    done = [0]
    lock = threading.Lock()

    def run(i):
        import http.client

        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        n = 0
        while not stop.is_set():
            key = {"Idempotency-Key": f"load-{i}-{n // 2}"} if i % 4 == 0 else {}
            try:
                r = request(port, "POST", "/api/orders", body=order("AB"[(n // 2) % 2]), headers=key, conn=c)
                if r.status not in (200, 201):
                    errors.append(r)
                elif n % 5 == 0:
                    r2 = request(port, "PATCH", f"/api/orders/{r.body['id']}", body={"status": "READY"}, conn=c)
                    if r2.status not in (200, 409):
                        errors.append(r2)
                with lock:
                    done[0] += 1
            except Exception as e:  # noqa: BLE001
                errors.append(e)
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            n += 1
        c.close()

    readers = [stream(port, 0, 0, read=False)[0] for _ in range(8)]
    ts = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(threads)]
    for t in ts:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in ts:
        t.join(120)
    for s in readers:
        s.close()
    if errors and not tolerate:
        raise AssertionError(f"{len(errors)} errors under load, e.g. {errors[:3]}")
    return done[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--load", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--load-only", action="store_true", help="no scripted part; errors tolerated (the server is stopped under it)")
    a = ap.parse_args()
    if a.load_only:
        n = load(a.port, a.load, a.seconds, tolerate=True)
        print(f"session: {n} requests under load")
        return
    s_idle = scripted(a.port, a.timeout)
    n = load(a.port, a.load, a.seconds) if a.load else 0
    s_idle.close()
    print(f"session: scripted requests ok; {n} requests under load")
    faultlib  # keep the import for its path


if __name__ == "__main__":
    main()
