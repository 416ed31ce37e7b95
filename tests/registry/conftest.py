import pytest

from services.registry.main import spec
from tests.conftest import running_service


@pytest.fixture
async def registry(database_url, kafka):
    """A running registry service (real PostgreSQL and Kafka); its HTTP client."""
    async with running_service(spec, database_url, kafka) as http:
        yield http
