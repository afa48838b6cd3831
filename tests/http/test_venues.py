"""Venues, as their users see them, on both backends: made, read, changed
and deleted over HTTP (/api/venues) and with `tokenq venues` against the
database of a running server, which sees each change on its next request;
a bad setting refused naming it and changing nothing; keys of one venue and
keys of every venue; numbering, business day and queues per venue; and the
environment's settings for the venue main at serve start."""

import base64
import datetime as dt
import time
import zoneinfo

import pytest

from conftest import Api, assert_problem, order_body, run_cli

PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
       "hgGAWjR9awAAAABJRU5ErkJggg==")


def one_sentence(stderr):
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"want one sentence on stderr, got:\n{stderr}"
    return lines[0]


def venues(api):
    r = api.get("/api/venues", key="")
    assert r.status == 200, r
    return r.body["venues"]


def venue(api, slug):
    r = api.get(f"/api/venues/{slug}", key="")
    assert r.status == 200, r
    return r.body


def make(api, slug, **settings):
    r = api.post("/api/venues", dict({"slug": slug, "name": slug.title()}, **settings))
    assert r.status == 201, r
    return r.body


def cli(api, *args):
    """Runs tokenq ARGS on the server's database. A change a command makes is
    seen by the running server: on SQLite on its very next request (it reads
    the settings version row); on PostgreSQL as soon as it hears NOTIFY
    tokenq_settings, within milliseconds, so there the check waits up to 2 s
    for the answer to change."""
    changes = args[:1] == ("venues",) and args[1:2] != ("list",)
    before = api.get("/api/venues", key="").raw if changes else None
    r = run_cli(*args, db=api.db)
    if changes and r.returncode == 0:
        deadline = time.monotonic() + (2.0 if api.db.kind != "sqlite" else 0.0)
        while True:
            now = api.get("/api/venues", key="").raw
            if now != before or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        assert now != before, f"the running server did not see `tokenq {' '.join(args)}`"
    return r


def venue_key(api, slug, role="admin"):
    r = cli(api, "keys", "create", "--role", role, "--venue", slug, "--label", f"{role}-of-{slug}")
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()[0].strip()


# ---------------------------------------------------------------- over HTTP


def test_http_create_list_get_patch_delete(api):
    body = {"slug": "mg-road", "name": "MG Road", "timezone": "Asia/Kolkata", "day_start": "04:00",
            "queues": "A=Food,B=Drinks", "digits": 4, "language": "en-IN", "currency": "INR",
            "accent": "#0a7d5a", "logo": PNG}
    r = api.post("/api/venues", body)
    assert r.status == 201 and r.headers["location"] == "/api/venues/mg-road", r
    want = {"slug": "mg-road", "name": "MG Road", "timezone": "Asia/Kolkata", "day_start": "04:00",
            "queues": [{"prefix": "A", "name": "Food"}, {"prefix": "B", "name": "Drinks"}], "digits": 4,
            "counters": [], "language": "en-IN", "currency": "INR", "accent": "#0a7d5a",
            "logo": "/v/mg-road/logo"}
    assert r.body == want
    assert venue(api, "mg-road") == want
    assert [v["slug"] for v in venues(api)][0] == "main"
    assert want in venues(api)
    logo = api.get("/v/mg-road/logo", key="")
    assert logo.status == 200 and logo.headers["content-type"] == "image/png"
    assert logo.raw.startswith(b"\x89PNG")
    # Its routes work at once, under its prefix, with its own queues.
    o = api.post("/v/mg-road/api/orders", order_body("B"))
    assert o.status == 201 and o.body["token"] == "B-0001", o
    assert api.get("/v/mg-road/api/queues", key="").body["queues"] == want["queues"]

    # A change of some settings leaves the others.
    r = api.patch("/api/venues/mg-road", {"name": "MG Road upstairs", "queues": [{"prefix": "A", "name": "Food"},
                                                                                  {"prefix": "B", "name": "Bar"}],
                                          "accent": None, "language": None, "logo": None})
    assert r.status == 200, r
    changed = dict(want, name="MG Road upstairs", queues=[{"prefix": "A", "name": "Food"},
                                                          {"prefix": "B", "name": "Bar"}],
                   accent=None, language=None, logo=None)
    assert r.body == changed and venue(api, "mg-road") == changed
    assert_problem(api.get("/v/mg-road/logo", key=""), 404, "not_found")

    # Deleting: a venue without orders goes; its prefix is unknown from then on.
    make(api, "pop-up")
    r = api.request("DELETE", "/api/venues/pop-up")
    assert r.status == 204 and r.raw == b"", r
    assert_problem(api.get("/api/venues/pop-up", key=""), 404, "unknown_venue")
    assert_problem(api.get("/v/pop-up/api/board", key=""), 404, "unknown_venue")
    assert "pop-up" not in [v["slug"] for v in venues(api)]
    assert_problem(api.request("DELETE", "/api/venues/pop-up"), 404, "unknown_venue")
    assert_problem(api.patch("/api/venues/pop-up", {"name": "x"}), 404, "unknown_venue")


def test_defaults_of_a_new_venue(api):
    v = make(api, "plain")
    assert v == {"slug": "plain", "name": "Plain", "timezone": v["timezone"], "day_start": "00:00",
                 "queues": [{"prefix": "A", "name": "Orders"}], "digits": 3, "counters": [],
                 "language": None, "currency": "USD", "accent": None, "logo": None}
    assert v["timezone"]


# ---------------------------------------------------------------- with the CLI, while the server runs


def test_cli_create_set_list_delete_seen_by_the_running_server(api):
    r = cli(api, "venues", "create", "harbour", "--name", "Harbour", "--timezone", "Asia/Kolkata",
            "--day-start", "05:30", "--queues", "A=Food,C=Coffee", "--digits", "2", "--language", "hi",
            "--currency", "INR", "--accent", "#112233")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\t")[0] == "harbour"
    # The running server sees it on its next request: no restart.
    v = venue(api, "harbour")
    assert v == {"slug": "harbour", "name": "Harbour", "timezone": "Asia/Kolkata", "day_start": "05:30",
                 "queues": [{"prefix": "A", "name": "Food"}, {"prefix": "C", "name": "Coffee"}], "digits": 2,
                 "counters": [], "language": "hi", "currency": "INR", "accent": "#112233", "logo": None}
    o = api.post("/v/harbour/api/orders", order_body("C"))
    assert o.status == 201 and o.body["token"] == "C-01", o

    r = cli(api, "venues", "list")
    assert r.returncode == 0, r.stderr
    rows = {ln.split("\t")[0]: ln.split("\t") for ln in r.stdout.splitlines()}
    assert "main" in rows
    assert rows["harbour"][:8] == ["harbour", "Harbour", "Asia/Kolkata", "05:30", "A=Food,C=Coffee", "2", "hi",
                                   "INR"]

    path = api.server.log_path.parent / "harbour-logo.png"
    path.write_bytes(base64.b64decode(PNG.split(",", 1)[1]))
    r = cli(api, "venues", "set", "harbour", "--name", "Harbour Front", "--queues", "A=Food", "--logo", str(path),
            "--language", "")
    assert r.returncode == 0, r.stderr
    v = venue(api, "harbour")
    assert (v["name"], v["queues"], v["language"], v["logo"]) == ("Harbour Front", [{"prefix": "A", "name": "Food"}],
                                                                  None, "/v/harbour/logo"), v
    got = api.get("/v/harbour/logo", key="")
    assert got.status == 200 and got.raw == path.read_bytes()

    r = cli(api, "venues", "create", "kiosk", "--name", "Kiosk")
    assert r.returncode == 0, r.stderr
    assert venue(api, "kiosk")["name"] == "Kiosk"
    r = cli(api, "venues", "delete", "kiosk")
    assert r.returncode == 0, r.stderr
    assert_problem(api.get("/api/venues/kiosk", key=""), 404, "unknown_venue")
    assert_problem(api.get("/v/kiosk/api/board", key=""), 404, "unknown_venue")


# ---------------------------------------------------------------- bad settings


BAD = [
    ("name", ""), ("name", "   "), ("name", "n" * 81), ("name", 7),
    ("timezone", "Not/AZone"), ("timezone", ""), ("timezone", "../../etc/passwd"),
    ("day_start", "24:00"), ("day_start", "7:00"), ("day_start", "12:60"), ("day_start", 4),
    ("queues", "a=x"), ("queues", "A=x,A=y"), ("queues", "ABCD=x"), ("queues", []), ("queues", [{"prefix": "A"}]),
    ("queues", "A=" + "n" * 41), ("queues", 3),
    ("digits", 0), ("digits", 10), ("digits", "3"), ("digits", 2.5),
    ("language", "x"), ("language", "english!"), ("language", 5),
    ("currency", "US"), ("currency", "DOLLARS"), ("currency", None),
    ("accent", "red"), ("accent", "#12345"), ("accent", "#gggggg"),
    ("logo", "http://example.com/logo.png"), ("logo", "data:image/png;base64,"),
    ("logo", "data:image/gif;base64,R0lGODlhAQABAAAAACw="), ("logo", "data:image/png;base64,!!!!"),
]


@pytest.fixture(scope="module")
def target(api):
    """A venue the bad settings are tried on."""
    return make(api, "target", queues="A=Food,B=Drinks", accent="#000000", language="en")


@pytest.mark.parametrize("member,value", BAD, ids=[f"{m}={str(v)[:16]}" for m, v in BAD])
def test_bad_setting_is_422_naming_it_and_changes_nothing(api, target, member, value):
    before = venues(api)
    r = api.patch("/api/venues/target", {member: value})
    assert_problem(r, 422, "invalid_field", member)
    r = api.post("/api/venues", {"slug": "never", "name": "Never", member: value})
    assert_problem(r, 422, "invalid_field", member)
    assert venues(api) == before


@pytest.mark.parametrize("body,code,field", [
    ({"colour": "red"}, "unknown_field", "colour"),
    ({"name": "Fine", "colour": "red"}, "unknown_field", "colour"),
    ({"slug": "other"}, "invalid_field", "slug"),
    ({"slug": "target"}, "invalid_field", "slug"),
])
def test_patch_refusals(api, target, body, code, field):
    before = venues(api)
    assert_problem(api.patch("/api/venues/target", body), 422, code, field)
    assert venues(api) == before


@pytest.mark.parametrize("body,field", [
    ({"name": "No slug"}, "slug"), ({"slug": "Upper", "name": "x"}, "slug"), ({"slug": "9lives", "name": "x"}, "slug"),
    ({"slug": "a_b", "name": "x"}, "slug"), ({"slug": "x" * 33, "name": "x"}, "slug"), ({"slug": "no-name"}, "name"),
    ({"slug": "fine", "name": "Fine", "counters": []}, "counters"),
])
def test_post_refusals(api, body, field):
    before = venues(api)
    r = api.post("/api/venues", body)
    assert r.status == 422 and r.body["field"] == field, r
    assert venues(api) == before


CLI_BAD = [
    ("--name", ""), ("--timezone", "Not/AZone"), ("--day-start", "24:00"), ("--day-start", "7:00"),
    ("--queues", "a=x"), ("--queues", "A=x,A=y"), ("--digits", "0"), ("--digits", "10"), ("--digits", "x"),
    ("--language", "english!"), ("--currency", "US"), ("--accent", "red"), ("--logo", "/nonexistent/logo.png"),
    ("--logo", "logo.gif"),
]


@pytest.mark.parametrize("flag,value", CLI_BAD, ids=[f"{f}={v}" for f, v in CLI_BAD])
def test_cli_bad_setting_exits_2_and_changes_nothing(api, target, flag, value):
    before = venues(api)
    r = cli(api, "venues", "set", "target", flag, value)
    assert r.returncode == 2, f"{flag} {value!r}: exit {r.returncode}, {r.stderr!r}"
    line = one_sentence(r.stderr)
    assert flag.lstrip("-") in line, f"the message does not name {flag}: {line!r}"
    r = cli(api, "venues", "create", "never", "--name", "Never", flag, value) if flag != "--name" else \
        cli(api, "venues", "create", "never", "--name", value)
    assert r.returncode == 2, f"create {flag} {value!r}: exit {r.returncode}, {r.stderr!r}"
    assert flag.lstrip("-") in one_sentence(r.stderr)
    assert venues(api) == before


def test_existing_slug_is_409(api):
    make(api, "twice")
    before = venues(api)
    assert_problem(api.post("/api/venues", {"slug": "twice", "name": "Again"}), 409, "venue_exists", "slug")
    assert_problem(api.post("/api/venues", {"slug": "main", "name": "Again"}), 409, "venue_exists", "slug")
    r = cli(api, "venues", "create", "twice", "--name", "Again")
    assert r.returncode == 1, f"exit {r.returncode}: {r.stderr}"
    assert "twice" in one_sentence(r.stderr)
    assert venues(api) == before


def test_a_venue_with_orders_and_main_are_not_deleted(api):
    make(api, "busy")
    assert api.post("/v/busy/api/orders", order_body("A")).status == 201
    before = venues(api)
    assert_problem(api.request("DELETE", "/api/venues/busy"), 409, "venue_has_orders")
    r = cli(api, "venues", "delete", "busy")
    assert r.returncode == 1, f"exit {r.returncode}: {r.stderr}"
    one_sentence(r.stderr)
    assert_problem(api.request("DELETE", "/api/venues/main"), 409, "venue_is_main")
    r = cli(api, "venues", "delete", "main")
    assert r.returncode == 1, f"exit {r.returncode}: {r.stderr}"
    one_sentence(r.stderr)
    assert venues(api) == before
    assert api.post("/v/busy/api/orders", order_body("A")).status == 201


# ---------------------------------------------------------------- keys


def test_keys_of_one_venue_and_of_every_venue(api):
    make(api, "ka")
    make(api, "kb")
    a_admin, a_staff = venue_key(api, "ka"), venue_key(api, "ka", "staff")
    b_admin = venue_key(api, "kb")
    # A key of ka works under /v/ka...
    o = api.post("/v/ka/api/orders", order_body("A"), key=a_admin)
    assert o.status == 201, o
    assert api.get("/v/ka/api/orders", key=a_staff).status == 200
    assert api.patch(f"/v/ka/api/orders/{o.body['id']}", {"status": "READY"}, key=a_staff).status == 200
    assert api.get("/v/ka/api/stats", key=a_admin).status == 200
    # ...and nowhere else: not under another venue, not on main's unprefixed routes.
    for key in (a_admin, a_staff):
        assert_problem(api.get("/v/kb/api/orders", key=key), 403, "forbidden")
        assert_problem(api.get("/api/orders", key=key), 403, "forbidden")
        assert_problem(api.get("/v/main/api/orders", key=key), 403, "forbidden")
    assert_problem(api.post("/v/kb/api/orders", order_body("A"), key=a_admin), 403, "forbidden")
    assert_problem(api.post("/api/orders", order_body("A"), key=a_admin), 403, "forbidden")
    assert_problem(api.get("/metrics", key=a_admin), 403, "forbidden")
    # A key of every venue works everywhere.
    for prefix in ("", "/v/main", "/v/ka", "/v/kb"):
        assert api.get(prefix + "/api/orders", key="staff").status == 200, prefix
        assert api.post(prefix + "/api/orders", order_body("A"), key="pos").status == 201, prefix
    # Only an admin key of every venue makes and deletes venues.
    before = venues(api)
    assert_problem(api.post("/api/venues", {"slug": "kc", "name": "Kc"}, key=a_admin), 403, "forbidden")
    assert_problem(api.post("/v/ka/api/venues", {"slug": "kc", "name": "Kc"}, key=a_admin), 403, "forbidden")
    assert_problem(api.post("/api/venues", {"slug": "kc", "name": "Kc"}, key="staff"), 403, "forbidden")
    assert_problem(api.request("DELETE", "/api/venues/kb", key=b_admin), 403, "forbidden")
    # A venue's admin key changes its own venue, not another.
    assert_problem(api.patch("/api/venues/kb", {"name": "Not yours"}, key=a_admin), 403, "forbidden")
    assert_problem(api.patch("/api/venues/main", {"name": "Not yours"}, key=a_admin), 403, "forbidden")
    assert_problem(api.patch("/api/venues/ka", {"name": "Not a staff's"}, key=a_staff), 403, "forbidden")
    assert venues(api) == before
    r = api.patch("/api/venues/ka", {"name": "Ka renamed"}, key=a_admin)
    assert r.status == 200 and r.body["name"] == "Ka renamed", r
    r = api.patch("/v/ka/api/venues/ka", {"name": "Ka again"}, key=a_admin)
    assert r.status == 200 and r.body["name"] == "Ka again", r
    # The every-venue admin key changes any venue.
    assert api.patch("/api/venues/kb", {"name": "Kb renamed"}).status == 200
    assert api.post("/api/venues", {"slug": "kc", "name": "Kc"}).status == 201
    assert api.request("DELETE", "/api/venues/kc").status == 204


def test_keys_list_shows_the_venue(api):
    make(api, "kl")
    venue_key(api, "kl", "pos")
    r = cli(api, "keys", "list")
    assert r.returncode == 0, r.stderr
    cols = {ln.split("\t")[2]: ln.split("\t") for ln in r.stdout.splitlines()}
    assert all(len(c) == 7 for c in cols.values()), r.stdout
    assert cols["pos-of-kl"][6] == "kl" and cols["pos-of-kl"][1] == "pos"
    assert cols["admin-key"][6] == "*"
    r = cli(api, "keys", "create", "--role", "pos", "--venue", "nowhere")
    assert r.returncode == 2, r.stderr
    one_sentence(r.stderr)


# ---------------------------------------------------------------- numbers, days and queues per venue


def test_numbering_is_per_venue(factory):
    api = factory.api(queues="A=Orders")
    make(api, "nb")
    a = api.create("A")
    b = api.post("/v/nb/api/orders", order_body("A")).body
    a2 = api.create("A")
    b2 = api.post("/v/nb/api/orders", order_body("A")).body
    assert (a["token"], b["token"], a2["token"], b2["token"]) == ("A-001", "A-001", "A-002", "A-002")
    # Tokens are looked up in their own venue.
    # Each order is its venue's: not found under another.
    assert_problem(api.patch(f"/api/orders/{b['id']}", {"status": "READY"}), 404, "not_found")
    assert api.patch(f"/v/nb/api/orders/{b['id']}", {"status": "READY"}).status == 200
    assert api.get(f"/v/nb/api/tokens/{b['token']}", key="").body["status"] == "READY"
    assert api.get(f"/api/tokens/{a['token']}", key="").body["status"] == "PENDING"


def expected_dates(tz):
    """The business dates (day start 00:00) just before and just after now, in zone tz."""
    now = dt.datetime.now(dt.timezone.utc)
    return {(now + d).astimezone(zoneinfo.ZoneInfo(tz)).date().isoformat()
            for d in (dt.timedelta(seconds=-5), dt.timedelta(seconds=5))}


def test_business_date_follows_each_venues_time_zone(api):
    make(api, "east", timezone="Pacific/Kiritimati", day_start="00:00")
    make(api, "west", timezone="Pacific/Pago_Pago", day_start="00:00")
    e = api.post("/v/east/api/orders", order_body("A")).body
    w = api.post("/v/west/api/orders", order_body("A")).body
    assert e["business_date"] in expected_dates("Pacific/Kiritimati"), e
    assert w["business_date"] in expected_dates("Pacific/Pago_Pago"), w
    # 25 hours apart: never the same date.
    assert e["business_date"] > w["business_date"]
    assert e["token"] == w["token"] == "A-001"
    day = api.get(f"/v/east/api/orders?date={e['business_date']}").body["orders"]
    assert [o["id"] for o in day] == [e["id"]]
    assert api.get(f"/v/west/api/orders?date={e['business_date']}").body["orders"] == []


def test_a_removed_queue_takes_no_orders_and_its_orders_stay(api):
    make(api, "menu", queues="A=Food,B=Drinks")
    o = api.post("/v/menu/api/orders", order_body("B")).body
    r = api.patch("/api/venues/menu", {"queues": "A=Food"})
    assert r.status == 200 and r.body["queues"] == [{"prefix": "A", "name": "Food"}], r
    assert_problem(api.post("/v/menu/api/orders", order_body("B")), 422, "unknown_queue", "queue")
    got = api.get(f"/v/menu/api/orders/{o['id']}")
    assert got.status == 200 and got.body["token"] == o["token"] and got.body["queue"] == "B", got
    assert api.get(f"/v/menu/api/tokens/{o['token']}", key="").status == 200
    assert api.patch(f"/v/menu/api/orders/{o['id']}", {"status": "READY"}).status == 200
    assert api.post("/v/menu/api/orders", order_body("A")).status == 201


# ---------------------------------------------------------------- the environment and main


def test_environment_sets_main_at_start_and_an_unset_one_keeps_it(factory):
    db = factory.db()
    s = factory.server(db=db, queues="A=X,B=Y", env={"TOKENQ_TOKEN_DIGITS": "4"})
    api = Api(s, {})
    main = venue(api, "main")
    assert main["queues"] == [{"prefix": "A", "name": "X"}, {"prefix": "B", "name": "Y"}]
    assert main["digits"] == 4
    assert s.stop() == 0
    s2 = factory.server(db=db)  # no TOKENQ_QUEUES, no TOKENQ_TOKEN_DIGITS
    api = Api(s2, {})
    main = venue(api, "main")
    assert main["queues"] == [{"prefix": "A", "name": "X"}, {"prefix": "B", "name": "Y"}]
    assert main["digits"] == 4
    assert api.post("/api/orders", order_body("B"), key="").body["token"] == "B-0001"
    # A setting changed over HTTP stays until the environment sets it again.
    assert api.patch("/api/venues/main", {"queues": "A=X,B=Y,C=Z"}, key="").status == 200
    assert s2.stop() == 0
    api = Api(factory.server(db=db), {})
    assert [q["prefix"] for q in venue(api, "main")["queues"]] == ["A", "B", "C"]

