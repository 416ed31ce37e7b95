"""Writing any of the registry's aggregates (producers, products, mentoring groups): each new state is
written at its next revision with its event, the aggregate's full state, in the caller's unit of work."""

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import one_row
from shared.events import Payload
from shared.unit_of_work import UnitOfWork


def _event(event: type[Payload], table: Table, row: dict) -> Payload:
    return event.model_validate({**row, table.info["event_key"]: row["id"]})


async def create(
    uow: UnitOfWork,
    table: Table,
    event: type[Payload],
    province_code: str,
    rows: Sequence[dict],
) -> list[dict]:
    """Insert new aggregates (each with its `id`) at revision 1, with their events."""
    if not rows:
        return []
    inserted = await uow.session.execute(
        insert(table).returning(table, sort_by_parameter_order=True),
        [{**row, "province_code": province_code, "revision": 1} for row in rows],
    )
    created = [dict(row) for row in inserted.mappings()]
    for row in created:
        uow.emit(_event(event, table, row), province_code=province_code)
    return created


async def change(uow: UnitOfWork, table: Table, event: type[Payload], current: dict, values: dict) -> dict:
    """Apply `values` to a locked aggregate: a new revision and its event, or nothing if nothing differs."""
    if all(current[name] == value for name, value in values.items()):
        return current
    changed = await uow.session.execute(
        update(table)
        .where(table.c.id == current["id"])
        .values(**values, revision=current["revision"] + 1, updated_at=func.now())
        .returning(table)
    )
    row = dict(changed.mappings().one())
    uow.emit(_event(event, table, row), province_code=row["province_code"])
    return row


async def locked(session: AsyncSession, table: Table, province_code: str, id_: UUID) -> dict:
    """The aggregate, locked until the transaction ends (NotFound if the province has no such one)."""
    return await one_row(
        session,
        select(table).where(table.c.province_code == province_code, table.c.id == id_).with_for_update(),
        f"no such {table.name.removesuffix('s').replace('_', ' ')} in this province",
    )


async def serialize(session: AsyncSession, purpose: str, province_code: str) -> None:
    """One such write at a time in a province, until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(7210, hashtext(:key))"), {"key": f"{purpose}:{province_code}"}
    )
