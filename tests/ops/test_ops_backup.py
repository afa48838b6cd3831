"""`tokenq backup` (docs/tokenq.1, backup): a consistent copy while
the server takes orders, restored as docs/operations.md says, on which a
server continues the day's numbers; an existing file is kept unless --force;
clear errors when pg_dump is missing or of another major version."""

import os
import re
import shutil
import subprocess
import time

import pytest

import opskit
from opskit import ops, kind, pg  # noqa: F401 (fixtures)
from opskit import one_sentence, run_cli


def restore(backup, kind, ops):
    """Restores a backup file into a fresh database, per docs/operations.md."""
    if kind == "sqlite":
        db = opskit.Db("sqlite", ops.tmpdir)
        shutil.copyfile(backup, db.path)
        return ops.adopt(db)
    db = ops.adopt(opskit.Db("postgres", ops.tmpdir))
    r = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", db.url,
                        str(backup)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"pg_restore failed: {r.stderr}"
    return db


def test_backup_under_load_restores_and_continues(kind, ops):
    db = ops.db(kind)
    api = ops.api(db)
    load = opskit.Load(api, threads=4).start()
    try:
        load.wait_for(150)
        started = time.monotonic()
        before = load.acked_before(started)
        out = ops.tmpdir / ("backup.db" if kind == "sqlite" else "backup.dump")
        r = run_cli("backup", str(out), db=db)
        # let the load run on past the backup
        time.sleep(0.3)
    finally:
        load.stop()
    assert r.returncode == 0, f"backup failed: {r.stderr}"
    assert out.exists() and out.stat().st_size > 0
    assert str(out) in r.stderr and re.search(r"\d+(\.\d+)? (bytes|KiB|MiB)", r.stderr), r.stderr
    assert re.search(r"in \d+\.\d\d s", r.stderr), r.stderr
    leftovers = [p.name for p in ops.tmpdir.iterdir() if ".tmp-" in p.name]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    assert not load.errors, load.errors[:3]
    after = len(load.acked) - len(before)
    assert after > 0, "no order was taken while or after the backup ran"

    restored = restore(out, kind, ops)
    st = run_cli("migrate", "status", db=restored)
    assert st.returncode == 0, f"the restored database is not up to date: {st.stdout}{st.stderr}"
    api2 = ops.api(restored, keys=api.keys)  # keys are in the backup too
    orders = api2.list_all()
    by_id = {o["id"]: o for o in orders}
    missing = [o["token"] for o in before if o["id"] not in by_id]
    assert not missing, f"{len(missing)} orders acknowledged before the backup are missing"
    for o in before:
        assert by_id[o["id"]]["token"] == o["token"]
    # a consistent snapshot: the day's numbers are 1..N without a hole
    seqs = sorted(o["sequence"] for o in orders)
    assert seqs == list(range(1, len(seqs) + 1)), "the backup holds a gap in the numbers"
    nxt = api2.create()
    assert nxt["sequence"] == len(seqs) + 1, f"next after restore: {nxt['token']}, want {len(seqs) + 1}"
    assert nxt["id"] > max(by_id), "the restored database reused an order id"


def test_backup_refuses_existing_file_unless_forced(ops):
    db = ops.db("sqlite")
    opskit.create_key(db, "admin")
    out = ops.tmpdir / "keep.db"
    out.write_bytes(b"precious")
    r = run_cli("backup", str(out), db=db)
    assert r.returncode == 1, r.stderr
    assert "--force" in one_sentence(r.stderr)
    assert out.read_bytes() == b"precious", "a refused backup changed the file"
    r = run_cli("backup", str(out), "--force", db=db)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:16] == b"SQLite format 3\x00"
    # the copy is a complete database of its own: no -wal beside it
    assert not os.path.exists(str(out) + "-wal")
    import sqlite3
    con = sqlite3.connect(out)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 1
    con.close()
    assert (out.stat().st_mode & 0o077) == 0, "a backup holds key hashes: only its owner may read it"


@pytest.mark.parametrize("args,code", [
    ([], 2),
    (["a.db", "b.db"], 2),
    (["--bogus", "x.db"], 2),
    (["{tmp}/no/such/folder/x.db"], 1),
    (["{tmp}"], 2),
])
def test_backup_usage_and_path_errors(ops, args, code):
    db = ops.db("sqlite")
    opskit.create_key(db, "admin")
    args = [a.replace("{tmp}", str(ops.tmpdir)) for a in args]
    r = run_cli("backup", *args, db=db)
    assert r.returncode == code, f"{args}: exit {r.returncode}: {r.stderr}"
    one_sentence(r.stderr)


def test_backup_of_missing_sqlite_database(ops):
    r = run_cli("backup", str(ops.tmpdir / "out.db"), db=f"sqlite:{ops.tmpdir}/absent.db")
    assert r.returncode == 1
    assert "does not exist" in one_sentence(r.stderr)
    assert not (ops.tmpdir / "absent.db").exists(), "backup created the database it was to copy"
    assert not (ops.tmpdir / "out.db").exists()


def test_backup_without_pg_dump(pg, ops):
    db = ops.db("postgres")
    empty = ops.tmpdir / "empty-bin"
    empty.mkdir()
    r = run_cli("backup", str(ops.tmpdir / "x.dump"), db=db, env={"PATH": str(empty)})
    assert r.returncode == 1
    assert "pg_dump was not found" in one_sentence(r.stderr)
    assert not any(".tmp-" in p.name for p in ops.tmpdir.iterdir())


def test_backup_shows_pg_dump_version_mismatch(pg, ops):
    db = ops.db("postgres")
    fake = ops.tmpdir / "fake-bin"
    fake.mkdir()
    tool = fake / "pg_dump"
    tool.write_text("#!/bin/sh\n"
                    "echo 'pg_dump: error: aborting because of server version mismatch' >&2\n"
                    "echo 'pg_dump: detail: server version: 17.2; pg_dump version: 15.10' >&2\n"
                    "exit 1\n")
    tool.chmod(0o755)
    r = run_cli("backup", str(ops.tmpdir / "x.dump"), db=db,
                env={"PATH": f"{fake}:{os.environ.get('PATH', '')}"})
    assert r.returncode == 1
    line = one_sentence(r.stderr)
    assert "server version: 17.2; pg_dump version: 15.10" in line, line
    assert "major version" in line, line
    assert not (ops.tmpdir / "x.dump").exists()
