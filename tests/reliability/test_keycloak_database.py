"""Keycloak's database restarts (issue 21, finding 11): after PostgreSQL was stopped for 20 s and started
again, the first logins answered 500 (Keycloak's pool kept the dead connections and spent one per request).
Keycloak here runs on a PostgreSQL cluster of its own (deploy/postgres/pg.sh) that the test stops and starts;
logins right after the restart must all succeed."""

import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from deploy.keycloak.admin import KeycloakAdmin, TokenRefused, password_grant
from deploy.keycloak.realm import CLI_CLIENT, REALM
from tests import harness
from tests.reliability.support import own_postgres

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]
DOWN_S = 20
USERS = 8  # logins at once before the outage: as many pooled connections


def test_logins_right_after_keycloaks_database_restarted_all_succeed():
    with own_postgres("keycloak") as clusters, harness.keycloak(clusters["keycloak"].server) as keycloak:
        password = secrets.token_urlsafe(18)
        admin = KeycloakAdmin(keycloak.url, keycloak.admin_username, keycloak.admin_password)
        names = [f"t-restart-{n}" for n in range(USERS)]
        for name in names:
            admin.ensure_user(REALM, name, password, roles=["province_officer"], province="72")
        admin.close()

        def login(name: str) -> str:
            try:
                password_grant(keycloak.token_url(), CLI_CLIENT, name, password)
                return "ok"
            except TokenRefused as refused:
                return str(refused)[:120]

        with ThreadPoolExecutor(USERS) as pool:  # the pool holds several connections now
            assert list(pool.map(login, names)) == ["ok"] * USERS

        clusters["keycloak"].stop()
        time.sleep(DOWN_S)
        clusters["keycloak"].start()

        began = time.monotonic()
        after = [login(name) for name in names + names]  # at once, one after the other
        assert after == ["ok"] * len(after), after
        with ThreadPoolExecutor(USERS) as pool:
            assert list(pool.map(login, names)) == ["ok"] * USERS
        print(f"{2 * USERS + USERS} logins after the restart in {time.monotonic() - began:.1f} s")
