"""Python handle on deploy/kafka/kafka.sh, for tests and the local stack (stdlib only)."""

import os
import signal
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).with_name("kafka.sh")


class LocalKafka:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = Path(data_dir), port

    def _run(self, *args: str) -> str:
        done = subprocess.run(["bash", str(SCRIPT), *args, "--data-dir", str(self.data_dir)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"kafka.sh {args[0]} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self) -> str:
        """Starts the broker (or finds it running) and returns its bootstrap address."""
        self._run("start", "--port", str(self.port))
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._run("stop")

    def kill(self) -> None:
        """SIGKILL, for fault tests."""
        pid_file = self.data_dir / "kafka.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
            pid_file.unlink()
