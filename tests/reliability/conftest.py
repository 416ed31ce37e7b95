import os

import pytest
from hypothesis import HealthCheck, settings

from tests.reliability.support import Stack, own_kafka, own_postgres


@pytest.fixture(scope="package")
async def stack(pg_server, tmp_path_factory):
    """The four services as processes on a Kafka broker of their own, shared by this folder's tests; sales
    and monitoring each on a PostgreSQL of its own (the fault trials stop and kill those)."""
    with own_kafka() as kafka, own_postgres("sales", "monitoring") as postgres:
        stack = await Stack.start(kafka, pg_server, tmp_path_factory.mktemp("service-logs"), postgres)
        try:
            yield stack
        finally:
            stack.stop()


@pytest.fixture
async def running(stack):
    """The stack with everything up (an earlier test may have failed with something down)."""
    await stack.ensure_running()
    return stack


# Hypothesis examples per fuzzed topic / API operation: few in CI, many on request
# (OTOP_FUZZ_PROFILE=reliability-full). Each example talks to real processes, hence no deadline.
_common = {
    "deadline": None,
    "derandomize": False,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}
settings.register_profile("reliability-ci", max_examples=5, **_common)
settings.register_profile("reliability-full", max_examples=200, **_common)
settings.load_profile(os.environ.get("OTOP_FUZZ_PROFILE", "reliability-ci"))
