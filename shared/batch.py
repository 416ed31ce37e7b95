"""Batch consumption for high-volume topics: many records, one transaction, bulk writes.

The guarantees are those of shared/consumer.py: offsets are committed only after the batch's writes
committed (and its refused records were dead-lettered); a batch interrupted by shutdown commits
nothing and comes again; a transient failure is retried, never dead-lettered. Because a batch can come again,
the handler is idempotent by its own
business keys (e.g. `INSERT ... ON CONFLICT DO NOTHING`), not by the inbox.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from shared import faults
from shared.consumer import Record, ReliableConsumer, claim_all, count_applied, failure_reason
from shared.events import Envelope, InvalidEvent, Payload, parse_event
from shared.unit_of_work import UnitOfWork, UnitsOfWork

Wanted = TypeVar("Wanted", bound=Payload)


@dataclass(frozen=True)
class Rejection:
    """A record a use case refuses: it goes to the dead-letter topic with this reason (`attempts`: how many
    times it was judged, 1 for a record refused as it arrives)."""

    record: Record
    code: str
    reason: str
    attempts: int = 1


async def claimed_events(
    session: AsyncSession,
    inbox: Table,
    consumer: str,
    records: Sequence[ConsumerRecord],
    wanted: type[Wanted],
    usual: type[Payload] | None = None,
) -> tuple[list[tuple[Envelope, Wanted]], list[Rejection]]:
    """A batch's records read as events and claimed in `consumer`'s inbox, in the batch's transaction:
    the `wanted` events not applied before (in order), and the unreadable records, to dead-letter.
    Events of other types pass by. A batch that overlaps this one (after a rebalance) waits at the
    claim until it committed, so rows read after the claim include its changes. `usual`: the type
    most records have, read in one pass (parse_event). The events returned are counted as applied
    (shared.consumer.count_applied): the caller applies them in this transaction."""
    events: list[tuple[Envelope, Wanted, int]] = []
    rejections: list[Rejection] = []
    for record in records:
        try:
            envelope, event = parse_event(record.value or b"", usual)
        except InvalidEvent as exc:
            rejections.append(Rejection(record, "malformed", str(exc)))
            continue
        if isinstance(event, wanted):
            events.append((envelope, event, record.partition))
    claimed = await claim_all(session, inbox, consumer, [envelope.event_id for envelope, _, _ in events])
    applied = []
    for envelope, event, partition in events:
        if envelope.event_id in claimed:
            claimed.remove(envelope.event_id)  # an event twice in one batch is applied once
            applied.append((envelope, event, partition))
    await count_applied(session, consumer, [partition for _, _, partition in applied])
    return [(envelope, event) for envelope, event, _ in applied], rejections


async def _undecoded(message: object) -> None:
    """The handler reads the raw records itself: FastStream's decoding of every record's JSON body (a
    json.loads each, 6-9 % of a service's CPU under load) would be thrown away."""
    return None


# (the batch's unit of work, its records) -> the records refused
BatchHandler = Callable[[UnitOfWork, Sequence[ConsumerRecord]], Awaitable[list[Rejection]]]


class BatchConsumer(ReliableConsumer):
    """Consumes up to `max_records` records at a time. `handler` applies a whole batch in one unit of
    work, which this consumer opens (shared/unit_of_work.py), and returns the records it refuses; those are
    dead-lettered after the commit, and only then are the offsets committed. A transient failure is retried
    with the whole batch in hand (shared.consumer.ReliableConsumer). A batch that fails otherwise, after
    retries, is applied record by record, so a poison record is dead-lettered alone and the others still
    apply."""

    def __init__(
        self,
        *,
        group_id: str,
        topic: str,
        handler: BatchHandler,
        unit_of_work: UnitsOfWork,
        max_records: int = 500,
        batch_timeout_ms: int = 200,
        **retry_options: Any,
    ) -> None:
        super().__init__(group_id=group_id, topic=topic, unit_of_work=unit_of_work, **retry_options)
        self._handler = handler
        self._max_records = max_records
        self._batch_timeout_ms = batch_timeout_ms

    def subscriber_options(self) -> dict[str, Any]:
        return {
            "batch": True,
            "max_records": self._max_records,
            "batch_timeout_ms": self._batch_timeout_ms,
            "decoder": _undecoded,
        }

    async def receive(self, message: KafkaMessage) -> None:
        records = tuple(message.raw_message)
        if faults.strike("drop-one", self.group_id):
            records = records[1:]  # shared/faults.py: lost, its offset committed with the batch
            if not records:
                return
        give_back_at = self._give_back_at()
        if await self._failed(records, give_back_at) and len(records) > 1:
            # One poison record must not hold the others back: apply them one by one.
            for record in records:
                await self._failed((record,), give_back_at)

    async def _failed(self, records: tuple[ConsumerRecord, ...], give_back_at: float) -> bool:
        """Apply `records` with retries; False once applied. A single record that still fails is
        dead-lettered (and True returned)."""
        rejections: list[Rejection] = []

        async def apply() -> None:
            nonlocal rejections
            async with self._unit_of_work() as uow:
                rejections = await self._handler(uow, records)

        first = records[0]
        attempts, error = await self._retrying(
            apply,
            f"{self.group_id} on {len(records)} record(s) from "
            f"{first.topic}[{first.partition}]@{first.offset}",
            give_back_at,
        )
        if error is None:
            for rejection in rejections:
                await self._dead_letter(
                    rejection.record,
                    rejection.reason,
                    code=rejection.code,
                    attempts=rejection.attempts,
                    give_back_at=give_back_at,
                )
            self._count(first, "batched", len(records) - len(rejections))
        elif len(records) == 1:
            reason, code = failure_reason(error)
            await self._dead_letter(first, reason, code=code, attempts=attempts, give_back_at=give_back_at)
        return error is not None
