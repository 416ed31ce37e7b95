"""Each service's migrations build exactly the tables its tables.py declares, and run again harmlessly."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from shared.db import make_engine
from shared.migrations import service_metadata, upgrade
from shared.service_names import SERVICES

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_tables(service, database_url):
    metadata = service_metadata(service)
    engine = make_engine(database_url)
    try:
        await upgrade(engine, service, metadata)
        await upgrade(engine, service, metadata)  # a restarted replica: already at head
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    finally:
        await engine.dispose()
    assert differences == [], (
        f"{service}: tables.py and its migrations differ; write a revision "
        f"(python -m shared.migrations revision {service} ...): {differences}"
    )
    assert len(versions) == 1
