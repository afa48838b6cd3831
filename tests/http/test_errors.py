"""Every documented error of docs/api.md "Problem codes": status, code, field,
problem+json, the order of checks, and no write behind any refusal (the next
accepted order takes the next number)."""

import json

import pytest

from conftest import assert_problem, http_bytes, no_new_order, order_body, raw_request, raw_resp

ITEM = {"name": "Masala tea", "quantity": 2, "unit_price": 150}


def item(**kw):
    it = dict(ITEM)
    for k, v in kw.items():
        if v is DROP:
            it.pop(k)
        else:
            it[k] = v
    return it


DROP = object()


# ---------------------------------------------------------------- 404 / 405


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/nope"), ("GET", "/api/order"), ("GET", "/api/orders/1/nope"),
    ("POST", "/api/nothing"), ("DELETE", "/api/nope"), ("GET", "/nope"),
    ("GET", "/api/tokens"), ("GET", "/api/orders/1/recall/x"),
])
@pytest.mark.parametrize("key", ["", "admin"])
def test_unknown_route_is_404(api, method, path, key):
    assert_problem(api.request(method, path, key=key), 404, "not_found")


@pytest.mark.parametrize("method,path,allowed", [
    ("PUT", "/api/orders", {"GET", "POST"}),
    ("DELETE", "/api/orders", {"GET", "POST"}),
    ("PATCH", "/api/orders", {"GET", "POST"}),
    ("DELETE", "/api/orders/1", {"GET", "PATCH"}),
    ("POST", "/api/orders/1", {"GET", "PATCH"}),
    ("PUT", "/api/orders/1", {"GET", "PATCH"}),
    ("GET", "/api/orders/1/recall", {"POST"}),
    ("POST", "/api/board", {"GET"}),
    ("POST", "/api/tokens/A-001", {"GET"}),
    ("DELETE", "/healthz", {"GET"}),
    ("POST", "/api/queues", {"GET"}),
])
@pytest.mark.parametrize("key", ["", "pos", "admin"])
def test_wrong_method_is_405_with_allow(api, method, path, allowed, key):
    with no_new_order(api):
        r = api.request(method, path, body={} if method != "GET" else None, key=key)
        assert_problem(r, 405, "method_not_allowed")
        allow = {m.strip().upper() for m in r.headers.get("allow", "").split(",") if m.strip()}
        assert allowed <= allow, f"Allow {r.headers.get('allow')!r} must list {allowed}"
        assert method not in allow


# ---------------------------------------------------------------- 415


@pytest.mark.parametrize("ctype", [
    None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1",
    "application/json; charset=utf-16", "application/jsonx", "text/json", "multipart/form-data; boundary=x",
])
def test_post_without_json_content_type_is_415(api, ctype):
    with no_new_order(api):
        r = api.post("/api/orders", order_body("A"), headers={"Content-Type": ctype})
        assert_problem(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("ctype", ["application/json", "application/json; charset=utf-8",
                                   "application/json;charset=utf-8", "application/json; charset=UTF-8"])
def test_json_content_types_accepted(api, ctype):
    r = api.post("/api/orders", order_body("A"), headers={"Content-Type": ctype})
    assert r.status == 201, r


def test_patch_without_json_content_type_is_415(api):
    o = api.create("A")
    r = api.patch(f"/api/orders/{o['id']}", {"status": "READY"}, headers={"Content-Type": "text/plain"})
    assert_problem(r, 415, "unsupported_media_type")
    r = api.patch(f"/api/orders/{o['id']}", {"status": "READY"}, headers={"Content-Type": None})
    assert_problem(r, 415, "unsupported_media_type")
    assert api.order(o["id"])["status"] == "PENDING"


# ---------------------------------------------------------------- 413


def padded(body, size):
    data = json.dumps(body).encode()
    assert len(data) <= size
    return data[:-1] + b" " * (size - len(data)) + b"}"


def test_body_of_65536_bytes_is_accepted(api):
    data = padded(order_body("A", note="x" * 100), 65536)
    assert len(data) == 65536
    r = api.post("/api/orders", data)
    assert r.status == 201, r
    assert r.body["note"] == "x" * 100


def test_body_of_65537_bytes_is_413(api):
    data = padded(order_body("A"), 65537)
    assert len(data) == 65537
    with no_new_order(api):
        assert_problem(api.post("/api/orders", data), 413, "body_too_large")


def test_patch_body_of_65537_bytes_is_413(api):
    o = api.create("A")
    data = padded({"status": "READY"}, 65537)
    assert_problem(api.patch(f"/api/orders/{o['id']}", data), 413, "body_too_large")
    assert api.order(o["id"])["status"] == "PENDING"


def test_body_of_one_mebibyte_is_413(api):
    """The server may answer as soon as it sees Content-Length and close: the
    answer, if it arrives, is 413; nothing is written; the server lives on."""
    data = padded(order_body("A"), 1 << 20)
    with no_new_order(api):
        status, headers, body, _ = raw_request(
            api.server, http_bytes("POST", "/api/orders", data, key=api.keys["admin"]))
        if status is not None:
            assert_problem(raw_resp(status, headers, body), 413, "body_too_large")


# ---------------------------------------------------------------- 400


@pytest.mark.parametrize("data", [
    b"", b"{", b"{\"queue\": \"A\", \"items\": [}", b"not json", b"{'queue': 'A'}",
    b"[]", b"[{\"queue\": \"A\"}]", b"\"order\"", b"42", b"null", b"true",
    b"{\"queue\": \"A\", \"items\": [{\"name\": \"x\", \"quantity\": 1, \"unit_price\": 1}]} x",
    b"{\"queue\": \"A\", \"items\": [{\"name\": \"x\", \"quantity\": 1, \"unit_price\": 1}],}",
    # duplicate member names, at the top and inside an item
    b"{\"queue\": \"A\", \"queue\": \"A\", \"items\": [{\"name\": \"x\", \"quantity\": 1, \"unit_price\": 1}]}",
    b"{\"queue\": \"A\", \"items\": [{\"name\": \"x\", \"quantity\": 1, \"quantity\": 1, \"unit_price\": 1}]}",
    # invalid UTF-8 (in a string, and an overlong encoding, and a lone continuation byte)
    b"{\"queue\": \"A\", \"items\": [{\"name\": \"\xff\xfe\", \"quantity\": 1, \"unit_price\": 1}]}",
    b"{\"queue\": \"A\", \"items\": [{\"name\": \"\xc0\xaf\", \"quantity\": 1, \"unit_price\": 1}]}",
    b"{\"queue\": \"A\", \"items\": [{\"name\": \"tea\x80\", \"quantity\": 1, \"unit_price\": 1}]}",
    b"{\"queue\": \"A\", \"note\": \"caf\xe9\", \"items\": [{\"name\": \"x\", \"quantity\": 1, \"unit_price\": 1}]}",
    # NUL escaped
    b"{\"queue\": \"A\", \"items\": [{\"name\": \"a\\u0000b\", \"quantity\": 1, \"unit_price\": 1}]}",
    b"{\"queue\": \"A\", \"note\": \"\\u0000\", \"items\": [{\"name\": \"x\", \"quantity\": 1, \"unit_price\": 1}]}",
], ids=lambda d: repr(d[:40]))
def test_malformed_json_is_400(api, data):
    with no_new_order(api):
        assert_problem(api.post("/api/orders", data), 400, "malformed_json")


@pytest.mark.parametrize("data", [b"{", b"[]", b"\"READY\"", b"{\"status\": \"READY\", \"status\": \"READY\"}",
                                  b"{\"status\": \"RE\xffADY\"}"], ids=repr)
def test_patch_malformed_json_is_400(api, data):
    o = api.create("A")
    assert_problem(api.patch(f"/api/orders/{o['id']}", data), 400, "malformed_json")
    assert api.order(o["id"])["status"] == "PENDING"


# ---------------------------------------------------------------- 422 body rules

MANY = [dict(ITEM) for _ in range(201)]

CASES_422 = [
    # items
    ({"queue": "A"}, "invalid_field", "items"),
    ({"queue": "A", "items": None}, "invalid_field", "items"),
    ({"queue": "A", "items": {}}, "invalid_field", "items"),
    ({"queue": "A", "items": "tea"}, "invalid_field", "items"),
    ({"queue": "A", "items": []}, "invalid_field", "items"),
    ({"queue": "A", "items": MANY}, "invalid_field", "items"),
    # an entry that is not an object
    ({"queue": "A", "items": [1]}, "invalid_item", "items[0]"),
    ({"queue": "A", "items": [ITEM, "tea"]}, "invalid_item", "items[1]"),
    ({"queue": "A", "items": [ITEM, ITEM, None]}, "invalid_item", "items[2]"),
    ({"queue": "A", "items": [[ITEM]]}, "invalid_item", "items[0]"),
    # name
    ({"queue": "A", "items": [item(name=DROP)]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="")]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="   ")]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="\u3000\u00a0 ")]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="x" * 121)]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="é" * 121)]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="🍵" * 121)]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="tea\u0001")]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="tea\nchai")]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="tea\tchai")]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="tea\u001b[31m")]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="tea\u007f")]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name="tea\u0085")]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name=12)]}, "invalid_item", "items[0].name"),
    ({"queue": "A", "items": [item(name=None)]}, "invalid_item", "items[0].name"),
    # quantity
    ({"queue": "A", "items": [item(quantity=DROP)]}, "invalid_item", "items[0].quantity"),
    ({"queue": "A", "items": [item(quantity=0)]}, "invalid_item", "items[0].quantity"),
    ({"queue": "A", "items": [item(quantity=-1)]}, "invalid_item", "items[0].quantity"),
    ({"queue": "A", "items": [item(quantity=1001)]}, "invalid_item", "items[0].quantity"),
    ({"queue": "A", "items": [item(quantity=2.0)]}, "invalid_item", "items[0].quantity"),
    ({"queue": "A", "items": [item(quantity=2.5)]}, "invalid_item", "items[0].quantity"),
    ({"queue": "A", "items": [item(quantity="2")]}, "invalid_item", "items[0].quantity"),
    ({"queue": "A", "items": [item(quantity=True)]}, "invalid_item", "items[0].quantity"),
    ({"queue": "A", "items": [item(quantity=None)]}, "invalid_item", "items[0].quantity"),
    ({"queue": "A", "items": [ITEM, ITEM, item(quantity=1001)]}, "invalid_item", "items[2].quantity"),
    # unit_price
    ({"queue": "A", "items": [item(unit_price=DROP)]}, "invalid_item", "items[0].unit_price"),
    ({"queue": "A", "items": [item(unit_price=-1)]}, "invalid_item", "items[0].unit_price"),
    ({"queue": "A", "items": [item(unit_price=100000001)]}, "invalid_item", "items[0].unit_price"),
    ({"queue": "A", "items": [item(unit_price=1.5)]}, "invalid_item", "items[0].unit_price"),
    ({"queue": "A", "items": [item(unit_price="150")]}, "invalid_item", "items[0].unit_price"),
    ({"queue": "A", "items": [item(unit_price=False)]}, "invalid_item", "items[0].unit_price"),
    ({"queue": "A", "items": [ITEM, item(unit_price=-5)]}, "invalid_item", "items[1].unit_price"),
    # unknown item member
    ({"queue": "A", "items": [item(price=150)]}, "unknown_field", "items[0].price"),
    ({"queue": "A", "items": [ITEM, item(sku="T1")]}, "unknown_field", "items[1].sku"),
    # total
    ({"queue": "A", "items": [ITEM], "total": 301}, "total_mismatch", "total"),
    ({"queue": "A", "items": [ITEM], "total": 0}, "total_mismatch", "total"),
    ({"queue": "A", "items": [ITEM], "total": -300}, "total_mismatch", "total"),
    ({"queue": "A", "items": [ITEM], "total": "300"}, "invalid_field", "total"),
    ({"queue": "A", "items": [ITEM], "total": 300.0}, "invalid_field", "total"),
    ({"queue": "A", "items": [ITEM], "total": 300.5}, "invalid_field", "total"),
    ({"queue": "A", "items": [ITEM], "total": True}, "invalid_field", "total"),
    # note
    ({"queue": "A", "items": [ITEM], "note": "n" * 501}, "invalid_field", "note"),
    ({"queue": "A", "items": [ITEM], "note": "ñ" * 501}, "invalid_field", "note"),
    ({"queue": "A", "items": [ITEM], "note": "🌶" * 501}, "invalid_field", "note"),
    ({"queue": "A", "items": [ITEM], "note": "ring\u0007bell"}, "invalid_field", "note"),
    ({"queue": "A", "items": [ITEM], "note": "esc\u001b[2J"}, "invalid_field", "note"),
    ({"queue": "A", "items": [ITEM], "note": "del\u007f"}, "invalid_field", "note"),
    ({"queue": "A", "items": [ITEM], "note": 5}, "invalid_field", "note"),
    ({"queue": "A", "items": [ITEM], "note": ["x"]}, "invalid_field", "note"),
    # queue
    ({"items": [ITEM]}, "invalid_field", "queue"),
    ({"queue": None, "items": [ITEM]}, "invalid_field", "queue"),
    ({"queue": 1, "items": [ITEM]}, "invalid_field", "queue"),
    ({"queue": ["A"], "items": [ITEM]}, "invalid_field", "queue"),
    ({"queue": "", "items": [ITEM]}, "invalid_field", "queue"),
    ({"queue": "ABCD", "items": [ITEM]}, "invalid_field", "queue"),
    ({"queue": "A1", "items": [ITEM]}, "invalid_field", "queue"),
    ({"queue": "ZZ", "items": [ITEM]}, "unknown_queue", "queue"),
    ({"queue": "C", "items": [ITEM]}, "unknown_queue", "queue"),
    ({"queue": "TXA", "items": [ITEM]}, "unknown_queue", "queue"),
    # unknown top-level member
    ({"queue": "A", "items": [ITEM], "customer": "Asha"}, "unknown_field", "customer"),
]


def _case_id(case):
    body, code, field = case
    s = json.dumps({k: v for k, v in body.items() if k != "items" or not isinstance(v, list) or len(v) < 5}, ensure_ascii=True)
    return f"{field}-{code}-{s[:60]}"


@pytest.mark.parametrize("body,code,field", CASES_422, ids=[_case_id(c) for c in CASES_422])
def test_rule_breaking_body_is_422(api, body, code, field):
    with no_new_order(api):
        assert_problem(api.post("/api/orders", body), 422, code, field)


def test_two_hundred_items_accepted(api):
    o = api.create("A", items=[dict(ITEM) for _ in range(200)])
    assert len(o["items"]) == 200
    assert o["total"] == 200 * 300


@pytest.mark.parametrize("it", [item(quantity=1), item(quantity=1000), item(unit_price=0),
                                item(unit_price=100000000), item(name="x"), item(name=" tea ")])
def test_item_bounds_accepted(api, it):
    o = api.create("A", items=[it])
    assert o["items"] == [it]
    assert o["total"] == it["quantity"] * it["unit_price"]


def test_error_status_and_code_in_detail_example(api):
    """The example in docs/api.md (Problem codes): items[1].quantity out of range."""
    r = api.post("/api/orders", {"queue": "A", "items": [ITEM, item(quantity=5000)]})
    b = assert_problem(r, 422, "invalid_item", "items[1].quantity")
    assert b["title"] == "Unprocessable Content"


# ---------------------------------------------------------------- order of checks


def test_405_before_401(api):
    assert_problem(api.request("PUT", "/api/orders", {}, key=""), 405, "method_not_allowed")


def test_401_before_415_and_400(api):
    with no_new_order(api):
        r = api.post("/api/orders", b"{", headers={"Content-Type": "text/plain"}, key="")
        assert_problem(r, 401, "unauthorized")
        r = api.post("/api/orders", b"{", key="nonsense-key")
        assert_problem(r, 401, "unauthorized")


def test_403_before_415_400_and_422(api):
    with no_new_order(api):
        assert_problem(api.post("/api/orders", b"{", headers={"Content-Type": "text/plain"}, key="staff"),
                       403, "forbidden")
        assert_problem(api.post("/api/orders", b"{", key="staff"), 403, "forbidden")
        assert_problem(api.post("/api/orders", {"items": []}, key="staff"), 403, "forbidden")


def test_403_before_404(api):
    assert_problem(api.patch("/api/orders/999999999", {"status": "READY"}, key="pos"), 403, "forbidden")
    assert_problem(api.post("/api/orders/999999999/recall", key="pos"), 403, "forbidden")


def test_415_and_400_and_422_before_404(api):
    path = "/api/orders/999999999"
    assert_problem(api.patch(path, {"status": "READY"}, headers={"Content-Type": "text/plain"}),
                   415, "unsupported_media_type")
    assert_problem(api.patch(path, b"{"), 400, "malformed_json")
    assert_problem(api.patch(path, {"status": "READY", "x": 1}), 422, "unknown_field", "x")
    assert_problem(api.patch(path, {"status": "READY"}), 404, "not_found")


def test_404_before_409(api):
    assert_problem(api.post("/api/orders/999999999/recall"), 404, "not_found")
