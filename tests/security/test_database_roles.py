"""Issue 21: each service connects to PostgreSQL as its own role, which owns its database and nothing else
(deploy/postgres/provision.py, run by the local stack, compose's postgres-setup and the Kubernetes Job); no
other service's role may even connect to it, and no service's role may make itself more."""

import secrets
from uuid import uuid4

import asyncpg
import pytest

from deploy.postgres.provision import database_url, provision_database
from services.registry.main import spec as registry_spec
from shared.db import make_engine
from shared.migrations import upgrade

pytestmark = pytest.mark.integration


async def test_the_scheduling_role_cannot_read_registrys_tables(pg_server):
    tag = uuid4().hex[:8]
    names = {service: f"otop_{tag}_{service}" for service in ("registry", "scheduling")}
    passwords = {service: secrets.token_hex(16) for service in names}
    urls = {
        service: await provision_database(pg_server, name, name, passwords[service])
        for service, name in names.items()
    }
    # Registry's schema, made by its own migrations as its own role, which then owns the tables.
    engine = make_engine(urls["registry"])
    try:
        await upgrade(engine, "registry", registry_spec.metadata)
    finally:
        await engine.dispose()
    registry = await asyncpg.connect(urls["registry"])
    try:
        assert await registry.fetchval("SELECT count(*) FROM producers") == 0
        assert (
            await registry.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'producers'")
            == names["registry"]
        )
    finally:
        await registry.close()

    # The scheduling role is refused at registry's database: no connection, so no table to read.
    scheduling_at_registry = database_url(
        pg_server, names["registry"], names["scheduling"], passwords["scheduling"]
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for database"):
        await asyncpg.connect(scheduling_at_registry)

    # In its own database it may not become registry's role, nor a superuser's peer.
    scheduling = await asyncpg.connect(urls["scheduling"])
    try:
        assert not await scheduling.fetchval(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )
        for statement in (
            f'SET ROLE "{names["registry"]}"',
            f'CREATE ROLE "x_{tag}"',
            f'CREATE DATABASE "x_{tag}"',
            f'GRANT "{names["registry"]}" TO "{names["scheduling"]}"',
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await scheduling.execute(statement)
    finally:
        await scheduling.close()


async def test_tables_the_superuser_made_before_are_handed_to_the_services_role(pg_server):
    """An existing deployment (databases made and migrated by the superuser) provisioned again: the role
    owns the old tables and can use them."""
    name, password = f"otop_{uuid4().hex[:8]}_sales", secrets.token_hex(16)
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    old = await asyncpg.connect(database_url(pg_server, name, "postgres", ""))
    try:
        await old.execute(
            "CREATE TYPE kind AS ENUM ('a', 'b'); CREATE TABLE sales (id serial PRIMARY KEY, k kind)"
        )
    finally:
        await old.close()
    role = await asyncpg.connect(await provision_database(pg_server, name, name, password))
    try:
        await role.execute("INSERT INTO sales (k) VALUES ('a'); ALTER TABLE sales ADD COLUMN note text")
        assert await role.fetchval("SELECT count(*) FROM sales") == 1
    finally:
        await role.close()
