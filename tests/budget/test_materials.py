"""The stock of reusable materials and each market day's packing list on a running budget service: the
lineup's size from scheduling's events, a shortfall shown before the day, items checked off when loaded
and when back, write-offs with their reason."""

from datetime import date
from uuid import uuid4

import pytest

from shared.topics import BUDGET_MATERIALS
from tests.budget.support import OFFICER, OTHER_OFFICER, P72, events, lineup, market_day, ok, publish
from tests.conftest import eventually

pytestmark = pytest.mark.integration


async def test_a_market_days_packing_list_follows_its_lineup_and_shows_a_shortfall(budget, kafka):
    day = market_day(date(2019, 6, 8))
    await publish(kafka, day, *lineup(day.market_day_id, 22, accepted=15))
    for kind, quantity in (("table", 8), ("tent", 6), ("flag", 1), ("banner", 1), ("tablecloth", 11)):
        await ok(
            await budget.post(
                f"{P72}/stock", json={"kind": kind, "quantity": quantity, "reason": "มีอยู่เดิม"}, headers=OFFICER
            ),
            201,
        )
    url = f"{P72}/market-days/{day.market_day_id}/packing-list"

    async def lineup_known():
        answer = await budget.get(url, headers=OFFICER)
        return answer.status_code == 200 and answer.json()["lineup_size"] == 22 and answer.json()

    packing = await eventually(lineup_known, timeout=60)
    items = {item["kind"]: item for item in packing["items"]}
    assert {k: (i["needed"], i["on_hand"], i["short"]) for k, i in items.items()} == {
        "flag": (1, 1, 0),
        "banner": (1, 1, 0),
        "tent": (6, 6, 0),
        "table": (11, 8, 3),  # more tables needed than the province owns
        "tablecloth": (11, 11, 0),
        "price_tag": (22, 0, 0),  # used up, bought for the day
    }
    assert packing["shortfall"] is True
    season = await ok(
        await budget.get(f"{P72}/packing-lists", params={"start": "2019-06-01"}, headers=OFFICER)
    )
    assert [(p["market_day_id"], p["shortfall"]) for p in season] == [(str(day.market_day_id), True)]

    # A broken table written off: the shortfall grows; more than the province has is refused.
    off = await ok(
        await budget.post(
            f"{P72}/stock/table/write-off", json={"quantity": 1, "reason": "ขาโต๊ะหัก"}, headers=OFFICER
        )
    )
    assert (off["on_hand"], off["written_off"], off["history"][-1]["reason"]) == (7, 1, "ขาโต๊ะหัก")
    too_many = await budget.post(
        f"{P72}/stock/table/write-off", json={"quantity": 8, "reason": "หาย"}, headers=OFFICER
    )
    assert too_many.status_code == 409
    assert (
        await budget.post(f"{P72}/stock/table/write-off", json={"quantity": 1}, headers=OFFICER)
    ).status_code == 422
    assert (
        await budget.post(
            f"{P72}/stock", json={"kind": "price_tag", "quantity": 5, "reason": "x"}, headers=OFFICER
        )
    ).status_code == 422
    assert {i["kind"]: i["short"] for i in (await ok(await budget.get(url, headers=OFFICER)))["items"]}[
        "table"
    ] == 4

    # Checked off when loaded and when back.
    await ok(await budget.post(url, json={"kind": "flag", "loaded": True}, headers=OFFICER))
    await ok(await budget.post(url, json={"kind": "table", "loaded": True}, headers=OFFICER))
    back = await ok(await budget.post(url, json={"kind": "flag", "returned": True}, headers=OFFICER))
    marks = {i["kind"]: (i["loaded"], i["returned"]) for i in back["items"]}
    assert (marks["flag"], marks["table"], marks["tent"]) == ((True, True), (True, False), (False, False))
    assert (
        await budget.post(url, json={"kind": "other", "loaded": True}, headers=OFFICER)
    ).status_code == 422
    assert (
        await budget.post(url, json={"kind": "flag", "loaded": True}, headers=OTHER_OFFICER)
    ).status_code == 403
    unknown = await budget.get(f"{P72}/market-days/{uuid4()}/packing-list", headers=OFFICER)
    assert unknown.status_code == 404

    published = await events(
        kafka, BUDGET_MATERIALS, lambda e: e["payload"].get("market_day_id") == str(day.market_day_id), 3
    )
    assert [e["payload"]["revision"] for e in published] == [1, 2, 3]
    assert published[-1]["payload"]["lineup_size"] == 22
    assert {i["kind"]: i["returned"] for i in published[-1]["payload"]["items"]}["flag"] is True
    written_off = await events(
        kafka,
        BUDGET_MATERIALS,
        lambda e: (
            e["type"] == "budget.stock.written_off"
            and e["payload"]["reason"] == "ขาโต๊ะหัก"
            and e["payload"]["stock_id"] == off["id"]
        ),
        1,
    )
    assert written_off[0]["payload"]["change"] == -1
