"""Adapter: each POS integration's own Kafka principal, a SCRAM-SHA-512 user that may only write (and
describe) `otop.sales.ingress` (shared/kafka_access.py). Created when an officer registers the
integration, given a new password on request, deleted when the integration is revoked. The password is
shown once, in the answer to the officer: the broker keeps only its salted SCRAM hash, this service
nothing.

Creating users and ACLs needs ALTER on the cluster, which the sales service's principal holds for this
alone (docs/security.md: what that leaves open)."""

import contextlib
import secrets
from collections.abc import AsyncIterator
from uuid import UUID

from fastapi import Request

from shared.errors import Unavailable
from shared.kafka_access import INTEGRATION_GRANTS, KafkaAccess, integration_username
from shared.settings import KafkaSettings


class KafkaUnavailable(Unavailable):
    """The broker could not be reached or refused the change (the caller may retry)."""

    def __init__(self, why: str) -> None:
        super().__init__("Kafka is unavailable, nothing was changed; try again", why=why)


@contextlib.asynccontextmanager
async def _changing_kafka() -> AsyncIterator[None]:
    try:
        yield
    except Exception as exc:
        raise KafkaUnavailable(f"{type(exc).__name__}: {exc}") from exc


class IntegrationPrincipals:
    def __init__(self, settings: KafkaSettings) -> None:
        self._access = KafkaAccess(settings)

    async def create(self, province_code: str, integration_id: UUID) -> dict[str, str]:
        """The new principal's credentials, to be shown once."""
        username, password = integration_username(province_code, integration_id), secrets.token_urlsafe(32)
        async with _changing_kafka():
            await self._access.grant(username, password, INTEGRATION_GRANTS)
        return {"kafka_username": username, "kafka_password": password}

    async def new_password(self, province_code: str, integration_id: UUID) -> dict[str, str]:
        """Rotation: the old password stops working for new connections at once."""
        username, password = integration_username(province_code, integration_id), secrets.token_urlsafe(32)
        async with _changing_kafka():
            await self._access.set_password(username, password)
        return {"kafka_username": username, "kafka_password": password}

    async def delete(self, province_code: str, integration_id: UUID) -> None:
        """Deletes the principal and its ACLs; no error if it is gone already."""
        async with _changing_kafka():
            await self._access.revoke(integration_username(province_code, integration_id))


def integration_principals(request: Request) -> IntegrationPrincipals:
    """FastAPI dependency: the adapter, made once per app with the service's own Kafka settings."""
    state = request.app.state
    if getattr(state, "integration_principals", None) is None:
        state.integration_principals = IntegrationPrincipals(state.settings)
    return state.integration_principals
