"""The demo accounts in Keycloak's otop realm, made by the local stack and by `python -m deploy.local.cli
accounts` (docker compose's demo): a department user, who also manages users in the admin console, and a
province officer and a committee member of Suphanburi (72)."""

import json
from pathlib import Path

from deploy.keycloak.admin import KeycloakAdmin
from deploy.keycloak.realm import REALM
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
USER_ADMIN_ROLES = ["manage-users", "view-users", "query-users", "query-groups", "view-realm"]


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
    readable by its owner only). Answers username -> password. Refused (RealUsersPresent) in a realm with
    other users."""
    path = state / "demo-users.json"
    passwords = json.loads(path.read_text()) if path.exists() else {}
    admin = KeycloakAdmin(keycloak.url, keycloak.admin_username, keycloak.admin_password)
    try:
        refuse_a_realm_with_real_users(admin)
        for username, role, province, first, last, _ in DEMO_USERS:
            new = username not in passwords
            passwords.setdefault(username, new_secret()[:20])
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
                client_roles={"realm-management": USER_ADMIN_ROLES} if role == "department" else None,
            )
    finally:
        admin.close()
    path.write_text(json.dumps(passwords, indent=2))
    path.chmod(0o600)
    return passwords
