"""The season's proposal on a running budget service (real PostgreSQL, Kafka and Keycloak tokens): submitted,
returned with the department's comment, resubmitted, approved, amended; every version kept and every
change an event; only the department decides; no province sees another's money."""

import pytest

from shared.topics import BUDGET_PROPOSALS
from tests.budget.support import (
    COMMITTEE,
    DEPARTMENT,
    OFFICER,
    OTHER_OFFICER,
    P72,
    PROPOSAL,
    events,
    ok,
)

pytestmark = pytest.mark.integration


async def test_a_proposal_is_returned_resubmitted_approved_and_amended_with_every_version_kept(budget, kafka):
    v1 = await ok(await budget.post(f"{P72}/proposals", json=PROPOSAL, headers=OFFICER), 201)
    url = f"{P72}/proposals/{v1['id']}"
    assert [(v["version"], v["status"], v["total_thb"]) for v in v1["versions"]] == [
        (1, "submitted", "50000.50")
    ]
    assert v1["versions"][0]["activities"][0]["budget_source"] == "งบบุคลากรฯ"

    # Only the department decides: the officer who wrote it cannot approve it, nor can anyone else.
    for caller in (OFFICER, COMMITTEE, OTHER_OFFICER):
        refused = await budget.post(f"{url}/versions/1/approve", json={}, headers=caller)
        assert refused.status_code == 403, refused.text
    # A version waiting for a decision is not replaced.
    assert (await budget.post(f"{url}/versions", json=PROPOSAL, headers=OFFICER)).status_code == 409
    queue = await ok(
        await budget.get("/national/proposals", params={"status": "submitted"}, headers=DEPARTMENT)
    )
    assert [(p["id"], p["province_code"], p["version"]) for p in queue] == [(v1["id"], "72", 1)]
    assert (await budget.get("/national/proposals", headers=OFFICER)).status_code == 403

    returned = await budget.post(
        f"{url}/versions/1/return", json={"comment": "ลดค่าพาหนะลง"}, headers=DEPARTMENT
    )
    assert (await ok(returned))["versions"][0]["status"] == "returned"
    assert (await budget.post(f"{url}/versions/1/approve", json={}, headers=DEPARTMENT)).status_code == 409
    assert (await budget.post(f"{url}/versions/1/return", json={}, headers=DEPARTMENT)).status_code == 422

    lines = [*PROPOSAL["lines"][:2], {"category": "transport", "amount_thb": "9000.00"}]
    await ok(await budget.post(f"{url}/versions", json={**PROPOSAL, "lines": lines}, headers=OFFICER), 201)
    approved = await ok(await budget.post(f"{url}/versions/2/approve", json={}, headers=DEPARTMENT))
    assert approved["approved_version"] == 2

    # An amendment is a new version; the approved one stays in force until it is approved.
    more = [{**lines[0], "amount_thb": "35000.00"}, *lines[1:]]
    amended = await ok(
        await budget.post(f"{url}/versions", json={**PROPOSAL, "lines": more}, headers=OFFICER), 201
    )
    assert [(v["version"], v["status"]) for v in amended["versions"]] == [
        (1, "returned"),
        (2, "approved"),
        (3, "submitted"),
    ]
    got = await ok(await budget.get(url, headers=COMMITTEE))
    assert (got["approved_version"], got["spending"]["approved_thb"]) == (2, "47000.50")
    assert got["versions"][0]["comment"] == "ลดค่าพาหนะลง"

    published = await events(kafka, BUDGET_PROPOSALS, lambda e: e["payload"]["proposal_id"] == v1["id"], 5)
    assert [(e["type"], e["payload"]["revision"], e["payload"]["version"]) for e in published] == [
        ("budget.proposal.submitted", 1, 1),
        ("budget.proposal.returned", 2, 1),
        ("budget.proposal.submitted", 3, 2),
        ("budget.proposal.approved", 4, 2),
        ("budget.proposal.submitted", 5, 3),
    ]
    decided = published[3]["payload"]
    # The audit trail: who approved what, when.
    assert (
        decided["decided_by"] and decided["decided_by"] != decided["submitted_by"] and decided["decided_at"]
    )
    assert (decided["approved_version"], decided["approved_total_thb"]) == (2, "47000.50")
    assert published[4]["payload"]["approved_total_thb"] == "47000.50"  # still version 2's
    assert {e["province_code"] for e in published} == {"72"}


async def test_another_province_sees_and_touches_none_of_the_money(budget):
    proposal = await ok(await budget.post(f"{P72}/proposals", json=PROPOSAL, headers=OFFICER), 201)
    for method, path in (
        ("GET", f"{P72}/proposals"),
        ("GET", f"{P72}/proposals/{proposal['id']}"),
        ("GET", f"{P72}/proposals/{proposal['id']}/spending"),
        ("POST", f"{P72}/proposals/{proposal['id']}/versions"),
        ("GET", f"{P72}/purchases"),
        ("GET", f"{P72}/stock"),
        ("GET", f"{P72}/packing-lists"),
    ):
        answer = await budget.request(
            method, path, json=PROPOSAL if method == "POST" else None, headers=OTHER_OFFICER
        )
        assert answer.status_code == 403, (path, answer.text)
    # Its own province holds nothing of 72's, even by id.
    theirs = await budget.get(f"/provinces/10/proposals/{proposal['id']}", headers=OTHER_OFFICER)
    assert theirs.status_code == 404
    assert (await budget.get("/provinces/10/proposals", headers=OTHER_OFFICER)).json() == []
    assert (await budget.get(f"{P72}/proposals")).status_code == 401


async def test_bad_proposals_are_refused_and_change_nothing(budget):
    for bad, field in (
        ({"lines": [{"category": "materials", "amount_thb": "-5.00"}]}, "amount_thb"),
        ({"lines": [{"category": "materials", "amount_thb": "0"}]}, "amount_thb"),
        ({"lines": [{"category": "materials", "amount_thb": "10.005"}]}, "amount_thb"),  # below a satang
        ({"lines": []}, "lines"),
        ({"activities": []}, "activities"),
        ({"lines": [{"category": "cash", "amount_thb": "10"}]}, "category"),
        ({"fiscal_year": 19}, "fiscal_year"),
    ):
        answer = await budget.post(f"{P72}/proposals", json={**PROPOSAL, **bad}, headers=OFFICER)
        assert answer.status_code == 422, (bad, answer.text)
        assert field in answer.text
    twice = [{"category": "materials", "amount_thb": "10"}, {"category": "materials", "amount_thb": "20"}]
    answer = await budget.post(f"{P72}/proposals", json={**PROPOSAL, "lines": twice}, headers=OFFICER)
    assert answer.status_code == 422 and "already a line" in answer.text
    assert (await budget.get(f"{P72}/proposals", headers=OFFICER)).json() == []
    await ok(await budget.post(f"{P72}/proposals", json=PROPOSAL, headers=OFFICER), 201)
    again = await budget.post(f"{P72}/proposals", json=PROPOSAL, headers=OFFICER)
    assert again.status_code == 409 and "new version" in again.text
