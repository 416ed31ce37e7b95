"""Kafka for the benchmark: one broker (tests/harness.py's), or a cluster of N KRaft nodes
(deploy.kafka.kafka_runner.LocalKafkaCluster, the cluster mode of deploy/kafka) whose topics are made with
the cluster's replication factor (3, min.insync.replicas 2), as a production deployment provisions them."""

import asyncio
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from tests import harness
from tests.harness import KafkaFixture

FIRST_PORT = 29500  # the cluster's ports from here on (3 a node), when free


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
        from deploy.kafka.kafka_runner import LocalKafkaCluster
    except ImportError as missing:
        raise SystemExit(
            f"--brokers {brokers} needs deploy/kafka's cluster mode (LocalKafkaCluster): {missing}"
        ) from missing
    data_dir = harness.scratch_dir("otop-kafka-cluster-")
    cluster = LocalKafkaCluster(data_dir, free_run(first_port, 3 * brokers), brokers)
    try:
        cluster.start()
        fixture = KafkaFixture.of(cluster)  # its topics with the cluster's replication factor
        asyncio.run(fixture.create_topics())
        yield fixture
    finally:
        cluster.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
