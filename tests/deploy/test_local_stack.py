"""The README's first command, end to end: the local stack starts Kafka, PostgreSQL and every service,
loads the demo province, answers with its data, and stops cleanly."""

import subprocess
import sys

import pytest

from deploy.local.processes import REPO
from tests import harness

pytestmark = pytest.mark.integration


def test_local_stack_starts_loads_the_demo_and_stops(tmp_path):
    state = harness.scratch_dir("otop-stack-")
    http_port = harness.free_port()
    ports = ["--http-port", str(http_port), "--kafka-port", str(harness.free_port()),
             "--pg-port", str(harness.free_port())]
    # Ports: http_port..+3 must be free too; a random high port makes a clash unlikely.
    done = subprocess.run([sys.executable, "-m", "deploy.local.stack", "--state-dir", str(state), *ports,
                           "--exit-after-start"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "demo products registered: 60/60" in done.stdout
    assert "OTOP Mobile is running" in done.stdout and "stopped." in done.stdout
    for name in ("registry", "scheduling", "sales", "monitoring"):
        log = (state / "logs" / f"{name}.log").read_text()
        assert "Application shutdown complete" in log, log[-2000:]
    subprocess.run(["rm", "-rf", str(state)], check=False)
