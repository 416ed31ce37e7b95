"""A producer's invitation link carries its credential, the token, in the path
(/api/scheduling/public/invitations/<token>): the gateway's access and error logs and the scheduling
service's uvicorn access log, as compose and Kubernetes run them, never show it (issue 21). The real logs are
read after real requests: the scheduling service as a process with uvicorn's access log on, behind the
gateway of deploy/gateway/otop.conf.template logging in its format `otop`; then, with the service stopped,
the gateway's error path (502)."""

import re
import shutil
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest

from deploy.local.gateway import GATEWAY, LocalGateway
from deploy.local.processes import ServiceProcess
from services.scheduling.domain import InvitationLink
from services.scheduling.main import spec
from shared.service_names import SERVICES
from tests import harness

KEY = "invitation-link-test-key-0123456789abcdef"


def test_the_gateway_image_logs_requests_in_the_format_that_hides_link_tokens():
    """Every access log of the gateway image uses the format otop (the one the test below reads)."""
    image = (GATEWAY / "nginx.conf").read_text()
    access_logs = re.findall(r"^\s*access_log\s+([^;]+);", image, re.MULTILINE)
    assert access_logs and all(line.split()[-1] == "otop" for line in access_logs), access_logs


@pytest.mark.integration
async def test_access_and_error_logs_never_show_a_links_token(database_url, kafka):
    token = InvitationLink(uuid4(), "72", datetime.now(UTC) + timedelta(days=3)).token(KEY)
    signature = token.rsplit(".", 1)[1]
    folder = harness.scratch_dir("otop-link-logs-")  # nginx's workers (nobody) read the files below it
    (folder / "web").mkdir()
    (folder / "web" / "index.html").write_text("<!doctype html><title>OTOP</title>")
    scheduling = ServiceProcess(
        "scheduling",
        harness.free_port(),
        {
            "OTOP_DATABASE_URL": database_url,
            **await kafka.service_env(spec),
            **harness.session_keycloak().service_env(),
            "OTOP_INVITATION_LINK_KEY": KEY,
        },
        folder / "scheduling.log",
        access_log=True,  # as compose and Kubernetes run it
    )
    nowhere = f"http://127.0.0.1:{harness.free_port()}"
    gateway = LocalGateway(
        folder / "gateway",
        harness.free_port(),
        {**dict.fromkeys((*SERVICES, "keycloak"), nowhere), "scheduling": scheduling.url},
        folder / "gateway.log",
        root=folder / "web",
        access_log=folder / "access.log",
    )
    paths = [
        f"/api/scheduling/public/invitations/{token}",
        f"/api/scheduling/public/invitations/{token}/accept",
        f"/api/scheduling//public/invitations%2F{token}",
    ]
    try:
        scheduling.start()
        scheduling.wait_ready()
        gateway.start()
        gateway.wait_ready()
        with httpx.Client(base_url=gateway.url, timeout=30) as http:
            answered = [http.post(path) if path.endswith("/accept") else http.get(path) for path in paths]
            assert [a.status_code for a in answered] == [404, 404, 404]  # signed, never issued: it did arrive
            scheduling.stop()
            assert http.get(paths[0]).status_code == 502  # nginx's error path: the service is away
    finally:
        scheduling.stop()
        gateway.stop()
    logs = {name: (folder / name).read_text() for name in ("access.log", "gateway.log", "scheduling.log")}
    shutil.rmtree(folder, ignore_errors=True)

    for name, text in logs.items():
        assert signature not in text and token not in text, f"the token is in {name}:\n{text[-3000:]}"
    # ... while the requests are logged, the token's place marked.
    assert logs["access.log"].count("/public/invitations/<token>") == 3, logs["access.log"]
    assert '"GET /api/scheduling/public/invitations/<token> HTTP/1.1" 502' in logs["access.log"]
    assert "invitations%2F<token>" in logs["access.log"]
    assert '"POST /public/invitations/<token>/accept HTTP/1.1" 404' in logs["scheduling.log"]
