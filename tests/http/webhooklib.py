"""What the webhook suites share (test_webhooks.py: the endpoints through
the CLI and HTTP; test_webhook_delivery.py: what receivers get): a receiver
in Node (tests/hooks/receiver.js) that verifies every delivery with the
Standard Webhooks library, and helpers to make endpoints and events.

The servers run with a short retry base and poll so that retries happen
within a test: TOKENQ_WEBHOOK_RETRY_BASE_MS=200 and TOKENQ_WEBHOOK_POLL_MS=100.
"""

import collections
import http.client
import json
import re
import shutil
import subprocess
import time

import pytest

from conftest import REPO, TIMESTAMP_RE, free_port, read_stream, run_cli

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
