"""Operations: the Prometheus scrape config passes promtool, compose provisions Prometheus and Grafana with
the dashboard. That the local stack's Prometheus (`--with-prometheus`) really scrapes every replica of every
service and answers every query of the dashboard is checked on the national demo's stack
(tests/deploy/test_national_demo.py: one stack start for both)."""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.local.processes import REPO
from deploy.local.prometheus import CONFIG, local_config
from shared.service_names import SERVICES

DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "otop-mobile.json"


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60)


def dashboard_queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def test_the_scrape_config_passes_promtool_and_scrapes_every_service():
    checked = promtool("check", "config", str(CONFIG))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    jobs = {job["job_name"]: job for job in yaml.safe_load(CONFIG.read_text())["scrape_configs"]}
    for name in SERVICES:  # every replica: compose's DNS answers a service's name with all its containers
        assert jobs[name]["dns_sd_configs"] == [
            {"names": [name], "type": "A", "port": 8000, "refresh_interval": "15s"}
        ]


def test_the_local_config_keeps_the_jobs_and_passes_promtool(tmp_path: Path):
    config = local_config(
        {name: [f"127.0.0.1:{8001 + i}", f"127.0.0.1:{8005 + i}"] for i, name in enumerate(SERVICES)}, 9090
    )
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    checked = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets["sales"] == ["127.0.0.1:8003", "127.0.0.1:8007"] and targets["prometheus"] == [
        "127.0.0.1:9090"
    ]
    with pytest.raises(ValueError, match="no local targets for the job sales"):
        local_config({"registry": [], "scheduling": [], "monitoring": []}, 9090)


def test_compose_provisions_prometheus_and_grafana_with_the_dashboard():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]
    # Its image (Debian's Prometheus) carries the scrape config and the rules; the data is a volume.
    dockerfile = (REPO / prometheus["build"]["dockerfile"]).read_text()
    assert "COPY deploy/prometheus/prometheus.yml deploy/prometheus/alerts.yml /etc/prometheus/" in dockerfile
    assert "--config.file=/etc/prometheus/prometheus.yml" in dockerfile
    assert prometheus["volumes"] == ["prometheus-data:/prometheus"] and grafana["profiles"] == ["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"] if v.startswith("./"))
    provisioning = REPO / "deploy/grafana/provisioning"
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    [source] = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090" and source["uid"] == "prometheus"
    [provider] = yaml.safe_load((provisioning / "dashboards/otop.yml").read_text())["providers"]
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    dashboard = json.loads(DASHBOARD.read_text())
    used = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p.get("targets", [])}
    assert used == {"prometheus"} and len(dashboard_queries()) >= 10
    names = set(re.findall(r"\b(otop_[a-z_]+|process_[a-z_]+|up)\b", " ".join(dashboard_queries())))
    assert {
        "otop_http_request_seconds_bucket",
        "otop_events_consumed_total",
        "otop_consumer_lag",
        "otop_outbox_backlog",
        "otop_dead_lettered_total",
        "up",
    } <= names
