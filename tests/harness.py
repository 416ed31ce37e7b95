"""Real infrastructure for tests: Kafka, PostgreSQL and Keycloak, never mocks.

Each is found in this order: an environment variable naming an existing one; testcontainers
when a Docker engine answers (Kafka, PostgreSQL); else started here from local files (Kafka jars fetched
with Maven by deploy/kafka/kafka.sh, PostgreSQL from the machine's binaries by deploy/postgres/pg.sh,
Keycloak's distribution by deploy/keycloak/keycloak.sh, on a database of that PostgreSQL).
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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

from deploy.keycloak.keycloak_runner import Keycloak

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
        subprocess.run([script, "start", "--data-dir", data_dir, "--port", str(port)], check=True,
                       capture_output=True, text=True)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([script, "stop", "--data-dir", data_dir], check=False, capture_output=True)
            shutil.rmtree(data_dir, ignore_errors=True)


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
        yield Keycloak(url, admin_username=os.environ.get("OTOP_TEST_KEYCLOAK_ADMIN", "admin"),
                       admin_password=os.environ["OTOP_TEST_KEYCLOAK_ADMIN_PASSWORD"],
                       sales_client_secret=os.environ["OTOP_TEST_KEYCLOAK_SALES_SECRET"])
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
    server = LocalKeycloak(scratch_dir("otop-keycloak-"), free_port(), database_url,
                           admin_password=known.get("admin_password") or secrets.token_urlsafe(24),
                           sales_client_secret=known.get("sales_client_secret") or secrets.token_urlsafe(32))
    try:
        server.start()
        if not restored:
            _keep_snapshot(server, snapshot)
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)


def _keycloak_snapshot() -> Path:
    parts = [REPO / "deploy/keycloak/keycloak.sh", *sorted((REPO / "deploy/keycloak").glob("*-realm.json"))]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()[:16]
    return Path.home() / ".cache" / "otop-keycloak" / "test-databases" / f"{digest}.sql"


def _pg_tool(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else name


def _psql(database_url: str, *args: str) -> bool:
    return subprocess.run([_pg_tool("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", database_url, *args],
                          capture_output=True).returncode == 0


def _keep_snapshot(server, snapshot: Path) -> None:
    """The freshly made database (schema, realms, administrator) as a dump, for later sessions."""
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    partial = snapshot.with_suffix(f".{os.getpid()}.partial")
    dumped = subprocess.run([_pg_tool("pg_dump"), "--no-owner", "--no-privileges", "-f", str(partial),
                             server.database_url], capture_output=True)
    if dumped.returncode != 0:
        partial.unlink(missing_ok=True)
        return
    secrets_file = snapshot.with_suffix(".json")
    secrets_file.write_text(json.dumps({"admin_password": server.admin_password,
                                        "sales_client_secret": server.sales_client_secret}))
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
_shared: dict[str, object] = {}


def session_postgres() -> str:
    if "postgres" not in _shared:
        _shared["postgres"] = _session.enter_context(postgres())
    return _shared["postgres"]


def session_keycloak(pg_server: str | None = None) -> Keycloak:
    if "keycloak" not in _shared:
        _shared["keycloak"] = _session.enter_context(keycloak(pg_server or session_postgres()))
    return _shared["keycloak"]


def close_session() -> None:
    _session.close()
    _shared.clear()


atexit.register(close_session)
