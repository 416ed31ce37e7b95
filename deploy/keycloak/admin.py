"""Keycloak's token endpoint and admin REST API, for the local stack (demo users), the command line and the
tests (synchronous httpx; standard OAuth 2.0 grants only). The services never sign a token.

    tokens = password_grant(token_url, "otop-cli", "demo-officer-72", password)   # a person
    tokens = client_credentials_grant(token_url, client_id, client_secret)          # an integration,
    automation
    token = AccessToken(lambda: password_grant(...))                                # renewed before it
    expires
    admin = take_over(url, "somchai.admin", password, "temporary-admin", bootstrap_password)  # first start
    admin = KeycloakAdmin("http://127.0.0.1:8180/auth", "somchai.admin", password)  # the master realm's admin
    admin.ensure_user("otop", "demo-officer-72", password, roles=["province_officer"], province="72")

    python -m deploy.keycloak.admin --url http://keycloak:8080/auth   # take_over, for compose and Kubernetes
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

import httpx

from deploy.keycloak.realm import DENYLIST, REALM


class TokenRefused(Exception):
    """The token endpoint said no (wrong password, disabled account, unknown client ...)."""


def _grant(token_url: str, form: dict[str, str]) -> dict:
    answer = httpx.post(
        token_url, data=form, timeout=120
    )  # a Keycloak just started on a busy machine is slow
    if answer.status_code != 200:
        raise TokenRefused(f"{answer.status_code} {answer.text}")
    return answer.json()


def password_grant(
    token_url: str, client_id: str, username: str, password: str, one_time_code: str | None = None
) -> dict:
    """Tokens for a person (the otop-cli client allows this grant), as the token endpoint answers them; an
    account with a one-time password (department accounts always) needs its current code too."""
    form = {
        "grant_type": "password",
        "client_id": client_id,
        "username": username,
        "password": password,
        "scope": "openid",
    }
    if one_time_code:
        form["totp"] = one_time_code
    return _grant(token_url, form)


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
        groups: Sequence[str] = (),
        locale: str | None = None,
        reset_password: bool = False,
        one_time_secret: str | None = None,
    ) -> str:
        """Creates the user with this password (not temporary), or updates it (its password only with
        reset_password: the realm refuses a password used before); these realm roles and groups (added),
        province and language (th, en). With one_time_secret, the user has that TOTP secret: the admin API
        sets one only on a new user, so a user without one (or whose password is reset) is made anew.
        Returns its id."""
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
        if (
            existing is not None
            and one_time_secret
            and (reset_password or not self._has_otp(realm, existing))
        ):
            self.request("DELETE", f"/{realm}/users/{existing['id']}")
            existing = None
        if existing is None:
            credentials = [totp_credential(one_time_secret)] if one_time_secret else []
            created = self.request(
                "POST", f"/{realm}/users", json={**representation, "credentials": credentials}
            )
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
        for name in groups:
            [group] = self.request("GET", f"/{realm}/groups", params={"search": name, "exact": "true"}).json()
            self.request("PUT", f"/{realm}/users/{user_id}/groups/{group['id']}")
        return user_id

    def _has_otp(self, realm: str, user: dict) -> bool:
        credentials = self.request("GET", f"/{realm}/users/{user['id']}/credentials").json()
        return any(c["type"] == "otp" for c in credentials)

    def set_enabled(self, realm: str, username: str, enabled: bool) -> None:
        user = self.user(realm, username)
        if user is None:
            raise KeyError(f"no user {username} in realm {realm}")
        self.request("PUT", f"/{realm}/users/{user['id']}", json={**user, "enabled": enabled})

    def close(self) -> None:
        self.http.close()


# --- one-time passwords (TOTP) ---------------------------------------------------------------------------
TOTP_PERIOD_S = 30  # Keycloak's default OTP policy: HmacSHA1, 6 digits, 30 s, one period of look-ahead


def totp_credential(secret: str) -> dict:
    """A TOTP credential for the admin API (as Keycloak exports one), for a secret known to the caller: how
    the tests and the demo enrol an account whose codes they compute (people enrol with an authenticator
    app at their first login instead)."""
    return {
        "type": "otp",
        "userLabel": "enrolled through the admin API",
        "secretData": json.dumps({"value": secret}),
        "credentialData": json.dumps(
            {"subType": "totp", "digits": 6, "counter": 0, "period": TOTP_PERIOD_S, "algorithm": "HmacSHA1"}
        ),
    }


def otpauth_uri(secret: str, username: str, issuer: str = "OTOP Mobile") -> str:
    """The address an authenticator app takes (as a QR code or typed in) for this secret."""
    import pyotp

    totp = pyotp.TOTP(base64.b32encode(secret.encode()).decode())
    return str(totp.provisioning_uri(name=username, issuer_name=issuer))


class OneTimeCodes:
    """The codes of one TOTP secret, each handed out once: Keycloak refuses a code used before, so the second
    code within a period is the next period's (which it accepts a period early), and a third waits. With
    `used_file`, every process sharing that file (the local stack's demo, the command line, tests) counts the
    same codes as used."""

    def __init__(self, secret: str, used_file: Path | None = None) -> None:
        import pyotp

        # Keycloak's key is the secret's bytes; authenticator apps and pyotp take them in base 32.
        self._totp = pyotp.TOTP(base64.b32encode(secret.encode()).decode(), interval=TOTP_PERIOD_S)
        self._used_file = used_file
        self._last_step = -1

    def __call__(self) -> str:
        with self._last_step_kept() as last_step:
            now_step = int(time.time()) // TOTP_PERIOD_S
            step = max(now_step, last_step() + 1)
            if step > now_step + 1:  # both this period's and the next one's were used: wait for the next
                time.sleep((now_step + 1) * TOTP_PERIOD_S - time.time() + 0.1)
            self._last_step = step
            return self._totp.at(step * TOTP_PERIOD_S)

    @contextlib.contextmanager
    def _last_step_kept(self) -> Iterator[Callable[[], int]]:
        """The last period handed out, read and written under an exclusive lock when kept in a file."""
        if self._used_file is None:
            yield lambda: self._last_step
            return
        with open(self._used_file, "a+") as kept:
            fcntl.flock(kept, fcntl.LOCK_EX)  # released when the file closes
            kept.seek(0)
            recorded = int(kept.read().strip() or -1)
            yield lambda: max(recorded, self._last_step)
            kept.seek(0)
            kept.truncate()
            kept.write(str(self._last_step))


# Department accounts must use one: Keycloak's browser and direct grant flows, copied (built-in flows cannot
# change) with one subflow more: "department" role -> one-time password required (a department user without
# one enrols at the next browser login; the password grant refuses them until then). Everyone else is asked
# for a code once they enrolled one (the built-in rule, now skipped for department users: asked once).
# realm binding -> (built-in flow, its copy, the copy's conditional second-factor subflow, its parent, form)
OTP_FLOWS = {
    "browserFlow": ("browser", "otop browser", "Conditional 2FA", "forms", "auth-otp-form"),
    "directGrantFlow": (
        "direct grant",
        "otop direct grant",
        "Conditional OTP",
        None,
        "direct-grant-validate-otp",
    ),
}
ONE_TIME_PASSWORD_ROLE = "department"


def require_one_time_passwords(admin: KeycloakAdmin, realm: str = REALM) -> None:
    """Idempotent: the copies are made once and bound to the realm."""
    flows = f"/{realm}/authentication/flows"
    present = {flow["alias"] for flow in admin.request("GET", flows).json()}
    for binding, (builtin, copy, second_factor, parent, form) in OTP_FLOWS.items():
        if copy not in present:
            admin.request("POST", f"{flows}/{quote(builtin)}/copy", json={"newName": copy})
            executions = admin.request("GET", f"{flows}/{quote(copy)}/executions").json()
            [optional] = [e["displayName"] for e in executions if e["displayName"].endswith(second_factor)]
            _role_condition(admin, realm, optional, negate=True)  # department users: not here, below
            holder = copy  # the flow the new subflow goes in: the copy's forms, or the copy itself
            if parent:
                [holder] = [e["displayName"] for e in executions if e["displayName"].endswith(parent)]
            required = f"{copy} - department one-time password"
            admin.request(
                "POST",
                f"{flows}/{quote(holder)}/executions/flow",
                json={"alias": required, "type": "basic-flow", "provider": "registration-page-form"},
            )
            _set_requirement(admin, realm, holder, required, "CONDITIONAL")
            _role_condition(admin, realm, required, negate=False)
            otp = admin.request(
                "POST", f"{flows}/{quote(required)}/executions/execution", json={"provider": form}
            )
            _set_requirement(admin, realm, required, otp.headers["Location"].rsplit("/", 1)[1], "REQUIRED")
        admin.request("PUT", f"/{realm}", json={binding: copy})


def _role_condition(admin: KeycloakAdmin, realm: str, flow: str, negate: bool) -> None:
    flows = f"/{realm}/authentication/flows"
    made = admin.request(
        "POST", f"{flows}/{quote(flow)}/executions/execution", json={"provider": "conditional-user-role"}
    )
    execution_id = made.headers["Location"].rsplit("/", 1)[1]
    _set_requirement(admin, realm, flow, execution_id, "REQUIRED")
    admin.request(
        "POST",
        f"/{realm}/authentication/executions/{execution_id}/config",
        json={
            "alias": f"{flow} - {'not ' if negate else ''}{ONE_TIME_PASSWORD_ROLE}",
            "config": {"condUserRole": ONE_TIME_PASSWORD_ROLE, "negate": str(negate).lower()},
        },
    )


def _set_requirement(admin: KeycloakAdmin, realm: str, flow: str, execution: str, requirement: str) -> None:
    """`execution`: an execution's id, or a subflow's name."""
    flows = f"/{realm}/authentication/flows"
    for each in admin.request("GET", f"{flows}/{quote(flow)}/executions").json():
        if execution in (each["id"], each.get("displayName")) and each["level"] == 0:
            admin.request(
                "PUT", f"{flows}/{quote(flow)}/executions", json={**each, "requirement": requirement}
            )
            return
    raise KeyError(f"no execution {execution} in the flow {flow}")


# --- the master realm: hardened, and its temporary first administrator replaced by a named one -----------
MASTER = "master"
MASTER_PASSWORD_POLICY = f"length(16) and notUsername and passwordBlacklist({DENYLIST})"
MASTER_BRUTE_FORCE = {  # whoever guesses this realm's administrator owns every realm: lock out early
    "bruteForceProtected": True,
    "permanentLockout": False,
    "failureFactor": 5,
    "waitIncrementSeconds": 120,
    "maxFailureWaitSeconds": 3600,
    "minimumQuickLoginWaitSeconds": 120,
    "quickLoginCheckMilliSeconds": 1000,
    "maxDeltaTimeSeconds": 43200,
}


class WeakPassword(Exception):
    """Keycloak's password policy refused the administrator's password."""


def harden_master(admin: KeycloakAdmin) -> None:
    admin.request("PUT", f"/{MASTER}", json={**MASTER_BRUTE_FORCE, "passwordPolicy": MASTER_PASSWORD_POLICY})


def take_over(
    base_url: str, username: str, password: str, bootstrap_username: str, bootstrap_password: str
) -> KeycloakAdmin:
    """The master realm's named administrator `username` (made with the temporary bootstrap administrator at
    the first start, which is then deleted), the master realm hardened (brute-force protection, a password
    policy that refuses a weak administrator password: WeakPassword) and the otop realm's one-time password
    rules in place. Idempotent: run it after every start (keycloak_runner and the compose/k8s setup step
    do). Answers the named administrator's admin API."""
    admin = KeycloakAdmin(base_url, username, password)
    try:
        admin.request("GET", f"/{MASTER}")
    except TokenRefused:  # not made yet: the first start
        admin.close()
        bootstrap = KeycloakAdmin(base_url, bootstrap_username, bootstrap_password)
        try:
            harden_master(bootstrap)  # its password policy first: the new administrator's must pass it
            try:
                bootstrap.ensure_user(MASTER, username, password, roles=["admin"], reset_password=True)
            except httpx.HTTPStatusError as refused:
                why = refused.response.text
                raise WeakPassword(f"Keycloak refused the administrator's password: {why}") from refused
        finally:
            bootstrap.close()
        admin = KeycloakAdmin(base_url, username, password)
    if username != bootstrap_username and (temporary := admin.user(MASTER, bootstrap_username)):
        admin.request("DELETE", f"/{MASTER}/users/{temporary['id']}")
    harden_master(admin)
    require_one_time_passwords(admin)
    return admin


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Replace Keycloak's temporary first administrator by the named one (KEYCLOAK_ADMIN, "
        "KEYCLOAK_ADMIN_PASSWORD), harden the master realm and require one-time passwords of department "
        "accounts. Run after every start (compose: keycloak-setup; Kubernetes: the keycloak-setup Job)."
    )
    parser.add_argument("--url", required=True, help="Keycloak's /auth, e.g. http://keycloak:8080/auth")
    args = parser.parse_args()
    username, password = os.environ.get("KEYCLOAK_ADMIN", ""), os.environ.get("KEYCLOAK_ADMIN_PASSWORD", "")
    if not username or username == "admin" or not password:
        sys.exit("set KEYCLOAK_ADMIN (a person's name, not 'admin') and KEYCLOAK_ADMIN_PASSWORD")
    bootstrap = os.environ.get("KC_BOOTSTRAP_ADMIN_USERNAME", "temporary-admin")
    try:
        take_over(
            args.url, username, password, bootstrap, os.environ.get("KC_BOOTSTRAP_ADMIN_PASSWORD", password)
        ).close()
    except WeakPassword as exc:
        sys.exit(str(exc))
    print(f"Keycloak's administrator is {username}; the master realm is hardened")


if __name__ == "__main__":
    main()
