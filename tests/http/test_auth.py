"""Authentication and roles (docs/api.md "Authentication", docs/tokenq.1 keys): each
role and each kind of missing or bad key on each route, protected mode, and
keys created or revoked while the server runs."""

import base64
import copy
import subprocess

import pytest

from conftest import Api, assert_problem, create_key, no_new_order, order_body, revoke_key

PROTECTED = ["create", "get", "list", "patch", "recall"]
PUBLIC = ["token", "board", "healthz", "queues"]
ALLOWED = {
    "create": {"pos", "admin"},
    "get": {"pos", "staff", "admin"},
    "list": {"pos", "staff", "admin"},
    "patch": {"staff", "admin"},
    "recall": {"staff", "admin"},
}


@pytest.fixture(scope="module")
def api(module_factory):
    a = module_factory.api(queues="A=Orders")
    a.keys["revoked"] = create_key(a.db, "admin", label="revoked-admin")
    revoke_key(a.db, "revoked-admin")
    a.keys["bad"] = "tq_this_is_not_a_key"
    return a


def call(api, route, key, order=None):
    """Sends the route's request; returns (response, check) where check()
    asserts that a refusal changed nothing."""
    if route == "create":
        return api.post("/api/orders", order_body("A"), key=key)
    if route == "get":
        return api.get(f"/api/orders/{order['id']}", key=key)
    if route == "list":
        return api.get("/api/orders", key=key)
    if route == "patch":
        return api.patch(f"/api/orders/{order['id']}", {"status": "PREPARING"}, key=key)
    if route == "recall":
        return api.post(f"/api/orders/{order['id']}/recall", key=key)
    if route == "token":
        return api.get(f"/api/tokens/{order['token']}", key=key)
    if route == "board":
        return api.get("/api/board", key=key)
    if route == "healthz":
        return api.get("/healthz", key=key)
    if route == "queues":
        return api.get("/api/queues", key=key)
    raise AssertionError(route)


def prepare(api, route):
    o = api.create("A")
    if route == "recall":
        api.set_status(o["id"], "READY")
    return api.order(o["id"])


@pytest.mark.parametrize("route", PROTECTED)
@pytest.mark.parametrize("cred", ["pos", "staff", "admin", "", "bad", "revoked"])
def test_protected_route_matrix(api, route, cred):
    order = prepare(api, route)
    before_seq = api.create("A")["sequence"]
    r = call(api, route, cred, order)
    if cred in ("", "bad", "revoked"):
        assert_problem(r, 401, "unauthorized")
        assert r.headers.get("www-authenticate", "").lower().startswith("bearer"), r.headers
    elif cred in ALLOWED[route]:
        assert r.status in (200, 201), f"{cred} may {route}: {r}"
        if route == "create":
            assert r.status == 201
            assert r.body["sequence"] == before_seq + 1
        return
    else:
        assert_problem(r, 403, "forbidden")
    # refused: nothing changed
    assert api.order(order["id"]) == order, "a refused request changed the order"
    assert api.create("A")["sequence"] == before_seq + 1, "a refused request used a number"


@pytest.mark.parametrize("route", PUBLIC)
@pytest.mark.parametrize("cred", ["", "pos", "staff", "admin"])
def test_public_routes_need_no_key(api, route, cred):
    order = api.create("A")
    r = call(api, route, cred, order)
    assert r.status == 200, r


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(api, scheme):
    r = api.post("/api/orders", order_body("A"), key="",
                 headers={"Authorization": f"{scheme} {api.keys['pos']}"})
    assert r.status == 201, r


@pytest.mark.parametrize("value", [
    "Basic " + base64.b64encode(b"admin:admin").decode(),
    "Bearer",
    "Bearer ",
    "{key}",
    "Token {key}",
    "Bearer {key}x",
    "Bearer x{key}",
    "Bearer {key_short}",
    "Bearer {key_upper}",
    "Bearer {key} {key}",
])
def test_bad_authorization_is_401(api, value):
    k = api.keys["admin"]
    value = value.format(key=k, key_short=k[:-1], key_upper=k.upper() if k.upper() != k else k + "Z")
    with no_new_order(api):
        r = api.post("/api/orders", order_body("A"), key="", headers={"Authorization": value})
        assert_problem(r, 401, "unauthorized")
        assert r.headers.get("www-authenticate", "").lower().startswith("bearer")


def test_key_created_and_revoked_while_running(api):
    label = "late-pos"
    secret = create_key(api.db, "pos", label=label)
    r = api.post("/api/orders", order_body("A"), key=secret)
    assert r.status == 201, f"a key created while the server runs works on the next request: {r}"
    r = api.get("/api/orders?limit=1", key=secret)
    assert r.status == 200, r
    revoke_key(api.db, label)
    with no_new_order(api):
        r = api.post("/api/orders", order_body("A"), key=secret)
        assert_problem(r, 401, "unauthorized")


def test_role_of_a_late_key_counts(api):
    secret = create_key(api.db, "staff", label="late-staff")
    with no_new_order(api):
        assert_problem(api.post("/api/orders", order_body("A"), key=secret), 403, "forbidden")


# ---------------------------------------------------------------- protected mode


def non_loopback_ipv4():
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except OSError:
        return None
    for a in out.split():
        if "." in a and not a.startswith("127."):
            return a
    return None


def test_protected_mode_loopback_may_do_everything(factory):
    api = factory.api(roles=())
    r = api.post("/api/orders", order_body("A"))
    assert r.status == 201, f"no key exists and the client is on loopback: {r}"
    oid = r.body["id"]
    assert api.get(f"/api/orders/{oid}").status == 200
    assert api.get("/api/orders").status == 200
    assert api.patch(f"/api/orders/{oid}", {"status": "READY"}).status == 200
    assert api.post(f"/api/orders/{oid}/recall").status == 200


def test_protected_mode_ends_with_the_first_key_and_returns_when_revoked(factory):
    api = factory.api(roles=())
    assert api.post("/api/orders", order_body("A")).status == 201
    create_key(api.db, "admin", label="first")
    r = api.post("/api/orders", order_body("A"))
    assert_problem(r, 401, "unauthorized")
    revoke_key(api.db, "first")
    r = api.post("/api/orders", order_body("A"))
    assert r.status == 201, f"no unrevoked key is left: protected mode again: {r}"
    assert r.body["sequence"] == 2


def test_protected_mode_refuses_other_addresses(factory):
    ip = non_loopback_ipv4()
    if not ip:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    local = factory.api(roles=(), host="0.0.0.0")
    srv = copy.copy(local.server)
    srv.connect_host = ip
    remote = Api(srv, {})

    r = remote.post("/api/orders", order_body("A"))
    b = assert_problem(r, 401, "unauthorized")
    assert r.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert "keys create" in b["detail"], f"the detail says how to create a key: {b['detail']!r}"
    assert_problem(remote.get("/api/orders"), 401, "unauthorized")
    # public routes answer anyone
    assert remote.get("/api/board").status == 200
    assert remote.get("/healthz").status == 200
    # nothing was written: loopback's first order is number 1
    assert local.create("A")["sequence"] == 1

    secret = create_key(local.db, "pos", label="remote-pos")
    r = remote.post("/api/orders", order_body("A"), key=secret)
    assert r.status == 201, r
    assert r.body["sequence"] == 2


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_protected_mode_refuses_requests_through_a_proxy(factory, header):
    # Behind a reverse proxy on the same machine every request arrives from
    # loopback; a request that says it was forwarded is not a local client.
    api = factory.api(roles=())
    value = "for=203.0.113.7" if header == "Forwarded" else "203.0.113.7"
    b = assert_problem(api.post("/api/orders", order_body("A"), headers={header: value}),
                       401, "unauthorized")
    assert "keys create" in b["detail"]
    assert api.get("/api/board", headers={header: value}).status == 200
    assert api.create("A")["sequence"] == 1
