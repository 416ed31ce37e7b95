"""Issue 21 (10): an error answer never repeats another system's words (Keycloak's answer body, a Kafka
client's exception): they go to the log, the caller reads a fixed message."""

import logging

import httpx
import pytest

from services.sales.identity import IdentityUnavailable, IntegrationClients
from services.sales.kafka_principals import KafkaUnavailable, _changing_kafka
from shared.errors import ServiceError

KEYCLOAK_BODY = (
    '{"error":"unknown_error","error_description":"org.hibernate.exception.JDBCConnectionException"}'
)


def keycloak(token_status: int = 200, clients_status: int = 500) -> httpx.AsyncClient:
    """Stands in for Keycloak's answers (which real Keycloak gives only when it is in trouble)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            body = {"access_token": "t", "expires_in": 300} if token_status == 200 else {"error": "x"}
            return httpx.Response(token_status, json=body)
        return httpx.Response(clients_status, text=KEYCLOAK_BODY)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


def answered(error: ServiceError) -> str:
    """What the service's error handler puts in the answer (shared/service.py: detail())."""
    return str(error.detail())


async def test_keycloaks_answer_body_is_logged_not_answered(caplog):
    caplog.set_level(logging.WARNING)
    for http in (keycloak(clients_status=500), keycloak(clients_status=403)):
        clients = IntegrationClients(
            "http://keycloak.internal/auth/realms/otop-integrations", "otop-sales", "s", http
        )
        with pytest.raises(IdentityUnavailable) as refused:
            await clients.create("72", __import__("uuid").uuid4(), "POS")
        assert (
            answered(refused.value) == "the identity provider is unavailable, nothing was changed; try again"
        )
        assert refused.value.status_code == 503
    assert "JDBCConnectionException" in caplog.text


async def test_an_unreachable_keycloak_is_answered_without_its_address_or_exception(caplog):
    caplog.set_level(logging.WARNING)
    async with httpx.AsyncClient() as http:
        clients = IntegrationClients(
            "http://127.0.0.1:9/auth/realms/otop-integrations", "otop-sales", "s", http
        )
        with pytest.raises(IdentityUnavailable) as down:
            await clients.set_enabled("72", __import__("uuid").uuid4(), False)
    assert "127.0.0.1" not in answered(down.value) and "Connect" not in answered(down.value)
    assert "ConnectError" in caplog.text or "Connection refused" in caplog.text or "connect" in caplog.text


async def test_a_kafka_exception_is_logged_not_answered(caplog):
    caplog.set_level(logging.WARNING)
    with pytest.raises(KafkaUnavailable) as down:
        async with _changing_kafka():
            raise RuntimeError("KafkaError{code=_TRANSPORT,str='kafka-1:9092/1: SASL authentication error'}")
    assert answered(down.value) == "Kafka is unavailable, nothing was changed; try again"
    assert "SASL authentication error" in caplog.text
