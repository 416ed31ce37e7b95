"""Helpers for the sales tests: other services' events published as those services would, signed POS
messages published as an integration would, and readers of the topics the sales service writes."""

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.contracts.registry import ProductRegistered
from shared.contracts.sales import PosSale
from shared.contracts.scheduling import MarketDayScheduled, MarketDayStatus, VenueKind
from shared.events import Payload, envelope_for
from tests.conftest import bearer, eventually
from tests.harness import KafkaFixture

MASTER_KEY = "sales-test-master-key-0123456789abcdef"
OFFICER = bearer("province_officer", "72")


def sales_env(monkeypatch, **settings) -> None:
    """The sales service's own settings come from the environment (running_service passes shared ones)."""
    from tests import harness

    for name, value in harness.session_keycloak().sales_env().items():  # integrations' clients
        monkeypatch.setenv(name, value)
    for name, value in harness.session_provisioner_env().items():  # integrations' Kafka principals
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OTOP_SALES_SIGNING_MASTER_KEY", MASTER_KEY)
    monkeypatch.setenv("OTOP_SALES_HOLD_RETRY_S", "0.5")
    for name, value in settings.items():
        monkeypatch.setenv(f"OTOP_SALES_{name.upper()}", str(value))


def product(
    price: str = "45.00",
    category: str = "food",
    name: str = "ข้าวตังหน้าธัญพืช",
    producer_id: UUID | None = None,
    **changes,
) -> ProductRegistered:
    return ProductRegistered(
        product_id=uuid4(),
        producer_id=producer_id or uuid4(),
        name=name,
        category=category,
        star_level=2,
        quadrant="D",
        nawatwithi=True,
        price_thb=Decimal(price),
        unit="กล่อง",
        **changes,
    )


def market_day(
    day: date = date(2019, 6, 15),
    venue: str = "ตลาดประชารัฐ สุพรรณบุรี",
    venue_id: UUID | None = None,
    kind=MarketDayScheduled,
    status: MarketDayStatus = MarketDayStatus.SCHEDULED,
    revision: int = 1,
    market_day_id: UUID | None = None,
) -> MarketDayScheduled:
    return kind(
        market_day_id=market_day_id or uuid4(),
        revision=revision,
        venue_id=venue_id or uuid4(),
        venue_name=venue,
        venue_kind=VenueKind.PRACHARAT_MARKET,
        day=day,
        status=status,
    )


async def publish(kafka: KafkaFixture, *payloads: Payload, province: str = "72") -> None:
    """Other services' events, in order, exactly as their outbox relay would publish them."""
    producer = AIOKafkaProducer(**kafka.options(), acks="all")
    await producer.start()
    try:
        for payload in payloads:
            envelope = envelope_for(payload, province_code=province, source="test")
            await producer.send_and_wait(
                payload.topic, envelope.model_dump_json().encode(), key=payload.key().encode()
            )
    finally:
        await producer.stop()


def pos_sale(
    sale_id: str, product_id: UUID, market_day_id: UUID, quantity: str = "2", price: str = "45.00"
) -> PosSale:
    return PosSale(
        integration_sale_id=sale_id,
        product_id=product_id,
        market_day_id=market_day_id,
        quantity=Decimal(quantity),
        unit_price_thb=Decimal(price),
        sold_at=datetime(2019, 6, 15, 10, 30, tzinfo=UTC),
    )


def pos_body(sale: PosSale, province: str = "72") -> bytes:
    return envelope_for(sale, province_code=province, source="pos-test").model_dump_json().encode()


def signed(body: bytes, key_id: str, key: str) -> list[tuple[str, bytes]]:
    """The headers of the contract: key id and HMAC-SHA256 (hex) of the exact body bytes."""
    return [
        ("x-otop-key-id", key_id.encode()),
        ("x-otop-signature", hmac.new(key.encode(), body, hashlib.sha256).hexdigest().encode()),
    ]


async def publish_pos(
    kafka: KafkaFixture, messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]
) -> list:
    """POS messages (kafka key, value, headers) on the ingress topic, as an integration would send them;
    returns where each landed (RecordMetadata)."""
    producer = AIOKafkaProducer(**kafka.options(), acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        sent = [
            await producer.send("otop.sales.ingress", value, key=key, headers=headers)
            for key, value, headers in messages
        ]
        return list(await asyncio.gather(*sent))
    finally:
        await producer.stop()


async def read_until(
    kafka: KafkaFixture, topic: str, keep: Callable, done: Callable[[list], bool], timeout: float = 60.0
) -> list:
    """Records of `topic`, from the beginning, that `keep` accepts, once `done` says there are enough."""
    consumer = AIOKafkaConsumer(
        topic, **kafka.options(), auto_offset_reset="earliest", group_id=f"reader-{uuid4().hex[:6]}"
    )
    await consumer.start()
    records: list = []
    try:
        async with asyncio.timeout(timeout):
            while not done(records):
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(r for r in batch if keep(r))
    finally:
        await consumer.stop()
    return records


def headers_of(record) -> dict[str, str]:
    return {name: value.decode() for name, value in record.headers}


def client_bearer(registered: dict) -> dict[str, str]:
    """The Authorization header of a registered integration's own client (its client credentials)."""
    from deploy.keycloak.admin import client_credentials_grant

    token = client_credentials_grant(
        registered["token_url"], registered["client_id"], registered["client_secret"]
    )
    return {"Authorization": f"Bearer {token['access_token']}"}


async def register_integration(http: httpx.AsyncClient, name: str = "POS ร้านค้าชุมชน") -> dict:
    created = await http.post("/provinces/72/integrations", json={"name": name}, headers=OFFICER)
    assert created.status_code == 201, created.text
    return created.json()


async def read_models_know(database_url: str, *events: ProductRegistered | MarketDayScheduled) -> None:
    """Waits until the sales service's read models hold these published products and market days (by id:
    the service may still be reading other tests' earlier events, so a count would be satisfied too soon)."""
    products = [e.product_id for e in events if isinstance(e, ProductRegistered)]
    market_days = [e.market_day_id for e in events if not isinstance(e, ProductRegistered)]

    async def known() -> bool:
        db = await asyncpg.connect(database_url)
        try:
            return await db.fetchval("SELECT count(*) FROM products WHERE id = any($1)", products) == len(
                products
            ) and await db.fetchval(
                "SELECT count(*) FROM market_days WHERE id = any($1)", market_days
            ) == len(market_days)
        finally:
            await db.close()

    await eventually(known, timeout=60)


async def events_applied(database_url: str, consumer: str, count: int) -> bool:
    """Whether `consumer` of the sales service has applied `count` events (its inbox rows)."""
    db = await asyncpg.connect(database_url)
    try:
        return await db.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", consumer) >= count
    finally:
        await db.close()


async def totals(http: httpx.AsyncClient, by: str, **params) -> dict[str, dict]:
    response = await http.get("/provinces/72/sales/totals", params={"by": by, **params}, headers=OFFICER)
    assert response.status_code == 200, response.text
    return {item["key"]: item for item in response.json()["items"]}


def sale_event_values(records) -> list[dict]:
    return [json.loads(record.value) for record in records]
