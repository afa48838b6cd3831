"""A database shared with a venue's other software.

A database with any table is not brand-new, so `serve` refuses it until
told to migrate (`--migrate`, or `tokenq migrate`); then tokenq's tables are
made beside the others, which stay as they were. Only a table or index
name tokenq must create, already taken by something else, is refused, and
the refusal names it.
"""

import sqlite3
import subprocess

from conftest import BIN, base_env, psql, run_cli


def foreign(db, sql):
    if db.backend == "sqlite":
        con = sqlite3.connect(db.url[len("sqlite:"):])
        con.executescript(sql)
        con.close()
    else:
        psql(sql, url=db.url)


def rows(db, sql):
    if db.backend == "sqlite":
        con = sqlite3.connect(db.url[len("sqlite:"):])
        out = [tuple(str(v) for v in r) for r in con.execute(sql)]
        con.close()
        return out
    out = psql(sql, url=db.url)
    return [tuple(x.strip() for x in ln.split("|")) for ln in out.splitlines()[2:-1] if ln.strip() and not ln.startswith("(")]


def serve_refusal(db, *args):
    p = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:1", "--database", db.url, *args],
                       env=base_env(), capture_output=True, text=True, timeout=30)
    return p


def test_serve_migrates_beside_other_tables(factory):
    db = factory.db()
    foreign(db, "CREATE TABLE menu_items (id INTEGER PRIMARY KEY, name TEXT);"
                "INSERT INTO menu_items VALUES (1, 'Masala tea');")
    r = serve_refusal(db)
    assert r.returncode == 1, f"serve took a database with pending migrations: {r.returncode} {r.stderr}"
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "0001_init" in lines[0] and "--migrate" in lines[0], r.stderr
    assert run_cli("migrate", "status", db=db).returncode == 1

    s = factory.server(db=db, args=["--migrate"])
    assert s.running()
    r = run_cli("keys", "create", "--role", "admin", db=db)
    assert r.returncode == 0, r.stderr
    assert rows(db, "SELECT name FROM menu_items") == [("Masala tea",)]
    assert run_cli("migrate", "status", db=db).returncode == 0


def test_migrate_command_beside_other_tables(factory):
    db = factory.db()
    foreign(db, "CREATE TABLE loyalty (card TEXT, points INTEGER);")
    r = run_cli("migrate", db=db)
    assert r.returncode == 0, r.stderr
    s = factory.server(db=db)
    assert s.running()


def test_a_taken_table_name_is_refused_and_named(factory):
    db = factory.db()
    foreign(db, "CREATE TABLE orders (ref TEXT, amount INTEGER); INSERT INTO orders VALUES ('x', 5);")
    r = serve_refusal(db, "--migrate")
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "table named orders" in lines[0], r.stderr
    r = run_cli("migrate", db=db)
    assert r.returncode == 1 and "table named orders" in r.stderr, r.stderr
    assert rows(db, "SELECT ref, amount FROM orders") == [("x", "5")]


def test_another_programs_schema_migrations_is_refused(factory):
    db = factory.db()
    foreign(db, "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY);"
                "INSERT INTO schema_migrations VALUES ('20240101000000');")
    r = run_cli("migrate", db=db)
    assert r.returncode == 1, r.stderr
    assert "schema_migrations" in r.stderr and "not tokenq's" in r.stderr, r.stderr
