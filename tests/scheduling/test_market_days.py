"""Venues, plans and market days over HTTP on a running scheduling service (real Kafka and PostgreSQL):
the answers, the events that land on Kafka, roles and provinces, and plan against actual."""

from datetime import date, timedelta
from uuid import uuid4

import pytest
from icalendar import Calendar

from services.scheduling.main import spec
from shared.thailand import thai_today
from shared.topics import SCHEDULING_MARKET_DAYS, SCHEDULING_PLANS, SCHEDULING_VENUES
from tests.conftest import running_service
from tests.scheduling.support import (
    COMMITTEE,
    DEPARTMENT,
    OFFICER,
    OTHER_OFFICER,
    PLAN,
    VENUE,
    about,
    events,
    market_day,
    rows,
    venue,
)

pytestmark = pytest.mark.integration
P = "/provinces/72"


@pytest.fixture
async def http(database_url, kafka):
    async with running_service(spec, database_url, kafka) as client:
        yield client


async def test_venues_with_contact_and_their_events(http, kafka, database_url):
    market = await venue(http)
    assert {k: market[k] for k in VENUE} == VENUE and market["revision"] == 1 and market["active"] is True
    changed = await http.put(
        f"{P}/venues/{market['id']}",
        json={**VENUE, "phone": "081-234-5678", "active": False},
        headers=OFFICER,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["revision"], changed.json()["phone"]) == (2, "081-234-5678")

    registered, updated = await events(kafka, SCHEDULING_VENUES, about("venue_id", market["id"]), 2)
    assert (registered["type"], registered["payload"]["contact_name"]) == (
        "scheduling.venue.registered",
        "นางสมศรี ใจดี",
    )
    assert (updated["type"], updated["payload"]["revision"], updated["payload"]["active"]) == (
        "scheduling.venue.updated",
        2,
        False,
    )
    assert registered["province_code"] == "72"

    # An inactive venue takes no market day; a district of another province is refused by field.
    refused = await http.post(
        f"{P}/market-days", json={"venue_id": market["id"], "day": "2019-06-15"}, headers=OFFICER
    )
    assert refused.status_code == 409 and "no longer in use" in refused.json()["detail"]
    foreign = await http.post(
        f"{P}/venues", json={**VENUE, "amphoe_code": "1001", "tambon_code": None}, headers=OFFICER
    )
    assert foreign.status_code == 422
    assert foreign.json()["detail"][0]["loc"] == ["body", "amphoe_code"]
    bad = await http.post(f"{P}/venues", json={**VENUE, "kind": "mall", "phone": "call me"}, headers=OFFICER)
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {("body", "kind"), ("body", "phone")}

    # Roles and provinces.
    assert (await http.get(f"{P}/venues", headers=COMMITTEE)).json()[0]["id"] == market["id"]
    assert (await http.post(f"{P}/venues", json=VENUE, headers=COMMITTEE)).status_code == 403
    assert (await http.get(f"{P}/venues", headers=OTHER_OFFICER)).status_code == 403
    assert (await http.get(f"{P}/venues")).status_code == 401
    assert (await http.get(f"/provinces/10/venues/{market['id']}", headers=DEPARTMENT)).status_code == 404
    assert len(await rows(database_url, "SELECT * FROM venues")) == 1  # nothing half-written

    # The service documents what it serves and publishes.
    assert (
        "/provinces/{province_code}/market-days/{market_day_id}/lineup/fill"
        in (await http.get("/internal/openapi.json")).json()["paths"]
    )
    asyncapi = (await http.get("/internal/asyncapi.json")).json()
    assert {
        "scheduling.venue.updated.v1",
        "scheduling.invitation.withdrawn.v1",
        "sales.sale.voided.v1",
    } <= set(asyncapi["components"]["messages"])


async def test_market_day_life_events_and_calendar_views(http, kafka):
    plan = await http.post(f"{P}/plans", json=PLAN, headers=OFFICER)
    assert plan.status_code == 201, plan.text
    plan = plan.json()
    assert (
        plan["first_month"],
        plan["last_month"],
        plan["market_days_per_month"],
        plan["products_per_market_day"],
    ) == ("2019-06-01", "2019-09-01", 4, 20)
    [plan_event] = await events(kafka, SCHEDULING_PLANS, about("plan_id", plan["id"]), 1)
    assert plan_event["type"] == "scheduling.plan.set" and plan_event["payload"]["revision"] == 1

    market = await venue(http)
    spot = await venue(
        http, name="ตลาดน้ำสามชุก ร้อยปี", kind="tourist_spot", amphoe_code="7207", tambon_code=None
    )
    first = await market_day(http, market["id"], date(2019, 6, 15), starts_at="08:30", ends_at="16:30")
    assert (first["plan_id"], first["status"], first["revision"], first["products_target"]) == (
        plan["id"],
        "scheduled",
        1,
        20,
    )
    assert first["venue_name"] == VENUE["name"]
    second = await market_day(http, spot["id"], date(2019, 6, 8))
    outside = await market_day(http, spot["id"], date(2019, 10, 5))
    assert outside["plan_id"] is None and outside["products_target"] == 20

    twice = await http.post(
        f"{P}/market-days", json={"venue_id": market["id"], "day": "2019-06-15"}, headers=OFFICER
    )
    assert twice.status_code == 409 and "already has a market day" in twice.json()["detail"]

    moved = await http.post(
        f"{P}/market-days/{first['id']}/reschedule",
        json={"day": "2019-06-22", "starts_at": "09:00", "ends_at": "15:00"},
        headers=OFFICER,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["day"], moved.json()["starts_at"], moved.json()["revision"]) == (
        "2019-06-22",
        "09:00:00",
        2,
    )
    held = await http.post(f"{P}/market-days/{first['id']}/held", headers=OFFICER)
    assert (held.json()["status"], held.json()["revision"]) == ("held", 3)
    assert (
        await http.post(f"{P}/market-days/{first['id']}/cancel", json={"reason": "ฝนตก"}, headers=OFFICER)
    ).status_code == 409
    cancelled = await http.post(
        f"{P}/market-days/{second['id']}/cancel", json={"reason": "ฝนตกหนัก น้ำท่วมตลาด"}, headers=OFFICER
    )
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == (
        "cancelled",
        "ฝนตกหนัก น้ำท่วมตลาด",
    )
    no_reason = await http.post(
        f"{P}/market-days/{outside['id']}/cancel", json={"reason": " "}, headers=OFFICER
    )
    assert no_reason.status_code == 422
    future = thai_today() + timedelta(days=7)
    coming = await market_day(http, market["id"], future)
    early = await http.post(f"{P}/market-days/{coming['id']}/held", headers=OFFICER)
    assert early.status_code == 409 and "has not come yet" in early.json()["detail"]

    life = await events(kafka, SCHEDULING_MARKET_DAYS, about("market_day_id", first["id"]), 3)
    assert [(e["type"], e["payload"]["revision"], e["payload"]["day"]) for e in life] == [
        ("scheduling.market_day.scheduled", 1, "2019-06-15"),
        ("scheduling.market_day.rescheduled", 2, "2019-06-22"),
        ("scheduling.market_day.held", 3, "2019-06-22"),
    ]
    [_, gone] = await events(kafka, SCHEDULING_MARKET_DAYS, about("market_day_id", second["id"]), 2)
    assert (gone["type"], gone["payload"]["cancel_reason"]) == (
        "scheduling.market_day.cancelled",
        "ฝนตกหนัก น้ำท่วมตลาด",
    )

    june = await http.get(f"{P}/market-days", params={"month": "2019-06"}, headers=COMMITTEE)
    assert [(d["day"], d["status"]) for d in june.json()] == [
        ("2019-06-08", "cancelled"),
        ("2019-06-22", "held"),
    ]
    ahead = await http.get(
        f"{P}/market-days", params={"from": "2019-07-01", "status": "scheduled"}, headers=OFFICER
    )
    assert [d["id"] for d in ahead.json()] == [outside["id"], coming["id"]]
    assert (
        await http.get(f"{P}/market-days", params={"month": "2019-13"}, headers=OFFICER)
    ).status_code == 422
    assert (await http.get(f"{P}/market-days", headers=OTHER_OFFICER)).status_code == 403
    assert (await http.get("/provinces/10/market-days", headers=DEPARTMENT)).json() == []

    progress = await http.get(f"{P}/plans/{plan['id']}/progress", headers=COMMITTEE)
    assert progress.status_code == 200, progress.text
    months = progress.json()["months"]
    assert [m["month"] for m in months] == ["2019-06", "2019-07", "2019-08", "2019-09"]
    assert {
        k: months[0][k]
        for k in ("planned", "scheduled", "held", "cancelled", "missing", "days_meeting_target")
    } == {"planned": 4, "scheduled": 0, "held": 1, "cancelled": 1, "missing": 3, "days_meeting_target": 0}
    assert months[1]["missing"] == 4

    # The public feed: no token, upcoming and recent days (cancelled ones marked so), this province only.
    feed = await http.get(f"{P}/calendar.ics", params={"from": "2019-01-01"})
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    found = {str(e["uid"]).split("@")[0]: e for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    assert set(found) == {first["id"], second["id"], outside["id"], coming["id"]}
    assert str(found[second["id"]]["status"]) == "CANCELLED" and found[first["id"]]["sequence"] == 2
    assert "น้ำท่วมตลาด" not in feed.content.decode()  # a fixed label, not the officer's reason
    assert Calendar.from_ical((await http.get("/provinces/10/calendar.ics")).content).walk("VEVENT") == []
    default = Calendar.from_ical((await http.get(f"{P}/calendar.ics")).content).walk("VEVENT")
    assert [str(e["uid"]).split("@")[0] for e in default] == [coming["id"]]  # 2019 is long past
    assert (await http.get("/provinces/7x/calendar.ics")).status_code == 422


async def test_plans_do_not_overlap_and_keep_their_market_days(http, kafka):
    plan = (await http.post(f"{P}/plans", json=PLAN, headers=OFFICER)).json()
    overlap = await http.post(
        f"{P}/plans", json={**PLAN, "first_month": "2019-09", "last_month": "2019-12"}, headers=OFFICER
    )
    assert overlap.status_code == 409 and "overlaps" in overlap.json()["detail"]
    backwards = await http.post(
        f"{P}/plans", json={**PLAN, "first_month": "2019-09", "last_month": "2019-06"}, headers=OFFICER
    )
    assert backwards.status_code == 422 and "last_month is before first_month" in backwards.text
    market = await venue(http)
    await market_day(http, market["id"], date(2019, 9, 7))
    shrink = await http.put(
        f"{P}/plans/{plan['id']}", json={**PLAN, "last_month": "2019-08"}, headers=OFFICER
    )
    assert shrink.status_code == 409 and "would fall outside" in shrink.json()["detail"]
    bigger = await http.put(
        f"{P}/plans/{plan['id']}", json={**PLAN, "products_per_market_day": 25}, headers=OFFICER
    )
    assert (bigger.json()["revision"], bigger.json()["products_per_market_day"]) == (2, 25)
    other_province = await http.post("/provinces/10/plans", json=PLAN, headers=DEPARTMENT)
    assert other_province.status_code == 201  # another province's plans are its own
    assert (await http.get(f"/provinces/10/plans/{plan['id']}", headers=DEPARTMENT)).status_code == 404
    assert (await http.put(f"{P}/plans/{plan['id']}", json=PLAN, headers=COMMITTEE)).status_code == 403
    revisions = await events(kafka, SCHEDULING_PLANS, about("plan_id", plan["id"]), 2)
    assert [e["payload"]["products_per_market_day"] for e in revisions] == [20, 25]
    [day] = (await http.get(f"{P}/market-days", headers=OFFICER)).json()
    assert (day["plan_id"], day["products_target"]) == (plan["id"], 25)

    # A market day scheduled before its plan existed counts towards the plan once there is one.
    early = await market_day(http, market["id"], date(2020, 1, 11))
    assert (early["plan_id"], early["products_target"]) == (None, 20)
    later_plan = (
        await http.post(
            f"{P}/plans",
            json={"first_month": "2020-01", "last_month": "2020-03", "products_per_market_day": 22},
            headers=OFFICER,
        )
    ).json()
    early = (await http.get(f"{P}/market-days/{early['id']}", headers=COMMITTEE)).json()
    assert (early["plan_id"], early["products_target"]) == (later_plan["id"], 22)
    progress = (await http.get(f"{P}/plans/{later_plan['id']}/progress", headers=COMMITTEE)).json()
    assert [m["scheduled"] for m in progress["months"]] == [1, 0, 0]
    assert (await http.get(f"{P}/plans/{uuid4()}/progress", headers=COMMITTEE)).status_code == 404
    missing = await http.put(f"{P}/plans/{uuid4()}", json=PLAN, headers=OFFICER)
    assert missing.status_code == 404
