"""Each POS integration's own client at the identity provider: made when an officer registers the
integration (credentials answered once, kept nowhere), disabled when it is revoked; a registration that
cannot complete leaves nothing behind. Real Keycloak (the session's), real PostgreSQL and Kafka."""

import json
from uuid import uuid4

import asyncpg
import jwt
import pytest

from deploy.keycloak.admin import TokenRefused, client_credentials_grant
from deploy.keycloak.realm import INTEGRATION_REALM
from services.sales.main import spec
from shared.events import envelope_for
from tests.conftest import running_service
from tests.identity import accounts
from tests.sales.support import (
    OFFICER,
    market_day,
    pos_sale,
    product,
    publish,
    read_models_know,
    sales_env,
    signed,
)

pytestmark = pytest.mark.integration
INGEST = "/provinces/72/integration/sales"


def integration_clients() -> dict[str, dict]:
    found = accounts().admin.request("GET", f"/{INTEGRATION_REALM}/clients", params={"max": 10000}).json()
    return {c["clientId"]: c for c in found if c["clientId"].startswith("integration-72-")}


def ingest_headers(body: bytes, key: dict, token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        **{name: value.decode() for name, value in signed(body, key["key_id"], key["signing_key"])},
    }


async def test_registration_makes_the_integrations_client_and_revocation_disables_it(
    database_url, kafka, monkeypatch, keycloak
):
    sales_env(monkeypatch)
    async with running_service(spec, database_url, kafka) as http:
        created = await http.post(
            "/provinces/72/integrations", json={"name": "POS ตลาดประชารัฐ"}, headers=OFFICER
        )
        assert created.status_code == 201, created.text
        registered = created.json()
        client_id = registered["client_id"]
        assert client_id == f"integration-72-{registered['integration_id']}"
        assert registered["token_url"] == keycloak.token_url(INTEGRATION_REALM)

        # The integration logs in with its own credentials and is an integration of province 72.
        token = client_credentials_grant(registered["token_url"], client_id, registered["client_secret"])[
            "access_token"
        ]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert (claims["azp"], claims["province"], claims["iss"]) == (
            client_id,
            "72",
            keycloak.issuer(INTEGRATION_REALM),
        )
        assert "integration" in claims["realm_access"]["roles"] and "otop-api" in claims["aud"]
        p, day = product(), market_day()
        await publish(kafka, p, day)
        await read_models_know(database_url, p, day)
        sale = pos_sale(f"{uuid4().hex[:8]}-1", p.product_id, day.market_day_id)
        body = json.dumps(
            [envelope_for(sale, province_code="72", source="pos").model_dump(mode="json")]
        ).encode()
        accepted = await http.post(INGEST, content=body, headers=ingest_headers(body, registered, token))
        assert accepted.status_code == 200, accepted.text
        # The secret is kept nowhere in the service's database.
        db = await asyncpg.connect(database_url)
        try:
            dump = json.dumps([dict(r) for r in await db.fetch("SELECT * FROM integrations")], default=str)
            dump += json.dumps(
                [dict(r) for r in await db.fetch("SELECT * FROM integration_keys")], default=str
            )
        finally:
            await db.close()
        assert registered["client_secret"] not in dump and registered["signing_key"] not in dump

        revoke = f"/provinces/72/integrations/{registered['integration_id']}/revoke"
        assert (await http.post(revoke, headers=OFFICER)).status_code == 204
        assert integration_clients()[client_id]["enabled"] is False
        with pytest.raises(TokenRefused):  # no new token
            client_credentials_grant(registered["token_url"], client_id, registered["client_secret"])
        refused = await http.post(INGEST, content=body, headers=ingest_headers(body, registered, token))
        assert refused.status_code == 401 and refused.json()["detail"]["code"] == "inactive_key"
        rotate = await http.post(
            f"/provinces/72/integrations/{registered['integration_id']}/keys", headers=OFFICER
        )
        assert rotate.status_code == 409 and "revoked" in rotate.json()["detail"]
        assert (await http.post(revoke, headers=OFFICER)).status_code == 204  # again: nothing changes
        [listed] = (await http.get("/provinces/72/integrations", headers=OFFICER)).json()
        assert listed["revoked_at"] and listed["revoked_by"] == "province_officer-72"
        assert not any(key["active"] for key in listed["keys"])
        assert (
            await http.post(f"/provinces/72/integrations/{uuid4()}/revoke", headers=OFFICER)
        ).status_code == 404


async def test_a_registration_that_cannot_complete_leaves_nothing(database_url, kafka, monkeypatch):
    sales_env(monkeypatch)
    db = await asyncpg.connect(database_url)
    try:
        async with running_service(spec, database_url, kafka) as http:
            # The database refuses the row (a real failure of the transaction) after the client was made:
            # the client is deleted again.
            await db.execute("""CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
                                $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$""")
            await db.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON integrations FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
            before = set(integration_clients())
            with pytest.raises(
                Exception, match="refused by the test"
            ):  # a 500 (the test client re-raises it)
                await http.post("/provinces/72/integrations", json={"name": "POS"}, headers=OFFICER)
            assert set(integration_clients()) == before
            await db.execute("DROP TRIGGER refuse ON integrations")
        # Keycloak unreachable: 503, and nothing is registered.
        monkeypatch.setenv(
            "OTOP_SALES_KEYCLOAK_REALM_URL", "http://127.0.0.1:9/auth/realms/otop-integrations"
        )
        async with running_service(spec, database_url, kafka) as http:
            down = await http.post("/provinces/72/integrations", json={"name": "POS"}, headers=OFFICER)
            assert down.status_code == 503 and "nothing was changed" in down.json()["detail"]
        assert await db.fetchval("SELECT count(*) FROM integrations") == 0
        assert set(integration_clients()) == before
    finally:
        await db.close()
