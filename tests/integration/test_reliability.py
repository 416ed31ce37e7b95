"""The reliability plumbing in shared/, against a real Kafka broker and a real PostgreSQL."""

import asyncio
import json
import shutil
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY
from sqlalchemy import Column, Identity, Integer, MetaData, Table, Uuid, func, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.batch import BatchConsumer
from shared.contracts.registry import ProductRegistered
from shared.db import add_reliability_tables, create_schema, make_engine
from shared.events import envelope_for
from shared.kafka_admin import ensure_topics
from shared.kafka_client import kafka_security
from shared.outbox import RELAY_LOCK_ID, OutboxRelay, kafka_producer
from shared.read_models import in_order
from shared.topics import dead_letter_topic
from shared.unit_of_work import UnitsOfWork
from tests import harness
from tests.conftest import eventually, unique_topic
from tests.harness import KafkaFixture

pytestmark = pytest.mark.integration

metadata = MetaData()
outbox, inbox = add_reliability_tables(metadata)
# A deliberately non-idempotent effect: every application of an event adds a row.
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, Identity(), primary_key=True),
    Column("event_id", Uuid, nullable=False),
)


def product(name: str = "ผ้าขาวม้าทอมือ", star_level: int = 2) -> ProductRegistered:
    return ProductRegistered(
        product_id=uuid4(),
        name=name,
        category="textile",
        star_level=star_level,
        quadrant="D",
        nawatwithi=True,
        price_thb=Decimal("250"),
        unit="ผืน",
    )


def event_bytes(payload: ProductRegistered) -> tuple[UUID, bytes]:
    envelope = envelope_for(payload, province_code="72", source="test")
    return envelope.event_id, envelope.model_dump_json().encode()


@pytest.fixture
async def engine(database_url):
    engine = make_engine(database_url)
    await create_schema(engine, metadata)
    yield engine
    await engine.dispose()


async def read_topic(
    kafka: KafkaFixture, topic: str, count: int, key: bytes | None = None, timeout: float = 30.0
):
    """The first `count` records of `topic` (only those with `key`, if given), from the beginning."""
    consumer = AIOKafkaConsumer(
        topic, **kafka.options(), auto_offset_reset="earliest", group_id=f"reader-{uuid4().hex[:6]}"
    )
    await consumer.start()
    records = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < count:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(r for r in batch if key is None or r.key == key)
    finally:
        await consumer.stop()
    return records


async def publish_raw(kafka: KafkaFixture, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(**kafka.options(), acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()


async def test_event_committed_while_kafka_is_down_is_published_once_kafka_is_back(engine):
    """The state change commits with Kafka unreachable; the same relay publishes it after the broker
    starts."""
    from deploy.kafka.kafka_runner import LocalKafka

    broker = LocalKafka(harness.scratch_dir("otop-kafka-down-"), harness.free_port())
    (broker.data_dir / "admin.password").write_text(uuid4().hex)  # the super user's, once it starts
    kafka = harness.KafkaFixture.of(broker)
    relay = OutboxRelay(
        engine, outbox, lambda: kafka_producer(kafka.admin, "test-relay"), idle_poll_s=0.05, max_backoff_s=1.0
    )
    relay_task = asyncio.create_task(relay.run())
    try:
        async with units_of_work(engine)() as uow:
            envelope = uow.emit(product(), province_code="72")
        await asyncio.sleep(3)  # the relay keeps failing against the absent broker...
        assert await relay.backlog() == 1  # ...and keeps the event

        broker.start()
        try:
            await ensure_topics(
                kafka.admin, [ProductRegistered.topic], partitions=3
            )  # no broker creates topics
            await eventually(lambda: _backlog_is_zero(relay), timeout=60)
            [record] = await read_topic(kafka, ProductRegistered.topic, 1)
            assert json.loads(record.value)["event_id"] == str(envelope.event_id)
        finally:
            await relay.close()
            broker.stop()
            shutil.rmtree(broker.data_dir, ignore_errors=True)
    finally:
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)


async def _backlog_is_zero(relay: OutboxRelay) -> bool:
    return await relay.backlog() == 0


async def test_relay_publishes_in_commit_order_and_empties_the_outbox(engine, kafka):
    relay = OutboxRelay(engine, outbox, lambda: kafka_producer(kafka.admin, "test-relay"), batch_size=7)
    payloads = [product(name=f"สินค้า {i}") for i in range(20)]
    same_key = payloads[0].product_id  # one aggregate: its events must arrive in commit order
    async with units_of_work(engine)() as uow:
        for p in payloads:
            uow.emit(p.model_copy(update={"product_id": same_key}), province_code="72")
    published = 0
    while (n := await relay.publish_batch()) > 0:
        published += n
    await relay.close()
    assert published == 20 and await relay.backlog() == 0
    records = await read_topic(kafka, ProductRegistered.topic, 20, key=str(same_key).encode())
    names = [json.loads(r.value)["payload"]["name"] for r in records]
    assert names == [f"สินค้า {i}" for i in range(20)]


async def test_a_relay_that_found_another_holding_the_turn_looks_again_soon(engine, kafka):
    """A woken relay that finds another relay holding the turn (the advisory lock: another replica's
    relay, whose last look may have come just before this commit) looks again after 0.1 s, not after its
    idle poll (here 10 minutes), so the events go out as soon as the turn is free."""
    relay = OutboxRelay(engine, outbox, lambda: kafka_producer(kafka.admin, "test-relay"), idle_poll_s=600)
    units = UnitsOfWork(async_sessionmaker(engine), outbox, "test", committed=relay.wake)
    relay_task = asyncio.create_task(relay.run())
    try:
        async with engine.connect() as other, other.begin():  # the other relay's turn
            await other.scalar(select(func.pg_advisory_xact_lock(RELAY_LOCK_ID)))
            payload = product()
            async with units() as uow:
                envelope = uow.emit(payload, province_code="72")
            await asyncio.sleep(1)
            assert await relay.backlog() == 1  # not its turn: the event waits in the outbox
        await eventually(lambda: _backlog_is_zero(relay), timeout=10)
        records = await read_topic(kafka, ProductRegistered.topic, 1, key=str(payload.product_id).encode())
        assert json.loads(records[0].value)["event_id"] == str(envelope.event_id)
    finally:
        relay_task.cancel()
        await asyncio.gather(relay_task, return_exceptions=True)
        await relay.close()


def units_of_work(engine) -> UnitsOfWork:
    return UnitsOfWork(async_sessionmaker(engine), outbox, "test")


def make_consumer(engine, topic: str, handler) -> BatchConsumer:
    """A consumer wired as the services' read models are (shared.read_models.in_order)."""
    return BatchConsumer(
        group_id=f"test-{topic}",
        topic=topic,
        handler=in_order(inbox, f"test-{topic}", {ProductRegistered: handler}),
        unit_of_work=units_of_work(engine),
        max_attempts=3,
        retry_backoff_s=0.05,
    )


async def record_effect(uow, envelope, payload) -> None:
    if payload.name == "always fails":
        raise RuntimeError("handler cannot apply this")
    await uow.session.execute(insert(effects).values(event_id=envelope.event_id))


async def effect_count(engine, event_id: UUID) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(
            select(func.count()).select_from(effects).where(effects.c.event_id == event_id)
        )


def consumed(consumer: BatchConsumer, outcome: str) -> float:
    """This process's otop_events_consumed_total for the consumer (each test has its own topic)."""
    return (
        REGISTRY.get_sample_value(
            "otop_events_consumed_total",
            {"consumer": consumer.group_id, "topic": consumer.topic, "outcome": outcome},
        )
        or 0
    )


def dead_lettered(consumer: BatchConsumer, code: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "otop_dead_lettered_total",
            {"consumer": consumer.group_id, "topic": consumer.topic, "reason_code": code},
        )
        or 0
    )


async def running_broker(kafka: KafkaFixture, consumer: BatchConsumer) -> KafkaBroker:
    await ensure_topics(kafka.admin, [consumer.topic], partitions=3)
    broker = KafkaBroker(kafka.bootstrap, security=kafka_security(kafka.admin))
    consumer.subscribe(broker)
    await broker.start()
    return broker


async def test_redelivered_event_changes_nothing(engine, kafka):
    topic = unique_topic()
    consumer = make_consumer(engine, topic, record_effect)
    broker = await running_broker(kafka, consumer)
    try:
        duplicate_id, duplicate = event_bytes(product())
        marker_id, marker = event_bytes(product())
        await publish_raw(kafka, topic, [duplicate, duplicate, duplicate, marker])
        await eventually(lambda: effect_count(engine, marker_id))
        assert await effect_count(engine, duplicate_id) == 1
        assert consumed(consumer, "batched") == 4  # every record accounted for, the duplicates applied once
    finally:
        await broker.stop()
    # A new consumer instance in the same group, handed the same event again, still changes nothing.
    broker = await running_broker(kafka, make_consumer(engine, topic, record_effect))
    try:
        marker2_id, marker2 = event_bytes(product())
        await publish_raw(kafka, topic, [duplicate, marker2])
        await eventually(lambda: effect_count(engine, marker2_id))
        assert await effect_count(engine, duplicate_id) == 1
    finally:
        await broker.stop()


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_consumer_keeps_going(engine, kafka):
    topic = unique_topic()
    consumer = make_consumer(engine, topic, record_effect)
    broker = await running_broker(kafka, consumer)
    try:
        bad_payload = json.loads(event_bytes(product())[1])
        bad_payload["payload"]["star_level"] = 9
        failing_id, failing = event_bytes(product(name="always fails"))
        good_id, good = event_bytes(product())
        await publish_raw(kafka, topic, [b"{not json", json.dumps(bad_payload).encode(), failing, good])
        await eventually(lambda: effect_count(engine, good_id))
        dead = await read_topic(kafka, dead_letter_topic(topic), 3)
    finally:
        await broker.stop()
    by_value = {record.value: dict((k, v.decode()) for k, v in record.headers) for record in dead}
    assert by_value[b"{not json"]["dlq-reason"].startswith("envelope:")
    assert "star_level" in by_value[json.dumps(bad_payload).encode()]["dlq-reason"]
    failed = by_value[failing]
    assert failed["dlq-reason"] == "failed after retries: RuntimeError: handler cannot apply this"
    assert failed["dlq-attempts"] == "3" and failed["dlq-original-topic"] == topic
    assert failed["dlq-consumer-group"] == consumer.group_id
    assert await effect_count(engine, failing_id) == 0
    assert dead_lettered(consumer, "malformed") == 2 and dead_lettered(consumer, "failed") == 1
    assert consumed(consumer, "batched") == 1


async def test_offset_is_not_committed_for_work_interrupted_by_shutdown(engine, kafka):
    topic = unique_topic()
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_effect(uow, envelope, payload):
        await uow.session.execute(insert(effects).values(event_id=envelope.event_id))
        started.set()
        await release.wait()  # never set: shutdown arrives mid-work

    broker = await running_broker(kafka, make_consumer(engine, topic, slow_effect))
    event_id, value = event_bytes(product())
    await publish_raw(kafka, topic, [value])
    await asyncio.wait_for(started.wait(), 30)
    await asyncio.wait_for(broker.stop(), 30)
    assert await effect_count(engine, event_id) == 0  # the interrupted transaction rolled back

    broker = await running_broker(kafka, make_consumer(engine, topic, record_effect))
    try:
        await eventually(lambda: effect_count(engine, event_id))  # delivered again after restart
    finally:
        await broker.stop()
    assert await effect_count(engine, event_id) == 1
