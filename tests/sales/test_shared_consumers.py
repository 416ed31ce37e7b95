"""The shared consumers under the sales service, against real Kafka and PostgreSQL.
shared.batch.BatchConsumer (the ingress): bulk and idempotent, refused records dead-lettered, a poison
record isolated, offsets committed only after the writes. With a handler of its own and with the read models'
(shared.read_models.in_order): a header that is not UTF-8 does not stop a partition."""

import asyncio
from decimal import Decimal
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.batch import BatchConsumer, Rejection
from shared.contracts.registry import ProductRegistered
from shared.db import add_reliability_tables, create_schema, make_engine
from shared.events import envelope_for
from shared.kafka_admin import ensure_topics
from shared.kafka_client import kafka_security
from shared.read_models import in_order
from shared.topics import dead_letter_topic
from shared.unit_of_work import UnitsOfWork
from tests.conftest import eventually, unique_topic
from tests.harness import KafkaFixture
from tests.sales.support import headers_of, read_until

pytestmark = pytest.mark.integration

metadata = MetaData()
outbox, inbox = add_reliability_tables(metadata)
effects = Table("effects", metadata, Column("key", String, primary_key=True), Column("batch_size", Integer))


@pytest.fixture
async def engine(database_url):
    engine = make_engine(database_url)
    await create_schema(engine, metadata)
    yield engine
    await engine.dispose()


async def apply_batch(uow, records):
    """Idempotent by key; refuses b"refuse"; cannot apply b"poison" (which fails the whole batch)."""
    if any(r.value == b"poison" for r in records):
        raise RuntimeError("cannot apply poison")
    good = [r for r in records if r.value != b"refuse"]
    if good:
        await uow.session.execute(
            insert(effects).on_conflict_do_nothing(),
            [{"key": r.key.decode(), "batch_size": len(records)} for r in good],
        )
    return [Rejection(r, "refused", "value says refuse") for r in records if r.value == b"refuse"]


async def started(kafka: KafkaFixture, topic: str, engine, handler=apply_batch) -> KafkaBroker:
    await ensure_topics(kafka.admin, [topic], partitions=3)
    broker = KafkaBroker(kafka.bootstrap, security=kafka_security(kafka.admin))
    BatchConsumer(
        group_id=f"test-{topic}",
        topic=topic,
        handler=handler,
        unit_of_work=UnitsOfWork(async_sessionmaker(engine), outbox, "test"),
        max_records=100,
        max_attempts=2,
        retry_backoff_s=0.05,
    ).subscribe(broker)
    await broker.start()
    return broker


async def send(broker: KafkaBroker, topic: str, messages: list[tuple[str, bytes]]) -> None:
    await asyncio.gather(*(broker.publish(value, topic, key=key.encode()) for key, value in messages))


async def count(engine, *where) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(effects).where(*where))


async def test_batches_apply_once_and_refused_or_poison_records_are_dead_lettered_alone(engine, kafka):
    topic = unique_topic()
    broker = await started(kafka, topic, engine)
    try:
        goods = [(f"good-{i}", b"ok") for i in range(300)]
        await send(broker, topic, goods + goods[:50] + [("refuse-1", b"refuse"), ("poison-1", b"poison")])
        await eventually(lambda: _at_least(engine, 300))
        dead = await read_until(
            kafka, dead_letter_topic(topic), keep=lambda r: True, done=lambda rs: len(rs) >= 2
        )
    finally:
        await broker.stop()
    assert await count(engine) == 300  # duplicates applied once; refused and poison not at all
    assert await count(engine, effects.c.batch_size > 1) > 0  # applied in batches, not one by one
    reasons = {r.key: headers_of(r) for r in dead}
    assert reasons[b"refuse-1"]["dlq-reason-code"] == "refused"
    assert reasons[b"poison-1"]["dlq-reason"] == "failed after retries: RuntimeError: cannot apply poison"
    assert reasons[b"poison-1"]["dlq-attempts"] == "2"


async def _at_least(engine, n: int) -> bool:
    return await count(engine) >= n


async def test_a_batch_interrupted_by_shutdown_commits_neither_writes_nor_offsets(engine, kafka):
    topic = unique_topic()
    started_work, never = asyncio.Event(), asyncio.Event()

    async def slow(uow, records):
        await apply_batch(uow, records)
        started_work.set()
        await never.wait()  # shutdown arrives mid-batch
        return []

    broker = await started(kafka, topic, engine, slow)
    await send(broker, topic, [(f"k-{i}", b"ok") for i in range(20)])
    await asyncio.wait_for(started_work.wait(), 30)
    await asyncio.wait_for(broker.stop(), 30)
    assert await count(engine) == 0  # the interrupted transaction rolled back

    broker = await started(kafka, topic, engine)
    try:
        await eventually(lambda: _at_least(engine, 20))  # delivered again after the restart
    finally:
        await broker.stop()
    assert await count(engine) == 20


async def test_a_header_that_is_not_utf8_does_not_stop_a_partition(engine, kafka):
    batch_topic, event_topic = unique_topic(), unique_topic()

    async def apply_event(uow, envelope, payload):
        await uow.session.execute(insert(effects).values(key=payload.name, batch_size=1))

    broker = await started(kafka, batch_topic, engine)
    await ensure_topics(kafka.admin, [event_topic], partitions=1)
    events = KafkaBroker(kafka.bootstrap, security=kafka_security(kafka.admin))
    BatchConsumer(
        group_id=f"test-{event_topic}",
        topic=event_topic,
        unit_of_work=UnitsOfWork(async_sessionmaker(engine), outbox, "test"),
        handler=in_order(inbox, f"test-{event_topic}", {ProductRegistered: apply_event}),
    ).subscribe(events)
    await events.start()
    producer = AIOKafkaProducer(**kafka.options())
    await producer.start()
    try:
        odd = [("x-odd", b"\xff\xfe")]
        for name in ("event-odd-header", "event-after"):
            product = ProductRegistered(
                product_id=uuid4(),
                name=name,
                category="food",
                star_level=1,
                quadrant="D",
                nawatwithi=False,
                price_thb=Decimal(1),
                unit="ชิ้น",
            )
            value = envelope_for(product, province_code="72", source="test").model_dump_json().encode()
            await producer.send_and_wait(
                event_topic, value, key=b"same", headers=odd if name.endswith("header") else []
            )
        await producer.send_and_wait(batch_topic, b"ok", key=b"batch-odd-header", partition=0, headers=odd)
        await producer.send_and_wait(batch_topic, b"ok", key=b"batch-after", partition=0)
        await eventually(lambda: _at_least(engine, 4))
    finally:
        await producer.stop()
        await events.stop()
        await broker.stop()
    async with engine.connect() as conn:
        keys = set(await conn.scalars(select(effects.c.key)))
    assert keys == {"event-odd-header", "event-after", "batch-odd-header", "batch-after"}
