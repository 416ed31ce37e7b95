"""Reliable consumption of events from Kafka, the same for every service.

- Offsets are committed only after an event was applied (or parked on the dead-letter topic):
  AckPolicy.NACK_ON_ERROR commits after success and rewinds on an unhandled error; a cancelled
  handler (graceful shutdown) commits nothing, so the event is delivered again.
- Idempotent: the event id is claimed in the inbox table in the same transaction as the effect,
  so a redelivered event changes nothing.
- Poison messages (unreadable, or still failing after bounded retries with backoff) go to
  `<topic>.dlq` with the reason in headers, and the consumer goes on with the next message.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events import Envelope, InvalidEvent, Payload, parse_event
from shared.topics import dead_letter_topic

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope, Payload], Awaitable[None]]


class RejectEvent(Exception):
    """A handler's verdict that an event can never be applied (retrying will not help)."""


async def claim(session: AsyncSession, inbox: Table, consumer: str, event_id: UUID) -> bool:
    """Record the event as processed by `consumer`; False if it already was."""
    claimed = await session.execute(
        insert(inbox).values(consumer=consumer, event_id=event_id).on_conflict_do_nothing().returning(inbox.c.event_id)
    )
    return claimed.first() is not None


class EventConsumer:
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
        self.group_id = group_id
        self.topic = topic
        self._handlers = {(model.event_type, model.event_version): handler for model, handler in handlers.items()}
        self._sessions = sessions
        self._inbox = inbox
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
        )(self.handle)

    async def handle(self, message: KafkaMessage) -> None:
        try:
            envelope, payload = parse_event(message.body)
        except InvalidEvent as exc:
            await self._dead_letter(message, str(exc), attempts=0)
            return
        handler = self._handlers.get((envelope.type, envelope.version))
        if handler is None:
            return  # an event type this consumer does not need
        failure = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                async with self._sessions.begin() as session:
                    if await claim(session, self._inbox, self.group_id, envelope.event_id):
                        await handler(session, envelope, payload)
                return
            except RejectEvent as exc:
                await self._dead_letter(message, f"rejected: {exc}", attempts=attempt)
                return
            except Exception as exc:
                failure = f"{type(exc).__name__}: {exc}"
                log.warning("%s failed on %s (attempt %d): %s", self.group_id, envelope.event_id, attempt, failure)
                if attempt < self._max_attempts:
                    await asyncio.sleep(self._retry_backoff_s * 2 ** (attempt - 1))
        await self._dead_letter(message, f"failed after retries: {failure}", attempts=self._max_attempts)

    async def _dead_letter(self, message: KafkaMessage, reason: str, *, attempts: int) -> None:
        record = message.raw_message
        log.error("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)
        headers = {name: value.decode(errors="replace") for name, value in (record.headers or ())}
        headers.update(
            {
                "dlq-reason": reason[:2000],
                "dlq-consumer-group": self.group_id,
                "dlq-original-topic": record.topic,
                "dlq-original-partition": str(record.partition),
                "dlq-original-offset": str(record.offset),
                "dlq-attempts": str(attempts),
                "dlq-failed-at": datetime.now(UTC).isoformat(),
            }
        )
        # If this publish fails the exception propagates: the offset is not committed and the
        # message comes again, so nothing is lost.
        await self._broker.publish(record.value, dead_letter_topic(record.topic), key=record.key, headers=headers)
