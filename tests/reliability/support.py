"""Shared helpers of the reliability tests: the four services as real OS processes (uvicorn) against
a Kafka broker of their own (so it can be killed), a province's catalogue created through the services'
HTTP APIs, a signed POS sale stream, and the totals every service holds of it."""

import asyncio
import os
import random
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

from deploy.kafka.kafka_runner import LocalKafka, LocalKafkaCluster
from deploy.local.processes import ServiceProcess
from shared.kafka_client import kafka_env
from tests import harness
from tests.conftest import bearer, eventually
from tests.sales.support import MASTER_KEY, pos_body, pos_sale, publish_pos, signed

# The services the trials and the fuzzing run. Budget's and publicity's own consumers are not among them yet
# (tested in tests/budget and tests/publicity); the budget's topics are fuzzed through monitoring's consumers.
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


@contextmanager
def own_kafka_cluster() -> Iterator[LocalKafkaCluster]:
    """Three brokers (each a KRaft controller voter too) only these tests use, on nine consecutive free ports:
    topics with replication factor 3 and min.insync.replicas 2."""
    cluster = LocalKafkaCluster(harness.scratch_dir("otop-kafka-cluster-"), harness.free_port_run(9))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.data_dir, ignore_errors=True)


class LocalPostgres:
    """A PostgreSQL cluster of one service (deploy/postgres/pg.sh), durable as the local stack runs it, that
    a test can stop, start again and SIGKILL without touching the other services' databases."""

    SCRIPT = harness.REPO / "deploy" / "postgres" / "pg.sh"

    def __init__(self, name: str) -> None:
        self.name, self.data_dir, self.port = (
            name,
            harness.scratch_dir(f"otop-pg-{name}-"),
            harness.free_port(),
        )

    @property
    def server(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, command: str, *args: str) -> None:
        subprocess.run(
            [self.SCRIPT, command, "--data-dir", self.data_dir, *args], check=True, capture_output=True
        )

    def start(self) -> None:
        self._pg("start", "--port", str(self.port))

    def stop(self) -> None:
        """A clean shutdown (pg_ctl stop -m fast): connections are cut, new ones refused."""
        self._pg("stop")

    def kill(self) -> None:
        """SIGKILL of the server and its backends: a crash, recovered from the WAL at the next start."""
        self._pg("kill")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@contextmanager
def own_postgres(*names: str) -> Iterator[dict[str, LocalPostgres]]:
    clusters = {name: LocalPostgres(name) for name in names}
    try:
        for cluster in clusters.values():
            cluster.start()
        yield clusters
    finally:
        for cluster in clusters.values():
            cluster.remove()


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
    """The four services, each its own process and database, on one Kafka broker or a cluster of three."""

    kafka: LocalKafka | LocalKafkaCluster
    access: harness.KafkaFixture  # the broker's super user, for the tests' own clients
    services: dict[str, ServiceProcess]
    postgres: dict[str, LocalPostgres]  # the services with a PostgreSQL of their own (others share pg_server)

    @classmethod
    async def start(
        cls,
        kafka: LocalKafka | LocalKafkaCluster,
        pg_server: str,
        log_dir: Path,
        postgres: dict[str, LocalPostgres],
    ) -> "Stack":
        from deploy.kafka.provision import provision, service_specs

        access = harness.KafkaFixture.of(kafka)
        # Every service's principal is provisioned (the trials run these SERVICES only).
        principals = await provision(access.admin, {name: uuid.uuid4().hex for name in service_specs()})
        services = {}
        for name in SERVICES:
            server = postgres[name].server if name in postgres else pg_server
            services[name] = ServiceProcess(
                name,
                harness.free_port(),
                {
                    "OTOP_DATABASE_URL": await new_database(server, f"fault_{name}"),
                    **kafka_env(principals[name]),
                    **harness.session_keycloak().service_env(),
                    **harness.session_keycloak().sales_env(),
                    **access.provisioner_env(),
                    "OTOP_OUTBOX_IDLE_POLL_S": "0.05",
                    "OTOP_CONSUMER_RETRY_BACKOFF_S": "0.05",
                    "OTOP_SALES_SIGNING_MASTER_KEY": MASTER_KEY,
                    "OTOP_INVITATION_LINK_KEY": "invitation-link-test-key-0123456789abcdef",
                    "OTOP_SALES_HOLD_RETRY_S": "0.5",
                    "OTOP_LOG_LEVEL": "WARNING",
                },
                log_dir / f"{name}.log",
            )
        stack = cls(kafka, access, services, postgres)
        try:
            for service in services.values():
                service.start()
            await stack.wait_ready()
        except BaseException:
            stack.stop()  # none left running on a broker that goes away with the fixture
            raise
        return stack

    def db(self, name: str) -> str:
        return self.services[name].env["OTOP_DATABASE_URL"]

    def url(self, name: str) -> str:
        return self.services[name].url

    async def wait_ready(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(s.wait_ready, 300) for s in self.services.values()))

    async def ensure_running(self) -> None:
        """Brings back whatever an earlier (failed) test left down."""
        if not self.kafka.running():
            await asyncio.to_thread(self.kafka.start)
        for cluster in self.postgres.values():
            await asyncio.to_thread(cluster.start)  # nothing to do when it runs
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


async def create_catalogue(
    stack: Stack, day: date, prices: tuple[str, ...] = ("10.00", "25.50", "99.00")
) -> Catalogue:
    async with httpx.AsyncClient(timeout=30) as http:
        products = []
        for i, price in enumerate(prices):
            created = await http.post(
                f"{stack.url('registry')}/provinces/72/products",
                headers=OFFICER,
                json={
                    "name": f"สินค้าทดสอบ {i}",
                    "category": "food",
                    "star_level": 2,
                    "quadrant": "D",
                    "nawatwithi": True,
                    "price_thb": price,
                    "unit": "ชิ้น",
                },
            )
            assert created.status_code == 201, created.text
            products.append(created.json())
        venue = await http.post(
            f"{stack.url('scheduling')}/provinces/72/venues",
            headers=OFFICER,
            json={"name": f"ตลาดประชารัฐ {uuid.uuid4().hex[:6]}", "kind": "pracharat_market"},
        )
        assert venue.status_code == 201, venue.text
        day_created = await http.post(
            f"{stack.url('scheduling')}/provinces/72/market-days",
            headers=OFFICER,
            json={"venue_id": venue.json()["id"], "day": day.isoformat()},
        )
        assert day_created.status_code == 201, day_created.text
        integration = await http.post(
            f"{stack.url('sales')}/provinces/72/integrations",
            headers=OFFICER,
            json={"name": "POS fault test"},
        )
        assert integration.status_code == 201, integration.text
    catalogue = Catalogue(products, day_created.json()["id"], integration.json())
    ids = [uuid.UUID(p["id"]) for p in products]

    async def known() -> bool:  # sales and monitoring have the references from the events
        md = uuid.UUID(catalogue.market_day_id)
        return (
            await scalar(stack.db("sales"), "SELECT count(*) FROM products WHERE id = ANY($1)", ids)
            == len(ids)
            and await scalar(stack.db("sales"), "SELECT count(*) FROM market_days WHERE id = $1", md) == 1
            and await scalar(stack.db("monitoring"), "SELECT count(*) FROM market_days WHERE id = $1", md)
            == 1
        )

    await eventually(known, timeout=120)
    return catalogue


@dataclass
class Stream:
    """Signed POS messages of one trial and what they must add up to."""

    messages: list[tuple[bytes, bytes, list]]
    sales: int
    amount_thb: Decimal


def pos_stream(catalogue: Catalogue, count: int, rng: random.Random, resend_every: int = 10) -> Stream:
    """`count` distinct sales; every `resend_every`-th message (none if 0) is sent a second time, later (an
    integration retrying), which must count once."""
    run = uuid.uuid4().hex[:8]
    messages, total = [], Decimal(0)
    for i in range(count):
        product = catalogue.products[rng.randrange(len(catalogue.products))]
        sale = pos_sale(
            f"{run}-{i}",
            uuid.UUID(product["id"]),
            uuid.UUID(catalogue.market_day_id),
            quantity=str(rng.randint(1, 5)),
            price=product["price_thb"],
        )
        body = pos_body(sale)
        messages.append(
            (
                sale.integration_sale_id.encode(),
                body,
                signed(body, catalogue.key["key_id"], catalogue.key["signing_key"]),
            )
        )
        total += sale.quantity * sale.unit_price_thb
    resent = messages[::resend_every] if resend_every else []
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
    [market] = [
        m for m in report.json()["results"]["markets"] if m["market_day_id"] == catalogue.market_day_id
    ]
    found["monitoring report"] = Totals(market["sales"], Decimal(market["sales_thb"]))
    return found


# The consumers whose applied-event counters (table applied_events) count the trial's sales: the POS
# ingress counts the POS sales it records, the read models of monitoring and scheduling every sale event.
SALE_COUNTERS = {"sales.ingress": "sales", "monitoring.sales": "monitoring", "scheduling.sales": "scheduling"}


async def applied_counts(stack: Stack) -> dict[str, int]:
    """Each sale-counting consumer's applied events so far (durable: kept in its service's database)."""
    found = {}
    for group, service in SALE_COUNTERS.items():
        found[group] = await scalar(
            stack.db(service),
            "SELECT coalesce(sum(events), 0)::bigint FROM applied_events WHERE consumer = $1",
            group,
        )
    return found


async def caught_up(stack: Stack) -> str | None:
    """None when everything sent has been applied: every outbox empty, every held sale settled, and every
    consumer group's committed offsets at the end offsets of its topic, no topic grown and the outboxes still
    empty after (a consumer's commit may stage events). Otherwise what is still behind."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    async def outboxes() -> str | None:
        for name in SERVICES:
            if waiting := await scalar(stack.db(name), "SELECT count(*) FROM outbox"):
                return f"{waiting} events in {name}'s outbox"
        if held := await scalar(stack.db("sales"), "SELECT count(*) FROM held_sales"):
            return f"{held} held sales"
        return None

    if behind := await outboxes():
        return behind
    groups = {(s.group_id, s.topic) for s in subscriptions()}
    ends = await end_offsets(stack.access, sorted({topic for _, topic in groups}))
    admin = AIOKafkaAdminClient(**stack.access.options())
    await admin.start()
    try:
        for group, topic in sorted(groups):
            try:
                committed = await admin.list_consumer_group_offsets(group)
            except KafkaError as error:  # e.g. the coordinator moving after a broker restart: ask again
                return f"{group}'s offsets unknown for now: {error!r}"
            for tp, end in ends.items():
                at = committed[tp].offset if tp in committed else 0
                if tp.topic == topic and at < end:
                    return f"{group} at {at} of {end} on {tp.topic}[{tp.partition}]"
    finally:
        await admin.close()
    # A consumer may have committed and its outbox relayed between the end offsets' snapshot and the reading
    # of the committed offsets: the events it relayed are then behind neither snapshot. Only a check during
    # which no topic grew says everything is applied.
    if await end_offsets(stack.access, sorted({topic for _, topic in groups})) != ends:
        return "topics grew while they were checked"
    return await outboxes()


async def end_offsets(kafka: harness.KafkaFixture, topics: list[str]) -> dict:
    from aiokafka import AIOKafkaConsumer

    reader = AIOKafkaConsumer(*topics, **kafka.options())  # no group: all partitions assigned
    await reader.start()
    try:
        return await reader.end_offsets(list(reader.assignment()))
    finally:
        await reader.stop()


async def wait_caught_up(stack: Stack, timeout: float) -> None:
    """Waits, by committed offsets (not by sleeping), until `caught_up`."""
    last: list[str | None] = [None]

    async def done() -> bool:
        last[0] = await caught_up(stack)
        return last[0] is None

    try:
        await eventually(done, timeout=timeout, interval=0.5)
    except AssertionError:
        raise AssertionError(f"consumers not caught up within {timeout} s: {last[0]}") from None


@dataclass
class Findings:
    """What a trial ended with."""

    totals: dict[str, Totals]  # by holder: the sales DB, monitoring's and scheduling's tables, the report
    applied: dict[str, int]  # events each sale-counting consumer applied during the trial
    dead_lettered: int  # the trial's sales put on a dead-letter topic during the trial

    def problems(
        self, expected: Totals, pos_sales: int | None = None, other_sale_events: int = 0
    ) -> list[str]:
        """Each way the findings differ from a trial that lost, doubled and dead-lettered nothing.
        `pos_sales`: of the expected sales, those sent as POS messages (default all): the ingress counts
        those;
        `other_sale_events`: sale events of no trial sale the trial sent too (the read models count them)."""
        wanted = {
            "sales.ingress": expected.sales if pos_sales is None else pos_sales,
            "monitoring.sales": expected.sales + other_sale_events,
            "scheduling.sales": expected.sales + other_sale_events,
        }
        found = [
            f"{holder} holds {t.sales} sales, {t.amount_thb} THB; sent {expected.sales}, "
            f"{expected.amount_thb}"
            for holder, t in self.totals.items()
            if t != expected
        ]
        found += [
            f"{group} applied {self.applied[group]} events; sent {n}"
            for group, n in wanted.items()
            if self.applied[group] != n
        ]
        if self.dead_lettered:
            found.append(f"{self.dead_lettered} of the trial's sales dead-lettered")
        return found


@dataclass
class Trial:
    """A fault trial's bookkeeping: `begin` once the consumers are caught up (the applied-event counters
    before), `end` once they are caught up again, with what every holder has."""

    stack: Stack
    catalogue: Catalogue
    applied_before: dict[str, int]
    dead_lettered_before: int

    @classmethod
    async def begin(cls, stack: Stack, catalogue: Catalogue) -> "Trial":
        await wait_caught_up(stack, timeout=300)
        return cls(
            stack, catalogue, await applied_counts(stack), len(await dead_lettered_sales(stack, catalogue))
        )

    async def end(self, timeout: float = 600) -> Findings:
        await wait_caught_up(self.stack, timeout)
        after = await applied_counts(self.stack)
        return Findings(
            await totals(self.stack, self.catalogue),
            {group: after[group] - self.applied_before[group] for group in after},
            len(await dead_lettered_sales(self.stack, self.catalogue)) - self.dead_lettered_before,
        )


def assert_exact(
    findings: Findings, expected: Totals, pos_sales: int | None = None, other_sale_events: int = 0
) -> None:
    problems = findings.problems(expected, pos_sales, other_sale_events)
    assert not problems, "; ".join(problems)


# --- what each service consumes, and what its consumers dead-letter


@dataclass(frozen=True)
class Subscription:
    service: str
    group_id: str
    topic: str
    handles: frozenset[
        tuple[str, int]
    ]  # (event type, version); empty for the POS ingress and sales batch consumers


def subscriptions() -> list[Subscription]:
    """Every Kafka consumer of every service, read from the services' own consumers() lists, so a new
    consumer is fuzzed without anyone adding it here."""
    import importlib
    from types import SimpleNamespace

    from services.sales.config import SalesSettings

    found = []
    for name in SERVICES:
        module = importlib.import_module(f"services.{name}.consumers")
        settings = SalesSettings(
            service_name=name,
            database_url="postgresql://unused",
            oidc_issuer="https://unused",
            kafka_username="unused",
            kafka_password="unused",
            sales_signing_master_key=MASTER_KEY,
        )
        database = SimpleNamespace(unit_of_work=None, inbox=None, relay=SimpleNamespace(wake=lambda: None))
        for consumer in module.consumers(database, settings):
            handles = getattr(consumer._handler, "handles", frozenset())  # shared.read_models' handlers say
            found.append(Subscription(name, consumer.group_id, consumer.topic, handles))
    return found


class DeadLetters:
    """Reads every `<topic>.dlq` of the stack's broker from the beginning, in the background, and keeps the
    headers of each dead-lettered record by its `x-fuzz-id` header."""

    def __init__(self, kafka: harness.KafkaFixture, topics: list[str]) -> None:
        self.kafka, self.topics = kafka, topics
        self.by_fuzz_id: dict[str, list[dict[str, str]]] = {}

    async def __aenter__(self) -> "DeadLetters":
        from aiokafka import AIOKafkaConsumer

        from shared.kafka_admin import ensure_topics

        await ensure_topics(self.kafka.admin, self.topics, partitions=6)
        self._consumer = AIOKafkaConsumer(
            *self.topics,
            **self.kafka.options(),
            auto_offset_reset="earliest",
            group_id=f"dlq-reader-{uuid.uuid4().hex[:6]}",
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._collect())
        return self

    async def _collect(self) -> None:
        async for record in self._consumer:
            headers = {name: value.decode(errors="replace") for name, value in record.headers}
            if "x-fuzz-id" in headers:
                self.by_fuzz_id.setdefault(headers["x-fuzz-id"], []).append(headers)

    async def arrived(self, expected: set[tuple[str, str]], timeout: float = 60) -> None:
        """Waits until each (fuzz id, consumer group) is here, then a little longer, for anything
        unexpected."""

        async def all_here() -> bool:
            return expected <= {
                (fid, h["dlq-consumer-group"]) for fid, hs in self.by_fuzz_id.items() for h in hs
            }

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
    settings = ServiceSettings(
        service_name=service,
        database_url="postgresql://unused",
        oidc_issuer="https://unused",
        kafka_username="unused",
        kafka_password="unused",
    )
    return create_app(spec, settings).openapi()


# --- what a trial must end with


async def read_to_end(kafka: harness.KafkaFixture, topic: str) -> list:
    """Every record of `topic` now on the broker, from the beginning to the end offsets read first."""
    from aiokafka import AIOKafkaConsumer

    from shared.kafka_admin import ensure_topics

    await ensure_topics(kafka.admin, [topic], partitions=6)
    # Given a topic and no group, start() assigns all its partitions, from the beginning.
    reader = AIOKafkaConsumer(topic, **kafka.options(), auto_offset_reset="earliest")
    await reader.start()
    try:
        ends = await reader.end_offsets(list(reader.assignment()))
        records = []
        while any([await reader.position(tp) < end for tp, end in ends.items()]):
            for batch in (await reader.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await reader.stop()


async def dead_lettered_sales(stack: "Stack", catalogue: "Catalogue") -> list:
    """Records of the trial's sales (naming its market day) on the dead-letter topics of the ingress and of
    the canonical sales: a valid sale must never be there."""
    found = []
    for topic in ("otop.sales.ingress.dlq", "otop.sales.recorded.dlq"):
        found += [
            r
            for r in await read_to_end(stack.access, topic)
            if catalogue.market_day_id.encode() in (r.value or b"")
        ]
    return found


# --- streaming a trial's sales while a fault happens


async def stored(stack: "Stack", service: str, market_day_id: str) -> int:
    """How many of the trial's sales (those of its market day) `service`'s database holds."""
    return await scalar(
        stack.db(service), "SELECT count(*) FROM sales WHERE market_day_id = $1", uuid.UUID(market_day_id)
    )


async def reaches(stack: "Stack", service: str, market_day_id: str, count: int, timeout: float = 600) -> int:
    """Waits until `service` holds `count` of the trial's sales; answers how many it holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (held := await stored(stack, service, market_day_id)) < count:
        assert asyncio.get_running_loop().time() < deadline, f"{service} stuck at {held} of {count} sales"
        await asyncio.sleep(0.05)
    return held


async def paced(stack: "Stack", messages: list, chunks: int = 40, seconds: float = 10) -> None:
    """The stream in chunks over `seconds` at least, whatever its size: faults the trials make at a
    point of a service's progress land mid-stream, and the stream goes on while a part is away."""
    size = -(-len(messages) // chunks)
    for start in range(0, len(messages), size):
        await publish_pos(stack.access, messages[start : start + size])
        await asyncio.sleep(seconds / chunks)


async def paced_by_progress(
    stack: "Stack", messages: list, market_day_id: str, sales: int, chunks: int = 20, pause_s: float = 0.5
) -> None:
    """The stream in chunks, each a pause after sales has stored most of the one before (of `sales`
    unique ones): the stream lasts longer than a restart, so kills of sales land mid-stream."""
    size = -(-len(messages) // chunks)
    for start in range(0, len(messages), size):
        await publish_pos(stack.access, messages[start : start + size])
        await reaches(stack, "sales", market_day_id, int(min(start + size, sales) * 0.8))
        await asyncio.sleep(pause_s)
