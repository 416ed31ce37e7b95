"""End to end: a product registered over HTTP in registry reaches monitoring through Kafka.

Two real service processes, a real Kafka broker and a real PostgreSQL (one database each)."""

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from deploy.kafka.provision import service_specs
from deploy.local.processes import ServiceProcess
from services.monitoring.consumers import GROUPS as MONITORING_GROUPS
from shared.auth import Role
from tests import harness
from tests.conftest import bearer as keycloak_bearer
from tests.conftest import consume_from_now, eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def services(kafka, pg_server, keycloak, tmp_path):
    # Monitoring deployed now: it reads this test's events, not every product earlier tests published on
    # the session's broker (a page of its product list would not reach this test's product).
    await consume_from_now(kafka, MONITORING_GROUPS)
    started = []
    for name in ("registry", "monitoring"):
        db = f"e2e_{name}_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(pg_server)
        await admin.execute(f'CREATE DATABASE "{db}"')
        await admin.close()
        service = ServiceProcess(
            name,
            harness.free_port(),
            {
                "OTOP_DATABASE_URL": pg_server.rsplit("/", 1)[0] + f"/{db}",
                **await kafka.service_env(service_specs()[name]),  # its own principal
                **keycloak.service_env(),
                "OTOP_OUTBOX_IDLE_POLL_S": "0.05",
            },
            tmp_path / f"{name}.log",
        )
        service.start()
        started.append(service)
    try:
        for service in started:
            await asyncio.to_thread(service.wait_ready)
        yield {s.name: s for s in started}
    finally:
        for service in started:
            service.stop()  # graceful: the lifespan shutdown must complete, not time out into SIGKILL
            assert "Application shutdown complete" in service.log_path.read_text(), (
                service.log_path.read_text()[-3000:]
            )


def bearer(role: Role, province: str | None) -> dict[str, str]:
    return dict(keycloak_bearer(role.value, province))  # a token Keycloak issued


PRODUCT = {
    "name": "ข้าวตังหน้าธัญพืช",
    "category": "food",
    "star_level": 3,
    "quadrant": "D",
    "nawatwithi": True,
    "price_thb": "45.00",
    "unit": "กล่อง",
}


async def test_registered_product_shows_in_monitoring(services):
    officer = bearer(Role.PROVINCE_OFFICER, "72")
    async with httpx.AsyncClient(timeout=10) as http:
        created = await http.post(
            f"{services['registry'].url}/provinces/72/products", json=PRODUCT, headers=officer
        )
        assert created.status_code == 201, created.text
        product_id = created.json()["id"]

        async def seen_in_monitoring():
            page = await http.get(f"{services['monitoring'].url}/provinces/72/products", headers=officer)
            assert page.status_code == 200, page.text
            return [item for item in page.json()["items"] if item["id"] == product_id]

        [seen] = await eventually(seen_in_monitoring, timeout=30)
        assert {
            k: seen[k] for k in ("name", "category", "star_level", "quadrant", "nawatwithi", "price_thb")
        } == {
            k: PRODUCT[k] for k in ("name", "category", "star_level", "quadrant", "nawatwithi", "price_thb")
        }

        # Another province's officer sees none of it, in either service.
        other = bearer(Role.PROVINCE_OFFICER, "10")
        assert (
            await http.get(f"{services['monitoring'].url}/provinces/72/products", headers=other)
        ).status_code == 403
        assert (
            await http.get(f"{services['registry'].url}/provinces/72/products/{product_id}", headers=other)
        ).status_code == 403
        assert (await http.get(f"{services['monitoring'].url}/provinces/72/products")).status_code == 401


async def test_invalid_product_gets_field_errors_and_writes_nothing(services):
    officer = bearer(Role.PROVINCE_OFFICER, "72")
    async with httpx.AsyncClient(timeout=10) as http:
        bad = await http.post(
            f"{services['registry'].url}/provinces/72/products",
            json={**PRODUCT, "star_level": 7, "quadrant": "E"},
            headers=officer,
        )
        assert bad.status_code == 422
        fields = {tuple(err["loc"][1:]) for err in bad.json()["detail"]}
        assert fields == {("star_level",), ("quadrant",)}
        committee = bearer(Role.COMMITTEE_MEMBER, "72")
        forbidden = await http.post(
            f"{services['registry'].url}/provinces/72/products", json=PRODUCT, headers=committee
        )
        assert forbidden.status_code == 403
    registry_db = await asyncpg.connect(services["registry"].env["OTOP_DATABASE_URL"])
    try:
        assert await registry_db.fetchval("SELECT count(*) FROM products") == 0
        assert await registry_db.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await registry_db.close()
