"""The demo accounts in Keycloak's otop realm, made by the local stack and by `python -m deploy.local.cli
accounts` (docker compose's demo): a department user, who also manages users in the admin console (a member
of account-administrators), and a province officer and a committee member of Suphanburi (72). Department
accounts must use one-time passwords: the demo department user is enrolled with a TOTP secret kept in the
state directory (demo-one-time-secrets.json), which the command line uses for its codes and which a person
adds to an authenticator app (the local stack prints its otpauth:// address)."""

import json
from pathlib import Path

from deploy.keycloak.admin import ONE_TIME_PASSWORD_ROLE, KeycloakAdmin, OneTimeCodes
from deploy.keycloak.realm import ACCOUNT_ADMINISTRATORS, REALM
from deploy.local.demo_data import PROVINCE
from shared.secrets import new_secret

# The demo accounts: (username, realm role, province, first and last name, what they are). The department
# user also manages users in Keycloak's admin console (docs/identity.md).
DEMO_USERS = [
    (
        "demo-department",
        "department",
        None,
        "สมศรี",
        "กรมพัฒน์",
        "department (every province; manages users in the admin console)",
    ),
    (
        "demo-officer-72",
        "province_officer",
        PROVINCE,
        "สมชาย",
        "สุพรรณ",
        f"province officer, Suphanburi ({PROVINCE})",
    ),
    (
        "demo-committee-72",
        "committee_member",
        PROVINCE,
        "สมหญิง",
        "กรรมการ",
        f"committee member, Suphanburi ({PROVINCE})",
    ),
]
ONE_TIME_SECRETS = "demo-one-time-secrets.json"


def one_time_secrets(state: Path) -> dict[str, str]:
    """username -> TOTP secret of the demo accounts that have one."""
    path = state / ONE_TIME_SECRETS
    return json.loads(path.read_text()) if path.exists() else {}


def one_time_codes(state: Path, username: str) -> OneTimeCodes | None:
    """The codes of a demo account's one-time password, or None if it has none."""
    secret = one_time_secrets(state).get(username)
    return OneTimeCodes(secret, state / f"{username}.last-one-time-code") if secret else None


class RealUsersPresent(SystemExit):
    """The realm has people besides the demo accounts: no demo there (issue 21)."""


def refuse_a_realm_with_real_users(admin: KeycloakAdmin) -> None:
    """The demo accounts (a department user among them, with a password printed on the console) and the demo
    province are for a realm of demo accounts only: never beside real users."""
    demo = {username for username, *_ in DEMO_USERS}
    if others := [name for name in admin.usernames(REALM) if name not in demo]:
        count = f"{len(others)}{'+' if len(others) >= 99 else ''}"
        raise RealUsersPresent(
            f"refused: the {REALM} realm has {count} user(s) besides the demo accounts "
            f"(e.g. {', '.join(sorted(others)[:3])}); the demo accounts and the demo province are only for a "
            "realm without real users (a new deployment or a local stack)"
        )


def demo_users(keycloak, state: Path) -> dict[str, str]:
    """Creates (or resets) the demo accounts in the otop realm of `keycloak` (deploy.keycloak.keycloak_runner.
    Keycloak: its URL and administrator); their passwords are kept in the state directory (demo-users.json,
    readable by its owner only), the department user's TOTP secret too (demo-one-time-secrets.json). Answers
    username -> password. Refused (RealUsersPresent) in a realm with other users."""
    path = state / "demo-users.json"
    passwords = json.loads(path.read_text()) if path.exists() else {}
    secrets = one_time_secrets(state)
    admin = KeycloakAdmin(keycloak.url, keycloak.admin_username, keycloak.admin_password)
    try:
        refuse_a_realm_with_real_users(admin)
        for username, role, province, first, last, _ in DEMO_USERS:
            new = username not in passwords
            passwords.setdefault(username, new_secret()[:20])
            if role == ONE_TIME_PASSWORD_ROLE:
                secrets.setdefault(username, new_secret()[:20])
            admin.ensure_user(
                REALM,
                username,
                passwords[username],
                roles=[role],
                province=province,
                first_name=first,
                last_name=last,
                locale="th",
                reset_password=new,
                groups=[ACCOUNT_ADMINISTRATORS] if role == "department" else [],
                one_time_secret=secrets.get(username),
            )
    finally:
        admin.close()
    for kept, values in ((path, passwords), (state / ONE_TIME_SECRETS, secrets)):
        kept.write_text(json.dumps(values, indent=2))
        kept.chmod(0o600)
    return passwords
