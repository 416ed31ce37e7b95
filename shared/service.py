"""One floor plan for every service process: FastAPI for HTTP, FastStream subscribers for Kafka,
the outbox relay, and the lifecycle that ties them to one database of the service's own.

A service module builds a `ServiceSpec` and exposes `app = create_app(spec)` for uvicorn.
"""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared import contracts  # noqa: F401  (registers every event contract)
from shared.asyncapi import asyncapi_document
from shared.consumer import EventConsumer, InboxPruner
from shared.db import make_engine
from shared.events import Envelope, Payload
from shared.failures import answer_503_while_unavailable, is_transient
from shared.kafka_admin import DeadLetterDepth, ensure_topics
from shared.logging import configure_logging
from shared.migrations import upgrade
from shared.observability import CONSUMER_LAG, OUTBOX_BACKLOG, RequestObservability
from shared.outbox import OutboxRelay, add_event, kafka_producer
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class Database:
    """The service's own database, and the way to change it: one transaction, events included."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    outbox: Table
    inbox: Table
    source: str
    relay: OutboxRelay

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions.begin() as session:
            yield session
        self.relay.wake()

    async def add_event(
        self, session: AsyncSession, payload: Payload, *, province_code: str, correlation_id: UUID | None = None
    ) -> Envelope:
        return await add_event(
            session, self.outbox, payload, province_code=province_code, source=self.source,
            correlation_id=correlation_id,
        )


@dataclass
class ServiceSpec:
    name: str
    metadata: MetaData
    outbox: Table
    inbox: Table
    routers: list[APIRouter]
    produces: list[str] = field(default_factory=list)  # topics this service publishes to
    consumers: Callable[[Database, ServiceSettings], list[EventConsumer]] = lambda db, settings: []


def database(request: Request) -> Database:
    """FastAPI dependency: the service's database."""
    return request.app.state.db


def create_app(spec: ServiceSpec, settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings(service_name=spec.name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(spec.name, settings.log_level)
        engine = make_engine(settings.database_url)
        await upgrade(engine, spec.name, spec.metadata)
        relay = OutboxRelay(
            engine, spec.outbox, lambda: kafka_producer(settings.kafka_bootstrap, f"{spec.name}-relay"),
            batch_size=settings.outbox_batch_size, idle_poll_s=settings.outbox_idle_poll_s,
        )
        db = Database(engine, async_sessionmaker(engine, expire_on_commit=False), spec.outbox, spec.inbox,
                      spec.name, relay)
        broker = KafkaBroker(settings.kafka_bootstrap, acks="all", client_id=spec.name, logger=log)
        consumers = spec.consumers(db, settings)
        for consumer in consumers:
            consumer.subscribe(broker)
        app.state.settings, app.state.db, app.state.kafka_ready = settings, db, False
        app.state.broker, app.state.consumers = broker, consumers
        # Every worker's state (consumers, relay; a service's own workers add theirs): /health/ready, otop_ready.
        app.state.statuses = [consumer.status for consumer in consumers] + [relay.status]
        app.state.dead_letter_depth = DeadLetterDepth(settings.kafka_bootstrap, [c.topic for c in consumers])
        topics = spec.produces + [c.topic for c in consumers]

        async def start_kafka() -> None:
            # HTTP is served (and writes land in the outbox) even while Kafka is unreachable.
            delay = 0.5
            while True:
                try:
                    await ensure_topics(settings.kafka_bootstrap, topics, settings.topic_partitions,
                                        settings.topic_replication_factor, retention_s=settings.topic_retention_s)
                    await broker.start()
                    app.state.kafka_ready = True
                    log.info("kafka consumers started", extra={"topics": topics})
                    return
                except Exception:
                    log.warning("kafka not ready; retrying in %.1fs", delay, exc_info=True)
                    with contextlib.suppress(Exception):
                        await broker.stop()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10)

        pruner = InboxPruner(engine, spec.inbox, keep_s=settings.inbox_keep_s)
        app.state.statuses.append(pruner.status)
        tasks = [asyncio.create_task(relay.run(), name="outbox-relay"),
                 asyncio.create_task(start_kafka(), name="kafka-start"),
                 asyncio.create_task(pruner.run(), name="inbox-pruner")]
        # What start-up built (modules, pydantic and SQLAlchemy schemas: some 130,000 objects for sales)
        # lives as long as the process; the cyclic GC walked all of it again in every full collection,
        # about a fifth of a busy consumer's CPU (docs/benchmarks.md). Frozen, collections skip it.
        thresholds = gc.get_threshold()
        gc.collect()
        gc.freeze()
        # A young-generation collection every 10,000 allocations instead of 700: a batch of 2000 records
        # allocates that many in a moment, and most of it is garbage (freed by refcount) before the next.
        gc.set_threshold(10_000, 10, 10)
        try:
            yield
        finally:
            # Stop consuming first: a handler interrupted here has not committed its offset.
            await broker.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await relay.close()
            await app.state.dead_letter_depth.close()
            await engine.dispose()
            gc.unfreeze()  # a process that starts the app again (tests) can collect this one
            gc.set_threshold(*thresholds)

    app = FastAPI(title=f"OTOP Mobile {spec.name} service", lifespan=lifespan)
    app.add_middleware(RequestObservability, service=spec.name)
    answer_503_while_unavailable(app)
    for router in spec.routers:
        app.include_router(router)

    @app.get("/asyncapi.json", tags=["docs"])
    async def asyncapi(request: Request) -> dict:
        """The events this service publishes and consumes (AsyncAPI 3.0, generated from shared/contracts)."""
        consumed = [consumer.topic for consumer in request.app.state.consumers]
        return asyncapi_document(f"OTOP Mobile {spec.name} service events", spec.produces, consumed)

    @app.get("/metrics", tags=["health"])
    async def metrics(request: Request) -> Response:
        """Prometheus metrics; outbox backlog, consumer lag and dead-letter depth are measured at scrape time
        (what cannot be measured, the database or Kafka being away, keeps its last value)."""
        try:
            OUTBOX_BACKLOG.labels(spec.name).set(await request.app.state.db.relay.backlog())
        except Exception as error:
            if not is_transient(error):
                raise
        await request.app.state.dead_letter_depth.measure()
        lags: dict[tuple[str, str], int] = {}  # summed over the partitions this instance holds
        for subscriber in request.app.state.broker.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            if consumer is None:
                continue
            for tp in consumer.assignment():
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    key = (getattr(consumer, "_group_id", ""), tp.topic)
                    lags[key] = lags.get(key, 0) + highwater - await consumer.position(tp)
        for (group_id, topic), lag in lags.items():
            CONSUMER_LAG.labels(spec.name, group_id, topic).set(lag)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/health/live", tags=["health"])
    async def live() -> dict:
        return {"status": "ok"}

    @app.get("/health/ready", tags=["health"])
    async def ready(request: Request) -> JSONResponse:
        """200 when the database answers, the Kafka consumers run and no consumer or worker is held up by a
        transient failure (`workers`: each one's state; the outbox relay's is reported, see OutboxRelay)."""
        db: Database = request.app.state.db
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            database_ok = True
        except Exception:
            database_ok = False
        statuses = request.app.state.statuses
        workers_ok = all(status.ready for status in statuses if status.gates_readiness)
        ok = database_ok and request.app.state.kafka_ready and workers_ok
        body = {"database": database_ok, "kafka": request.app.state.kafka_ready,
                "workers": {status.component: status.as_dict() for status in statuses}}
        return JSONResponse(body, status_code=200 if ok else 503)

    return app
