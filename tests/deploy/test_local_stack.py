"""The README's first command, end to end: the local stack starts Kafka, PostgreSQL, Keycloak and every
service, makes the demo accounts, loads the demo province through the services' APIs as the demo officer,
answers with its data to tokens Keycloak issues, and Ctrl-C stops it all."""

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from deploy.keycloak.admin import password_grant
from deploy.local.accounts import one_time_codes
from deploy.local.processes import REPO, local_urls
from shared.service_names import SERVICES
from tests import harness

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(2400),
]  # two starts; a first Keycloak start takes minutes when busy
START_TIMEOUT_S = 900


def lines_of(process: subprocess.Popen) -> "queue.Queue[str | None]":
    """The process's output, line by line (None at its end), read on a thread so waits can time out."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def output_until(lines: "queue.Queue[str | None]", marker: str, timeout: float) -> str:
    seen, deadline = [], time.monotonic() + timeout
    while marker not in "".join(seen[-1:]):
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no {marker!r} after {timeout} s:\n" + "".join(seen)[-5000:]) from None
        if line is None:
            raise AssertionError(f"the stack ended before {marker!r}:\n" + "".join(seen)[-5000:])
        seen.append(line)
    return "".join(seen)


def processes_naming(*needles: str) -> list[str]:
    """Command lines of running processes that contain any of `needles`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if proc.name.isdigit() and int(proc.name) != os.getpid() and any(n in cmdline for n in needles):
            found.append(f"{proc.name}: {cmdline[:300]}")
    return found


def test_local_stack_loads_the_demo_province_and_ctrl_c_stops_everything():
    state = harness.scratch_dir("otop-stack-")
    # The services' HTTP ports follow the first, outside the ephemeral range (no client takes one).
    http_port, kafka_port, pg_port = (
        harness.free_port_run(len(SERVICES)),
        harness.free_port_run(3),  # Kafka: P, its controller P+1, TLS P+2
        harness.free_port(),
    )
    gateway_port, keycloak_port = harness.free_port(), harness.free_port()
    stack = subprocess.Popen(
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
            "--gateway-port",
            str(gateway_port),
            "--keycloak-port",
            str(keycloak_port),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # its own process group, so Ctrl-C can be sent to it as a terminal would
    lines = lines_of(stack)
    try:
        started = output_until(lines, "Ctrl-C stops everything.", START_TIMEOUT_S)
        urls = local_urls(http_port)
        # The app's address and the demo users with their passwords, no token; tokens come from Keycloak,
        # which
        # browsers reach through the gateway (its /auth/ is the tokens' issuer).
        app = f"http://127.0.0.1:{gateway_port}"
        assert re.search(rf"^\s+app\s+{re.escape(app)}/$", started, re.MULTILINE), started
        keycloak = f"{app}/auth"
        # The admin console is on Keycloak's own address, never through the app's gateway (issue 21).
        assert f"http://127.0.0.1:{keycloak_port}/auth/admin/otop/console/" in started
        assert f"{keycloak}/admin/" not in started
        passwords = dict(re.findall(r"^  (demo-[\w-]+) +password (\S+) ", started, re.M))
        assert set(passwords) == {"demo-department", "demo-officer-72", "demo-committee-72"}
        assert json.loads((state / "demo-users.json").read_text()) == passwords
        assert "eyJ" not in started  # no raw token printed
        token_url = f"{keycloak}/realms/otop/protocol/openid-connect/token"

        def login(user: str) -> str:  # the department account must give its one-time code (issue 21)
            codes = one_time_codes(state, user)  # counts the codes the stack's own demo used
            code = codes() if codes else None
            return password_grant(token_url, "otop-cli", user, passwords[user], code)["access_token"]

        officer, department, member = (
            login(u) for u in ("demo-officer-72", "demo-department", "demo-committee-72")
        )
        for name in SERVICES:
            assert f"{urls[name]}/internal/docs" in started
        summary = json.loads((state / "demo.json").read_text())
        assert f"[7/7] demo loaded in {summary['seconds']:.1f} s" in started

        def get(service: str, path: str, token: str = officer, **params) -> dict:
            response = httpx.get(
                f"{urls[service]}{path}",
                params=params,
                timeout=30,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            return response.json()

        # The registry: ~100 producers, some paused for a raw-material shortage, ~300 products.
        assert summary["producers"] == 100 and 280 <= summary["products"] <= 340
        assert get("registry", "/provinces/72/products", limit=1)["total"] == summary["products"]
        assert get("registry", "/provinces/72/producers", limit=1)["total"] == summary["producers"]
        paused = get("registry", "/provinces/72/producers", available="false", limit=100)["items"]
        assert len(paused) == summary["paused"] > 0 and all(p["unavailable_reason"] for p in paused)
        assert (
            get("registry", "/products", department, province="72", limit=1)["total"] == summary["products"]
        )

        # Scheduling: 16 market days June-September 2019, all held, each lineup at the target.
        days = get("scheduling", "/provinces/72/market-days", **{"from": "2019-06-01", "to": "2019-09-30"})
        assert len(days) == summary["market_days"] == 16 and {d["status"] for d in days} == {"held"}
        lineup = get("scheduling", f"/provinces/72/market-days/{days[0]['id']}/lineup")
        assert lineup["accepted"] >= lineup["products_target"] == 20
        assert summary["declined"] > 0 and summary["invited"] >= 16 * 20 + summary["declined"]

        # Sales, as the sales service totals them and as each month's report shows them: what the demo sent.
        by_month = {
            item["key"]: item for item in get("sales", "/provinces/72/sales/totals", by="month")["items"]
        }
        for month, sent in summary["months"].items():
            assert sent["sales"] > 0 and Decimal(sent["amount_thb"]) > 0
            assert by_month[month]["sales"] == sent["sales"]
            assert Decimal(by_month[month]["amount_thb"]) == Decimal(sent["amount_thb"])
            report = get("monitoring", f"/provinces/72/reports/{month[:4]}/{int(month[5:])}")
            results = report["results"]["summary"]
            assert (results["sales"], Decimal(results["sales_thb"])) == (
                sent["sales"],
                Decimal(sent["amount_thb"]),
            )
            assert results["market_days_held"] == results["markets_counted"] == sent["market_days"] == 4
            assert report["progress"]["evaluations"]["evaluations"] == sent["evaluations"] > 0
            assert report["results"]["best_sellers"] and report["results"]["invitations_declined"] is not None
            assert report["issues"]["problems"] and report["issues"]["recommendations"]
        june = get("monitoring", "/provinces/72/reports/2562/6")
        assert june["progress"]["activities"] and june["progress"]["committees"][0]["members"] == 8
        assert june["plan"]["rows"][0]["market_days_per_month"] == 4
        assert (
            get("monitoring", "/provinces/72/reports/2562/6", member)["results"] == june["results"]
        )  # the committee

        # The CLI gets its token from Keycloak too (the stack's demo user), and never signs one.
        cli = [
            sys.executable,
            "-m",
            "deploy.local.cli",
            "--state-dir",
            str(state),
            "--http-port",
            str(http_port),
        ]
        printed = subprocess.run(
            [*cli, "token", "--user", "demo-department"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        assert get("registry", "/products", printed, province="72", limit=1)["total"] == summary["products"]

        # The gateway: the app at /, each service under /api/<service>/ (the same answers), nothing internal.
        page = httpx.get(f"{app}/", timeout=10)
        assert page.status_code == 200 and '<div id="app">' in page.text
        assert "Content-Security-Policy" in page.headers
        through = httpx.get(
            f"{app}/api/monitoring/provinces/72/reports/2562/6",
            timeout=30,
            headers={"Authorization": f"Bearer {officer}"},
        )
        assert through.status_code == 200 and through.json()["results"] == june["results"]
        for name in SERVICES:
            for internal in ("metrics", "docs", "openapi.json", "health/ready"):
                assert httpx.get(f"{app}/api/{name}/{internal}", timeout=10).status_code == 404
    finally:
        os.killpg(stack.pid, signal.SIGINT)  # Ctrl-C
        try:
            stack.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
            raise
    rest = []
    while (line := lines.get(timeout=10)) is not None:
        rest.append(line)
    assert stack.returncode == 0 and "stopped." in "".join(rest), "".join(rest)[-3000:]
    for name in SERVICES:
        log = (state / "logs" / f"{name}.log").read_text()
        assert "Application shutdown complete" in log, log[-2000:]
    ports = [f"--port {http_port + i}" for i in range(len(SERVICES))]
    assert processes_naming(str(state), *ports) == []

    # Started again on the same state: the same accounts and passwords, the demo not loaded twice.
    again = subprocess.run(
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
            "--keycloak-port",
            str(keycloak_port),
            "--exit-after-start",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "the demo province is loaded already" in again.stdout
    assert dict(re.findall(r"^  (demo-[\w-]+) +password (\S+) ", again.stdout, re.M)) == passwords
    assert processes_naming(str(state), *ports) == []
    subprocess.run(["rm", "-rf", str(state)], check=False)
