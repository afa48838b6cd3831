"""The customer's estimate (eta_seconds) follows the line: it grows with the
tokens ahead, and an order already waiting far longer than usual is never
told "about a minute". The queue's history is written straight into the
database (preparation 5 minutes, one order ready every minute) so the
figures are known."""

import sqlite3
import time

from conftest import psql

MIN = 60_000


def run_sql(db, sql):
    if db.kind == "sqlite":
        c = sqlite3.connect(db.url[len("sqlite:"):])
        try:
            c.execute(sql)
            c.commit()
        finally:
            c.close()
    else:
        psql(sql, db.url)


def lookup(api, token):
    r = api.get(f"/api/tokens/{token}", key="")
    assert r.status == 200, r
    return r.body


def test_estimate_grows_with_the_line_and_with_lateness(factory):
    api = factory.api(queues="A=Orders")
    now = int(time.time() * 1000)
    done = [api.create("A") for _ in range(5)]
    for o in done:
        api.set_status(o["id"], "READY")
    # history: ready one a minute apart, each 5 minutes after it was created
    for i, o in enumerate(done):
        ready = now - (10 - i) * MIN
        run_sql(api.db, f"UPDATE orders SET ready_at = {ready}, created_at = {ready - 5 * MIN} "
                        f"WHERE id = {o['id']}")
    waiting = [api.create("A") for _ in range(4)]
    etas = [lookup(api, o["token"])["eta_seconds"] for o in waiting]
    aheads = [lookup(api, o["token"])["ahead"] for o in waiting]
    assert aheads == [0, 1, 2, 3], aheads
    assert all(isinstance(e, int) for e in etas), etas
    assert etas == sorted(etas) and len(set(etas)) == 4, \
        f"each token further back is told a longer wait: {etas}"
    # the first is about the usual 5 minutes; each further one a minute more
    assert 280 <= etas[0] <= 300, etas
    assert 40 <= etas[1] - etas[0] <= 80, etas

    # one order has been waiting an hour and a half: not "about a minute"
    run_sql(api.db, f"UPDATE orders SET created_at = {now - 90 * MIN} WHERE id = {waiting[0]['id']}")
    api.set_status(waiting[0]["id"], "PREPARING")
    late = lookup(api, waiting[0]["token"])["eta_seconds"]
    assert late >= 80 * 60, f"a token 90 min in progress where 5 min is usual was told {late} s"
