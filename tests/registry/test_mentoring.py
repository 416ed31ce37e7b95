"""Mentoring groups on a running registry: suggestions, forming, membership changes, and their events."""

import pytest

from shared.topics import REGISTRY_MENTORING
from tests.conftest import bearer
from tests.registry.support import OFFICER, PRODUCER, PRODUCT, create, events

pytestmark = pytest.mark.integration
GROUPS = "/provinces/72/mentoring-groups"


async def producer_with_product(
    http, name: str, experienced: bool, category: str = "food", tambon: str = "720101"
) -> str:
    producer = await create(
        http, "producers", {**PRODUCER, "name": name, "experienced": experienced, "tambon_code": tambon}
    )
    await create(
        http,
        "products",
        {**PRODUCT, "name": f"สินค้า {name}", "category": category, "producer_id": producer["id"]},
    )
    return producer["id"]


async def test_suggested_groups_are_formed_changed_and_closed_with_events(registry, kafka):
    mentor = await producer_with_product(registry, "กลุ่มแม่บ้านเกษตรกรบ้านโพธิ์", True)
    near = await producer_with_product(registry, "กลุ่มข้าวตังบ้านโพธิ์", False)
    other = await producer_with_product(registry, "กลุ่มน้ำพริกดอนเจดีย์", False, tambon="720202")
    weaver = await producer_with_product(registry, "กลุ่มทอผ้าใหม่", False, category="textile")

    suggested = await registry.get(f"{GROUPS}/suggestions", headers=bearer("committee_member", "72"))
    assert suggested.status_code == 200, suggested.text
    [group] = suggested.json()["groups"]
    assert (group["category"], group["mentor_ids"], sorted(group["mentee_ids"])) == (
        "food",
        [mentor],
        sorted([near, other]),
    )
    assert suggested.json()["unmatched"] == [{"producer_id": weaver, "category": "textile"}]

    formed = await registry.post(GROUPS, json={**group, "mentee_ids": [near]}, headers=OFFICER)
    assert formed.status_code == 201, formed.text
    url = f"{GROUPS}/{formed.json()['id']}"
    [left] = (await registry.get(f"{GROUPS}/suggestions", headers=OFFICER)).json()["groups"]
    assert left["mentee_ids"] == [other]  # a mentored producer is no longer suggested

    taken = await registry.post(GROUPS, json={**group, "mentee_ids": [near]}, headers=OFFICER)
    assert taken.status_code == 422
    assert [(e["loc"], e["type"]) for e in taken.json()["detail"]] == [
        (["body", "mentee_ids", 0], "already_mentored")
    ]

    grown = await registry.put(url, json={**group, "mentee_ids": [near, other]}, headers=OFFICER)
    assert grown.status_code == 200 and grown.json()["revision"] == 2
    wrong = await registry.put(url, json={**group, "mentee_ids": [near, weaver]}, headers=OFFICER)
    assert [e["type"] for e in wrong.json()["detail"]] == ["category"] and wrong.status_code == 422
    closed = await registry.put(
        url, json={**group, "mentee_ids": [near, other], "status": "closed"}, headers=OFFICER
    )
    assert closed.json()["status"] == "closed" and closed.json()["revision"] == 3

    published = await events(kafka, REGISTRY_MENTORING, formed.json()["id"], 3)
    assert [
        (e["type"], e["payload"]["revision"], e["payload"]["status"], len(e["payload"]["mentee_ids"]))
        for e in published
    ] == [
        ("registry.mentoring_group.formed", 1, "active", 1),
        ("registry.mentoring_group.updated", 2, "active", 2),
        ("registry.mentoring_group.updated", 3, "closed", 2),
    ]
    assert published[0]["payload"]["mentor_ids"] == [mentor] and published[0]["payload"]["category"] == "food"

    listed = (await registry.get(GROUPS, params={"producer_id": other}, headers=OFFICER)).json()
    assert [g["id"] for g in listed["items"]] == [formed.json()["id"]] and listed["total"] == 1
    assert (await registry.get(GROUPS, params={"status": "active"}, headers=OFFICER)).json()["total"] == 0
    assert (await registry.get(url, headers=bearer("province_officer", "10"))).status_code == 403
    assert (await registry.get(url, headers=bearer("integration", "72"))).status_code == 403
    # Once the group is closed its mentees may be suggested and grouped again.
    assert len((await registry.get(f"{GROUPS}/suggestions", headers=OFFICER)).json()["groups"]) == 1


async def test_mentors_are_experienced_and_mentees_new(registry):
    old = await producer_with_product(registry, "กลุ่มเก่า", True)
    new = await producer_with_product(registry, "กลุ่มใหม่", False)
    swapped = await registry.post(
        GROUPS,
        json={"name": "กลุ่มพี่เลี้ยง", "category": "food", "mentor_ids": [new], "mentee_ids": [old]},
        headers=OFFICER,
    )
    assert swapped.status_code == 422
    assert [(e["loc"], e["type"]) for e in swapped.json()["detail"]] == [
        (["body", "mentor_ids", 0], "role"),
        (["body", "mentee_ids", 0], "role"),
    ]
    both = await registry.post(
        GROUPS,
        json={"name": "g", "category": "food", "mentor_ids": [old], "mentee_ids": [old]},
        headers=OFFICER,
    )
    assert both.status_code == 422
    assert (await registry.get(GROUPS, headers=OFFICER)).json()["total"] == 0
