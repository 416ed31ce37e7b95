"""Helpers for the monitoring service tests: other services' events published exactly as those services
would, and a clean start for the service's consumer groups."""

import httpx
from aiokafka import AIOKafkaProducer

from services.monitoring.consumers import GROUPS
from shared.events import Envelope, Payload, envelope_for
from tests.conftest import bearer, consume_from_now, eventually
from tests.harness import KafkaFixture

OFFICER = bearer("province_officer", "72")
DEPARTMENT = bearer("department")


async def skip_earlier_events(kafka: KafkaFixture) -> None:
    """The monitoring consumer groups start from now: a test's service reads only the events it publishes."""
    await consume_from_now(kafka, dict(GROUPS))


def envelope(payload: Payload, province: str = "72") -> Envelope:
    return envelope_for(payload, province_code=province, source="test")


async def publish(kafka: KafkaFixture, *events: Payload | Envelope, province: str = "72") -> None:
    """Other services' events, in order, as their outbox relay publishes them (an Envelope is sent as is,
    e.g. to deliver the same event twice)."""
    producer = AIOKafkaProducer(**kafka.options(), acks="all")
    await producer.start()
    try:
        for event in events:
            sent = event if isinstance(event, Envelope) else envelope(event, province)
            payload = _payload_of(sent)
            await producer.send_and_wait(
                payload.topic, sent.model_dump_json().encode(), key=payload.key().encode()
            )
    finally:
        await producer.stop()


def _payload_of(sent: Envelope) -> Payload:
    from shared.events import registered_contracts

    return registered_contracts()[(sent.type, sent.version)].model_validate(sent.payload)


async def report(http: httpx.AsyncClient, path: str, headers: dict | None = None, **params) -> dict:
    answer = await http.get(path, params=params, headers=headers or OFFICER)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def report_shows(http: httpx.AsyncClient, path: str, check, **params) -> dict:
    """The report once `check(report)` holds (the read models fill as events arrive)."""

    async def ready():
        body = await report(http, path, **params)
        return body if check(body) else None

    return await eventually(ready, timeout=60)
