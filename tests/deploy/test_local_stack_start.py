"""The local stack's start: durable PostgreSQL (fsync on), a state dir inside a private (0700) folder, and
a failed start that stops whatever it had already started."""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg
import pytest

from deploy.local.processes import REPO
from shared.service_names import SERVICES
from tests import harness
from tests.deploy.test_local_stack import lines_of, output_until, processes_naming

pytestmark = pytest.mark.integration


def stack(state: Path, *extra: str) -> tuple[subprocess.Popen, int, int]:
    http_port, kafka_port, pg_port = (
        harness.free_port_run(len(SERVICES)),
        harness.free_port_run(3),  # Kafka: P, its controller P+1, TLS P+2
        harness.free_port(),
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy.local.stack",
            "--state-dir",
            str(state),
            "--http-port",
            str(http_port),
            "--kafka-port",
            str(kafka_port),
            "--pg-port",
            str(pg_port),
            "--no-demo",
            *extra,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return process, kafka_port, pg_port


def remove(state: Path) -> None:
    cluster = state / "pg" / "cluster"  # pg.sh's cluster outside a folder its user cannot enter
    if cluster.is_symlink():
        shutil.rmtree(cluster.resolve(), ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)


def test_a_failed_start_stops_what_it_started():
    """PostgreSQL cannot start (its port is taken): Kafka, started before it, is stopped too."""
    state = harness.scratch_dir("otop-stack-fail-")
    http_port, kafka_port, pg_port = (
        harness.free_port_run(len(SERVICES)),
        harness.free_port_run(3),  # Kafka: P, its controller P+1, TLS P+2
        harness.free_port(),
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", pg_port))
        taken.listen()
        process = subprocess.run(
            [
                sys.executable,
                "-m",
                "deploy.local.stack",
                "--state-dir",
                str(state),
                "--http-port",
                str(http_port),
                "--kafka-port",
                str(kafka_port),
                "--pg-port",
                str(pg_port),
                "--no-demo",
                "--exit-after-start",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
    try:
        output = process.stdout + process.stderr
        assert process.returncode != 0, output
        assert "[2/5] starting PostgreSQL" in output and "stopped." in output, output
        assert (state / "kafka" / "broker.log").exists()  # Kafka had started...
        assert processes_naming(str(state)) == []  # ...and nothing of the stack runs now
    finally:
        remove(state)


@pytest.mark.skipif(
    os.geteuid() != 0, reason="the private-folder case is PostgreSQL's user versus root's folder"
)
def test_the_stack_runs_with_its_state_in_a_private_folder_and_postgres_durable():
    private = Path(tempfile.mkdtemp(prefix="otop-private-"))  # 0700, owned by root
    assert private.stat().st_mode & 0o777 == 0o700
    state = private / "state"
    process, _, pg_port = stack(state)
    lines = lines_of(process)
    try:
        output_until(lines, "Ctrl-C stops everything.", 480)

        async def settings() -> dict:
            conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres")
            try:
                return {
                    name: await conn.fetchval(f"SHOW {name}")
                    for name in ("fsync", "full_page_writes", "synchronous_commit")
                }
            finally:
                await conn.close()

        assert asyncio.run(settings()) == {
            "fsync": "on",
            "full_page_writes": "on",
            "synchronous_commit": "on",
        }
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=90)
    try:
        assert process.returncode == 0
        assert processes_naming(str(state)) == []
    finally:
        remove(state)
        shutil.rmtree(private, ignore_errors=True)
