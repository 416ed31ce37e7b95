"""The sales service's adapter to the identity provider: each POS integration gets a confidential client of
its own (client credentials grant) in Keycloak's `otop-integrations` realm, made through the admin REST API
with the service's own client (`otop-sales`, allowed to manage clients in that realm only).

The client's tokens carry the integration's province (a hard-coded claim), the `integration` role and the
`otop-api` audience; the services take any token of that realm as an integration of its province, nothing
more (shared/auth.py). The client secret is generated here, given to Keycloak and shown to the officer once;
the service does not keep it.
"""

import secrets
import time
from uuid import UUID

import httpx

from services.sales.config import SalesSettings
from shared.auth import Principal, Role
from shared.errors import Forbidden, Unavailable


class IdentityUnavailable(Unavailable):
    """Keycloak could not be reached or refused the change: nothing was made (the caller may retry)."""

    def __init__(self, why: str) -> None:
        super().__init__("the identity provider is unavailable, nothing was changed; try again", why=why)


def client_id_for(province_code: str, integration_id: UUID) -> str:
    """The integration's client id (and its tokens' `azp`, the principal's subject)."""
    return f"integration-{province_code}-{integration_id}"


def integration_of(caller: Principal) -> UUID:
    """The registered integration whose client made the caller's token; Forbidden for any other client."""
    prefix = f"integration-{caller.province_code}-"
    try:
        if caller.role is Role.INTEGRATION and caller.subject.startswith(prefix):
            return UUID(caller.subject.removeprefix(prefix))
    except ValueError:
        pass
    raise Forbidden("this client is no registered POS integration of the province")


def client_representation(client_id: str, province_code: str, name: str, secret: str) -> dict:
    return {
        "clientId": client_id,
        "name": name[:255],
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "clientAuthenticatorType": "client-secret",
        "secret": secret,
        "serviceAccountsEnabled": True,
        "standardFlowEnabled": False,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "fullScopeAllowed": False,
        "protocolMappers": [
            {
                "name": "province",
                "protocol": "openid-connect",
                "protocolMapper": "oidc-hardcoded-claim-mapper",
                "config": {
                    "claim.name": "province",
                    "claim.value": province_code,
                    "jsonType.label": "String",
                    "access.token.claim": "true",
                    "id.token.claim": "false",
                    "introspection.token.claim": "true",
                },
            },
            {
                "name": "role integration",
                "protocol": "openid-connect",
                "protocolMapper": "oidc-hardcoded-role-mapper",
                "config": {"role": "integration"},
            },
            {
                "name": "audience otop-api",
                "protocol": "openid-connect",
                "protocolMapper": "oidc-audience-mapper",
                "config": {
                    "included.custom.audience": "otop-api",
                    "access.token.claim": "true",
                    "id.token.claim": "false",
                    "introspection.token.claim": "true",
                },
            },
        ],
    }


class IntegrationClients:
    """Creates, disables and deletes integrations' clients in the integrations realm."""

    def __init__(self, realm_url: str, client_id: str, client_secret: str, http: httpx.AsyncClient) -> None:
        realm_url = realm_url.rstrip("/")
        base, realm = realm_url.rsplit("/realms/", 1)
        self._token_url = f"{realm_url}/protocol/openid-connect/token"
        self._admin_url = f"{base}/admin/realms/{realm}"
        self._credentials = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self._http = http
        self._token, self._expires = "", 0.0

    @classmethod
    def of(cls, settings: SalesSettings, http: httpx.AsyncClient) -> "IntegrationClients | None":
        """None unless the settings name the realm and the service's client secret."""
        if not (settings.sales_keycloak_realm_url and settings.sales_keycloak_client_secret):
            return None
        return cls(
            settings.sales_keycloak_realm_url,
            settings.sales_keycloak_client_id,
            settings.sales_keycloak_client_secret.get_secret_value(),
            http,
        )

    async def create(self, province_code: str, integration_id: UUID, name: str) -> dict:
        """The integration's new client: {"client_id", "client_secret", "token_url"}. Raises
        IdentityUnavailable."""
        client_id, secret = client_id_for(province_code, integration_id), secrets.token_urlsafe(32)
        answer = await self._call(
            "POST", "/clients", json=client_representation(client_id, province_code, name, secret)
        )
        if answer.status_code != 201:
            raise IdentityUnavailable(
                f"Keycloak refused the client {client_id}: {answer.status_code} {answer.text}"
            )
        return {"client_id": client_id, "client_secret": secret, "token_url": self._token_url}

    async def set_enabled(self, province_code: str, integration_id: UUID, enabled: bool) -> bool:
        """Enables or disables the client (a disabled client gets no token); False if there is none."""
        found = await self._find(client_id_for(province_code, integration_id))
        if found is None:
            return False
        answer = await self._call("PUT", f"/clients/{found['id']}", json={**found, "enabled": enabled})
        if answer.status_code != 204:
            raise IdentityUnavailable(
                f"Keycloak refused to change the client: {answer.status_code} {answer.text}"
            )
        return True

    async def delete(self, province_code: str, integration_id: UUID) -> None:
        """Removes the client, if there is one (a registration that did not commit)."""
        found = await self._find(client_id_for(province_code, integration_id))
        if found is not None:
            await self._call("DELETE", f"/clients/{found['id']}")

    async def _find(self, client_id: str) -> dict | None:
        answer = await self._call("GET", "/clients", params={"clientId": client_id})
        if answer.status_code != 200:
            raise IdentityUnavailable(f"Keycloak did not list clients: {answer.status_code} {answer.text}")
        found = [c for c in answer.json() if c["clientId"] == client_id]
        return found[0] if found else None

    async def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            if time.monotonic() > self._expires - 15:
                token = await self._http.post(self._token_url, data=self._credentials)
                if token.status_code != 200:
                    raise IdentityUnavailable(
                        f"Keycloak refused the sales service's client: {token.status_code}"
                    )
                self._token = token.json()["access_token"]
                self._expires = time.monotonic() + token.json()["expires_in"]
            return await self._http.request(
                method,
                f"{self._admin_url}{path}",
                headers={"Authorization": f"Bearer {self._token}"},
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise IdentityUnavailable(f"Keycloak is unreachable: {exc}") from exc
