"""Topic provisioning: each service makes sure the topics it uses exist, sized for its replicas."""

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from shared.kafka_client import kafka_options
from shared.settings import KafkaSettings
from shared.topics import dead_letter_topic


async def ensure_topics(settings: KafkaSettings, topics: list[str], partitions: int, replication_factor: int = 1) -> None:
    """Creates those of `topics` and their dead-letter topics that do not exist: an administrator's task
    (deploy/kafka/provision.py, tests). A service may create no topic; it checks with `require_topics`."""
    admin = AIOKafkaAdminClient(**kafka_options(settings), request_timeout_ms=10000)
    await admin.start()
    try:
        wanted = set(topics) | {dead_letter_topic(t) for t in topics}
        missing = wanted - set(await admin.list_topics())
        if missing:
            result = await admin.create_topics(
                [NewTopic(name, num_partitions=partitions, replication_factor=replication_factor) for name in sorted(missing)]
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
            raise TopicsMissing(f"topics missing or not allowed to {settings.kafka_username}: {sorted(missing)}; "
                                "provision the deployment (python -m deploy.kafka.provision)")
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
