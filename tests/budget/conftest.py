import pytest

from services.budget.main import spec
from tests.budget.support import skip_earlier_events
from tests.conftest import running_service


@pytest.fixture
async def budget(database_url, kafka):
    """A running budget service (real PostgreSQL and Kafka); its HTTP client."""
    await skip_earlier_events(kafka)
    async with running_service(spec, database_url, kafka) as http:
        yield http
