"""Kafka for the benchmark: one broker (tests/harness.py's), or a cluster of N KRaft nodes
(deploy.kafka.kafka_runner.LocalKafkaCluster, the cluster mode of deploy/kafka) whose topics are made with
the cluster's replication factor, as a production deployment provisions them."""

import asyncio
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests import harness
from tests.harness import KafkaFixture

FIRST_PORT = 29500  # the cluster's ports from here on (3 a node), when free


@dataclass
class ReplicatedKafka(KafkaFixture):
    """A KafkaFixture whose topics (made here and by provisioning) have `replication_factor` replicas."""

    replication_factor: int = 1

    @property
    def admin(self):
        from deploy.kafka.provision import ProvisionSettings

        return ProvisionSettings(
            **self.settings(self.admin_username, self.admin_password).model_dump(),
            topic_replication_factor=self.replication_factor,
        )

    async def create_topics(self) -> None:
        from deploy.kafka.provision import service_specs, topics_of
        from shared.kafka_admin import ensure_topics

        await ensure_topics(
            self.admin,
            topics_of(list(service_specs().values())),
            partitions=6,
            replication_factor=self.replication_factor,
        )


def free_run(first: int, count: int) -> int:
    """The first port from `first` on (in steps of `count`) with `count` free ports after it."""
    for start in range(first, first + 100 * count, count):
        try:
            for port in range(start, start + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return start
    raise RuntimeError(f"no {count} free ports from {first}")


@contextmanager
def kafka(brokers: int = 1, first_port: int = FIRST_PORT) -> Iterator[KafkaFixture]:
    """One broker (harness.kafka: OTOP_TEST_KAFKA_* or a local one), or `brokers` local KRaft nodes."""
    if brokers == 1:
        with harness.kafka() as single:
            yield single
        return
    try:
        from deploy.kafka.kafka_runner import LocalKafkaCluster  # type: ignore[attr-defined,unused-ignore]
    except ImportError as missing:
        raise SystemExit(
            f"--brokers {brokers} needs deploy/kafka's cluster mode (LocalKafkaCluster): {missing}"
        ) from missing
    data_dir = harness.scratch_dir("otop-kafka-cluster-")
    cluster = LocalKafkaCluster(data_dir, free_run(first_port, 3 * brokers), brokers)
    try:
        cluster.start()
        fixture = ReplicatedKafka(
            cluster.bootstrap,
            cluster.ssl_bootstrap,
            cluster.ca_file,
            cluster.admin_username,
            cluster.admin_password,
            replication_factor=min(brokers, cluster.replication_factor),
        )
        asyncio.run(fixture.create_topics())
        yield fixture
    finally:
        cluster.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
