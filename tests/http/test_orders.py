"""Orders, status changes, recall, listing, token lookup, board, health:
the successful paths of docs/api.md and the refusals that belong to them."""

import datetime as dt
import time

import pytest

from conftest import (
    TIMESTAMP_RE,
    assert_json_ct,
    assert_problem,
    list_all,
    no_new_order,
    order_body,
    suite_business_date,
)

ORDER_MEMBERS = {"id", "token", "queue", "sequence", "business_date", "status", "items",
                 "total", "note", "created_at", "updated_at"}
STATUSES = ["PENDING", "PREPARING", "READY", "COMPLETED", "CANCELLED"]


def parse_ts(s):
    assert isinstance(s, str) and TIMESTAMP_RE.match(s), f"not RFC 3339 UTC with milliseconds: {s!r}"
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def api(module_factory):
    # L, T, D, E: queues of their own for the listing, lookup, board and ETA
    # tests, which need to know every order in the queue.
    return module_factory.api(
        queues="A=Dine-in,B=Takeaway,TX=Tax desk,L=List,T=Lookup,D=Board,E=Estimate,R=Recall")


# ---------------------------------------------------------------- create


def test_create_returns_201_location_and_the_order(api):
    body = {"queue": "A", "items": [{"name": "Masala tea", "quantity": 2, "unit_price": 150}],
            "total": 300, "note": "less sugar"}
    t0 = dt.datetime.now(dt.timezone.utc)
    r = api.post("/api/orders", body)
    assert r.status == 201, r
    assert_json_ct(r)
    o = r.body
    assert ORDER_MEMBERS <= set(o), f"missing members: {ORDER_MEMBERS - set(o)}"
    assert "history" not in o
    assert r.headers.get("location") == f"/api/orders/{o['id']}"
    assert isinstance(o["id"], int) and not isinstance(o["id"], bool)
    assert isinstance(o["sequence"], int) and o["sequence"] >= 1
    assert o["token"] == f"A-{o['sequence']:03d}"
    assert o["queue"] == "A"
    assert o["business_date"] == suite_business_date()
    assert o["status"] == "PENDING"
    assert o["items"] == body["items"]
    assert o["total"] == 300
    assert o["note"] == "less sugar"
    created = parse_ts(o["created_at"])
    assert o["updated_at"] == o["created_at"]
    assert abs((created - t0).total_seconds()) < 60, f"created_at {o['created_at']} is not now ({t0})"
    # the Location answers with the same order
    g = api.get(r.headers["location"])
    assert g.status == 200, g
    assert_json_ct(g)
    assert {k: g.body[k] for k in ORDER_MEMBERS} == {k: o[k] for k in ORDER_MEMBERS}


def test_numbers_follow_each_other(api):
    a = api.create("A")
    b = api.create("A")
    assert b["sequence"] == a["sequence"] + 1
    assert b["token"] == f"A-{b['sequence']:03d}"
    assert b["id"] != a["id"]


def test_total_is_computed_and_absent_note_is_null(api):
    items = [{"name": "Masala tea", "quantity": 2, "unit_price": 150},
             {"name": "Samosa", "quantity": 3, "unit_price": 1000},
             {"name": "Water", "quantity": 1, "unit_price": 0}]
    o = api.create("A", items=items)
    assert o["total"] == 3300
    assert o["note"] is None
    assert o["items"] == items


def test_limits_accepted_and_total_beyond_32_bits(api):
    items = [{"name": f"Item {i}", "quantity": 1000, "unit_price": 100000000} for i in range(200)]
    o = api.create("A", items=items, total=200 * 1000 * 100000000)
    assert o["total"] == 20_000_000_000_000
    assert len(o["items"]) == 200
    assert api.order(o["id"])["total"] == 20_000_000_000_000


@pytest.mark.parametrize("name", ["x" * 120, "é" * 120, "🍵" * 120, "चाय" * 40])
def test_name_of_120_code_points_is_accepted(api, name):
    o = api.create("A", items=[{"name": name, "quantity": 1, "unit_price": 1}])
    assert o["items"][0]["name"] == name
    assert api.order(o["id"])["items"][0]["name"] == name


@pytest.mark.parametrize("note", ["n" * 500, "ñ" * 500, "🌶" * 500,
                                  "line one\nline two\r\n\tindented", "  spaced  "])
def test_note_accepted_and_returned_unchanged(api, note):
    o = api.create("A", note=note)
    assert o["note"] == note
    assert api.order(o["id"])["note"] == note


def test_queue_may_be_left_out_with_one_queue(factory):
    api = factory.api()  # default: one queue, A=Orders
    r = api.post("/api/orders", order_body(queue=None))
    assert r.status == 201, r
    assert r.body["queue"] == "A"
    assert r.body["token"] == "A-001"
    assert r.body["sequence"] == 1
    q = api.get("/api/queues", key="")
    assert q.status == 200, q
    assert q.body == {"queues": [{"prefix": "A", "name": "Orders"}]}


def test_queues_route_lists_configured_queues(api):
    r = api.get("/api/queues", key="")
    assert r.status == 200, r
    assert_json_ct(r)
    assert [q["prefix"] for q in r.body["queues"]] == ["A", "B", "TX", "L", "T", "D", "E", "R"]
    assert r.body["queues"][0] == {"prefix": "A", "name": "Dine-in"}
    assert r.body["queues"][2] == {"prefix": "TX", "name": "Tax desk"}


def test_multi_letter_prefix(api):
    o = api.create("TX")
    assert o["token"] == f"TX-{o['sequence']:03d}"
    assert o["queue"] == "TX"


# ---------------------------------------------------------------- numbering


def test_queues_number_independently(factory):
    api = factory.api(queues="A=Dine-in,B=Takeaway")
    seen = [api.create(q)["token"] for q in ["A", "B", "A", "A", "B", "A"]]
    assert seen == ["A-001", "B-001", "A-002", "A-003", "B-002", "A-004"]


def test_token_digits_one_grows_past_the_width(factory):
    api = factory.api(env={"TOKENQ_TOKEN_DIGITS": "1"})
    tokens = [api.create(None)["token"] for _ in range(11)]
    assert tokens == [f"A-{i}" for i in range(1, 12)]


def test_token_digits_nine(factory):
    api = factory.api(env={"TOKENQ_TOKEN_DIGITS": "9"})
    o = api.create(None)
    assert o["token"] == "A-000000001"
    assert o["sequence"] == 1


# ---------------------------------------------------------------- GET one


def test_get_has_history_oldest_first(api):
    o = api.create("A")
    g = api.order(o["id"])
    h = g["history"]
    assert len(h) == 1, h
    e = h[0]
    assert e["event"] == "token"
    assert e["status"] == "PENDING"
    assert e["previous_status"] is None
    assert isinstance(e["event_id"], int)
    parse_ts(e["at"])
    api.set_status(o["id"], "PREPARING")
    api.set_status(o["id"], "READY")
    h = api.order(o["id"])["history"]
    assert [(e["event"], e["status"], e["previous_status"]) for e in h] == [
        ("token", "PENDING", None), ("token", "PREPARING", "PENDING"), ("token", "READY", "PREPARING")]
    ids = [e["event_id"] for e in h]
    assert ids == sorted(ids) and len(set(ids)) == 3
    ats = [parse_ts(e["at"]) for e in h]
    assert ats == sorted(ats)


@pytest.mark.parametrize("path", ["/api/orders/999999999", "/api/orders/0", "/api/orders/abc"])
def test_get_unknown_order_is_404(api, path):
    assert_problem(api.get(path), 404, "not_found")


# ---------------------------------------------------------------- PATCH


def test_patch_returns_the_changed_order(api):
    o = api.create("A")
    r = api.patch(f"/api/orders/{o['id']}", {"status": "PREPARING"})
    assert r.status == 200, r
    assert_json_ct(r)
    p = r.body
    assert p["id"] == o["id"] and p["token"] == o["token"]
    assert p["status"] == "PREPARING"
    assert p["created_at"] == o["created_at"]
    assert parse_ts(p["updated_at"]) >= parse_ts(o["updated_at"])
    assert api.order(o["id"])["status"] == "PREPARING"


def _allowed(frm, to):
    if frm in ("COMPLETED", "CANCELLED") or frm == to:
        return False
    return to == "CANCELLED" or STATUSES.index(to) > STATUSES.index(frm)


def _order_in(api, status):
    o = api.create("A")
    if status != "PENDING":
        api.set_status(o["id"], status)
    return o


@pytest.mark.parametrize("frm", STATUSES)
@pytest.mark.parametrize("to", STATUSES)
def test_status_transitions(api, frm, to):
    o = _order_in(api, frm)
    before = api.order(o["id"])
    r = api.patch(f"/api/orders/{o['id']}", {"status": to})
    if _allowed(frm, to):
        assert r.status == 200, f"{frm} -> {to} must be allowed: {r}"
        assert r.body["status"] == to
        after = api.order(o["id"])
        assert after["status"] == to
        assert len(after["history"]) == len(before["history"]) + 1
        assert after["history"][-1]["previous_status"] == frm
    else:
        assert_problem(r, 409, "invalid_transition")
        after = api.order(o["id"])
        assert after == before, "a refused transition changed the order"


@pytest.mark.parametrize("body,code,field", [
    ({"status": "DONE"}, "invalid_field", "status"),
    ({"status": "ready"}, "invalid_field", "status"),
    ({"status": "Ready"}, "invalid_field", "status"),
    ({"status": ""}, "invalid_field", "status"),
    ({"status": 3}, "invalid_field", "status"),
    ({"status": None}, "invalid_field", "status"),
    ({}, "invalid_field", "status"),
    ({"status": "READY", "colour": "red"}, "unknown_field", "colour"),
])
def test_patch_bad_body_is_422(api, body, code, field):
    o = api.create("A")
    before = api.order(o["id"])
    assert_problem(api.patch(f"/api/orders/{o['id']}", body), 422, code, field)
    assert api.order(o["id"]) == before


def test_patch_unknown_order_is_404(api):
    with no_new_order(api):
        assert_problem(api.patch("/api/orders/999999999", {"status": "READY"}), 404, "not_found")


def test_patch_422_comes_before_404(api):
    assert_problem(api.patch("/api/orders/999999999", {"status": "NOPE"}), 422, "invalid_field", "status")


# ---------------------------------------------------------------- recall


def test_recall_ready_order(api):
    o = _order_in(api, "READY")
    before = api.order(o["id"])
    time.sleep(0.01)  # so that the new updated_at is a later millisecond
    r = api.post(f"/api/orders/{o['id']}/recall")
    assert r.status == 200, r
    assert_json_ct(r)
    assert r.body["id"] == o["id"]
    assert r.body["status"] == "READY"
    after = api.order(o["id"])
    assert after["status"] == "READY"
    assert len(after["history"]) == len(before["history"]) + 1
    last = after["history"][-1]
    assert last["event"] == "recall"
    assert last["status"] == "READY"
    assert last["event_id"] > before["history"][-1]["event_id"]
    assert after["updated_at"] != before["updated_at"]
    assert parse_ts(after["updated_at"]) > parse_ts(before["updated_at"])
    # a second recall is fine too
    r2 = api.post(f"/api/orders/{o['id']}/recall")
    assert r2.status == 200, r2
    assert [e["event"] for e in api.order(o["id"])["history"]][-2:] == ["recall", "recall"]


def test_recall_reads_no_body(api):
    o = _order_in(api, "READY")
    r = api.post(f"/api/orders/{o['id']}/recall", b"not json at all",
                 headers={"Content-Type": "text/plain"})
    assert r.status == 200, f"recall takes no body, so a stray one must not matter: {r}"


@pytest.mark.parametrize("status", ["PENDING", "PREPARING", "COMPLETED", "CANCELLED"])
def test_recall_needs_ready(api, status):
    o = _order_in(api, status)
    before = api.order(o["id"])
    assert_problem(api.post(f"/api/orders/{o['id']}/recall"), 409, "invalid_transition")
    assert api.order(o["id"]) == before


def test_recall_unknown_order_is_404(api):
    assert_problem(api.post("/api/orders/999999999/recall"), 404, "not_found")


# ---------------------------------------------------------------- list


def test_list_paging_filters_and_dates(api):
    orders = [api.create("L") for _ in range(5)]
    ids = [o["id"] for o in orders]

    r = api.get("/api/orders?queue=L")
    assert r.status == 200, r
    assert_json_ct(r)
    assert [o["id"] for o in r.body["orders"]] == ids
    assert r.body["next_after_id"] is None
    for o in r.body["orders"]:
        assert "history" not in o
        assert o["queue"] == "L"
    assert r.body["orders"][0]["token"] == orders[0]["token"]
    assert r.body["orders"][0]["items"] == orders[0]["items"]

    # exactly one page: nothing follows
    r = api.get("/api/orders?queue=L&limit=5")
    assert [o["id"] for o in r.body["orders"]] == ids and r.body["next_after_id"] is None

    # pages of 2
    seen, after, pages = [], None, 0
    while True:
        q = "/api/orders?queue=L&limit=2" + (f"&after_id={after}" if after is not None else "")
        r = api.get(q)
        assert r.status == 200, r
        page = [o["id"] for o in r.body["orders"]]
        assert len(page) <= 2
        seen += page
        pages += 1
        after = r.body["next_after_id"]
        if after is None:
            break
        assert pages < 5, "paging does not end"
    assert seen == ids
    assert pages == 3

    # status filter with a comma list
    api.set_status(ids[1], "READY")
    api.set_status(ids[3], "CANCELLED")
    api.set_status(ids[4], "PREPARING")
    r = api.get("/api/orders?queue=L&status=READY,CANCELLED")
    assert [o["id"] for o in r.body["orders"]] == [ids[1], ids[3]]
    r = api.get("/api/orders?queue=L&status=PENDING")
    assert [o["id"] for o in r.body["orders"]] == [ids[0], ids[2]]

    # dates
    r = api.get(f"/api/orders?queue=L&date={suite_business_date()}")
    assert [o["id"] for o in r.body["orders"]] == ids
    r = api.get("/api/orders?queue=L&date=2001-02-03")
    assert r.status == 200, r
    assert r.body == {"orders": [], "next_after_id": None}

    # other queues are not mixed in; without queue, all queues
    assert set(ids) <= {o["id"] for o in list_all(api)}
    assert not set(ids) & {o["id"] for o in list_all(api, "queue=A")}


def test_list_limit_bounds_accepted(api):
    api.create("A")
    for lim in (1, 500):
        r = api.get(f"/api/orders?limit={lim}")
        assert r.status == 200, r
        assert 1 <= len(r.body["orders"]) <= lim


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"), ("limit=-1", "limit"),
    ("limit=1.5", "limit"), ("limit=", "limit"),
    ("date=2026-13-01", "date"), ("date=2026-02-30", "date"), ("date=yesterday", "date"),
    ("date=20261127", "date"), ("date=2026-1-5", "date"),
    ("status=ready", "status"), ("status=FOO", "status"), ("status=READY,FOO", "status"),
    ("after_id=abc", "after_id"), ("after_id=1.5", "after_id"),
])
def test_list_bad_query_parameter_is_422(api, query, field):
    assert_problem(api.get("/api/orders?" + query), 422, "invalid_field", field)


def test_list_unknown_queue_is_422(api):
    assert_problem(api.get("/api/orders?queue=ZZ"), 422, "unknown_queue")


# ---------------------------------------------------------------- token lookup


LOOKUP_MEMBERS = {"token", "queue", "business_date", "status", "ahead", "eta_seconds", "updated_at"}


def lookup(api, token, query=""):
    return api.get(f"/api/tokens/{token}{query}", key="")


def test_token_lookup_counts_ahead(api):
    t = [api.create("T") for _ in range(6)]
    api.set_status(t[0]["id"], "PREPARING")
    api.set_status(t[2]["id"], "READY")
    api.set_status(t[3]["id"], "COMPLETED")
    api.set_status(t[4]["id"], "CANCELLED")
    # t1 PENDING, t5 PENDING
    expect = {0: ("PREPARING", 0), 1: ("PENDING", 1), 2: ("READY", 0), 3: ("COMPLETED", 0),
              4: ("CANCELLED", 0), 5: ("PENDING", 2)}
    for i, (status, ahead) in expect.items():
        r = lookup(api, t[i]["token"])
        assert r.status == 200, r
        assert_json_ct(r)
        b = r.body
        assert LOOKUP_MEMBERS <= set(b), f"missing {LOOKUP_MEMBERS - set(b)}"
        assert "items" not in b and "note" not in b and "total" not in b
        assert b["token"] == t[i]["token"]
        assert b["queue"] == "T"
        assert b["business_date"] == suite_business_date()
        assert b["status"] == status, (i, b)
        assert b["ahead"] == ahead, (i, b)
        assert b["eta_seconds"] is None or (isinstance(b["eta_seconds"], int) and not isinstance(b["eta_seconds"], bool)), b
        parse_ts(b["updated_at"])


def test_token_lookup_any_case_and_date(api):
    o = api.create("TX")
    tok = o["token"]
    for variant in (tok, tok.lower(), tok[0].lower() + tok[1:]):
        r = lookup(api, variant)
        assert r.status == 200, (variant, r)
        assert r.body["token"] == tok
    r = lookup(api, tok, f"?date={suite_business_date()}")
    assert r.status == 200 and r.body["token"] == tok, r
    assert_problem(lookup(api, tok, "?date=2001-02-03"), 404, "not_found")
    assert_problem(lookup(api, tok, "?date=02/03/2001"), 422, "invalid_field", "date")


@pytest.mark.parametrize("token", ["T-999", "Q-001", "nonsense", "A-0", "A-"])
def test_token_lookup_unknown_is_404(api, token):
    assert_problem(lookup(api, token), 404, "not_found")


def test_eta_null_without_preparation_times_then_integer(api):
    a = api.create("E")
    b = api.create("E")
    r = lookup(api, b["token"])
    assert r.status == 200, r
    assert r.body["eta_seconds"] is None, f"no order of queue E was ever prepared: {r.body}"
    api.set_status(a["id"], "PREPARING")
    api.set_status(a["id"], "READY")
    r = lookup(api, b["token"])
    eta = r.body["eta_seconds"]
    assert isinstance(eta, int) and not isinstance(eta, bool) and eta >= 0, \
        f"queue E has a real preparation time now, so the estimate is an integer: {r.body}"


# ---------------------------------------------------------------- board


def board(api, query=""):
    r = api.get("/api/board" + query, key="")
    assert r.status == 200, r
    assert_json_ct(r)
    return r.body


def last_event_id_of(api, order_id):
    return api.order(order_id)["history"][-1]["event_id"]


def test_board_lists_in_token_order(api):
    d = [api.create("D") for _ in range(7)]
    tok = [o["token"] for o in d]
    # change in an order different from the token order
    api.set_status(d[2]["id"], "PREPARING")
    api.set_status(d[1]["id"], "PREPARING")
    api.set_status(d[5]["id"], "READY")
    api.set_status(d[3]["id"], "READY")
    api.set_status(d[4]["id"], "COMPLETED")
    api.set_status(d[6]["id"], "CANCELLED")
    b = board(api, "?queue=D")
    assert b["business_date"] == suite_business_date()
    assert b["pending"] == [tok[0]]
    assert b["preparing"] == [tok[1], tok[2]]
    assert b["ready"] == [tok[3], tok[5]]
    assert b["last_event_id"] == last_event_id_of(api, d[6]["id"])
    # a recall is an event too
    r = api.post(f"/api/orders/{d[5]['id']}/recall")
    assert r.status == 200, r
    b2 = board(api, "?queue=D")
    assert b2["last_event_id"] == last_event_id_of(api, d[5]["id"]) > b["last_event_id"]
    assert b2["ready"] == [tok[3], tok[5]]
    # all queues: the D tokens are there, finished ones nowhere
    allq = board(api)
    for lst in ("pending", "preparing", "ready"):
        assert tok[4] not in allq[lst] and tok[6] not in allq[lst]
    assert tok[0] in allq["pending"] and tok[1] in allq["preparing"] and tok[3] in allq["ready"]
    assert allq["last_event_id"] == b2["last_event_id"]


def test_board_without_queue_is_in_creation_order(factory):
    api = factory.api(queues="A=Dine-in,B=Takeaway")
    made = [api.create(q)["token"] for q in ["B", "A", "B", "A"]]
    b = board(api)
    assert b["pending"] == made
    assert b["preparing"] == [] and b["ready"] == []


def test_board_of_a_new_database(factory):
    api = factory.api()
    b = board(api)
    assert b["pending"] == [] and b["preparing"] == [] and b["ready"] == []
    assert b["last_event_id"] == 0
    assert b["business_date"] == suite_business_date()


def test_board_unknown_queue_is_422(api):
    assert_problem(api.get("/api/board?queue=ZZ", key=""), 422, "unknown_queue")


# ---------------------------------------------------------------- health


def test_healthz(api):
    r = api.get("/healthz", key="")
    assert r.status == 200, r
    ct = r.headers.get("content-type", "").split(";")[0].strip().lower()
    assert ct == "application/json", r
    assert r.body["status"] == "ok"
    assert r.body["database"] == api.db.kind
