"""Tenancy matrix: roles x provinces x every route of every service (read from the OpenAPI documents, so a
new route is in the matrix without anyone adding it), against the running service processes.

- Another province's path: every province-scoped role (officer, committee member, integration of 72) is
  refused (403) on every route of province 10, read or write; the department is not.
- Department-only national routes: refused (403) to every other role.
- Another province's objects through one's own path: every read of an object by id answers 404 to an
  officer of 72 when the object belongs to province 10.
- The POS ingress refuses a message signed by an integration of another province (province_mismatch).
"""

import uuid
from datetime import date

import httpx
import pytest

from tests.conftest import bearer, eventually
from tests.reliability.support import SERVICES, DeadLetters, create_catalogue, openapi_of, scalar
from tests.sales.support import pos_body, pos_sale, publish_pos, signed

pytestmark = pytest.mark.integration
OWN, OTHER = "72", "10"
PROVINCE_ROLES = ("province_officer", "committee_member", "integration")
# Routes anyone may call, on purpose (see their docstrings): health, metrics, event docs, the public calendar,
# a producer's invitation link (the signed link is the credential:
# tests/scheduling/test_invitation_links.py), and product photos (published on the public pages).
PUBLIC = {
    "/health/live",
    "/health/ready",
    "/internal/metrics",
    "/internal/asyncapi.json",
    "/provinces/{province_code}/calendar.ics",
    "/public/invitations/{token}",
    "/public/invitations/{token}/accept",
    "/public/invitations/{token}/decline",
    "/photos/{photo_id}/{size}.jpg",
}
FAKE = {"year": "2019", "month": "6", "quarter": "3", "key_id": "sk_10_0000000000000000"}


def routes() -> list[tuple[str, str, str]]:
    return [
        (service, method.upper(), path)
        for service in SERVICES
        for path, operations in openapi_of(service)["paths"].items()
        for method in operations
        if path not in PUBLIC
    ]


def fill(path: str, province: str, ids: dict[str, str] | None = None) -> str:
    values = {"province_code": province, **FAKE, **(ids or {})}
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        path = path.replace(f"{{{name}}}", values.get(name) or str(uuid.uuid4()))
    return path


async def call(http: httpx.AsyncClient, stack, service: str, method: str, path: str, headers: dict) -> int:
    body = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
    return (await http.request(method, stack.url(service) + path, headers=headers, **body)).status_code


async def test_no_role_of_one_province_reads_or_writes_another_province(running):
    refused, checked = [], 0
    async with httpx.AsyncClient(timeout=30) as http:
        for service, method, path in routes():
            target = fill(path, OTHER)
            national = "{province_code}" not in path
            for role in PROVINCE_ROLES:
                status = await call(http, running, service, method, target, bearer(role, OWN))
                checked += 1
                if status != 403:
                    refused.append((role, method, f"{service}{target}", status))
            department = await call(http, running, service, method, target, bearer("department"))
            if (
                department == 403 and not national and "/integration/" not in path
            ):  # those are integrations' own
                refused.append(("department (may act everywhere)", method, f"{service}{target}", department))
    print(f"\ntenancy matrix: {checked} cross-province calls by province roles, all 403")
    assert not refused, "\n".join(map(str, refused))
    assert checked == 3 * len(routes()) >= 3 * 80


@pytest.fixture(scope="module")
async def other_province_objects(stack) -> dict[str, str]:
    """One object of each kind in province 10, made by the department through the services."""
    department = bearer("department")
    ids = {}
    async with httpx.AsyncClient(timeout=30) as http:

        async def make(service: str, what: str, body: dict, id_name: str, parent: str = "") -> dict:
            made = await http.post(
                f"{stack.url(service)}/provinces/{OTHER}{parent}/{what}", json=body, headers=department
            )
            assert made.status_code == 201, made.text
            ids[id_name] = made.json().get("id") or made.json()[id_name]
            return made.json()

        await make(
            "registry",
            "producers",
            {"name": "กลุ่มทอผ้า", "producer_type": "community_group", "experienced": True},
            "producer_id",
        )
        product = await make(
            "registry",
            "products",
            {
                "name": "ผ้าไหม",
                "category": "textile",
                "star_level": 2,
                "quadrant": "D",
                "nawatwithi": True,
                "price_thb": "500.00",
                "unit": "ผืน",
                "producer_id": ids["producer_id"],
            },
            "product_id",
        )
        venue = await make(
            "scheduling", "venues", {"name": "ตลาดประชารัฐ กรุงเทพฯ", "kind": "pracharat_market"}, "venue_id"
        )
        await make("scheduling", "plans", {"first_month": "2019-06", "last_month": "2019-09"}, "plan_id")
        await make(
            "scheduling", "market-days", {"venue_id": venue["id"], "day": "2019-06-22"}, "market_day_id"
        )

        async def scheduling_knows_product() -> bool:
            return (
                await scalar(
                    stack.db("scheduling"),
                    "SELECT count(*) FROM products WHERE id = $1",
                    uuid.UUID(product["id"]),
                )
                == 1
            )

        await eventually(scheduling_knows_product, timeout=120)
        attendance = await http.put(
            f"{stack.url('scheduling')}/provinces/{OTHER}/market-days/{ids['market_day_id']}/attendance",
            json={"product_ids": [product["id"]]},
            headers=department,
        )
        assert attendance.status_code == 200, attendance.text
        await make("monitoring", "committees", {"appointed_on": "2019-05-01"}, "committee_id")
        await make(
            "monitoring",
            "activities",
            {
                "title": "ประชุม",
                "held_on": "2019-06-03",
                "venue": "ศาลากลาง",
                "target_group": "คณะกรรมการ",
                "participants": 20,
                "purpose": "ชี้แจง",
            },
            "activity_id",
        )

        async def sales_knows_them() -> bool:
            return (
                await scalar(
                    stack.db("sales"), "SELECT count(*) FROM products WHERE id = $1", uuid.UUID(product["id"])
                )
                == 1
                and await scalar(
                    stack.db("sales"),
                    "SELECT count(*) FROM market_days WHERE id = $1",
                    uuid.UUID(ids["market_day_id"]),
                )
                == 1
            )

        await eventually(sales_knows_them, timeout=120)
        await make(
            "sales",
            "sales",
            {"product_id": product["id"], "market_day_id": ids["market_day_id"], "quantity": "1"},
            "sale_id",
        )
    return ids


async def test_objects_of_another_province_are_not_found_through_ones_own(running, other_province_objects):
    ids, answers = other_province_objects, []
    reads = [
        (s, p)
        for s, m, p in routes()
        if m == "GET" and "{province_code}" in p and set(name for name in ids if f"{{{name}}}" in p)
    ]
    async with httpx.AsyncClient(timeout=30) as http:
        for service, path in reads:
            own_path = fill(path, OWN, ids)
            answers.append(
                (
                    service,
                    own_path,
                    await call(http, running, service, "GET", own_path, bearer("province_officer", OWN)),
                )
            )
            # the same object is there for its own province: the 404 above is the province filter, not a typo
            assert (
                await call(
                    http, running, service, "GET", fill(path, OTHER, ids), bearer("province_officer", OTHER)
                )
                == 200
            ), (service, path)
    print(f"\nreads of province {OTHER}'s objects through province {OWN}: {len(answers)}, all 404")
    assert [a for a in answers if a[2] != 404] == []
    assert len(answers) >= 10


async def test_ingress_refuses_a_sale_signed_for_another_province(running):
    catalogue = await create_catalogue(running, date(2019, 7, 20))  # its integration belongs to 72
    sale = pos_sale(
        f"mismatch-{uuid.uuid4().hex}",
        uuid.UUID(catalogue.products[0]["id"]),
        uuid.UUID(catalogue.market_day_id),
    )
    body = pos_body(sale, province=OTHER)
    fuzz_id = uuid.uuid4().hex
    headers = signed(body, catalogue.key["key_id"], catalogue.key["signing_key"]) + [
        ("x-fuzz-id", fuzz_id.encode())
    ]
    async with DeadLetters(running.access, ["otop.sales.ingress.dlq"]) as dead_letters:
        await publish_pos(running.access, [(sale.integration_sale_id.encode(), body, headers)])
        await dead_letters.arrived({(fuzz_id, "sales.ingress")})
        [dead] = dead_letters.by_fuzz_id[fuzz_id]
    assert dead["dlq-reason-code"] == "province_mismatch", dead
    assert (
        await scalar(
            running.db("sales"),
            "SELECT count(*) FROM sales WHERE integration_sale_id = $1",
            sale.integration_sale_id,
        )
        == 0
    )
    # Over HTTP: a token of province 10 with the key of 72's integration is refused as well.
    http_body = f"[{body.decode()}]".encode()
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{running.url('sales')}/provinces/{OTHER}/integration/sales",
            content=http_body,
            headers={
                **bearer("integration", OTHER),
                "content-type": "application/json",
                **dict(
                    (k, v.decode())
                    for k, v in signed(http_body, catalogue.key["key_id"], catalogue.key["signing_key"])
                ),
            },
        )
    assert answer.status_code == 403, answer.text
