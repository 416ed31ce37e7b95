"""One floor plan for every service process: FastAPI for HTTP, FastStream subscribers for Kafka,
the outbox relay, and the lifecycle that ties them to one database of the service's own.

A service module builds a `ServiceSpec` and exposes `app = create_app(spec)` for uvicorn.
"""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData, Table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import contracts  # noqa: F401  (registers every event contract)
from shared.asyncapi import asyncapi_document
from shared.auth import TokenVerifier
from shared.consumer import InboxPruner, ReliableConsumer
from shared.db import make_engine
from shared.errors import ServiceError
from shared.failures import Status, answer_503_while_unavailable, is_transient
from shared.kafka_access import Grant, service_grants
from shared.kafka_admin import DeadLetterDepth, require_topics
from shared.kafka_client import bootstrap_servers, kafka_security
from shared.logging import configure_logging
from shared.migrations import upgrade
from shared.observability import CONSUMER_LAG, OUTBOX_BACKLOG, RequestObservability
from shared.outbox import OutboxRelay, kafka_producer
from shared.settings import ServiceSettings
from shared.topics import dead_letter_topic
from shared.unit_of_work import UnitsOfWork

log = logging.getLogger(__name__)


@dataclass
class Database:
    """The service's own database. Changes go through a unit of work, which owns the transaction and the
    events it emits (shared/unit_of_work.py): `async with db.unit_of_work() as uow`. Reads that change
    nothing may use a plain session: `async with db.sessions() as session`."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    outbox: Table
    inbox: Table
    source: str
    relay: OutboxRelay
    unit_of_work: UnitsOfWork = field(init=False)

    def __post_init__(self) -> None:
        self.unit_of_work = UnitsOfWork(self.sessions, self.outbox, self.source, committed=self.relay.wake)


class Worker(Protocol):
    """Background work that runs as long as the service (the outbox relay, the inbox pruner, a service's own,
    e.g. sales' held-sales retry): `run` until cancelled; `status` says whether it is held up (/health/ready,
    otop_ready)."""

    status: Status

    async def run(self) -> None: ...


@dataclass
class ServiceSpec:
    name: str
    metadata: MetaData
    outbox: Table
    inbox: Table
    routers: list[APIRouter]
    produces: list[str] = field(default_factory=list)  # topics this service publishes to
    consumers: Callable[[Database, ServiceSettings], Sequence[ReliableConsumer]] = lambda db, settings: []
    # The service's own background work, started after the database and the broker are set up and cancelled
    # at shutdown (the broker: for what a worker dead-letters).
    background: Callable[[Database, KafkaBroker, ServiceSettings], Sequence[Worker]] = (
        lambda db, broker, settings: []
    )
    # Kafka access (shared/kafka_access.py) follows from this and `produces`: the topics its consumers read.
    consumes: list[str] = field(default_factory=list)

    def kafka_grants(self) -> list[Grant]:
        return service_grants(self.name, self.produces, self.consumes)

    def check_consumers(self, consumers: Sequence[ReliableConsumer]) -> None:
        """Every consumer reads a declared topic in a group of this service's (its ACLs allow no other)."""
        for consumer in consumers:
            if consumer.topic not in self.consumes or not consumer.group_id.startswith(f"{self.name}."):
                raise ValueError(
                    f"{self.name}: consumer {consumer.group_id} of {consumer.topic} is not covered by "
                    f"consumes={self.consumes} and groups '{self.name}.*'"
                )


def answer_service_errors(app: FastAPI) -> None:
    """The one place the use cases' errors (shared/errors.py) become HTTP answers: each with its status,
    headers and `{"detail": ...}`, the body FastAPI gives an HTTPException. A write that lost a race to a
    concurrent one (a unique or foreign key violation nobody handled) is a 409 to try again, never a 500."""

    async def service_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ServiceError)
        return JSONResponse(
            {"detail": error.detail()}, status_code=error.status_code, headers=error.headers()
        )

    async def integrity_error(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": "conflicts with a concurrent change; try again"}, status_code=409)

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(IntegrityError, integrity_error)


# --- HTTP guards (issue 14, docs/security.md)

JSON_BODY_LIMIT = 1024 * 1024  # bytes; an upload route allows more with its own max_body_size=...
# Metrics and the API documents (OpenAPI, Swagger UI, AsyncAPI) live under this path: for operators and
# Prometheus, inside the deployment. A gateway must not expose it; the service also refuses it to any
# request that came through a proxy (which adds a forwarding header).
INTERNAL = "/internal"
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


class BodyLimit:
    """ASGI middleware: a request body larger than its route allows (`max_body_size` on an upload route,
    else JSON_BODY_LIMIT) is answered 413 before it is read and before anything else runs, authentication
    included. A declared Content-Length is checked at once; a body without one (chunked) is read here, at
    most up to the limit, and handed on only if it fits."""

    def __init__(self, app: ASGIApp, uploads: list[APIRoute], default: int = JSON_BODY_LIMIT) -> None:
        self.app, self.uploads, self.default = app, uploads, default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await JSONResponse({"detail": "invalid Content-Length"}, 400)(scope, receive, send)
            elif int(declared) > self.default and int(declared) > (limit := self._limit(scope)):
                await self._refuse(limit, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        limit, chunks, size = self._limit(scope), [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await self._refuse(limit, scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    def _limit(self, scope: Scope) -> int:
        for route in self.uploads:
            if route.matches(scope)[0] is Match.FULL:
                return route.max_body_size or self.default
        return self.default

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"detail": f"the request body is larger than {limit} bytes"}, 413)(
            scope, receive, send
        )


class InternalOnly:
    """ASGI middleware: paths under INTERNAL answer 404 to a request that came through a proxy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(f"{INTERNAL}/"):
            headers = Headers(scope=scope)
            if any(name in headers for name in FORWARDING_HEADERS):
                await JSONResponse({"detail": "Not Found"}, 404)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def database(request: Request) -> Database:
    """FastAPI dependency: the service's database."""
    db: Database = request.app.state.db
    return db


def create_app(spec: ServiceSpec, settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings(service_name=spec.name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(spec.name, settings.log_level)
        engine = make_engine(settings.database_url)
        await upgrade(engine, spec.name, spec.metadata)
        relay = OutboxRelay(
            engine,
            spec.outbox,
            lambda: kafka_producer(settings, f"{spec.name}-relay"),
            batch_size=settings.outbox_batch_size,
            idle_poll_s=settings.outbox_idle_poll_s,
        )
        db = Database(
            engine,
            async_sessionmaker(engine, expire_on_commit=False),
            spec.outbox,
            spec.inbox,
            spec.name,
            relay,
        )
        # Topics are the deployment's to create (require_topics checks them), not the consumers'.
        broker = KafkaBroker(
            bootstrap_servers(settings),
            security=kafka_security(settings),
            acks="all",
            enable_idempotence=True,  # its publishes (dead letters) are not doubled by a retry either
            client_id=spec.name,
            allow_auto_create_topics=False,
            logger=log,
        )
        consumers = spec.consumers(db, settings)
        spec.check_consumers(consumers)
        for consumer in consumers:
            consumer.subscribe(broker)
        app.state.settings, app.state.db, app.state.kafka_ready = settings, db, False
        app.state.token_verifier = TokenVerifier.from_settings(settings)
        app.state.broker, app.state.consumers = broker, consumers
        pruner = InboxPruner(engine, spec.inbox, keep_s=settings.inbox_keep_s)
        workers: list[Worker] = [relay, pruner, *spec.background(db, broker, settings)]
        # Every consumer's and worker's state: /health/ready, otop_ready.
        app.state.statuses = [consumer.status for consumer in consumers]
        app.state.statuses += [worker.status for worker in workers]
        app.state.dead_letter_depth = DeadLetterDepth(settings, [c.topic for c in consumers])
        topics = spec.produces + [c.topic for c in consumers]
        topics += [dead_letter_topic(c.topic) for c in consumers]

        async def start_kafka() -> None:
            # HTTP is served (and writes land in the outbox) even while Kafka is unreachable.
            delay = 0.5
            while True:
                try:
                    await require_topics(settings, topics)  # created by the deployment's provisioning
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

        tasks = [asyncio.create_task(start_kafka(), name="kafka-start")]
        tasks += [asyncio.create_task(worker.run(), name=worker.status.component) for worker in workers]
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
            await app.state.token_verifier.aclose()
            await app.state.dead_letter_depth.close()
            await engine.dispose()
            gc.unfreeze()  # a process that starts the app again (tests) can collect this one
            gc.set_threshold(*thresholds)

    app = FastAPI(
        title=f"OTOP Mobile {spec.name} service",
        lifespan=lifespan,
        docs_url=f"{INTERNAL}/docs",
        redoc_url=None,
        openapi_url=f"{INTERNAL}/openapi.json",
    )
    app.add_middleware(InternalOnly)
    app.add_middleware(
        BodyLimit,
        uploads=[
            route
            for router in spec.routers
            for route in router.routes
            if isinstance(route, APIRoute) and route.max_body_size
        ],
    )
    app.add_middleware(RequestObservability, service=spec.name)  # outermost: 413s and 404s are counted too
    answer_503_while_unavailable(app)
    answer_service_errors(app)
    for router in spec.routers:
        app.include_router(router)

    @app.get(f"{INTERNAL}/asyncapi.json", tags=["docs"])
    async def asyncapi(request: Request) -> dict[str, Any]:
        """The events this service publishes and consumes (AsyncAPI 3.0, generated from shared/contracts)."""
        consumed = [consumer.topic for consumer in request.app.state.consumers]
        return asyncapi_document(f"OTOP Mobile {spec.name} service events", spec.produces, consumed)

    @app.get(f"{INTERNAL}/metrics", tags=["health"])
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
    async def live() -> dict[str, Any]:
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
        body = {
            "database": database_ok,
            "kafka": request.app.state.kafka_ready,
            "workers": {status.component: status.as_dict() for status in statuses},
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    return app
