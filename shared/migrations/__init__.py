"""Schema migrations (Alembic): a service brings its own database to its newest revision when it starts.

One Alembic environment (this folder: env.py, script.py.mako) serves every service; each service keeps
only its revisions, in `services/<name>/migrations/`. After changing a service's tables.py, write the
revision that takes existing databases there:

    .venv/bin/python -m shared.migrations revision <service> "what changed" --database-url postgresql://.../scratch

(the scratch database is first brought to the current head, then compared with tables.py); read the
generated file before committing it. tests/unit/test_migrations.py fails while the two disagree.
"""

import importlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).resolve().parent
SERVICES_DIR = HERE.parents[1] / "services"
MIGRATION_LOCK_ID = 7201  # replicas starting together migrate one after the other


def service_metadata(service: str) -> MetaData:
    metadata: MetaData = importlib.import_module(f"services.{service}.tables").metadata
    return metadata


def alembic_config(service: str, connection: Connection, metadata: MetaData) -> Config:
    versions = SERVICES_DIR / service / "migrations"
    if not versions.is_dir():
        raise ValueError(f"no migrations folder for service {service!r}: {versions}")
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("version_locations", str(versions))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes.update(connection=connection, metadata=metadata)
    return config


async def upgrade(engine: AsyncEngine, service: str, metadata: MetaData) -> None:
    """Bring the database to the service's newest revision (nothing to do when it is there already)."""
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(service, sync, metadata), "head"))


def run_env() -> None:
    """The body of env.py: migrate on the connection `upgrade` (or the CLI) hands over."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations with shared.migrations (upgrade or its CLI), not the alembic command"
        )
    context.configure(
        connection=connection, target_metadata=context.config.attributes["metadata"], compare_type=True
    )
    with context.begin_transaction():
        context.run_migrations()
