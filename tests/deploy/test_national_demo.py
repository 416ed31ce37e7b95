"""The national demo end to end at a small scale, as docs/operations.md runs it: the local stack (empty, two
replicas of every service, Prometheus), the CLI's `national-demo` loading provinces through the APIs (a
department's token from Keycloak) and signed POS messages (each province's integration its own Kafka
principal) with progress, the services answering with what was sent, and Prometheus scraping every replica
and answering every query of the dashboard; then, on the stopped stack's state, the restore drill:
monitoring's database restored from a backup catches up from Kafka to the same reports (and without setting
its offsets back it would not: the drill's control). One stack start for all of it: Keycloak's first start
takes minutes on a busy machine."""

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal

import httpx
import pytest

from deploy.local.processes import REPO, local_urls
from shared.service_names import SERVICES
from tests import harness
from tests.deploy.test_local_stack import START_TIMEOUT_S, lines_of, output_until
from tests.deploy.test_prometheus import dashboard_queries

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]


def cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deploy.local.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_national_demo_loads_through_the_apis_and_the_restore_drill_gets_the_same_reports():
    state = harness.scratch_dir("otop-national-")
    http_port, kafka_port, pg_port = (
        harness.free_port_run(2 * len(SERVICES)),
        harness.free_port_run(3),  # Kafka: P, its controller P+1, TLS P+2
        harness.free_port(),
    )
    ports = ["--http-port", str(http_port), "--kafka-port", str(kafka_port), "--pg-port", str(pg_port)]
    prometheus_port = harness.free_port()
    stack = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy.local.stack",
            "--state-dir",
            str(state),
            *ports,
            "--gateway-port",
            str(harness.free_port()),
            "--keycloak-port",
            str(harness.free_port()),
            "--no-demo",
            "--replicas",
            "2",
            "--with-prometheus",
            "--prometheus-port",
            str(prometheus_port),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = lines_of(stack)
    try:
        started = output_until(lines, "Ctrl-C stops everything.", START_TIMEOUT_S)
        assert f"prometheus  http://127.0.0.1:{prometheus_port}" in started
        load = [
            "--http-port",
            str(http_port),
            "--state-dir",
            str(state),
            "national-demo",
            "--kafka-bootstrap",
            f"127.0.0.1:{kafka_port}",
            "--kafka-ssl-bootstrap",
            f"127.0.0.1:{kafka_port + 2}",  # the stack's TLS listener: integrations log in there only
            "--scale",
            "0.001",
            "--provinces",
            "72",
            "83",
            "--months",
            "6",
        ]
        loaded = cli(*load)
        assert loaded.returncode == 0, loaded.stderr[-5000:]
        for progress in (
            "[1/5] registry",
            "[3/5] month 1/1 (2019-06)",
            "[5/5] every report counts what was sent",
            "national demo loaded in",
        ):
            assert progress in loaded.stderr, loaded.stderr[-3000:]
        summary = json.loads((state / "national.json").read_text())
        assert set(summary["provinces"]) == {"72", "83"} and summary["products"] == 2 * 48
        assert summary["market_days"] == summary["days_held"] == 8 and summary["evaluations"] == 16
        assert summary["sales"] > 8 * 20 and summary["declined"] >= 1

        urls, token = (
            local_urls(http_port),
            cli("--state-dir", str(state), "token", "--user", "demo-department").stdout,
        )
        headers = {"Authorization": f"Bearer {token.strip()}"}
        for code, province in summary["provinces"].items():
            sent = province["months"]["2019-06"]
            products = httpx.get(
                f"{urls['registry']}/provinces/{code}/products", params={"limit": 1}, headers=headers
            ).json()
            assert products["total"] == province["products"] == 48
            [june] = httpx.get(
                f"{urls['sales']}/provinces/{code}/sales/totals", params={"by": "month"}, headers=headers
            ).json()["items"]
            assert (june["sales"], Decimal(june["amount_thb"])) == (
                sent["sales"],
                Decimal(sent["amount_thb"]),
            )
            days = httpx.get(
                f"{urls['scheduling']}/provinces/{code}/market-days",
                params={"month": "2019-06"},
                headers=headers,
            ).json()
            assert [d["status"] for d in days] == ["held"] * 4
            for day in days:  # 20 products or more each market day, after the declines were replaced
                lineup = httpx.get(
                    f"{urls['scheduling']}/provinces/{code}/market-days/{day['id']}/lineup", headers=headers
                ).json()
                assert lineup["accepted"] >= lineup["products_target"] >= 20
        again = cli(*load)
        assert again.returncode != 0 and "has products already" in again.stderr
        prometheus_scrapes_every_replica(prometheus_port, http_port)
    finally:
        os.killpg(stack.pid, signal.SIGINT)
        stack.wait(timeout=120)
    assert stack.returncode == 0

    drill = subprocess.run(
        [sys.executable, "-m", "deploy.local.restore_drill", "--state-dir", str(state), *ports],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert drill.returncode == 0, drill.stderr[-5000:]
    result = json.loads(drill.stdout)
    assert result["same_reports"] is True and result["restore"]["reports_differing"] == 0
    assert result["restore"]["reports_compared"] == 2 * 4 + 4  # two provinces' and the nation's four months
    assert result["control"]["reports_differing"] >= 1 and result["restore"]["records_replayed"] > 0
    assert result["after_backup"]["late_sales"] == 2 * 40
    subprocess.run(["rm", "-rf", str(state)], check=False)


def prometheus_scrapes_every_replica(port: int, http_port: int) -> None:
    """The stack's Prometheus scrapes /internal/metrics of both replicas of every service, both monitoring
    replicas consume sales in one group, and every panel of the Grafana dashboard is a valid query."""
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=30)

    def query(expr: str) -> list[dict]:
        answer = api.get("/query", params={"query": expr}).json()
        assert answer["status"] == "success", (expr, answer)
        return answer["data"]["result"]

    targets = api.get("/targets").json()["data"]["activeTargets"]
    up = {(t["labels"]["job"], t["scrapeUrl"]) for t in targets if t["health"] == "up"}
    wanted = {
        (name, f"http://127.0.0.1:{http_port + len(SERVICES) * r + i}/internal/metrics")
        for r in range(2)
        for i, name in enumerate(SERVICES)
    }
    assert wanted | {("prometheus", f"http://127.0.0.1:{port}/metrics")} == up, targets
    assert {r["metric"]["job"]: int(r["value"][1]) for r in query("sum by (job) (up)")} == {
        **dict.fromkeys(SERVICES, 2),
        "prometheus": 1,
    }
    # Both replicas of monitoring consume sales in one consumer group: each is assigned some partitions.
    assert len(query('count by (instance) (otop_consumer_lag{consumer="monitoring.sales"})')) == 2
    for expr in dashboard_queries():  # every panel's query is valid PromQL over what the services export
        query(expr)
    assert query('process_resident_memory_bytes{job="sales"}') and query("otop_outbox_backlog")
    assert query('sum(otop_events_consumed_total{consumer="monitoring.sales"})')
