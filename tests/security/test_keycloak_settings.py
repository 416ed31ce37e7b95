"""Keycloak as the session runs it (production mode, the committed realms, deploy/keycloak/admin.take_over
after its start), checked through its own endpoints (issue 21, findings 1 and 4): the master realm has a
named administrator and brute-force protection and refuses weak passwords; department accounts must use
one-time passwords, others may; otop-cli's tokens carry this system's roles only; a refresh token works
once; common passwords are refused; only account administrators manage users."""

import secrets
import time

import httpx
import jwt
import pytest

from deploy.keycloak.admin import (
    MASTER,
    KeycloakAdmin,
    OneTimeCodes,
    TokenRefused,
    password_grant,
    refresh_grant,
)
from deploy.keycloak.keycloak_runner import BOOTSTRAP_ADMIN
from deploy.keycloak.realm import CLI_CLIENT, REALM, USER_ADMIN_ROLES
from tests.identity import accounts

pytestmark = pytest.mark.integration


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def strong() -> str:
    return secrets.token_urlsafe(18)


def refused_then_pause(grant) -> None:
    """The grant is refused; then a pause, so that the next attempt does not count as a quick one (two
    failures within a second lock the account for a minute: the realms' brute-force rules)."""
    with pytest.raises(TokenRefused):
        grant()
    time.sleep(1.2)


def test_the_master_realm_has_a_named_administrator_and_no_bootstrap_or_admin_user(keycloak):
    admin = accounts().admin
    users = {u["username"] for u in admin.request("GET", f"/{MASTER}/users").json()}
    assert keycloak.admin_username in users and keycloak.admin_username != "admin"
    assert "admin" not in users and BOOTSTRAP_ADMIN not in users
    master = admin.request("GET", f"/{MASTER}").json()
    assert master["bruteForceProtected"] and master["failureFactor"] <= 5
    assert "passwordBlacklist(" in master["passwordPolicy"] and "length(16)" in master["passwordPolicy"]


def test_guessing_a_master_realm_password_locks_the_account(keycloak):
    admin = accounts().admin
    username, password = f"t-guessed-{secrets.token_hex(3)}", strong()
    admin.ensure_user(MASTER, username, password, reset_password=True)
    token_url = keycloak.token_url(MASTER)
    try:
        for _ in range(5):
            with pytest.raises(TokenRefused):
                password_grant(token_url, "admin-cli", username, "wrong-" + strong())
        with pytest.raises(TokenRefused):  # the right password, too late: the account is locked
            password_grant(token_url, "admin-cli", username, password)
        user = admin.user(MASTER, username)
        assert admin.request("GET", f"/{MASTER}/attack-detection/brute-force/users/{user['id']}").json()[
            "disabled"
        ]
    finally:
        admin.request("DELETE", f"/{MASTER}/users/{admin.user(MASTER, username)['id']}")


@pytest.mark.parametrize("password", ["1qaz2wsx3edc4rfv", "Short-but-ok1", "t-weak-admin"])
def test_a_weak_administrator_password_is_refused(password):
    with pytest.raises(httpx.HTTPStatusError) as refused:
        accounts().admin.ensure_user(MASTER, "t-weak-admin", password, reset_password=True)
    assert refused.value.response.status_code == 400


def test_a_common_password_is_refused_for_people():
    with pytest.raises(httpx.HTTPStatusError) as refused:  # 12 characters: only the denylist refuses it
        accounts().admin.ensure_user(REALM, "t-common", "qwerty123456", reset_password=True)
    assert refused.value.response.status_code == 400 and "blacklist" in refused.value.response.text.lower()


def test_department_accounts_must_use_a_one_time_password(keycloak):
    admin, token_url = accounts().admin, keycloak.token_url()
    password = strong()
    # Without one enrolled, a department account cannot log in with a password alone ...
    admin.ensure_user(REALM, "t-department-new", password, roles=["department"], reset_password=True)
    with pytest.raises(TokenRefused):
        password_grant(token_url, CLI_CLIENT, "t-department-new", password)
    # ... and with one, only with its current code.
    secret = secrets.token_hex(10)
    admin.ensure_user(
        REALM, "t-department-otp", password, roles=["department"], reset_password=True, one_time_secret=secret
    )
    refused_then_pause(lambda: password_grant(token_url, CLI_CLIENT, "t-department-otp", password))
    refused_then_pause(lambda: password_grant(token_url, CLI_CLIENT, "t-department-otp", password, "000000"))
    codes = OneTimeCodes(secret)
    tokens = password_grant(token_url, CLI_CLIENT, "t-department-otp", password, codes())
    assert claims_of(tokens["access_token"])["realm_access"]["roles"] == ["department"]


def test_other_accounts_may_enrol_a_one_time_password_and_are_then_asked_for_it(keycloak):
    admin, token_url, password = accounts().admin, keycloak.token_url(), strong()
    admin.ensure_user(
        REALM, "t-officer-plain", password, roles=["province_officer"], province="72", reset_password=True
    )
    password_grant(token_url, CLI_CLIENT, "t-officer-plain", password)  # not required of an officer
    secret = secrets.token_hex(10)
    admin.ensure_user(
        REALM,
        "t-officer-otp",
        password,
        roles=["province_officer"],
        province="72",
        reset_password=True,
        one_time_secret=secret,
    )
    refused_then_pause(lambda: password_grant(token_url, CLI_CLIENT, "t-officer-otp", password))
    password_grant(token_url, CLI_CLIENT, "t-officer-otp", password, OneTimeCodes(secret)())


def test_command_line_tokens_carry_only_this_systems_roles_and_offline_access_when_asked(keycloak):
    admin, token_url, password = accounts().admin, keycloak.token_url(), strong()
    admin.ensure_user(
        REALM, "t-cli-scope", password, roles=["committee_member"], province="72", reset_password=True
    )
    tokens = password_grant(token_url, CLI_CLIENT, "t-cli-scope", password)
    assert claims_of(tokens["access_token"])["realm_access"]["roles"] == ["committee_member"]
    assert claims_of(tokens["refresh_token"])["typ"] == "Refresh"
    offline = httpx.post(
        token_url,
        data={
            "grant_type": "password",
            "client_id": CLI_CLIENT,
            "username": "t-cli-scope",
            "password": password,
            "scope": "openid offline_access",
        },
    ).json()
    assert claims_of(offline["refresh_token"])["typ"] == "Offline"


def test_the_command_line_client_has_no_device_grant(keycloak):
    answer = httpx.post(
        f"{keycloak.realm_url()}/protocol/openid-connect/auth/device", data={"client_id": CLI_CLIENT}
    )
    assert answer.status_code in (400, 401) and "device" in answer.text.lower()


def test_a_refresh_token_works_once(keycloak):
    admin, token_url, password = accounts().admin, keycloak.token_url(), strong()
    admin.ensure_user(
        REALM, "t-refresh", password, roles=["province_officer"], province="72", reset_password=True
    )
    first = password_grant(token_url, CLI_CLIENT, "t-refresh", password)["refresh_token"]
    second = refresh_grant(token_url, CLI_CLIENT, first)["refresh_token"]
    with pytest.raises(TokenRefused):  # replayed: refused, and ...
        refresh_grant(token_url, CLI_CLIENT, first)
    with pytest.raises(TokenRefused):  # ... the session it belonged to is over
        refresh_grant(token_url, CLI_CLIENT, second)


def test_only_account_administrators_manage_users(keycloak):
    admin = accounts().admin
    [management] = admin.request("GET", f"/{REALM}/clients", params={"clientId": "realm-management"}).json()

    def user_roles(username: str) -> set[str]:
        user = admin.user(REALM, username)
        path = f"/{REALM}/users/{user['id']}/role-mappings/clients/{management['id']}/composite"
        return {r["name"] for r in admin.request("GET", path).json()}

    password = strong()
    admin.ensure_user(REALM, "t-department-user", password, roles=["department"])
    admin.ensure_user(
        REALM, "t-account-admin", password, roles=["department"], groups=["account-administrators"]
    )
    assert not user_roles("t-department-user") & {"manage-users", "view-users"}
    assert set(USER_ADMIN_ROLES) <= user_roles("t-account-admin")


def test_the_admin_console_answers_on_keycloaks_own_address(keycloak):
    """Operators reach it there (the gateway does not route it: tests/security/test_gateway.py)."""
    console = httpx.get(f"{keycloak.url}/admin/{REALM}/console/", follow_redirects=True)
    assert console.status_code == 200 and keycloak.url in console.text
    KeycloakAdmin(keycloak.url, keycloak.admin_username, keycloak.admin_password).close()
