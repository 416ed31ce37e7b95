"""Keycloak's token endpoint and admin REST API, for the local stack (demo users), the command line and the
tests (synchronous httpx; standard OAuth 2.0 grants only). The services never sign a token.

    tokens = password_grant(token_url, "otop-cli", "demo-officer-72", password)   # a person
    tokens = client_credentials_grant(token_url, client_id, client_secret)          # an integration,
    automation
    token = AccessToken(lambda: password_grant(...))                                # renewed before it
    expires
    admin = KeycloakAdmin("http://127.0.0.1:8180/auth", "admin", admin_password)    # the master realm's admin
    admin.ensure_user("otop", "demo-officer-72", password, roles=["province_officer"], province="72")
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence

import httpx


class TokenRefused(Exception):
    """The token endpoint said no (wrong password, disabled account, unknown client ...)."""


def _grant(token_url: str, form: dict[str, str]) -> dict:
    answer = httpx.post(
        token_url, data=form, timeout=120
    )  # a Keycloak just started on a busy machine is slow
    if answer.status_code != 200:
        raise TokenRefused(f"{answer.status_code} {answer.text}")
    return answer.json()


def password_grant(token_url: str, client_id: str, username: str, password: str) -> dict:
    """Tokens for a person (the otop-cli client allows this grant), as the token endpoint answers them."""
    return _grant(
        token_url,
        {
            "grant_type": "password",
            "client_id": client_id,
            "username": username,
            "password": password,
            "scope": "openid",
        },
    )


def client_credentials_grant(token_url: str, client_id: str, client_secret: str) -> dict:
    return _grant(
        token_url,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
    )


def refresh_grant(token_url: str, client_id: str, refresh_token: str) -> dict:
    return _grant(
        token_url, {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token}
    )


class AccessToken(httpx.Auth):
    """An access token from `grant` (a call answering the token endpoint's JSON), fetched again a little
    before it expires (they last minutes); call it for the token, or pass it to httpx as `auth`."""

    def __init__(self, grant: Callable[[], dict], margin_s: float = 30) -> None:
        self._grant, self._margin_s = grant, margin_s
        self._token, self._expires = "", 0.0

    def __call__(self) -> str:
        if time.monotonic() > self._expires - self._margin_s:
            tokens = self._grant()
            self._token, self._expires = tokens["access_token"], time.monotonic() + tokens["expires_in"]
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self()}"
        yield request


class KeycloakAdmin:
    """The admin REST API as an administrator of the master realm (by default), whose token is renewed
    shortly before it expires."""

    def __init__(self, base_url: str, username: str, password: str, realm: str = "master") -> None:
        self.base_url = base_url.rstrip("/")
        token_url = f"{self.base_url}/realms/{realm}/protocol/openid-connect/token"
        self.http = httpx.Client(
            timeout=120, auth=AccessToken(lambda: password_grant(token_url, "admin-cli", username, password))
        )

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """`path` below /admin/realms, e.g. "/otop/users"; raises for an error answer."""
        answer = self.http.request(method, f"{self.base_url}/admin/realms{path}", **kwargs)
        answer.raise_for_status()
        return answer

    def usernames(self, realm: str, first: int = 100) -> list[str]:
        """The realm's people (its first `first` users; clients' service accounts are not people)."""
        users = self.request("GET", f"/{realm}/users", params={"briefRepresentation": "true", "max": first})
        return [u["username"] for u in users.json() if not u["username"].startswith("service-account-")]

    def user(self, realm: str, username: str) -> dict | None:
        found = self.request("GET", f"/{realm}/users", params={"username": username, "exact": "true"}).json()
        return found[0] if found else None

    def ensure_user(
        self,
        realm: str,
        username: str,
        password: str,
        *,
        roles: Sequence[str] = (),
        province: str | None = None,
        first_name: str = "",
        last_name: str = "",
        email: str | None = None,
        client_roles: dict[str, list[str]] | None = None,
        locale: str | None = None,
        reset_password: bool = False,
    ) -> str:
        """Creates the user with this password (not temporary), or updates it (its password only with
        reset_password: the realm refuses a password used before); these realm roles (added), province and
        language (th, en). Returns its id."""
        attributes = {"province": [province]} if province else {}
        if locale:
            attributes["locale"] = [locale]
        representation = {
            "username": username,
            "enabled": True,
            "firstName": first_name or username,
            "lastName": last_name or "-",
            "attributes": attributes,
            "emailVerified": bool(email),
            **({"email": email} if email else {}),
        }
        existing = self.user(realm, username)
        if existing is None:
            created = self.request("POST", f"/{realm}/users", json=representation)
            user_id = created.headers["Location"].rsplit("/", 1)[1]
        else:
            user_id = existing["id"]
            self.request("PUT", f"/{realm}/users/{user_id}", json=representation)
        if existing is None or reset_password:
            self.request(
                "PUT",
                f"/{realm}/users/{user_id}/reset-password",
                json={"type": "password", "value": password, "temporary": False},
            )
        if roles:
            wanted = [self.request("GET", f"/{realm}/roles/{role}").json() for role in roles]
            self.request("POST", f"/{realm}/users/{user_id}/role-mappings/realm", json=wanted)
        for client_id, names in (client_roles or {}).items():
            [client] = self.request("GET", f"/{realm}/clients", params={"clientId": client_id}).json()
            wanted = [
                self.request("GET", f"/{realm}/clients/{client['id']}/roles/{name}").json() for name in names
            ]
            self.request(
                "POST", f"/{realm}/users/{user_id}/role-mappings/clients/{client['id']}", json=wanted
            )
        return user_id

    def set_enabled(self, realm: str, username: str, enabled: bool) -> None:
        user = self.user(realm, username)
        if user is None:
            raise KeyError(f"no user {username} in realm {realm}")
        self.request("PUT", f"/{realm}/users/{user['id']}", json={**user, "enabled": enabled})

    def close(self) -> None:
        self.http.close()
