"""Provisions the services' PostgreSQL databases, as the superuser (docs/security.md): for each service a
login role `otop_<service>` that owns its database `otop_<service>` and nothing else (not a superuser, no
CREATEDB, no CREATEROLE), and nobody but that role and superusers may connect to that database (CONNECT and
TEMPORARY revoked from PUBLIC). The services connect as their own role; the superuser only runs this.
Idempotent: run it at every deployment (a changed password is set: rotation). Tables made before, by the
superuser, are handed to the role.

    OTOP_POSTGRES_ADMIN_URL=postgresql://postgres:...@postgres:5432/postgres \\
    OTOP_DATABASE_PASSWORD_REGISTRY=... OTOP_DATABASE_PASSWORD_SCHEDULING=... \\
    OTOP_DATABASE_PASSWORD_SALES=... OTOP_DATABASE_PASSWORD_MONITORING=... python -m deploy.postgres.provision
"""

import asyncio
import os
import sys
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from shared.service_names import SERVICES

# Run inside the service's database: what the superuser made there before (tables with their sequences,
# types) becomes the role's, and so does the schema (PostgreSQL < 15 lets PUBLIC create in it).
_HAND_OVER = """
DO $$
DECLARE item record;
BEGIN
  EXECUTE format('ALTER SCHEMA public OWNER TO %I', '{role}');
  EXECUTE 'REVOKE CREATE ON SCHEMA public FROM PUBLIC';
  FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('ALTER TABLE public.%I OWNER TO %I', item.tablename, '{role}');
  END LOOP;
  FOR item IN SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' AND t.typtype IN ('e', 'c', 'd') AND t.typrelid = 0 LOOP
    EXECUTE format('ALTER TYPE public.%I OWNER TO %I', item.typname, '{role}');
  END LOOP;
END $$
"""


def database_url(server_url: str, database: str, role: str, password: str) -> str:
    """The URL `role` connects to `database` with, on the server of `server_url`."""
    parts = urlsplit(server_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, ""))


async def provision_database(server_url: str, database: str, role: str, password: str) -> str:
    """`role` (login, with `password`) owning `database`, which only it (and superusers) may connect to;
    returns the role's URL of it."""
    admin = await asyncpg.connect(server_url)
    try:

        async def run(template: str, *names: str) -> None:
            await admin.execute(
                await admin.fetchval(f"SELECT format('{template}', {_args(len(names))})", *names)
            )

        if await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            await run("ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L", role, password)
        else:
            await run("CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L", role, password)
        if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await run("ALTER DATABASE %I OWNER TO %I", database, role)
        else:
            await run("CREATE DATABASE %I OWNER %I", database, role)
        await run("REVOKE ALL ON DATABASE %I FROM PUBLIC", database)
    finally:
        await admin.close()
    inside = await asyncpg.connect(database_url(server_url, database, *_superuser(server_url)))
    try:
        await inside.execute(_HAND_OVER.replace("{role}", role.replace("'", "''")))
    finally:
        await inside.close()
    return database_url(server_url, database, role, password)


async def provision(server_url: str, passwords: dict[str, str]) -> dict[str, str]:
    """Every service's role and database (`passwords`: service -> its role's password); their URLs."""
    return {
        name: await provision_database(server_url, f"otop_{name}", f"otop_{name}", password)
        for name, password in passwords.items()
    }


def _args(count: int) -> str:
    return ", ".join(f"${i + 1}::text" for i in range(count))


def _superuser(server_url: str) -> tuple[str, str]:
    parts = urlsplit(server_url)
    return parts.username or "postgres", parts.password or ""


def main() -> None:
    server_url = os.environ.get("OTOP_POSTGRES_ADMIN_URL", "")
    passwords = {name: os.environ.get(f"OTOP_DATABASE_PASSWORD_{name.upper()}", "") for name in SERVICES}
    missing = [f"OTOP_DATABASE_PASSWORD_{n.upper()}" for n, p in passwords.items() if len(p) < 16]
    if not server_url or missing:
        sys.exit(
            f"provision: set OTOP_POSTGRES_ADMIN_URL and {', '.join(missing) or 'the passwords'} (16+ chars)"
        )
    asyncio.run(provision(server_url, passwords))
    print(f"provisioned {len(passwords)} service databases, each owned by its own role")


if __name__ == "__main__":
    main()
