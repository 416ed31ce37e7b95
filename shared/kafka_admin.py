"""Topic provisioning and measurement: each service makes sure the topics it uses exist, sized for its
replicas, with an explicit retention; and measures the dead-letter topics of what it consumes."""

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from shared.failures import is_transient
from shared.kafka_client import kafka_options
from shared.observability import DEAD_LETTER_DEPTH
from shared.settings import KafkaSettings
from shared.topics import dead_letter_topic

log = logging.getLogger(__name__)


async def ensure_topics(
    settings: KafkaSettings, topics: list[str], partitions: int, replication_factor: int | None = None
) -> None:
    """Creates those of `topics` and their dead-letter topics that do not exist, with `replication_factor`
    replicas (default `settings.topic_replication_factor`) and `retention.ms` from
    `settings.topic_retention_s` (a service's inbox keeps event ids longer: ServiceSettings.inbox_keep_s):
    an administrator's task (deploy/kafka/provision.py, tests). A service may create no topic; it checks
    with `require_topics`."""
    retention_s = settings.topic_retention_s
    admin = AIOKafkaAdminClient(**kafka_options(settings), request_timeout_ms=10000)
    await admin.start()
    try:
        wanted = set(topics) | {dead_letter_topic(t) for t in topics}
        missing = wanted - set(await admin.list_topics())
        if missing:
            result = await admin.create_topics(
                [
                    NewTopic(
                        name,
                        num_partitions=partitions,
                        replication_factor=replication_factor or settings.topic_replication_factor,
                        topic_configs={"retention.ms": str(retention_s * 1000)},
                    )
                    for name in sorted(missing)
                ]
            )
            for _, code, message in getattr(result, "topic_errors", []) or []:
                if code not in (0, TopicAlreadyExistsError.errno):
                    raise RuntimeError(f"creating topics failed: {code} {message}")
    finally:
        await admin.close()


class TopicsMissing(RuntimeError):
    pass


async def require_topics(settings: KafkaSettings, topics: list[str]) -> None:
    """Raises TopicsMissing unless every one of `topics` exists (and this principal may describe it)."""
    admin = AIOKafkaAdminClient(**kafka_options(settings), request_timeout_ms=10000)
    await admin.start()
    try:
        if missing := set(topics) - set(await admin.list_topics()):
            raise TopicsMissing(
                f"topics missing or not allowed to {settings.kafka_username}: {sorted(missing)}; "
                "provision the deployment (python -m deploy.kafka.provision)"
            )
    finally:
        await admin.close()


async def logs_in(settings: KafkaSettings, timeout_s: float = 120.0) -> None:
    """Waits until these credentials log in: a SCRAM user just made may take a few seconds (the first one
    on a newly formatted cluster took 8.5 s here, over 30 s on a busy machine; later ones well under one)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        admin = AIOKafkaAdminClient(**kafka_options(settings), request_timeout_ms=5000)
        try:
            await admin.start()
            return
        except KafkaConnectionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        finally:
            await admin.close()
        await asyncio.sleep(0.2)


async def partitions_of(admin: AIOKafkaAdminClient, topics: list[str]) -> list[TopicPartition]:
    """The partitions of those of `topics` that exist."""
    found = await admin.describe_topics(topics)
    return [
        TopicPartition(t["topic"], p["partition"])
        for t in found
        if t["error_code"] == 0
        for p in t["partitions"]
    ]


def offsets_reader(settings: KafkaSettings) -> AIOKafkaConsumer:
    """A client that only reads offsets (no group, no subscription)."""
    return AIOKafkaConsumer(**kafka_options(settings), enable_auto_commit=False, request_timeout_ms=10000)


class DeadLetterDepth:
    """`otop_dead_letter_depth{topic}`: records on each dead-letter topic of the consumed `topics` (end minus
    start offsets), measured when Prometheus scrapes. Its two clients connect once and stay connected: a new
    connection is a SCRAM login, which cost a scrape more CPU than the measurement."""

    def __init__(self, settings: KafkaSettings, topics: list[str]) -> None:
        self._settings, self._topics = settings, sorted({dead_letter_topic(t) for t in topics})
        self._admin: AIOKafkaAdminClient | None = None
        self._reader: AIOKafkaConsumer | None = None

    async def measure(self) -> None:
        if not self._topics:
            return
        try:
            if self._admin is None:
                self._admin = AIOKafkaAdminClient(**kafka_options(self._settings), request_timeout_ms=10000)
                await self._admin.start()
            partitions = await partitions_of(self._admin, self._topics)
            if self._reader is None:
                self._reader = offsets_reader(self._settings)
                await self._reader.start()
            start = await self._reader.beginning_offsets(partitions)
            end = await self._reader.end_offsets(partitions)
        except Exception as error:  # Kafka away: the gauges keep their last values
            await self.close()  # connected (again) at the next scrape
            if not is_transient(error):
                raise
            log.warning("dead-letter depth not measured: %s: %s", type(error).__name__, error)
            return
        for topic in {tp.topic for tp in partitions}:
            DEAD_LETTER_DEPTH.labels(topic).set(
                sum(end[tp] - start[tp] for tp in partitions if tp.topic == topic)
            )

    async def close(self) -> None:
        if self._admin is not None:
            await self._admin.close()
            self._admin = None
        if self._reader is not None:
            await self._reader.stop()
            self._reader = None
