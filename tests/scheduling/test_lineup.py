"""Product selection on a running scheduling service: read models built from registry and sales events
published to Kafka, then proposal, invitations, declines with replacements, officers' changes and
attendance over HTTP, and the events that land on Kafka."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from icalendar import Calendar

from services.scheduling.main import spec
from shared.contracts.registry import ProducerUpdated, ProductStatus, ProductUpdated
from shared.contracts.sales import SaleCorrected, SaleVoided
from shared.topics import REGISTRY_PRODUCERS, REGISTRY_PRODUCTS, SALES_RECORDED, SCHEDULING_MARKET_DAYS
from tests.conftest import consume_from_now, running_service
from tests.scheduling.support import (
    COMMITTEE,
    DEPARTMENT,
    OFFICER,
    OTHER_OFFICER,
    PLAN,
    applied,
    envelope,
    events,
    market_day,
    producer,
    product,
    publish,
    rows,
    sale,
    venue,
)

pytestmark = pytest.mark.integration
P = "/provinces/72"
DAY = date(2019, 6, 15)


@pytest.fixture
async def province(database_url, kafka):
    """A scheduling service whose read models know Suphanburi's producers, products and sales (and one
    product of another province), with a plan for June-September 2562 and a market day on 15 June."""
    # Other tests publish Suphanburi products too: the read models start from now, so they hold this test's.
    await consume_from_now(
        kafka,
        {
            "scheduling.producers": REGISTRY_PRODUCERS,
            "scheduling.products": REGISTRY_PRODUCTS,
            "scheduling.sales": SALES_RECORDED,
        },
    )
    async with running_service(spec, database_url, kafka) as http:
        many = producer("วิสาหกิจชุมชนทอผ้า")  # five products: the per-producer spreading shows
        short = producer(
            "กลุ่มขาดวัตถุดิบ", available=False, unavailable_reason="ขาดวัตถุดิบ", unavailable_until=date(2019, 7, 1)
        )
        singles = [producer(f"ผู้ผลิต {i:02d}") for i in range(18)]
        products = {
            f"single {i:02d}": product(f"single {i:02d}", p.producer_id) for i, p in enumerate(singles)
        }
        products |= {f"many {i}": product(f"many {i}", many.producer_id) for i in range(5)}
        products["A quadrant"] = product("A quadrant", singles[0].producer_id, quadrant="A", star_level=5)
        products["short of raw material"] = product("short of raw material", short.producer_id)
        withdrawn = product("withdrawn later", singles[1].producer_id)
        late_rev1 = envelope(withdrawn)
        stale_sale = sale(products["single 00"].product_id, "300")
        voided_sale = sale(products["single 02"].product_id, "1000")
        sales = [
            stale_sale,
            sale(
                products["single 00"].product_id,
                "30",
                event_type=SaleCorrected,
                revision=2,
                sale_id=stale_sale.sale_id,
                reason="พิมพ์ผิด",
            ),
            sale(products["single 01"].product_id, "800"),
            voided_sale,
            sale(
                products["single 02"].product_id,
                "1000",
                event_type=SaleVoided,
                revision=2,
                voided=True,
                sale_id=voided_sale.sale_id,
                reason="ยกเลิก",
            ),
            sale(
                products["single 03"].product_id, "5000", sold_at=datetime(2019, 1, 5, tzinfo=UTC)
            ),  # long ago
        ]
        foreign = product("another province's product", uuid4())
        await publish(
            kafka,
            many,
            short,
            *singles,
            *products.values(),
            (withdrawn, late_rev1),
            withdrawn.model_copy(update={"revision": 2, "status": ProductStatus.WITHDRAWN}),
            *sales,
        )
        # Redelivered and out of order: an old revision of the product, the sale's first revision again.
        await publish(kafka, (withdrawn, late_rev1), stale_sale)
        await publish(kafka, foreign, province="10")
        await applied(database_url, "scheduling.producers", 20)
        await applied(
            database_url, "scheduling.products", len(products) + 3
        )  # rev 2 applied; late rev 1 a dup
        await applied(database_url, "scheduling.sales", len(sales) + 1)
        plan = (await http.post(f"{P}/plans", json=PLAN, headers=OFFICER)).json()
        day = await market_day(http, (await venue(http))["id"], DAY)
        yield (
            http,
            {
                "products": products,
                "many": many,
                "singles": singles,
                "day": day,
                "plan": plan,
                "withdrawn": withdrawn,
            },
        )


def by_name(candidates: list[dict]) -> dict[str, dict]:
    return {c["name"]: c for c in candidates}


async def test_proposal_ranks_from_the_read_models(province, database_url):
    http, refs = province
    proposal = await http.get(f"{P}/market-days/{refs['day']['id']}/proposal", headers=COMMITTEE)
    assert proposal.status_code == 200, proposal.text
    body = proposal.json()
    candidates = by_name(body["candidates"])
    # Left out: withdrawn (revision 2 stands, the late revision 1 changed nothing), the producer short of raw
    # material until July, another province's product.
    assert set(candidates) == {*refs["products"]} - {"short of raw material"}
    # Recent sales are exact: the correction replaced 300 by 30, the void counts nothing, January is too old.
    assert [
        candidates[n]["recent_sales_thb"] for n in ("single 00", "single 01", "single 02", "single 03")
    ] == ["30.00", "800.00", "0", "0"]
    ranked = [c["name"] for c in body["candidates"]]
    assert ranked[-3:] == ["single 00", "single 01", "A quadrant"]  # sold most, then the A quadrant last
    assert [c["rank"] for c in body["candidates"]] == list(range(1, len(ranked) + 1))
    # Twenty proposed: the 19 available producers' first products, then the best-ranked second one.
    proposed = [c for c in body["candidates"] if c["proposed"]]
    assert (len(proposed), body["shortfall"], body["message"], body["products_target"]) == (20, 0, None, 20)
    assert sum(c["name"].startswith("many") for c in proposed) == 2
    assert len({c["producer_id"] for c in proposed}) == 19
    assert "A quadrant" not in {c["name"] for c in proposed}  # its producer's 'single 00' ranks first
    [stored] = await rows(
        database_url,
        "SELECT amount_thb, revision FROM sales WHERE id = $1",
        (await rows(database_url, "SELECT id FROM sales WHERE amount_thb = 30"))[0]["id"],
    )
    assert stored["revision"] == 2


async def test_fill_decline_replace_accept_and_adjust_by_hand(province, kafka):
    http, refs = province
    day_id = refs["day"]["id"]
    filled = await http.post(f"{P}/market-days/{day_id}/lineup/fill", headers=OFFICER)
    assert filled.status_code == 200, filled.text
    invited = filled.json()["invited"]
    assert len(invited) == 20 and filled.json()["shortfall"] == 0
    assert {i["status"] for i in invited} == {"sent"} and all(i["producer_name"] for i in invited)
    sent = await events(
        kafka,
        SCHEDULING_MARKET_DAYS,
        lambda e: e["type"] == "scheduling.invitation.sent" and e["payload"]["market_day_id"] == day_id,
        20,
    )
    assert {e["payload"]["invitation_id"] for e in sent} == {i["id"] for i in invited}
    assert all(e["payload"]["revision"] == 1 and e["province_code"] == "72" for e in sent)

    # A producer declines (busy): the answer proposes the next-ranked product not in the lineup.
    declining = next(i for i in invited if i["product_name"] == "single 05")
    declined = await http.post(
        f"{P}/invitations/{declining['id']}/decline", json={"reason": "busy"}, headers=OFFICER
    )
    assert declined.status_code == 200, declined.text
    assert (declined.json()["invitation"]["status"], declined.json()["invitation"]["decline_reason"]) == (
        "declined",
        "busy",
    )
    replacements = declined.json()["replacements"]
    assert (replacements["in_lineup"], replacements["shortfall"]) == (19, 0)
    [replacement] = replacements["candidates"]
    # The decliner's producer is out for the day; 'many' has two already, so a second for another producer.
    assert replacement["name"] == "A quadrant"
    assert replacement["name"] != declining["product_name"]
    again = await http.post(f"{P}/invitations/{declining['id']}/accept", headers=OFFICER)
    assert again.status_code == 409 and "declined cannot become accepted" in again.json()["detail"]
    refilled = (await http.post(f"{P}/market-days/{day_id}/lineup/fill", headers=OFFICER)).json()
    assert [i["product_name"] for i in refilled["invited"]] == [replacement["name"]]

    others = [i for i in invited if i["id"] != declining["id"]]
    accepted = await http.post(f"{P}/invitations/{others[0]['id']}/accept", headers=OFFICER)
    assert (accepted.json()["status"], accepted.json()["revision"]) == ("accepted", 2)
    assert (
        await http.post(f"{P}/invitations/{others[0]['id']}/accept", headers=COMMITTEE)
    ).status_code == 403
    assert (
        await http.post(f"/provinces/10/invitations/{others[0]['id']}/accept", headers=DEPARTMENT)
    ).status_code == 404

    # An officer swaps a product by hand (officers may overrule the registry: the raw material came early).
    out = others[1]
    removed = await http.delete(
        f"{P}/market-days/{day_id}/lineup/{out['product_id']}", params={"note": "สินค้าหมด"}, headers=OFFICER
    )
    assert (removed.json()["status"], removed.json()["note"]) == ("withdrawn", "สินค้าหมด")
    by_hand = refs["products"]["short of raw material"].product_id
    added = await http.post(
        f"{P}/market-days/{day_id}/lineup", json={"product_id": str(by_hand)}, headers=OFFICER
    )
    assert added.status_code == 201, added.text
    twice = await http.post(
        f"{P}/market-days/{day_id}/lineup", json={"product_id": str(by_hand)}, headers=OFFICER
    )
    assert twice.status_code == 409 and "already in the lineup" in twice.json()["detail"]
    withdrawn = await http.post(
        f"{P}/market-days/{day_id}/lineup",
        json={"product_id": str(refs["withdrawn"].product_id)},
        headers=OFFICER,
    )
    assert withdrawn.status_code == 409 and "withdrawn" in withdrawn.json()["detail"]
    unknown = await http.post(
        f"{P}/market-days/{day_id}/lineup", json={"product_id": str(uuid4())}, headers=OFFICER
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "product_id"]

    lineup = (await http.get(f"{P}/market-days/{day_id}/lineup", headers=COMMITTEE)).json()
    assert (lineup["in_lineup"], lineup["accepted"], lineup["shortfall"], lineup["products_target"]) == (
        20,
        1,
        0,
        20,
    )
    assert sorted(i["status"] for i in lineup["invitations"]).count("declined") == 1
    assert out["product_id"] not in {
        i["product_id"] for i in lineup["invitations"] if i["status"] in ("sent", "accepted")
    }

    answers = await events(
        kafka,
        SCHEDULING_MARKET_DAYS,
        lambda e: (
            e["payload"].get("market_day_id") == day_id
            and e["type"]
            in (
                "scheduling.invitation.declined",
                "scheduling.invitation.accepted",
                "scheduling.invitation.withdrawn",
            )
        ),
        3,
    )
    assert {(e["type"], e["payload"]["invitation_id"], e["payload"]["revision"]) for e in answers} == {
        ("scheduling.invitation.declined", declining["id"], 2),
        ("scheduling.invitation.accepted", others[0]["id"], 2),
        ("scheduling.invitation.withdrawn", out["id"], 2),
    }
    assert next(e for e in answers if e["type"].endswith("declined"))["payload"]["reason"] == "busy"

    # The public feed names the products confirmed to come, and no producer.
    [event] = Calendar.from_ical(
        (await http.get(f"{P}/calendar.ics", params={"from": "2019-06-01"})).content
    ).walk("VEVENT")
    description = str(event["description"])
    assert "ผลิตภัณฑ์ที่ยืนยันแล้ว 1 รายการ: " + others[0]["product_name"] in description
    assert others[0]["producer_name"] not in description


async def test_a_round_of_answers_is_recorded_together_or_not_at_all(province, kafka):
    http, refs = province
    day_id = refs["day"]["id"]
    invited = (await http.post(f"{P}/market-days/{day_id}/lineup/fill", headers=OFFICER)).json()["invited"]
    declining = next(i for i in invited if i["product_name"] == "single 05")
    accepting = [i for i in invited if i["id"] != declining["id"]][:5]
    answers = [
        {"invitation_id": declining["id"], "accept": False, "reason": "has_market"},
        *({"invitation_id": i["id"], "accept": True} for i in accepting),
    ]

    # Bad input, or one answer that cannot be given, and nothing is recorded.
    for bad in (
        [{"invitation_id": declining["id"], "accept": False}],  # a decline without its reason
        [{"invitation_id": declining["id"], "accept": True, "reason": "busy"}],
        [{"invitation_id": declining["id"], "accept": False, "reason": "other"}],  # other: say why
        answers + answers[:1],
    ):  # the same invitation twice
        refused = await http.post(f"{P}/market-days/{day_id}/answers", json={"answers": bad}, headers=OFFICER)
        assert refused.status_code == 422, refused.text
    assert (
        await http.post(f"{P}/market-days/{day_id}/answers", json={"answers": []}, headers=OFFICER)
    ).status_code == 422
    other_day = await market_day(http, refs["day"]["venue_id"], date(2019, 6, 22))
    elsewhere = await http.post(
        f"{P}/market-days/{other_day['id']}/answers", json={"answers": answers}, headers=OFFICER
    )
    assert elsewhere.status_code == 404  # invitations of another market day
    assert (
        await http.post(f"{P}/market-days/{day_id}/answers", json={"answers": answers}, headers=COMMITTEE)
    ).status_code == 403
    lineup = (await http.get(f"{P}/market-days/{day_id}/lineup", headers=OFFICER)).json()
    assert {i["status"] for i in lineup["invitations"]} == {"sent"}

    recorded = await http.post(
        f"{P}/market-days/{day_id}/answers", json={"answers": answers}, headers=OFFICER
    )
    assert recorded.status_code == 200, recorded.text
    body = recorded.json()
    assert [(i["id"], i["status"]) for i in body["invitations"]] == [
        (declining["id"], "declined"),
        *((i["id"], "accepted") for i in accepting),
    ]
    assert body["invitations"][0]["decline_reason"] == "has_market"
    [replacement] = body["replacements"]["candidates"]  # as one decline answers: the next-ranked product
    assert replacement["name"] == "A quadrant" and body["replacements"]["in_lineup"] == 19
    again = await http.post(
        f"{P}/market-days/{day_id}/answers", json={"answers": answers[:1]}, headers=OFFICER
    )
    assert again.status_code == 409  # declined already
    events_ = await events(
        kafka,
        SCHEDULING_MARKET_DAYS,
        lambda e: (
            e["payload"].get("market_day_id") == day_id
            and e["type"] in ("scheduling.invitation.declined", "scheduling.invitation.accepted")
        ),
        6,
    )
    assert sorted((e["type"], e["payload"]["invitation_id"]) for e in events_) == sorted(
        [
            ("scheduling.invitation.declined", declining["id"]),
            *(("scheduling.invitation.accepted", i["id"]) for i in accepting),
        ]
    )


async def test_a_small_pool_reports_its_shortfall_and_producers_invited_less_come_first(province):
    http, refs = province
    bigger = await http.put(
        f"{P}/plans/{refs['plan']['id']}", json={**PLAN, "products_per_market_day": 30}, headers=OFFICER
    )
    assert bigger.status_code == 200
    filled = (await http.post(f"{P}/market-days/{refs['day']['id']}/lineup/fill", headers=OFFICER)).json()
    # 18 single producers (one also has the A product), 'many' capped at 3: 18 + 1 + 3 = 22 of 30.
    assert (len(filled["invited"]), filled["shortfall"]) == (22, 8)
    assert (
        filled["message"]
        == "the lineup has 0 of the 30 products wanted and only 22 more can be proposed: 8 short"
    )

    # A week later the producers invited on the 15th carry that chance (ranking after equals who had none).
    later = await market_day(http, refs["day"]["venue_id"], date(2019, 6, 22))
    ranked = (await http.get(f"{P}/market-days/{later['id']}/proposal", headers=OFFICER)).json()["candidates"]
    counts = {c["name"]: c["producer_recent_invitations"] for c in ranked}
    assert counts["many 0"] == 3 and counts["single 05"] == 1
    # The same day at another venue: every producer already in the lineup of the 15th is left out.
    elsewhere = await market_day(http, (await venue(http, name="ตลาดน้ำสามชุก"))["id"], DAY)
    same_day = (await http.get(f"{P}/market-days/{elsewhere['id']}/proposal", headers=OFFICER)).json()
    assert (same_day["candidates"], same_day["shortfall"]) == ([], 30)  # the plan now wants 30


async def test_attendance_on_the_day_and_plan_against_actual(province, kafka):
    http, refs = province
    day_id = refs["day"]["id"]
    invited = (await http.post(f"{P}/market-days/{day_id}/lineup/fill", headers=OFFICER)).json()["invited"]
    came = [i["product_id"] for i in invited[:18]]
    unknown = await http.put(
        f"{P}/market-days/{day_id}/attendance", json={"product_ids": [came[0], str(uuid4())]}, headers=OFFICER
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "product_ids", 1]
    twice = await http.put(
        f"{P}/market-days/{day_id}/attendance", json={"product_ids": [came[0], came[0]]}, headers=OFFICER
    )
    assert twice.status_code == 422
    recorded = await http.put(
        f"{P}/market-days/{day_id}/attendance", json={"product_ids": came}, headers=OFFICER
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["revision"] == 1
    assert set(recorded.json()["producer_ids"]) == {i["producer_id"] for i in invited[:18]}
    assert (await http.get(f"{P}/market-days/{day_id}/attendance", headers=COMMITTEE)).json()[
        "product_ids"
    ] == came
    [event] = await events(
        kafka,
        SCHEDULING_MARKET_DAYS,
        lambda e: e["type"] == "scheduling.attendance.recorded" and e["payload"]["market_day_id"] == day_id,
        1,
    )
    assert len(event["payload"]["product_ids"]) == 18

    assert (await http.post(f"{P}/market-days/{day_id}/held", headers=OFFICER)).status_code == 200
    late_change = await http.post(f"{P}/market-days/{day_id}/lineup/fill", headers=OFFICER)
    assert late_change.status_code == 409 and "held market day" in late_change.json()["detail"]
    progress = (await http.get(f"{P}/plans/{refs['plan']['id']}/progress", headers=COMMITTEE)).json()
    june = progress["months"][0]
    assert (june["held"], june["missing"], june["days_meeting_target"]) == (1, 3, 0)  # 18 came, 20 wanted
    [facts] = june["market_days"]
    assert (facts["in_lineup"], facts["attended"], facts["products"]) == (20, 18, 18)
    assert (await http.get(f"{P}/market-days/{day_id}/attendance", headers=OTHER_OFFICER)).status_code == 403


async def test_an_unavailable_producer_coming_back_is_proposed_again(province, kafka, database_url):
    http, refs = province
    back = ProducerUpdated(
        **{**refs["many"].model_dump(), "revision": 2, "available": False, "unavailable_reason": "ขาดวัตถุดิบ"}
    )
    await publish(
        kafka,
        back,
        ProductUpdated(
            **{**refs["products"]["single 04"].model_dump(), "revision": 2, "status": "withdrawn"}
        ),
    )
    await applied(database_url, "scheduling.producers", 21)
    await applied(database_url, "scheduling.products", len(refs["products"]) + 4)
    names = {
        c["name"]
        for c in (await http.get(f"{P}/market-days/{refs['day']['id']}/proposal", headers=OFFICER)).json()[
            "candidates"
        ]
    }
    assert not any(n.startswith("many") for n in names) and "single 04" not in names
