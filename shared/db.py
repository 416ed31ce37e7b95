"""Database plumbing: async engine, the outbox/inbox tables every service database holds, and bulk writes."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    bindparam,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.sql import Executable

from shared.errors import NotFound


def async_url(url: str) -> str:
    """Accept plain postgresql:// URLs from the environment; SQLAlchemy needs the asyncpg driver named."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        async_url(url), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def province_column(*, index: bool = True) -> Column[str]:
    """Every row's `province_code` (DOPA's two digits), which every query filters on; `index=False` where
    a table was created without the index (its schema stays as its migrations built it)."""
    return Column("province_code", String(2), nullable=False, index=index)


async def one_row(session: AsyncSession, query: Executable, missing: str) -> dict[str, Any]:
    """The first row `query` returns (a select filtered on the province, perhaps locking, or an update
    returning the row), or NotFound(`missing`), e.g. "no such venue in this province"."""
    row = (await session.execute(query)).mappings().first()
    if row is None:
        raise NotFound(missing)
    return dict(row)


def add_reliability_tables(metadata: MetaData) -> tuple[Table, Table]:
    """The outbox (events waiting for the relay) and the inbox (events already applied), plus the tables of
    dead letters' originals and of applied-event counters (`DEAD_LETTER_ORIGINALS`, `APPLIED_EVENTS`)."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("topic", String, nullable=False),
        Column("key", String, nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String, primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("inbox_by_age", "processed_at"),  # the pruning of ids older than the topics' retention
    )
    Table(  # a dead letter too large to copy whole: the DLQ gets it truncated, with a pointer to this row
        "dead_letter_originals",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("consumer", String, nullable=False),
        Column("topic", String, nullable=False),
        Column("partition", Integer),
        Column("offset", BigInteger),
        Column("sha256", String(64), nullable=False),
        Column("value_bytes", Integer, nullable=False),
        Column("key", LargeBinary),
        Column("value", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("stored_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        UniqueConstraint("consumer", "topic", "sha256"),  # written again on a retry: one row
    )
    Table(  # events each consumer applied, by partition, counted in the transaction of their effect
        "applied_events",
        metadata,
        Column("consumer", String, primary_key=True),
        Column("partition", Integer, primary_key=True),
        Column("events", BigInteger, nullable=False),
    )
    return outbox, inbox


# The same tables, for the shared code that writes them in any service's database.
_reliability = MetaData()
add_reliability_tables(_reliability)
DEAD_LETTER_ORIGINALS: Table = _reliability.tables["dead_letter_originals"]
APPLIED_EVENTS: Table = _reliability.tables["applied_events"]


async def create_schema(engine: AsyncEngine, metadata: MetaData) -> None:
    """Create missing tables of `metadata` (tables outside any service's migrations, e.g. in tests; a
    service's own database is created by its migrations: shared.migrations)."""
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(7201)"))
        await conn.run_sync(metadata.create_all)


def unnested(table: Table, columns: Sequence[str]) -> Select[Any]:
    """`SELECT * FROM unnest(:a, :b, ...)`: many rows of `table`'s `columns`, sent as one array per
    column (parameters: `arrays`). Unlike a multi-row VALUES, whose SQL changes with every row count
    (so PostgreSQL parses and plans it anew) and which SQLAlchemy builds parameter by parameter, this
    is one statement, prepared once, whose arrays asyncpg encodes in C."""
    return select(
        func.unnest(
            *(
                cast(bindparam(name, type_=ARRAY(table.c[name].type)), ARRAY(table.c[name].type))
                for name in columns
            )
        )
        .table_valued(*columns)
        .render_derived()
    )


def arrays(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> dict[str, list[Any]]:
    """The parameters of `unnested(table, columns)` for these rows."""
    rows = list(rows)
    return {name: [row[name] for row in rows] for name in columns}
