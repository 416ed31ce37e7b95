"""Read models from registry, scheduling and sales events (revision-aware, idempotent), the results
section they feed, and the national roll-up: real Kafka and PostgreSQL, events as the services send them."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from services.monitoring.main import spec
from shared.contracts.registry import ProducerRegistered, ProductRegistered, ProductUpdated
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
    PlanSet,
    VenueRegistered,
)
from shared.topics import SCHEDULING_PLANS, dead_letter_topic
from tests.conftest import bearer, running_service
from tests.integration.test_reliability import read_topic
from tests.monitoring.support import DEPARTMENT, OFFICER, envelope, publish, report_shows, skip_earlier_events

pytestmark = pytest.mark.integration

NEW, OLD = uuid4(), uuid4()
VENUE = VenueRegistered(venue_id=uuid4(), name="ตลาดประชารัฐ คนไทยยิ้มได้ สุพรรณบุรี", kind="pracharat_market")


def producer(producer_id, experienced: bool) -> ProducerRegistered:
    return ProducerRegistered(
        producer_id=producer_id,
        revision=1,
        name=f"กลุ่ม {experienced}",
        producer_type="community_group",
        experienced=experienced,
    )


def product(name: str, category: str, producer_id, cls=ProductRegistered, revision: int = 1, product_id=None):
    return cls(
        product_id=product_id or uuid4(),
        revision=revision,
        producer_id=producer_id,
        name=name,
        category=category,
        star_level=2,
        quadrant="D",
        nawatwithi=False,
        price_thb=Decimal("45"),
        unit="ชิ้น",
    )


def market_day(day: date, cls, status: str, revision: int, market_day_id=None, plan_id=None, venue=VENUE):
    return cls(
        market_day_id=market_day_id or uuid4(),
        revision=revision,
        plan_id=plan_id,
        venue_id=venue.venue_id,
        venue_name=venue.name,
        venue_kind=venue.kind,
        day=day,
        status=status,
    )


def sale(cls, sale_id, revision: int, market_day_id, product_, quantity: str, voided: bool = False, **extra):
    price = Decimal("380.00") if product_.category == "textile" else Decimal("45.00")
    return cls(
        sale_id=sale_id,
        revision=revision,
        market_day_id=market_day_id,
        product_id=product_.product_id,
        producer_id=product_.producer_id,
        quantity=Decimal(quantity),
        unit_price_thb=price,
        amount_thb=Decimal(quantity) * price,
        sold_at=datetime(2019, 6, 8, 4, tzinfo=UTC),
        channel="officer",
        voided=voided,
        **extra,
    )


async def test_results_from_events_with_corrections_voids_redelivery_and_reordering(database_url, kafka):
    await skip_earlier_events(kafka)
    rice_v2 = product("ข้าวตังหน้าธัญพืช", "food", NEW, ProductUpdated, revision=2)
    rice_v1 = product("ข้าวตัง", "food", NEW, product_id=rice_v2.product_id)
    cloth, soap = product("ผ้าขาวม้าทอมือ", "textile", OLD), product("สบู่สมุนไพร", "herbal", OLD)
    plan_id = uuid4()
    plan = {
        "plan_id": plan_id,
        "name": "โครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
        "first_month": date(2019, 6, 1),
        "last_month": date(2019, 9, 1),
        "market_days_per_month": 4,
    }
    d1, d2, d3 = uuid4(), uuid4(), uuid4()
    s1, s2, s3, s4 = uuid4(), uuid4(), uuid4(), uuid4()
    s2_recorded = envelope(sale(SaleRecorded, s2, 1, d1, cloth, "1"))
    bad_plan = PlanSet(
        plan_id=uuid4(),
        revision=1,
        name="ผิด",
        first_month=date(2019, 9, 1),
        last_month=date(2019, 6, 1),
        market_days_per_month=4,
        products_per_market_day=20,
    )
    async with running_service(spec, database_url, kafka) as http:
        await publish(
            kafka,
            producer(NEW, False),
            producer(OLD, True),
            rice_v2,
            rice_v1,
            cloth,
            soap,
            VENUE,
            PlanSet(revision=2, products_per_market_day=20, **plan),
            PlanSet(revision=1, products_per_market_day=15, **plan),
            bad_plan,
            market_day(date(2019, 6, 8), MarketDayScheduled, "scheduled", 1, d1, plan_id),
            market_day(date(2019, 6, 8), MarketDayHeld, "held", 2, d1, plan_id),
            market_day(date(2019, 6, 15), MarketDayHeld, "held", 2, d2, plan_id),
            market_day(date(2019, 6, 15), MarketDayScheduled, "scheduled", 1, d2, plan_id),  # older: ignored
            market_day(date(2019, 6, 22), MarketDayCancelled, "cancelled", 2, d3, plan_id),
            AttendanceRecorded(
                market_day_id=d1,
                revision=2,
                product_ids=[rice_v2.product_id, cloth.product_id, soap.product_id],
                producer_ids=[NEW, OLD],
            ),
            AttendanceRecorded(
                market_day_id=d1, revision=1, product_ids=[cloth.product_id], producer_ids=[OLD]
            ),
            InvitationSent(invitation_id=(i1 := uuid4()), market_day_id=d1, product_id=cloth.product_id),
            InvitationAccepted(invitation_id=i1, market_day_id=d1, product_id=cloth.product_id),
            InvitationSent(invitation_id=(i2 := uuid4()), market_day_id=d1, product_id=uuid4()),
            InvitationDeclined(invitation_id=i2, market_day_id=d1, product_id=uuid4(), reason="busy"),
            # Accepted, then taken out of the lineup by an officer: sent, no longer accepted.
            InvitationSent(invitation_id=(i3 := uuid4()), market_day_id=d1, product_id=soap.product_id),
            InvitationAccepted(invitation_id=i3, market_day_id=d1, product_id=soap.product_id),
            InvitationWithdrawn(invitation_id=i3, market_day_id=d1, product_id=soap.product_id),
            sale(SaleRecorded, s1, 1, d1, rice_v2, "2"),
            sale(SaleCorrected, s1, 2, d1, rice_v2, "3", reason="นับผิด"),  # 3 x 45 = 135
            sale(SaleRecorded, s1, 1, d1, rice_v2, "2"),  # an old revision again: ignored
            s2_recorded,
            s2_recorded,  # the same event twice: counted once
            sale(SaleRecorded, s3, 1, d1, rice_v2, "1"),
            sale(SaleVoided, s3, 2, d1, rice_v2, "1", voided=True, reason="ยกเลิกการขาย"),
            sale(SaleRecorded, s4, 1, d2, cloth, "1"),
        )
        other_day = market_day(date(2019, 6, 9), MarketDayHeld, "held", 1)
        await publish(
            kafka,
            other_day,
            sale(SaleRecorded, uuid4(), 1, other_day.market_day_id, cloth, "2"),
            province="10",
        )

        def settled(r) -> bool:
            s, results = r["results"]["summary"], r["results"]
            return (
                s["sales_thb"] == "895.00"
                and s["market_days_held"] == 2
                and s["market_days_cancelled"] == 1
                and s["products_taking_part"] == 3
                and s["market_days_planned"] == 4
                and s["producers_taking_part"] == 2
                and results["invitations_declined"]
                and results["new_producers_taking_part"] == 1
                and (results["invitations_sent"], results["invitations_accepted"]) == (3, 1)
                and results["best_sellers"][-1]["name"] == "ข้าวตังหน้าธัญพืช"
                # every product sold is in the products read model (products are keyed, so partitioned, by
                # id: one product's event can be applied after another's)
                and all(c["key"] != "unknown" for c in results["sales_by_category"])
            )

        model = await report_shows(http, "/provinces/72/reports/2019/6", settled)
        results = model["results"]
        assert results["summary"]["sales"] == 3 and results["summary"]["products_target_per_market"] == 20
        assert [(c["key"], c["amount_thb"], c["sales"]) for c in results["sales_by_category"]] == [
            ("textile", "760.00", 2),
            ("food", "135.00", 1),
        ]
        assert [(p["name"], p["quantity"], p["amount_thb"]) for p in results["best_sellers"]] == [
            ("ผ้าขาวม้าทอมือ", "2.000", "760.00"),
            ("ข้าวตังหน้าธัญพืช", "3.000", "135.00"),
        ]
        assert [p["name"] for p in results["non_selling_products"]] == ["สบู่สมุนไพร"]
        by_day = {m["day"]: m for m in results["markets"]}
        assert (by_day["2019-06-08"]["products_shown"], by_day["2019-06-08"]["sales_thb"]) == (3, "515.00")
        assert (
            by_day["2019-06-08"]["meets_target"] is False and by_day["2019-06-15"]["products_shown"] is None
        )
        assert by_day["2019-06-22"]["status"] == "cancelled"
        assert (results["invitations_sent"], results["invitations_accepted"]) == (3, 1)
        assert [(d["reason"], d["invitations"]) for d in results["invitations_declined"]] == [("busy", 1)]
        assert [row["place"] for row in model["plan"]["rows"]] == ["ตลาดประชารัฐ คนไทยยิ้มได้ จังหวัดสุพรรณบุรี"]

        # A plan that can never apply is dead-lettered with the reason, and left out.
        [dead] = await read_topic(
            kafka, dead_letter_topic(SCHEDULING_PLANS), 1, key=str(bad_plan.plan_id).encode()
        )
        assert dict(dead.headers)["dlq-reason-code"] == b"rejected"

        # The national roll-up: department only, every province, the totals.
        national = await report_shows(
            http,
            "/national/reports/2562/6",
            lambda r: [row["sales_thb"] for row in r["provinces"]] == ["760.00", "895.00"],
            headers=DEPARTMENT,
        )
        rows = {row["province_code"]: row for row in national["provinces"]}
        assert rows["72"]["sales_thb"] == "895.00" and rows["10"]["sales_thb"] == "760.00"
        assert rows["10"]["province_name"] == "กรุงเทพมหานคร" and rows["10"]["market_days_planned"] == 0
        assert (
            national["totals"]["sales_thb"],
            national["totals"]["sales"],
            national["totals"]["market_days_held"],
        ) == ("1655.00", 4, 3)
        text = await http.get(
            "/national/reports/2562/6", params={"format": "text", "digits": "thai"}, headers=DEPARTMENT
        )
        assert "| สุพรรณบุรี | 72 | ๔ | ๒ |" in text.text and "| รวม | - | ๔ | ๓ |" in text.text
        for caller in (OFFICER, bearer("committee_member", "72")):
            assert (await http.get("/national/reports/2562/6", headers=caller)).status_code == 403
        assert (await http.get("/national/reports/2562/6")).status_code == 401

        # Province isolation, and the roles that may read the province's report.
        assert (
            await http.get("/provinces/72/reports/2019/6", headers=bearer("province_officer", "10"))
        ).status_code == 403
        assert (
            await http.get("/provinces/72/reports/2019/6", headers=bearer("integration", "72"))
        ).status_code == 403
        member = await http.get("/provinces/72/reports/2019/6", headers=bearer("committee_member", "72"))
        assert member.status_code == 200 and member.json()["results"]["summary"]["sales_thb"] == "895.00"
        bad = await http.get("/provinces/72/reports/1999/13", headers=OFFICER)
        assert bad.status_code == 422 and {e["loc"][-1] for e in bad.json()["detail"]} == {"year", "month"}
        assert (await http.get("/provinces/72/reports/2562/quarters/5", headers=OFFICER)).status_code == 422

        # The product read model the walking skeleton reads shows the newest revision.
        products = (await http.get("/provinces/72/products", headers=OFFICER)).json()
        assert {p["name"] for p in products["items"]} == {"ข้าวตังหน้าธัญพืช", "ผ้าขาวม้าทอมือ", "สบู่สมุนไพร"}
        for caller, status in ((bearer("committee_member", "72"), 200), (bearer("integration", "72"), 403)):
            assert (await http.get("/provinces/72/products", headers=caller)).status_code == status
        assert json.loads(s2_recorded.model_dump_json())["payload"]["sale_id"] == str(s2)
