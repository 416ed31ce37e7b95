"""Shared helpers of the reliability tests: the four services as real OS processes (uvicorn) against
a Kafka broker of their own (so it can be killed), a province's catalogue created through the services'
HTTP APIs, a signed POS sale stream, and the totals every service holds of it."""

import asyncio
import os
import random
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

from deploy.kafka.kafka_runner import LocalKafka
from deploy.local.processes import ServiceProcess
from tests import harness
from tests.conftest import TEST_JWT_SECRET, bearer, eventually
from tests.sales.support import MASTER_KEY, pos_body, pos_sale, signed

SERVICES = ("registry", "scheduling", "sales", "monitoring")
OFFICER = bearer("province_officer", "72")


def env_int(name: str, default: int) -> int:
    """A size knob of these tests: small in CI, the issue's full size on request."""
    return int(os.environ.get(name, default))


@contextmanager
def own_kafka() -> Iterator[LocalKafka]:
    """A broker only these tests use: killing it leaves the session's broker alone."""
    broker = LocalKafka(harness.scratch_dir("otop-kafka-faults-"), harness.free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(broker.data_dir, ignore_errors=True)


async def new_database(pg_server: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return pg_server.rsplit("/", 1)[0] + f"/{name}"


async def scalar(database_url: str, sql: str, *args):
    db = await asyncpg.connect(database_url)
    try:
        return await db.fetchval(sql, *args)
    finally:
        await db.close()


@dataclass
class Stack:
    """The four services, each its own process and database, on one Kafka broker."""

    kafka: LocalKafka
    services: dict[str, ServiceProcess]

    @classmethod
    async def start(cls, kafka: LocalKafka, pg_server: str, log_dir: Path) -> "Stack":
        services = {}
        for name in SERVICES:
            services[name] = ServiceProcess(name, harness.free_port(), {
                "OTOP_DATABASE_URL": await new_database(pg_server, f"fault_{name}"),
                "OTOP_KAFKA_BOOTSTRAP": kafka.bootstrap,
                "OTOP_JWT_SECRET": TEST_JWT_SECRET,
                "OTOP_OUTBOX_IDLE_POLL_S": "0.05",
                "OTOP_CONSUMER_RETRY_BACKOFF_S": "0.05",
                "OTOP_SALES_SIGNING_MASTER_KEY": MASTER_KEY,
                "OTOP_SALES_HOLD_RETRY_S": "0.5",
                "OTOP_LOG_LEVEL": "WARNING",
            }, log_dir / f"{name}.log")
        stack = cls(kafka, services)
        for service in services.values():
            service.start()
        await stack.wait_ready()
        return stack

    def db(self, name: str) -> str:
        return self.services[name].env["OTOP_DATABASE_URL"]

    def url(self, name: str) -> str:
        return self.services[name].url

    async def wait_ready(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(s.wait_ready, 120) for s in self.services.values()))

    async def ensure_running(self) -> None:
        """Brings back whatever an earlier (failed) test left down."""
        if not self.kafka.running():
            await asyncio.to_thread(self.kafka.start)
        for service in self.services.values():
            if service.process.poll() is not None:
                service.start()
        await self.wait_ready()

    async def crash_and_restart(self, name: str, down_s: float) -> None:
        """SIGKILL (no shutdown hook runs), stay down a while, start again on the same database."""
        service = self.services[name]
        service.kill()
        await asyncio.sleep(down_s)
        service.start()
        await asyncio.to_thread(service.wait_ready, 120)

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()


@dataclass
class Catalogue:
    """What one trial sells: its products and market day, created over HTTP in registry and
    scheduling, and an integration registered in sales to sign the POS messages."""

    products: list[dict]
    market_day_id: str
    key: dict


async def create_catalogue(stack: Stack, day: date, prices: tuple[str, ...] = ("10.00", "25.50", "99.00")) -> Catalogue:
    async with httpx.AsyncClient(timeout=30) as http:
        products = []
        for i, price in enumerate(prices):
            created = await http.post(f"{stack.url('registry')}/provinces/72/products", headers=OFFICER, json={
                "name": f"สินค้าทดสอบ {i}", "category": "food", "star_level": 2, "quadrant": "D",
                "nawatwithi": True, "price_thb": price, "unit": "ชิ้น"})
            assert created.status_code == 201, created.text
            products.append(created.json())
        venue = await http.post(f"{stack.url('scheduling')}/provinces/72/venues", headers=OFFICER, json={
            "name": f"ตลาดประชารัฐ {uuid.uuid4().hex[:6]}", "kind": "pracharat_market"})
        assert venue.status_code == 201, venue.text
        day_created = await http.post(f"{stack.url('scheduling')}/provinces/72/market-days", headers=OFFICER,
                                      json={"venue_id": venue.json()["id"], "day": day.isoformat()})
        assert day_created.status_code == 201, day_created.text
        integration = await http.post(f"{stack.url('sales')}/provinces/72/integrations", headers=OFFICER,
                                      json={"name": "POS fault test"})
        assert integration.status_code == 201, integration.text
    catalogue = Catalogue(products, day_created.json()["id"], integration.json())
    ids = [uuid.UUID(p["id"]) for p in products]

    async def known() -> bool:  # sales and monitoring have the references from the events
        md = uuid.UUID(catalogue.market_day_id)
        return (await scalar(stack.db("sales"), "SELECT count(*) FROM products WHERE id = ANY($1)", ids) == len(ids)
                and await scalar(stack.db("sales"), "SELECT count(*) FROM market_days WHERE id = $1", md) == 1
                and await scalar(stack.db("monitoring"), "SELECT count(*) FROM market_days WHERE id = $1", md) == 1)

    await eventually(known, timeout=120)
    return catalogue


@dataclass
class Stream:
    """Signed POS messages of one trial and what they must add up to."""

    messages: list[tuple[bytes, bytes, list]]
    sales: int
    amount_thb: Decimal


def pos_stream(catalogue: Catalogue, count: int, rng: random.Random, resend_every: int = 10) -> Stream:
    """`count` distinct sales; every `resend_every`-th message is sent a second time, later (an integration
    retrying), which must count once."""
    run = uuid.uuid4().hex[:8]
    messages, total = [], Decimal(0)
    for i in range(count):
        product = catalogue.products[rng.randrange(len(catalogue.products))]
        sale = pos_sale(f"{run}-{i}", uuid.UUID(product["id"]), uuid.UUID(catalogue.market_day_id),
                        quantity=str(rng.randint(1, 5)), price=product["price_thb"])
        body = pos_body(sale)
        messages.append((sale.integration_sale_id.encode(), body,
                         signed(body, catalogue.key["key_id"], catalogue.key["signing_key"])))
        total += sale.quantity * sale.unit_price_thb
    resent = messages[::resend_every]
    return Stream(messages + resent, count, total)


@dataclass(frozen=True)
class Totals:
    sales: int
    amount_thb: Decimal


async def totals(stack: Stack, catalogue: Catalogue) -> dict[str, Totals]:
    """The trial's sales as each holder sees them: the sales database, the read models of monitoring and
    scheduling, and monitoring's report to the department (its aggregate)."""
    md = uuid.UUID(catalogue.market_day_id)
    sql = "SELECT count(*), coalesce(sum(amount_thb), 0) FROM sales WHERE market_day_id = $1 AND NOT voided"
    found = {}
    for name in ("sales", "monitoring", "scheduling"):
        db = await asyncpg.connect(stack.db(name))
        try:
            count, amount = await db.fetchrow(sql, md)
        finally:
            await db.close()
        found[name] = Totals(count, Decimal(amount))
    async with httpx.AsyncClient(timeout=30) as http:
        report = await http.get(f"{stack.url('monitoring')}/provinces/72/reports/2019/6", headers=OFFICER)
    assert report.status_code == 200, report.text
    [market] = [m for m in report.json()["results"]["markets"] if m["market_day_id"] == catalogue.market_day_id]
    found["monitoring report"] = Totals(market["sales"], Decimal(market["sales_thb"]))
    return found


async def settled(stack: Stack, catalogue: Catalogue, expected: Totals, timeout: float) -> dict[str, Totals]:
    """Waits until every holder has at least the expected count, then (the outboxes drained) reads them again:
    a double count would show as more."""
    async def arrived():
        found = await totals(stack, catalogue)
        return found if all(t.sales >= expected.sales for t in found.values()) else None

    await eventually(arrived, timeout=timeout, interval=0.5)
    for name in ("sales", "scheduling", "monitoring", "registry"):
        await eventually(lambda n=name: _outbox_empty(stack, n), timeout=60)
    await asyncio.sleep(1)
    return await totals(stack, catalogue)


async def _outbox_empty(stack: Stack, name: str) -> bool:
    return await scalar(stack.db(name), "SELECT count(*) FROM outbox") == 0


# --- what each service consumes, and what its consumers dead-letter

@dataclass(frozen=True)
class Subscription:
    service: str
    group_id: str
    topic: str
    handles: frozenset[tuple[str, int]]  # (event type, version); empty for the POS ingress and sales batch consumers


def subscriptions() -> list[Subscription]:
    """Every Kafka consumer of every service, read from the services' own consumers() lists, so a new
    consumer is fuzzed without anyone adding it here."""
    import importlib
    from types import SimpleNamespace

    from services.sales.config import SalesSettings
    from shared.consumer import EventConsumer

    found = []
    for name in SERVICES:
        module = importlib.import_module(f"services.{name}.consumers")
        settings = SalesSettings(service_name=name, database_url="postgresql://unused", jwt_secret="x" * 32,
                                 sales_signing_master_key=MASTER_KEY)
        database = SimpleNamespace(sessions=None, inbox=None, relay=SimpleNamespace(wake=lambda: None))
        for consumer in module.consumers(database, settings):
            handles = frozenset(consumer._handlers) if isinstance(consumer, EventConsumer) else \
                getattr(consumer._handler, "handles", frozenset())  # shared.read_models' batch handlers say
            found.append(Subscription(name, consumer.group_id, consumer.topic, handles))
    return found


class DeadLetters:
    """Reads every `<topic>.dlq` of the stack's broker from the beginning, in the background, and keeps the
    headers of each dead-lettered record by its `x-fuzz-id` header."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.bootstrap, self.topics = bootstrap, topics
        self.by_fuzz_id: dict[str, list[dict[str, str]]] = {}

    async def __aenter__(self) -> "DeadLetters":
        from aiokafka import AIOKafkaConsumer

        from shared.kafka_admin import ensure_topics

        await ensure_topics(self.bootstrap, self.topics, partitions=6)
        self._consumer = AIOKafkaConsumer(*self.topics, bootstrap_servers=self.bootstrap,
                                          auto_offset_reset="earliest", group_id=f"dlq-reader-{uuid.uuid4().hex[:6]}")
        await self._consumer.start()
        self._task = asyncio.create_task(self._collect())
        return self

    async def _collect(self) -> None:
        async for record in self._consumer:
            headers = {name: value.decode(errors="replace") for name, value in record.headers}
            if "x-fuzz-id" in headers:
                self.by_fuzz_id.setdefault(headers["x-fuzz-id"], []).append(headers)

    async def arrived(self, expected: set[tuple[str, str]], timeout: float = 60) -> None:
        """Waits until each (fuzz id, consumer group) is here, then a little longer, for anything unexpected."""
        async def all_here() -> bool:
            return expected <= {(fid, h["dlq-consumer-group"]) for fid, hs in self.by_fuzz_id.items() for h in hs}

        await eventually(all_here, timeout=timeout)
        await asyncio.sleep(0.5)

    async def __aexit__(self, *_exc) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()


def openapi_of(service: str) -> dict:
    """The service's OpenAPI document, from its app (built, not started: no database or broker needed)."""
    import importlib

    from shared.service import create_app
    from shared.settings import ServiceSettings

    spec = importlib.import_module(f"services.{service}.main").spec
    settings = ServiceSettings(service_name=service, database_url="postgresql://unused", jwt_secret="x" * 32)
    return create_app(spec, settings).openapi()
