import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from shared import contracts  # noqa: F401  (registers event contracts)
from tests import harness


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with harness.kafka() as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with harness.postgres() as url:
        yield url


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
