"""One floor plan for every service process: FastAPI for HTTP, FastStream subscribers for Kafka,
the outbox relay, and the lifecycle that ties them to one database of the service's own.

A service module builds a `ServiceSpec` and exposes `app = create_app(spec)` for uvicorn.
"""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
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


# --- the running service: built by `bootstrap`, started and stopped by the app's lifespan


@dataclass
class ServiceRuntime:
    """What a service holds while it runs: its database (with the outbox relay), the Kafka broker its
    consumers subscribe to, the background workers, and the clients the routes use. `start` sets Kafka
    and the workers going; `stop` ends them in an order that loses nothing."""

    spec: ServiceSpec
    settings: ServiceSettings
    db: Database
    broker: KafkaBroker
    consumers: Sequence[ReliableConsumer]
    workers: list[Worker]
    token_verifier: TokenVerifier
    dead_letter_depth: DeadLetterDepth
    kafka_ready: bool = False
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False, repr=False)

    @property
    def statuses(self) -> list[Status]:
        """Every consumer's and worker's state: /health/ready, otop_ready."""
        return [consumer.status for consumer in self.consumers] + [worker.status for worker in self.workers]

    @property
    def topics(self) -> list[str]:
        """The topics this service needs: those it publishes to, consumes, and dead-letters into."""
        consumed = [consumer.topic for consumer in self.consumers]
        return self.spec.produces + consumed + [dead_letter_topic(topic) for topic in consumed]

    def expose(self, app: FastAPI) -> None:
        """Put the runtime where routes and dependencies find it (`request.app.state`)."""
        app.state.runtime = self
        app.state.settings, app.state.db = self.settings, self.db
        app.state.token_verifier, app.state.broker = self.token_verifier, self.broker

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._start_kafka(), name="kafka-start")]
        self._tasks += [
            asyncio.create_task(worker.run(), name=worker.status.component) for worker in self.workers
        ]

    async def stop(self) -> None:
        # Stop consuming first: a handler interrupted here has not committed its offset.
        await self.broker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.db.relay.close()
        await self.token_verifier.aclose()
        await self.dead_letter_depth.close()
        await self.db.engine.dispose()

    async def _start_kafka(self) -> None:
        """Check the topics and start the consumers, retrying until Kafka answers: HTTP is served (and
        writes land in the outbox) even while Kafka is unreachable."""
        delay = 0.5
        while True:
            try:
                await require_topics(self.settings, self.topics)  # the deployment's provisioning makes them
                await self.broker.start()
                self.kafka_ready = True
                log.info("kafka consumers started", extra={"topics": self.topics})
                return
            except Exception:
                log.warning("kafka not ready; retrying in %.1fs", delay, exc_info=True)
                with contextlib.suppress(Exception):
                    await self.broker.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)


async def bootstrap(spec: ServiceSpec, settings: ServiceSettings) -> ServiceRuntime:
    """Build a service's parts, each from the ones before it: the database (upgraded to the service's
    revisions) with its outbox relay, the broker, the consumers subscribed to it, the workers."""
    engine = make_engine(settings.database_url)
    await upgrade(engine, spec.name, spec.metadata)
    relay = OutboxRelay(
        engine,
        spec.outbox,
        lambda: kafka_producer(settings, f"{spec.name}-relay"),
        batch_size=settings.outbox_batch_size,
        idle_poll_s=settings.outbox_idle_poll_s,
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    db = Database(engine, sessions, spec.outbox, spec.inbox, spec.name, relay)
    broker = _broker(spec, settings)
    consumers = spec.consumers(db, settings)
    spec.check_consumers(consumers)
    for consumer in consumers:
        consumer.subscribe(broker)
    pruner = InboxPruner(engine, spec.inbox, keep_s=settings.inbox_keep_s)
    return ServiceRuntime(
        spec,
        settings,
        db,
        broker,
        consumers,
        workers=[relay, pruner, *spec.background(db, broker, settings)],
        token_verifier=TokenVerifier.from_settings(settings),
        dead_letter_depth=DeadLetterDepth(settings, [consumer.topic for consumer in consumers]),
    )


def _broker(spec: ServiceSpec, settings: ServiceSettings) -> KafkaBroker:
    # Topics are the deployment's to create (require_topics checks them), not the consumers'.
    return KafkaBroker(
        bootstrap_servers(settings),
        security=kafka_security(settings),
        acks="all",
        enable_idempotence=True,  # its publishes (dead letters) are not doubled by a retry either
        client_id=spec.name,
        allow_auto_create_topics=False,
        logger=log,
    )


@contextlib.contextmanager
def long_lived_objects_frozen() -> Iterator[None]:
    """What start-up built (modules, pydantic and SQLAlchemy schemas: some 130,000 objects for sales) lives
    as long as the process; the cyclic GC walked all of it again in every full collection, about a fifth of
    a busy consumer's CPU (docs/benchmarks.md). Frozen, collections skip it."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    # A young-generation collection every 10,000 allocations instead of 700: a batch of 2000 records
    # allocates that many in a moment, and most of it is garbage (freed by refcount) before the next.
    gc.set_threshold(10_000, 10, 10)
    try:
        yield
    finally:
        gc.unfreeze()  # a process that starts the app again (tests) can collect this one
        gc.set_threshold(*thresholds)


# --- the app


def create_app(spec: ServiceSpec, settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings(service_name=spec.name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(spec.name, settings.log_level)
        runtime = await bootstrap(spec, settings)
        runtime.expose(app)
        runtime.start()
        with long_lived_objects_frozen():
            try:
                yield
            finally:
                await runtime.stop()

    app = FastAPI(
        title=f"OTOP Mobile {spec.name} service",
        lifespan=lifespan,
        docs_url=f"{INTERNAL}/docs",
        redoc_url=None,
        openapi_url=f"{INTERNAL}/openapi.json",
    )
    add_http_guards(app, spec)
    for router in spec.routers:
        app.include_router(router)
    app.include_router(internal_router(spec))
    return app


def add_http_guards(app: FastAPI, spec: ServiceSpec) -> None:
    """The middleware every service has (body limit, internal paths, request metrics) and the answers to
    errors (503 while something is transiently away, shared/errors.py's with their status)."""
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


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def internal_router(spec: ServiceSpec) -> APIRouter:
    """Every service's own routes: its event documents and metrics (under INTERNAL) and its health."""
    router = APIRouter()

    @router.get(f"{INTERNAL}/asyncapi.json", tags=["docs"])
    async def asyncapi(request: Request) -> dict[str, Any]:
        """The events this service publishes and consumes (AsyncAPI 3.0, generated from shared/contracts)."""
        consumed = [consumer.topic for consumer in _runtime(request).consumers]
        return asyncapi_document(f"OTOP Mobile {spec.name} service events", spec.produces, consumed)

    @router.get(f"{INTERNAL}/metrics", tags=["health"])
    async def metrics(request: Request) -> Response:
        """Prometheus metrics; outbox backlog, consumer lag and dead-letter depth are measured at scrape time
        (what cannot be measured, the database or Kafka being away, keeps its last value)."""
        runtime = _runtime(request)
        try:
            OUTBOX_BACKLOG.labels(spec.name).set(await runtime.db.relay.backlog())
        except Exception as error:
            if not is_transient(error):
                raise
        await runtime.dead_letter_depth.measure()
        for (group_id, topic), lag in (await _consumer_lags(runtime.broker)).items():
            CONSUMER_LAG.labels(spec.name, group_id, topic).set(lag)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/health/live", tags=["health"])
    async def live() -> dict[str, Any]:
        return {"status": "ok"}

    @router.get("/health/ready", tags=["health"])
    async def ready(request: Request) -> JSONResponse:
        """200 when the database answers, the Kafka consumers run and no consumer or worker is held up by a
        transient failure (`workers`: each one's state; the outbox relay's is reported, see OutboxRelay)."""
        runtime = _runtime(request)
        try:
            async with runtime.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            database_ok = True
        except Exception:
            database_ok = False
        statuses = runtime.statuses
        workers_ok = all(status.ready for status in statuses if status.gates_readiness)
        body = {
            "database": database_ok,
            "kafka": runtime.kafka_ready,
            "workers": {status.component: status.as_dict() for status in statuses},
        }
        ok = database_ok and runtime.kafka_ready and workers_ok
        return JSONResponse(body, status_code=200 if ok else 503)

    return router


async def _consumer_lags(broker: KafkaBroker) -> dict[tuple[str, str], int]:
    """Each (group, topic)'s lag, summed over the partitions this instance holds."""
    lags: dict[tuple[str, str], int] = {}
    for subscriber in broker.subscribers:
        consumer = getattr(subscriber, "consumer", None)
        if consumer is None:
            continue
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is not None:
                key = (getattr(consumer, "_group_id", ""), tp.topic)
                lags[key] = lags.get(key, 0) + highwater - await consumer.position(tp)
    return lags
