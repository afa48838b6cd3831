"""GET /api/stats and GET /api/orders.csv against hand-computed answers, and
GET /metrics as Prometheus reads it.

The exact cases write a past business day straight into the database (the
API only makes orders now), with known totals, statuses and preparation
times, and read it back with the venue in Asia/Kolkata (UTC+05:30), so
that a local hour is never the UTC hour."""

import csv
import datetime as dt
import io
import json
import math
import re
import subprocess
import zoneinfo

import pytest

import opskit
from opskit import ops, kind  # noqa: F401 (fixtures)
from opskit import run_cli

VENUE_TZ = "Asia/Kolkata"
DAY = "2026-01-15"
STATUSES = ["PENDING", "PREPARING", "READY", "COMPLETED", "CANCELLED"]


def ms(local_text):
    t = dt.datetime.fromisoformat(local_text).replace(tzinfo=zoneinfo.ZoneInfo(VENUE_TZ))
    return int(t.timestamp() * 1000)


def sql_text(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    return "'" + v.replace("'", "''") + "'"


def insert_orders(db, rows):
    """rows: dicts with the orders columns (no id); written in one statement per 200."""
    cols = ["venue_id", "queue", "business_date", "sequence", "status", "items", "total", "note",
            "created_at", "updated_at", "ready_at"]
    script = []
    for i in range(0, len(rows), 200):
        values = ",".join("(" + ",".join(sql_text(r.get(c, 1)) for c in cols) + ")"
                          for r in rows[i:i + 200])
        script.append(f"INSERT INTO orders ({', '.join(cols)}) VALUES {values};")
    db.execute_script("\n".join(script))


def items_json(items):
    return json.dumps([{"name": n, "quantity": q, "unit_price": p} for n, q, p in items],
                      ensure_ascii=False, separators=(",", ":"))


def the_day():
    """A day of orders with everything the report sums up."""
    rows = []
    seqs = {"A": 0, "B": 0}
    # (queue, local created time, status, total, prep ms or None)
    plan = [
        ("A", "2026-01-15 00:10:00", "COMPLETED", 1000, 240_499),  # 240 s (rounds down)
        ("A", "2026-01-15 00:40:00", "COMPLETED", 2500, 240_500),  # 241 s (rounds up)
        ("A", "2026-01-15 07:05:00", "COMPLETED", 300, 60_000),
        ("A", "2026-01-15 07:59:59", "READY", 450, 900_000),
        ("B", "2026-01-15 08:00:00", "COMPLETED", 12000, 30_000),
        ("A", "2026-01-15 08:30:00", "CANCELLED", 999, None),
        ("A", "2026-01-15 08:31:00", "CANCELLED", 5000, 120_000),  # READY, then cancelled
        ("B", "2026-01-15 12:15:00", "PREPARING", 700, None),
        ("A", "2026-01-15 12:16:00", "PENDING", 800, None),
        ("A", "2026-01-15 13:00:00", "COMPLETED", 0, 410_000),
        ("A", "2026-01-15 13:10:00", "COMPLETED", 150, 180_500),  # 181 s (half up)
        ("B", "2026-01-15 18:45:00", "COMPLETED", 2200, 299_999),
        ("A", "2026-01-15 23:59:59", "READY", 100, 1_000),
    ]
    for q, local, status, total, prep in plan:
        seqs[q] += 1
        created = ms(local)
        ready = created + prep if prep is not None else None
        rows.append({"queue": q, "business_date": DAY, "sequence": seqs[q], "status": status,
                     "items": items_json([("Tea", 1, total)]), "total": total, "note": None,
                     "created_at": created, "updated_at": ready or created, "ready_at": ready})
    # another day, which must not count
    rows.append({"queue": "A", "business_date": "2026-01-16", "sequence": 1,
                 "status": "COMPLETED", "items": items_json([("Tea", 1, 5)]), "total": 5,
                 "note": None, "created_at": ms("2026-01-16 09:00:00"),
                 "updated_at": ms("2026-01-16 09:05:00"), "ready_at": ms("2026-01-16 09:04:00")})
    return plan, rows


def expected(plan, queue=None):
    sel = [p for p in plan if queue is None or p[0] == queue]
    by_status = {s: sum(1 for p in sel if p[2] == s) for s in STATUSES}
    preps = sorted(p[4] for p in sel if p[4] is not None)

    def rank(pct):
        return (preps[max(1, math.ceil(pct * len(preps) / 100)) - 1] + 500) // 1000

    hours = [0] * 24
    for p in sel:
        hours[dt.datetime.fromisoformat(p[1]).hour] += 1
    return {
        "business_date": DAY, "queue": queue, "orders": len(sel), "by_status": by_status,
        "revenue": sum(p[3] for p in sel if p[2] != "CANCELLED"),
        "prep_seconds": {"count": len(preps), "p50": rank(50) if preps else None,
                         "p90": rank(90) if preps else None,
                         "max": rank(100) if preps else None},
        "orders_per_hour": hours,
    }


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def day(request, tmp_path_factory):
    """A server in Asia/Kolkata over a database holding the_day(), shared by
    the module's tests (they only read)."""
    if request.param == "postgres":
        opskit.need_pg()
    ops = opskit.Env(tmp_path_factory.mktemp("day"))
    try:
        db = ops.db(request.param)
        assert run_cli("migrate", db=db).returncode == 0
        plan, rows = the_day()
        insert_orders(db, rows)
        api = ops.api(db, env={"TOKENQ_TIMEZONE": VENUE_TZ,
                               "TOKENQ_QUEUES": "A=Dine-in,B=Takeaway"})
        yield api, plan
    finally:
        ops.close()


def test_stats_match_hand_computed_day(day):
    api, plan = day
    for queue in (None, "A", "B"):
        r = api.get(f"/api/stats?date={DAY}" + (f"&queue={queue}" if queue else ""), key="staff")
        assert r.status == 200, r
        assert r.body == expected(plan, queue), f"queue {queue}"
    whole = expected(plan)
    # the figures worked out by hand, so the expectation itself is checked too
    assert whole["prep_seconds"] == {"count": 10, "p50": 181, "p90": 410, "max": 900}
    assert expected(plan, "B")["prep_seconds"] == {"count": 2, "p50": 30, "p90": 300, "max": 300}
    assert whole["revenue"] == 1000 + 2500 + 300 + 450 + 12000 + 700 + 800 + 0 + 150 + 2200 + 100
    assert whole["orders_per_hour"][0] == 2 and whole["orders_per_hour"][7] == 2


def test_stats_empty_day_has_null_percentiles(day):
    api, _ = day
    r = api.get("/api/stats?date=2025-12-31", key="admin")
    assert r.status == 200, r
    assert r.body["orders"] == 0 and r.body["revenue"] == 0
    assert r.body["prep_seconds"] == {"count": 0, "p50": None, "p90": None, "max": None}
    assert r.body["orders_per_hour"] == [0] * 24
    assert r.body["by_status"] == {s: 0 for s in STATUSES}


def test_stats_and_csv_refusals(day):
    api, _ = day
    for path in ("/api/stats", "/api/orders.csv"):
        assert api.get(path, key="pos").status == 403
        r = api.get(path, key="")
        assert r.status == 401 and r.headers.get("www-authenticate", "").startswith("Bearer")
        r = api.get(path + "?date=2026-02-30", key="staff")
        assert r.status == 422 and r.body["field"] == "date", r
        r = api.get(path + "?queue=Z", key="staff")
        assert r.status == 422 and r.body["code"] == "unknown_queue", r


def test_stats_live_orders(ops):
    db = ops.db("sqlite")
    api = ops.api(db)
    totals = [300, 450, 1200, 75, 990, 60]
    made = [api.create(items=[{"name": "X", "quantity": 1, "unit_price": t}]) for t in totals]
    api.move(made[0]["id"], "READY")
    api.move(made[1]["id"], "PREPARING")
    api.move(made[1]["id"], "READY")
    api.move(made[1]["id"], "COMPLETED")
    api.move(made[2]["id"], "CANCELLED")
    api.move(made[3]["id"], "COMPLETED")
    r = api.get("/api/stats", key="staff")
    assert r.status == 200, r
    s = r.body
    assert s["business_date"] == opskit.business_date() and s["queue"] is None
    assert s["orders"] == 6
    assert s["by_status"] == {"PENDING": 2, "PREPARING": 0, "READY": 1, "COMPLETED": 2,
                              "CANCELLED": 1}
    assert s["revenue"] == sum(totals) - 1200
    p = s["prep_seconds"]
    # made[3] went from PENDING straight to COMPLETED: it never was READY
    assert p["count"] == 2 and 0 <= p["p50"] <= p["p90"] <= p["max"] <= 5
    assert sum(s["orders_per_hour"]) == 6 and len(s["orders_per_hour"]) == 24
    hours = {dt.datetime.fromisoformat(o["created_at"].replace("Z", "+00:00")).hour for o in made}
    assert all(s["orders_per_hour"][h] > 0 for h in hours)


def parse_csv(resp):
    assert resp.status == 200, resp
    assert resp.headers["content-type"].replace(" ", "").lower() == "text/csv;charset=utf-8"
    text = resp.raw.decode("utf-8")
    # RFC 4180: every record ends with CRLF; a bare LF only inside quotes
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    assert rows[0] == ["id", "token", "queue", "business_date", "status", "items", "total", "note",
                       "created_at", "updated_at"]
    return rows[1:]


def test_csv_of_hand_computed_day_pages_in_order(kind, ops):
    db = ops.db(kind)
    assert run_cli("migrate", db=db).returncode == 0
    rows = [{"queue": "A", "business_date": DAY, "sequence": i + 1,
             "status": STATUSES[i % 5], "items": items_json([("Tea", 1 + i % 4, 10 + i)]),
             "total": (1 + i % 4) * (10 + i), "note": None if i % 7 else f"note {i}",
             "created_at": ms("2026-01-15 06:00:00") + i * 1000,
             "updated_at": ms("2026-01-15 06:00:00") + i * 1000 + 5, "ready_at": None}
            for i in range(1203)]
    insert_orders(db, rows)
    api = ops.api(db, env={"TOKENQ_TIMEZONE": VENUE_TZ})
    r = api.get(f"/api/orders.csv?date={DAY}", key="staff")
    assert r.headers["content-disposition"] == f'attachment; filename="orders-{DAY}.csv"'
    got = parse_csv(r)
    assert len(got) == 1203, "every order of the day, past the 500-row pages"
    ids = [int(g[0]) for g in got]
    assert ids == sorted(ids), "oldest first"
    for g, want in zip(got, rows):
        seq = want["sequence"]
        qty = json.loads(want["items"])[0]["quantity"]
        assert g[1] == f"A-{seq:03d}" and g[2] == "A" and g[3] == DAY
        assert g[4] == want["status"] and g[6] == str(want["total"])
        assert g[5] == f"{qty}× Tea"
        assert g[7] == (want["note"] or "")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", g[8])
    r = api.get(f"/api/orders.csv?date={DAY}&queue=A", key="admin")
    assert r.headers["content-disposition"] == f'attachment; filename="orders-{DAY}-A.csv"'
    empty = parse_csv(api.get("/api/orders.csv?date=2020-02-29", key="staff"))
    assert empty == []


def test_csv_round_trip_of_tricky_text(ops):
    db = ops.db("sqlite")
    api = ops.api(db)
    names = ['Chai, "strong"', 'Say "hi"', "a,b,,c", "Masala ×2; extra", "naïve café 🍵",
             "=SUM(A1)", " leading space", '"', ","]
    notes = ["line one\nline two", "crlf\r\ninside", 'quote " and, comma', "\r", None,
             "tab\there"]
    made = []
    for i, name in enumerate(names):
        made.append(api.create(items=[{"name": name, "quantity": i + 1, "unit_price": 100},
                                      {"name": "Samosa", "quantity": 1, "unit_price": 5}],
                               note=notes[i % len(notes)]))
    got = parse_csv(api.get("/api/orders.csv", key="staff"))
    assert len(got) == len(made)
    for g, o in zip(got, made):
        assert g[0] == str(o["id"]) and g[1] == o["token"]
        assert g[5] == f"{o['items'][0]['quantity']}× {o['items'][0]['name']}; 1× Samosa"
        assert g[7] == (o["note"] or "")
        assert g[8] == o["created_at"]


# ---- /metrics ----

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? '
                    r'(-?[0-9.eE+-]+|NaN|[+-]Inf)$')


def parse_exposition(text):
    """A strict reader of the Prometheus text format (0.0.4): TYPE before
    samples, one family per name, sample lines well formed, histograms
    cumulative with +Inf equal to _count. Returns {name: {labels: value}}."""
    assert text.endswith("\n")
    types, samples, seen_families = {}, {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            assert typ in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, f"TYPE twice for {name}"
            types[name] = typ
            seen_families.append(name)
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, labels, value = m.group(1), m.group(3) or "", float(m.group(4))
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"{name} has no TYPE line before it"
        assert family == seen_families[-1], f"{name} is not with its family"
        samples.setdefault(name, {})[labels] = value
    for fam, typ in types.items():
        if typ != "histogram":
            continue
        buckets = {}
        for labels, v in samples.get(fam + "_bucket", {}).items():
            le = re.search(r'le="([^"]+)"', labels).group(1)
            rest = re.sub(r',?le="[^"]+"', "", labels)
            buckets.setdefault(rest, []).append((math.inf if le == "+Inf" else float(le), v))
        for rest, bs in buckets.items():
            bs.sort()
            assert all(a[1] <= b[1] for a, b in zip(bs, bs[1:])), f"{fam}{{{rest}}} not cumulative"
            assert bs[-1][0] == math.inf
            assert samples[fam + "_count"][rest] == bs[-1][1]
    return samples


def test_metrics_move_with_requests(ops):
    db = ops.db("sqlite")
    api = ops.api(db)
    r = api.get("/metrics", key="staff")
    assert r.status == 403
    r0 = api.get("/metrics", key="admin")
    assert r0.status == 200, r0
    assert r0.headers["content-type"].startswith("text/plain; version=0.0.4")
    before = parse_exposition(r0.text)
    o = api.create()
    api.move(o["id"], "READY")
    api.get("/api/stats", key="staff")
    r1 = api.get("/metrics", key="admin")
    after = parse_exposition(r1.text)
    main = 'venue="main"'
    assert after["tokenq_orders_created_total"][main] == before["tokenq_orders_created_total"][main] + 1
    assert after["tokenq_status_changes_total"][main] == before["tokenq_status_changes_total"][main] + 1
    reqs = after["tokenq_http_requests_total"]
    assert reqs['route="orders_create",code="201"'] >= 1
    assert reqs['route="stats",code="200"'] >= 1
    assert reqs['route="metrics",code="403"'] >= 1
    if opskit.have("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"], input=r1.text, text=True,
                           capture_output=True, timeout=60)
        assert p.returncode == 0, f"promtool: {p.stdout}{p.stderr}"
