"""Read models of another service's aggregates, kept a batch of events at a time.

A registry import of a large province publishes thousands of ProductRegistered events in a moment, and
the whole country's some 320,000; applied one event per transaction (`shared.consumer.EventConsumer`) the
three services that keep products took hours to catch up (docs/benchmarks.md, the national load).
`newest_state` makes a `shared.batch.BatchConsumer` handler instead: the batch's events are claimed in
the inbox (as one at a time would be), the newest state of each aggregate in the batch is upserted in
one statement, and a stored row changes only for a newer revision, so redelivered and reordered events
leave the model as they would one at a time.
"""

from collections.abc import Awaitable, Callable, Sequence

from aiokafka import ConsumerRecord
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.batch import BatchHandler, Rejection, claimed_events
from shared.db import arrays, unnested
from shared.events import Envelope, Payload

RowOf = Callable[[Envelope, Payload], dict]  # an event's row: "id", "revision" and the model's columns
AfterWrite = Callable[[AsyncSession, list[dict]], Awaitable[None]]


async def keep_newest(session: AsyncSession, table: Table, rows: Sequence[dict],
                      insert_only: tuple[str, ...] = ()) -> None:
    """Upsert aggregates' rows, each only where its revision is newer than the stored row's; among rows
    of the same id the newest wins. One statement over arrays (`shared.db.unnested`), in id order so
    overlapping batches lock rows in the same order. `insert_only` columns keep their first value."""
    newest: dict = {}
    for row in rows:
        if row["revision"] > newest.get(row["id"], {}).get("revision", 0):
            newest[row["id"]] = row
    if not newest:
        return
    ordered = [newest[key] for key in sorted(newest)]
    columns = list(ordered[0])
    stmt = insert(table).from_select(columns, unnested(table, columns))
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["id"], set_={c: stmt.excluded[c] for c in columns if c != "id" and c not in insert_only},
        where=table.c.revision < stmt.excluded.revision), arrays(ordered, columns))


def newest_state(inbox: Table, consumer: str, table: Table, state: type[Payload], row_of: RowOf, *,
                 insert_only: tuple[str, ...] = (), after: AfterWrite | None = None) -> BatchHandler:
    """A BatchConsumer handler keeping `table` at the newest `state` of each aggregate; `after` runs in
    the same transaction with the rows applied (e.g. to wake what waited on them)."""

    async def apply(session: AsyncSession, records: Sequence[ConsumerRecord]) -> list[Rejection]:
        events, rejections = await claimed_events(session, inbox, consumer, records, state)
        rows = [row_of(envelope, event) for envelope, event in events]
        await keep_newest(session, table, rows, insert_only)
        if after is not None and rows:
            await after(session, rows)
        return rejections

    return apply
