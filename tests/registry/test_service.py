"""Producers and products over HTTP on a running registry (real PostgreSQL and Kafka): every change
reaches Kafka as the aggregate's full state with the next revision; roles, provinces, bad input."""

from uuid import uuid4

import pytest

from shared.topics import REGISTRY_MENTORING, REGISTRY_PRODUCERS, REGISTRY_PRODUCTS
from tests.conftest import bearer
from tests.registry.support import OFFICER, PRODUCER, PRODUCT, count_rows, create, events

pytestmark = pytest.mark.integration
P72 = "/provinces/72"


async def test_a_producers_every_change_is_published_with_the_next_revision(registry, kafka):
    producer = await create(registry, "producers", PRODUCER)
    assert (producer["amphoe_code"], producer["available"], producer["revision"]) == ("7201", True, 1)
    url = f"{P72}/producers/{producer['id']}"

    moved = await registry.put(
        url, json={**PRODUCER, "tambon_code": "720202", "phone": "035-555-123"}, headers=OFFICER
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["amphoe_code"], moved.json()["revision"]) == ("7202", 2)  # อ.เดิมบางนางบวช

    pause = {"available": False, "unavailable_reason": "ขาดวัตถุดิบ", "unavailable_until": "2019-08-01"}
    paused = await registry.put(f"{url}/availability", json=pause, headers=OFFICER)
    assert paused.status_code == 200 and paused.json()["revision"] == 3
    again = await registry.put(
        f"{url}/availability", json=pause, headers=OFFICER
    )  # no change: no new revision
    assert again.json()["revision"] == 3
    back = await registry.put(f"{url}/availability", json={"available": True}, headers=OFFICER)
    assert back.json()["revision"] == 4 and back.json()["unavailable_reason"] is None

    published = await events(kafka, REGISTRY_PRODUCERS, producer["id"], 4)
    assert [(e["type"], e["payload"]["revision"]) for e in published] == [
        ("registry.producer.registered", 1),
        ("registry.producer.updated", 2),
        ("registry.producer.updated", 3),
        ("registry.producer.updated", 4),
    ]
    assert {e["province_code"] for e in published} == {"72"}
    assert (
        published[0]["payload"]["tambon_code"] == "720101"
        and published[0]["payload"]["phone"] == "081-234-5678"
    )
    assert published[1]["payload"]["amphoe_code"] == "7202"
    assert published[2]["payload"]["available"] is False
    assert (published[2]["payload"]["unavailable_reason"], published[2]["payload"]["unavailable_until"]) == (
        "ขาดวัตถุดิบ",
        "2019-08-01",
    )
    assert (await registry.get(url, headers=bearer("committee_member", "72"))).json() == back.json()


async def test_a_product_of_a_producer_is_registered_replaced_and_withdrawn(registry, kafka):
    producer = await create(registry, "producers", PRODUCER)
    product = await create(registry, "products", {**PRODUCT, "producer_id": producer["id"]})
    assert (product["producer_name"], product["status"], product["revision"]) == (
        PRODUCER["name"],
        "active",
        1,
    )
    url = f"{P72}/products/{product['id']}"

    withdrawn = await registry.put(
        url,
        json={**PRODUCT, "producer_id": producer["id"], "price_thb": "50", "status": "withdrawn"},
        headers=OFFICER,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["price_thb"], withdrawn.json()["status"], withdrawn.json()["revision"]) == (
        "50.00",
        "withdrawn",
        2,
    )

    published = await events(kafka, REGISTRY_PRODUCTS, product["id"], 2)
    assert [(e["type"], e["payload"]["revision"], e["payload"]["status"]) for e in published] == [
        ("registry.product.registered", 1, "active"),
        ("registry.product.updated", 2, "withdrawn"),
    ]
    assert published[0]["payload"]["producer_id"] == producer["id"]
    assert published[0]["payload"]["star_year"] == 2562 and published[1]["payload"]["price_thb"] == "50.00"

    # A producer must be of the same province.
    elsewhere = await create(
        registry,
        "producers",
        {**PRODUCER, "tambon_code": "100101"},
        province="10",
        headers=bearer("department"),
    )
    for producer_id in (elsewhere["id"], str(uuid4())):
        refused = await registry.post(
            f"{P72}/products", json={**PRODUCT, "producer_id": producer_id}, headers=OFFICER
        )
        assert refused.status_code == 422
        assert [(e["loc"], e["type"]) for e in refused.json()["detail"]] == [
            (["body", "producer_id"], "unknown_producer")
        ]


async def test_bad_input_gets_a_clear_4xx_with_fields_and_writes_nothing(registry, database_url):
    async def status_and_locs(method: str, url: str, **kwargs):
        answer = await registry.request(method, url, headers=kwargs.pop("headers", OFFICER), **kwargs)
        detail = answer.json()["detail"]
        return answer.status_code, sorted(tuple(e["loc"]) for e in detail) if isinstance(
            detail, list
        ) else detail

    assert await status_and_locs("POST", f"{P72}/producers", json={**PRODUCER, "tambon_code": "100101"}) == (
        422,
        [("body", "amphoe_code")],
    )  # a Bangkok tambon
    assert await status_and_locs(
        "POST", f"{P72}/producers", json={**PRODUCER, "amphoe_code": "7201", "tambon_code": "720201"}
    ) == (422, [("body", "tambon_code")])
    assert await status_and_locs("POST", f"{P72}/producers", json={"name": "", "producer_type": "coop"}) == (
        422,
        [("body", "experienced"), ("body", "name"), ("body", "producer_type")],
    )
    assert await status_and_locs(
        "POST", f"{P72}/products", json={**PRODUCT, "star_year": 2019, "unit": ""}
    ) == (422, [("body", "star_year"), ("body", "unit")])
    assert await status_and_locs(
        "POST",
        f"{P72}/products",
        content=b"{not json",
        headers={**OFFICER, "content-type": "application/json"},
    ) == (422, [("body", 1)])
    assert (await status_and_locs("PUT", f"{P72}/products/{uuid4()}", json=PRODUCT))[0] == 404
    assert await status_and_locs("GET", f"{P72}/products/not-a-uuid") == (422, [("path", "product_id")])
    assert await status_and_locs("GET", f"{P72}/products", params={"star_min": 9, "colour": "red"}) == (
        422,
        [("query", "colour"), ("query", "star_min")],
    )
    assert await status_and_locs("GET", f"{P72}/products", params={"q": "a\x00b", "offset": 10**30}) == (
        422,
        [("query", "offset"), ("query", "q")],
    )  # neither reaches PostgreSQL
    assert await status_and_locs("POST", f"{P72}/products", json={**PRODUCT, "name": "a\x00b"}) == (
        422,
        [("body", "name")],
    )
    assert await status_and_locs(
        "PUT", f"{P72}/producers/{uuid4()}/availability", json={"available": False}
    ) == (422, [("body", "unavailable_reason")])
    assert (await status_and_locs("POST", "/provinces/99/products", json=PRODUCT))[
        0
    ] == 403  # no such officer...
    unknown_province = await registry.post(
        "/provinces/99/products", json=PRODUCT, headers=bearer("department")
    )
    assert unknown_province.status_code == 404  # ...nor such province
    for table in ("producers", "products", "outbox"):
        assert await count_rows(database_url, table) == 0


async def test_roles_and_provinces_are_enforced_on_every_endpoint(registry):
    producer = await create(registry, "producers", PRODUCER)
    product = await create(registry, "products", {**PRODUCT, "producer_id": producer["id"]})
    reads = [
        f"{P72}/producers",
        f"{P72}/producers/{producer['id']}",
        f"{P72}/products",
        f"{P72}/products/{product['id']}",
        f"{P72}/products/export",
        f"{P72}/mentoring-groups",
        f"{P72}/mentoring-groups/suggestions",
    ]
    writes = [
        ("POST", f"{P72}/producers", PRODUCER),
        ("PUT", f"{P72}/producers/{producer['id']}", PRODUCER),
        ("PUT", f"{P72}/producers/{producer['id']}/availability", {"available": True}),
        ("POST", f"{P72}/products", PRODUCT),
        ("PUT", f"{P72}/products/{product['id']}", PRODUCT),
        (
            "POST",
            f"{P72}/mentoring-groups",
            {"name": "g", "category": "food", "mentor_ids": [str(uuid4())], "mentee_ids": [str(uuid4())]},
        ),
    ]
    product_reads = {f"{P72}/products", f"{P72}/products/{product['id']}"}

    async def status_of(method, url, body, who):
        return (await registry.request(method, url, json=body, headers=who)).status_code

    for who, may_read, may_write in [
        (bearer("department"), set(reads), True),
        (OFFICER, set(reads), True),
        (bearer("committee_member", "72"), set(reads), False),
        (bearer("integration", "72"), product_reads, False),
        (bearer("province_officer", "10"), set(), False),
        (bearer("committee_member", "10"), set(), False),
    ]:
        for url in reads:
            assert await status_of("GET", url, None, who) == (200 if url in may_read else 403), (who, url)
        for method, url, body in writes:
            assert (await status_of(method, url, body, who) != 403) is may_write, (who, method, url)
    for url in reads:
        assert (await registry.get(url)).status_code == 401
        assert (await registry.get(url, headers={"Authorization": "Bearer forged"})).status_code == 401
    assert (await registry.get("/products", headers=bearer("department"))).status_code == 200
    assert (await registry.get("/products", headers=OFFICER)).status_code == 403


async def test_search_filters_combine_and_page(registry):
    new_producer = await create(
        registry,
        "producers",
        {
            **PRODUCER,
            "name": "วิสาหกิจชุมชนทอผ้าไหม",
            "producer_type": "sme",
            "experienced": False,
            "tambon_code": "720202",
        },
    )
    old_producer = await create(registry, "producers", PRODUCER)
    await registry.put(
        f"{P72}/producers/{old_producer['id']}/availability",
        headers=OFFICER,
        json={"available": False, "unavailable_reason": "ขาดวัตถุดิบ"},
    )
    made = {}
    for key, changes in {
        "rice": {"producer_id": old_producer["id"]},
        "chili": {
            "name": "น้ำพริกเผา",
            "star_level": 1,
            "nawatwithi": False,
            "producer_id": old_producer["id"],
        },
        "silk": {
            "name": "ผ้าไหมมัดหมี่",
            "category": "textile",
            "star_level": 5,
            "quadrant": "A",
            "producer_id": new_producer["id"],
        },
        "scarf": {
            "name": "ผ้าพันคอ 100%_ไหม",
            "category": "textile",
            "star_level": 2,
            "producer_id": new_producer["id"],
        },
        "herb": {"name": "ยาหม่องสมุนไพร", "category": "herbal", "star_level": 2, "quadrant": "C"},
    }.items():
        made[key] = (await create(registry, "products", {**PRODUCT, **changes}))["id"]
    await create(
        registry, "products", {**PRODUCT, "name": "ข้าวหลาม"}, province="73", headers=bearer("department")
    )

    async def found(**params) -> list[str]:
        page = await registry.get(f"{P72}/products", params=params, headers=OFFICER)
        assert page.status_code == 200, page.text
        by_id = {v: k for k, v in made.items()}
        return sorted(by_id[item["id"]] for item in page.json()["items"])

    assert await found() == sorted(made)
    assert await found(quadrant="D", star_max=3) == ["chili", "rice", "scarf"]  # the programme's first picks
    assert await found(category=["textile", "herbal"], star_min=2, star_max=4) == ["herb", "scarf"]
    assert await found(nawatwithi=False) == ["chili"]
    assert await found(available=False) == ["chili", "rice"]
    assert await found(available=True) == [
        "herb",
        "scarf",
        "silk",
    ]  # a product without producer counts as available
    assert await found(q="ไหม") == ["scarf", "silk"]
    assert await found(q="ทอผ้า") == ["scarf", "silk"]  # the producer's name
    assert await found(q="100%_") == ["scarf"]  # wildcards are text
    assert await found(amphoe_code="7202") == ["scarf", "silk"]
    assert await found(producer_id=old_producer["id"]) == ["chili", "rice"]

    first = (await registry.get(f"{P72}/products", params={"limit": 2}, headers=OFFICER)).json()
    rest = (await registry.get(f"{P72}/products", params={"limit": 2, "offset": 2}, headers=OFFICER)).json()
    assert first["total"] == rest["total"] == 5 and len(first["items"]) == len(rest["items"]) == 2
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in rest["items"]}

    producers = (
        await registry.get(
            f"{P72}/producers", params={"experienced": False, "category": "textile"}, headers=OFFICER
        )
    ).json()
    assert [p["id"] for p in producers["items"]] == [new_producer["id"]] and producers["total"] == 1
    assert (await registry.get(f"{P72}/producers", params={"available": False}, headers=OFFICER)).json()[
        "total"
    ] == 1
    assert (await registry.get(f"{P72}/producers", params={"category": "herbal"}, headers=OFFICER)).json()[
        "total"
    ] == 0

    national = (await registry.get("/products", params={"q": "ข้าว"}, headers=bearer("department"))).json()
    assert sorted(item["province_code"] for item in national["items"]) == ["72", "73"]
    narrowed = (
        await registry.get("/products", params={"q": "ข้าว", "province": "73"}, headers=bearer("department"))
    ).json()
    assert [item["name"] for item in narrowed["items"]] == ["ข้าวหลาม"]


async def test_the_services_event_document_names_the_three_topics_it_publishes(registry):
    document = (await registry.get("/internal/asyncapi.json")).json()
    sent = {
        document["channels"][operation["channel"]["$ref"].rsplit("/", 1)[1]]["address"]
        for operation in document["operations"].values()
        if operation["action"] == "send"
    }
    assert sent == {REGISTRY_PRODUCERS, REGISTRY_PRODUCTS, REGISTRY_MENTORING}
    assert "registry.mentoring_group.formed.v1" in document["components"]["messages"]
