import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared import contracts  # noqa: F401  (registers event contracts)
from tests import harness
from tests.identity import bearer, forged, token_of  # noqa: F401  (tests import them from here)

# Tests that take no bearer() token (tests/web runs a Keycloak of its own, behind the web gateway's /auth/:
# tests/web/stack.py; the gateway's own tests put a recording stand-in behind it)
NO_KEYCLOAK = (
    "tests/unit/",
    "tests/deploy/",
    "tests/web/",
    "tests/security/test_gateway.py",
    "tests/publicity_media/",
)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Keycloak starts here, before the first test, when any collected test may need a token: its first
    start takes long on a busy machine, and a test's timeout should not count it."""
    root = Path(session.config.rootpath)
    if not session.config.option.collectonly and any(
        not str(Path(item.path).relative_to(root)).startswith(NO_KEYCLOAK) for item in session.items
    ):
        harness.session_keycloak()


@pytest.fixture(scope="session", autouse=True)
def _shared_infrastructure() -> Iterator[None]:
    """Stops, when the session ends, what it started on first use (PostgreSQL, Keycloak)."""
    yield
    harness.close_session()


@pytest.fixture(scope="session")
def kafka() -> Iterator[harness.KafkaFixture]:
    """The session's broker: `kafka.bootstrap`, `kafka.options()` (the super user's aiokafka options),
    `await kafka.service(spec)` and `await kafka.principal(...)` (principals with their real ACLs)."""
    with harness.kafka() as broker:
        yield broker


@pytest.fixture(scope="session")
def pg_server() -> str:
    return harness.session_postgres()


@pytest.fixture(scope="session")
def keycloak(pg_server):
    """The session's Keycloak (deploy/keycloak/keycloak_runner.Keycloak), the one bearer() tokens come
    from."""
    return harness.session_keycloak(pg_server)


@pytest.fixture
async def database_url(pg_server: str) -> AsyncIterator[str]:
    """A new, empty database for one test: services never share tables."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield pg_server.rsplit("/", 1)[0] + f"/{name}"


async def consume_from_now(kafka: harness.KafkaFixture, groups: dict[str, str]) -> None:
    """Moves each consumer group (group id -> topic) to the current end of its topic, as for a service
    deployed now: its read models then hold only what a test publishes, not other tests' events."""
    from aiokafka import AIOKafkaConsumer

    from shared.kafka_admin import ensure_topics

    await ensure_topics(kafka.admin, list(groups.values()), partitions=6)
    # Given topics and no group, start() loads their partitions and assigns all of them.
    reader = AIOKafkaConsumer(*set(groups.values()), **kafka.options())
    await reader.start()
    try:
        ends = await reader.end_offsets(list(reader.assignment()))
    finally:
        await reader.stop()
    for group_id, topic in groups.items():
        committer = AIOKafkaConsumer(**kafka.options(), group_id=group_id, enable_auto_commit=False)
        await committer.start()
        try:
            offsets = {tp: end for tp, end in ends.items() if tp.topic == topic}
            assert offsets, f"no partitions of {topic}"
            committer.assign(list(offsets))
            await committer.commit(offsets)
        finally:
            await committer.stop()


def unique_topic(prefix: str = "t") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


async def eventually(check, timeout: float = 30.0, interval: float = 0.1):
    """Polls `check` (async, returns a truthy value when done) until it is truthy or time runs out."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last result: {result!r}")
        await asyncio.sleep(interval)


def oidc_settings() -> dict[str, str]:
    """The services' settings for the session's Keycloak (started here if it is not yet)."""
    return {
        name.removeprefix("OTOP_").lower(): value
        for name, value in harness.session_keycloak().service_env().items()
    }


async def _service_app(spec, database_url: str, kafka: harness.KafkaFixture, **settings):
    """The service's app with its own Kafka principal (the ACLs it has in production), provisioned now
    unless `kafka_username` and `kafka_password` are given."""
    from shared.service import create_app
    from shared.settings import ServiceSettings

    if "kafka_username" in settings:
        principal = kafka.settings(settings.pop("kafka_username"), settings.pop("kafka_password"))
    else:
        principal = await kafka.service(spec)
    config = ServiceSettings(
        **{
            **principal.model_dump(),
            "service_name": spec.name,
            "database_url": database_url,
            "outbox_idle_poll_s": 0.05,
            "consumer_retry_backoff_s": 0.05,
            **oidc_settings(),
            **settings,
        }
    )
    return create_app(spec, config)


@asynccontextmanager
async def running_service(
    spec, database_url: str, kafka: harness.KafkaFixture, wait_ready: bool = True, **settings
) -> AsyncIterator[httpx.AsyncClient]:
    """A service in this process (FastAPI app with its lifespan: schema, outbox relay, Kafka consumers),
    against real PostgreSQL and Kafka; yields an HTTP client for it once its consumers run
    (or at once, with wait_ready=False)."""
    app = await _service_app(spec, database_url, kafka, **settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            if wait_ready:
                await eventually(lambda: _ready(client), timeout=60)
            yield client


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/health/ready")).status_code == 200


@asynccontextmanager
async def serving_over_http(
    spec, database_url: str, kafka: harness.KafkaFixture, **settings
) -> AsyncIterator[httpx.AsyncClient]:
    """The service as `running_service` runs it, but served by uvicorn on a free loopback port, for a
    real browser; yields an HTTP client whose base_url is that address, once the service is ready."""
    import socket

    import uvicorn

    app = await _service_app(spec, database_url, kafka, **settings)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[listener]))

    async def started() -> bool:
        if serving.done():
            serving.result()  # raises what stopped it
            raise AssertionError("uvicorn stopped before it started")
        return server.started

    try:
        await eventually(started, timeout=60)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{listener.getsockname()[1]}") as client:
            await eventually(lambda: _ready(client), timeout=60)
            yield client
    finally:
        server.should_exit = True
        await serving
        listener.close()
