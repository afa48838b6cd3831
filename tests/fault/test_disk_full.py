"""The SQLite file's disk fills up.

A 2 MiB tmpfs holds the database (mount needs root: skipped otherwise). A
filler file takes most of the space first; then orders (large ones: 200
items and a 500-character note) are posted until the disk is full. Every
refusal must be a clear problem: 507 storage_full or 503
database_unavailable, with Retry-After, never a 500 and never a crash. No
acknowledged order is lost, the numbers stay gapless, and PRAGMA
integrity_check is ok. When the filler is deleted, orders are accepted
again without restarting the server. The tmpfs is unmounted afterwards.
"""

import os
import random
import subprocess
import time

import pytest

import faultlib
from faultlib import Db, check_acked, check_integrity, check_sequences, order_body


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def sizes(d):
    return {f: os.path.getsize(d / f) for f in os.listdir(d)}


def post(port, body, conn=None):
    return faultlib.request(port, "POST", "/api/orders", body=body, timeout=30, conn=conn)


def test_disk_full(small_disk, tmp_path, servers):
    db = Db("sqlite", tmp_path, path=small_disk / "tokenq.db")
    srv = servers(db).start()
    rng = random.Random(7)
    acked = {}

    # Take the space first: the database has a few hundred KiB to grow in.
    filler = small_disk / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free_bytes(small_disk) - 600 * 1024))
    print(f"\nfree after the filler: {free_bytes(small_disk) // 1024} KiB")

    refusals = {}
    for i in range(2000):
        r = post(srv.port, order_body(rng, big=True))
        if r.status == 201:
            acked[r.body["id"]] = r.body
            continue
        assert r.status in (503, 507), f"order {i} on a full disk: {r}"
        assert r.headers.get("content-type", "").startswith("application/problem+json"), r
        assert r.body["code"] in ("storage_full", "database_unavailable"), r
        assert "retry-after" in r.headers, r
        refusals[r.status] = refusals.get(r.status, 0) + 1
        if sum(refusals.values()) >= 20:
            break
    assert refusals, f"the disk never filled ({len(acked)} orders, {free_bytes(small_disk)} bytes free)"
    assert srv.alive(), "the server died on a full disk"
    # Reads still work while the disk is full.
    r = faultlib.request(srv.port, "GET", "/api/board")
    assert r.status in (200, 503), r
    assert r.status != 500
    # Other writes on the full disk: a clear answer, never a 500.
    first = min(acked)
    r = faultlib.request(srv.port, "PATCH", f"/api/orders/{first}", body={"status": "PREPARING"})
    assert r.status in (200, 503, 507), r
    patched = r.status == 200
    keyed_body = order_body(rng, big=True)
    r = faultlib.request(srv.port, "POST", "/api/orders", body=keyed_body, headers={"Idempotency-Key": "full-1"})
    assert r.status in (503, 507), r
    check_acked(srv.port, {k: v for k, v in acked.items() if k != first})
    full_orders = len(acked)

    # Space returns: the same server takes orders again.
    os.unlink(filler)
    deadline = time.monotonic() + 20
    resumed = None
    while time.monotonic() < deadline:
        r = post(srv.port, order_body(rng))
        if r.status == 201:
            acked[r.body["id"]] = r.body
            resumed = r
            break
        assert r.status in (503, 507), r
        time.sleep(0.2)
    assert resumed is not None, "orders were not accepted again after space returned"
    # The refused keyed order was not used up: the same key now creates it.
    r = faultlib.request(srv.port, "POST", "/api/orders", body=keyed_body, headers={"Idempotency-Key": "full-1"})
    assert r.status == 201, r
    acked[r.body["id"]] = r.body
    # Room for some more (each commit appends a few pages to the WAL, which
    # is checkpointed only past 1000 pages: on a 2 MiB disk it never is).
    for i in range(20):
        r = post(srv.port, order_body(rng, big=i == 0))
        assert r.status == 201, (i, r, free_bytes(small_disk), sizes(small_disk))
        acked[r.body["id"]] = r.body
    if patched:
        acked.pop(first)
    check_acked(srv.port, acked)
    assert srv.stop() == 0, "SIGTERM did not end the server with 0"
    total = check_sequences(db)
    integrity = check_integrity(db)
    print(
        f"files on the small disk: {sizes(small_disk)}\n"
        f"disk full: {full_orders} orders fitted, then refusals {refusals}; resumed after the filler went; "
        f"{len(acked)} acknowledged orders verified, {total} in the database; {integrity}"
    )
