"""Nothing of one venue is visible or changeable through another's routes.

One server, three venues: main, `x` (with orders in every status, a recall,
a webhook endpoint, a logo) and `y` (one order of its own). For every route
of `tokenq routes`, on both backends, the request is made under `/v/y` with
y's admin key (or none, for public routes), aimed at x's records where the
route takes an id or a token. Each route has an expectation below, and the
test refuses a route without one, so a new route cannot skip this check.
Afterwards x's records are as they were. A key of x is refused (403) on
y's and main's protected routes.
"""

import json

import pytest

from conftest import assert_problem, body_for, concrete, read_stream, route_table, run_cli


TABLE = route_table()
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
       "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def venue_key(db, role, venue):
    r = run_cli("keys", "create", "--role", role, "--venue", venue, db=db)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()[0].strip()


@pytest.fixture(scope="module")
def world(module_factory):
    api = module_factory.api(queues="A=Orders")
    db = api.db
    for slug, name, queues in (("x", "Xville", "A=Orders,X=Xonly"), ("y", "Yton", "A=Orders,B=Bar")):
        r = run_cli("venues", "create", slug, "--name", name, "--queues", queues, db=db)
        assert r.returncode == 0, r.stderr
    x = {"orders": []}
    for i in range(4):
        r = api.post("/v/x/api/orders", {"queue": "A" if i < 3 else "X",
                                          "items": [{"name": f"Xsecret{i}", "quantity": 1,
                                                     "unit_price": 700}],
                                          "total": 700, "note": "x-only note"},
                     headers={"Idempotency-Key": f"x-key-{i}"})
        assert r.status == 201, r
        x["orders"].append(r.body)
    o = x["orders"]
    for status in ("PREPARING", "READY"):
        assert api.patch(f"/v/x/api/orders/{o[1]['id']}", {"status": status}).status == 200
    assert api.post(f"/v/x/api/orders/{o[1]['id']}/recall").status == 200
    assert api.patch(f"/v/x/api/orders/{o[2]['id']}", {"status": "CANCELLED"}).status == 200
    r = api.post("/v/x/api/webhooks", {"url": "http://127.0.0.1:9/x", "allow_private": True})
    assert r.status == 201, r
    x["webhook"] = r.body["id"]
    assert api.patch("/api/venues/x", {"logo": PNG, "accent": "#112233"}).status == 200
    y = api.post("/v/y/api/orders", {"queue": "B", "items": [{"name": "Ytea", "quantity": 1,
                                                             "unit_price": 100}], "total": 100})
    assert y.status == 201, y
    keys = {f"{v}-{role}": venue_key(db, role, v) for v in ("x", "y") for role in ("admin", "staff", "pos")}
    return {"api": api, "x": x, "y": y.body, "keys": keys}


def x_snapshot(w):
    api = w["api"]
    orders = [api.get(f"/v/x/api/orders/{o['id']}").body for o in w["x"]["orders"]]
    for o in orders:
        o.pop("print", None)
    hook = api.get(f"/v/x/api/webhooks/{w['x']['webhook']}").body
    venue = api.get("/api/venues/x").body
    return json.dumps([orders, hook, venue], sort_keys=True)


def leaks(w, text):
    """What of x's shows in text: its orders (by their items and note), its name and settings."""
    found = []
    for o in w["x"]["orders"]:
        for needle in (f'"order_id":{o["id"]}', o["items"][0]["name"]):
            if needle in text:
                found.append(needle)
    for needle in ("x-only note", "Xville", "Xonly", "#112233"):
        if needle in text:
            found.append(needle)
    return found


def y_request(w, method, path, key):
    x_order = w["x"]["orders"][0]
    url = "/v/y" + concrete(path, x_order).replace("/api/venues/main", "/api/venues/x")
    url = url.replace("/api/webhooks/" + str(x_order["id"]), f"/api/webhooks/{w['x']['webhook']}")
    body = body_for(method, path)
    if method == "POST" and path == "/api/orders":
        body["queue"] = "B"  # y's own queue: y's A-001 stays unissued for the token checks
    if method == "PATCH" and path == "/api/venues/{venue}":
        body = {"name": "Stolen"}
    if method == "POST" and path == "/api/venues":
        body = {"slug": "z", "name": "Z"}
    return url, w["api"].request(method, url, body, key=key)


# What each route under /v/y answers when aimed at x's records: a status, and
# whether the body may hold data at all (then it must hold none of x's).
NOT_FOUND = {"status": 404}
OWN_ONLY = {"status": 200, "no_leak": True}
EXPECT = {
    ("POST", "/api/orders"): {"status": 201, "no_leak": True},
    ("GET", "/api/orders"): OWN_ONLY,
    ("GET", "/api/orders/{id}"): NOT_FOUND,
    ("PATCH", "/api/orders/{id}"): NOT_FOUND,
    ("POST", "/api/orders/{id}/recall"): NOT_FOUND,
    ("POST", "/api/orders/{id}/print"): NOT_FOUND,
    ("GET", "/api/orders/{id}/ticket"): NOT_FOUND,
    ("GET", "/api/orders.csv"): OWN_ONLY,
    ("GET", "/api/tokens/{token}"): NOT_FOUND,
    ("GET", "/api/board"): OWN_ONLY,
    ("GET", "/api/events"): OWN_ONLY,
    ("GET", "/api/queues"): OWN_ONLY,
    ("GET", "/api/menu"): {"status": 404},  # the install's menu; none is configured here
    ("GET", "/api/openapi.json"): {"status": 200},  # the install's document, no venue data
    ("POST", "/api/webhooks"): {"status": 201, "no_leak": True},
    ("GET", "/api/webhooks"): OWN_ONLY,
    ("GET", "/api/webhooks/{id}"): NOT_FOUND,
    ("DELETE", "/api/webhooks/{id}"): NOT_FOUND,
    ("GET", "/api/webhooks/{id}/deliveries"): NOT_FOUND,
    ("GET", "/api/stats"): OWN_ONLY,
    ("GET", "/healthz"): OWN_ONLY,
    ("GET", "/metrics"): {"status": 200},  # install-wide, labelled by venue
    ("GET", "/api/venues"): {"status": 200},  # public: every venue's name and settings
    ("POST", "/api/venues"): {"status": 403},  # a key of one venue makes no venues
    ("GET", "/api/venues/{venue}"): {"status": 200},  # public, as /api/venues
    ("PATCH", "/api/venues/{venue}"): {"status": 403},
    ("DELETE", "/api/venues/{venue}"): {"status": 403},
    ("GET", "/logo"): NOT_FOUND,  # y has none; x's is not served for it
    ("GET", "/"): OWN_ONLY,
    ("GET", "/staff"): OWN_ONLY,
    ("GET", "/t/{token}"): OWN_ONLY,
    ("GET", "/assets/{name}"): {"status": 200},
}


def test_every_route_has_an_expectation():
    missing = [(m, p) for m, p, _ in TABLE if (m, p) not in EXPECT]
    assert not missing, f"routes without an isolation expectation: {missing}"


@pytest.mark.parametrize("method,path,roles", TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE])
def test_route_of_y_shows_and_changes_nothing_of_x(world, method, path, roles):
    want = EXPECT[(method, path)]
    before = x_snapshot(world)
    key = "" if roles == "public" else world["keys"]["y-admin"]
    if path == "/api/events":
        status, _, body = read_stream(world["api"].server, "/v/y/api/events?last_event_id=0", want=1, timeout=3)
        text = body.decode("utf-8", "replace")
        url = "/v/y/api/events"
    else:
        url, r = y_request(world, method, path, key)
        status, text = r.status, r.raw.decode("utf-8", "replace")
    assert status == want["status"], f"{method} {url}: {status} {text[:300]}"
    if want.get("no_leak"):
        assert leaks(world, text) == [], f"{method} {url} shows x's {leaks(world, text)}"
    assert x_snapshot(world) == before, f"{method} {url} changed x's records"


def test_y_sees_its_own(world):
    api, key = world["api"], world["keys"]["y-staff"]
    board = api.get("/v/y/api/board").body
    assert world["y"]["token"] in board["pending"] and "A-001" not in board["pending"], board
    listed = api.get("/v/y/api/orders?date=" + world["y"]["business_date"], key=key).body
    ids = {o["id"] for o in listed["orders"]}
    assert world["y"]["id"] in ids and not ids & {o["id"] for o in world["x"]["orders"]}
    stats = api.get("/v/y/api/stats?date=" + world["y"]["business_date"], key=key).body
    assert stats["revenue"] == sum(o["total"] for o in listed["orders"]), stats
    assert api.get(f"/v/y/api/tokens/{world['y']['token']}").status == 200
    # x's token A-001 is x's: y never issued A-001
    assert_problem(api.get("/v/y/api/tokens/A-001"), 404, "not_found")


def test_numbers_are_per_venue(world):
    api = world["api"]
    a = api.post("/v/y/api/orders", {"queue": "A", "items": [{"name": "t", "quantity": 1, "unit_price": 1}], "total": 1})
    assert a.status == 201 and a.body["token"] == "A-001", a
    b = api.post("/v/x/api/orders", {"queue": "A", "items": [{"name": "t", "quantity": 1, "unit_price": 1}], "total": 1})
    assert b.status == 201 and b.body["token"] == "A-004", b
    assert api.get(f"/v/y/api/orders/{b.body['id']}").status == 404
    # the same Idempotency-Key at another venue is that venue's own key
    r = api.post("/v/y/api/orders", {"queue": "A", "items": [{"name": "t", "quantity": 1, "unit_price": 1}], "total": 1},
                 headers={"Idempotency-Key": "x-key-0"})
    assert r.status == 201 and r.headers.get("idempotent-replayed") is None, r


@pytest.mark.parametrize("method,path,roles", [t for t in TABLE if t[2] != "public"],
                         ids=[f"{m} {p}" for m, p, r in TABLE if r != "public"])
def test_key_of_x_is_refused_at_y_and_main(world, method, path, roles):
    before = x_snapshot(world)
    api = world["api"]
    order = world["y"]
    role = "admin" if "admin" in roles.split(",") else roles.split(",")[0]
    key = world["keys"]["x-" + role]
    for prefix in ("/v/y", ""):
        url = prefix + concrete(path, order).replace("/api/venues/main", "/api/venues/y" if prefix else "/api/venues/main")
        r = api.request(method, url, body_for(method, path), key=key)
        assert_problem(r, 403, "forbidden")
    assert x_snapshot(world) == before


def test_events_of_x_never_reach_y(world):
    api = world["api"]
    _, _, body = read_stream(api.server, "/v/y/api/events?last_event_id=0", want=50, timeout=2)
    text = body.decode()
    assert world["y"]["token"] in text
    assert leaks(world, text) == []
    _, _, xbody = read_stream(api.server, "/v/x/api/events?last_event_id=0", want=50, timeout=2)
    assert world["x"]["orders"][0]["token"] in xbody.decode()
    assert world["y"]["token"] not in xbody.decode()
