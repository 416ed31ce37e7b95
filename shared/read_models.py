"""Read models of other services' events, kept a batch of events at a time.

A registry import of a large province publishes thousands of ProductRegistered events in a moment, and
the whole country's some 320,000; applied one event per transaction (as the services once did) the
three services that keep products took hours to catch up (docs/benchmarks.md, the national load).
`newest_state` makes a `shared.batch.BatchConsumer` handler instead: the batch's events are claimed in
the inbox (as one at a time would be), the newest state of each aggregate in the batch is upserted in
one statement, and a stored row changes only for a newer revision, so redelivered and reordered events
leave the model as they would one at a time. `in_order` is for a topic of several event types whose
handlers already keep a model (shared.consumer.Handler): the same handlers, applied in the records'
order, but one transaction, one inbox statement and one offset commit for the whole batch.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import ARRAY, Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.batch import BatchConsumer, BatchHandler, Rejection, claimed_events
from shared.consumer import Handler
from shared.db import arrays, unnested
from shared.events import Envelope, Payload, registered_contracts
from shared.unit_of_work import UnitOfWork, UnitsOfWork

Row = dict[str, Any]  # "id", "revision" and the model's columns
RowOf = Callable[[Envelope, Any], Row]  # an event's row (each model takes its own state's events)
AfterWrite = Callable[[UnitOfWork, list[Row]], Awaitable[None]]


async def keep_newest(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Row],
    *,
    key: str = "id",
    version: str = "revision",
    insert_only: tuple[str, ...] = (),
) -> None:
    """Upsert aggregates' rows (unique by `key`), each only where its `version` (a revision, or the time of
    an aggregate without one) is newer than the stored row's; among rows of the same key the newest wins.
    One statement, in key order so overlapping batches lock rows in the same order: over arrays
    (`shared.db.unnested`), unless a column is itself an array (unnest would flatten it). `insert_only`
    columns keep their first value."""
    newest: dict[Any, Row] = {}
    for row in rows:
        kept = newest.get(row[key])
        if kept is None or row[version] > kept[version]:
            newest[row[key]] = row
    if not newest:
        return
    ordered = [newest[each] for each in sorted(newest)]
    columns = list(ordered[0])
    if any(isinstance(table.c[column].type, ARRAY) for column in columns):
        stmt, parameters = insert(table).values(ordered), None
    else:
        stmt = insert(table).from_select(columns, unnested(table, columns))
        parameters = arrays(ordered, columns)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[key],
            set_={c: stmt.excluded[c] for c in columns if c != key and c not in insert_only},
            where=table.c[version] < stmt.excluded[version],
        ),
        parameters,
    )


def newest_state(
    inbox: Table,
    consumer: str,
    table: Table,
    state: type[Payload],
    row_of: RowOf,
    *,
    insert_only: tuple[str, ...] = (),
    after: AfterWrite | None = None,
) -> BatchHandler:
    """A BatchConsumer handler keeping `table` at the newest `state` of each aggregate; `after` runs in
    the same transaction with the rows applied (e.g. to wake what waited on them)."""

    async def apply(uow: UnitOfWork, records: Sequence[ConsumerRecord]) -> list[Rejection]:
        events, rejections = await claimed_events(uow.session, inbox, consumer, records, state)
        rows = [row_of(envelope, event) for envelope, event in events]
        await keep_newest(uow.session, table, rows, insert_only=insert_only)
        if after is not None and rows:
            await after(uow, rows)
        return rejections

    apply.handles = handled((state,))  # type: ignore[attr-defined]  # read by the tests' fuzzing
    return apply


def in_order(inbox: Table, consumer: str, handlers: dict[type[Payload], Handler]) -> BatchHandler:
    """A BatchConsumer handler applying each event of the batch not applied before with its type's handler,
    in order, in the batch's transaction (a handler's RejectEvent fails the batch, which BatchConsumer then
    applies record by record, so only that event is dead-lettered). A handler given for a class applies to
    its subclasses too (`MarketDayState`: every market-day event), the nearest class's first."""
    types: Any = tuple(handlers)  # claimed_events' isinstance check takes a tuple of types as well

    def handler_of(event: Payload) -> Handler:
        return next(handlers[cls] for cls in type(event).__mro__ if cls in handlers)

    async def apply(uow: UnitOfWork, records: Sequence[ConsumerRecord]) -> list[Rejection]:
        events, rejections = await claimed_events(uow.session, inbox, consumer, records, types)
        for envelope, event in events:
            await handler_of(event)(uow, envelope, event)
        return rejections

    apply.handles = handled(types)  # type: ignore[attr-defined]  # read by the tests' fuzzing
    return apply


def handled(types: tuple[type[Payload], ...]) -> frozenset[tuple[str, int]]:
    """The (event type, version) of every registered contract a handler of `types` applies: what a
    consumer handles (tests/reliability fuzz every one of them)."""
    return frozenset(key for key, model in registered_contracts().items() if issubclass(model, types))


# --- a service's read-model consumers, declared: group id -> what the group keeps


@dataclass(frozen=True)
class States:
    """A topic of an aggregate's full states, kept in `table` at the newest (`newest_state`)."""

    topic: str
    table: Table
    state: type[Payload]
    row_of: RowOf
    insert_only: tuple[str, ...] = ()
    after: AfterWrite | None = None


@dataclass(frozen=True)
class Events:
    """A topic of several event types, each applied by its handler in the records' order (`in_order`)."""

    topic: str
    handlers: dict[type[Payload], Handler]


def read_model_consumers(
    unit_of_work: UnitsOfWork,
    inbox: Table,
    retry_options: dict[str, Any],
    models: Mapping[str, States | Events],
) -> list[BatchConsumer]:
    """One BatchConsumer a group, a batch of records a transaction (an import or a national season sends
    thousands of events at once)."""

    def handler(group_id: str, model: States | Events) -> BatchHandler:
        if isinstance(model, Events):
            return in_order(inbox, group_id, model.handlers)
        return newest_state(
            inbox,
            group_id,
            model.table,
            model.state,
            model.row_of,
            insert_only=model.insert_only,
            after=model.after,
        )

    return [
        BatchConsumer(
            group_id=group_id,
            topic=model.topic,
            unit_of_work=unit_of_work,
            handler=handler(group_id, model),
            **retry_options,
        )
        for group_id, model in models.items()
    ]
