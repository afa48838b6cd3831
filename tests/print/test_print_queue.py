"""The server's print queue, against real `tokenq serve` processes (SQLite,
and PostgreSQL when TOKENQ_TEST_PG is set) and fake_printer.py:

- print:true on POST /api/orders queues one job with the order; a ready
  printer receives it as one job whose paper shows the token (double
  size), the items and the total, and whose QR code holds exactly the
  customer page, TOKENQ_PUBLIC_URL + "/t/" + TOKEN (or the listen address
  without it); GET /api/orders/{id} then says print.state "printed".
- A printer out of paper keeps the job queued (last_error paper_out,
  attempts growing); once it is ready the job prints exactly once.
- A printer that never answers slows no order: 30 orders with print:true
  are answered as fast as without, and their jobs stay queued (timeout).
- POST /api/orders/{id}/print queues another print (202); 404 for an
  unknown order, 409 no_printer without a printer.
- Without a printer print:true is 422 (field print) and creates nothing;
  a print member that is not a boolean is 422 too.
- A bad TOKENQ_PRINTER or TOKENQ_PRINT_RETRY_MS stops `tokenq serve` with
  exit status 2 and one sentence naming the setting.
- An Arabic note prints as a GS v 0 image.

The servers retry every 200 ms (TOKENQ_PRINT_RETRY_MS) and every wait is
generous (WAIT seconds): the checks must hold on a loaded 2-core machine.
"""
import datetime as dt
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

import escpos
from fake_printer import FakePrinter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "openapi"))
import checker  # noqa: E402 (the answers are checked against web/openapi.json)
from opskit import (  # noqa: E402,F401 (kind and ops are fixtures)
    BIN, Api, Server, base_env, create_key, kind, one_sentence, ops, tokenq_server)

RETRY_MS = 200
WAIT = 30  # seconds for anything the worker does
PUBLIC = "https://queue.example.test"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
ARABIC = "بدون سكر من فضلك"
ITEMS = [{"name": "Masala tea", "quantity": 2, "unit_price": 150},
         {"name": "Croissant", "quantity": 3, "unit_price": 125}]


@pytest.fixture
def printer(request):
    p = FakePrinter(getattr(request, "param", "ready"))
    yield p
    p.close()


def serve(ops, kind, printer=None, **env):
    """An Api on a new database of this kind, printing to printer (a
    FakePrinter, or None for no printer)."""
    settings = {"TOKENQ_PRINT_RETRY_MS": str(RETRY_MS), "TOKENQ_PUBLIC_URL": PUBLIC}
    if printer is not None:
        settings["TOKENQ_PRINTER"] = printer.address
    settings.update(env)
    return ops.api(ops.db(kind), env={k: v for k, v in settings.items() if v is not None})


def order(api, key="pos", **members):
    """POSTs an order (ITEMS, plus members) and returns (answer, seconds)."""
    body = {"items": ITEMS, **members}
    t0 = time.monotonic()
    r = api.request("POST", "/api/orders", body, key=key)
    return r, time.monotonic() - t0


def create(api, **members):
    r, _ = order(api, **members)
    assert r.status == 201, f"creating an order: {r}"
    return r.body


def print_state(api, order_id):
    r = api.get(f"/api/orders/{order_id}")
    assert r.status == 200, f"GET /api/orders/{order_id}: {r}"
    assert "print" in r.body, f"no print member in the order's detail: {r.body}"
    checker.validate(r.body, {"$ref": "#/components/schemas/OrderDetail"}, "GET /api/orders/{id}")
    return r.body["print"]


def wait_state(api, order_id, ok, what, timeout=WAIT):
    """Polls the order's print state until ok(state); returns it."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = print_state(api, order_id)
        if state is not None and ok(state):
            return state
        time.sleep(0.05)
    raise AssertionError(f"order {order_id}: {what} not within {timeout} s; last print state {state}")


def check_shape(state):
    assert set(state) == {"state", "attempts", "last_error", "queued_at", "printed_at"}, state
    assert state["state"] in ("queued", "printed"), state
    assert isinstance(state["attempts"], int) and state["attempts"] >= 0, state
    assert state["last_error"] in (None, "offline", "paper_out", "timeout"), state
    assert TIMESTAMP.match(state["queued_at"]), state
    if state["state"] == "printed":
        assert state["printed_at"] is not None and TIMESTAMP.match(state["printed_at"]), state
    else:
        assert state["printed_at"] is None, state


def instant(stamp):
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def lines(paper):
    """The printed text lines of escpos.paper(): (text, glyphs)."""
    out = []
    for e in paper:
        if e[0] == "line" and e[2]:
            cells = {col: char for col, char, *_ in e[2]}
            text = "".join(cells.get(c, " ") for c in range(max(cells) + 1)).strip()
            out.append((text, e[2]))
    return out


def money(minor):
    """The total as the ticket may print it: in minor units, or with two
    decimals (a currency with cents)."""
    return (str(minor), "%d.%02d" % divmod(minor, 100))


def assert_ticket(job, o, qr_url):
    paper = escpos.paper(job)
    text = lines(paper)
    tok = [g for t, g in text if t.replace(" ", "") == o["token"]]
    assert tok, f"no line with the token {o['token']}:\n" + "\n".join(map(escpos.describe, paper))
    assert all(w == 2 and h == 2 for *_, w, h, _f in tok[0]), f"token not in double size: {tok[0]}"
    joined = "\n".join(t for t, _ in text)
    for it in ITEMS:
        assert re.search(r"%d\s*x\s*%s" % (it["quantity"], re.escape(it["name"])), joined), (
            f"item {it['name']} missing:\n{joined}")
    total = [t for t, _ in text if t.startswith("TOTAL")]
    assert total and total[0].split()[-1] in money(o["total"]), f"total line {total}:\n{joined}"
    assert escpos.qr_payload(escpos.split(job)) == qr_url.encode()
    assert [e[0] for e in paper].count("qr") == 1
    assert paper[-1][0] == "cut"
    return paper


# ---------------------------------------------------------------- a ready printer


def test_order_with_print_prints_once(ops, kind, printer):
    api = serve(ops, kind, printer)
    o = create(api, **{"print": True})
    jobs = printer.wait_jobs(1, timeout=WAIT)
    assert len(jobs) == 1, "no job reached the printer"
    assert_ticket(jobs[0], o, f"{PUBLIC}/t/{o['token']}")
    st = wait_state(api, o["id"], lambda s: s["state"] == "printed", "state printed")
    check_shape(st)
    assert st["attempts"] == 1 and st["last_error"] is None, st
    assert instant(st["printed_at"]) >= instant(st["queued_at"]), st
    assert printer.queries[:2] == [1, 4]  # the status asked before the job
    time.sleep(5 * RETRY_MS / 1000)
    assert len(printer.jobs) == 1, "the job printed again"
    assert print_state(api, o["id"]) == st


def test_qr_without_public_url_is_the_listen_address(ops, printer):
    db = ops.db("sqlite")
    keys = {"pos": create_key(db, "pos", "pos-key"), "admin": create_key(db, "admin", "admin-key")}
    s = Server(db, ops.tmpdir, env={"TOKENQ_PRINTER": printer.address,
                                    "TOKENQ_PRINT_RETRY_MS": str(RETRY_MS)})
    ops.servers.append(s)
    s.start()
    api = Api(s, keys)
    o = create(api, **{"print": True})
    jobs = printer.wait_jobs(1, timeout=WAIT)
    assert len(jobs) == 1
    assert escpos.qr_payload(escpos.split(jobs[0])) == f"http://127.0.0.1:{s.port}/t/{o['token']}".encode()


def test_order_without_print_prints_nothing(ops, kind, printer):
    api = serve(ops, kind, printer)
    a = create(api)
    b = create(api, **{"print": False})
    time.sleep(5 * RETRY_MS / 1000)
    assert printer.jobs == []
    assert print_state(api, a["id"]) is None
    assert print_state(api, b["id"]) is None


def test_print_not_a_boolean_is_422(ops, printer):
    api = serve(ops, "sqlite", printer)
    for value in ("yes", "true", 1, 0, None, [], {}):
        r, _ = order(api, **{"print": value})
        assert r.status == 422, (value, r)
        assert r.body.get("code") == "invalid_field" and r.body.get("field") == "print", (value, r.body)
    assert api.list_all() == []
    assert printer.jobs == []


# ---------------------------------------------------------------- a printer away


@pytest.mark.parametrize("printer", ["paper_out"], indirect=True)
def test_paper_out_keeps_the_job_until_ready(ops, kind, printer):
    api = serve(ops, kind, printer)
    o = create(api, **{"print": True})
    st = wait_state(api, o["id"], lambda s: s["attempts"] >= 2, "two attempts")
    check_shape(st)
    assert st["state"] == "queued" and st["last_error"] == "paper_out", st
    seen = wait_state(api, o["id"], lambda s: s["attempts"] > st["attempts"], "attempts growing")
    assert seen["state"] == "queued" and seen["last_error"] == "paper_out", seen
    assert printer.jobs == [], "a job was sent to a printer without paper"

    printer.mode = "ready"
    jobs = printer.wait_jobs(1, timeout=WAIT)
    assert len(jobs) == 1, "no job once the paper was back"
    assert_ticket(jobs[0], o, f"{PUBLIC}/t/{o['token']}")
    done = wait_state(api, o["id"], lambda s: s["state"] == "printed", "state printed")
    check_shape(done)
    assert done["attempts"] > seen["attempts"], done
    time.sleep(10 * RETRY_MS / 1000)
    assert len(printer.jobs) == 1, "the job printed twice"
    assert print_state(api, o["id"])["state"] == "printed"


@pytest.mark.parametrize("printer", ["silent"], indirect=True)
def test_silent_printer_slows_no_order(ops, kind, printer):
    api = serve(ops, kind, printer)
    n = 30
    plain = [order(api) for _ in range(n)]
    printed = [order(api, **{"print": True}) for _ in range(n)]
    for r, _ in plain + printed:
        assert r.status == 201, r
    base = statistics.median(t for _, t in plain)
    times = sorted(t for _, t in printed)
    # A creation that waited for the printer would take the transport's
    # bound (seconds); the margins are for a loaded machine.
    assert times[-1] < 2.0, f"slowest order with print:true took {times[-1]:.3f} s"
    assert statistics.median(times) < max(0.3, 3 * base), (
        f"median {statistics.median(times):.3f} s with print:true, {base:.3f} s without")

    ids = [r.body["id"] for r, _ in printed]
    first = wait_state(api, ids[0], lambda s: s["last_error"] == "timeout", "last_error timeout")
    check_shape(first)
    assert first["state"] == "queued" and first["attempts"] >= 1, first
    for i in ids:
        st = print_state(api, i)
        check_shape(st)
        assert st["state"] == "queued" and st["printed_at"] is None, (i, st)
        assert st["last_error"] in (None, "timeout"), (i, st)
    for r, _ in plain:
        assert print_state(api, r.body["id"]) is None
    assert printer.jobs == []


# ---------------------------------------------------------------- printing again


def test_print_route_queues_another_print(ops, kind, printer):
    api = serve(ops, kind, printer)
    o = create(api, **{"print": True})
    assert len(printer.wait_jobs(1, timeout=WAIT)) == 1
    wait_state(api, o["id"], lambda s: s["state"] == "printed", "first print")

    r = api.request("POST", f"/api/orders/{o['id']}/print", key="staff")
    assert r.status == 202, r
    checker.validate(r.body, {"$ref": "#/components/schemas/PrintResult"}, "POST .../print")
    check_shape(r.body["print"])
    jobs = printer.wait_jobs(2, timeout=WAIT)
    assert len(jobs) == 2, "the second print did not arrive"
    assert_ticket(jobs[1], o, f"{PUBLIC}/t/{o['token']}")
    st = wait_state(api, o["id"], lambda s: s["state"] == "printed", "second print")
    assert st["queued_at"] == r.body["print"]["queued_at"], "the detail does not show the latest job"

    # An order never printed, printed on demand, by each role that may.
    plain = create(api)
    assert print_state(api, plain["id"]) is None
    for n, role in enumerate(("pos", "admin"), start=3):
        r = api.request("POST", f"/api/orders/{plain['id']}/print", key=role)
        assert r.status == 202, (role, r)
        assert len(printer.wait_jobs(n, timeout=WAIT)) == n, f"print by {role} did not arrive"
    wait_state(api, plain["id"], lambda s: s["state"] == "printed", "printed on demand")

    r = api.request("POST", "/api/orders/999999/print", key="pos")
    assert r.status == 404 and r.body.get("code") == "not_found", r
    r = api.request("POST", f"/api/orders/{o['id']}/print", key="")
    assert r.status == 401, r
    time.sleep(5 * RETRY_MS / 1000)
    assert len(printer.jobs) == 4


# ---------------------------------------------------------------- no printer


def test_without_a_printer(ops, kind):
    api = serve(ops, kind, None)
    r, _ = order(api, **{"print": True})
    assert r.status == 422, r
    assert r.headers.get("content-type", "").startswith("application/problem+json"), r
    assert r.body.get("code") == "invalid_field" and r.body.get("field") == "print", r.body
    assert "TOKENQ_PRINTER" in r.body.get("detail", ""), r.body
    assert api.list_all() == [], "print:true without a printer created an order"

    r, _ = order(api, **{"print": "yes"})
    assert r.status == 422 and r.body.get("field") == "print", r
    assert api.list_all() == []

    o = create(api, **{"print": False})
    assert print_state(api, o["id"]) is None
    r = api.request("POST", f"/api/orders/{o['id']}/print", key="staff")
    assert r.status == 409 and r.body.get("code") == "no_printer", r
    assert print_state(api, o["id"]) is None
    assert [x["id"] for x in api.list_all()] == [o["id"]]


# ---------------------------------------------------------------- bad settings


@pytest.mark.parametrize("name,value", [
    ("TOKENQ_PRINTER", "lpt1"),
    ("TOKENQ_PRINTER", "tcp://host"),
    ("TOKENQ_PRINTER", "tcp://:9100"),
    ("TOKENQ_PRINTER", "tcp://127.0.0.1:0"),
    ("TOKENQ_PRINTER", "tcp://127.0.0.1:65536"),
    ("TOKENQ_PRINTER", "tcp://127.0.0.1:91x0"),
    ("TOKENQ_PRINTER", "http://x:9100"),
    ("TOKENQ_PRINTER", "dev/usb/lp0"),
    ("TOKENQ_PRINT_RETRY_MS", "9"),
    ("TOKENQ_PRINT_RETRY_MS", "60001"),
    ("TOKENQ_PRINT_RETRY_MS", "0"),
    ("TOKENQ_PRINT_RETRY_MS", "-200"),
    ("TOKENQ_PRINT_RETRY_MS", "2s"),
    ("TOKENQ_PRINT_RETRY_MS", "abc"),
])
def test_bad_setting_stops_serve(tmp_path, name, value):
    env = {"TOKENQ_PRINTER": "tcp://127.0.0.1:9100", name: value}
    argv = [BIN, "serve", "--listen", f"127.0.0.1:{tokenq_server.free_port()}",
            "--database", f"sqlite:{tmp_path / 'bad.db'}"]
    r = subprocess.run(argv, env=base_env(env), capture_output=True, text=True, timeout=10,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert name in one_sentence(r.stderr), r.stderr


def test_good_settings_start(ops):
    """The ends of the retry range, and a device path, are accepted."""
    for env in ({"TOKENQ_PRINTER": "tcp://127.0.0.1:9", "TOKENQ_PRINT_RETRY_MS": "10"},
                {"TOKENQ_PRINTER": "tcp://localhost:9100", "TOKENQ_PRINT_RETRY_MS": "60000"},
                {"TOKENQ_PRINTER": "tcp://[::1]:9100"},
                {"TOKENQ_PRINTER": "/dev/null"}):
        ops.server(ops.db("sqlite"), env=env)


# ---------------------------------------------------------------- other scripts


def test_arabic_note_prints_as_an_image(ops, kind, printer):
    api = serve(ops, kind, printer)
    o = create(api, note=ARABIC, **{"print": True})
    jobs = printer.wait_jobs(1, timeout=WAIT)
    assert len(jobs) == 1
    images = escpos.rasters(escpos.split(jobs[0]))
    assert images, "the Arabic note is not a GS v 0 image"
    assert any(any(row) for _, _, rows in images for row in rows), "the image has no ink"
    paper = assert_ticket(jobs[0], o, f"{PUBLIC}/t/{o['token']}")
    assert not any(c[1] == "?" for _, glyphs in lines(paper) for c in glyphs), "a ? was printed"
