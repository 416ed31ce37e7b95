"""Issue 21: the demo (its accounts, among them a department user whose password is printed, and the demo
province) is refused in a realm that has real users; nothing is created there."""

import pytest

from deploy.keycloak.admin import KeycloakAdmin
from deploy.keycloak.realm import REALM
from deploy.local.accounts import DEMO_USERS, RealUsersPresent, demo_users
from tests.conftest import bearer

pytestmark = pytest.mark.integration


def test_the_demo_accounts_are_refused_in_a_realm_with_real_users(keycloak, tmp_path):
    assert bearer("province_officer", "72", "somchai-real-officer")["Authorization"]  # a real person
    with pytest.raises(RealUsersPresent, match="refused: the otop realm has .* besides the demo accounts"):
        demo_users(keycloak, tmp_path)
    admin = KeycloakAdmin(keycloak.url, keycloak.admin_username, keycloak.admin_password)
    try:
        assert all(admin.user(REALM, username) is None for username, *_ in DEMO_USERS)
    finally:
        admin.close()
    assert not (tmp_path / "demo-users.json").exists()
