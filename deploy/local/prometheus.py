"""Prometheus for the local stack (`python -m deploy.local.stack --with-prometheus`): Debian's `prometheus`
(installed by scripts/setup.sh) with deploy/prometheus/prometheus.yml, each service's job pointed at the
local processes of that service (every replica) instead of compose's DNS names. Scrapes every 5 s."""

import subprocess
from pathlib import Path

import yaml

from deploy.local.processes import REPO
from deploy.runners import wait_ready

CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"
SCRAPE_INTERVAL = "5s"


def local_config(targets: dict[str, list[str]], port: int) -> dict:
    """deploy/prometheus/prometheus.yml with static targets: `targets` maps a job (service) to host:port of
    each of its processes; Prometheus itself answers on `port`. Rule files stay where they are."""
    config = yaml.safe_load(CONFIG.read_text())
    config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = SCRAPE_INTERVAL
    config["global"]["scrape_timeout"] = SCRAPE_INTERVAL
    config["rule_files"] = [str(CONFIG.parent / pattern) for pattern in config.get("rule_files", [])]
    jobs = []
    for job in config["scrape_configs"]:
        name = job["job_name"]
        addresses = [f"127.0.0.1:{port}"] if name == "prometheus" else targets.get(name)
        if addresses is None:
            raise ValueError(f"no local targets for the job {name} of {CONFIG}")
        local = {k: v for k, v in job.items() if not k.endswith("_sd_configs") and k != "static_configs"}
        jobs.append({**local, "static_configs": [{"targets": addresses}]})
    config["scrape_configs"] = jobs
    return config


class LocalPrometheus:
    def __init__(self, state_dir: Path, port: int, targets: dict[str, list[str]]) -> None:
        self.state_dir, self.port, self.targets = state_dir, port, targets
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        (self.state_dir / "data").mkdir(parents=True, exist_ok=True)
        config = self.state_dir / "prometheus.yml"
        config.write_text(yaml.safe_dump(local_config(self.targets, self.port), sort_keys=False))
        log = open(self.state_dir / "prometheus.log", "ab")
        self.process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={self.state_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=7d",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_ready(
            f"{self.url}/-/ready", name="prometheus", timeout=timeout, process=self.process, log=log.name
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
