"""Run service processes (uvicorn) on this machine: used by the local stack and by end-to-end tests."""

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from deploy.runners import wait_ready
from shared.service_names import SERVICES

REPO = Path(__file__).resolve().parents[2]


def local_urls(first_port: int, host: str = "127.0.0.1") -> dict[str, str]:
    """Each service's base URL on this machine, as the local stack runs them."""
    return {name: f"http://{host}:{first_port + i}" for i, name in enumerate(SERVICES)}


@dataclass
class ServiceProcess:
    name: str  # one of SERVICES
    port: int
    env: dict[str, str]
    log_path: Path
    factory: str = ""  # the uvicorn app factory; default services.<name>.main:app
    access_log: bool = False  # uvicorn's access log, as compose and Kubernetes run it (off locally)
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                self.factory or f"services.{self.name}.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *([] if self.access_log else ["--no-access-log"]),
            ],
            cwd=REPO,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            # a Ctrl-C in the terminal reaches the caller only, which stops it in order
            start_new_session=True,
        )

    @property
    def started(self) -> subprocess.Popen[bytes]:
        """The process, once start() ran."""
        if self.process is None:
            raise RuntimeError(f"{self.name} was not started")
        return self.process

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until /health/ready answers 200 (database reachable and Kafka consumers running)."""
        wait_ready(
            f"{self.url}/health/ready",
            name=self.name,
            timeout=timeout,
            process=self.started,
            log=self.log_path,
        )

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (graceful: uvicorn runs the shutdown of consumers and relay), then SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
