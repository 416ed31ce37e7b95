"""Correlation ids and metrics, on a real service with real Kafka and PostgreSQL."""

import json
from uuid import uuid4

import pytest

from services.registry.main import spec as registry_spec
from shared.topics import REGISTRY_PRODUCTS
from tests.conftest import bearer, running_service
from tests.integration.test_reliability import read_topic

pytestmark = pytest.mark.integration

PRODUCT = {
    "name": "น้ำตาลโตนด",
    "category": "food",
    "star_level": 2,
    "quadrant": "D",
    "nawatwithi": False,
    "price_thb": "80.00",
    "unit": "กระปุก",
}


async def test_correlation_id_flows_from_request_to_event_and_metrics_are_exposed(database_url, kafka):
    correlation_id = str(uuid4())
    async with running_service(registry_spec, database_url, kafka) as http:
        created = await http.post(
            "/provinces/72/products",
            json=PRODUCT,
            headers={**bearer("province_officer", "72"), "X-Correlation-ID": correlation_id},
        )
        assert created.status_code == 201, created.text
        assert created.headers["x-correlation-id"] == correlation_id
        [record] = await read_topic(kafka, REGISTRY_PRODUCTS, 1, key=created.json()["id"].encode())
        assert json.loads(record.value)["correlation_id"] == correlation_id

        metrics = (await http.get("/internal/metrics")).text
        assert (
            'otop_http_request_seconds_count{method="POST",route="/provinces/{province_code}/products",'
            'service="registry",status="201"}' in metrics
        )
        assert 'otop_outbox_backlog{service="registry"}' in metrics

        document = (await http.get("/internal/asyncapi.json")).json()
        assert document["asyncapi"] == "3.0.0"
        assert any(ch["address"] == REGISTRY_PRODUCTS for ch in document["channels"].values())


async def test_service_takes_writes_while_kafka_is_down_and_delivers_them_after(database_url):
    """The service starts with no broker at its bootstrap address: HTTP writes are accepted; once a
    broker appears there, consumers start and the staged events are published."""
    import shutil

    from deploy.kafka.kafka_runner import LocalKafka
    from deploy.kafka.provision import provision_service
    from shared.kafka_access import service_username
    from tests import harness
    from tests.conftest import eventually

    broker = LocalKafka(harness.scratch_dir("otop-kafka-late-"), harness.free_port())
    (broker.data_dir / "admin.password").write_text(uuid4().hex)  # the super user's, once it starts
    kafka, password = harness.KafkaFixture.of(broker), uuid4().hex
    async with running_service(
        registry_spec,
        database_url,
        kafka,
        wait_ready=False,
        kafka_username=service_username("registry"),
        kafka_password=password,
    ) as http:
        officer = bearer("province_officer", "72")
        ids = []
        for i in range(3):
            created = await http.post(
                "/provinces/72/products", json={**PRODUCT, "name": f"สินค้า {i}"}, headers=officer
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        ready = await http.get("/health/ready")
        assert ready.status_code == 503, ready.text
        assert (ready.json()["database"], ready.json()["kafka"]) == (True, False)

        async def relay_reports_kafka_away() -> bool:
            return not (await http.get("/health/ready")).json()["workers"]["outbox-relay"]["ready"]

        await eventually(relay_reports_kafka_away)

        broker.start()
        try:
            await provision_service(kafka.admin, registry_spec, password)  # as a deployment would
            await eventually(lambda: _is_ready(http), timeout=90)
            for product_id in ids:
                [record] = await read_topic(kafka, REGISTRY_PRODUCTS, 1, key=product_id.encode(), timeout=60)
                assert json.loads(record.value)["payload"]["product_id"] == product_id
        finally:
            broker.stop()
            shutil.rmtree(broker.data_dir, ignore_errors=True)


async def _is_ready(http) -> bool:
    return (await http.get("/health/ready")).status_code == 200
