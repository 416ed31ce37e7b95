"""Dead-letter topics, for operators: list, show and replay what the consumers parked on `<topic>.dlq`
(shared.consumer.dead_letter). Used by `python -m deploy.local.cli dlq ...`.

A replay publishes the original record (value, key and the headers it came with) to its original topic,
where it goes through the normal path again: the consumers' inbox (or, for the POS ingress, the sale's
idempotency key) makes a replay of an event already applied change nothing, so replaying twice is safe.
A record the DLQ holds truncated is replayed from its original, kept in the consuming service's database
(`dlq-original-ref`), after its checksum is verified.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka_client import kafka_options
from shared.settings import KafkaSettings
from shared.topics import dead_letter_topic

REPLAYED_FROM = "x-otop-replayed-from"


@dataclass(frozen=True)
class DeadLetter:
    topic: str  # the dead-letter topic
    partition: int
    offset: int
    timestamp: datetime  # when it was dead-lettered
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def position(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def original_topic(self) -> str:
        return self.headers.get("dlq-original-topic") or self.topic.removesuffix(".dlq")

    @property
    def reason_code(self) -> str:
        return self.headers.get("dlq-reason-code", "")

    @property
    def truncated(self) -> bool:
        return self.headers.get("dlq-truncated") == "true"

    def summary(self) -> dict:
        return {
            "position": self.position,
            "dead_lettered_at": self.timestamp.isoformat(),
            "original_topic": self.original_topic,
            "consumer_group": self.headers.get("dlq-consumer-group"),
            "reason_code": self.reason_code,
            "reason": self.headers.get("dlq-reason", "")[:200],
            "bytes": int(self.headers.get("dlq-original-bytes", len(self.value))),
            "truncated": self.truncated,
        }


async def dead_letter_topics(kafka: KafkaSettings, topics: list[str] | None = None) -> list[str]:
    """The dead-letter topics on the broker, or those of `topics` (original or dead-letter names)."""
    admin = AIOKafkaAdminClient(**kafka_options(kafka), request_timeout_ms=10000)
    await admin.start()
    try:
        present = {t for t in await admin.list_topics() if t.endswith(".dlq")}
    finally:
        await admin.close()
    if topics:
        present &= {t if t.endswith(".dlq") else dead_letter_topic(t) for t in topics}
    return sorted(present)


async def read(
    kafka: KafkaSettings,
    *,
    topics: list[str] | None = None,
    reasons: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[DeadLetter]:
    """The dead letters now on the broker (on the dead-letter topics of `topics`, else all), with one of
    `reasons` as reason code, dead-lettered within [since, until]; oldest first per partition."""
    found: list[DeadLetter] = []
    for topic in await dead_letter_topics(kafka, topics):
        # Given a topic and no group, start() assigns all its partitions; read from each one's start to its
        # end.
        reader = AIOKafkaConsumer(
            topic,
            **kafka_options(kafka),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_bytes=16 * 1024 * 1024,
        )
        await reader.start()
        try:
            ends = await reader.end_offsets(list(reader.assignment()))
            while any([await reader.position(tp) < end for tp, end in ends.items()]):
                for records in (await reader.getmany(timeout_ms=1000)).values():
                    found.extend(
                        DeadLetter(
                            r.topic,
                            r.partition,
                            r.offset,
                            datetime.fromtimestamp(r.timestamp / 1000, UTC),
                            r.key,
                            r.value or b"",
                            {name: value.decode(errors="replace") for name, value in r.headers},
                        )
                        for r in records
                        if r.offset < ends[TopicPartition(r.topic, r.partition)]
                    )
        finally:
            await reader.stop()
    return [
        d
        for d in found
        if (not reasons or d.reason_code in reasons)
        and (since is None or d.timestamp >= since)
        and (until is None or d.timestamp <= until)
    ]


async def original(
    letter: DeadLetter, database_url: str | None = None
) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    """The record as it came: key, value and headers. A truncated one is read from the table its
    `dlq-original-ref` (host:port/database/table/id) names, through `database_url` when given (its
    database replaced by the ref's; credentials come from there), else as user postgres."""
    if not letter.truncated:
        if "dlq-original-headers" in letter.headers:
            names = [n for n in letter.headers["dlq-original-headers"].split(",") if n]
        else:  # dead-lettered before the original's header names were kept: all but the dlq ones
            names = [n for n in letter.headers if not n.startswith("dlq-")]
        return (
            letter.key,
            letter.value,
            [(name, letter.headers[name].encode()) for name in names if name in letter.headers],
        )
    server, database, table, row_id = letter.headers["dlq-original-ref"].split("/")
    if database_url:
        parts = urlsplit(database_url)
        url = urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))
    else:
        url = f"postgresql://postgres@{server}/{database}"
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            f'SELECT key, value, headers, sha256 FROM "{table}" WHERE id = $1', int(row_id)
        )
    finally:
        await conn.close()
    if row is None:
        raise LookupError(
            f"{letter.position}: its original {letter.headers['dlq-original-ref']} is not there"
        )
    value = bytes(row["value"])
    if hashlib.sha256(value).hexdigest() != letter.headers["dlq-original-sha256"]:
        raise ValueError(f"{letter.position}: the original's checksum does not match")
    headers = json.loads(row["headers"])  # asyncpg gives jsonb as text
    return (
        (bytes(row["key"]) if row["key"] is not None else None),
        value,
        [(n, v.encode()) for n, v in headers],
    )


async def replay(
    kafka: KafkaSettings, letters: list[DeadLetter], database_url: str | None = None
) -> list[str]:
    """Publish each dead letter's original to its original topic (acks=all), marked with
    `x-otop-replayed-from`; returns the positions replayed."""
    producer = AIOKafkaProducer(
        **kafka_options(kafka),
        acks="all",
        enable_idempotence=True,
        compression_type="gzip",
        max_request_size=16 * 1024 * 1024,
    )
    await producer.start()
    done = []
    try:
        for letter in letters:
            key, value, headers = await original(letter, database_url)
            headers = [(n, v) for n, v in headers if n != REPLAYED_FROM] + [
                (REPLAYED_FROM, letter.position.encode())
            ]
            await producer.send_and_wait(letter.original_topic, value, key=key, headers=headers)
            done.append(letter.position)
    finally:
        await producer.stop()
    return done


async def find(kafka: KafkaSettings, position: str) -> DeadLetter:
    """The dead letter at `<dlq topic>:<partition>:<offset>`."""
    topic, partition, offset = position.rsplit(":", 2)
    for letter in await read(kafka, topics=[topic]):
        if (letter.partition, letter.offset) == (int(partition), int(offset)):
            return letter
    raise LookupError(f"no dead letter at {position}")
