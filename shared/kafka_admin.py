"""Topic provisioning: each service makes sure the topics it uses exist, sized for its replicas."""

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.topics import dead_letter_topic


async def ensure_topics(bootstrap: str, topics: list[str], partitions: int, replication_factor: int = 1) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
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
