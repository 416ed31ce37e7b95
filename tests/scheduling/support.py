"""Helpers for the scheduling service tests: other services' events published as those services would
publish them, readers of the topics the scheduling service writes, and read-model waits."""

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.contracts.registry import ProducerRegistered, ProductRegistered
from shared.contracts.sales import SaleChannel, SaleRecorded
from shared.events import Envelope, Payload, envelope_for
from tests.conftest import bearer, eventually
from tests.harness import KafkaFixture

OFFICER = bearer("province_officer", "72")
COMMITTEE = bearer("committee_member", "72")
DEPARTMENT = bearer("department")
OTHER_OFFICER = bearer("province_officer", "10")


def producer(name: str = "กลุ่มแม่บ้านเกษตรกร", **changes) -> ProducerRegistered:
    return ProducerRegistered(
        producer_id=uuid4(),
        revision=1,
        name=name,
        producer_type="community_group",
        experienced=True,
        **changes,
    )


def product(
    name: str,
    producer_id: UUID | None = None,
    quadrant: str = "D",
    star_level: int = 2,
    nawatwithi: bool = True,
    **changes,
) -> ProductRegistered:
    return ProductRegistered(
        product_id=uuid4(),
        producer_id=producer_id or uuid4(),
        name=name,
        category="food",
        star_level=star_level,
        quadrant=quadrant,
        nawatwithi=nawatwithi,
        price_thb=Decimal("45"),
        unit="ชิ้น",
        **changes,
    )


def sale(
    product_id: UUID,
    amount: str,
    sold_at: datetime = datetime(2019, 6, 1, 4, 0, tzinfo=UTC),
    event_type=SaleRecorded,
    revision: int = 1,
    sale_id: UUID | None = None,
    **extra,
) -> SaleRecorded:
    return event_type(
        sale_id=sale_id or uuid4(),
        revision=revision,
        market_day_id=uuid4(),
        product_id=product_id,
        quantity=Decimal(1),
        unit_price_thb=Decimal(amount),
        amount_thb=Decimal(amount),
        sold_at=sold_at,
        channel=SaleChannel.OFFICER,
        **extra,
    )


def envelope(payload: Payload, province: str = "72") -> Envelope:
    return envelope_for(payload, province_code=province, source="test")


async def publish(
    kafka: KafkaFixture, *events: Payload | tuple[Payload, Envelope], province: str = "72"
) -> None:
    """Other services' events, in order, as their outbox relay publishes them; a (payload, envelope) pair is
    sent with that envelope, so sending one twice is a redelivery."""
    producer_ = AIOKafkaProducer(**kafka.options(), acks="all")
    await producer_.start()
    try:
        for event in events:
            payload, sent = event if isinstance(event, tuple) else (event, envelope(event, province))
            await producer_.send_and_wait(
                payload.topic, sent.model_dump_json().encode(), key=payload.key().encode()
            )
    finally:
        await producer_.stop()


async def rows(database_url: str, query: str, *args) -> list:
    db = await asyncpg.connect(database_url)
    try:
        return await db.fetch(query, *args)
    finally:
        await db.close()


async def applied(database_url: str, consumer: str, count: int) -> None:
    """Waits until the scheduling consumer `consumer` (e.g. scheduling.products) applied `count` events."""

    async def done() -> bool:
        [row] = await rows(database_url, "SELECT count(*) FROM inbox WHERE consumer = $1", consumer)
        return row[0] >= count

    await eventually(done, timeout=90)


async def events(
    kafka: KafkaFixture, topic: str, keep: Callable[[dict], bool], count: int, timeout: float = 60.0
) -> list[dict]:
    """The first `count` envelopes (as dicts) on `topic`, from the beginning, that `keep` accepts."""
    consumer = AIOKafkaConsumer(
        topic, **kafka.options(), auto_offset_reset="earliest", group_id=f"reader-{uuid4().hex[:6]}"
    )
    await consumer.start()
    found: list[dict] = []
    try:
        async with asyncio.timeout(timeout):
            while len(found) < count:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    found.extend(e for e in (json.loads(r.value) for r in batch) if keep(e))
    finally:
        await consumer.stop()
    return found


def about(key: str, value) -> Callable[[dict], bool]:
    """Keeps envelopes whose payload's `key` is `value`."""
    return lambda e: e["payload"].get(key) == str(value)


VENUE = {
    "name": "ตลาดประชารัฐ คนไทยยิ้มได้ จังหวัดสุพรรณบุรี",
    "kind": "pracharat_market",
    "amphoe_code": "7201",
    "tambon_code": "720101",
    "address": "หน้าศาลากลางจังหวัดสุพรรณบุรี",
    "contact_name": "นางสมศรี ใจดี",
    "phone": "035-535-000",
}
PLAN = {
    "first_month": "2019-06",
    "last_month": "2019-09",
    "target_group": "๒๐ ผลิตภัณฑ์/ตลาด",
    "budget_source": "งบบุคลากรฯ",
}


async def venue(http, **changes) -> dict:
    created = await http.post("/provinces/72/venues", json={**VENUE, **changes}, headers=OFFICER)
    assert created.status_code == 201, created.text
    return created.json()


async def market_day(http, venue_id: str, day: date, **fields) -> dict:
    created = await http.post(
        "/provinces/72/market-days",
        json={"venue_id": venue_id, "day": day.isoformat(), **fields},
        headers=OFFICER,
    )
    assert created.status_code == 201, created.text
    return created.json()
