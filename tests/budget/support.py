"""Helpers for the budget service tests: a proposal as an officer writes it, scheduling's events as that
service publishes them, and readers of the budget's topics."""

import asyncio
import io
import json
from collections.abc import Callable
from datetime import date
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from PIL import Image

from services.budget.consumers import READ_MODELS
from shared.contracts.scheduling import InvitationAccepted, InvitationSent, MarketDayScheduled, VenueKind
from shared.events import Payload, envelope_for
from tests.conftest import bearer, consume_from_now
from tests.harness import KafkaFixture

OFFICER = bearer("province_officer", "72")
COMMITTEE = bearer("committee_member", "72")
DEPARTMENT = bearer("department")
OTHER_OFFICER = bearer("province_officer", "10")
P72 = "/provinces/72"

# The seed's plan table: the OTOP Mobile project, paid from งบบุคลากรฯ.
PROPOSAL = {
    "name": "โครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
    "fiscal_year": 2562,
    "activities": [
        {
            "activity": "นำผลิตภัณฑ์ OTOP จำหน่ายในตลาดประชารัฐและแหล่งท่องเที่ยว",
            "target_group": "ผลิตภัณฑ์ OTOP ๒๐ ผลิตภัณฑ์/ตลาด",
            "period": "มิถุนายน - กันยายน ๒๕๖๒",
            "places": "ตลาดประชารัฐ คนไทยยิ้มได้ จังหวัดสุพรรณบุรี",
            "budget_source": "งบบุคลากรฯ",
        }
    ],
    "lines": [
        {"category": "materials", "amount_thb": "30000.00", "description": "ธง ป้าย เต็นท์ โต๊ะ"},
        {"category": "publicity", "amount_thb": "8000.50"},
        {"category": "transport", "amount_thb": "12000.00"},
    ],
}


async def skip_earlier_events(kafka: KafkaFixture) -> None:
    """The budget's consumer group starts from now: a test's service reads only the events it publishes."""
    await consume_from_now(kafka, {group_id: model.topic for group_id, model in READ_MODELS.items()})


async def ok(answer: httpx.Response, status: int = 200) -> dict:
    assert answer.status_code == status, answer.text
    return answer.json()


async def approved_proposal(http: httpx.AsyncClient, **changes) -> dict:
    """A proposal submitted by the officer and approved by the department."""
    proposal = await ok(
        await http.post(f"{P72}/proposals", json={**PROPOSAL, **changes}, headers=OFFICER), 201
    )
    url = f"{P72}/proposals/{proposal['id']}/versions/1/approve"
    return await ok(await http.post(url, json={}, headers=DEPARTMENT))


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def market_day(day: date, market_day_id: UUID | None = None) -> MarketDayScheduled:
    return MarketDayScheduled(
        market_day_id=market_day_id or uuid4(),
        revision=1,
        venue_id=uuid4(),
        venue_name="ตลาดประชารัฐ หน้าศาลากลางจังหวัดสุพรรณบุรี",
        venue_kind=VenueKind.PRACHARAT_MARKET,
        day=day,
        status="scheduled",
    )


def lineup(market_day_id: UUID, size: int, accepted: int = 0) -> list[Payload]:
    """`size` invitations sent, the first `accepted` of them accepted."""
    sent = [
        InvitationSent(invitation_id=uuid4(), market_day_id=market_day_id, product_id=uuid4())
        for _ in range(size)
    ]
    return [*sent, *(InvitationAccepted(**event.model_dump()) for event in sent[:accepted])]


async def publish(kafka: KafkaFixture, *events: Payload, province: str = "72") -> None:
    producer = AIOKafkaProducer(**kafka.options(), acks="all")
    await producer.start()
    try:
        for event in events:
            sent = envelope_for(event, province_code=province, source="test")
            await producer.send_and_wait(
                event.topic, sent.model_dump_json().encode(), key=event.key().encode()
            )
    finally:
        await producer.stop()


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
