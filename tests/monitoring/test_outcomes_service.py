"""The outcomes view end to end: the hand-computed season (tests/monitoring/outcome_season.py) published
as the registry, scheduling and sales services publish it, reordered and then replayed whole, read back
through the API with real tokens; a province sees only its own producers, the national view is the
department's."""

import random
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
import pytest

from services.monitoring.main import spec
from shared.contracts.registry import (
    MentoringGroupFormed,
    ProducerRegistered,
    ProductRegistered,
    ProductUpdated,
)
from shared.contracts.sales import SaleCorrected, SaleRecorded, SaleVoided
from shared.contracts.scheduling import (
    AttendanceRecorded,
    InvitationAccepted,
    InvitationDeclined,
    InvitationSent,
    InvitationWithdrawn,
    MarketDayCancelled,
    MarketDayHeld,
    MarketDayScheduled,
)
from tests.conftest import bearer, eventually, running_service
from tests.monitoring import outcome_season as s
from tests.monitoring.outcome_season import money, uid
from tests.monitoring.support import DEPARTMENT, OFFICER, envelope, publish, skip_earlier_events

pytestmark = pytest.mark.integration
ELSEWHERE = "10"  # Bangkok: a producer, a product, a market day and a sale the officer of 72 never sees
CANCELLED = uid("D4")


def _day(name: str, cls, status: str, revision: int, day=None, kind=None, province=s.PROVINCE):
    found_day, found_kind = s.DAYS.get(name, (day, kind))
    return envelope(
        cls(
            market_day_id=uid(name),
            revision=revision,
            venue_id=uid(f"venue {found_kind}"),
            venue_name=f"สถานที่ {found_kind}",
            venue_kind=found_kind,
            day=found_day,
            status=status,
        ),
        province,
    )


def _sale(cls, name: str, revision: int, day: str, product: str, amount, province=s.PROVINCE, **extra):
    return envelope(
        cls(
            sale_id=uid(name),
            revision=revision,
            market_day_id=uid(day),
            product_id=uid(product),
            producer_id=uid(s.PRODUCTS[product][0]) if product in s.PRODUCTS else uid("ZZ"),
            quantity=Decimal(1),
            unit_price_thb=money(amount),
            amount_thb=money(amount),
            sold_at=datetime(2019, 6, 8, 4, tzinfo=UTC),
            channel="officer",
            **extra,
        ),
        province,
    )


def season_events() -> list:
    """The season's events in the order the services would send them (each envelope made once)."""
    events = [
        envelope(
            ProducerRegistered(
                producer_id=uid(name), revision=1, name=name, producer_type="community_group", experienced=exp
            )
        )
        for name, exp in s.PRODUCERS.items()
    ]
    for name, (producer, category, stars, quadrant, nawat) in s.PRODUCTS.items():
        fields = dict(
            product_id=uid(name),
            producer_id=uid(producer),
            category=category,
            quadrant=quadrant,
            nawatwithi=nawat,
            price_thb=Decimal(50),
            unit="ชิ้น",
        )
        # registered as 5 stars Quadrant A, then graded: only the newest revision counts
        events.append(
            envelope(
                ProductRegistered(revision=1, name=f"{name} เดิม", star_level=5, **fields | {"quadrant": "A"})
            )
        )
        events.append(envelope(ProductUpdated(revision=2, name=name, star_level=stars, **fields)))
    group_name, mentors, mentees = s.GROUP
    events.append(
        envelope(
            MentoringGroupFormed(
                group_id=uid(group_name),
                revision=1,
                name=group_name,
                category="food",
                mentor_ids=[uid(m) for m in mentors],
                mentee_ids=[uid(m) for m in mentees],
            )
        )
    )
    for name in s.DAYS:
        events.append(_day(name, MarketDayScheduled, "scheduled", 1))
    # a cancelled market day: its invitation, attendance and sale count for nothing
    events += [
        _day("D4", MarketDayScheduled, "scheduled", 1, date(2019, 7, 13), "tourist_spot"),
        _day("D4", MarketDayCancelled, "cancelled", 2, date(2019, 7, 13), "tourist_spot"),
        envelope(InvitationSent(invitation_id=uid("D4 a1"), market_day_id=CANCELLED, product_id=uid("a1"))),
        _sale(SaleRecorded, "D4 sale", 1, "D4", "a1", 999),
    ]
    for day, product, status, reason in s.INVITATIONS:
        ids = dict(invitation_id=uid(f"{day} {product}"), market_day_id=uid(day), product_id=uid(product))
        events.append(envelope(InvitationSent(**ids, producer_id=uid(s.PRODUCTS[product][0]), revision=1)))
        answer = {
            "accepted": InvitationAccepted(**ids, revision=2),
            "declined": InvitationDeclined(**ids, revision=2, reason=reason or "other"),
            "withdrawn": InvitationWithdrawn(**ids, revision=2),
        }[status]
        events.append(envelope(answer))
    for day, (producers, products) in s.ATTENDANCE.items():
        events.append(_day(day, MarketDayHeld, "held", 2))
        events.append(
            envelope(
                AttendanceRecorded(
                    market_day_id=uid(day),
                    revision=1,
                    product_ids=[uid(p) for p in products],
                    producer_ids=[uid(p) for p in producers],
                )
            )
        )
    for day, product, amount in s.SALES:
        if (day, product) == ("D1", "a1"):  # entered as 40, corrected to 100
            events.append(_sale(SaleRecorded, "D1 a1", 1, day, product, 40))
            events.append(_sale(SaleCorrected, "D1 a1", 2, day, product, amount, reason="พิมพ์ผิด"))
        else:
            events.append(_sale(SaleRecorded, f"{day} {product}", 1, day, product, amount))
    # a sale voided: not counted
    events.append(_sale(SaleRecorded, "void", 1, "D3", "e1", 1000))
    events.append(_sale(SaleVoided, "void", 2, "D3", "e1", 1000, reason="ยกเลิก", voided=True))
    # another province's season
    events += [
        envelope(
            ProducerRegistered(
                producer_id=uid("ZZ"), revision=1, name="ZZ", producer_type="sme", experienced=False
            ),
            ELSEWHERE,
        ),
        envelope(
            ProductRegistered(
                product_id=uid("z1"),
                producer_id=uid("ZZ"),
                name="z1",
                category="food",
                star_level=1,
                quadrant="D",
                nawatwithi=False,
                price_thb=Decimal(10),
                unit="ชิ้น",
            ),
            ELSEWHERE,
        ),
        _day("Z1", MarketDayHeld, "held", 1, date(2019, 8, 3), "pracharat_market", ELSEWHERE),
        envelope(
            AttendanceRecorded(
                market_day_id=uid("Z1"), revision=1, product_ids=[uid("z1")], producer_ids=[uid("ZZ")]
            ),
            ELSEWHERE,
        ),
        _sale(SaleRecorded, "Z1 z1", 1, "Z1", "z1", 70, ELSEWHERE),
    ]
    return events


def markers() -> list:
    """Province 11's events on every topic the season used, published after a replay: once the national
    view shows them, each consumer has read past the replayed events."""
    fields = dict(name="p11", category="food", star_level=1, quadrant="D", nawatwithi=False, unit="ชิ้น")
    return [
        envelope(
            ProducerRegistered(
                producer_id=uid("P11"), revision=1, name="P11", producer_type="sme", experienced=True
            ),
            "11",
        ),
        envelope(
            ProductRegistered(product_id=uid("p11"), producer_id=uid("P11"), price_thb=Decimal(11), **fields),
            "11",
        ),
        envelope(
            MentoringGroupFormed(
                group_id=uid("G11"),
                revision=1,
                name="G11",
                category="food",
                mentor_ids=[uid("P11")],
                mentee_ids=[uid("Q11")],
            ),
            "11",
        ),
        _day("M11", MarketDayHeld, "held", 1, date(2019, 8, 10), "tourist_spot", "11"),
        envelope(
            AttendanceRecorded(
                market_day_id=uid("M11"), revision=1, product_ids=[], producer_ids=[uid("P11")]
            ),
            "11",
        ),
        _sale(SaleRecorded, "M11 p11", 1, "M11", "p11", 11, "11"),
    ]


def markers_read(national: dict) -> bool:
    lines = {line["province_code"]: line for line in national["provinces"]}
    return (
        "11" in lines
        and lines["11"]["eligible"] == 1
        and lines["11"]["new_vs_experienced"]["b"]["mean"] == "11.00"
        and "G11" in [g["name"] for g in national["mentoring"]["groups"]]
    )


async def shows(http, path: str, check, headers: dict = OFFICER) -> dict:
    """The answer once `check(answer)` holds (read models fill as events arrive)."""

    async def ready():
        answer = await http.get(path, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json() if check(answer.json()) else None

    return await eventually(ready, timeout=60)


def settled(body: dict) -> bool:
    """Every event of the season applied (the sums of the hand-computed season)."""
    records = body["producers"]
    return (
        sorted(r["name"] for r in records) == ["A", "B", "C", "E"]  # every producer's registration too
        and sum(Decimal(r["sales_thb"]) for r in records) == 2950
        and sum(r["attended"] for r in records) == 9
        and sum(r["declined"] for r in records) == 3
        and body["programme"]["lineup"] == 12
        and body["programme"]["shares"][-1]["share"]["count"] == 9
        and body["mentoring"]["groups"] != []
        and body["fairness"]["eligible"] == 4
    )


def hand_computed(body: dict) -> None:
    """The figures worked out by hand in outcome_season.py (the same as test_outcomes_domain's)."""
    records = {r["name"]: r for r in body["producers"]}
    assert sorted(records) == ["A", "B", "C", "E"]
    assert [
        (
            records[n]["invited"],
            records[n]["attended"],
            records[n]["declined"],
            records[n]["sales_per_market_day"],
        )
        for n in "ABCE"
    ] == [(3, 2, 1, "200.00"), (3, 2, 1, "75.00"), (3, 3, 0, "600.00"), (3, 2, 1, "300.00")]
    assert records["E"]["decline_reasons"] == {"no_raw_material": 1}
    assert records["E"]["sales_thb"] == "600.00" and records["E"]["trend"] == "200.00"
    assert records["A"]["mentoring_group"] == "G"
    assert body["market_days"] == 3 and body["months"] == ["2019-06-01", "2019-07-01"]
    season = body["new_vs_experienced"]
    assert (season["a"]["mean"], season["b"]["mean"], season["a"]["n"]) == ("137.50", "450.00", 2)
    shares = {c["criterion"]: c["share"] for c in body["programme"]["shares"]}
    assert body["programme"]["lineup"] == 12
    assert [
        shares[c]["count"] for c in ("quadrant_d", "stars_1_3", "nawatwithi", "low_seller", "intended")
    ] == [
        3,
        6,
        3,
        3,
        9,
    ]
    assert (shares["intended"]["low"], shares["intended"]["high"]) == ("51.27", "89.53")
    mentoring = body["mentoring"]
    assert mentoring["groups"] == [{"name": "G", "mentors": 1, "mentees": 1}]
    assert (
        mentoring["sales_per_market_day"]["a"]["mean"],
        mentoring["sales_per_market_day"]["b"]["mean"],
    ) == (
        "200.00",
        "75.00",
    )
    venues = {v["category"]: v["pracharat_vs_tourist"] for v in body["venues"]}
    assert (venues["food"]["a"]["n"], venues["food"]["a"]["mean"], venues["food"]["b"]["mean"]) == (
        5,
        "360.00",
        "500.00",
    )
    fairness = body["fairness"]
    assert fairness["eligible"] == 4 and fairness["distribution"] == {"0": 1, "3": 3}
    assert [p["name"] for p in fairness["never_invited"]] == ["x1"]


async def maintained(database_url: str) -> dict[str, tuple]:
    """What the consumers keep per producer and market day (producer_days) over 72's season, per
    producer: (days invited, attended, declined, the declines' reasons, sales on the days attended)."""
    db = await asyncpg.connect(database_url)
    try:
        rows = await db.fetch(
            """SELECT pd.* FROM producer_days pd JOIN market_days d ON d.id = pd.market_day_id
               WHERE d.province_code = '72' AND d.status <> 'cancelled'"""
        )
    finally:
        await db.close()
    names = {uid(name): name for name in "ABCE"}
    found: dict[str, tuple] = {}
    for name in sorted({names.get(row["producer_id"], "?") for row in rows}):
        mine = [row for row in rows if names.get(row["producer_id"], "?") == name]
        found[name] = (
            sum(row["invited"] for row in mine),
            sum(row["attended"] for row in mine),
            sum(row["declined"] for row in mine),
            Counter(reason for row in mine for reason in row["decline_reasons"]),
            sum((row["sales_thb"] for row in mine if row["attended"]), Decimal(0)),
        )
    return found


async def test_season_outcomes_from_reordered_then_replayed_events_by_province(database_url, kafka):
    await skip_earlier_events(kafka)
    events = season_events()
    reordered = events[:]
    random.Random(25).shuffle(reordered)  # revisions and event times, not arrival, decide
    path = "/provinces/72/outcomes/2562"
    async with running_service(spec, database_url, kafka) as http:
        await publish(kafka, *reordered)
        first = await shows(http, path, settled)
        hand_computed(first)
        kept = await maintained(database_url)  # the same figures, as the consumers keep them
        assert sorted(kept) == ["A", "B", "C", "E"]
        assert [kept[n][:3] + (kept[n][4],) for n in "ABCE"] == [
            (3, 2, 1, money(400)),
            (3, 2, 1, money(150)),
            (3, 3, 0, money(1800)),
            (3, 2, 1, money(600)),
        ]
        assert kept["E"][3] == {"no_raw_material": 1} and kept["C"][3] == {}
        # the never-invited come a page at a time, with their count
        assert (first["fairness"]["never_invited_count"], first["fairness"]["never_invited_offset"]) == (1, 0)
        paged = (await http.get(f"{path}?never_invited_offset=1", headers=OFFICER)).json()["fairness"]
        assert (paged["never_invited"], paged["never_invited_count"], paged["never_invited_offset"]) == (
            [],
            1,
            1,
        )
        assert (await http.get(f"{path}?never_invited_limit=1001", headers=OFFICER)).status_code == 422

        await publish(kafka, *events)  # the whole season again, in order: nothing changes
        await publish(kafka, *markers())
        await shows(http, "/national/outcomes/2562", markers_read, DEPARTMENT)
        again = (await http.get(path, headers=OFFICER)).json()
        assert again == first
        assert await maintained(database_url) == kept  # replayed in order after the reordered run

        # the producer's own record; another province's producer is not found from 72
        record = (await http.get(f"{path}/producers/{uid('B')}", headers=OFFICER)).json()
        assert record["months"] == [
            {"month": "2019-06-01", "sales_per_market_day": "0.00"},
            {"month": "2019-07-01", "sales_per_market_day": "150.00"},
        ]
        assert (await http.get(f"{path}/producers/{uid('ZZ')}", headers=OFFICER)).status_code == 404

        # tenancy: 72's officer cannot read 10; 10's officer sees only ZZ
        assert (await http.get("/provinces/10/outcomes/2562", headers=OFFICER)).status_code == 403
        other = await shows(
            http, "/provinces/10/outcomes/2562", lambda b: b["producers"], bearer("province_officer", "10")
        )
        assert [r["name"] for r in other["producers"]] == ["ZZ"]
        assert other["producers"][0]["sales_per_market_day"] == "70.00"

        # the national view is the department's
        assert (await http.get("/national/outcomes/2562", headers=OFFICER)).status_code == 403
        national = (await http.get("/national/outcomes/2562", headers=DEPARTMENT)).json()
        lines = {line["province_code"]: line for line in national["provinces"]}
        assert sorted(lines) == ["10", "11", "72"]
        assert (lines["72"]["eligible"], lines["72"]["never_invited"], lines["72"]["producers"]) == (4, 1, 4)
        assert (lines["10"]["eligible"], lines["10"]["never_invited"]) == (1, 1)
        assert lines["72"]["intended"]["count"] == 9 and national["intended"]["n"] == 12
        assert national["new_vs_experienced"]["a"]["n"] == 3  # A, B and ZZ
        assert national["note"].startswith("ข้อสังเกต")

        # the report screen opens on the latest month with a market day not cancelled (July for 72)
        assert (await http.get("/provinces/72/market-days/latest-month", headers=OFFICER)).json() == {
            "year": 2019,
            "month": 7,
        }
        assert (await http.get("/national/market-days/latest-month", headers=DEPARTMENT)).json() == {
            "year": 2019,
            "month": 8,
        }
        assert (await http.get("/provinces/72/outcomes/1999", headers=OFFICER)).status_code == 422
