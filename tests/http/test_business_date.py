"""The business date (TOKENQ_TIMEZONE and TOKENQ_DAY_START in docs/tokenq.1): the venue's time zone and day
start decide it, never the UTC date. The expected dates are computed here
with zoneinfo for the current instant."""

import datetime as dt
import zoneinfo

import pytest

from conftest import business_date


def local_now(tz):
    return dt.datetime.now(dt.timezone.utc).astimezone(zoneinfo.ZoneInfo(tz))


def hhmm(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_server(api, tz, day_start, expect):
    before = business_date(tz, day_start)
    o = api.create(None)
    after = business_date(tz, day_start)
    assert before == after, "a day boundary passed during the test; run it again"
    assert before == expect, "test bug: the chosen day start does not give the intended date"
    assert o["business_date"] == expect, f"zone {tz}, day start {day_start}: {o['business_date']} != {expect}"
    b = api.get("/api/board", key="")
    assert b.status == 200 and b.body["business_date"] == expect, b
    assert o["token"] in b.body["pending"]
    t = api.get(f"/api/tokens/{o['token']}?date={expect}", key="")
    assert t.status == 200 and t.body["business_date"] == expect, t
    t = api.get(f"/api/tokens/{o['token']}", key="")
    assert t.status == 200, f"the lookup's default date is today's business date: {t}"
    r = api.get("/api/orders")
    assert o["id"] in [x["id"] for x in r.body["orders"]], "the list's default date is today's business date"
    r = api.get(f"/api/orders?date={expect}")
    assert o["id"] in [x["id"] for x in r.body["orders"]]


def start(factory, tz, day_start, extra=None):
    env = {"TOKENQ_TIMEZONE": tz, "TOKENQ_DAY_START": day_start}
    env.update(extra or {})
    return factory.api(env=env, roles=("admin",))


def test_day_not_started_yet_is_yesterday_kolkata(factory):
    tz = "Asia/Kolkata"
    now = local_now(tz)
    m = now.hour * 60 + now.minute
    if m + 90 < 24 * 60:
        ds = hhmm(m + 90)
    elif m < 23 * 60 + 57:
        ds = "23:59"
    else:
        pytest.skip("too close to local midnight in Kolkata to set a later day start")
    expect = (now.date() - dt.timedelta(days=1)).isoformat()
    check_server(start(factory, tz, ds), tz, ds, expect)


def test_day_already_started_is_today_kolkata(factory):
    tz = "Asia/Kolkata"
    now = local_now(tz)
    m = now.hour * 60 + now.minute
    ds = hhmm(max(m - 90, 0)) if m >= 2 else None
    if ds is None:
        pytest.skip("too close to local midnight in Kolkata")
    check_server(start(factory, tz, ds), tz, ds, now.date().isoformat())


# UTC+14 and UTC-12: at any instant at least one of them is not on the UTC date.
@pytest.mark.parametrize("tz", ["Pacific/Kiritimati", "Etc/GMT+12", "America/New_York"])
def test_local_date_not_utc_date(factory, tz):
    ds = "00:00"
    now = local_now(tz)
    if now.hour == 23 and now.minute >= 58 or now.hour == 0 and now.minute < 1:
        pytest.skip("at local midnight")
    check_server(start(factory, tz, ds), tz, ds, now.date().isoformat())


def test_system_zone_from_tz(factory):
    tz = "Pacific/Kiritimati"
    now = local_now(tz)
    ds = "00:00"
    if now.hour == 23 and now.minute >= 58 or now.hour == 0 and now.minute < 1:
        pytest.skip("at local midnight")
    api = start(factory, tz, ds, extra={"TOKENQ_TIMEZONE": None, "TZ": tz})
    check_server(api, tz, ds, now.date().isoformat())
