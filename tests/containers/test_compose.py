"""The whole system as `docker compose up` runs it, from the images scripts/build-images.sh built,
checked from outside as a user and a POS integration reach it: the gateway's app, a login through Keycloak
(the web app's authorization code flow with PKCE), the demo province's June report as the demo sent it, a
POS client on the published SASL_SSL listener counted exactly, one service scaled to three with a replica
killed mid-stream (no sale lost or doubled), and `docker compose down` leaving nothing behind.

Run by scripts/test-containers.sh (which installs the engine and Compose, builds the images and sets
OTOP_CONTAINER_TEST=1); skipped elsewhere. The tests run in order against one compose project."""

import asyncio
import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from deploy.keycloak.admin import password_grant
from deploy.local.national import INGRESS_TOPIC, amount, pos_message
from shared.kafka_client import kafka_options
from shared.service_names import SERVICES
from shared.settings import KafkaSettings
from tests import harness

UP_TIMEOUT_S = int(os.environ.get("OTOP_CONTAINER_UP_TIMEOUT_S", "900"))
pytestmark = [
    pytest.mark.skipif(
        os.environ.get("OTOP_CONTAINER_TEST") != "1", reason="run by scripts/test-containers.sh"
    ),
    # compose up (the stack fixture) alone may take longer than the suite's 300 s on a busy machine; every
    # step here has its own bound (UP_TIMEOUT_S, the subprocesses' timeouts, settles_at)
    pytest.mark.timeout(UP_TIMEOUT_S + 900),
]

REPO = Path(__file__).resolve().parents[2]
SECRET_NAMES = re.findall(r"\$\{(\w+):\?", (REPO / "docker-compose.yml").read_text())
PROVINCE = "72"


class Stack:
    """One compose project of this test: its name, ports, secrets (generated, in an env file) and state."""

    def __init__(self) -> None:
        self.name = f"otop-ct-{os.getpid()}"
        self.state = harness.scratch_dir("otop-containers-")
        self.state.chmod(0o777)  # the demo container's user writes its summary here
        gateway = harness.free_port_run(3)
        kafka = harness.free_port_run(3)
        self.app = f"https://localhost:{gateway}"
        self.tls = self.state / "tls"  # the gateway's certificate (OTOP_TLS_DIR), self-signed, httpx trusts
        self.tls.mkdir(mode=0o755)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(self.tls / "tls.key"), "-out", str(self.tls / "tls.crt"), "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            capture_output=True, check=True,
        )  # fmt: skip
        (self.tls / "tls.key").chmod(0o644)  # the gateway's user in its container reads it
        self.kafka_bootstrap = ",".join(f"127.0.0.1:{kafka + i}" for i in range(3))
        values = {name: secrets.token_hex(32) for name in SECRET_NAMES}
        values |= {
            "OTOP_GATEWAY_PORT": str(gateway),
            "OTOP_TLS_DIR": str(self.tls),
            "KEYCLOAK_ADMIN": "somchai-admin",
            "OTOP_IDENTITY_PORT": str(gateway + 1),
            "OTOP_PROMETHEUS_PORT": str(gateway + 2),
            "OTOP_KAFKA_TLS_PORT_1": str(kafka),
            "OTOP_KAFKA_TLS_PORT_2": str(kafka + 1),
            "OTOP_KAFKA_TLS_PORT_3": str(kafka + 2),
            "OTOP_KAFKA_PUBLIC_HOST": "127.0.0.1",
            "OTOP_AUTH_PUBLIC_URL": f"{self.app}/auth",
            "OTOP_WEB_ORIGIN": self.app,
            "OTOP_IMAGE_TAG": os.environ.get("OTOP_IMAGE_TAG", "latest"),
        }
        self.env_file = self.state / "compose.env"
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        self.env_file.chmod(0o600)

    def compose(self, *args: str, timeout: float = 600, check: bool = True, **env: str):
        command = ["docker", "compose", "--project-directory", str(REPO), "-p", self.name]
        command += ["--env-file", str(self.env_file), *args]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env={**os.environ, **env}
        )
        if check and done.returncode != 0:
            pytest.fail(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
        return done

    def containers(self, service: str | None = None, running: bool = True) -> list[str]:
        label = f"label=com.docker.compose.project={self.name}"
        filters = ["--filter", label]
        if service:
            filters += ["--filter", f"label=com.docker.compose.service={service}"]
        out = subprocess.run(
            ["docker", "ps", "-q", *([] if running else ["-a"]), *filters],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return out.split()

    def logs(self) -> str:
        return self.compose("logs", "--no-color", "--tail", "60", check=False).stdout[-20000:]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    stack = Stack()
    trusted = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(stack.tls / "tls.crt")  # httpx trusts the gateway's certificate
    try:
        started = time.monotonic()
        up = stack.compose(
            "up", "-d", "--wait", "--wait-timeout", str(UP_TIMEOUT_S), timeout=UP_TIMEOUT_S + 60, check=False
        )
        if up.returncode != 0:
            pytest.fail(f"compose up failed:\n{up.stderr[-4000:]}\n{stack.logs()}")
        print(f"\ncompose up healthy in {time.monotonic() - started:.0f} s")
        yield stack
    finally:
        stack.compose("--profile", "demo", "down", "-v", "--remove-orphans", "-t", "20", check=False)
        if trusted is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = trusted


@pytest.fixture(scope="module")
def demo(stack: Stack) -> dict:
    """The demo accounts and province, loaded by the demo profile's job as the README says; its summary."""
    started = time.monotonic()
    stack.compose(
        "--profile", "demo", "run", "--rm", "-T", "-v", f"{stack.state}:/tmp/otop", "demo", timeout=1800
    )
    print(f"demo loaded in {time.monotonic() - started:.0f} s")
    summary = json.loads((stack.state / "demo.json").read_text())
    summary["passwords"] = json.loads((stack.state / "demo-users.json").read_text())
    return summary


def api(stack: Stack, token: str, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(
        method, f"{stack.app}/api{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60, **kwargs
    )


def officer_token(stack: Stack, demo: dict) -> str:
    token_url = f"{stack.app}/auth/realms/otop/protocol/openid-connect/token"
    user = "demo-officer-72"
    return password_grant(token_url, "otop-cli", user, demo["passwords"][user])["access_token"]


def test_every_service_runs_healthy_as_a_non_root_user_from_the_labelled_images(stack: Stack):
    for service in ("kafka-1", "kafka-2", "kafka-3", "kafka-provisioner", "postgres", "keycloak",
                    "keycloak-db", "gateway", "prometheus", *SERVICES):  # fmt: skip
        [container] = stack.containers(service)
        state = json.loads(
            subprocess.run(
                ["docker", "inspect", container], capture_output=True, text=True, check=True
            ).stdout
        )[0]
        assert state["State"]["Health"]["Status"] == "healthy", (service, state["State"])
        assert state["Config"]["User"] not in ("", "root", "0"), (service, state["Config"]["User"])
        assert state["Config"]["Labels"]["org.opencontainers.image.revision"] not in ("", "unknown")
    # No compiler or test tool in the runtime images.
    [registry] = stack.containers("registry")
    found = subprocess.run(
        ["docker", "exec", registry, "sh", "-c", "command -v gcc cc pip pytest || true"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert found.strip() == ""


def test_the_gateway_serves_the_app_and_a_person_logs_in_through_keycloak(stack: Stack, demo: dict):
    page = httpx.get(f"{stack.app}/", timeout=30)
    assert page.status_code == 200 and '<div id="app">' in page.text, page.text[:500]
    assert "Content-Security-Policy" in page.headers
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")  # TLS here (edge-tls.conf)
    # The web app's login: authorization code with PKCE (client otop-web), Keycloak's login form, all
    # through the gateway's /auth/.
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = f"{stack.app}/"
    auth = f"{stack.app}/auth/realms/otop/protocol/openid-connect"
    with httpx.Client(timeout=60) as browser:
        form_page = browser.get(
            f"{auth}/auth?"
            + urlencode(
                {
                    "client_id": "otop-web",
                    "redirect_uri": redirect_uri,
                    "response_type": "code",
                    "scope": "openid",
                    "state": "s1",
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                }
            )
        )
        assert form_page.status_code == 200, form_page.text[:500]
        action = unescape(re.search(r'<form[^>]+action="([^"]+)"', form_page.text)[1])
        assert action.startswith(f"{stack.app}/auth/"), action  # the public address, through the gateway
        user = "demo-officer-72"
        # Keycloak's login cookies go along as the header a browser sends.
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.cookies.jar)
        answer = browser.post(
            urljoin(str(form_page.url), action),
            headers={"Cookie": cookies},
            data={"username": user, "password": demo["passwords"][user], "credentialId": ""},
        )
        assert answer.status_code == 302, answer.text[:1000]
        location = answer.headers["location"]
        assert location.startswith(redirect_uri), location
        code = parse_qs(urlparse(location).query)["code"][0]
        tokens = browser.post(
            f"{auth}/token",
            data={
                "grant_type": "authorization_code",
                "client_id": "otop-web",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
        )
        assert tokens.status_code == 200, tokens.text
    token = tokens.json()["access_token"]
    products = api(stack, token, "GET", f"/registry/provinces/{PROVINCE}/products", params={"limit": 1})
    assert products.status_code == 200 and products.json()["total"] == demo["products"]
    assert api(stack, "not-a-token", "GET", f"/registry/provinces/{PROVINCE}/products").status_code == 401
    for name in SERVICES:  # nothing internal through the gateway
        assert httpx.get(f"{stack.app}/api/{name}/internal/metrics", timeout=10).status_code == 404


def test_the_june_report_through_the_gateway_is_what_the_demo_sent(stack: Stack, demo: dict):
    token = officer_token(stack, demo)
    june = demo["months"]["2019-06"]
    report = api(stack, token, "GET", f"/monitoring/provinces/{PROVINCE}/reports/2562/6")
    assert report.status_code == 200, report.text
    summary = report.json()["results"]["summary"]
    assert (summary["sales"], Decimal(summary["sales_thb"])) == (june["sales"], Decimal(june["amount_thb"]))
    assert summary["market_days_held"] == june["market_days"] == 4
    assert report.json()["progress"]["evaluations"]["evaluations"] == june["evaluations"] > 0
    by_month = api(stack, token, "GET", f"/sales/provinces/{PROVINCE}/sales/totals", params={"by": "month"})
    [row] = [item for item in by_month.json()["items"] if item["key"] == "2019-06"]
    assert (row["sales"], Decimal(row["amount_thb"])) == (june["sales"], Decimal(june["amount_thb"]))


def test_the_gateway_routes_the_budget_and_the_public_pages_from_its_cache(stack: Stack, demo: dict):
    proposals = api(stack, officer_token(stack, demo), "GET", f"/budget/provinces/{PROVINCE}/proposals")
    assert proposals.status_code == 200 and isinstance(proposals.json(), list), proposals.text
    # /p/ is the publicity service's, cached a few seconds by the gateway (OTOP_GATEWAY_CACHE_DIR)
    first, second = (httpx.get(f"{stack.app}/p/", timeout=30) for _ in range(2))
    assert first.status_code == second.status_code == 200, first.text[:500]
    assert "<html" in first.text.lower()
    assert second.headers["X-Cache"] == "HIT", second.headers


class Pos:
    """An outside POS system of the demo province: registered through the gateway by the officer, sending
    signed sales to the published SASL_SSL listeners as its own Kafka principal, with the cluster's CA."""

    def __init__(self, stack: Stack, demo: dict, name: str) -> None:
        self.stack, self.token = stack, officer_token(stack, demo)
        registered = api(
            stack, self.token, "POST", f"/sales/provinces/{PROVINCE}/integrations", json={"name": name}
        )
        assert registered.status_code == 201, registered.text
        self.integration = registered.json()
        ca = stack.state / "kafka-ca.crt"
        if not ca.exists():
            stack.compose("cp", "kafka-1:/var/lib/otop-kafka-shared/tls/ca.crt", str(ca))
        self.settings = KafkaSettings(
            kafka_bootstrap=stack.kafka_bootstrap,
            kafka_username=self.integration["kafka_username"],
            kafka_password=SecretStr(self.integration["kafka_password"]),
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="SCRAM-SHA-512",  # README: the only one the TLS listener takes
            kafka_ca_file=ca,
        )
        days = api(
            stack,
            self.token,
            "GET",
            f"/scheduling/provinces/{PROVINCE}/market-days",
            params={"from": "2019-07-01", "to": "2019-07-31"},
        ).json()
        self.day = days[0]
        lineup = api(
            stack, self.token, "GET", f"/scheduling/provinces/{PROVINCE}/market-days/{self.day['id']}/lineup"
        ).json()
        self.products = [i["product_id"] for i in lineup["invitations"] if i["status"] == "accepted"]
        assert self.products

    def sales(self, count: int, run: str) -> list[dict]:
        return [
            {
                "integration_sale_id": f"{run}-{n:05d}",
                "market_day_id": self.day["id"],
                "product_id": self.products[n % len(self.products)],
                "quantity": str(1 + n % 3),
                "unit_price_thb": "35.50",
                "sold_at": f"{self.day['day']}T10:{n % 60:02d}:00+07:00",
            }
            for n in range(count)
        ]

    def counted(self) -> tuple[int, Decimal]:
        """The day's sales as the sales service totals them."""
        totals = api(
            self.stack,
            self.token,
            "GET",
            f"/sales/provinces/{PROVINCE}/sales/totals",
            params={"by": "market_day", "from": self.day["day"], "to": self.day["day"]},
        )
        assert totals.status_code == 200, totals.text
        rows = [item for item in totals.json()["items"] if item["key"] == self.day["id"]]
        return (rows[0]["sales"], Decimal(rows[0]["amount_thb"])) if rows else (0, Decimal(0))

    async def send(self, sales: list[dict], per_second: float | None = None) -> None:
        key = {"key_id": self.integration["key_id"], "signing_key": self.integration["signing_key"]}
        producer = AIOKafkaProducer(**kafka_options(self.settings), acks="all", enable_idempotence=True)
        await producer.start()
        try:
            for n, sale in enumerate(sales):
                message_key, value, headers = pos_message(PROVINCE, key, sale)
                await (await producer.send(INGRESS_TOPIC, value, key=message_key, headers=headers))
                if per_second and n % 10 == 9:
                    await asyncio.sleep(10 / per_second)
        finally:
            await producer.stop()

    def settles_at(self, expected: tuple[int, Decimal], timeout: float = 300) -> None:
        """The day's totals reach `expected` and stay there (nothing doubled arrives late)."""
        deadline = time.monotonic() + timeout
        while (now := self.counted()) != expected:
            assert now[0] <= expected[0], f"more sales than sent: {now} > {expected}"
            assert time.monotonic() < deadline, f"after {timeout:.0f} s: {now}, expected {expected}"
            time.sleep(2)
        time.sleep(10)
        assert self.counted() == expected


def total(sales: list[dict]) -> Decimal:
    return sum((amount(int(s["quantity"]), Decimal(s["unit_price_thb"])) for s in sales), Decimal(0))


def test_a_pos_client_on_the_published_tls_listener_gets_its_sales_counted_exactly(stack: Stack, demo: dict):
    pos = Pos(stack, demo, "POS on the TLS listener")
    before = pos.counted()
    sales = pos.sales(300, f"tls-{uuid.uuid4().hex[:8]}")
    asyncio.run(pos.send(sales))
    asyncio.run(pos.send(sales[:50]))  # a POS resending what it is unsure of: counted once
    pos.settles_at((before[0] + len(sales), before[1] + total(sales)))


def test_sales_scaled_to_three_with_one_killed_mid_stream_lose_and_double_nothing(stack: Stack, demo: dict):
    stack.compose(
        "up", "-d", "--no-deps", "--wait", "--wait-timeout", "600", "sales", timeout=700, SALES_REPLICAS="3"
    )
    replicas = stack.containers("sales")
    assert len(replicas) == 3
    pos = Pos(stack, demo, "POS during a replica's loss")
    before = pos.counted()
    sales = pos.sales(1200, f"kill-{uuid.uuid4().hex[:8]}")

    async def stream_and_kill() -> None:
        sending = asyncio.create_task(pos.send(sales, per_second=60))
        await asyncio.sleep(8)  # mid-stream
        assert not sending.done()
        killed = await asyncio.create_subprocess_exec(
            "docker", "kill", replicas[0], stdout=asyncio.subprocess.DEVNULL
        )
        assert await killed.wait() == 0
        await sending

    asyncio.run(stream_and_kill())
    pos.settles_at((before[0] + len(sales), before[1] + total(sales)))
    assert len(stack.containers("sales")) >= 2


def test_compose_down_leaves_nothing_running(stack: Stack):
    stack.compose("--profile", "demo", "down", "-v", "--remove-orphans", "-t", "20")
    assert stack.containers(running=False) == []
    volumes = subprocess.run(
        ["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={stack.name}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    networks = subprocess.run(
        ["docker", "network", "ls", "-q", "--filter", f"label=com.docker.compose.project={stack.name}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert volumes.strip() == "" and networks.strip() == ""
