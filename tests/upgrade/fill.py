"""Fills one database with the data of an upgrade fixture, through the HTTP
API and the CLI of the release that made it, and writes what the upgrade
test needs to know about it as JSON (tests/upgrade/make-fixtures.sh runs
this once per backend).

  python3 tests/upgrade/fill.py --bin RELEASE/build/tokenq --database URL \
      --fake-printer RELEASE/tests/print/fake_printer.py --out DATA.json

The database must be empty: the release's `tokenq serve --migrate` makes
its schema. The server runs with the settings of SETTINGS below and a fake
receipt printer and webhook receiver on loopback; it is stopped (SIGTERM)
before this exits, so the database is left at rest.

Standard library only: this runs against an old release, not against the
tree it lives in.
"""

import argparse
import http.client
import http.server
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time

# The settings the fixture was made with; the test serves it with the same.
SETTINGS = {
    "TOKENQ_QUEUES": "A=Orders,B=Drinks",
    "TOKENQ_TIMEZONE": "Asia/Kolkata",
    "TOKENQ_DAY_START": "04:00",
}

TEA = {"name": "Masala tea", "quantity": 2, "unit_price": 150}
DOSA = {"name": "Masala dosa", "quantity": 1, "unit_price": 900}
COFFEE = {"name": "Filter coffee", "quantity": 3, "unit_price": 120}
JUICE = {"name": "Mosambi juice", "quantity": 1, "unit_price": 600}

# Each order: a name, the body sent (bytes, as the Idempotency-Key hash
# covers them), the key it is created with, its Idempotency-Key, and the
# steps after it is created ("PREPARING", ..., or "recall"). Pauses between
# steps give the stats' preparation times something to measure.
ORDERS = [
    ("a_pending", {"queue": "A", "items": [TEA], "note": "less sugar"}, "pos",
     "fixture-order-a-pending", []),
    ("a_preparing", {"queue": "A", "items": [DOSA, TEA]}, "pos", None, ["PREPARING"]),
    ("a_ready", {"queue": "A", "items": [DOSA], "note": "no onion"}, "admin", None,
     ["PREPARING", "pause", "READY", "recall"]),
    ("a_completed", {"queue": "A", "items": [TEA, DOSA], "total": 1200}, "pos", None,
     ["pause", "READY", "recall", "recall", "COMPLETED"]),
    ("a_cancelled", {"queue": "A", "items": [TEA]}, "pos", None, ["CANCELLED"]),
    ("b_pending", {"queue": "B", "items": [COFFEE], "note": "extra hot \u2615 \u091a\u093e\u092f",
                   "print": True}, "pos", "fixture-order-b-printed", []),
    ("b_ready", {"queue": "B", "items": [JUICE, COFFEE]}, "pos", "fixture-order-b-ready",
     ["PREPARING", "pause", "pause", "READY"]),
    ("b_completed", {"queue": "B", "items": [JUICE]}, "pos", None,
     ["READY", "COMPLETED"]),
    ("b_cancelled", {"queue": "B", "items": [COFFEE], "note": "changed their mind"}, "pos",
     None, ["PREPARING", "CANCELLED"]),
]

KEYS = [  # name, role, label, revoked
    ("admin", "admin", "fixture admin", False),
    ("pos", "pos", "fixture till", False),
    ("staff", "staff", "fixture kitchen", False),
    ("revoked", "staff", "fixture old tablet", True),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver that takes every delivery (204)."""

    received = []

    def do_POST(self):  # noqa: N802 (the name http.server calls)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class Client:
    def __init__(self, port, keys):
        self.port = port
        self.keys = keys

    def request(self, method, path, body=None, key="admin", headers=None):
        hdrs = {"Authorization": "Bearer " + self.keys[key]} if key else {}
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, path, body=body, headers=hdrs)
            r = c.getresponse()
            raw = r.read()
            hdr = {k.lower(): v for k, v in r.getheaders()}
            data = json.loads(raw) if "json" in hdr.get("content-type", "") else raw
            return r.status, hdr, data
        finally:
            c.close()

    def ok(self, method, path, body=None, key="admin", headers=None, want=200):
        status, hdr, data = self.request(method, path, body, key, headers)
        if status != want:
            sys.exit(f"fill.py: {method} {path} answered {status}, not {want}: {data!r}")
        return hdr, data

    def events(self, after, until):
        """The events the stream replays after id `after`, up to id `until`:
        [{"id", "event", "data"}]."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", "/api/events", headers={"Last-Event-ID": str(after)})
        r = c.getresponse()
        out, cur = [], {}
        while not out or out[-1]["id"] < until:
            line = r.fp.readline().decode().rstrip("\n")
            if line == "":
                if "data" in cur:
                    out.append({"id": int(cur["id"]), "event": cur["event"],
                                "data": json.loads(cur["data"])})
                cur = {}
            elif not line.startswith(":") and ":" in line:
                k, v = line.split(":", 1)
                cur[k] = v[1:] if v.startswith(" ") else v
        c.close()
        return out


def cli(binary, database, *args):
    r = subprocess.run([binary, *args, "--database", database], capture_output=True,
                       text=True, timeout=60, env=environment({}))
    if r.returncode != 0:
        sys.exit(f"fill.py: tokenq {' '.join(args)} exited {r.returncode}: {r.stderr}")
    return r


def environment(extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TOKENQ_") and k not in ("DATABASE_URL", "TZ")}
    env.update(SETTINGS)
    env.update(extra)
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--database", required=True)
    ap.add_argument("--fake-printer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", default=os.devnull)
    a = ap.parse_args()

    spec = importlib.util.spec_from_file_location("fake_printer", a.fake_printer)
    fake_printer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake_printer)
    printer = fake_printer.FakePrinter("ready")
    hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()

    port = free_port()
    log = open(a.log, "ab")
    server = subprocess.Popen(
        [a.bin, "serve", "--migrate", "--listen", f"127.0.0.1:{port}", "--database", a.database],
        env=environment({"TOKENQ_PRINTER": printer.address}), stdin=subprocess.DEVNULL,
        stdout=log, stderr=log)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if server.poll() is not None:
                sys.exit(f"fill.py: tokenq serve exited {server.returncode}; see {a.log}")
            time.sleep(0.05)

    # Keys and the webhook endpoint through the CLI, while the server runs.
    keys, key_rows = {}, {}
    for name, role, label, revoked in KEYS:
        r = cli(a.bin, a.database, "keys", "create", "--role", role, "--label", label)
        keys[name] = r.stdout.splitlines()[0].strip()
        key_id = int(r.stderr.split("created key ", 1)[1].split()[0])
        if revoked:
            cli(a.bin, a.database, "keys", "revoke", str(key_id))
        key_rows[name] = {"id": key_id, "role": role, "label": label, "revoked": revoked,
                          "secret": keys[name]}
    hook_url = f"http://127.0.0.1:{hooks.server_address[1]}/tokenq"
    r = cli(a.bin, a.database, "webhooks", "create", hook_url, "--events", "token,recall",
            "--allow-private")
    hook_list = cli(a.bin, a.database, "webhooks", "list").stdout.splitlines()
    hook_id = int(hook_list[0].split("\t")[0])

    api = Client(port, keys)
    orders, idem = {}, []
    for name, body, key, idem_key, steps in ORDERS:
        raw = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Idempotency-Key": idem_key} if idem_key else {}
        _, order = api.ok("POST", "/api/orders", raw, key=key, headers=headers, want=201)
        if idem_key:
            # A retry replays; the upgraded server must do the same.
            hdr, again = api.ok("POST", "/api/orders", raw, key=key, headers=headers)
            assert hdr.get("idempotent-replayed") == "true" and again["id"] == order["id"], hdr
            idem.append({"key": idem_key, "body": raw.decode(), "order": name,
                         "order_id": order["id"], "role": key})
        for step in steps:
            if step == "pause":
                time.sleep(1.1)
            elif step == "recall":
                api.ok("POST", f"/api/orders/{order['id']}/recall", key="staff")
            else:
                api.ok("PATCH", f"/api/orders/{order['id']}",
                       json.dumps({"status": step}).encode(), key="staff")
        orders[name] = order["id"]

    # The printed ticket and the webhook deliveries, before the server stops.
    printed = next(i for n, i in orders.items() if n == "b_pending")
    for _ in range(200):
        _, d = api.ok("GET", f"/api/orders/{printed}", key="staff")
        if d.get("print", {}).get("state") == "printed":
            break
        time.sleep(0.05)
    else:
        sys.exit(f"fill.py: the ticket of order {printed} was not printed: {d.get('print')}")

    details = {}
    for name, oid in orders.items():
        _, details[name] = api.ok("GET", f"/api/orders/{oid}", key="staff")
    date = details["a_pending"]["business_date"]
    assert all(d["business_date"] == date for d in details.values()), "a day boundary passed"
    last_event = max(e["event_id"] for d in details.values() for e in d["history"])
    n_events = sum(len(d["history"]) for d in details.values())
    for _ in range(200):
        if len(Receiver.received) >= n_events:
            break
        time.sleep(0.05)

    _, listed = api.ok("GET", f"/api/orders?date={date}&limit=500", key="pos")
    tokens = {}
    for d in details.values():
        _, tokens[d["token"]] = api.ok("GET", f"/api/tokens/{d['token']}?date={date}", key=None)
    stats = {}
    for q in ("", "A", "B"):
        _, stats[q or "all"] = api.ok(
            "GET", f"/api/stats?date={date}" + (f"&queue={q}" if q else ""), key="staff")
    _, hooks_http = api.ok("GET", "/api/webhooks", key="admin")
    events = api.events(0, last_event)

    server.terminate()
    rc = server.wait(30)
    if rc != 0:
        sys.exit(f"fill.py: tokenq serve exited {rc} after SIGTERM; see {a.log}")
    hooks.shutdown()
    printer.close()

    data = {
        "business_date": date,
        "keys": key_rows,
        "orders": {name: details[name] for name in orders},
        "order_list": listed,
        "tokens": tokens,
        "idempotency": idem,
        "last_event_id": last_event,
        "events": events,
        "stats": stats,
        "webhooks": {"id": hook_id, "url": hook_url, "events": "token,recall",
                     "cli_list": hook_list, "http_list": hooks_http,
                     "deliveries_received": len(Receiver.received)},
        "print": {"order": "b_pending", "order_id": printed,
                  "jobs_printed": len(printer.jobs)},
    }
    with open(a.out, "w") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
