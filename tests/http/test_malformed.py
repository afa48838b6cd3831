"""A corpus of malformed requests sent over raw sockets, where http.client
would tidy things up. Each one gets a 4xx (a problem document when the
request got far enough to be answered by tokenq), the server stays up, and
nothing is written (the next order takes the next number)."""

import json
import socket
import threading
import time

import pytest

from conftest import assert_problem, http_bytes, no_new_order, order_body, raw_request, raw_resp

VALID = json.dumps(order_body("A")).encode()


def order_with(**kw):
    return json.dumps(order_body("A", **kw)).encode()


def send(api, data, **kw):
    return raw_request(api.server, data, **kw)


def healthy(api):
    r = api.get("/healthz", key="")
    assert r.status == 200, f"the server is not healthy after the request: {r}"


def check_problem(status, headers, body, allowed):
    assert status is not None, "the server closed the connection without an answer"
    assert status in allowed, f"status {status} not in {allowed}: {body[:300]!r}"
    assert_problem(raw_resp(status, headers, body), status)


# ---------------------------------------------------------------- bodies


DEEP_ARRAY = b'{"queue": "A", "items": ' + b"[" * 10000 + b"]" * 10000 + b"}"
DEEP_OBJECT = b'{"queue": "A", "note": ' + b'{"a":' * 10000 + b"1" + b"}" * 10000 + b', "items": []}'
BODIES = {
    "truncated": b'{"queue": "A", "items": [{"name": "x", "quantity": 1',
    "deep-array": DEEP_ARRAY,
    "deep-object": DEEP_OBJECT,
    "quantity-1e400": order_with(items=[{"name": "x", "quantity": 1, "unit_price": 1}]).replace(
        b'"quantity": 1', b'"quantity": 1e400'),
    "quantity-huge-int": order_with(items=[{"name": "x", "quantity": 1, "unit_price": 1}]).replace(
        b'"quantity": 1', b'"quantity": 99999999999999999999'),
    "price-huge-int": order_with(items=[{"name": "x", "quantity": 1, "unit_price": 1}]).replace(
        b'"unit_price": 1', b'"unit_price": 99999999999999999999'),
    "total-huge-int": order_with(total=1).replace(b'"total": 1', b'"total": 99999999999999999999'),
    "total-neg-huge": order_with(total=1).replace(b'"total": 1', b'"total": -99999999999999999999999'),
    "invalid-utf8": b'{"queue": "A", "items": [{"name": "\xed\xa0\x80", "quantity": 1, "unit_price": 1}]}',
    "utf16": json.dumps(order_body("A")).encode("utf-16"),
    "nul-byte": b'{"queue": "A", "items": [{"name": "a\x00b", "quantity": 1, "unit_price": 1}]}',
    "lone-surrogate-escape": b'{"queue": "A", "items": [{"name": "\\ud800", "quantity": 1, "unit_price": 1}]}',
}


@pytest.mark.parametrize("name", list(BODIES))
def test_bad_body(api, name):
    with no_new_order(api):
        status, headers, body, _ = send(api, http_bytes("POST", "/api/orders", BODIES[name],
                                                        key=api.keys["admin"]))
        check_problem(status, headers, body, {400, 422})
        healthy(api)


def test_body_shorter_than_content_length(api):
    head = (b"POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + api.keys["admin"].encode() + b"\r\n"
            b"Content-Length: 500\r\n\r\n")
    with no_new_order(api):
        status, headers, body, _ = send(api, head + VALID, shut_write=True, timeout=15)
        if status is not None:
            check_problem(status, headers, body, set(range(400, 500)))
        healthy(api)


@pytest.mark.parametrize("cl", [b"abc", b"-1", b"10, 20", b"99999999999999999999999"])
def test_bad_content_length(api, cl):
    head = (b"POST /api/orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + api.keys["admin"].encode() + b"\r\n"
            b"Content-Length: " + cl + b"\r\n\r\n")
    with no_new_order(api):
        status, _, body, _ = send(api, head + VALID, shut_write=True)
        assert status is None or 400 <= status < 500, (status, body[:200])
        healthy(api)


def test_two_content_lengths(api):
    head = (b"POST /api/orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + api.keys["admin"].encode() + b"\r\n"
            b"Content-Length: " + str(len(VALID)).encode() + b"\r\nContent-Length: 5\r\n\r\n")
    with no_new_order(api):
        status, _, body, _ = send(api, head + VALID, shut_write=True)
        assert status is None or 400 <= status < 500, (status, body[:200])
        healthy(api)


def chunked(data, size=1000):
    out = b""
    for i in range(0, len(data), size):
        part = data[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


def test_chunked_body_is_accepted(api):
    head = (b"POST /api/orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + api.keys["admin"].encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    status, headers, body, _ = send(api, head + chunked(VALID, 7))
    assert status == 201, (status, body[:300])
    assert json.loads(body)["items"] == order_body("A")["items"]


def test_chunked_body_over_64_kib_is_413(api):
    data = VALID[:-1] + b" " * 70000 + b"}"
    head = (b"POST /api/orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + api.keys["admin"].encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    with no_new_order(api):
        status, headers, body, _ = send(api, head + chunked(data, 4096))
        check_problem(status, headers, body, {413})
        assert json.loads(body)["code"] == "body_too_large"


def test_slowly_sent_body_is_accepted_and_does_not_block_others(api):
    req = http_bytes("POST", "/api/orders", VALID, key=api.keys["admin"])
    chunks = [req[i:i + 3] for i in range(0, len(req), 3)]
    result = {}

    def slow():
        result["r"] = send(api, None, chunks=chunks, delay=0.02, timeout=60)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    healthy(api)
    o = api.create("A")
    assert time.monotonic() - t0 < 2, "a slow client held up other requests"
    t.join(60)
    status, _, body, _ = result["r"]
    assert status == 201, (status, body[:300])
    assert json.loads(body)["sequence"] == o["sequence"] + 1


def test_many_half_open_connections_do_not_block_the_server(api):
    socks = []
    try:
        for _ in range(30):
            s = socket.create_connection((api.server.connect_host, api.server.port), timeout=5)
            s.sendall(b"POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Le")
            socks.append(s)
        t0 = time.monotonic()
        healthy(api)
        api.create("A")
        assert time.monotonic() - t0 < 2, "half-open connections held up other requests"
    finally:
        for s in socks:
            s.close()


# ---------------------------------------------------------------- methods and paths


@pytest.mark.parametrize("method", ["PUT", "DELETE", "TRACE", "BREW", "OPTIONS"])
def test_unsupported_method_on_orders(api, method):
    with no_new_order(api):
        status, headers, body, _ = send(api, http_bytes(method, "/api/orders", VALID, key=api.keys["admin"]))
        check_problem(status, headers, body, {405})
        assert json.loads(body)["code"] == "method_not_allowed"
        allow = {m.strip().upper() for m in headers.get("allow", "").split(",")}
        assert {"GET", "POST"} <= allow, headers
        healthy(api)


@pytest.mark.parametrize("path", [
    "/api/orders/%00", "/api/orders/-1", "/api/orders/99999999999999999999999", "/api/orders/1.0",
    "/api/orders/0x10", "/api/orders/%20", "/api/tokens/../../x", "/api/tokens/%2e%2e%2f%2e%2e%2fx",
    "//api//orders", "/api/orders/1/../../../etc/passwd", "/api/tokens/%zz", "/api/tokens/%ff%fe",
    "*", "/" + "a" * 100000,
])
def test_odd_paths(api, path):
    with no_new_order(api):
        status, headers, body, _ = send(api, http_bytes("GET", path, key=api.keys["admin"]), timeout=15)
        assert status is not None, "no answer"
        assert 400 <= status < 500, (status, body[:300])
        if status == 404:
            assert_problem(raw_resp(status, headers, body), 404, "not_found")
        healthy(api)


@pytest.mark.parametrize("path", ["/api/orders/%00", "/api/orders/-1", "/api/orders/99999999999999999999999"])
def test_odd_order_ids_on_patch_and_recall(api, path):
    with no_new_order(api):
        for method, suffix, body in (("PATCH", "", b'{"status": "READY"}'), ("POST", "/recall", b"")):
            status, headers, resp, _ = send(api, http_bytes(method, path + suffix, body, key=api.keys["admin"]))
            assert status is not None and 400 <= status < 500, (method, status, resp[:300])
            if status == 404:
                assert_problem(raw_resp(status, headers, resp), 404, "not_found")
        healthy(api)


# ---------------------------------------------------------------- headers and request lines


def test_16_kib_header(api):
    """Refused or not, the invalid order must not be accepted."""
    data = http_bytes("POST", "/api/orders", b'{"queue": "A", "items": []}', key=api.keys["admin"],
                      headers={"X-Pad": "p" * 16384})
    with no_new_order(api):
        status, headers, body, _ = send(api, data)
        assert status is not None and 400 <= status < 500, (status, body[:300])
        if status == 422:
            assert_problem(raw_resp(status, headers, body), 422, "invalid_field", "items")
        healthy(api)


def test_100_kib_header_is_refused(api):
    data = http_bytes("POST", "/api/orders", VALID, key=api.keys["admin"], headers={"X-Pad": "p" * 102400})
    with no_new_order(api):
        status, _, body, _ = send(api, data)
        assert status is None or 400 <= status < 500, (status, body[:300])
        healthy(api)


def test_many_headers(api):
    extra = {f"X-H{i}": "v" * 50 for i in range(2000)}
    data = http_bytes("POST", "/api/orders", VALID, key=api.keys["admin"], headers=extra)
    with no_new_order(api):
        status, _, body, _ = send(api, data)
        assert status is None or 400 <= status < 500, (status, body[:300])
        healthy(api)


@pytest.mark.parametrize("data", [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /healthz\r\n\r\n",
    b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
    b"POST /api/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    bytes(range(256)) * 16,
], ids=["garbage", "method-only", "http09", "binary", "bad-header",
        "bad-chunk", "noise"])
def test_garbage_request(api, data):
    with no_new_order(api):
        status, _, body, raw = send(api, data, shut_write=True)
        assert status is None or 400 <= status < 500, (status, raw[:300])
        if status is None:
            assert raw == b"" or not raw.startswith(b"HTTP/1.1 2"), raw[:300]
        healthy(api)
