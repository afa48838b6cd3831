"""Idempotency-Key over HTTP (docs/api.md, POST /api/orders)."""

import json
import threading
import uuid

import pytest

from conftest import assert_problem, http_bytes, no_new_order, order_body, raw_request, raw_resp


def new_key():
    return "idem-" + uuid.uuid4().hex


def post(api, body, ikey, **kw):
    """POST /api/orders with Idempotency-Key ikey; kw go to api.post (key=...)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api.post("/api/orders", data, headers={"Idempotency-Key": ikey}, **kw)


def test_replay_returns_the_first_order_and_creates_nothing(api):
    k = new_key()
    body = order_body("A", note="first")
    r1 = post(api, body, k)
    assert r1.status == 201, r1
    assert r1.headers.get("idempotent-replayed", "").lower() != "true"
    r2 = post(api, body, k)
    assert r2.status == 200, r2
    assert r2.headers.get("idempotent-replayed") == "true"
    assert r2.body == r1.body
    # nothing new: the next order takes the next number after the first
    assert api.create("A")["sequence"] == r1.body["sequence"] + 1


def test_replay_returns_the_order_as_it_is_now(api):
    k = new_key()
    body = order_body("A")
    r1 = post(api, body, k)
    assert r1.status == 201, r1
    api.set_status(r1.body["id"], "READY")
    r2 = post(api, body, k)
    assert r2.status == 200, r2
    assert r2.headers.get("idempotent-replayed") == "true"
    assert r2.body["id"] == r1.body["id"]
    assert r2.body["status"] == "READY"
    assert r2.body["updated_at"] == api.order(r1.body["id"])["updated_at"]


def test_other_body_same_key_is_422_reused(api):
    k = new_key()
    r1 = post(api, order_body("A"), k)
    assert r1.status == 201, r1
    with no_new_order(api):
        assert_problem(post(api, order_body("A", note="different"), k), 422, "idempotency_key_reused")
        # the same JSON with other bytes is another body
        other_bytes = json.dumps(order_body("A"), indent=2).encode()
        assert_problem(post(api, other_bytes, k), 422, "idempotency_key_reused")
    # and the original still replays
    r3 = post(api, order_body("A"), k)
    assert r3.status == 200 and r3.body["id"] == r1.body["id"], r3


def test_keys_are_global_not_per_api_key(api):
    k = new_key()
    body = order_body("A")
    r1 = post(api, body, k, key="pos")
    assert r1.status == 201, r1
    r2 = post(api, body, k, key="admin")
    assert r2.status == 200, r2
    assert r2.body["id"] == r1.body["id"]


def test_same_body_other_key_is_a_new_order(api):
    body = order_body("A")
    r1 = post(api, body, new_key())
    r2 = post(api, body, new_key())
    assert r1.status == r2.status == 201
    assert r2.body["sequence"] == r1.body["sequence"] + 1


@pytest.mark.parametrize("bad,status,code", [
    (order_body("A", items=[{"name": "x", "quantity": 0, "unit_price": 1}]), 422, "invalid_item"),
    (order_body("ZZ"), 422, "unknown_queue"),
    (b"{", 400, "malformed_json"),
])
def test_refused_request_does_not_use_the_key(api, bad, status, code):
    k = new_key()
    with no_new_order(api):
        assert_problem(post(api, bad, k), status, code)
    r = post(api, order_body("A"), k)
    assert r.status == 201, f"a refused request must not use its key up: {r}"


def test_415_does_not_use_the_key(api):
    k = new_key()
    r = api.post("/api/orders", order_body("A"), headers={"Idempotency-Key": k, "Content-Type": "text/plain"})
    assert_problem(r, 415, "unsupported_media_type")
    assert post(api, order_body("A"), k).status == 201


def test_403_does_not_use_the_key(api):
    k = new_key()
    assert_problem(post(api, order_body("A"), k, key="staff"), 403, "forbidden")
    assert post(api, order_body("A"), k).status == 201


@pytest.mark.parametrize("value", ["a" * 256, "a b", "a\tb", "key\x7f"],
                         ids=["256-chars", "space", "tab", "DEL"])
def test_bad_idempotency_key_is_422(api, value):
    with no_new_order(api):
        assert_problem(post(api, order_body("A"), value), 422, "invalid_field", "Idempotency-Key")


def test_empty_idempotency_key_is_422(api):
    with no_new_order(api):
        status, headers, body, _ = raw_request(api.server, http_bytes(
            "POST", "/api/orders", json.dumps(order_body("A")).encode(), key=api.keys["admin"],
            headers={"Idempotency-Key": ""}))
        assert status is not None, "no answer"
        assert_problem(raw_resp(status, headers, body), 422, "invalid_field", "Idempotency-Key")


@pytest.mark.parametrize("raw", [b"caf\xc3\xa9", b"\xff\xfe", b"k\x01y"], ids=["utf8", "latin1", "ctl"])
def test_non_visible_ascii_idempotency_key_is_422(api, raw):
    head = (b"POST /api/orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Authorization: Bearer " + api.keys["admin"].encode() + b"\r\n"
            b"Content-Type: application/json\r\nIdempotency-Key: " + raw + b"\r\n")
    data = json.dumps(order_body("A")).encode()
    req = head + b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data
    with no_new_order(api):
        status, headers, body, _ = raw_request(api.server, req)
        assert status is not None, "no answer"
        if raw == b"k\x01y" and status == 400:
            return  # a control character in a header value may be refused by the HTTP layer
        assert_problem(raw_resp(status, headers, body), 422, "invalid_field", "Idempotency-Key")


def test_key_of_255_visible_characters_is_accepted(api):
    k = ("!~" + uuid.uuid4().hex + "x" * 255)[:255]
    r1 = post(api, order_body("A"), k)
    assert r1.status == 201, r1
    r2 = post(api, order_body("A"), k)
    assert r2.status == 200 and r2.body["id"] == r1.body["id"], r2


def test_sixteen_concurrent_identical_requests_make_one_order(api):
    k = new_key()
    data = json.dumps(order_body("A", note="concurrent")).encode()
    before = api.create("A")["sequence"]
    barrier = threading.Barrier(16)
    results = [None] * 16

    def worker(i):
        barrier.wait()
        try:
            results[i] = api.post("/api/orders", data, headers={"Idempotency-Key": k})
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = [r for r in results if not hasattr(r, "status")]
    assert not errors, f"requests failed: {errors}"
    created = [r for r in results if r.status == 201]
    assert len(created) == 1, f"exactly one 201: {[r.status for r in results]}"
    oid = created[0].body["id"]
    assert created[0].body["sequence"] == before + 1
    for r in results:
        if r.status == 200:
            assert r.headers.get("idempotent-replayed") == "true", r
            assert r.body["id"] == oid
        elif r.status == 409:
            assert_problem(r, 409, "idempotency_key_in_use")
        else:
            assert r.status == 201, f"unexpected answer {r}"
    assert api.create("A")["sequence"] == before + 2, "one key made more than one order"
    # afterwards, it replays
    r = api.post("/api/orders", data, headers={"Idempotency-Key": k})
    assert r.status == 200 and r.body["id"] == oid, r
