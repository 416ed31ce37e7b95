"""Reliable consumption of events from Kafka, the same for every service.

- Offsets are committed only after an event was applied (or parked on the dead-letter topic):
  AckPolicy.NACK_ON_ERROR commits after success and rewinds on an unhandled error; a cancelled
  handler (graceful shutdown) commits nothing, so the event is delivered again.
- Idempotent: the event id is claimed in the inbox table in the same transaction as the effect,
  so a redelivered event changes nothing.
- Poison messages (unreadable, or still failing after bounded retries with backoff) go to
  `<topic>.dlq` with the reason in headers, and the consumer goes on with the next message.

`EventConsumer` handles one event at a time; `shared.batch.BatchConsumer` takes many records at a
time for throughput. Both dead-letter through `dead_letter` and retry through `with_retries`.
"""

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import unnested
from shared.events import Envelope, InvalidEvent, Payload, parse_event
from shared.observability import DEAD_LETTERED, EVENTS_CONSUMED
from shared.topics import dead_letter_topic

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope, Payload], Awaitable[None]]


class RejectEvent(Exception):
    """A handler's verdict that an event can never be applied (retrying will not help)."""


class Record(Protocol):
    """A message as read from Kafka (aiokafka's ConsumerRecord), or kept aside to be dead-lettered later
    (partition and offset None when it did not come from Kafka)."""

    topic: str
    partition: int | None
    offset: int | None
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


async def dead_letter(broker: KafkaBroker, record: Record, reason: str, *, code: str, group_id: str,
                      attempts: int) -> None:
    """Park `record` on `<topic>.dlq`: its value, key and headers unchanged, plus the reason (text in
    `dlq-reason`, a stable word in `dlq-reason-code`) and where it came from.

    If this publish fails the exception propagates: the caller's offset is not committed and the
    message comes again, so nothing is lost."""
    log.error("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)
    headers = {name: value.decode(errors="replace") for name, value in (record.headers or ())}
    headers.update(
        {
            "dlq-reason": reason[:2000],
            "dlq-reason-code": code,
            "dlq-consumer-group": group_id,
            "dlq-original-topic": record.topic,
            "dlq-attempts": str(attempts),
            "dlq-failed-at": datetime.now(UTC).isoformat(),
        }
    )
    if record.partition is not None:
        headers["dlq-original-partition"] = str(record.partition)
    if record.offset is not None:
        headers["dlq-original-offset"] = str(record.offset)
    await broker.publish(record.value, dead_letter_topic(record.topic), key=record.key, headers=headers)
    DEAD_LETTERED.labels(group_id, record.topic, code).inc()


async def with_retries(work: Callable[[], Awaitable[None]], *, max_attempts: int, backoff_s: float,
                       label: str) -> tuple[int, Exception | None]:
    """Run `work` until it succeeds, at most `max_attempts` times with exponential backoff. A
    RejectEvent is final at once. Returns the number of attempts and the last error (None: done)."""
    error: Exception | None = None
    for attempt in range(1, max_attempts + 1):
        try:
            await work()
            return attempt, None
        except RejectEvent as exc:
            return attempt, exc
        except Exception as exc:
            error = exc
            log.warning("%s failed (attempt %d): %s: %s", label, attempt, type(exc).__name__, exc)
            if attempt < max_attempts:
                await asyncio.sleep(backoff_s * 2 ** (attempt - 1))
    return max_attempts, error


def failure_reason(error: Exception) -> tuple[str, str]:
    """The dead-letter reason text and code for what `with_retries` gave up on."""
    if isinstance(error, RejectEvent):
        return f"rejected: {error}", "rejected"
    return f"failed after retries: {type(error).__name__}: {error}", "failed"


async def claim(session: AsyncSession, inbox: Table, consumer: str, event_id: UUID) -> bool:
    """Record the event as processed by `consumer`; False if it already was."""
    claimed = await session.execute(
        insert(inbox).values(consumer=consumer, event_id=event_id).on_conflict_do_nothing().returning(inbox.c.event_id)
    )
    return claimed.first() is not None


async def claim_all(session: AsyncSession, inbox: Table, consumer: str, event_ids: Sequence[UUID]) -> set[UUID]:
    """The bulk form of `claim`: the ids of the events not processed by `consumer` before, now claimed."""
    if not event_ids:
        return set()
    ids = set(event_ids)  # one statement for any number of ids (shared.db.unnested)
    claimed = await session.execute(
        insert(inbox).from_select(["consumer", "event_id"], unnested(inbox, ["consumer", "event_id"]))
        .on_conflict_do_nothing().returning(inbox.c.event_id),
        {"consumer": [consumer] * len(ids), "event_id": list(ids)})
    return set(claimed.scalars())


def _readable_headers(record: ConsumerRecord) -> ConsumerRecord:
    try:
        for _, value in record.headers or ():
            value.decode()
        return record
    except (UnicodeDecodeError, AttributeError):
        return dataclasses.replace(record, headers=tuple(
            (name, (value or b"").decode(errors="replace").encode()) for name, value in record.headers))


async def _parse_with_readable_headers(message, parse):
    """FastStream's parser decodes every header as UTF-8 and, when that fails, the record comes again
    and again: one record with other bytes in a header would stop its partition. Such values are
    replaced (U+FFFD) before parsing; the record is otherwise unchanged."""
    if isinstance(message, tuple):
        return await parse(tuple(_readable_headers(record) for record in message))
    return await parse(_readable_headers(message))


class ReliableConsumer:
    """What every consumer here shares: a group and a topic, bounded retries, and a subscription that
    commits offsets only after the handler returned (a new group starts from the earliest offset)."""

    def __init__(self, *, group_id: str, topic: str, sessions: async_sessionmaker[AsyncSession],
                 max_attempts: int = 3, retry_backoff_s: float = 0.2) -> None:
        self.group_id = group_id
        self.topic = topic
        self._sessions = sessions
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._broker: KafkaBroker | None = None

    def subscribe(self, broker: KafkaBroker) -> None:
        self._broker = broker
        broker.subscriber(
            self.topic,
            group_id=self.group_id,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            parser=_parse_with_readable_headers,
            **self.subscriber_options(),
        )(self.handle)

    def subscriber_options(self) -> dict:
        return {}

    async def handle(self, message: KafkaMessage) -> None:
        raise NotImplementedError

    async def _retrying(self, work: Callable[[], Awaitable[None]], label: str) -> tuple[int, Exception | None]:
        return await with_retries(work, max_attempts=self._max_attempts, backoff_s=self._retry_backoff_s, label=label)

    async def _dead_letter(self, record: Record, reason: str, *, code: str, attempts: int) -> None:
        await dead_letter(self._broker, record, reason, code=code, group_id=self.group_id, attempts=attempts)

    def _count(self, record: Record, outcome: str, records: int = 1) -> None:
        EVENTS_CONSUMED.labels(self.group_id, record.topic, outcome).inc(records)


class EventConsumer(ReliableConsumer):
    def __init__(
        self,
        *,
        group_id: str,
        topic: str,
        handlers: dict[type[Payload], Handler],
        sessions: async_sessionmaker[AsyncSession],
        inbox: Table,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
    ) -> None:
        super().__init__(group_id=group_id, topic=topic, sessions=sessions, max_attempts=max_attempts,
                         retry_backoff_s=retry_backoff_s)
        self._handlers = {(model.event_type, model.event_version): handler for model, handler in handlers.items()}
        self._inbox = inbox

    async def handle(self, message: KafkaMessage) -> None:
        record = message.raw_message
        try:
            envelope, payload = parse_event(message.body)
        except InvalidEvent as exc:
            await self._dead_letter(record, str(exc), code="malformed", attempts=0)
            return
        handler = self._handlers.get((envelope.type, envelope.version))
        if handler is None:
            self._count(record, "skipped")  # an event type this consumer does not need
            return
        outcome = "applied"

        async def apply() -> None:
            nonlocal outcome
            async with self._sessions.begin() as session:
                if await claim(session, self._inbox, self.group_id, envelope.event_id):
                    await handler(session, envelope, payload)
                else:
                    outcome = "duplicate"

        attempts, error = await self._retrying(apply, f"{self.group_id} on {envelope.event_id}")
        if error is not None:
            reason, code = failure_reason(error)
            await self._dead_letter(record, reason, code=code, attempts=attempts)
        else:
            self._count(record, outcome)
