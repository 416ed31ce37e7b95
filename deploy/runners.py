"""What the runners of deploy/ share (Kafka's and Keycloak's scripts, the local stack's services, gateway
and Prometheus): a free port, a script's command run with its output on failure, and the wait until a
started process answers over HTTP. Standard library only."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (the kernel's pick for bind(0))."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _captured(output: bytes | str | None) -> str:
    """What a timed-out command printed (TimeoutExpired holds bytes even with text=True)."""
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def run_script(
    script: Path, command: str, *args: str, timeout: float, env: dict[str, str] | None = None
) -> str:
    """`bash script command args...`: its standard output, or RuntimeError with all it printed if it fails
    or outlasts `timeout` seconds."""
    try:
        done = subprocess.run(
            ["bash", str(script), command, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(
            f"{script.name} {command} timed out after {timeout:.0f}s:\n"
            f"{_captured(exc.stdout)}\n{_captured(exc.stderr)}"
        ) from exc
    if done.returncode != 0:
        raise RuntimeError(
            f"{script.name} {command} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def script_succeeds(script: Path, command: str, *args: str) -> bool:
    """Whether `bash script command args...` exits 0 (e.g. `status`: is it running)."""
    done = subprocess.run(
        ["bash", str(script), command, *args], stdin=subprocess.DEVNULL, capture_output=True
    )
    return done.returncode == 0


def pid_in(pid_file: Path) -> int | None:
    """The process id a script wrote to `pid_file`, or None."""
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def wait_ready(
    url: str,
    *,
    name: str,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | str = "its log",
    interval: float = 0.2,
    context: ssl.SSLContext | None = None,
) -> None:
    """Until `url` answers 200: RuntimeError if `process` exits first, TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(interval)
    raise TimeoutError(f"{name} not ready after {timeout}s; see {log}")
