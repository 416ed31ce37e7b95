"""Helpers for the monitoring service tests: other services' events published exactly as those services
would, and a clean start for the service's consumer groups."""

import asyncio

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.monitoring.consumers import GROUPS
from shared.events import Envelope, Payload, envelope_for
from shared.kafka_admin import ensure_topics
from tests.conftest import bearer, eventually

OFFICER = bearer("province_officer", "72")
DEPARTMENT = bearer("department")


async def skip_earlier_events(bootstrap: str) -> None:
    """Moves the monitoring consumer groups to the end of their topics, so a test's service reads only
    the events that test publishes (other tests publish to the same topics)."""
    await ensure_topics(bootstrap, sorted(set(GROUPS.values())), partitions=6)
    for group_id, topic in GROUPS.items():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)
                          or (await _partitions(consumer, topic))]
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            await consumer.commit({tp: await consumer.position(tp) for tp in partitions})
        finally:
            await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        await consumer._client.force_metadata_update()
        if found := consumer.partitions_for_topic(topic):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no partitions for {topic}")


def envelope(payload: Payload, province: str = "72") -> Envelope:
    return envelope_for(payload, province_code=province, source="test")


async def publish(bootstrap: str, *events: Payload | Envelope, province: str = "72") -> None:
    """Other services' events, in order, as their outbox relay publishes them (an Envelope is sent as is,
    e.g. to deliver the same event twice)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            sent = event if isinstance(event, Envelope) else envelope(event, province)
            payload = _payload_of(sent)
            await producer.send_and_wait(payload.topic, sent.model_dump_json().encode(), key=payload.key().encode())
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
