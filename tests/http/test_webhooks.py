"""Webhook endpoints through `tokenq webhooks` and /api/webhooks, from the
outside, on SQLite and PostgreSQL: creating, listing, revoking, the roles,
refusals that create nothing, and each endpoint's deliveries as people see
them. What receivers get is test_webhook_delivery.py; the receiver and the
helpers are webhooklib.py.

The receiver listens on loopback, so every endpoint here is created with
--allow-private.
"""

import json
import re

from conftest import NOTSET, TIMESTAMP_RE, assert_json_ct, assert_problem, create_keys, run_cli
from webhooklib import (ALL_EVENTS, SECRET_RE, cli_create, cli_deliveries, cli_list, hook_api, read_events,
                        wait_until)
from webhooklib import receiver_js, receivers  # noqa: F401 (fixtures the tests ask for)


# ---------------------------------------------------------------- CLI

BAD_URLS = [
    "ftp://example.com/hook",
    "example.com/hook",
    "http://user:secret@example.com/hook",
    "http:///hook",
    "https://example.com/" + "a" * 2000,
    "http://127.0.0.1:9/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://[::1]:9/hook",
]


def test_cli_create_list_revoke(factory):
    db = factory.db()
    create_keys(db, ["admin"])  # migrates the database
    assert cli_list(db) == []

    a, secret_a = cli_create(db, "http://127.0.0.1:9/ok/a", "--allow-private")
    b, secret_b = cli_create(db, "https://hooks.example.com/tokenq", "--events", "token,recall", "--venue", "main")
    assert a != b and secret_a != secret_b
    rows = cli_list(db)
    assert [r["id"] for r in rows] == [a, b], rows
    assert rows[0]["url"] == "http://127.0.0.1:9/ok/a" and rows[1]["url"] == "https://hooks.example.com/tokenq"
    assert rows[0]["events"] == "token,recall,transfer", rows[0]
    assert rows[1]["events"] == "token,recall", rows[1]
    assert [r["state"] for r in rows] == ["active", "active"]
    assert secret_a not in run_cli("webhooks", "list", db=db).stdout, "list shows a secret"

    bad = [[u] for u in BAD_URLS] + [["https://example.com/h", "--events", "token,bogus"],
                                     ["https://example.com/h", "--events", ""],
                                     ["https://example.com/h", "--venue", "other"]]
    for args in bad:
        r = cli_create(db, *args, check=False)
        assert r.returncode == 2, f"webhooks create {args}: exit {r.returncode}, want 2: {r.stderr}"
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, f"webhooks create {args}: want one sentence on stderr, got {r.stderr!r}"
        assert r.stdout == "", f"webhooks create {args} refused but printed {r.stdout!r}"
    assert [r["id"] for r in cli_list(db)] == [a, b], "a refused create left an endpoint behind"

    # with --allow-private the private literals are accepted
    c, _ = cli_create(db, "http://10.1.2.3/hook", "--allow-private")

    r = run_cli("webhooks", "revoke", str(b), db=db)
    assert r.returncode == 0, r.stderr
    assert f"revoked webhook {b}" in r.stderr, r.stderr
    states = {x["id"]: x["state"] for x in cli_list(db)}
    assert states == {a: "active", b: "revoked", c: "active"}, states
    r = run_cli("webhooks", "revoke", "99999", db=db)
    assert r.returncode == 1 and r.stderr.strip(), (r.returncode, r.stderr)
    r = run_cli("webhooks", "revoke", "abc", db=db)
    assert r.returncode == 2 and r.stderr.strip(), (r.returncode, r.stderr)
    assert {x["id"]: x["state"] for x in cli_list(db)} == states


def test_cli_deliveries(factory, receivers):
    api = hook_api(factory)
    recv = receivers()
    hid, secret = cli_create(api.db, recv.url("/fail-first/cli"), "--allow-private")
    recv.start(secret)
    o = api.create()
    api.set_status(o["id"], "READY")
    recv.wait_for(4)
    wait_until(lambda: all(d["state"] == "delivered" for d in cli_deliveries(api.db, hid)), 10,
               "deliveries listed as delivered")
    ds = cli_deliveries(api.db, hid)
    assert [d["type"] for d in ds] == ["token.pending", "token.ready"], [d["line"] for d in ds]
    events = read_events(api.server, 2)
    for d in ds:
        assert d["id"].isdigit() and d["event_id"].isdigit(), d["line"]
        assert int(d["event_id"]) in events, d["line"]
        assert d["state"] == "delivered" and d["attempts_n"] == "2" and d["last_status"] == "204", d["line"]
        assert len(d["attempts"]) == 2, d
        first, second = d["attempts"]
        assert first[0] == "#1" and second[0] == "#2", d["attempts"]
        for at in (first, second):
            assert TIMESTAMP_RE.match(at[1]), at
            assert re.match(r"^\d+(ms)?$", at[3]), f"duration {at[3]!r}"
        assert first[2] == "500" and first[4].strip() != "ok", first
        assert second[2] == "204" and second[4].strip() == "ok", second
    assert int(ds[0]["event_id"]) < int(ds[1]["event_id"])
    r = run_cli("webhooks", "deliveries", "99999", db=api.db)
    assert r.returncode == 1 and r.stderr.strip(), (r.returncode, r.stderr)


# ---------------------------------------------------------------- HTTP

WEBHOOK_KEYS = {"id", "url", "events", "allow_private", "venue", "state", "created_at", "revoked_at",
                "failing_since"}


def check_webhook(w, url=NOTSET, events=NOTSET, state="active"):
    assert "secret" not in w, f"an endpoint shown after creation carries its secret: {w}"
    assert set(w) == WEBHOOK_KEYS, f"endpoint members {sorted(w)} want {sorted(WEBHOOK_KEYS)}"
    assert isinstance(w["id"], int) and TIMESTAMP_RE.match(w["created_at"]), w
    assert w["venue"] == "main" and w["state"] == state, w
    if url is not NOTSET:
        assert w["url"] == url, w
    if events is not NOTSET:
        assert w["events"] == events, w
    if state == "revoked":
        assert w["revoked_at"] and TIMESTAMP_RE.match(w["revoked_at"]), w
    else:
        assert w["revoked_at"] is None, w
    assert w["failing_since"] is None, w


def test_http_create_read_revoke(factory):
    api = hook_api(factory)
    url = "http://127.0.0.1:9/ok/http"
    r = api.post("/api/webhooks", {"url": url, "allow_private": True})
    assert r.status == 201, r
    assert_json_ct(r)
    w = r.body
    assert r.headers.get("location") == f"/api/webhooks/{w['id']}", r.headers
    assert SECRET_RE.match(w.get("secret", "")), f"no whsec_ secret in the 201 answer: {w}"
    assert w["url"] == url and w["events"] == ALL_EVENTS and w["allow_private"] is True, w
    assert w["venue"] == "main" and w["state"] == "active" and TIMESTAMP_RE.match(w["created_at"]), w

    r = api.post("/api/webhooks", {"url": "https://hooks.example.com/t", "events": ["recall"], "venue": "main",
                                   "allow_private": False})
    assert r.status == 201, r
    w2 = r.body
    assert w2["events"] == ["recall"] and w2["allow_private"] is False and w2["secret"] != w["secret"], w2

    r = api.get("/api/webhooks")
    assert r.status == 200, r
    assert_json_ct(r)
    assert [x["id"] for x in r.body["webhooks"]] == [w["id"], w2["id"]], r.body
    check_webhook(r.body["webhooks"][0], url=url, events=ALL_EVENTS)
    check_webhook(r.body["webhooks"][1], events=["recall"])
    r = api.get(f"/api/webhooks/{w['id']}")
    assert r.status == 200, r
    check_webhook(r.body, url=url)
    assert r.body == api.get("/api/webhooks").body["webhooks"][0]
    assert_problem(api.get("/api/webhooks/99999"), 404, "not_found")
    assert_problem(api.get("/api/webhooks/99999/deliveries"), 404, "not_found")
    assert_problem(api.request("DELETE", "/api/webhooks/99999"), 404, "not_found")

    # the CLI sees endpoints made over HTTP
    assert [x["id"] for x in cli_list(api.db)] == [w["id"], w2["id"]]

    r = api.request("DELETE", f"/api/webhooks/{w2['id']}")
    assert r.status == 200, r
    check_webhook(r.body, events=["recall"], state="revoked")
    r2 = api.request("DELETE", f"/api/webhooks/{w2['id']}")
    assert r2.status == 200 and r2.body["state"] == "revoked", r2
    assert r2.body["revoked_at"] == r.body["revoked_at"], "revoking twice moved revoked_at"
    check_webhook(api.get(f"/api/webhooks/{w2['id']}").body, state="revoked")
    assert {x["id"]: x["state"] for x in cli_list(api.db)} == {w["id"]: "active", w2["id"]: "revoked"}


def test_http_roles(factory):
    api = hook_api(factory)
    w = api.post("/api/webhooks", {"url": "http://127.0.0.1:9/ok/r", "allow_private": True}).body
    body = {"url": "http://127.0.0.1:9/ok/other", "allow_private": True}
    routes = [("POST", "/api/webhooks", body), ("GET", "/api/webhooks", None),
              ("GET", f"/api/webhooks/{w['id']}", None), ("DELETE", f"/api/webhooks/{w['id']}", None),
              ("GET", f"/api/webhooks/{w['id']}/deliveries", None)]
    for method, path, b in routes:
        r = api.request(method, path, b, key="")
        assert_problem(r, 401, "unauthorized")
        assert r.headers.get("www-authenticate", "").lower().startswith("bearer"), r.headers
        assert_problem(api.request(method, path, b, key="tq_not_a_key"), 401, "unauthorized")
        for role in ("pos", "staff"):
            assert_problem(api.request(method, path, b, key=role), 403, "forbidden")
    r = api.get("/api/webhooks")
    assert [x["id"] for x in r.body["webhooks"]] == [w["id"]], "a refused POST created an endpoint"
    assert r.body["webhooks"][0]["state"] == "active", "a refused DELETE revoked the endpoint"


def test_http_refusals_create_nothing(factory):
    api = hook_api(factory)
    ok = "http://127.0.0.1:9/ok/x"
    cases = [
        ({"url": "ftp://example.com/h"}, 422, "invalid_field", "url"),
        ({"url": "http://user:pw@example.com/h"}, 422, "invalid_field", "url"),
        ({"url": "http:///h"}, 422, "invalid_field", "url"),
        ({"url": "https://example.com/" + "a" * 2000}, 422, "invalid_field", "url"),
        ({"url": 42}, 422, "invalid_field", "url"),
        ({}, 422, "invalid_field", "url"),
        ({"url": ok}, 422, "invalid_field", "url"),  # loopback without allow_private
        ({"url": "http://10.0.0.7/h", "allow_private": False}, 422, "invalid_field", "url"),
        ({"url": "http://[::1]:9/h"}, 422, "invalid_field", "url"),
        ({"url": ok, "allow_private": "yes"}, 422, "invalid_field", "allow_private"),
        ({"url": ok, "allow_private": 1}, 422, "invalid_field", "allow_private"),
        ({"url": ok, "allow_private": True, "events": ["bogus"]}, 422, "invalid_field", "events"),
        ({"url": ok, "allow_private": True, "events": "token"}, 422, "invalid_field", "events"),
        ({"url": ok, "allow_private": True, "events": []}, 422, "invalid_field", "events"),
        ({"url": ok, "allow_private": True, "events": ["token", 1]}, 422, "invalid_field", "events"),
        ({"url": ok, "allow_private": True, "colour": "red"}, 422, "unknown_field", "colour"),
        ({"url": ok, "allow_private": True, "secret": "whsec_AAAA"}, 422, "unknown_field", "secret"),
        ({"url": ok, "allow_private": True, "venue": "other"}, 404, "unknown_venue", "venue"),
    ]
    for body, status, code, field in cases:
        r = api.post("/api/webhooks", body)
        try:
            assert_problem(r, status, code, field)
        except AssertionError as e:
            raise AssertionError(f"POST /api/webhooks {json.dumps(body)[:120]}: {e}") from None
    # the same framing rules as the orders route
    for raw in ("[1]", '{"url": "x", "url": "y"}', "{nope"):
        want = api.post("/api/orders", raw)
        r = api.post("/api/webhooks", raw)
        assert_problem(r, 400, want.body["code"])
    r = api.post("/api/webhooks", {"url": ok, "allow_private": True}, headers={"Content-Type": "text/plain"})
    assert_problem(r, 415)
    r = api.post("/api/webhooks", "{" + " " * 70000 + "}")
    assert_problem(r, 413)
    r = api.get("/api/webhooks")
    assert r.status == 200 and r.body == {"webhooks": []}, f"a refused request created an endpoint: {r.body}"
    assert cli_list(api.db) == []


def test_http_deliveries(factory, receivers):
    api = hook_api(factory)
    recv = receivers()
    r = api.post("/api/webhooks", {"url": recv.url("/fail-first/d"), "allow_private": True})
    assert r.status == 201, r
    w = r.body
    recv.start(w["secret"])
    r = api.get(f"/api/webhooks/{w['id']}/deliveries")
    assert r.status == 200 and r.body == {"deliveries": []}, r
    o = api.create()
    api.set_status(o["id"], "PREPARING")
    api.set_status(o["id"], "READY")
    recv.wait_for(6)

    def delivered():
        ds = api.get(f"/api/webhooks/{w['id']}/deliveries").body["deliveries"]
        return ds if len(ds) == 3 and all(d["state"] == "delivered" for d in ds) else None

    ds = wait_until(delivered, 10, "three deliveries delivered")
    events = read_events(api.server, 3)
    # newest last, like the CLI
    assert [d["type"] for d in ds] == ["token.pending", "token.preparing", "token.ready"], ds
    assert [d["event_id"] for d in ds] == sorted(events), (ds, sorted(events))
    for d in ds:
        assert set(d) >= {"id", "event_id", "type", "state", "attempts"}, d
        a1, a2 = d["attempts"]
        assert (a1["attempt"], a1["status"], a2["attempt"], a2["status"]) == (1, 500, 2, 204), d
        assert isinstance(a1["error"], str) and a1["error"], f"a 500 attempt has no error sentence: {a1}"
        assert a2["error"] is None, a2
        for a in (a1, a2):
            assert TIMESTAMP_RE.match(a["at"]) and isinstance(a["duration_ms"], int) and a["duration_ms"] >= 0, a
        assert a1["at"] <= a2["at"], d
    ids = [d["id"] for d in ds]
    r = api.get(f"/api/webhooks/{w['id']}/deliveries?limit=1")
    assert r.status == 200 and [d["id"] for d in r.body["deliveries"]] == ids[-1:], r.body
    for q in ("limit=0", "limit=501", "limit=x", "limit=-1"):
        assert_problem(api.get(f"/api/webhooks/{w['id']}/deliveries?{q}"), 422, "invalid_field", "limit")
    assert api.get(f"/api/webhooks/{w['id']}/deliveries?limit=500").body["deliveries"] == ds
