"""A Kafka cluster's replication state, and a rolling restart of the local stack's cluster of three
(`python -m deploy.local.stack --brokers 3`), as its super user (docs/operations.md, "Kafka cluster"):

    python -m deploy.kafka.cluster status           [--state-dir .local] [--kafka-port 19092]
    python -m deploy.kafka.cluster rolling-restart  [--state-dir .local] [--kafka-port 19092]

`status` prints the active controller, the partitions each broker leads and the under-replicated partitions
(fewer in-sync replicas than replicas). `rolling-restart` stops and starts one broker at a time (a controlled
shutdown: its partitions' leadership moves first), each only once no partition is under-replicated, so two
replicas of every partition stay in sync throughout and producers with acks=all go on.
"""

import argparse
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from confluent_kafka.admin import AdminClient

from deploy.kafka.kafka_runner import LocalKafkaCluster
from shared.kafka_client import librdkafka_config
from shared.settings import KafkaSettings

REPO = Path(__file__).resolve().parents[2]

Partitions = dict[tuple[str, int], tuple[int, list[int], list[int]]]


def admin_settings(cluster: LocalKafkaCluster) -> KafkaSettings:
    return KafkaSettings(
        kafka_bootstrap=cluster.bootstrap,
        kafka_username=cluster.admin_username,
        kafka_password=cluster.admin_password,
    )


def partitions(settings: KafkaSettings) -> Partitions:
    """Every partition of every topic: (leader, replicas, in-sync replicas), from the cluster's metadata
    (leader -1: none)."""
    # Quiet: a broker down (the reason to ask) would log each refused connection; an answer missing raises.
    client = AdminClient({**librdkafka_config(settings), "log_level": 2})
    metadata = client.list_topics(timeout=30)
    return {
        (name, p.id): (p.leader, list(p.replicas), list(p.isrs))
        for name, topic in metadata.topics.items()
        for p in topic.partitions.values()
    }


def under_replicated(found: Partitions) -> list[str]:
    """The partitions with no leader or fewer in-sync replicas than replicas."""
    return sorted(
        f"{topic}[{partition}]"
        for (topic, partition), (leader, replicas, isr) in found.items()
        if leader < 0 or set(isr) != set(replicas)
    )


def wait_in_sync(settings: KafkaSettings, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while lagging := under_replicated(partitions(settings)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still under-replicated after {timeout_s:.0f} s: {lagging[:10]}")
        time.sleep(1)


def rolling_restart(cluster: LocalKafkaCluster, say: Callable[[str], None] = print) -> None:
    """Each broker in turn stopped (SIGTERM: a controlled shutdown) and started again, once every partition
    has all its replicas in sync."""
    settings = admin_settings(cluster)
    for node in cluster.nodes:
        wait_in_sync(settings)
        say(f"restarting broker {node.cluster[0] if node.cluster else 1} ({node.bootstrap}) ...")
        node.stop()
        node.start()
    wait_in_sync(settings)
    say("every broker restarted; no partition under-replicated")


def status(cluster: LocalKafkaCluster) -> str:
    found = partitions(admin_settings(cluster))
    leaders = Counter(leader for leader, _, _ in found.values())
    lagging = under_replicated(found)
    return "\n".join(
        [
            f"active controller: node {cluster.active_controller()}",
            "partitions led: " + ", ".join(f"node {n}: {leaders[n]}" for n in sorted(leaders)),
            f"under-replicated partitions: {len(lagging)} {lagging[:10] if lagging else ''}".rstrip(),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("status", "rolling-restart"))
    parser.add_argument("--state-dir", type=Path, default=REPO / ".local", help="the local stack's")
    parser.add_argument("--kafka-port", type=int, default=19092, help="as given to the local stack")
    args = parser.parse_args()
    cluster = LocalKafkaCluster(args.state_dir.resolve() / "kafka", args.kafka_port)
    if args.command == "status":
        print(status(cluster))
    else:
        rolling_restart(cluster)


if __name__ == "__main__":
    main()
