"""Spending against the approved lines on a running budget service: items requested, bought with a receipt,
received into the stock; exact satang; a purchase over its line refused before anything is written."""

from decimal import Decimal

import pytest

from services.budget.inputs import RECEIPT_MAX_BYTES
from shared.topics import BUDGET_MATERIALS, BUDGET_SPENDING
from tests.budget.support import DEPARTMENT, OFFICER, OTHER_OFFICER, P72, approved_proposal, events, ok, png

pytestmark = pytest.mark.integration
FLAGS = {"category": "materials", "name": "ธงญี่ปุ่น ขนาด 150 × 50 ซม.", "kind": "flag", "quantity": 2}


async def test_flags_are_requested_bought_with_a_receipt_and_received_into_the_stock(budget, kafka):
    proposal = await approved_proposal(budget)
    purchases = f"{P72}/proposals/{proposal['id']}/purchases"
    flags = await ok(
        await budget.post(purchases, json={**FLAGS, "unit_cost_thb": "1250.25"}, headers=OFFICER), 201
    )
    assert (flags["estimated_thb"], flags["status"], flags["reusable"]) == ("2500.50", "requested", True)

    url = f"{P72}/purchases/{flags['id']}"
    # No receipt before it is bought; then only an image or a PDF, within the limit, by its bytes.
    assert (await budget.put(f"{url}/receipt", content=png(), headers=OFFICER)).status_code == 409
    bought = {"bought_on": "2019-06-03", "supplier": "ร้านสุพรรณป้าย", "amount_thb": "2480.10"}
    assert (await ok(await budget.post(f"{url}/bought", json=bought, headers=OFFICER)))["status"] == "bought"
    for body, status, code in (
        (b"MZ\x90\x00 not a receipt", 415, "receipt_not_accepted"),
        (png()[:40], 415, "receipt_not_accepted"),  # a truncated image
        (b"%PDF-1.4 no end", 415, "receipt_incomplete"),
        (b"\x89PNG" + b"0" * RECEIPT_MAX_BYTES, 413, None),  # refused before it is read
        (b"", 422, None),
    ):
        refused = await budget.put(
            f"{url}/receipt", content=body, headers={**OFFICER, "content-type": "image/png"}
        )
        assert refused.status_code == status, (body[:10], refused.text)
        if code:  # the code the web app says in Thai (web/src/lib/api.ts CODE_MESSAGES)
            assert refused.json()["detail"]["code"] == code
    attached = await budget.put(
        f"{url}/receipt", content=png(), headers={**OFFICER, "content-type": "application/pdf"}
    )
    assert (await ok(attached))["receipt"] is True
    scan = await budget.get(f"{url}/receipt", headers=DEPARTMENT)
    assert (scan.status_code, scan.headers["content-type"], scan.content) == (200, "image/png", png())
    assert (await budget.get(f"{url}/receipt", headers=OTHER_OFFICER)).status_code == 403

    received = await ok(
        await budget.post(f"{url}/received", json={"received_on": "2019-06-05"}, headers=OFFICER)
    )
    assert received["status"] == "received"
    [stock] = await ok(await budget.get(f"{P72}/stock", headers=OFFICER))
    assert (stock["kind"], stock["on_hand"], stock["history"][0]["purchase_id"]) == ("flag", 2, flags["id"])

    spending = await ok(await budget.get(f"{P72}/proposals/{proposal['id']}/spending", headers=OFFICER))
    materials = next(line for line in spending["lines"] if line["category"] == "materials")
    assert (materials["approved_thb"], materials["spent_thb"], materials["remaining_thb"]) == (
        "30000.00",
        "2480.10",
        "27519.90",
    )
    assert (spending["approved_thb"], spending["spent_thb"]) == ("50000.50", "2480.10")

    published = await events(kafka, BUDGET_SPENDING, lambda e: e["payload"]["purchase_id"] == flags["id"], 4)
    assert [(e["type"], e["payload"]["revision"]) for e in published] == [
        ("budget.purchase.requested", 1),
        ("budget.purchase.bought", 2),
        ("budget.purchase.receipt_attached", 3),
        ("budget.purchase.received", 4),
    ]
    assert (published[1]["payload"]["amount_thb"], published[1]["payload"]["supplier"]) == (
        "2480.10",
        "ร้านสุพรรณป้าย",
    )
    [added] = await events(
        kafka, BUDGET_MATERIALS, lambda e: e["payload"].get("purchase_id") == flags["id"], 1
    )
    assert (added["type"], added["payload"]["on_hand"], added["payload"]["change"]) == (
        "budget.stock.added",
        2,
        2,
    )


async def test_a_purchase_over_its_line_is_refused_and_amounts_stay_exact(budget):
    proposal = await approved_proposal(budget)
    purchases = f"{P72}/proposals/{proposal['id']}/purchases"
    # Publicity has 8000.50: three posters at 0.10 and 0.20 add up exactly, no float drift.
    for cost in ("0.10", "0.20"):
        item = {"category": "publicity", "name": "โปสเตอร์", "quantity": 3, "unit_cost_thb": cost}
        await ok(await budget.post(purchases, json=item, headers=OFFICER), 201)
    over = {"category": "publicity", "name": "ป้ายโฆษณา", "quantity": 1, "unit_cost_thb": "7999.71"}
    refused = await budget.post(purchases, json=over, headers=OFFICER)
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "exceeds_line", refused.text
    exactly = await ok(
        await budget.post(purchases, json={**over, "unit_cost_thb": "7999.60"}, headers=OFFICER), 201
    )

    spending = await ok(await budget.get(f"{P72}/proposals/{proposal['id']}/spending", headers=OFFICER))
    publicity = next(line for line in spending["lines"] if line["category"] == "publicity")
    assert (publicity["committed_thb"], publicity["remaining_thb"]) == ("8000.50", "0.00")
    assert Decimal(publicity["committed_thb"]) == Decimal("0.30") + Decimal("0.60") + Decimal("7999.60")

    # Bought for more than its estimate when the line has nothing left: refused, the request unchanged.
    bought = {"bought_on": "2019-06-04", "supplier": "โรงพิมพ์", "amount_thb": "7999.61"}
    refused = await budget.post(f"{P72}/purchases/{exactly['id']}/bought", json=bought, headers=OFFICER)
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "exceeds_line"
    for bad in ({"amount_thb": "-1.00"}, {"amount_thb": "0"}, {"amount_thb": "1.001"}, {"supplier": ""}):
        answer = await budget.post(
            f"{P72}/purchases/{exactly['id']}/bought", json={**bought, **bad}, headers=OFFICER
        )
        assert answer.status_code == 422, (bad, answer.text)
    [still] = [
        p for p in await ok(await budget.get(f"{P72}/purchases", headers=OFFICER)) if p["id"] == exactly["id"]
    ]
    assert (still["status"], still["revision"], still["amount_thb"]) == ("requested", 1, None)
    await ok(
        await budget.post(
            f"{P72}/purchases/{exactly['id']}/bought",
            json={**bought, "amount_thb": "7990.00"},
            headers=OFFICER,
        )
    )

    # A line the budget does not have, and spending before approval, are refused.
    meeting = {"category": "meetings", "name": "ค่าอาหารว่าง", "quantity": 1, "unit_cost_thb": "100"}
    assert (await budget.post(purchases, json=meeting, headers=OFFICER)).json()["detail"][
        "code"
    ] == "no_approved_line"
    # An amendment cannot cut a line below what is already spent on it.
    lines = [
        {"category": "materials", "amount_thb": "30000.00"},
        {"category": "publicity", "amount_thb": "100.00"},
    ]
    amend = {
        **{k: proposal[k] for k in ("name", "fiscal_year")},
        "activities": proposal["versions"][0]["activities"],
        "lines": lines,
    }
    cut = await budget.post(f"{P72}/proposals/{proposal['id']}/versions", json=amend, headers=OFFICER)
    assert cut.status_code == 409 and cut.json()["detail"]["code"] == "below_spending"
    # The department reads it; another province cannot request against it.
    assert (await budget.get(f"{P72}/purchases", headers=DEPARTMENT)).status_code == 200
    assert (await budget.post(purchases, json=meeting, headers=OTHER_OFFICER)).status_code == 403
    national = await ok(await budget.get("/national/budgets", headers=DEPARTMENT))
    assert [
        (b["province_code"], b["approved_thb"], b["spent_thb"], b["committed_thb"]) for b in national
    ] == [("72", "50000.50", "7990.00", "0.90")]
