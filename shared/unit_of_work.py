"""The unit of work: one database transaction and the events it emits, committed together.

    async with db.unit_of_work() as uow:
        await uow.session.execute(...)  # the state change
        uow.emit(payload, province_code=...)  # its events, staged in the outbox

Who owns it: whoever starts the work. The API opens one per HTTP write; the consumers
(shared/consumer.py, shared/batch.py) one per event or batch, with the inbox claim and the applied-events
count in it; a service's background work (e.g. sales' held-sales retry) one per pass. Use cases
(services/*/handlers) receive the `uow`, change state through `uow.session` and emit through `uow.emit`;
they neither begin nor commit (the one exception: a use case that must call other systems around its
database change, sales' integration registration and revocation, opens its own). Reads that change
nothing may use a plain session (`db.sessions()`).

At the end of the unit the emitted events are written to the outbox with one statement, in the order
they were emitted, then the transaction commits, then the outbox relay is woken (`committed`) so they go
out at once. An exception rolls back the state change and its events alike.
"""

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events import Envelope, Payload, envelope_for
from shared.observability import correlation_id as current_correlation_id
from shared.outbox import stage


@dataclass
class UnitOfWork:
    """An open unit of work: its session, and the events emitted so far (written when it ends)."""

    session: AsyncSession
    source: str  # the service: every envelope's `source`
    emitted: list[tuple[Envelope, Payload]] = field(default_factory=list)
    discarded: bool = False

    def emit(self, payload: Payload, *, province_code: str, correlation_id: UUID | None = None) -> Envelope:
        """Stage an event; it is published only if the unit commits. The correlation id defaults to the
        one of the request or event being handled. The envelope is typed (its payload is the model:
        shared.events.typed_envelope); the JSON staged is the same."""
        envelope = envelope_for(
            payload,
            province_code=province_code,
            source=self.source,
            correlation_id=correlation_id or current_correlation_id.get(),
            typed=True,
        )
        self.emitted.append((envelope, payload))
        return envelope

    def discard(self) -> None:
        """Keep nothing of this unit (e.g. a dry run): it rolls back when it ends, its events unwritten."""
        self.discarded = True


@dataclass(frozen=True)
class UnitsOfWork:
    """Opens units of work on one database: `async with units() as uow` (shared.service.Database holds one
    as `db.unit_of_work`)."""

    sessions: async_sessionmaker[AsyncSession]
    outbox: Table
    source: str
    committed: Callable[[], None] = lambda: None  # after a commit that emitted events (the relay's wake)

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[UnitOfWork]:
        async with self.sessions() as session, session.begin() as transaction:
            uow = UnitOfWork(session, self.source)
            yield uow
            if uow.discarded:
                await transaction.rollback()
                return
            await stage(session, self.outbox, uow.emitted)
        if uow.emitted:
            self.committed()
