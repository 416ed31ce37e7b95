"""Real infrastructure for tests: Kafka, PostgreSQL and Keycloak, never mocks.

Each is found in this order: environment variables naming an existing one; (PostgreSQL only)
testcontainers when a Docker engine answers; else started here from local files (Kafka jars fetched
with Maven by deploy/kafka/kafka.sh, PostgreSQL from the machine's binaries by deploy/postgres/pg.sh,
Keycloak's distribution by deploy/keycloak/keycloak.sh, on a database of that PostgreSQL).
Kafka always runs with its security on (SASL/SCRAM, TLS listener, ACLs): tests connect like services.
"""

import asyncio
import atexit
import hashlib
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.keycloak.keycloak_runner import Keycloak
from deploy.runners import free_port

REPO = Path(__file__).resolve().parents[1]


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
    replication_factor: int = 1  # of the topics it provisions: 3 on a cluster of three
    _services: dict = field(default_factory=dict, repr=False)
    _provisioner: dict = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, broker) -> "KafkaFixture":
        """For a deploy.kafka.kafka_runner.LocalKafka or LocalKafkaCluster that has started."""
        return cls(
            broker.bootstrap,
            broker.ssl_bootstrap,
            broker.ca_file,
            broker.admin_username,
            broker.admin_password,
            broker.replication_factor,
        )

    def settings(self, username: str, password: str, *, tls: bool = False, mechanism: str | None = None):
        """A client's settings: on the services' listener (SCRAM-SHA-256), or with `tls` on the integrations'
        (SCRAM-SHA-512 unless `mechanism` says otherwise)."""
        from shared.settings import KafkaSettings

        return KafkaSettings(
            kafka_bootstrap=self.ssl_bootstrap if tls else self.bootstrap,
            kafka_username=username,
            kafka_password=password,
            kafka_security_protocol="SASL_SSL" if tls else "SASL_PLAINTEXT",
            kafka_sasl_mechanism=mechanism or ("SCRAM-SHA-512" if tls else "SCRAM-SHA-256"),
            kafka_ca_file=self.ca_file if tls else None,
        )

    @property
    def admin(self):
        """The super user's settings: topics, offsets and reading/writing any topic in tests."""
        from deploy.kafka.provision import ProvisionSettings

        return ProvisionSettings(
            **{
                **self.settings(self.admin_username, self.admin_password).model_dump(),
                "topic_replication_factor": self.replication_factor,
            }
        )

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
        from shared.kafka_client import kafka_env

        return kafka_env(await self.service(spec))

    def provisioner_env(self) -> dict[str, str]:
        """The sales service's OTOP_SALES_KAFKA_PROVISIONER_* for a Kafka provisioner (deploy/kafka/
        provisioner.py) on this broker: its principal provisioned and its process started on first use,
        stopped when the session ends."""
        if not self._provisioner:
            from deploy.kafka import provisioner
            from deploy.kafka.provision import provision_provisioner

            principal = _in_thread(provision_provisioner(self.admin, uuid.uuid4().hex))
            token = secrets.token_urlsafe(32)
            process = provisioner.local_process(
                principal, token, free_port(), scratch_dir("otop-provisioner-") / "provisioner.log"
            )
            process.start()
            _session.callback(process.stop)
            process.wait_ready()
            self._provisioner.update(provisioner.sales_env(process, token))
        return self._provisioner

    async def principal(self, username: str, grants: Iterable, *, tls: bool = False):
        """A principal with exactly `grants` (shared.kafka_access.Grant); its KafkaSettings."""
        from shared.kafka_access import KafkaAccess, mechanism_of
        from shared.kafka_admin import logs_in

        password = uuid.uuid4().hex
        await KafkaAccess(self.admin).grant(username, password, grants)
        settings = self.settings(
            username, password, tls=tls, mechanism=mechanism_of(username).name.replace("_", "-")
        )
        await logs_in(settings)
        return settings


@contextmanager
def kafka() -> Iterator[KafkaFixture]:
    """A broker with its security on. OTOP_TEST_KAFKA_BOOTSTRAP (SASL_PLAINTEXT) with
    OTOP_TEST_KAFKA_ADMIN_USERNAME / _PASSWORD (a super user), and optionally OTOP_TEST_KAFKA_SSL_BOOTSTRAP
    with OTOP_TEST_KAFKA_CA_FILE, name an existing one; else one is started here."""
    if url := os.environ.get("OTOP_TEST_KAFKA_BOOTSTRAP"):
        ca_file = os.environ.get("OTOP_TEST_KAFKA_CA_FILE")
        access = KafkaFixture(
            url,
            os.environ.get("OTOP_TEST_KAFKA_SSL_BOOTSTRAP"),
            Path(ca_file) if ca_file else None,
            os.environ["OTOP_TEST_KAFKA_ADMIN_USERNAME"],
            os.environ["OTOP_TEST_KAFKA_ADMIN_PASSWORD"],
        )
        asyncio.run(access.create_topics())
        _shared["kafka"] = access
        yield access
    else:
        from deploy.kafka.kafka_runner import LocalKafka

        broker = LocalKafka(scratch_dir("otop-kafka-"), free_port())
        try:
            broker.start()
            access = KafkaFixture.of(broker)
            asyncio.run(access.create_topics())
            _shared["kafka"] = access
            yield access
        finally:
            broker.stop()
            shutil.rmtree(broker.data_dir, ignore_errors=True)


@contextmanager
def postgres() -> Iterator[str]:
    """Yields a postgresql:// URL of a superuser on a server where tests may create databases."""
    if url := os.environ.get("OTOP_TEST_DATABASE_URL"):
        yield url
    elif not local_postgres_binaries() and docker_available():
        # Only without the server binaries (scripts/setup.sh installs them): an engine here may reach no
        # image registry (docs/CONTRIBUTING.md, DESIGN "Containers here"), so the local server comes first.
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver=None) as container:
            yield container.get_connection_url()
    else:
        data_dir, port = scratch_dir("otop-pg-"), free_port()
        script = REPO / "deploy" / "postgres" / "pg.sh"
        # A throwaway cluster: durability relaxed for speed (only the test harness may do this).
        subprocess.run(
            [script, "start", "--data-dir", data_dir, "--port", str(port), "--relaxed-durability"],
            check=True,
            capture_output=True,
            text=True,
        )
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([script, "stop", "--data-dir", data_dir], check=False, capture_output=True)
            shutil.rmtree(data_dir, ignore_errors=True)


def local_postgres_binaries() -> bool:
    """PostgreSQL's server binaries on this machine, where deploy/postgres/pg.sh finds them."""
    return any(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")) or shutil.which("pg_ctl") is not None


@contextmanager
def keycloak(pg_server: str) -> Iterator[Keycloak]:
    """Yields a running Keycloak with the otop realms imported. OTOP_TEST_KEYCLOAK_URL (…/auth) names an
    existing one, with OTOP_TEST_KEYCLOAK_ADMIN_PASSWORD (master realm user OTOP_TEST_KEYCLOAK_ADMIN, default
    admin) and OTOP_TEST_KEYCLOAK_SALES_SECRET (the otop-sales client's); else one is started here, in
    production mode, on a new database of `pg_server`.

    Creating Keycloak's schema and importing the realms takes most of a first start (half a minute on an
    idle machine, minutes on a busy one). So the database, once made, is kept as a dump in the cache (with
    the test-only secrets it holds), named by the hash of the runner and the realm files, and later sessions
    start Keycloak on a copy of it."""
    if url := os.environ.get("OTOP_TEST_KEYCLOAK_URL"):
        yield Keycloak(
            url,
            admin_username=os.environ.get("OTOP_TEST_KEYCLOAK_ADMIN", "admin"),
            admin_password=os.environ["OTOP_TEST_KEYCLOAK_ADMIN_PASSWORD"],
            sales_client_secret=os.environ["OTOP_TEST_KEYCLOAK_SALES_SECRET"],
        )
        return
    from deploy.keycloak.keycloak_runner import LocalKeycloak

    snapshot, restored = _keycloak_snapshot(), False
    for attempt in range(2):  # a copy of the snapshot, else (none, or it failed to load) an empty database
        database = f"keycloak_{uuid.uuid4().hex[:8]}"
        database_url = pg_server.rsplit("/", 1)[0] + f"/{database}"
        create_database(pg_server, database)
        restored = attempt == 0 and snapshot.exists() and _psql(database_url, "-f", str(snapshot))
        if restored or attempt == 0 and not snapshot.exists():
            break
    known = json.loads(snapshot.with_suffix(".json").read_text()) if restored else {}
    server = LocalKeycloak(
        scratch_dir("otop-keycloak-"),
        free_port(),
        database_url,
        admin_username=known.get("admin_username") or "test-administrator",
        admin_password=known.get("admin_password") or secrets.token_urlsafe(24),
        sales_client_secret=known.get("sales_client_secret") or secrets.token_urlsafe(32),
    )
    try:
        server.start()
        if not restored:
            _keep_snapshot(server, snapshot)
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)


def _keycloak_snapshot() -> Path:
    parts = [
        *(REPO / "deploy/keycloak" / name for name in ("keycloak.sh", "admin.py", "quarkus.properties")),
        *sorted((REPO / "deploy/keycloak").glob("*-realm.json")),
    ]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()[:16]
    return Path.home() / ".cache" / "otop-keycloak" / "test-databases" / f"{digest}.sql"


def _pg_tool(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else name


def _psql(database_url: str, *args: str) -> bool:
    return (
        subprocess.run(
            [_pg_tool("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", database_url, *args], capture_output=True
        ).returncode
        == 0
    )


def _keep_snapshot(server, snapshot: Path) -> None:
    """The freshly made database (schema, realms, administrator) as a dump, for later sessions."""
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    partial = snapshot.with_suffix(f".{os.getpid()}.partial")
    dumped = subprocess.run(
        [_pg_tool("pg_dump"), "--no-owner", "--no-privileges", "-f", str(partial), server.database_url],
        capture_output=True,
    )
    if dumped.returncode != 0:
        partial.unlink(missing_ok=True)
        return
    secrets_file = snapshot.with_suffix(".json")
    secrets_file.write_text(
        json.dumps(
            {
                "admin_username": server.admin_username,
                "admin_password": server.admin_password,
                "sales_client_secret": server.sales_client_secret,
            }
        )
    )
    for path in (partial, secrets_file):
        path.chmod(0o600)
    partial.rename(snapshot)


def create_database(server_url: str, name: str) -> None:
    """CREATE DATABASE on the server, from sync code (even inside a running event loop)."""
    _in_thread(_create_database(server_url, name))


async def _create_database(server_url: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


def _in_thread(coroutine):
    """Runs a coroutine to its end from sync code, even when called inside a running event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# --- what a test session shares, started on first use and stopped when the session (or process) ends:
# the PostgreSQL server, and the Keycloak on it. Tokens are made lazily (tests.identity), so Keycloak starts
# only for sessions that need it.
_session = ExitStack()
_shared: dict[str, Any] = {}


def session_postgres() -> str:
    if "postgres" not in _shared:
        _shared["postgres"] = _session.enter_context(postgres())
    return _shared["postgres"]


def session_keycloak(pg_server: str | None = None) -> Keycloak:
    if "keycloak" not in _shared:
        _shared["keycloak"] = _session.enter_context(keycloak(pg_server or session_postgres()))
    return _shared["keycloak"]


def session_provisioner_env() -> dict[str, str]:
    """The Kafka provisioner's settings for the sales service, on the session's broker (none before the
    `kafka` fixture made it)."""
    return _shared["kafka"].provisioner_env() if "kafka" in _shared else {}


def close_session() -> None:
    _session.close()
    _shared.clear()


atexit.register(close_session)
