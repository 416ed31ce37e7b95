"""Python handle on deploy/kafka/kafka.sh (KRaft brokers from the Maven Central jars: one node, or a
cluster of three), for the test harness and the local stack. Standard library only.

    from deploy.kafka.kafka_runner import LocalKafka
    from deploy.runners import free_port

    broker = LocalKafka(Path("/tmp/otop-kafka"), free_port())
    bootstrap = broker.start()   # "127.0.0.1:<port>" (SASL_PLAINTEXT); fetches the jars on first use
    broker.ssl_bootstrap, broker.ca_file          # the SASL_SSL listener and the CA that signed its
    certificate
    broker.admin_username, broker.admin_password  # the super user (SCRAM-SHA-256), for provisioning only
    ...
    broker.kill()                # SIGKILL, for fault tests; start() again recovers the same data
    broker.stop()

    cluster = LocalKafkaCluster(Path("/tmp/otop-kafka-3"), 27000)  # ports 27000-27008
    cluster.start()              # "127.0.0.1:27000,127.0.0.1:27003,127.0.0.1:27006"; the same attributes
    cluster.nodes[0].kill()      # one node crashes; the others go on (replication factor 3, min ISR 2)
    cluster.active_controller()  # the node id of the quorum's leader
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deploy.runners import free_port, pid_in, run_script, script_succeeds

SCRIPT = Path(__file__).resolve().with_name("kafka.sh")


class LocalKafka:
    """One broker (KRaft, broker and controller in one JVM) with its state in `data_dir`.

    The data directory is formatted on the first start only: stop()/kill() then start() keeps
    topics, records and committed offsets.

    The controller listener gets its own free port (`controller_port`), not kafka.sh's default P+1:
    Linux gives outgoing connections even source ports first, so with P from bind(0) (odd), P+1 is
    often taken by some client's connection, e.g. one retrying against this very broker before it starts.
    The controller port may differ from one start to the next (the quorum's voters come from the config).
    """

    admin_username = os.environ.get("KAFKA_ADMIN_USERNAME", "otop-admin")  # as kafka.sh names the super user
    replication_factor = 1  # topics' replicas on one node

    def __init__(
        self,
        data_dir: Path,
        port: int,
        controller_port: int | None = None,
        ssl_port: int | None = None,
        *,
        cluster: tuple[int, str, Path] | None = None,
    ) -> None:
        """`cluster`: (node id, the quorum's voters, the shared dir) for a node of a LocalKafkaCluster, which
        fixes every port (the voters name them)."""
        self.data_dir = Path(data_dir)
        self.port = port
        self.cluster = cluster
        self.shared_dir = cluster[2] if cluster else self.data_dir
        self._fixed_controller_port = controller_port is not None
        self.controller_port = controller_port if controller_port is not None else self._other_free_port()
        self.ssl_port = ssl_port if ssl_port is not None else self._other_free_port(self.controller_port)

    def _other_free_port(self, *taken: int) -> int:
        while (port := free_port()) in (self.port, *taken):
            pass
        return port

    @property
    def bootstrap(self) -> str:
        """The SASL_PLAINTEXT listener (services)."""
        return f"127.0.0.1:{self.port}"

    @property
    def ssl_bootstrap(self) -> str:
        """The SASL_SSL listener (what POS integrations reach)."""
        return f"127.0.0.1:{self.ssl_port}"

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM) that signed the broker's TLS certificate."""
        return self.shared_dir / "tls" / "ca.crt"

    @property
    def admin_password(self) -> str:
        """The super user's password, made on the first start."""
        return (self.shared_dir / "admin.password").read_text().strip()

    @property
    def pid(self) -> int | None:
        """The broker's process id from its pid file, or None."""
        return pid_in(self.data_dir / "kafka.pid")

    def _run(self, command: str, *args: str, timeout: float) -> str:
        return run_script(SCRIPT, command, "--data-dir", str(self.data_dir), *args, timeout=timeout)

    def start(self) -> str:
        """Starts the broker, or finds it already running, and returns its bootstrap address once it
        accepts connections. The first call on a machine also downloads the jars (Maven)."""
        node = []
        if self.cluster:
            node_id, voters, shared_dir = self.cluster
            node = ["--node-id", str(node_id), "--voters", voters, "--shared-dir", str(shared_dir)]
        for attempt in range(3):
            try:
                self._run(
                    "start",
                    "--port",
                    str(self.port),
                    "--controller-port",
                    str(self.controller_port),
                    "--ssl-port",
                    str(self.ssl_port),
                    *node,
                    timeout=900,
                )
                return self.bootstrap
            except RuntimeError as exc:
                taken = f"controller port {self.controller_port} on 127.0.0.1 is in use" in str(
                    exc
                ) or f"failed to bind to 127.0.0.1:{self.controller_port}" in str(exc)
                if self._fixed_controller_port or not taken or attempt == 2:
                    raise
                self.controller_port = self._other_free_port(self.ssl_port)
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Graceful stop (SIGTERM; SIGKILL after 30 s). No error if it is not running."""
        self._run("stop", timeout=60)

    def running(self) -> bool:
        return script_succeeds(SCRIPT, "status", "--data-dir", str(self.data_dir))

    def quorum_leader(self) -> int:
        """The node id of the KRaft quorum's leader (the active controller): the Admin API's
        describeMetadataQuorum (deploy/kafka/QuorumStatus.java), asked through this node as the super user."""
        config = self.data_dir / "quorum-client.properties"
        jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required"
        config.write_text(
            f"bootstrap.servers={self.bootstrap}\nsecurity.protocol=SASL_PLAINTEXT\n"
            "sasl.mechanism=SCRAM-SHA-256\n"
            f'sasl.jaas.config={jaas} username="{self.admin_username}" password="{self.admin_password}";\n'
        )
        config.chmod(0o600)
        source = SCRIPT.with_name("QuorumStatus.java")
        command = [
            "java",
            "-Xmx128m",
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-cp",
            f"{_jars_dir()}/*",
        ]
        done = subprocess.run(
            [
                *command,
                f"-Dlog4j2.configurationFile={SCRIPT.with_name('log4j2.properties')}",
                str(source),
                str(config),
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if found := re.search(r"^LeaderId: (\d+)$", done.stdout, re.MULTILINE):
            return int(found.group(1))
        raise RuntimeError(f"no quorum leader in:\n{done.stdout}\n{done.stderr}")

    def kill(self) -> None:
        """SIGKILL the broker (a crash, for fault tests) and wait until it is gone."""
        pid = self.pid
        if pid is None or not self.running():
            return
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        (self.data_dir / "kafka.pid").unlink(missing_ok=True)

    def __enter__(self) -> LocalKafka:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class LocalKafkaCluster:
    """Three KRaft nodes, each a broker and a controller voter (combined roles), on the ports from
    `first_port` on: node i (1-3) listens on first_port + 3 (i - 1) (SASL_PLAINTEXT), the next port
    (its controller) and the one after (SASL_SSL), as one LocalKafka each, its data in `data_dir`/node-<i>.
    What they share is in `data_dir` itself, where a single node keeps it too: the cluster id,
    admin.password, tls/ca.crt. Topics get replication factor 3 and min.insync.replicas 2 (kafka.sh)."""

    admin_username = LocalKafka.admin_username
    replication_factor = 3

    def __init__(self, data_dir: Path, first_port: int, size: int = 3) -> None:
        self.data_dir = Path(data_dir)
        ports = [first_port + 3 * i for i in range(size)]
        voters = ",".join(f"{i + 1}@127.0.0.1:{port + 1}" for i, port in enumerate(ports))
        self.nodes = [
            LocalKafka(
                self.data_dir / f"node-{i + 1}",
                port,
                port + 1,
                port + 2,
                cluster=(i + 1, voters, self.data_dir),
            )
            for i, port in enumerate(ports)
        ]

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    @property
    def ssl_bootstrap(self) -> str:
        return ",".join(node.ssl_bootstrap for node in self.nodes)

    @property
    def ca_file(self) -> Path:
        return self.nodes[0].ca_file

    @property
    def admin_password(self) -> str:
        return self.nodes[0].admin_password

    def node(self, node_id: int) -> LocalKafka:
        return self.nodes[node_id - 1]

    def start(self) -> str:
        """Starts the nodes not running, together (a node is ready once a majority of voters runs)."""
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(LocalKafka.start, [node for node in self.nodes if not node.running()]))
        return self.bootstrap

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(LocalKafka.stop, self.nodes))

    def running(self) -> bool:
        """True while every node runs."""
        return all(node.running() for node in self.nodes)

    def active_controller(self) -> int:
        """The node id of the KRaft quorum's leader (the active controller), asked through a running node."""
        for node in self.nodes:
            if node.running():
                return node.quorum_leader()
        raise RuntimeError("no node of the cluster runs")

    def __enter__(self) -> LocalKafkaCluster:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _jars_dir() -> Path:
    """Where kafka.sh keeps the jars (KAFKA_JARS_DIR, else the cache named by the POM's Kafka version)."""
    if given := os.environ.get("KAFKA_JARS_DIR"):
        return Path(given)
    pom = SCRIPT.with_name("pom.xml").read_text()
    version = re.search(r"<kafka.version>(.*)</kafka.version>", pom)
    assert version, "no <kafka.version> in deploy/kafka/pom.xml"
    return Path.home() / ".cache" / "otop-kafka" / version.group(1) / "libs"


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
