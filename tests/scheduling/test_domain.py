"""The scheduling rules, without I/O: ranking, fairness, replacements, market-day and invitation life,
plan arithmetic, input validation and the iCalendar feed."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from icalendar import Calendar
from pydantic import ValidationError

from services.scheduling.domain import (
    Candidate,
    Change,
    DayFacts,
    InvitationStatus,
    LineupEntry,
    check_answer,
    check_change,
    months,
    plan_progress,
    producer_available,
    propose,
    recent_sales_period,
)
from services.scheduling.ical import CANCELLED_LABEL, market_days_ics
from services.scheduling.inputs import DeclineIn, MarketDayIn, PlanIn, VenueIn
from shared.contracts.scheduling import DeclineReason, MarketDayStatus, VenueKind
from shared.errors import Conflict, Invalid
from shared.thailand import thai_today

DAY = date(2019, 6, 15)


def product(
    name: str,
    quadrant: str = "D",
    stars: int = 2,
    nawatwithi: bool = True,
    sales: str = "0",
    producer: UUID | None = None,
    invited: int = 0,
    **more,
) -> Candidate:
    return Candidate(
        product_id=uuid4(),
        name=name,
        quadrant=quadrant,
        star_level=stars,
        nawatwithi=nawatwithi,
        producer_id=producer or uuid4(),
        recent_sales_thb=Decimal(sales),
        producer_recent_invitations=invited,
        **more,
    )


def names(candidates) -> list[str]:
    return [c.name for c in candidates]


# --- ranking


def test_ranking_follows_the_programme_priority_then_sales():
    pool = [
        product("A-quadrant", quadrant="A"),
        product("five stars", stars=5),
        product("not nawatwithi", nawatwithi=False),
        product("sold 500", sales="500"),
        product("sold 20", sales="20"),
        product("never sold"),
        product("C, 4 stars, sold nothing, not nawatwithi", quadrant="C", stars=4, nawatwithi=False),
    ]
    ranked = propose(pool, [], DAY, target=3).ranked
    assert names(ranked) == [
        "never sold",
        "sold 20",
        "sold 500",
        "not nawatwithi",
        "five stars",
        "A-quadrant",
        "C, 4 stars, sold nothing, not nawatwithi",
    ]


def test_three_stars_rank_with_the_low_stars_and_four_with_the_high():
    ranked = propose(
        [product("4 stars", stars=4), product("3 stars", stars=3, sales="900")], [], DAY, 2
    ).ranked
    assert names(ranked) == ["3 stars", "4 stars"]


def test_producers_invited_less_often_recently_come_first_among_equals():
    ranked = propose(
        [product("invited 3 times", invited=3), product("invited once", invited=1), product("never invited")],
        [],
        DAY,
        3,
    ).ranked
    assert names(ranked) == ["never invited", "invited once", "invited 3 times"]


def test_lower_sales_outrank_fewer_invitations():
    ranked = propose(
        [product("never invited, sold 100", sales="100"), product("invited 5 times", invited=5)], [], DAY, 2
    ).ranked
    assert names(ranked) == ["invited 5 times", "never invited, sold 100"]


def test_ranking_is_deterministic_whatever_the_input_order():
    pool = [product(f"p{i}") for i in range(30)]
    assert propose(pool, [], DAY, 10).proposed == propose(list(reversed(pool)), [], DAY, 10).proposed


def test_withdrawn_products_and_unavailable_producers_are_left_out():
    pool = [
        product("withdrawn", status="withdrawn"),
        product("no raw material until July", producer_available=False, unavailable_until=date(2019, 7, 1)),
        product("back on the day", producer_available=False, unavailable_until=DAY),
        product("away only from next week", producer_available=False, unavailable_from=date(2019, 6, 20)),
        product("producer not heard of yet", producer_available=None),
        product("at another market that day", producer_booked_that_day=True),
        product("available", producer_available=True),
    ]
    assert sorted(names(propose(pool, [], DAY, 10).ranked)) == [
        "available",
        "away only from next week",
        "back on the day",
        "producer not heard of yet",
    ]


@pytest.mark.parametrize(
    ("available", "start", "until", "expected"),
    [
        (True, None, None, True),
        (None, None, None, True),
        (False, None, None, False),  # indefinitely
        (False, None, date(2019, 6, 16), False),
        (False, None, DAY, True),  # returns that day
        (False, date(2019, 6, 16), None, True),  # not yet away
        (False, DAY, DAY.replace(day=20), False),
    ],
)
def test_producer_availability_on_a_day(available, start, until, expected):
    assert producer_available(available, start, until, DAY) is expected


# --- fairness: spreading across producers


def test_every_producer_gets_a_first_product_before_any_gets_a_second():
    big, small = uuid4(), uuid4()
    pool = [product(f"big {i}", producer=big) for i in range(5)] + [
        product("small", producer=small, sales="50")
    ]
    pool += [product("solo", sales="70")]
    proposal = propose(pool, [], DAY, target=4)
    # big's best product, then the other producers' firsts (though they sold more), then big's second.
    assert [c.producer_id for c in proposal.proposed][:3].count(big) == 1
    assert set(names(proposal.proposed)[1:3]) == {"small", "solo"}
    assert names(proposal.proposed)[3].startswith("big")


def test_no_producer_gets_more_than_the_cap_and_the_rest_is_a_clear_shortfall():
    one = uuid4()
    proposal = propose(
        [product(f"p{i}", producer=one) for i in range(10)], [], DAY, target=20, max_per_producer=3
    )
    assert len(proposal.proposed) == 3
    assert proposal.shortfall == 17
    assert proposal.message == (
        "the lineup has 0 of the 20 products wanted and only 3 more can be proposed: 17 short"
    )


def test_products_already_in_the_lineup_count_against_their_producer():
    producer = uuid4()
    in_lineup = product("in lineup", producer=producer)
    pool = [in_lineup, product("same producer", producer=producer), product("other producer", sales="999")]
    proposal = propose(pool, [LineupEntry(in_lineup.product_id, producer, InvitationStatus.ACCEPTED)], DAY, 2)
    assert names(proposal.proposed) == ["other producer"]
    assert proposal.in_lineup == 1 and proposal.shortfall == 0


# --- replacements after a decline


def test_a_decline_is_replaced_by_the_next_ranked_product_not_in_the_lineup():
    pool = [product(f"p{i:02d}", sales=str(i)) for i in range(25)]
    first = propose(pool, [], DAY, target=20)
    assert names(first.proposed) == [f"p{i:02d}" for i in range(20)] and first.shortfall == 0
    lineup = [LineupEntry(c.product_id, c.producer_id, InvitationStatus.SENT) for c in first.proposed]
    lineup[3] = LineupEntry(lineup[3].product_id, lineup[3].producer_id, InvitationStatus.DECLINED)
    again = propose(pool, lineup, DAY, target=20)
    assert again.in_lineup == 19
    assert names(again.proposed) == ["p20"]  # the declined p03 is not proposed again


def test_a_producer_who_declined_is_not_proposed_again_for_that_day_with_another_product():
    busy = uuid4()
    declined, other_of_busy = product("declined", producer=busy), product("busy's other", producer=busy)
    pool = [declined, other_of_busy, product("someone else", sales="10")]
    proposal = propose(pool, [LineupEntry(declined.product_id, busy, InvitationStatus.DECLINED)], DAY, 1)
    assert names(proposal.proposed) == ["someone else"]


def test_a_product_an_officer_took_out_is_not_proposed_again():
    removed = product("removed")
    proposal = propose(
        [removed, product("kept", sales="5")],
        [LineupEntry(removed.product_id, removed.producer_id, InvitationStatus.WITHDRAWN)],
        DAY,
        1,
    )
    assert names(proposal.proposed) == ["kept"]


def test_a_full_lineup_proposes_nothing():
    pool = [product(f"p{i}") for i in range(3)]
    lineup = [LineupEntry(c.product_id, c.producer_id, InvitationStatus.SENT) for c in pool[:2]]
    proposal = propose(pool, lineup, DAY, target=2)
    assert proposal.proposed == [] and proposal.shortfall == 0 and proposal.message is None


# --- the life of market days and invitations


def test_market_day_changes():
    today = DAY
    check_change(MarketDayStatus.SCHEDULED, date(2019, 6, 20), Change.RESCHEDULE, today)
    check_change(MarketDayStatus.SCHEDULED, DAY, Change.HOLD, today)
    check_change(MarketDayStatus.HELD, DAY, Change.ATTENDANCE, today)
    with pytest.raises(Conflict, match="has not come yet"):
        check_change(MarketDayStatus.SCHEDULED, date(2019, 6, 20), Change.HOLD, today)
    with pytest.raises(Conflict, match="cannot cancel a held market day"):
        check_change(MarketDayStatus.HELD, DAY, Change.CANCEL, today)
    with pytest.raises(Conflict, match="cannot change the lineup of a cancelled market day"):
        check_change(MarketDayStatus.CANCELLED, DAY, Change.LINEUP, today)


def test_invitation_answers():
    check_answer(InvitationStatus.SENT, InvitationStatus.ACCEPTED)
    check_answer(InvitationStatus.ACCEPTED, InvitationStatus.DECLINED)
    with pytest.raises(Conflict, match="declined cannot become accepted"):
        check_answer(InvitationStatus.DECLINED, InvitationStatus.ACCEPTED)
    with pytest.raises(Conflict):
        check_answer(InvitationStatus.WITHDRAWN, InvitationStatus.DECLINED)


# --- plan arithmetic


def test_months_of_a_plan_across_a_year_end():
    assert months(date(2019, 11, 1), date(2020, 2, 1)) == [
        date(2019, 11, 1),
        date(2019, 12, 1),
        date(2020, 1, 1),
        date(2020, 2, 1),
    ]


def day(
    on: date, status=MarketDayStatus.SCHEDULED, in_lineup: int = 20, attended: int | None = None
) -> DayFacts:
    return DayFacts(uuid4(), on, "ตลาดประชารัฐ", status, in_lineup, in_lineup, attended)


def test_plan_progress_counts_market_days_and_products_per_month():
    days = [
        day(date(2019, 6, 1), MarketDayStatus.HELD, attended=22),
        day(date(2019, 6, 8), MarketDayStatus.HELD, in_lineup=20, attended=17),
        day(date(2019, 6, 15), in_lineup=12),
        day(date(2019, 6, 22), MarketDayStatus.CANCELLED),
        day(date(2019, 7, 6)),
        day(date(2019, 10, 5)),
    ]  # October is outside the plan
    june, july, august, september = plan_progress(date(2019, 6, 1), date(2019, 9, 1), 4, 20, days)
    assert (june.planned, june.scheduled, june.held, june.cancelled, june.missing) == (4, 1, 2, 1, 1)
    assert june.days_meeting_target == 1  # 22 came; 17 came (the lineup had 20); 12 in the lineup
    assert [d.products for d in june.market_days] == [22, 17, 12, 20]
    assert (july.scheduled, july.missing, july.days_meeting_target) == (1, 3, 1)
    assert (august.missing, september.missing) == (4, 4)


def test_plan_input_takes_months_and_defaults_to_the_programme():
    plan = PlanIn(first_month="2019-06", last_month="2019-09-30")
    assert (plan.first_month, plan.last_month) == (date(2019, 6, 1), date(2019, 9, 1))
    assert (plan.market_days_per_month, plan.products_per_market_day) == (4, 20)
    with pytest.raises(ValidationError, match="last_month is before first_month"):
        PlanIn(first_month="2019-09", last_month="2019-06")
    with pytest.raises(ValidationError):
        PlanIn(first_month="2019-13", last_month="2019-06")


# --- input


def test_market_day_times_come_in_pairs_in_order():
    MarketDayIn(venue_id=uuid4(), day=DAY, starts_at=time(8, 30), ends_at=time(16, 30))
    with pytest.raises(ValidationError, match="give both"):
        MarketDayIn(venue_id=uuid4(), day=DAY, starts_at=time(8, 30))
    with pytest.raises(ValidationError, match="after starts_at"):
        MarketDayIn(venue_id=uuid4(), day=DAY, starts_at=time(16, 30), ends_at=time(8, 30))


def test_venue_codes_nest_in_the_province():
    venue = VenueIn(
        name="ตลาดประชารัฐ", kind=VenueKind.PRACHARAT_MARKET, amphoe_code="7201", tambon_code="720101"
    )
    venue.check_province("72")
    with pytest.raises(Invalid, match="amphoe_code: not a district of province 10"):
        venue.check_province("10")
    with pytest.raises(ValidationError, match="tambon_code is not in amphoe_code"):
        VenueIn(name="x", kind=VenueKind.TOURIST_SPOT, amphoe_code="7201", tambon_code="720201")


def test_declining_for_another_reason_says_why():
    with pytest.raises(ValidationError, match="say why"):
        DeclineIn(reason=DeclineReason.OTHER)
    assert DeclineIn(reason=DeclineReason.BUSY).note is None


def test_recent_sales_are_the_ninety_thai_days_before_the_market_day():
    start, end = recent_sales_period(DAY)
    assert start.isoformat() == "2019-03-17T00:00:00+07:00" and end.isoformat() == "2019-06-15T00:00:00+07:00"
    assert thai_today(datetime(2019, 6, 14, 17, 30, tzinfo=UTC)) == DAY  # 00:30 in Bangkok


# --- iCalendar


def test_calendar_feed_lists_market_days_with_local_times_and_cancellations():
    base = {
        "venue_kind": VenueKind.PRACHARAT_MARKET,
        "venue_address": "หน้าศาลากลาง",
        "cancel_reason": None,
        "updated_at": datetime(2019, 6, 1, tzinfo=UTC),
    }
    timed = {
        **base,
        "id": uuid4(),
        "revision": 1,
        "venue_name": "ตลาดประชารัฐ สุพรรณบุรี",
        "day": DAY,
        "starts_at": time(8, 30),
        "ends_at": time(16, 30),
        "status": MarketDayStatus.SCHEDULED,
    }
    cancelled = {
        **base,
        "id": uuid4(),
        "revision": 3,
        "venue_name": "ตลาดน้ำสามชุก",
        "day": date(2019, 6, 22),
        "starts_at": None,
        "ends_at": None,
        "status": MarketDayStatus.CANCELLED,
        "cancel_reason": "ฝนตกหนัก",
    }
    body = market_days_ics(
        "72", "สุพรรณบุรี", [(timed, ["ข้าวตังหน้าธัญพืช"]), (cancelled, [])], datetime(2019, 6, 2, tzinfo=UTC)
    )
    parsed = Calendar.from_ical(body)
    assert str(parsed["x-wr-calname"]) == "OTOP เคลื่อนที่ (OTOP Mobile) จังหวัดสุพรรณบุรี"
    first, second = parsed.walk("VEVENT")
    assert first.decoded("dtstart").isoformat() == "2019-06-15T08:30:00+07:00"
    assert str(first["uid"]) == f"{timed['id']}@otop-mobile.72" and first["sequence"] == 0
    assert "ข้าวตังหน้าธัญพืช" in str(first["description"])
    assert str(first["location"]) == "ตลาดประชารัฐ สุพรรณบุรี, หน้าศาลากลาง"
    assert second.decoded("dtstart") == date(2019, 6, 22) and str(second["status"]) == "CANCELLED"
    assert second["sequence"] == 2 and CANCELLED_LABEL in str(second["description"])
    assert "ฝนตกหนัก" not in body.decode()  # the officer's reason is not published (issue 14, finding 6)
