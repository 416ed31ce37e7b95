"""Transactional outbox: events are written in the same transaction as the state change (`stage`, called
by the unit of work, shared/unit_of_work.py), and a relay publishes them to Kafka (acks=all) and deletes
them only after the broker acknowledged."""

import asyncio
import logging
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaProducer
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from shared.db import arrays, unnested
from shared.events import Envelope, Payload
from shared.failures import Backoff, Status, until_done
from shared.kafka_client import kafka_options
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

# Only one relay per database publishes at a time (transaction-scoped advisory lock): replicas
# stand by instead of racing, and each aggregate's events reach Kafka in commit order.
RELAY_LOCK_ID = 7202
# How soon a relay looks again when another one held the lock: that one may have found the outbox empty
# just before this process's events committed. (Nothing waiting: the idle poll, `idle_poll_s`.)
TURN_MISSED_POLL_S = 0.1


async def stage(
    session: AsyncSession | AsyncConnection, outbox: Table, events: Sequence[tuple[Envelope, Payload]]
) -> None:
    """Write events to the outbox in the caller's transaction, in order, with one statement (the arrays of
    shared.db.unnested): they are published only if that transaction commits. The one way events are
    staged; use cases emit them through their unit of work (shared/unit_of_work.py)."""
    if not events:
        return
    columns = ["event_id", "topic", "key", "value"]
    await session.execute(
        insert(outbox).from_select(columns, unnested(outbox, columns)),
        arrays(
            (
                {
                    "event_id": envelope.event_id,
                    "topic": payload.topic,
                    "key": payload.key(),
                    "value": envelope.model_dump_json().encode(),
                }
                for envelope, payload in events
            ),
            columns,
        ),
    )


def kafka_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **kafka_options(settings),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        # Few, large record batches: at 16 KB (the default) a relay batch of 500 events went out as ~20
        # batches, costing the relay CPU per batch and monitoring per fetched batch.
        max_batch_size=256 * 1024,
        request_timeout_ms=15000,
    )


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table,
        new_producer: Callable[[], AIOKafkaProducer],
        *,
        batch_size: int = 500,
        idle_poll_s: float = 1.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._new_producer = new_producer
        self._producer: AIOKafkaProducer | None = None
        self._batch_size = batch_size
        # Every unit of work that stages events wakes its relay (`wake`): the idle poll only finds events
        # another process staged and did not publish, so it can be slow (each poll is a transaction).
        self._idle_poll_s = idle_poll_s
        self._turn_missed_poll_s = min(idle_poll_s, TURN_MISSED_POLL_S)
        self._backoff = Backoff(self._turn_missed_poll_s, max_backoff_s)
        self._wake = asyncio.Event()
        self._turn_missed = False  # the last publish_batch found another relay holding the lock
        # Reported (otop_ready, /health/ready's body) but not failing readiness: HTTP writes are taken while
        # Kafka is away, their events wait here (a service made unready would be taken out of its load
        # balancer).
        self.status = Status("outbox-relay", "relay", gates_readiness=False)

    def wake(self) -> None:
        """Called after a commit that staged events, so they go out without waiting for the poll."""
        self._wake.set()

    async def backlog(self) -> int:
        async with self._engine.connect() as conn:
            return await conn.scalar(select(func.count()).select_from(self._outbox)) or 0

    async def publish_batch(self) -> int:
        """Publish up to one batch; returns how many events were published (0: none waiting or not our
        turn)."""
        producer = await self._connected_producer()
        async with self._engine.begin() as conn:
            self._turn_missed = not await conn.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK_ID)))
            if self._turn_missed:
                return 0
            # Taken off the outbox and published in one transaction: if publishing fails, the rollback
            # puts them back. One statement (no list of ids sent back), the same SQL for every batch.
            outbox = self._outbox
            oldest = select(outbox.c.id).order_by(outbox.c.id).limit(self._batch_size)
            rows = sorted(
                (
                    await conn.execute(
                        delete(outbox)
                        .where(outbox.c.id.in_(oldest))
                        .returning(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.value)
                    )
                ).all(),
                key=lambda row: row.id,
            )  # commit order per aggregate
            if not rows:
                return 0
            sent = [await producer.send(row.topic, value=row.value, key=row.key.encode()) for row in rows]
            await asyncio.gather(*sent)  # every one acknowledged by all in-sync replicas
            return len(rows)

    async def _connected_producer(self) -> AIOKafkaProducer:
        # Started lazily so a service comes up, and takes writes, while Kafka is down.
        if self._producer is None:
            producer = self._new_producer()
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def run(self) -> None:
        """Publish until cancelled. A failure leaves the events in the outbox: a transient one (Kafka or the
        database away) is retried with backoff (until_done, not ready meanwhile); any other one is logged,
        and retried after the same backoff (an outbox event is never dropped)."""
        while True:
            self._wake.clear()  # cleared before looking: a commit while it looks wakes it again
            try:
                published = await until_done(
                    self.publish_batch, status=self.status, backoff=self._backoff, label="outbox relay"
                )
            except Exception:
                log.error("outbox relay failed; retrying", exc_info=True)
                await asyncio.sleep(self._backoff.next_delay())
                continue
            if published == 0:
                poll_s = self._turn_missed_poll_s if self._turn_missed else self._idle_poll_s
                try:
                    await asyncio.wait_for(self._wake.wait(), poll_s)
                except TimeoutError:
                    pass
