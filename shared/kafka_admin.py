"""Topic provisioning and measurement: each service makes sure the topics it uses exist, sized for its
replicas, with an explicit retention; and measures the dead-letter topics of what it consumes."""

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.failures import is_transient
from shared.observability import DEAD_LETTER_DEPTH
from shared.topics import dead_letter_topic

log = logging.getLogger(__name__)
DEFAULT_RETENTION_S = 7 * 24 * 3600  # shared.settings.ServiceSettings.topic_retention_s


async def ensure_topics(bootstrap: str, topics: list[str], partitions: int, replication_factor: int = 1,
                        retention_s: int = DEFAULT_RETENTION_S) -> None:
    """Create those of `topics` (and their dead-letter topics) that do not exist, with `retention.ms` set:
    the inbox keeps event ids longer than this (ServiceSettings.inbox_keep_s)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        wanted = set(topics) | {dead_letter_topic(t) for t in topics}
        missing = wanted - set(await admin.list_topics())
        if missing:
            result = await admin.create_topics(
                [NewTopic(name, num_partitions=partitions, replication_factor=replication_factor,
                          topic_configs={"retention.ms": str(retention_s * 1000)}) for name in sorted(missing)]
            )
            for _, code, message in getattr(result, "topic_errors", []) or []:
                if code not in (0, TopicAlreadyExistsError.errno):
                    raise RuntimeError(f"creating topics failed: {code} {message}")
    finally:
        await admin.close()


async def partitions_of(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    """The partitions of those of `topics` that exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        found = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [TopicPartition(t["topic"], p["partition"]) for t in found if t["error_code"] == 0 for p in t["partitions"]]


def offsets_reader(bootstrap: str) -> AIOKafkaConsumer:
    """A client that only reads offsets (no group, no subscription)."""
    return AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, request_timeout_ms=10000)


class DeadLetterDepth:
    """`otop_dead_letter_depth{topic}`: records on each dead-letter topic of the consumed `topics` (end minus
    start offsets), measured when Prometheus scrapes."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self._bootstrap, self._topics = bootstrap, sorted({dead_letter_topic(t) for t in topics})
        self._reader: AIOKafkaConsumer | None = None

    async def measure(self) -> None:
        if not self._topics:
            return
        try:
            partitions = await partitions_of(self._bootstrap, self._topics)
            if self._reader is None:
                reader = offsets_reader(self._bootstrap)
                await reader.start()
                self._reader = reader
            start = await self._reader.beginning_offsets(partitions)
            end = await self._reader.end_offsets(partitions)
        except Exception as error:  # Kafka away: the gauges keep their last values
            if not is_transient(error):
                raise
            log.warning("dead-letter depth not measured: %s: %s", type(error).__name__, error)
            return
        for topic in {tp.topic for tp in partitions}:
            DEAD_LETTER_DEPTH.labels(topic).set(sum(end[tp] - start[tp] for tp in partitions if tp.topic == topic))

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.stop()
            self._reader = None
