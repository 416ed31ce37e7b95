"""The gateway (deploy/gateway/otop.conf.template, run by Debian's nginx as the local stack runs it) in front
of a recording upstream that stands in for the services and Keycloak: what it routes, the headers it adds
and forwards, its request limits, and TLS with HSTS as compose and Kubernetes run it (issue 21)."""

import datetime
import http.client
import json
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deploy.local.gateway import LocalGateway
from shared.service_names import SERVICES
from tests import harness

REPORT_SECONDS = 1.0  # how long the stand-in takes for a report file (a quarter's PDF takes longer)


@dataclass
class Upstream:
    """Answers every request with what it received (path, headers) as JSON; report routes take
    REPORT_SECONDS. Records requests, and the most report requests it served at once."""

    server: ThreadingHTTPServer
    seen: list[dict] = field(default_factory=list)
    busy: int = 0
    most_busy: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reports_seen(self) -> int:
        return sum("/reports/" in r["path"] for r in self.seen)


def recording_upstream() -> Upstream:
    upstream: Upstream

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            report = "/reports/" in self.path
            with upstream.lock:
                upstream.seen.append({"path": self.path, "headers": dict(self.headers)})
                upstream.busy += report
                upstream.most_busy = max(upstream.most_busy, upstream.busy)
            try:
                if report:
                    time.sleep(REPORT_SECONDS)
                body = json.dumps({"path": self.path, "headers": dict(self.headers)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            finally:
                with upstream.lock:
                    upstream.busy -= report

        do_GET = do_POST = answer

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    upstream = Upstream(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return upstream


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tls.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return folder / "tls.crt", folder / "tls.key"


def web_root(folder: Path) -> Path:
    (folder / "assets").mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text("<!doctype html><title>OTOP</title>")
    (folder / "assets" / "app-1234.js").write_text("console.log('otop')")
    return folder


def gateway(tmp: Path, upstream: Upstream, **options) -> Iterator[LocalGateway]:
    names = (*SERVICES, "keycloak")
    running = LocalGateway(
        tmp / "gateway",
        harness.free_port(),
        dict.fromkeys(names, upstream.url),
        tmp / "gateway.log",
        root=web_root(tmp / "web"),
        **options,
    )
    running.start()
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    upstream = recording_upstream()
    yield upstream
    upstream.server.shutdown()


@pytest.fixture(scope="module")
def plain(upstream) -> Iterator[LocalGateway]:
    tmp = harness.scratch_dir("otop-gateway-")  # nginx's workers (nobody) read the files below it
    try:
        yield from gateway(tmp, upstream)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_the_login_realms_pass_and_the_admin_console_and_master_realm_do_not(plain, upstream):
    """Only what the app and integrations need of Keycloak goes through: the otop and otop-integrations
    realms and the resources their login pages load. The admin console, the admin API and the master
    realm (whose administrator owns every realm) are not routed at all: operators reach them on Keycloak's
    own address."""
    routed = [
        "/auth/realms/otop/.well-known/openid-configuration",
        "/auth/realms/otop/protocol/openid-connect/auth?client_id=otop-web",
        "/auth/realms/otop/protocol/openid-connect/certs",
        "/auth/realms/otop/account/",
        "/auth/realms/otop-integrations/protocol/openid-connect/certs",
        "/auth/resources/abc12/login/keycloak.v2/css/styles.css",
    ]
    refused = [
        "/auth/admin/",
        "/auth/admin/master/console/",
        "/auth/admin/otop/console/",
        "/auth/admin/realms/otop/users",
        "/auth/realms/master/protocol/openid-connect/token",
        "/auth/realms/master/.well-known/openid-configuration",
        "/auth/realms/otop-other/protocol/openid-connect/certs",
        "/auth/realms/otop/../master/protocol/openid-connect/token",
        "/auth/realms/%6Daster/protocol/openid-connect/token",
        "/auth/realms/otop/%2e%2e/master/protocol/openid-connect/token",
        "/auth/realms/otop/..;/master/protocol/openid-connect/token",
        "/auth/realms/otop/account/..%2F..%2Fmaster/",
        "/auth/",
        "/auth/metrics",
        "/auth/health",
    ]
    with httpx.Client(base_url=plain.url, timeout=10) as http:
        for path in routed:
            before = len(upstream.seen)
            assert http.get(path).status_code == 200, path
            assert len(upstream.seen) == before + 1, path
        for path in refused:
            before = len(upstream.seen)
            answer = http.post(path, data={"grant_type": "password"}) if "token" in path else http.get(path)
            assert answer.status_code == 404, path
            assert len(upstream.seen) == before, f"{path} reached Keycloak"


def test_every_location_sends_the_security_headers(plain):
    with httpx.Client(base_url=plain.url, timeout=10) as http:
        answers = {
            path: http.get(path)
            for path in (
                "/",
                "/assets/app-1234.js",
                "/manifest.webmanifest",
                "/api/registry/provinces/72/products",
                "/api/monitoring/provinces/72/market-days",
                "/api/nothing/here",
                "/auth/realms/otop/.well-known/openid-configuration",
                "/auth/admin/",
            )
        }
    for path, answer in answers.items():
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", path
        assert answer.headers.get("Referrer-Policy") == "no-referrer", path
        assert "frame-ancestors" in answer.headers.get("Content-Security-Policy", ""), path
        assert "Strict-Transport-Security" not in answer.headers, path  # plain HTTP: no HSTS
    assert (
        "frame-ancestors 'none'"
        in answers["/api/registry/provinces/72/products"].headers["Content-Security-Policy"]
    )
    assert "script-src 'self'" in answers["/"].headers["Content-Security-Policy"]
    with httpx.Client(base_url=plain.url, timeout=10) as http:  # framed by the admin console's origin
        check = http.get("/auth/realms/otop/protocol/openid-connect/3p-cookies/step1.html")
    assert check.status_code == 200 and "Content-Security-Policy" not in check.headers


def test_the_public_pages_and_robots_txt_are_publicitys_and_a_page_may_read_robots_txt(plain, upstream):
    """/p/ and the site's /robots.txt go to the publicity service. The public pages' policy lets a page
    fetch its own origin (connect-src 'self'): Lighthouse's robots-txt audit reads /robots.txt through the
    page and failed with "CSP violation" without it (docs/benchmarks.md); no script may run there."""
    with httpx.Client(base_url=plain.url, timeout=10) as http:
        for path in (f"/p/72/days/{uuid4()}", "/robots.txt"):  # a new address: not in the gateway's cache
            before = len(upstream.seen)
            answer = http.get(path)
            assert answer.status_code == 200 and upstream.seen[before]["path"] == path, path
        policy = http.get("/p/72").headers["Content-Security-Policy"]
    directives = dict(directive.strip().split(" ", 1) for directive in policy.split(";"))
    assert directives["connect-src"] == "'self'"
    assert directives["default-src"] == "'none'" and "script-src" not in directives


def test_x_forwarded_for_is_the_callers_address_not_what_the_caller_claims(plain):
    with httpx.Client(base_url=plain.url, timeout=10) as http:
        for path in ("/api/registry/provinces/72/products", "/auth/realms/otop/account/"):
            got = http.get(path, headers={"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7"})
            forwarded = {k.lower(): v for k, v in got.json()["headers"].items()}
            assert forwarded["x-forwarded-for"] == "127.0.0.1", path
            assert forwarded.get("x-real-ip") in (None, "127.0.0.1"), path


def parallel(url: str, count: int, method: str = "GET", body: str | None = None) -> list[tuple[int, float]]:
    """`count` requests at once, each on its own connection: (status, seconds) of each. Plain http.client:
    cheap to start, so the requests really are at once on a busy machine."""
    address = urlsplit(url)
    ready = threading.Barrier(count)

    def one(_: int) -> tuple[int, float]:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        try:
            connection.connect()
            ready.wait()
            began = time.monotonic()
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            connection.request(method, f"{address.path}?{address.query}", body=body, headers=headers)
            status = connection.getresponse().status
            return status, time.monotonic() - began
        finally:
            connection.close()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_forty_parallel_report_files_cannot_stall_monitoring(plain, upstream):
    """A committee member asking for 40 quarter PDFs at once: the ones beyond the burst are refused with
    429 at once instead of queuing at the monitoring service; at most a few reach it at a time, and another
    request of the same caller is answered meanwhile."""
    report = f"{plain.url}/api/monitoring/provinces/72/reports/2562/quarters/3?format=pdf"
    before = upstream.reports_seen()
    upstream.most_busy = 0
    with ThreadPoolExecutor(1) as other:
        storm = other.submit(parallel, report, 40)
        time.sleep(0.3)
        began = time.monotonic()
        normal = httpx.get(f"{plain.url}/api/monitoring/provinces/72/market-days", timeout=10)
        normal_s = time.monotonic() - began
        answers = storm.result()
    refused = [seconds for status, seconds in answers if status == 429]
    served = [status for status, _ in answers if status == 200]
    assert normal.status_code == 200 and normal_s < REPORT_SECONDS
    assert len(refused) >= 30 and max(refused) < REPORT_SECONDS, answers
    assert len(served) + len(refused) == 40
    assert upstream.reports_seen() - before == len(served) <= 10
    assert upstream.most_busy <= 4


def test_password_guessing_through_the_token_endpoint_is_slowed_per_caller(plain, upstream):
    token = f"{plain.url}/auth/realms/otop/protocol/openid-connect/token"
    answers = parallel(token, 60, method="POST", body="grant_type=password&username=x")
    statuses = [status for status, _ in answers]
    assert statuses.count(429) >= 30, statuses
    assert statuses.count(200) <= 25


@pytest.fixture(scope="module")
def tls(upstream) -> Iterator[LocalGateway]:
    tmp = harness.scratch_dir("otop-gateway-tls-")
    try:
        yield from gateway(tmp, upstream, tls=self_signed(tmp / "certificate"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_tls_as_compose_and_kubernetes_run_it_sends_hsts_everywhere(tls):
    assert tls.url.startswith("https://")
    with httpx.Client(base_url=tls.url, timeout=10, verify=False) as http:
        for path in ("/", "/api/registry/provinces/72/products", "/auth/realms/otop/account/", "/api/x"):
            answer = http.get(path)
            assert answer.headers["Strict-Transport-Security"].startswith("max-age="), path
            assert answer.headers["X-Content-Type-Options"] == "nosniff", path
            if path.startswith(("/api/registry", "/auth/")):
                forwarded = {k.lower(): v for k, v in answer.json()["headers"].items()}
                assert forwarded["x-forwarded-proto"] == "https", path
