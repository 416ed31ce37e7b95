"""Adapter: each POS integration's own Kafka principal, a SCRAM-SHA-512 user that may only write (and
describe) `otop.sales.ingress` (shared/kafka_access.py). Created when an officer registers the
integration, given a new password on request, deleted when the integration is revoked. The password is
shown once, in the answer to the officer: the broker keeps only its salted SCRAM hash, this service
nothing.

Creating users and ACLs needs ALTER on the cluster, which this service does not hold: it asks the Kafka
provisioner (deploy/kafka/provisioner.py), which holds it and touches integrations' principals only."""

import contextlib
from collections.abc import AsyncIterator
from uuid import UUID

import httpx
from fastapi import Request

from services.sales.config import SalesSettings
from shared.errors import Unavailable
from shared.kafka_access import integration_username


class KafkaUnavailable(Unavailable):
    """The provisioner or the broker could not be reached or refused the change (the caller may retry)."""

    def __init__(self, why: str) -> None:
        super().__init__("Kafka is unavailable, nothing was changed; try again", why=why)


@contextlib.asynccontextmanager
async def _changing_kafka() -> AsyncIterator[None]:
    try:
        yield
    except Exception as exc:
        raise KafkaUnavailable(f"{type(exc).__name__}: {exc}") from exc


class IntegrationPrincipals:
    def __init__(self, provisioner_url: str | None, token: str | None) -> None:
        self._url, self._token = provisioner_url, token

    async def _call(self, method: str, path: str) -> httpx.Response:
        if not (self._url and self._token):
            raise KafkaUnavailable("the Kafka provisioner is not configured (OTOP_SALES_KAFKA_PROVISIONER_*)")
        async with _changing_kafka(), httpx.AsyncClient(base_url=self._url, timeout=30) as http:
            answer = await http.request(method, path, headers={"Authorization": f"Bearer {self._token}"})
            answer.raise_for_status()
            return answer

    async def create(self, province_code: str, integration_id: UUID) -> dict[str, str]:
        """The new principal's credentials, to be shown once."""
        username = integration_username(province_code, integration_id)
        return (await self._call("PUT", f"/integration-principals/{username}")).json()

    async def new_password(self, province_code: str, integration_id: UUID) -> dict[str, str]:
        """Rotation: the old password stops working for new connections at once."""
        username = integration_username(province_code, integration_id)
        return (await self._call("POST", f"/integration-principals/{username}/password")).json()

    async def delete(self, province_code: str, integration_id: UUID) -> None:
        """Deletes the principal and its ACLs; no error if it is gone already."""
        await self._call(
            "DELETE", f"/integration-principals/{integration_username(province_code, integration_id)}"
        )


def integration_principals(request: Request) -> IntegrationPrincipals:
    """FastAPI dependency: the adapter, made once per app with the service's settings."""
    state = request.app.state
    if getattr(state, "integration_principals", None) is None:
        settings = SalesSettings.of(state.settings)
        token = settings.sales_kafka_provisioner_token
        state.integration_principals = IntegrationPrincipals(
            settings.sales_kafka_provisioner_url, token.get_secret_value() if token else None
        )
    return state.integration_principals
