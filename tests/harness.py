"""Real infrastructure for tests: Kafka and PostgreSQL, never mocks.

Each is found in this order: environment variables naming an existing one; (PostgreSQL only)
testcontainers when a Docker engine answers; else started here from local files (Kafka jars fetched
with Maven by deploy/kafka/kafka.sh, PostgreSQL from the machine's binaries by deploy/postgres/pg.sh).
Kafka always runs with its security on (SASL/SCRAM, TLS listener, ACLs): tests connect like services.
"""

import asyncio
import os
import random
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


@dataclass
class KafkaFixture:
    """What a test needs of the broker: where it listens, the super user's credentials (for the tests'
    own raw clients and topics), and principals made on demand with their real ACLs."""

    bootstrap: str  # SASL_PLAINTEXT, as the services connect
    ssl_bootstrap: str | None  # SASL_SSL, as POS integrations connect
    ca_file: Path | None
    admin_username: str
    admin_password: str
    _services: dict = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, broker) -> "KafkaFixture":
        """For a deploy.kafka.kafka_runner.LocalKafka that has started."""
        return cls(broker.bootstrap, broker.ssl_bootstrap, broker.ca_file, broker.admin_username,
                   broker.admin_password)

    def settings(self, username: str, password: str, *, tls: bool = False):
        from shared.settings import KafkaSettings

        return KafkaSettings(kafka_bootstrap=self.ssl_bootstrap if tls else self.bootstrap, kafka_username=username,
                             kafka_password=password, kafka_security_protocol="SASL_SSL" if tls else "SASL_PLAINTEXT",
                             kafka_ca_file=self.ca_file if tls else None)

    @property
    def admin(self):
        """The super user's settings: topics, offsets and reading/writing any topic in tests."""
        from deploy.kafka.provision import ProvisionSettings

        return ProvisionSettings(**self.settings(self.admin_username, self.admin_password).model_dump())

    def options(self) -> dict:
        """aiokafka keyword arguments (bootstrap and credentials) of the super user."""
        from shared.kafka_client import kafka_options

        return kafka_options(self.admin)

    async def create_topics(self) -> None:
        """Every topic the services use, with its dead-letter topic, as a deployment provisions them."""
        from deploy.kafka.provision import service_specs, topics_of
        from shared.kafka_admin import ensure_topics

        await ensure_topics(self.admin, topics_of(list(service_specs().values())), partitions=6)

    async def service(self, spec):
        """The KafkaSettings of `spec`'s own principal (its topics, user and ACLs made once a session)."""
        from deploy.kafka.provision import provision_service

        if spec.name not in self._services:
            self._services[spec.name] = await provision_service(self.admin, spec, uuid.uuid4().hex)
        return self._services[spec.name]

    async def service_env(self, spec) -> dict[str, str]:
        """The OTOP_KAFKA_* environment of a service process with its own principal."""
        return process_env(await self.service(spec))

    async def principal(self, username: str, grants: Iterable, *, tls: bool = False):
        """A principal with exactly `grants` (shared.kafka_access.Grant); its KafkaSettings."""
        from shared.kafka_access import KafkaAccess
        from shared.kafka_admin import logs_in

        password = uuid.uuid4().hex
        await KafkaAccess(self.admin).grant(username, password, grants)
        settings = self.settings(username, password, tls=tls)
        await logs_in(settings)
        return settings


def process_env(settings) -> dict[str, str]:
    """KafkaSettings as the environment a service process reads them from."""
    env = {"OTOP_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "OTOP_KAFKA_USERNAME": settings.kafka_username,
           "OTOP_KAFKA_PASSWORD": settings.kafka_password.get_secret_value(),
           "OTOP_KAFKA_SECURITY_PROTOCOL": settings.kafka_security_protocol}
    if settings.kafka_ca_file:
        env["OTOP_KAFKA_CA_FILE"] = str(settings.kafka_ca_file)
    return env


@contextmanager
def kafka() -> Iterator[KafkaFixture]:
    """A broker with its security on. OTOP_TEST_KAFKA_BOOTSTRAP (SASL_PLAINTEXT) with
    OTOP_TEST_KAFKA_ADMIN_USERNAME / _PASSWORD (a super user), and optionally OTOP_TEST_KAFKA_SSL_BOOTSTRAP
    with OTOP_TEST_KAFKA_CA_FILE, name an existing one; else one is started here."""
    if url := os.environ.get("OTOP_TEST_KAFKA_BOOTSTRAP"):
        ca_file = os.environ.get("OTOP_TEST_KAFKA_CA_FILE")
        access = KafkaFixture(url, os.environ.get("OTOP_TEST_KAFKA_SSL_BOOTSTRAP"), Path(ca_file) if ca_file else None,
                              os.environ["OTOP_TEST_KAFKA_ADMIN_USERNAME"], os.environ["OTOP_TEST_KAFKA_ADMIN_PASSWORD"])
        asyncio.run(access.create_topics())
        yield access
    else:
        from deploy.kafka.kafka_runner import LocalKafka

        broker = LocalKafka(scratch_dir("otop-kafka-"), free_port())
        try:
            broker.start()
            access = KafkaFixture.of(broker)
            asyncio.run(access.create_topics())
            yield access
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
        subprocess.run([script, "start", "--data-dir", data_dir, "--port", str(port)], check=True,
                       capture_output=True, text=True)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([script, "stop", "--data-dir", data_dir], check=False, capture_output=True)
            shutil.rmtree(data_dir, ignore_errors=True)
