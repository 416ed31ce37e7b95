"""The HTTP guards every service has (shared/service.py, issue 14 findings 2 and 6), on the real app
driven as an ASGI server drives it: the request body limit is checked before the body is read and
before any authentication work; internal paths are not for requests that came through a proxy."""

import asyncio

import pytest

from services.registry.main import spec as registry_spec
from shared import auth
from shared.service import create_app
from shared.settings import ServiceSettings
from tests.conftest import bearer, oidc_settings

MiB = 1024 * 1024
JSON_BODY_LIMIT = MiB  # the limit for JSON bodies
IMPORT_LIMIT = 8_000_000  # services/registry/api.py: the upload route's own max_body_size


@pytest.fixture(scope="module")
def app():
    settings = ServiceSettings(
        service_name="registry",
        database_url="postgresql://unused",
        kafka_username="unused",
        kafka_password="unused",
        **oidc_settings(),
    )
    app = create_app(registry_spec, settings)  # not started: no route below gets to use the database
    app.state.db, app.state.settings = None, settings
    app.state.token_verifier = auth.TokenVerifier.from_settings(settings)  # the session's Keycloak
    return app


@pytest.fixture
def token_checks(monkeypatch) -> list:
    """Every bearer token the app verifies (authentication work), recorded."""
    checked, verify = [], auth.TokenVerifier.verify

    async def counted(self, token: str):
        checked.append(token)
        return await verify(self, token)

    monkeypatch.setattr(auth.TokenVerifier, "verify", counted)
    return checked


async def request(
    app, method: str, path: str, chunks: list[bytes], headers: dict[str, str], declare_length: bool = True
) -> tuple[int, int]:
    """The response status, and how many body chunks the app took from the server."""
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ] or [{"type": "http.request", "body": b"", "more_body": False}]
    taken = 0

    async def receive():
        nonlocal taken
        if pending:
            taken += 1
            return pending.pop(0)
        await asyncio.sleep(3600)

    sent = []

    async def send(message):
        sent.append(message)

    fields = {**headers, "content-type": "application/json"}
    if declare_length:
        fields["content-length"] = str(sum(len(chunk) for chunk in chunks))
    else:
        fields["transfer-encoding"] = "chunked"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in fields.items()],
        "server": ("127.0.0.1", 8001),
        "client": ("127.0.0.1", 40000),
    }
    await app(scope, receive, send)
    return sent[0]["status"], taken


async def test_an_oversized_json_body_gets_413_before_it_is_read_and_before_authentication(app, token_checks):
    officer = bearer("province_officer", "72")
    body = [b"x" * (JSON_BODY_LIMIT + 1)]
    assert await request(app, "POST", "/provinces/72/products", body, officer) == (413, 0)
    assert await request(app, "POST", "/provinces/72/products", body, {}) == (413, 0)
    assert token_checks == []
    # A body within the limit goes on to authentication (the token is checked: 422 for this body, not 413).
    status, taken = await request(app, "POST", "/provinces/72/products", [b"{}"], officer)
    assert status == 422 and taken == 1 and len(token_checks) == 1


async def test_a_chunked_body_is_cut_off_at_the_limit(app, token_checks):
    quarter = b"x" * (MiB // 4)
    status, taken = await request(
        app, "POST", "/provinces/72/products", [quarter] * 40, bearer("department"), declare_length=False
    )
    assert (status, taken) == (413, 5)  # refused after 1.25 MiB of the 10 MiB sent: the rest is never read
    assert token_checks == []
    status, _ = await request(
        app, "POST", "/provinces/72/products", [b"{", b"}"], bearer("department"), declare_length=False
    )
    assert status == 422 and len(token_checks) == 1  # a small chunked body is handed on whole


async def test_upload_routes_take_larger_bodies_up_to_their_own_limit(app, token_checks):
    three_mb = [b"x" * 3_000_000]
    status, _ = await request(app, "POST", "/provinces/72/products/import", three_mb, {})
    assert status == 401  # past the body limit, to authentication
    status, taken = await request(
        app, "POST", "/provinces/72/products/import", [b"x" * (IMPORT_LIMIT + 1)], {}
    )
    assert (status, taken) == (413, 0)
    status, _ = await request(app, "POST", "/provinces/72/products", three_mb, {})
    assert status == 413  # the same size on a JSON route


async def test_metrics_and_api_documents_are_internal_only(app):
    for path in ("/internal/metrics", "/internal/openapi.json", "/internal/docs", "/internal/asyncapi.json"):
        for forwarded in (
            {"x-forwarded-for": "203.0.113.9"},
            {"forwarded": "for=203.0.113.9"},
            {"x-real-ip": "203.0.113.9"},
        ):
            assert (await request(app, "GET", path, [], forwarded))[0] == 404, (path, forwarded)
    assert (await request(app, "GET", "/internal/openapi.json", [], {}))[
        0
    ] == 200  # directly, e.g. Prometheus
    for public in ("/metrics", "/docs", "/openapi.json", "/asyncapi.json"):
        assert (await request(app, "GET", public, [], {}))[0] == 404, public
