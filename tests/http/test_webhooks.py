"""Webhooks (the server's dispatcher, `tokenq webhooks`, /api/webhooks) from
the outside: real servers on SQLite and PostgreSQL deliver to a receiver in
Node (tests/hooks/receiver.js) that verifies every delivery with the
Standard Webhooks library, `standardwebhooks` from npm.

The receiver listens on loopback, so every endpoint here is created with
--allow-private. The servers run with a short retry base and poll so that
retries happen within the test: TOKENQ_WEBHOOK_RETRY_BASE_MS=200 and
TOKENQ_WEBHOOK_POLL_MS=100.
"""

import collections
import http.client
import json
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time

import pytest

from conftest import (NOTSET, REPO, TIMESTAMP_RE, Api, assert_json_ct, assert_problem, create_keys, free_port,
                      psql, read_stream, run_cli)

HOOKS_DIR = REPO / "tests" / "hooks"
HOOK_ENV = {"TOKENQ_WEBHOOK_RETRY_BASE_MS": "200", "TOKENQ_WEBHOOK_POLL_MS": "100"}
SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9+/]+={0,2}$")
ALL_EVENTS = ["token", "recall", "transfer"]
EVENT_TYPES = ["token.pending", "token.preparing", "token.ready", "token.recall", "token.completed",
               "token.pending", "token.cancelled"]


# ---------------------------------------------------------------- receiver


@pytest.fixture(scope="session")
def receiver_js():
    if shutil.which("node") is None:
        pytest.fail("node is needed for the webhook receiver (scripts/deps.sh test)")
    if not (HOOKS_DIR / "node_modules" / "standardwebhooks").exists():
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HOOKS_DIR,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"npm ci in tests/hooks failed: {r.stderr}"
    return str(HOOKS_DIR / "receiver.js")


class Receiver:
    """One receiver.js process: verifies with one endpoint's secret."""

    def __init__(self, script, port=None):
        self.script = script
        self.port = port or free_port()
        self.proc = None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, secret):
        self.proc = subprocess.Popen(["node", self.script, str(self.port), secret], cwd=HOOKS_DIR,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening"), f"receiver did not start: {line!r} {self.proc.stdout.read()}"
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        """Every request received, in arrival order: {path, id, verified, body
        (parsed), at}."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", "/_log")
            r = c.getresponse()
            out = json.loads(r.read())
        finally:
            c.close()
        for e in out:
            try:
                e["body"] = json.loads(e["body"])
            except ValueError:
                pass
        return out

    def wait_for(self, n, timeout=20, path=None):
        """Waits until n requests (to `path`, when given) have arrived; returns the log."""
        deadline = time.monotonic() + timeout
        got = []
        while time.monotonic() < deadline:
            got = [e for e in self.log() if path is None or e["path"] == path]
            if len(got) >= n:
                return got
            time.sleep(0.05)
        raise AssertionError(f"receiver got {len(got)} of {n} deliveries within {timeout} s: {summary(got)}")


def summary(log):
    return [(e["id"], e["path"], e["verified"], e["body"].get("type") if isinstance(e["body"], dict) else e["body"])
            for e in log]


@pytest.fixture
def receivers(receiver_js):
    made = []

    def make(port=None):
        r = Receiver(receiver_js, port)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


# ---------------------------------------------------------------- helpers


def cli_create(db, url, *args, check=True):
    """`tokenq webhooks create URL ARGS`; returns (id, secret) when check."""
    r = run_cli("webhooks", "create", url, *args, db=db)
    if not check:
        return r
    assert r.returncode == 0, f"webhooks create {url} {args}: exit {r.returncode}: {r.stderr}"
    lines = r.stdout.splitlines()
    assert len(lines) == 1, f"webhooks create: want the secret alone on stdout, got {r.stdout!r}"
    secret = lines[0].strip()
    assert SECRET_RE.match(secret), f"secret {secret!r} is not whsec_ + base64"
    m = re.search(r"created webhook (\d+)", r.stderr)
    assert m, f"webhooks create: no 'created webhook N' on stderr: {r.stderr!r}"
    assert "only once" in r.stderr, f"webhooks create: stderr does not say the secret is shown once: {r.stderr!r}"
    return int(m.group(1)), secret


def cli_list(db):
    """`tokenq webhooks list` as [{id, url, events, state, created}]."""
    r = run_cli("webhooks", "list", db=db)
    assert r.returncode == 0, f"webhooks list: exit {r.returncode}: {r.stderr}"
    out = []
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        f = line.split("\t")
        assert len(f) == 5, f"webhooks list line is not ID URL EVENTS STATE CREATED tab-separated: {line!r}"
        assert f[0].isdigit(), line
        assert TIMESTAMP_RE.match(f[4]), f"CREATED {f[4]!r} is not RFC 3339 with milliseconds: {line!r}"
        out.append({"id": int(f[0]), "url": f[1], "events": f[2], "state": f[3], "created": f[4]})
    return out


def cli_deliveries(db, hook_id):
    """`tokenq webhooks deliveries ID` as [{fields..., attempts: [parts]}]."""
    r = run_cli("webhooks", "deliveries", str(hook_id), db=db)
    assert r.returncode == 0, f"webhooks deliveries {hook_id}: exit {r.returncode}: {r.stderr}"
    out = []
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        if line.startswith(" "):
            assert out, f"an attempt line before any delivery: {r.stdout!r}"
            parts = line.split(None, 4)
            assert len(parts) >= 5, f"attempt line is not '#N RFC3339 STATUS DURATION ERROR-or-ok': {line!r}"
            out[-1]["attempts"].append(parts)
            continue
        f = line.split("\t")
        assert len(f) >= 6, f"delivery line is not DELIVERY_ID EVENT_ID TYPE STATE ATTEMPTS LAST_STATUS LAST_ERROR: {line!r}"
        out.append({"id": f[0], "event_id": f[1], "type": f[2], "state": f[3], "attempts_n": f[4],
                    "last_status": f[5], "last_error": f[6] if len(f) > 6 else "", "attempts": [], "line": line})
    return out


def read_events(server, want, timeout=10):
    """The event stream from the start: {event_id: (event name, data)} once
    `want` events are in."""
    status, _, body = read_stream(server, "/api/events?last_event_id=0", want=want, timeout=timeout)
    assert status == 200, status
    text = body.decode()
    events = {}
    for block in text.split("\n\n"):
        name, data = "message", None
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data = json.loads(line[5:].strip())
        if data is not None:
            events[data["event_id"]] = (name, data)
    assert len(events) >= want, f"the event stream gave {len(events)} of {want} events: {text[:2000]}"
    return events


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def ids_once_in_order(log, n):
    """Asserts the log holds n messages, each exactly once, verified, in event
    order; returns the bodies."""
    assert all(e["verified"] for e in log), f"a delivery failed verification: {summary(log)}"
    counts = collections.Counter(e["id"] for e in log)
    dup = {k: v for k, v in counts.items() if v != 1}
    assert not dup, f"webhook-ids received more than once: {dup}"
    assert len(counts) == n, f"want {n} messages, got {len(counts)}: {summary(log)}"
    eids = [e["body"]["data"]["event_id"] for e in log]
    assert eids == sorted(eids), f"deliveries out of event order: {eids}"
    assert len(set(eids)) == n, f"one event delivered under two webhook-ids: {eids}"
    return [e["body"] for e in log]


def make_events(api):
    """Two orders, seven events: one through every status with a recall, one
    cancelled. Returns the orders."""
    o1 = api.create()
    for st in ("PREPARING", "READY"):
        api.set_status(o1["id"], st)
    r = api.post(f"/api/orders/{o1['id']}/recall")
    assert r.status == 200, r
    api.set_status(o1["id"], "COMPLETED")
    o2 = api.create()
    api.set_status(o2["id"], "CANCELLED")
    return o1, o2


def hook_api(factory, **kw):
    return factory.api(env=dict(HOOK_ENV), **kw)


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


# ---------------------------------------------------------------- delivery


def test_every_event_type_in_order(factory, receivers):
    api = hook_api(factory)
    recv = receivers()
    _, secret = cli_create(api.db, recv.url("/ok/all"), "--allow-private")
    recv.start(secret)
    o1, o2 = make_events(api)
    recv.wait_for(7)
    time.sleep(0.5)
    log = recv.log()
    bodies = ids_once_in_order(log, 7)
    assert [b["type"] for b in bodies] == EVENT_TYPES, [b["type"] for b in bodies]
    events = read_events(api.server, 7)
    for b in bodies:
        name, data = events[b["data"]["event_id"]]
        assert b["data"] == data, f"delivered data differs from the event stream's: {b['data']} vs {data}"
        assert b["timestamp"] == data["at"], b
        assert set(b) == {"type", "timestamp", "data"}, b
        assert (name == "recall") == (b["type"] == "token.recall"), (name, b["type"])
    assert [b["data"]["order_id"] for b in bodies] == [o1["id"]] * 5 + [o2["id"]] * 2
    assert all(e["id"].startswith("msg_") for e in log), summary(log)
    types = {e["type"].split(";")[0].strip().lower() for e in log}
    assert types == {"application/json"}, f"deliveries sent as {types}"


def test_event_filter(factory, receivers):
    api = hook_api(factory)
    recv = receivers()
    _, secret = cli_create(api.db, recv.url("/ok/recalls"), "--allow-private", "--events", "recall")
    recv.start(secret)
    make_events(api)
    make_events(api)
    recv.wait_for(2)
    time.sleep(1.0)
    bodies = ids_once_in_order(recv.log(), 2)
    assert [b["type"] for b in bodies] == ["token.recall"] * 2


def test_fail_first_gets_each_event_exactly_twice(factory, receivers):
    api = hook_api(factory)
    recv = receivers()
    _, secret = cli_create(api.db, recv.url("/fail-first/ff"), "--allow-private")
    recv.start(secret)
    make_events(api)
    recv.wait_for(14)
    time.sleep(2.0)  # ten retry bases: a third attempt would have come
    log = recv.log()
    assert all(e["verified"] for e in log), summary(log)
    counts = collections.Counter(e["id"] for e in log)
    assert len(counts) == 7 and set(counts.values()) == {2}, f"want 7 messages twice each, got {dict(counts)}"
    ids = [e["id"] for e in log]
    assert ids[0::2] == ids[1::2], f"a later event was sent before the earlier one was delivered: {ids}"
    for a, b in zip(log[0::2], log[1::2]):
        assert a["body"] == b["body"], "the body changed between attempts"
    assert [e["body"]["type"] for e in log[0::2]] == EVENT_TYPES


def test_redirect_is_not_followed(factory, receivers):
    """A 302 is not a 2xx: the delivery is retried at the same URL, and the
    redirect's target is never asked."""
    api = hook_api(factory)
    recv = receivers()
    hid, secret = cli_create(api.db, recv.url("/redirect/r"), "--allow-private")
    recv.start(secret)
    api.create()
    log = recv.wait_for(3)
    assert {e["path"] for e in log} == {"/redirect/r"}, f"a redirect was followed: {summary(log)}"
    assert len({e["id"] for e in log}) == 1, summary(log)
    d = api.get(f"/api/webhooks/{hid}/deliveries").body["deliveries"][0]
    assert d["state"] == "pending" and d["attempts"][0]["status"] == 302 and d["attempts"][0]["error"], d


def test_receiver_down_then_up(factory, receivers):
    api = hook_api(factory)
    recv = receivers()
    hid, secret = cli_create(api.db, recv.url("/ok/late"), "--allow-private")
    make_events(api)

    def failed_attempts():
        ds = api.get(f"/api/webhooks/{hid}/deliveries").body["deliveries"]
        return ds if ds and len(ds[0]["attempts"]) >= 3 else None

    ds = wait_until(failed_attempts, 10, "three failed attempts while the receiver is down")
    a = ds[0]["attempts"][0]
    assert a["status"] is None and isinstance(a["error"], str) and a["error"], a
    assert all(d["state"] == "pending" for d in ds), ds
    assert all(not d["attempts"] for d in ds[1:]), f"a later delivery was tried before the first: {ds}"
    rows = cli_list(api.db)
    assert rows[0]["state"] == "active", rows
    cd = cli_deliveries(api.db, hid)
    assert cd and cd[0]["state"] == "pending" and int(cd[0]["attempts_n"]) >= 3, [d["line"] for d in cd]
    assert not cd[0]["last_status"].isdigit() and cd[0]["last_error"].strip() not in ("", "-", "ok"), cd[0]["line"]
    assert all(at[2] == "-" or not at[2].isdigit() for at in cd[0]["attempts"]), cd[0]["attempts"]
    time.sleep(1.0)
    recv.start(secret)
    recv.wait_for(7, timeout=30)
    time.sleep(1.0)
    bodies = ids_once_in_order(recv.log(), 7)
    assert [b["type"] for b in bodies] == EVENT_TYPES


def test_kill_9_with_deliveries_pending_loses_none(factory, receivers):
    db = factory.db()
    keys = create_keys(db, ["admin"])
    s1 = factory.server(db=db, env=dict(HOOK_ENV))
    api1 = Api(s1, keys)
    recv = receivers()
    _, secret = cli_create(db, recv.url("/ok/k9"), "--allow-private")
    orders = [api1.create() for _ in range(10)]
    time.sleep(0.5)
    s1.proc.send_signal(signal.SIGKILL)
    s1.proc.wait()
    s2 = factory.server(db=db, env=dict(HOOK_ENV))
    api2 = Api(s2, keys)
    recv.start(secret)
    recv.wait_for(10, timeout=60)
    time.sleep(1.0)
    bodies = ids_once_in_order(recv.log(), 10)
    assert [b["data"]["order_id"] for b in bodies] == [o["id"] for o in orders]
    assert all(b["type"] == "token.pending" for b in bodies)
    o = api2.create()
    log = recv.wait_for(11)
    assert log[-1]["body"]["data"]["order_id"] == o["id"]


def test_two_servers_on_postgres_deliver_each_event_once(factory, receivers):
    if factory.backend != "postgres":
        pytest.skip("several servers share a database only on PostgreSQL")
    db = factory.db()
    keys = create_keys(db, ["admin"])
    s1 = factory.server(db=db, env=dict(HOOK_ENV))
    s2 = factory.server(db=db, env=dict(HOOK_ENV))
    apis = [Api(s1, keys), Api(s2, keys)]
    recv = receivers()
    _, secret = cli_create(db, recv.url("/ok/pg2"), "--allow-private")
    recv.start(secret)
    orders = [apis[i % 2].create() for i in range(50)]
    recv.wait_for(50, timeout=30)
    time.sleep(1.5)
    bodies = ids_once_in_order(recv.log(), 50)
    assert sorted(b["data"]["order_id"] for b in bodies) == sorted(o["id"] for o in orders)


def p99(samples):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


def order_latencies(api, n=200):
    c = http.client.HTTPConnection(api.server.connect_host, api.server.port, timeout=30)
    hdrs = {"Authorization": "Bearer " + api.keys["admin"], "Content-Type": "application/json"}
    body = json.dumps({"queue": "A", "items": [{"name": "Masala tea", "quantity": 1, "unit_price": 150}]})
    out = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            c.request("POST", "/api/orders", body=body, headers=hdrs)
            r = c.getresponse()
            r.read()
            out.append(time.perf_counter() - t0)
            assert r.status == 201, r.status
    finally:
        c.close()
    return out


def test_hanging_endpoint_does_not_slow_orders(factory, receivers):
    api = hook_api(factory)
    order_latencies(api, 20)  # warm up
    plain = p99(order_latencies(api))
    hang = receivers()
    ok = receivers()
    _, hang_secret = cli_create(api.db, hang.url("/hang/h1"), "--allow-private")
    cli_create(api.db, hang.url("/hang/h2"), "--allow-private")
    _, ok_secret = cli_create(api.db, ok.url("/ok/beside"), "--allow-private")
    hang.start(hang_secret)
    ok.start(ok_secret)
    hung = p99(order_latencies(api))
    print(f"p99 of 200 POST /api/orders: {plain * 1000:.1f} ms without webhooks, "
          f"{hung * 1000:.1f} ms with two hanging endpoints")
    assert hung < 3 * plain + 0.050, f"p99 {hung * 1000:.1f} ms with hanging endpoints vs {plain * 1000:.1f} ms without"
    got = hang.log()
    assert {e["path"] for e in got} == {"/hang/h1", "/hang/h2"}, f"the hanging endpoints were not tried: {summary(got)}"
    # an endpoint beside them is not held up: all 200 arrive promptly
    ok.wait_for(200, timeout=20)


def test_revoked_endpoint_gets_nothing_new(factory, receivers):
    api = hook_api(factory)
    gone, kept = receivers(), receivers()
    gid, gsecret = cli_create(api.db, gone.url("/ok/gone"), "--allow-private")
    r = api.post("/api/webhooks", {"url": kept.url("/ok/kept"), "allow_private": True})
    kid, ksecret = r.body["id"], r.body["secret"]
    gone.start(gsecret)
    kept.start(ksecret)
    api.create()
    gone.wait_for(1)
    kept.wait_for(1)
    r = run_cli("webhooks", "revoke", str(gid), db=api.db)
    assert r.returncode == 0, r.stderr
    for _ in range(3):
        api.create()
    kept.wait_for(4)
    time.sleep(1.0)  # ten poll periods
    assert len(gone.log()) == 1, f"a revoked endpoint got more: {summary(gone.log())}"
    assert len(api.get(f"/api/webhooks/{gid}/deliveries").body["deliveries"]) == 1
    # revoked over HTTP as well
    assert api.request("DELETE", f"/api/webhooks/{kid}").status == 200
    api.create()
    time.sleep(1.0)
    assert len(kept.log()) == 4, f"an endpoint revoked over HTTP got more: {summary(kept.log())}"


def test_revoked_while_pending_gets_nothing(factory, receivers):
    """Deliveries waiting for an endpoint (its receiver down) are not sent
    once it is revoked."""
    api = hook_api(factory)
    recv = receivers()
    hid, secret = cli_create(api.db, recv.url("/ok/pending"), "--allow-private")
    api.create()
    api.create()
    wait_until(lambda: api.get(f"/api/webhooks/{hid}/deliveries").body["deliveries"][0]["attempts"], 10,
               "a failed attempt while the receiver is down")
    assert api.request("DELETE", f"/api/webhooks/{hid}").status == 200
    recv.start(secret)
    time.sleep(2.0)  # ten retry bases
    assert recv.log() == [], f"a revoked endpoint got deliveries that were waiting: {summary(recv.log())}"


def sql(db, statement):
    """Runs one statement on the test's database, behind the server's back."""
    if db.backend == "sqlite":
        con = sqlite3.connect(db.url[len("sqlite:"):])
        con.execute(statement)
        con.commit()
        con.close()
    else:
        psql(statement, url=db.url)


def test_name_resolving_to_loopback_is_refused_at_creation(factory):
    api = hook_api(factory)
    for url in ("http://localhost:9/ok/guard", "http://till.localhost./ok/guard"):
        r = cli_create(api.db, url, check=False)
        assert r.returncode == 2, f"{url}: exit {r.returncode}, want 2: {r.stderr}"
        assert len([ln for ln in r.stderr.splitlines() if ln.strip()]) == 1, r.stderr
        assert "loopback" in r.stderr and r.stdout == "", (r.stdout, r.stderr)
    assert cli_list(api.db) == []


def test_name_resolving_to_loopback_is_refused_at_delivery(factory, receivers):
    """The guard is on the address each connection goes to, not only on the
    name when it was created: an endpoint whose name resolves to loopback by
    the time it is delivered to (here: made private-allowed, then the flag
    taken away behind the server's back, as a name that later resolves
    elsewhere would be) is never connected to."""
    api = hook_api(factory)
    recv = receivers()
    url = recv.url("/ok/guard").replace("127.0.0.1", "localhost")
    hid, secret = cli_create(api.db, url, "--allow-private")
    sql(api.db, f"UPDATE webhook_endpoints SET allow_private = 0 WHERE id = {hid}")
    recv.start(secret)
    api.create()
    ds = wait_until(lambda: (api.get(f"/api/webhooks/{hid}/deliveries").body["deliveries"] or [{}])[0].get("attempts"),
                    10, "an attempt at the endpoint")
    time.sleep(0.5)
    assert recv.log() == [], f"a name resolving to loopback was connected to: {summary(recv.log())}"
    assert ds[0]["status"] is None and "loopback" in ds[0]["error"], ds


class Hang:
    """A listener that accepts connections and never answers."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.conns = []
        self.sock.settimeout(0.1)

    def accepted(self):
        try:
            while True:
                self.conns.append(self.sock.accept()[0])
        except (socket.timeout, BlockingIOError):
            pass
        return len(self.conns)

    def close(self):
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.mark.slow
def test_kill_9_in_the_middle_of_an_attempt_sends_it_again(factory, receivers):
    """At least once: a server killed while an attempt waits for its answer
    leaves the delivery to be sent again (after the lease) by the next one. Slow: the lease is 30 s."""
    db = factory.db()
    keys = create_keys(db, ["admin"])
    s1 = factory.server(db=db, env=dict(HOOK_ENV))
    recv = receivers()
    hang = Hang(recv.port)
    try:
        _, secret = cli_create(db, recv.url("/ok/mid"), "--allow-private")
        o = Api(s1, keys).create()
        wait_until(hang.accepted, 10, "the dispatcher connecting to the endpoint")
        s1.proc.send_signal(signal.SIGKILL)
        s1.proc.wait()
    finally:
        hang.close()
    factory.server(db=db, env=dict(HOOK_ENV))
    recv.start(secret)
    log = recv.wait_for(1, timeout=60)
    time.sleep(0.5)
    bodies = ids_once_in_order(recv.log(), 1)
    assert bodies[0]["data"]["order_id"] == o["id"] and log[0]["verified"]


def test_sigterm_with_a_hanging_endpoint_exits_promptly(factory, receivers):
    api = hook_api(factory)
    hang = receivers()
    _, secret = cli_create(api.db, hang.url("/hang/stop"), "--allow-private")
    hang.start(secret)
    api.create()
    hang.wait_for(1)
    t0 = time.monotonic()
    rc = api.server.stop()
    took = time.monotonic() - t0
    assert rc == 0 and took < 3, f"SIGTERM with an attempt in flight: exit {rc} after {took:.1f} s (want 0 within 3 s)"
