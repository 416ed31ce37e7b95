"""Reliable consumption of events from Kafka, the same for every service.

- Offsets are committed only after an event was applied (or parked on the dead-letter topic):
  AckPolicy.NACK_ON_ERROR commits after success and rewinds on an unhandled error; a cancelled
  handler (graceful shutdown) commits nothing, so the event is delivered again.
- Idempotent: the event id is claimed in the inbox table in the same transaction as the effect,
  so a redelivered event changes nothing. Each consumer counts the events it applied (`applied_events`,
  in the same transaction): a double or a loss shows there.
- A transient failure (shared.failures: the database or Kafka away) is never dead-lettered: the handler
  keeps the records it holds and retries them, backing off, until the failure passes; meanwhile the
  consumer is not ready. See `ReliableConsumer` for how this stays within Kafka's max.poll.interval.
- Poison messages (unreadable, failing the schema, refused, or failing on their own after a few attempts)
  go to `<topic>.dlq` with the reason in headers, and the consumer goes on with the next message.

Every service consumes with `shared.batch.BatchConsumer` (many records a transaction, for throughput), built
on `ReliableConsumer` here: it dead-letters through `dead_letter` and retries through `_retrying`.

Words: a consumer's `receive` is the FastStream subscriber; a handler is a use case of the service layer
(services/<name>/handlers), which the consumer calls with the unit of work it opened for the event or batch
(shared/unit_of_work.py).
"""

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy import Table, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db import APPLIED_EVENTS, DEAD_LETTER_ORIGINALS, unnested
from shared.events import Envelope
from shared.failures import Backoff, Status, StillFailing, until_done
from shared.observability import DEAD_LETTERED, EVENTS_CONSUMED, GIVEN_BACK, RECEIVED
from shared.topics import dead_letter_topic
from shared.unit_of_work import UnitOfWork, UnitsOfWork

log = logging.getLogger(__name__)

# (uow, envelope, payload): the payload is of the type the handler is registered for; the consumer owns
# the unit of work (shared/unit_of_work.py), the inbox claim and the applied-events count included
Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]

# A dead letter must fit the producer's max_request_size (1 MiB, aiokafka's and Kafka's default) with room for
# the headers added here. A larger one goes to the DLQ truncated to TRUNCATED_VALUE_BYTES, its original kept
# in the service's database (table dead_letter_originals).
DEAD_LETTER_MAX_BYTES = 900 * 1024
TRUNCATED_VALUE_BYTES = 64 * 1024
TRUNCATED_HEADER_BYTES = 1024


class RejectEvent(Exception):
    """A handler's verdict that an event can never be applied (retrying will not help)."""


class Record(Protocol):
    """A message as read from Kafka (aiokafka's ConsumerRecord), or kept aside to be dead-lettered later
    (partition and offset None when it did not come from Kafka). Read-only, so frozen dataclasses match."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int | None: ...
    @property
    def offset(self) -> int | None: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


def _record_bytes(record: Record) -> int:
    return (
        len(record.key or b"")
        + len(record.value or b"")
        + sum(len(name) + len(value or b"") for name, value in record.headers or ())
    )


async def _keep_original(
    sessions: async_sessionmaker[AsyncSession], record: Record, group_id: str, sha256: str
) -> int:
    """The whole record in the service's database; the row's id (the same row when written again)."""
    originals = DEAD_LETTER_ORIGINALS
    stmt = insert(originals).values(
        consumer=group_id,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        sha256=sha256,
        value_bytes=len(record.value or b""),
        key=record.key,
        value=record.value or b"",
        headers=[[name, (value or b"").decode(errors="replace")] for name, value in record.headers or ()],
    )
    async with sessions.begin() as session:
        stored_id: int = (
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["consumer", "topic", "sha256"],
                    set_={"stored_at": stmt.excluded.stored_at},
                ).returning(originals.c.id)
            )
        ).scalar_one()
    return stored_id


async def dead_letter(
    broker: KafkaBroker,
    record: Record,
    reason: str,
    *,
    code: str,
    group_id: str,
    attempts: int,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Park `record` on `<topic>.dlq`: its value, key and headers unchanged, plus the reason (text in
    `dlq-reason`, a stable word in `dlq-reason-code`) and where it came from. A record too large to copy
    whole is kept in the service's database (`sessions`) and parked truncated, with `dlq-truncated`,
    `dlq-original-bytes`, `dlq-original-sha256` (of the value) and `dlq-original-ref`
    (`<host>:<port>/<database>/dead_letter_originals/<id>`). `dlq-original-headers` names the original's
    headers (a replay sends those, deploy/local/dlq.py).

    If this fails the exception propagates: the caller's offset is not committed and the message comes
    again, so nothing is lost."""
    log.error("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)
    key, value, original_headers = record.key, record.value, list(record.headers or ())
    extra: dict[str, str] = {}
    if _record_bytes(record) > DEAD_LETTER_MAX_BYTES:
        sha256 = hashlib.sha256(value or b"").hexdigest()
        row = await _keep_original(sessions, record, group_id, sha256)
        url = sessions.kw["bind"].url
        extra = {
            "dlq-truncated": "true",
            "dlq-original-bytes": str(len(value or b"")),
            "dlq-original-sha256": sha256,
            "dlq-original-ref": f"{url.host}:{url.port}/{url.database}/{DEAD_LETTER_ORIGINALS.name}/{row}",
        }
        key, value = (key or b"")[:TRUNCATED_HEADER_BYTES] or None, (value or b"")[:TRUNCATED_VALUE_BYTES]
        original_headers = [
            (name[:100], (v or b"")[:TRUNCATED_HEADER_BYTES]) for name, v in original_headers[:50]
        ]
    headers = {name: (v or b"").decode(errors="replace") for name, v in original_headers}
    headers.update(
        {
            "dlq-original-headers": ",".join(
                name for name, _ in original_headers
            ),  # what a replay sends again
            "dlq-reason": reason[:2000],
            "dlq-reason-code": code,
            "dlq-consumer-group": group_id,
            "dlq-original-topic": record.topic,
            "dlq-attempts": str(attempts),
            "dlq-failed-at": datetime.now(UTC).isoformat(),
            **extra,
        }
    )
    if record.partition is not None:
        headers["dlq-original-partition"] = str(record.partition)
    if record.offset is not None:
        headers["dlq-original-offset"] = str(record.offset)
    if (timestamp := getattr(record, "timestamp", None)) is not None:
        headers["dlq-original-timestamp"] = str(timestamp)  # ms since the epoch, as Kafka keeps it
    await broker.publish(value, dead_letter_topic(record.topic), key=key, headers=headers)
    DEAD_LETTERED.labels(group_id, record.topic, code).inc()


def failure_reason(error: Exception) -> tuple[str, str]:
    """The dead-letter reason text and code for an error that was not transient."""
    if isinstance(error, RejectEvent):
        return f"rejected: {error}", "rejected"
    return f"failed after retries: {type(error).__name__}: {error}", "failed"


async def count_applied(session: AsyncSession, consumer: str, partitions: Iterable[int | None]) -> None:
    """Add the events just applied (one partition number each) to `consumer`'s counters, in the transaction
    of their effect; a partition is a row of its own, so replicas (which own different partitions) do not
    wait for one another. An event that did not come from Kafka counts under partition -1."""
    counts = Counter(-1 if partition is None else partition for partition in partitions)
    if counts:
        applied = APPLIED_EVENTS
        stmt = insert(applied).from_select(
            ["consumer", "partition", "events"], unnested(applied, ["consumer", "partition", "events"])
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["consumer", "partition"],
                set_={"events": applied.c.events + stmt.excluded.events},
            ),
            {
                "consumer": [consumer] * len(counts),
                "partition": sorted(counts),
                "events": [counts[p] for p in sorted(counts)],
            },
        )


async def claim_all(
    session: AsyncSession, inbox: Table, consumer: str, event_ids: Sequence[UUID]
) -> set[UUID]:
    """The ids of the events not processed by `consumer` before, now claimed (in the caller's transaction)."""
    if not event_ids:
        return set()
    ids = set(event_ids)  # one statement for any number of ids (shared.db.unnested)
    claimed = await session.execute(
        insert(inbox)
        .from_select(["consumer", "event_id"], unnested(inbox, ["consumer", "event_id"]))
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id),
        {"consumer": [consumer] * len(ids), "event_id": list(ids)},
    )
    return set(claimed.scalars())


def _readable_headers(record: ConsumerRecord) -> ConsumerRecord:
    try:
        for _, value in record.headers or ():
            value.decode()
        return record
    except (UnicodeDecodeError, AttributeError):
        return dataclasses.replace(
            record,
            headers=tuple(
                (name, (value or b"").decode(errors="replace").encode()) for name, value in record.headers
            ),
        )


async def _parse_with_readable_headers(message: Any, parse: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream's parser decodes every header as UTF-8 and, when that fails, the record comes again
    and again: one record with other bytes in a header would stop its partition. Such values are
    replaced (U+FFFD) before parsing; the record is otherwise unchanged."""
    if isinstance(message, tuple):
        return await parse(tuple(_readable_headers(record) for record in message))
    return await parse(_readable_headers(message))


class ReliableConsumer:
    """What every consumer here shares: a group and a topic, the retry rules, and a subscription that
    commits offsets only after the handler returned (a new group starts from the earliest offset).

    Transient failures: the handler keeps the records it was given and retries them (`_retrying`), backing
    off, until the failure passes. This is how "pause the partition" is done here: FastStream hands the
    subscriber's records to the handler one message (or batch) at a time and fetches no more until the
    handler returns, so while it retries, no later record of its partitions is consumed, and no offset is
    committed. (Calling aiokafka's pause()/seek() from inside a handler would race FastStream's own ack,
    which commits the consumer's positions when the handler returns.) aiokafka leaves the group when its
    consumer is not polled for max.poll.interval (5 min); before that (`hold_s`), the handler gives the
    records
    back (StillFailing: NACK_ON_ERROR seeks each partition to its first record in hand, commits nothing) and
    the next fetch, which counts as a poll, brings them again: the retrying goes on where it was."""

    MAX_POLL_INTERVAL_MS = 300_000

    def __init__(
        self,
        *,
        group_id: str,
        topic: str,
        unit_of_work: UnitsOfWork,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
        max_backoff_s: float = 10.0,
        hold_s: float = 60.0,
    ) -> None:
        assert hold_s * 1000 < self.MAX_POLL_INTERVAL_MS / 2, (
            "records are given back well within max.poll.interval"
        )
        self.group_id = group_id
        self.topic = topic
        self._unit_of_work = unit_of_work
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._backoff = Backoff(retry_backoff_s, max_backoff_s)
        self._hold_s = hold_s
        self.status = Status(group_id, "consumer")
        self._broker: KafkaBroker | None = None

    def subscribe(self, broker: KafkaBroker) -> None:
        self._broker = broker
        broker.subscriber(
            self.topic,
            group_id=self.group_id,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            max_poll_interval_ms=self.MAX_POLL_INTERVAL_MS,
            parser=_parse_with_readable_headers,
            **self.subscriber_options(),
        )(self._receive)

    def subscriber_options(self) -> dict[str, Any]:
        return {}

    async def _receive(self, message: KafkaMessage) -> None:
        records = message.raw_message
        RECEIVED.labels(self.group_id, self.topic).inc(len(records) if isinstance(records, tuple) else 1)
        try:
            await self.receive(message)
        except StillFailing:
            GIVEN_BACK.labels(self.group_id, self.topic).inc()
            raise

    async def receive(self, message: KafkaMessage) -> None:
        raise NotImplementedError

    def _give_back_at(self) -> float:
        """When the records a handler holds must be given back (see the class)."""
        return time.monotonic() + self._hold_s

    async def _retrying(
        self,
        work: Callable[[], Awaitable[None]],
        label: str,
        give_back_at: float,
    ) -> tuple[int, Exception | None]:
        """Run `work` until it succeeds. A transient failure is retried for as long as it lasts (until_done;
        StillFailing at `give_back_at`); a RejectEvent is final at once; any other error is retried up to
        max_attempts times with exponential backoff. Returns the attempts made and the error to dead-letter
        the work's records with (None: done)."""
        error: Exception | None = None
        for attempt in range(1, self._max_attempts + 1):
            try:
                await until_done(
                    work, status=self.status, backoff=self._backoff, label=label, give_back_at=give_back_at
                )
                return attempt, None
            except StillFailing:
                raise
            except RejectEvent as exc:
                return attempt, exc
            except Exception as exc:
                error = exc
                log.warning("%s failed (attempt %d): %s: %s", label, attempt, type(exc).__name__, exc)
                if attempt < self._max_attempts:
                    await asyncio.sleep(self._retry_backoff_s * 2 ** (attempt - 1))
        return self._max_attempts, error

    async def _dead_letter(
        self, record: Record, reason: str, *, code: str, attempts: int, give_back_at: float
    ) -> None:
        """Dead-letter `record`; Kafka or the database away (the original of a large record is kept there)
        is a transient failure like any other."""
        broker = self._broker
        assert broker is not None, "dead letters are sent by a subscribed consumer"
        await until_done(
            lambda: dead_letter(
                broker,
                record,
                reason,
                code=code,
                group_id=self.group_id,
                attempts=attempts,
                sessions=self._unit_of_work.sessions,
            ),
            status=self.status,
            backoff=self._backoff,
            label=f"{self.group_id} dead letter",
            give_back_at=give_back_at,
        )

    def _count(self, record: Record, outcome: str, records: int = 1) -> None:
        EVENTS_CONSUMED.labels(self.group_id, record.topic, outcome).inc(records)


class InboxPruner:
    """Removes inbox rows older than `keep_s` (longer than the topics' retention, so no record that can
    still be delivered has lost its row), in bounded batches, every `every_s` seconds."""

    def __init__(
        self, engine: AsyncEngine, inbox: Table, *, keep_s: float, batch: int = 5000, every_s: float = 600
    ) -> None:
        self._engine, self._inbox, self._keep_s, self._batch, self._every_s = (
            engine,
            inbox,
            keep_s,
            batch,
            every_s,
        )
        self._backoff = Backoff(1, every_s)
        self.status = Status("inbox-pruner", "worker", gates_readiness=False)

    async def prune(self) -> int:
        """One pass: batches of at most `batch` rows, each its own short transaction. Rows removed."""
        inbox, removed = self._inbox, 0
        oldest = (
            select(inbox.c.consumer, inbox.c.event_id)
            .where(inbox.c.processed_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, self._keep_s))
            .limit(self._batch)
        )
        while True:
            async with self._engine.begin() as conn:
                done = (
                    await conn.execute(
                        delete(inbox).where(tuple_(inbox.c.consumer, inbox.c.event_id).in_(oldest))
                    )
                ).rowcount
            removed += done
            if done < self._batch:
                return removed
            await asyncio.sleep(0.1)  # let the consumers' transactions through between batches

    async def run(self) -> None:
        while True:
            try:
                removed = await until_done(
                    self.prune, status=self.status, backoff=self._backoff, label="inbox pruning"
                )
                if removed:
                    log.info("inbox: %d event ids older than %d s removed", removed, self._keep_s)
            except Exception:
                log.error("inbox pruning failed; trying again later", exc_info=True)
            await asyncio.sleep(self._every_s)
