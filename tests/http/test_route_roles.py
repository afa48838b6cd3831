"""Every route's roles, proven from the route table itself.

`tokenq routes` prints the server's route table (method, path, roles). For
each route in it, on both backends: a protected route answers 401 with
`WWW-Authenticate: Bearer` without a key and with a revoked key, and 403 to
every role it does not allow, even with a request that would otherwise
succeed; a public route never asks for a key. A route added to the table
without its roles shows as "-" here and fails the first test (and the
server refuses to start with it).
"""

import http.client

import pytest

from conftest import ROLES, body_for, concrete, revoke_key, route_table

KNOWN = set(ROLES)


TABLE = route_table()


def test_every_route_names_its_roles():
    for method, path, roles in TABLE:
        if roles == "public":
            continue
        named = set(roles.split(","))
        assert named and named <= KNOWN, f"{method} {path} names no valid roles: {roles!r}"


def status_only(api, method, url):
    """The status of a response that never ends (an event stream)."""
    c = http.client.HTTPConnection("127.0.0.1", api.server.port, timeout=10)
    try:
        c.request(method, url)
        return c.getresponse().status
    finally:
        c.close()


@pytest.fixture(scope="module")
def roles_api(module_factory):
    api = module_factory.api(queues="A=Orders")
    api.keys["revoked"] = api.create_key("pos", "to-revoke")
    revoke_key(api.db, "to-revoke")
    return api


@pytest.mark.parametrize("method,path,roles", TABLE, ids=[f"{m} {p}" for m, p, _ in TABLE])
def test_route_roles(roles_api, method, path, roles):
    api = roles_api
    order = api.create("A")
    url = concrete(path, order)
    body = body_for(method, path)
    if roles == "public":
        status = status_only(api, method, url) if path == "/api/events" else None
        if status is None:
            status = api.request(method, url, body, key="").status
        assert status not in (401, 403), f"public {method} {path} asked for a key: {status}"
        return
    allowed = set(roles.split(","))
    for label, key in (("no key", ""), ("a revoked key", "revoked")):
        r = api.request(method, url, body, key=key)
        assert r.status == 401, f"{method} {path} with {label}: {r}"
        assert r.headers.get("www-authenticate", "").lower().startswith("bearer"), r
    for role in sorted(KNOWN - allowed):
        r = api.request(method, url, body, key=role)
        assert r.status == 403, f"{method} {path} with a {role} key (allowed: {roles}): {r}"
        assert r.body.get("code") == "forbidden", r
    for role in sorted(allowed):
        r = api.request(method, url, body, key=role)
        assert r.status not in (401, 403), f"{method} {path} refused a {role} key: {r}"
