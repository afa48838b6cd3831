"""Another process using the SQLite file while the server runs (an
operator's sqlite3 shell, `tokenq keys create`, `tokenq backup`, a
monitoring query), then kill -9: every acknowledged order must survive.

SQLite in WAL mode relies on POSIX advisory locks: every connection holds a
shared lock on the database file, and a connection that closes and finds
no other lock takes the file to be unused, checkpoints and deletes the WAL.
Closing *any* descriptor of the file in a process drops all of that
process's locks on it (SQLite's "How To Corrupt An SQLite Database File",
2.2.1), so a server that opens and closes the file behind SQLite's back
leaves its WAL to be deleted under it, and everything it commits after
that is lost at the next crash.
"""

import random
import sqlite3
import subprocess

import faultlib
from faultlib import Db, check_integrity, check_sequences, order_body


def post_orders(port, n, rng, key):
    acked = {}
    for _ in range(n):
        r = faultlib.request(port, "POST", "/api/orders", body=order_body(rng), headers={"Authorization": f"Bearer {key}"})
        assert r.status == 201, r
        acked[r.body["id"]] = r.body
    return acked


def cli(*args):
    r = subprocess.run([faultlib.BIN, *args], capture_output=True, text=True, timeout=30, env=faultlib.server_env())
    assert r.returncode == 0, f"tokenq {' '.join(args)}: {r.stderr}"
    return r.stdout


def test_other_process_then_kill9(tmp_path, servers):
    rng = random.Random(11)
    db = Db("sqlite", tmp_path)
    key = cli("keys", "create", "--role", "admin", "--database", db.url).splitlines()[0]
    auth = {"Authorization": f"Bearer {key}"}
    srv = servers(db).start()
    acked = post_orders(srv.port, 20, rng, key)

    # Another process reads the file and closes it.
    con = sqlite3.connect(db.path, timeout=30)
    assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 20
    con.close()
    # Another tokenq process writes to it and closes it.
    cli("keys", "create", "--role", "pos", "--label", "while-running", "--database", db.url)

    acked.update(post_orders(srv.port, 20, rng, key))
    srv.kill9()
    srv = servers(db).start()
    missing = []
    for oid in sorted(acked):
        g = faultlib.request(srv.port, "GET", f"/api/orders/{oid}", headers=auth)
        if g.status != 200:
            missing.append(oid)
    assert not missing, (
        f"{len(missing)} of {len(acked)} acknowledged orders lost after another process used the file "
        f"and the server was killed: {missing[:10]}"
    )
    assert srv.stop() == 0
    assert "while-running" in cli("keys", "list", "--database", db.url)
    check_sequences(db)
    check_integrity(db)
