"""Every route's documented answers, from a real server; each answer is
checked against the document by the hook conftest.py installs on the
client, and each test asserts the status it expects."""

import json
import time

import checker
import hook
import tokenq_http_helpers as h

ORDER = {"queue": "A", "items": [{"name": "Masala tea", "quantity": 2, "unit_price": 150}], "note": "less sugar"}


def test_orders_create(api):
    r = api.post("/api/orders", ORDER, key="pos")
    assert r.status == 201 and r.headers["location"] == f"/api/orders/{r.body['id']}"
    idem = {"Idempotency-Key": f"oa-{time.time_ns()}"}
    r1 = api.post("/api/orders", ORDER, headers=idem)
    assert r1.status == 201
    r2 = api.post("/api/orders", ORDER, headers=idem)
    assert r2.status == 200 and r2.headers.get("idempotent-replayed") == "true"
    assert api.post("/api/orders", dict(ORDER, note="other"), headers=idem).status == 422
    bad = {
        "idempotency": ({"Idempotency-Key": "has space"}, ORDER, "invalid_field"),
        "items": (None, {"queue": "A", "items": []}, "invalid_field"),
        "item": (None, {"queue": "A", "items": [{"name": "x", "quantity": 0, "unit_price": 1}]}, "invalid_item"),
        "item member": (None, {"queue": "A", "items": [{"name": "x", "quantity": 1, "unit_price": 1, "price": 1}]}, "unknown_field"),
        "member": (None, dict(ORDER, colour="red"), "unknown_field"),
        "total": (None, dict(ORDER, total=1), "total_mismatch"),
        "queue": (None, dict(ORDER, queue="Z"), "unknown_queue"),
        "queue missing": (None, {"items": ORDER["items"]}, "invalid_field"),
    }
    for what, (hdrs, body, code) in bad.items():
        r = api.post("/api/orders", body, headers=hdrs)
        assert r.status == 422 and r.body["code"] == code, (what, r)
    assert api.post("/api/orders", "[1]").status == 400
    assert api.post("/api/orders", '{"a":1,"a":2}').status == 400
    assert api.post("/api/orders", "x" * 70000).status == 413
    assert api.post("/api/orders", ORDER, headers={"Content-Type": "text/plain"}).status == 415
    assert api.post("/api/orders", ORDER, key="").status == 401
    assert api.post("/api/orders", ORDER, key="tq_not_a_key").status == 401
    assert api.post("/api/orders", ORDER, key="staff").status == 403


def test_orders_list(api):
    api.create()
    r = api.get("/api/orders?limit=1&status=PENDING,READY&queue=A", key="staff")
    assert r.status == 200 and r.body["next_after_id"] is not None
    assert api.get(f"/api/orders?after_id={r.body['next_after_id']}&date={h.suite_business_date()}", key="pos").status == 200
    for q in ("limit=0", "status=pending", "after_id=-1", "date=2026-13-45"):
        r = api.get("/api/orders?" + q)
        assert r.status == 422 and r.body["code"] == "invalid_field", (q, r)
    assert api.get("/api/orders?queue=ZZ").status == 422
    assert api.get("/api/orders", key="").status == 401


def test_orders_get_patch_recall_ticket(api):
    o = api.create()
    oid = o["id"]
    assert api.post(f"/api/orders/{oid}/recall", key="staff").status == 409
    assert api.patch(f"/api/orders/{oid}", {"status": "READY"}, key="staff").status == 200
    assert api.post(f"/api/orders/{oid}/recall", key="staff").status == 200
    assert api.post(f"/api/orders/{oid}/recall", key="pos").status == 403
    r = api.get(f"/api/orders/{oid}", key="pos")
    assert r.status == 200 and [e["event"] for e in r.body["history"]] == ["token", "token", "recall"]
    assert r.body["history"][0]["previous_status"] is None
    assert api.patch(f"/api/orders/{oid}", {"status": "PENDING"}).status == 409
    assert api.patch(f"/api/orders/{oid}", {"status": "DONE"}).status == 422
    assert api.patch(f"/api/orders/{oid}", {"status": "COMPLETED", "x": 1}).status == 422
    assert api.patch(f"/api/orders/{oid}", "nope").status == 400
    assert api.patch(f"/api/orders/{oid}", {"status": "COMPLETED"}, headers={"Content-Type": "text/json"}).status == 415
    assert api.patch(f"/api/orders/{oid}", "x" * 70000).status == 413
    assert api.patch(f"/api/orders/{oid}", {"status": "COMPLETED"}, key="pos").status == 403
    assert api.patch("/api/orders/999999", {"status": "READY"}).status == 404
    assert api.post("/api/orders/999999/recall").status == 404
    assert api.get("/api/orders/999999").status == 404
    assert api.get(f"/api/orders/{oid}", key="").status == 401
    assert api.patch(f"/api/orders/{oid}", {"status": "COMPLETED"}, key="").status == 401
    assert api.post(f"/api/orders/{oid}/recall", key="").status == 401
    r = api.get(f"/api/orders/{oid}/ticket", key="pos")
    assert r.status == 200 and o["token"] in r.text
    assert api.get("/api/orders/999999/ticket").status == 404
    assert api.get(f"/api/orders/{oid}/ticket", key="").status == 401
    assert api.request("HEAD", f"/api/orders/{oid}").status == 200
    assert api.request("HEAD", "/api/orders/999999").status == 404


def test_orders_csv_and_stats(api):
    o = api.create()
    api.set_status(o["id"], "READY")
    r = api.get("/api/orders.csv", key="staff")
    assert r.status == 200 and r.text.startswith("id,token,")
    assert api.get("/api/orders.csv?queue=B&date=" + h.suite_business_date()).status == 200
    assert api.get("/api/orders.csv?date=x").status == 422
    assert api.get("/api/orders.csv?queue=Q").status == 422
    assert api.get("/api/orders.csv", key="pos").status == 403
    assert api.get("/api/orders.csv", key="").status == 401
    r = api.get("/api/stats", key="staff")
    assert r.status == 200 and r.body["prep_seconds"]["count"] >= 1
    r = api.get("/api/stats?queue=TX")
    assert r.status == 200 and r.body["queue"] == "TX" and r.body["prep_seconds"]["p50"] is None
    assert api.get("/api/stats?date=27-11-2026").status == 422
    assert api.get("/api/stats?queue=Q").status == 422
    assert api.get("/api/stats", key="pos").status == 403
    assert api.get("/api/stats", key="").status == 401


def test_public_routes(api):
    o = api.create(queue="B")
    r = api.get(f"/api/tokens/{o['token'].lower()}", key="")
    assert r.status == 200 and r.body["status"] == "PENDING"
    api.set_status(o["id"], "READY")
    assert api.get(f"/api/tokens/{o['token']}?date={h.suite_business_date()}", key="").body["eta_seconds"] == 0
    assert api.get("/api/tokens/A-99999", key="").status == 404
    assert api.get("/api/tokens/nonsense", key="").status == 404
    assert api.get("/api/tokens/A-001?date=today", key="").status == 422
    r = api.get("/api/board", key="")
    assert r.status == 200 and o["token"] in r.body["ready"]
    assert api.get("/api/board?queue=A", key="").status == 200
    assert api.get("/api/board?queue=Q", key="").status == 422
    r = api.get("/api/queues", key="")
    assert r.status == 200 and [q["prefix"] for q in r.body["queues"]] == ["A", "B", "TX"]
    r = api.get("/healthz", key="")
    assert r.status == 200 and r.body["database"] == api.db.kind
    assert api.request("HEAD", "/healthz", key="").status == 200
    assert api.request("HEAD", "/api/board", key="").status == 200


def test_metrics(api):
    r = api.get("/metrics")
    assert r.status == 200 and "tokenq_" in r.text
    assert api.get("/metrics", key="staff").status == 403
    assert api.get("/metrics", key="").status == 401


def test_pages_and_assets(api):
    for p in ("/", "/staff", "/t/A-001", "/?queue=A&voice=1"):
        r = api.get(p, key="")
        assert r.status == 200 and "<html" in r.text.lower(), p
        assert "content-security-policy" in r.headers
    for name in ("board.js", "board.css", "favicon.svg", "openapi.json"):
        assert api.get("/assets/" + name, key="").status == 200, name
    assert api.get("/assets/nothing.js", key="").status == 404
    assert api.request("HEAD", "/staff", key="").status == 200


def test_unknown_path_and_method(api):
    assert api.get("/api/nothing", key="").status == 404
    assert api.get("/api/orders/abc", key="").status == 404
    r = api.request("DELETE", "/api/orders/1", key="")
    assert r.status == 405 and set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "PATCH"}
    assert api.request("PUT", "/api/board", key="").status == 405
    assert api.request("POST", "/healthz", key="").status == 405


def test_webhooks(api):
    url = "http://127.0.0.1:9/oa"
    r = api.post("/api/webhooks", {"url": url, "events": ["token", "recall"], "allow_private": True})
    assert r.status == 201 and r.headers["location"] == f"/api/webhooks/{r.body['id']}" and r.body["secret"], r
    wid = r.body["id"]
    body = {"url": url, "allow_private": True}
    assert api.post("/api/webhooks", {"url": url}).body["field"] == "url"
    assert api.post("/api/webhooks", dict(body, events=["bogus"])).body["field"] == "events"
    assert api.post("/api/webhooks", dict(body, colour="red")).body["code"] == "unknown_field"
    r = api.post("/api/webhooks", dict(body, venue="harbour"))
    assert r.status == 404 and r.body["code"] == "unknown_venue", r
    assert api.post("/api/webhooks", "[1]").status == 400
    assert api.post("/api/webhooks", "x" * 70000).status == 413
    assert api.post("/api/webhooks", body, headers={"Content-Type": "text/plain"}).status == 415
    for method, path, b in (("POST", "/api/webhooks", body), ("GET", "/api/webhooks", None),
                            ("GET", f"/api/webhooks/{wid}", None), ("DELETE", f"/api/webhooks/{wid}", None),
                            ("GET", f"/api/webhooks/{wid}/deliveries", None)):
        assert api.request(method, path, b, key="").status == 401, (method, path)
        assert api.request(method, path, b, key="staff").status == 403, (method, path)
    r = api.get("/api/webhooks")
    assert r.status == 200 and wid in [w["id"] for w in r.body["webhooks"]], r
    assert api.get(f"/api/webhooks/{wid}").status == 200
    assert api.get("/api/webhooks/999999").status == 404
    api.create()
    r = api.get(f"/api/webhooks/{wid}/deliveries?limit=5")
    assert r.status == 200 and r.body["deliveries"] and r.body["deliveries"][-1]["type"] == "token.pending", r
    assert api.get(f"/api/webhooks/{wid}/deliveries?limit=0").status == 422
    assert api.get("/api/webhooks/999999/deliveries").status == 404
    r = api.request("DELETE", f"/api/webhooks/{wid}")
    assert r.status == 200 and r.body["state"] == "revoked", r
    assert api.request("DELETE", "/api/webhooks/999999").status == 404


# A 1x1 PNG, as a logo is given: a data: URL.
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def venue_key(api, slug, role="admin"):
    r = h.run_cli("keys", "create", "--role", role, "--venue", slug, db=api.db)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()[0].strip()


def test_venues(api):
    r = api.get("/api/venues", key="")
    assert r.status == 200 and r.body["venues"][0]["slug"] == "main", r
    assert api.request("HEAD", "/api/venues", key="").status == 200
    body = {"slug": "oa-v", "name": "OA venue", "timezone": "Asia/Kolkata", "day_start": "04:00",
            "queues": [{"prefix": "A", "name": "Food"}], "digits": 4, "language": "en-IN", "currency": "INR",
            "accent": "#0a7d5a", "logo": PNG}
    r = api.post("/api/venues", body)
    assert r.status == 201 and r.headers["location"] == "/api/venues/oa-v" and r.body["logo"] == "/v/oa-v/logo", r
    assert api.post("/api/venues", body).body["code"] == "venue_exists"
    other = dict(body, slug="oa-w")
    for bad, field in ((dict(other, day_start="25:00"), "day_start"), (dict(other, slug="No"), "slug"),
                       (dict(other, digits=0), "digits"), (dict(other, logo="data:text/plain;base64,eA=="), "logo")):
        r = api.post("/api/venues", bad)
        assert r.status == 422 and r.body["code"] == "invalid_field" and r.body["field"] == field, (bad, r)
    r = api.post("/api/venues", dict(other, colour="red"))
    assert r.status == 422 and r.body["code"] == "unknown_field" and r.body["field"] == "colour", r
    assert api.post("/api/venues", "[1]").status == 400
    assert api.post("/api/venues", "x" * 70000).status == 413
    assert api.post("/api/venues", other, headers={"Content-Type": "text/plain"}).status == 415
    assert api.post("/api/venues", other, key="").status == 401
    assert api.post("/api/venues", other, key="staff").status == 403
    vkey = venue_key(api, "oa-v")
    r = api.post("/api/venues", other, key=vkey)
    assert r.status == 403 and r.body["code"] == "forbidden", r
    r = api.get("/api/venues/oa-v", key="")
    assert r.status == 200 and r.body["digits"] == 4 and r.body["timezone"] == "Asia/Kolkata", r
    assert api.request("HEAD", "/api/venues/oa-v", key="").status == 200
    assert api.get("/api/venues/nowhere", key="").body["code"] == "unknown_venue"
    r = api.patch("/api/venues/oa-v", {"name": "OA venue 2", "accent": None}, key=vkey)
    assert r.status == 200 and r.body["name"] == "OA venue 2" and r.body["accent"] is None, r
    r = api.patch("/api/venues/oa-v", {"slug": "oa-x"})
    assert r.status == 422 and r.body["field"] == "slug", r
    assert api.patch("/api/venues/oa-v", {"colour": "red"}).body["code"] == "unknown_field"
    assert api.patch("/api/venues/oa-v", "[1]").status == 400
    assert api.patch("/api/venues/oa-v", "x" * 70000).status == 413
    assert api.patch("/api/venues/oa-v", {"name": "x"}, headers={"Content-Type": "text/plain"}).status == 415
    assert api.patch("/api/venues/oa-v", {"name": "x"}, key="").status == 401
    assert api.patch("/api/venues/oa-v", {"name": "x"}, key="staff").status == 403
    assert api.patch("/api/venues/main", {"name": "x"}, key=vkey).status == 403
    assert api.patch("/api/venues/nowhere", {"name": "x"}).status == 404
    r = api.get("/v/oa-v/logo", key="")
    assert r.status == 200 and r.headers["content-type"] == "image/png" and r.raw.startswith(b"\x89PNG"), r
    assert api.request("HEAD", "/v/oa-v/logo", key="").status == 200
    r = api.get("/logo", key="")
    assert r.status == 404 and r.body["code"] == "not_found", r
    r = api.post("/v/oa-v/api/orders", ORDER, key=vkey)
    assert r.status == 201, r
    assert api.request("DELETE", "/api/venues/oa-v", key="").status == 401
    assert api.request("DELETE", "/api/venues/oa-v", key=vkey).status == 403
    assert api.request("DELETE", "/api/venues/oa-v").body["code"] == "venue_has_orders"
    assert api.request("DELETE", "/api/venues/main").body["code"] == "venue_is_main"
    assert api.post("/api/venues", dict(other, slug="oa-gone")).status == 201
    assert api.request("DELETE", "/api/venues/oa-gone").status == 204
    assert api.request("DELETE", "/api/venues/oa-gone").status == 404


def test_key_of_another_venue(api):
    """A key made with --venue serves that venue only: on main's routes, 403 whatever its role."""
    assert api.post("/api/venues", {"slug": "oa-k", "name": "Keys"}).status == 201
    key = venue_key(api, "oa-k")
    o = api.create()
    for method, path in (("GET", "/api/orders"), ("GET", f"/api/orders/{o['id']}"),
                         ("POST", f"/api/orders/{o['id']}/print"), ("GET", f"/api/orders/{o['id']}/ticket"),
                         ("GET", "/api/menu"), ("POST", "/api/orders"), ("GET", "/api/stats")):
        r = api.request(method, path, ORDER if path == "/api/orders" and method == "POST" else None, key=key)
        assert r.status == 403 and r.body["code"] == "forbidden", (method, path, r)
    assert api.get("/v/oa-k/api/orders", key=key).status == 200


def test_malformed_request_framing(api):
    data = (b"GET /api/board HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    status, headers, body, _ = h.raw_request(api.server, data)
    assert status == 400
    assert hook.check("GET", "/api/board", status, headers, body) == "board"


def test_events(api):
    o = api.create()
    api.set_status(o["id"], "READY")
    api.post(f"/api/orders/{o['id']}/recall")
    first = api.get(f"/api/orders/{o['id']}").body["history"][0]["event_id"]
    status, hdrs, body = h.read_stream(api.server, f"/api/events?last_event_id={first - 1}", want=3)
    assert status == 200
    assert hook.check("GET", "/api/events", status, hdrs, b"") == "events"
    events = checker.check_sse(body)
    assert [e for e, _ in events[:3]] == ["token", "token", "recall"], body[:500]
    status, hdrs, body = h.read_stream(api.server, "/api/events", headers={"Last-Event-ID": "0"}, want=3)
    assert status == 200 and len(checker.check_sse(body)) >= 3
    r = api.get("/api/events?last_event_id=-5", key="")
    assert r.status == 422 and r.body["field"] == "last_event_id"
    r = api.get("/api/events", headers={"Last-Event-ID": "x"}, key="")
    assert r.status == 422


def test_head_of_every_get(api):
    """HEAD answers every GET route, with GET's status and no body."""
    o = api.create()
    w = api.post("/api/webhooks", {"url": "http://127.0.0.1:9/head", "allow_private": True}).body
    assert api.request("DELETE", f"/api/webhooks/{w['id']}").status == 200
    logo = api.post("/api/venues", {"slug": "oa-head", "name": "Head", "logo": PNG})
    assert logo.status == 201, logo
    samples = {"{id}": str(o["id"]), "{token}": o["token"], "{name}": "board.js", "{venue}": "oa-head"}
    for path, item in checker.document()["paths"].items():
        if "head" not in item or path == "/api/openapi.json":
            continue
        p = path.replace("/api/webhooks/{id}", f"/api/webhooks/{w['id']}")
        p = "/v/oa-head/logo" if p == "/logo" else p
        for k, v in samples.items():
            p = p.replace(k, v)
        r = api.request("HEAD", p)
        assert r.status == 200 and r.raw == b"", (p, r)
    assert api.request("HEAD", "/api/orders", key="").status == 401
    assert api.request("HEAD", "/metrics", key="pos").status == 403
    assert api.request("HEAD", "/assets/none.css", key="").status == 404


def test_menu(api, factory):
    r = api.get("/api/menu", key="pos")
    assert r.status == 200 and r.body["items"][0]["name"] == "Masala tea", r
    assert api.get("/api/menu", key="").status == 401
    plain = factory.api()
    assert plain.get("/api/menu", key="staff").status == 404


def test_protected_mode(factory):
    """No key exists: loopback clients are served as admin."""
    a = factory.api(roles=())
    assert a.post("/api/orders", ORDER, key="").status == 201
    assert a.get("/metrics", key="").status == 200
    assert a.get("/api/orders/1", key="").status == 200


def test_openapi_route(api):
    """GET /api/openapi.json, once the server serves it, answers this very document."""
    import pytest

    if "openapi.json" not in (checker.REPO / "src" / "http" / "routes.c").read_text():
        pytest.skip("the server does not serve /api/openapi.json yet")
    r = api.get("/api/openapi.json", key="")
    assert r.status == 200
    assert r.body == checker.document()
    assert api.request("HEAD", "/api/openapi.json", key="").status == 200


def test_checker_catches_drift():
    """The checker fails answers the document does not describe."""
    import pytest

    order = checker.document()["components"]["schemas"]["Order"]["examples"][0]
    ok = json.dumps(order).encode()
    jh = {"content-type": "application/json; charset=utf-8"}
    assert checker.check("GET", "/api/orders/42/ticket", 404, {"content-type": "application/problem+json"},
                         b'{"status":404,"title":"Not Found","code":"not_found","detail":"x"}') == "orders_ticket"
    for args in (
        ("PATCH", "/api/orders/42", 201, jh, ok),                      # undocumented status
        ("PATCH", "/api/orders/42", 200, {"content-type": "text/plain"}, ok),  # wrong type
        ("PATCH", "/api/orders/42", 200, jh, json.dumps(dict(order, status="Done")).encode()),
        ("POST", "/api/orders", 201, jh, ok),                           # no Location
        ("GET", "/api/board", 409, {"content-type": "application/problem+json"},
         b'{"status":409,"title":"Conflict","code":"invalid_transition","detail":"x"}'),
        ("GET", "/api/orders/1", 404, {"content-type": "application/problem+json"},
         b'{"status":404,"title":"Not Found","code":"gone","detail":"x"}'),  # code not listed
        ("GET", "/api/nothing", 200, jh, b"{}"),
        ("DELETE", "/api/board", 405, {"content-type": "application/problem+json", "allow": "GET"},
         b'{"status":405,"title":"Method Not Allowed","code":"method_not_allowed","detail":"x"}'),
        ("HEAD", "/healthz", 200, jh, b"{}"),
    ):
        with pytest.raises(checker.CheckError):
            checker.check(*args)


def test_orders_print(api, factory):
    o = api.create()
    r = api.post(f"/api/orders/{o['id']}/print", key="pos")
    assert r.status == 409 and r.body["code"] == "no_printer"
    # A printer that is not there: the job is queued all the same.
    papi = factory.api(queues="A=Dine-in", env={"TOKENQ_PRINTER": "tcp://127.0.0.1:9",
                                               "TOKENQ_PRINT_RETRY_MS": "60000"})
    o = papi.create()
    r = papi.post(f"/api/orders/{o['id']}/print", key="staff")
    assert r.status == 202 and r.body["print"]["state"] in ("queued", "printed")
    assert papi.get(f"/api/orders/{o['id']}").body["print"] is not None
    assert papi.post("/api/orders/999999999/print").status == 404
    assert papi.post(f"/api/orders/{o['id']}/print", key="").status == 401
