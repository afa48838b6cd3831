"""Every route under its venue's prefix, from the route table itself.

Each route exists under `/v/{slug}` too, and the routes without the prefix
are the venue `main`'s. For each route of `tokenq routes`, on both
backends: `/v/main` + the route answers as the route does (same status,
same body for reads), and an unknown or malformed slug is 404
`unknown_venue` whatever the route, before any key is asked for, and
changes nothing. What a prefixed request makes points back under the prefix:
the `Location` of a new order and the customer page's address on its ticket.
"""

import http.client
import re

import pytest

from conftest import assert_problem, body_for, concrete, list_all, order_body, route_table


TABLE = route_table()


def first_status(api, method, url):
    """The status and headers of a response that may never end (an event stream)."""
    c = http.client.HTTPConnection("127.0.0.1", api.server.port, timeout=10)
    try:
        c.request(method, url)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()


@pytest.fixture(scope="module")
def vapi(module_factory):
    return module_factory.api(queues="A=Orders,B=Takeaway")


VOLATILE = re.compile(r'"(last_event_id|updated_at|eta_seconds|ahead)":[^,}]*')


def comparable(r):
    """A response's body without what changes between two reads of the same thing."""
    return VOLATILE.sub("", r.raw.decode("utf-8", "replace"))


@pytest.mark.parametrize("method,path,roles", TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE])
def test_route_under_main_prefix(vapi, method, path, roles):
    api = vapi
    order = api.create("A")
    url = concrete(path, order)
    if path == "/api/events":
        plain, prefixed = first_status(api, method, url), first_status(api, method, "/v/main" + url)
        assert plain[0] == prefixed[0] == 200
        assert prefixed[1].get("content-type", "").startswith("text/event-stream")
        return
    if method == "GET":
        a = api.request(method, url)
        b = api.request(method, "/v/main" + url)
        assert a.status == b.status, f"{url}: {a.status}, under /v/main: {b.status}"
        assert b.status < 500, b
        # The ticket differs on purpose: its customer link carries the prefix (tested below).
        if b.status == 200 and path not in ("/healthz", "/metrics", "/api/orders/{id}/ticket"):
            assert comparable(a) == comparable(b), f"{url} answers differently under /v/main"
        return
    # Writes: the prefixed request does what the plain one does, each on an order of its own.
    one, two = api.create("A"), api.create("A")
    a = api.request(method, concrete(path, one), body_for(method, path))
    b = api.request(method, "/v/main" + concrete(path, two), body_for(method, path))
    assert a.status == b.status, f"{method} {path}: {a.status}, under /v/main: {b.status} {b}"
    assert b.status < 500, b


def test_prefix_root_is_the_board_page(vapi):
    for url in ("/v/main", "/v/main/"):
        r = vapi.get(url, key="")
        assert r.status == 200, r
        assert "text/html" in r.headers.get("content-type", "")
        assert r.raw == vapi.get("/", key="").raw


def webhooks(api):
    r = api.get("/api/webhooks")
    assert r.status == 200, r
    return len(r.body["webhooks"])


@pytest.mark.parametrize("slug", ["nowhere", "mg-road", "Main", "9lives", "a_b", "x" * 33, ""])
@pytest.mark.parametrize("method,path,roles", TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE])
def test_unknown_venue_is_404_and_changes_nothing(vapi, slug, method, path, roles):
    api = vapi
    order = api.create("A")
    before = len(list_all(api)), webhooks(api)
    url = f"/v/{slug}" + concrete(path, order)
    r = api.request(method, url, body_for(method, path), key="")
    assert_problem(r, 404, "unknown_venue")
    assert "www-authenticate" not in r.headers
    after = api.order(order["id"])
    assert after["status"] == order["status"]
    assert len(after["history"]) == 1, "the order gained an event"
    assert (len(list_all(api)), webhooks(api)) == before


def test_location_and_ticket_carry_the_prefix(vapi):
    r = vapi.post("/v/main/api/orders", order_body("B"))
    assert r.status == 201, r
    loc = r.headers["location"]
    assert loc == f"/v/main/api/orders/{r.body['id']}"
    got = vapi.get(loc)
    assert got.status == 200 and got.body["token"] == r.body["token"]
    ticket = vapi.get(f"/v/main/api/orders/{r.body['id']}/ticket")
    assert ticket.status == 200, ticket
    assert f"/v/main/t/{r.body['token']}" in ticket.raw.decode()
    # Without the prefix, the same order's links stay unprefixed.
    plain = vapi.get(f"/api/orders/{r.body['id']}/ticket").raw.decode()
    assert f"/t/{r.body['token']}" in plain and "/v/main/" not in plain


def test_prefixed_and_plain_share_main_numbers(vapi):
    a = vapi.post("/api/orders", order_body("B")).body
    b = vapi.post("/v/main/api/orders", order_body("B")).body
    assert b["sequence"] == a["sequence"] + 1
    assert b["business_date"] == a["business_date"]
