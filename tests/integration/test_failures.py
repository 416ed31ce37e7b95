"""Failure classes (shared/failures.py) against a real PostgreSQL that is stopped and started again, and a
real broker: a transient failure is waited out and never dead-lettered, a record too large to copy whole
is dead-lettered truncated with its original kept, HTTP answers 503 with Retry-After during an outage."""

import asyncio
import hashlib
import os
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.registry.main import spec as registry_spec
from shared.batch import BatchConsumer, claimed_events
from shared.consumer import InboxPruner
from shared.contracts.registry import ProductRegistered
from shared.db import (
    APPLIED_EVENTS,
    DEAD_LETTER_ORIGINALS,
    add_reliability_tables,
    create_schema,
    make_engine,
)
from shared.events import envelope_for
from shared.failures import is_transient
from shared.kafka_admin import ensure_topics
from shared.kafka_client import kafka_security
from shared.read_models import in_order
from shared.settings import ServiceSettings
from shared.topics import dead_letter_topic
from shared.unit_of_work import UnitsOfWork
from tests.conftest import bearer, eventually, running_service, unique_topic
from tests.harness import KafkaFixture
from tests.integration.test_reliability import product
from tests.reliability.support import LocalPostgres, new_database, read_to_end

pytestmark = pytest.mark.integration

metadata = MetaData()
outbox, inbox = add_reliability_tables(metadata)
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String, nullable=False),
)


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL of this module's own, so that stopping it stops no other test."""
    cluster = LocalPostgres("failures")
    cluster.start()
    yield cluster
    cluster.remove()


@pytest.fixture
async def own_database(postgres):
    url = await new_database(postgres.server, "failures")
    engine = make_engine(url)
    await create_schema(engine, metadata)
    yield url, engine
    await engine.dispose()


async def scalar(engine, statement):
    async with engine.connect() as conn:
        return await conn.scalar(statement)


def event(name: str = "ผ้าไหม") -> tuple[str, bytes]:
    envelope = envelope_for(product(name=name), province_code="72", source="test")
    return str(envelope.event_id), envelope.model_dump_json().encode()


async def record_effect(uow, envelope, payload) -> None:
    await uow.session.execute(insert(effects).values(event_id=str(envelope.event_id)))


async def apply_batch(consumer_name: str, uow, records):
    events, rejections = await claimed_events(uow.session, inbox, consumer_name, records, ProductRegistered)
    if events:
        await uow.session.execute(insert(effects), [{"event_id": str(e.event_id)} for e, _ in events])
    return rejections


async def publish(kafka: KafkaFixture, topic: str, values: list[bytes], **producer_options) -> None:
    producer = AIOKafkaProducer(**kafka.options(), acks="all", **producer_options)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"one-partition")
    finally:
        await producer.stop()


async def committed_up_to_end(kafka: KafkaFixture, group_id: str, topic: str) -> bool:
    admin = AIOKafkaAdminClient(**kafka.options())
    reader = AIOKafkaConsumer(topic, **kafka.options())
    await admin.start()
    await reader.start()
    try:
        ends = await reader.end_offsets(list(reader.assignment()))
        committed = await admin.list_consumer_group_offsets(group_id)
    finally:
        await reader.stop()
        await admin.close()
    return all(
        committed.get(tp) is not None and committed[tp].offset == end for tp, end in ends.items() if end
    )


def consumers(engine, topic: str, **options) -> list:
    unit_of_work = UnitsOfWork(async_sessionmaker(engine), outbox, "test")
    return [
        BatchConsumer(  # as the services' read models are wired (shared.read_models.in_order)
            group_id=f"in-order-{topic}",
            topic=topic,
            unit_of_work=unit_of_work,
            retry_backoff_s=0.05,
            max_backoff_s=0.5,
            handler=in_order(inbox, f"in-order-{topic}", {ProductRegistered: record_effect}),
            **options,
        ),
        BatchConsumer(
            group_id=f"batch-{topic}",
            topic=topic,
            unit_of_work=unit_of_work,
            retry_backoff_s=0.05,
            max_backoff_s=0.5,
            handler=lambda uow, records: apply_batch(f"batch-{topic}", uow, records),
            **options,
        ),
    ]


@pytest.mark.parametrize("hold_s", [60.0, 1.0], ids=["held", "given-back-and-fetched-again"])
async def test_a_database_outage_is_waited_out_and_nothing_is_dead_lettered(
    own_database, postgres, kafka, hold_s
):
    """Both consumers, with the database stopped while 20 events arrive: not ready meanwhile, every event
    applied once after, none dead-lettered, offsets committed to the end. With hold_s=1 the records are given
    back (nack) and fetched again several times during the outage."""
    url, engine = own_database
    topic = unique_topic()
    await ensure_topics(kafka.admin, [topic], partitions=2)
    broker = KafkaBroker(kafka.bootstrap, security=kafka_security(kafka.admin))
    both = consumers(engine, topic, hold_s=hold_s)
    for consumer in both:
        consumer.subscribe(broker)
    await broker.start()
    events = [event(f"สินค้า {i}") for i in range(20)]
    try:
        await asyncio.to_thread(postgres.stop)
        try:
            await publish(kafka, topic, [value for _, value in events])
            await eventually(lambda: _all_failing(both), timeout=30)
            await asyncio.sleep(4)
        finally:
            await asyncio.to_thread(postgres.start)
        await eventually(lambda: _all_ready(both), timeout=60)

        async def applied_by_both() -> bool:
            return await scalar(engine, select(func.count()).select_from(effects)) == 2 * len(events)

        await eventually(applied_by_both, timeout=60)
        for consumer in both:
            await eventually(lambda c=consumer: committed_up_to_end(kafka, c.group_id, topic))
    finally:
        await broker.stop()
    assert await scalar(engine, select(func.count(func.distinct(effects.c.event_id)))) == len(events)
    counted = {
        row.consumer: row.events
        for row in (
            await _rows(
                engine,
                select(APPLIED_EVENTS.c.consumer, func.sum(APPLIED_EVENTS.c.events).label("events")).group_by(
                    APPLIED_EVENTS.c.consumer
                ),
            )
        )
    }
    assert counted == {c.group_id: len(events) for c in both}
    assert await read_to_end(kafka, dead_letter_topic(topic)) == []
    given_back = [
        REGISTRY.get_sample_value("otop_records_given_back_total", {"consumer": c.group_id, "topic": topic})
        or 0
        for c in both
    ]
    assert all(times >= 1 for times in given_back) if hold_s < 4 else given_back == [0, 0]


async def _all_failing(consumers_) -> bool:
    return all(not c.status.ready for c in consumers_)


async def _all_ready(consumers_) -> bool:
    return all(c.status.ready for c in consumers_)


async def _rows(engine, statement):
    async with engine.connect() as conn:
        return (await conn.execute(statement)).all()


async def test_records_too_large_to_copy_are_dead_lettered_truncated_and_kept(own_database, kafka):
    """A record just under Kafka's 1 MiB limit, and one of 1.5 MiB (sent compressed, so the broker takes it),
    both unreadable: each is on the dead-letter topic truncated, with its size, checksum and a pointer to its
    original in the database; the consumer goes on to the valid event after them."""
    url, engine = own_database
    topic = unique_topic()
    await ensure_topics(kafka.admin, [topic], partitions=1)
    near_limit = os.urandom(1_040_000)  # random: compression would not shrink it
    over_limit = b'{"padding": "' + b"x" * (1536 * 1024) + b'"}'
    good_id, good = event()
    broker = KafkaBroker(kafka.bootstrap, security=kafka_security(kafka.admin))
    consumer = consumers(engine, topic)[0]
    consumer.subscribe(broker)
    await broker.start()
    try:
        await publish(kafka, topic, [near_limit])
        await publish(
            kafka, topic, [over_limit, good], compression_type="gzip", max_request_size=4 * 1024 * 1024
        )

        async def good_applied() -> bool:
            return (
                await scalar(
                    engine, select(func.count()).select_from(effects).where(effects.c.event_id == good_id)
                )
                == 1
            )

        await eventually(good_applied, timeout=60)
    finally:
        await broker.stop()
    dead = await read_to_end(kafka, dead_letter_topic(topic))
    assert len(dead) == 2
    originals = {row.id: row for row in await _rows(engine, select(DEAD_LETTER_ORIGINALS))}
    for record, original in zip(dead, (near_limit, over_limit), strict=True):
        headers = {name: value.decode() for name, value in record.headers}
        assert headers["dlq-truncated"] == "true" and headers["dlq-reason-code"] == "malformed"
        assert int(headers["dlq-original-bytes"]) == len(original)
        assert headers["dlq-original-sha256"] == hashlib.sha256(original).hexdigest()
        server, database, table, row_id = headers["dlq-original-ref"].split("/")
        assert (server, database, table) == (
            url.split("@")[1].split("/")[0],
            url.rsplit("/", 1)[1],
            "dead_letter_originals",
        )
        kept = originals[int(row_id)]
        assert bytes(kept.value) == original and kept.sha256 == headers["dlq-original-sha256"]
        assert record.value == original[: 64 * 1024]


async def test_http_write_during_a_database_outage_answers_503_with_retry_after(postgres, kafka):
    url = await new_database(postgres.server, "failures_http")
    officer = bearer("province_officer", "72")
    body = {
        "name": "ผ้าทอ",
        "category": "textile",
        "star_level": 2,
        "quadrant": "D",
        "nawatwithi": True,
        "price_thb": "120.00",
        "unit": "ผืน",
    }
    async with running_service(registry_spec, url, kafka) as http:
        await asyncio.to_thread(postgres.stop)
        try:
            during = [await http.post("/provinces/72/products", json=body, headers=officer) for _ in range(5)]
            listed = await http.get("/provinces/72/products", headers=officer)
            ready = await http.get("/health/ready")
        finally:
            await asyncio.to_thread(postgres.start)
        assert [r.status_code for r in during] == [503] * 5, [r.text for r in during]
        assert all(r.headers["Retry-After"] == "5" for r in during)
        assert listed.status_code == 503 and ready.status_code == 503 and ready.json()["database"] is False
        after = await http.post("/provinces/72/products", json=body, headers=officer)
        assert after.status_code == 201, after.text
        assert (await http.get("/provinces/72/products", headers=officer)).json()["total"] == 1


async def test_transient_and_permanent_database_errors_are_told_apart(pg_server):
    """Real errors from PostgreSQL: a deadlock and a refused connection pass; a division by zero does not."""
    refused = make_engine("postgresql://postgres@127.0.0.1:1/none")
    with pytest.raises(Exception) as no_server:
        async with refused.connect():
            pass
    await refused.dispose()
    assert is_transient(no_server.value)

    engine = make_engine(pg_server)
    with pytest.raises(Exception) as by_zero:
        async with engine.connect() as conn:
            await conn.execute(select(1 / func.abs(0)))
    assert not is_transient(by_zero.value)

    first, second = await asyncpg.connect(pg_server), await asyncpg.connect(pg_server)
    table = f"locks_{uuid4().hex[:8]}"
    try:
        await first.execute(f"CREATE TABLE {table} (id int primary key); INSERT INTO {table} VALUES (1), (2)")
        one, two = first.transaction(), second.transaction()
        await one.start()
        await two.start()
        await first.execute(f"UPDATE {table} SET id = id WHERE id = 1")
        await second.execute(f"UPDATE {table} SET id = id WHERE id = 2")
        crossed = await asyncio.gather(
            first.execute(f"UPDATE {table} SET id = id WHERE id = 2"),
            second.execute(f"UPDATE {table} SET id = id WHERE id = 1"),
            return_exceptions=True,
        )
        [deadlock] = [result for result in crossed if isinstance(result, Exception)]
        assert isinstance(deadlock, asyncpg.DeadlockDetectedError) and is_transient(deadlock)
    finally:
        await first.close()
        await second.close()
        await engine.dispose()


async def test_the_inbox_is_pruned_of_ids_older_than_it_keeps_in_bounded_batches(database_url):
    engine = make_engine(database_url)
    await create_schema(engine, metadata)
    old = datetime.now(UTC) - timedelta(days=20)
    async with engine.begin() as conn:
        await conn.execute(
            insert(inbox),
            [{"consumer": "c", "event_id": uuid4(), "processed_at": old} for _ in range(7)]
            + [{"consumer": "c", "event_id": uuid4(), "processed_at": datetime.now(UTC)}],
        )
    try:
        removed = await InboxPruner(engine, inbox, keep_s=14 * 24 * 3600, batch=3).prune()
        assert removed == 7
        assert await scalar(engine, select(func.count()).select_from(inbox)) == 1
    finally:
        await engine.dispose()


def test_the_inbox_must_outlive_the_topics():
    common = {
        "service_name": "x",
        "database_url": "postgresql://unused",
        "oidc_issuer": "https://unused",
        "kafka_username": "unused",
        "kafka_password": "unused",
    }
    assert ServiceSettings(**common).inbox_keep_s > ServiceSettings(**common).topic_retention_s
    with pytest.raises(ValueError, match="INBOX_KEEP"):
        ServiceSettings(**common, topic_retention_s=3600, inbox_keep_s=3600)


async def test_topics_are_created_with_an_explicit_retention(kafka):
    topic = unique_topic()
    await ensure_topics(
        kafka.admin.model_copy(update={"topic_retention_s": 3 * 24 * 3600}), [topic], partitions=1
    )
    admin = AIOKafkaAdminClient(**kafka.options())
    await admin.start()
    try:
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in (topic, dead_letter_topic(topic))]
        )
    finally:
        await admin.close()
    retention = {
        resource[3]: {entry[0]: entry[1] for entry in resource[4]}["retention.ms"]
        for response in described
        for resource in response.resources
    }
    assert retention == {
        topic: str(3 * 24 * 3600 * 1000),
        dead_letter_topic(topic): str(3 * 24 * 3600 * 1000),
    }
