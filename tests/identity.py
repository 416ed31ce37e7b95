"""Tokens for tests, issued by the session's Keycloak (tests.harness.session_keycloak): people are users
made on demand in the `otop` realm (through the admin REST API) who log in with a password through the
otop-cli client; department users, who must use one-time passwords, are enrolled with a TOTP secret the tests
know and log in with its current code, as a person does with an authenticator app. An integration is a client
of the `otop-integrations` realm made as the sales service makes one (client credentials). Tokens are cached
per caller and fetched again a minute before they expire.

`bearer(...)` answers at once, before any Keycloak runs: the header's value is fetched when first read,
so test modules can build their callers' headers at import time."""

import secrets
import time
from collections.abc import Iterator, Mapping

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from deploy.keycloak.admin import (
    ONE_TIME_PASSWORD_ROLE,
    KeycloakAdmin,
    OneTimeCodes,
    TokenRefused,
    client_credentials_grant,
    password_grant,
)
from deploy.keycloak.realm import CLI_CLIENT, INTEGRATION_REALM, REALM
from services.sales.identity import client_representation
from tests import harness


class Accounts:
    """The test callers in one Keycloak, and their tokens."""

    def __init__(self, keycloak) -> None:
        self.keycloak = keycloak
        self.admin = KeycloakAdmin(keycloak.url, keycloak.admin_username, keycloak.admin_password)
        self.password = secrets.token_urlsafe(
            18
        )  # every test user's: the realm's policy wants 12+ characters
        self._made: set[tuple[str, str | None, str]] = set()
        self._tokens: dict[tuple[str, str | None, str], tuple[str, float]] = {}
        self._codes: dict[str, OneTimeCodes] = {}  # username -> its one-time codes (department users)

    def person(self, role: str, province: str | None, username: str) -> None:
        """The user, with exactly this role and province (made, or set again: a test may have changed it); a
        department user with a TOTP secret too."""
        secret = None
        if role == ONE_TIME_PASSWORD_ROLE:
            secret = f"{username}-{self.password}"
            self._codes.setdefault(username, OneTimeCodes(secret))
        self.admin.ensure_user(
            REALM,
            username,
            self.password,
            roles=[role],
            province=province,
            first_name=username,
            last_name="test",
            one_time_secret=secret,
        )
        self._made.add((role, province, username))

    def one_time_code(self, username: str) -> str | None:
        """The user's next TOTP code, if the user has a secret (made by person())."""
        codes = self._codes.get(username)
        return codes() if codes else None

    def integration_client(self, province: str, client_id: str) -> str:
        """A client of the integrations realm, as the sales service makes one; returns its secret."""
        secret = f"{client_id}-{self.password}"
        found = self.admin.request(
            "GET", f"/{INTEGRATION_REALM}/clients", params={"clientId": client_id}
        ).json()
        if not found:
            self.admin.request(
                "POST",
                f"/{INTEGRATION_REALM}/clients",
                json=client_representation(client_id, province, "test integration", secret),
            )
        return secret

    def token(self, role: str, province: str | None, username: str | None = None) -> str:
        username = username or (role if province is None else f"{role}-{province}")
        key = (role, province, username)
        cached = self._tokens.get(key)
        if cached and cached[1] > time.monotonic() + 60:
            return cached[0]
        if role == "integration":
            assert province is not None, "an integration acts for one province"
            secret = self.integration_client(province, username)
            tokens = client_credentials_grant(self.keycloak.token_url(INTEGRATION_REALM), username, secret)
        else:
            if key not in self._made:
                self.person(role, province, username)
            tokens = password_grant(
                self.keycloak.token_url(), CLI_CLIENT, username, self.password, self.one_time_code(username)
            )
        self._tokens[key] = (tokens["access_token"], time.monotonic() + tokens["expires_in"])
        return tokens["access_token"]

    def forget(self, username: str) -> None:
        """Drops cached tokens of this user (after a test changed the account)."""
        for key in [k for k in self._tokens if k[2] == username]:
            del self._tokens[key]
        self._made = {k for k in self._made if k[2] != username}


_accounts: list[Accounts] = []


def accounts() -> Accounts:
    """The session's test callers (starts the session's Keycloak on first use)."""
    if not _accounts:
        _accounts.append(Accounts(harness.session_keycloak()))
    return _accounts[0]


class Bearer(Mapping[str, str]):
    """{"Authorization": "Bearer <token>"}, the token fetched (or renewed) whenever the header is read."""

    def __init__(self, role: str, province: str | None, username: str | None) -> None:
        self.role, self.province, self.username = role, province, username

    def __getitem__(self, name: str) -> str:
        if name != "Authorization":
            raise KeyError(name)
        return f"Bearer {accounts().token(self.role, self.province, self.username)}"

    def __iter__(self) -> Iterator[str]:
        return iter(["Authorization"])

    def __len__(self) -> int:
        return 1

    def __repr__(self) -> str:
        return f"bearer({self.role!r}, {self.province!r}, {self.username!r})"


def bearer(role: str, province: str | None = None, username: str | None = None) -> Bearer:
    """Authorization header of a caller with `role` in `province` (None for the department), a user named
    `username` (default "<role>-<province>", or "department"), or for role integration a client of that id."""
    return Bearer(role, province, username)


def token_of(headers: Mapping[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def forged(headers: Mapping[str, str]) -> dict[str, str]:
    """The same claims and key id as the token in `headers`, signed with a key the realm never issued."""
    token = token_of(headers)
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {"Authorization": "Bearer " + jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})}


__all__ = ["Accounts", "Bearer", "TokenRefused", "accounts", "bearer", "forged", "token_of"]
