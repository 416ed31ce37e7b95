"""Real infrastructure for tests: Kafka and PostgreSQL, never mocks.

Each is found in this order: an environment variable naming an existing one; testcontainers
when a Docker engine answers; else started here from local files (Kafka jars fetched with
Maven by deploy/kafka/kafka.sh, PostgreSQL from the machine's binaries by deploy/postgres/pg.sh).
"""

import os
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_run(count: int) -> int:
    """The first of `count` consecutive ports free on 127.0.0.1, chosen below the kernel's ephemeral range:
    outgoing connections take their source ports from that range, so a port free there now may be taken
    by the time a server binds it."""
    ranges = Path("/proc/sys/net/ipv4/ip_local_port_range")
    ephemeral_low = int(ranges.read_text().split()[0]) if ranges.exists() else 32768
    for _ in range(200):
        first = random.randrange(10000, ephemeral_low - count)
        if all(_bindable(port) for port in range(first, first + count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports found below {ephemeral_low}")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def scratch_dir(prefix: str) -> Path:
    # World-traversable, so a PostgreSQL cluster run as the 'postgres' user can live below it.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@contextmanager
def kafka() -> Iterator[str]:
    """Yields a bootstrap address."""
    if url := os.environ.get("OTOP_TEST_KAFKA_BOOTSTRAP"):
        yield url
    elif docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield container.get_bootstrap_server()
    else:
        from deploy.kafka.kafka_runner import LocalKafka

        broker = LocalKafka(scratch_dir("otop-kafka-"), free_port())
        try:
            yield broker.start()
        finally:
            broker.stop()
            shutil.rmtree(broker.data_dir, ignore_errors=True)


@contextmanager
def postgres() -> Iterator[str]:
    """Yields a postgresql:// URL of a superuser on a server where tests may create databases."""
    if url := os.environ.get("OTOP_TEST_DATABASE_URL"):
        yield url
    elif docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver=None) as container:
            yield container.get_connection_url()
    else:
        data_dir, port = scratch_dir("otop-pg-"), free_port()
        script = REPO / "deploy" / "postgres" / "pg.sh"
        # A throwaway cluster: durability relaxed for speed (only the test harness may do this).
        subprocess.run([script, "start", "--data-dir", data_dir, "--port", str(port), "--relaxed-durability"],
                       check=True, capture_output=True, text=True)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([script, "stop", "--data-dir", data_dir], check=False, capture_output=True)
            shutil.rmtree(data_dir, ignore_errors=True)
