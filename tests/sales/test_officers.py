"""Officers record sales over HTTP (single, batch, CSV), correct and void them with an audit trail, and
read totals; on a running sales service with real Kafka and PostgreSQL."""

import json
from datetime import date
from uuid import uuid4

import pytest

from services.sales.main import spec
from shared.contracts.scheduling import MarketDayCancelled, MarketDayStatus
from shared.topics import SALES_RECORDED
from tests.conftest import bearer, running_service
from tests.sales.support import OFFICER, market_day, product, publish, read_models_know, read_until, totals

pytestmark = pytest.mark.integration
SALES = "/provinces/72/sales"


@pytest.fixture
async def service(database_url, kafka):
    """A sales service whose read models know two products (two producers, two categories) and three
    market days (two venues, two months, one cancelled)."""
    async with running_service(spec, database_url, kafka) as http:
        rice, cloth = product(price="45.00"), product(price="250.00", category="textile", name="ผ้าขาวม้าทอมือ")
        venue = uuid4()
        june, july = market_day(venue_id=venue), market_day(day=date(2019, 7, 6), venue="ตลาดน้ำสามชุก")
        june_again = market_day(day=date(2019, 6, 22), venue_id=venue)
        cancelled = market_day(kind=MarketDayCancelled, status=MarketDayStatus.CANCELLED)
        await publish(kafka, rice, cloth, june, july, june_again, cancelled)
        await read_models_know(database_url, rice, cloth, june, july, june_again, cancelled)
        yield (
            http,
            {
                "rice": rice,
                "cloth": cloth,
                "june": june,
                "july": july,
                "june_again": june_again,
                "cancelled": cancelled,
                "venue": venue,
            },
        )


def sale(refs, product: str = "rice", day: str = "june", **fields) -> dict:
    return {
        "product_id": str(refs[product].product_id),
        "market_day_id": str(refs[day].market_day_id),
        "quantity": "2",
        **fields,
    }


async def test_officer_records_one_sale_and_the_canonical_event_follows(service, kafka):
    http, refs = service
    created = await http.post(SALES, json=sale(refs, quantity="3"), headers=OFFICER)
    assert created.status_code == 201, created.text
    recorded = created.json()
    assert (recorded["unit_price_thb"], recorded["amount_thb"]) == ("45.00", "135.00")  # the registered price
    assert recorded["channel"] == "officer" and recorded["revision"] == 1
    assert recorded["producer_id"] == str(refs["rice"].producer_id)

    [event] = await read_until(
        kafka,
        SALES_RECORDED,
        keep=lambda r: r.key == recorded["sale_id"].encode(),
        done=lambda rs: len(rs) >= 1,
    )
    assert json.loads(event.value)["payload"]["amount_thb"] == "135.00"

    assert (
        await http.get(f"{SALES}/{recorded['sale_id']}", headers=bearer("committee_member", "72"))
    ).json() == recorded
    assert (
        await http.post(SALES, json=sale(refs), headers=bearer("committee_member", "72"))
    ).status_code == 403
    assert (
        await http.post(SALES, json=sale(refs), headers=bearer("province_officer", "10"))
    ).status_code == 403
    assert (
        await http.get(f"{SALES}/{recorded['sale_id']}", headers=bearer("province_officer", "10"))
    ).status_code == 403
    assert (await http.post(SALES, json=sale(refs))).status_code == 401


async def test_a_batch_is_recorded_whole_or_not_at_all(service):
    http, refs = service
    bad = [sale(refs), sale(refs, product="cloth", quantity="0"), sale(refs)]
    invalid = await http.post(f"{SALES}/batch", json={"sales": bad}, headers=OFFICER)
    assert invalid.status_code == 422
    assert [e["loc"] for e in invalid.json()["detail"]] == [["body", "sales", 1, "quantity"]]

    unknown = [sale(refs), {**sale(refs), "product_id": str(uuid4())}, sale(refs, day="cancelled")]
    refused = await http.post(f"{SALES}/batch", json={"sales": unknown}, headers=OFFICER)
    assert refused.status_code == 422
    assert [(e["loc"], e["type"]) for e in refused.json()["detail"]] == [
        (["body", "sales", 1], "unknown_reference"),
        (["body", "sales", 2], "market_day_cancelled"),
    ]
    assert (await http.get(SALES, headers=OFFICER)).json()["total"] == 0  # nothing half-written

    good = [
        sale(refs),
        sale(refs, product="cloth", unit_price_thb="200.50", quantity="1.5"),
        sale(refs, day="july"),
    ]
    created = await http.post(f"{SALES}/batch", json={"sales": good}, headers=OFFICER)
    assert created.status_code == 201, created.text
    assert [s["amount_thb"] for s in created.json()["sales"]] == ["90.00", "300.75", "90.00"]
    assert (await http.get(SALES, headers=OFFICER)).json()["total"] == 3


async def test_a_device_queue_sent_twice_counts_once(service):
    """An offline queue resent (a lost answer, a reload): each sale carries the device's id and counts
    once."""
    http, refs = service
    queue = [sale(refs, quantity=str(n + 1), client_sale_id=str(uuid4())) for n in range(5)]
    first = await http.post(f"{SALES}/batch", json={"sales": queue}, headers=OFFICER)
    assert first.status_code == 201, first.text
    again = await http.post(
        f"{SALES}/batch",
        json={"sales": queue[2:] + [sale(refs, client_sale_id=str(uuid4()))]},
        headers=OFFICER,
    )
    assert again.status_code == 201, again.text
    assert [s["sale_id"] for s in again.json()["sales"][:3]] == [
        s["sale_id"] for s in first.json()["sales"][2:]
    ]
    assert (await http.get(SALES, headers=OFFICER)).json()["total"] == 6
    [rice] = (await http.get(f"{SALES}/totals", params={"by": "product"}, headers=OFFICER)).json()["items"]
    assert (rice["sales"], rice["quantity"]) == (6, "17.000")  # 1+2+3+4+5, and the new one's 2
    # The same device id in another province is another sale: ids are scoped by province.
    other = await http.post("/provinces/10/sales", json=queue[0], headers=bearer("province_officer", "10"))
    assert other.status_code == 422  # refused for its unknown product, not answered with province 72's sale


async def test_csv_upload_records_every_row_or_names_each_bad_line(service):
    http, refs = service
    rice, cloth = refs["rice"].product_id, refs["cloth"].product_id
    june, july = refs["june"].market_day_id, refs["july"].market_day_id
    csv_headers = {**OFFICER, "Content-Type": "text/csv"}
    broken = (
        "product_id,market_day_id,quantity,unit_price_thb,sold_at\n"
        f"{rice},{june},2,,\n"
        f"not-a-uuid,{june},2,,\n"
        f"{cloth},{july},-1,,\n"
        f"{uuid4()},{july},1,,\n"
    )
    refused = await http.post(f"{SALES}/csv", content=broken.encode(), headers=csv_headers)
    assert refused.status_code == 422
    assert [e["loc"][:3] for e in refused.json()["detail"]] == [
        ["csv", 3, "product_id"],
        ["csv", 4, "quantity"],
    ]

    unknown = broken.replace("not-a-uuid", str(rice)).replace(",-1,", ",1,")
    refused = await http.post(f"{SALES}/csv", content=unknown.encode(), headers=csv_headers)
    assert [(e["loc"], e["type"]) for e in refused.json()["detail"]] == [(["csv", 5], "unknown_reference")]
    assert (await http.get(SALES, headers=OFFICER)).json()["total"] == 0

    good = (
        "\ufeffproduct_id,market_day_id,quantity,unit_price_thb,sold_at\n"  # Excel writes a BOM
        f"{rice},{june},2,,\n"
        f"{cloth},{july},1,240,2019-07-06T11:00:00+07:00\n"
    )
    created = await http.post(f"{SALES}/csv", content=good.encode(), headers=csv_headers)
    assert created.status_code == 201, created.text
    assert [(s["amount_thb"], s["sold_at"]) for s in created.json()["sales"]][1] == (
        "240.00",
        "2019-07-06T04:00:00Z",
    )
    assert [s["recorded_by"] for s in created.json()["sales"]] == ["province_officer-72"] * 2

    assert (await http.post(f"{SALES}/csv", content=good.encode(), headers=OFFICER)).status_code == 415
    header_only = await http.post(f"{SALES}/csv", content=b"product,qty\n", headers=csv_headers)
    assert header_only.status_code == 422 and header_only.json()["detail"][0]["type"] == "header"


async def test_corrections_and_voids_leave_an_audit_trail_and_change_the_totals(service, kafka):
    http, refs = service
    sale_id = (await http.post(SALES, json=sale(refs, quantity="4"), headers=OFFICER)).json()["sale_id"]
    other = (
        await http.post(SALES, json=sale(refs, product="cloth", day="july", quantity="1"), headers=OFFICER)
    ).json()

    fixed = await http.post(
        f"{SALES}/{sale_id}/corrections", json={"quantity": "5", "reason": "นับผิด"}, headers=OFFICER
    )
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["revision"], fixed.json()["amount_thb"]) == (2, "225.00")
    repriced = await http.post(
        f"{SALES}/{sale_id}/corrections", json={"unit_price_thb": "40", "reason": "ลดราคา"}, headers=OFFICER
    )
    assert (repriced.json()["revision"], repriced.json()["amount_thb"]) == (3, "200.00")
    assert (
        await http.post(f"{SALES}/{sale_id}/corrections", json={"reason": "nothing"}, headers=OFFICER)
    ).status_code == 422
    assert (
        await http.post(
            f"{SALES}/{sale_id}/corrections",
            json={"quantity": "1", "reason": "x"},
            headers=bearer("committee_member", "72"),
        )
    ).status_code == 403

    by_product = await totals(http, "product")
    assert by_product[str(refs["rice"].product_id)]["amount_thb"] == "200.00"

    voided = await http.post(f"{SALES}/{other['sale_id']}/void", json={"reason": "บันทึกซ้ำ"}, headers=OFFICER)
    assert (voided.json()["voided"], voided.json()["revision"]) == (True, 2)
    assert (
        await http.post(f"{SALES}/{other['sale_id']}/void", json={"reason": "again"}, headers=OFFICER)
    ).status_code == 409
    assert (
        await http.post(
            f"{SALES}/{other['sale_id']}/corrections", json={"quantity": "2", "reason": "x"}, headers=OFFICER
        )
    ).status_code == 409
    assert (
        await http.post(f"{SALES}/{uuid4()}/void", json={"reason": "x"}, headers=OFFICER)
    ).status_code == 404
    assert str(refs["cloth"].product_id) not in await totals(http, "product")

    trail = (await http.get(f"{SALES}/{sale_id}/audit", headers=bearer("committee_member", "72"))).json()
    assert [(t["revision"], t["action"], t["reason"]) for t in trail] == [
        (2, "corrected", "นับผิด"),
        (3, "corrected", "ลดราคา"),
    ]
    assert (trail[0]["before"]["quantity"], trail[0]["after"]["quantity"]) == ("4.000", "5.000")
    assert trail[0]["actor"] == "province_officer-72"

    events = await read_until(
        kafka, SALES_RECORDED, keep=lambda r: r.key == other["sale_id"].encode(), done=lambda rs: len(rs) >= 2
    )
    assert [(json.loads(e.value)["type"], json.loads(e.value)["payload"]["revision"]) for e in events] == [
        ("sales.sale.recorded", 1),
        ("sales.sale.voided", 2),
    ]
    assert json.loads(events[1].value)["payload"]["reason"] == "บันทึกซ้ำ"


async def test_totals_per_product_market_day_producer_venue_month_and_category(service):
    http, refs = service
    batch = [
        sale(refs, quantity="2"),  # 90
        sale(refs, day="june_again", quantity="1"),  # 45
        sale(refs, product="cloth", day="july", quantity="1"),  # 250
        sale(refs, product="cloth", day="june", quantity="2"),
    ]  # 500
    assert (await http.post(f"{SALES}/batch", json={"sales": batch}, headers=OFFICER)).status_code == 201

    def amounts(items: dict) -> dict:
        return {key: item["amount_thb"] for key, item in items.items()}

    rice, cloth = str(refs["rice"].product_id), str(refs["cloth"].product_id)
    assert amounts(await totals(http, "product")) == {rice: "135.00", cloth: "750.00"}
    assert amounts(await totals(http, "producer")) == {
        str(refs["rice"].producer_id): "135.00",
        str(refs["cloth"].producer_id): "750.00",
    }
    assert amounts(await totals(http, "month")) == {"2019-06": "635.00", "2019-07": "250.00"}
    assert amounts(await totals(http, "category")) == {"food": "135.00", "textile": "750.00"}
    by_venue = await totals(http, "venue")
    assert amounts(by_venue)[str(refs["venue"])] == "635.00" and len(by_venue) == 2
    by_day = await totals(http, "market_day")
    assert by_day[str(refs["june"].market_day_id)]["label"] == "2019-06-15 ตลาดประชารัฐ สุพรรณบุรี"
    assert by_day[str(refs["june"].market_day_id)]["sales"] == 2
    assert amounts(await totals(http, "product", **{"from": "2019-07-01", "to": "2019-07-31"})) == {
        cloth: "250.00"
    }
    assert (await http.get(f"{SALES}/totals", params={"by": "colour"}, headers=OFFICER)).status_code == 422
    assert (
        await http.get(f"{SALES}/totals", params={"by": "month"}, headers=bearer("committee_member", "10"))
    ).status_code == 403
