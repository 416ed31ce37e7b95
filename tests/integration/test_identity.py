"""Identity end to end: tokens that the session's Keycloak issued (production mode, the committed realms),
checked by a running service (the registry, in process, real PostgreSQL and Kafka). Each refusal the
issue names has its own test: an expired token; another realm's (issuer's); another audience's; a user whose
province is missing or invalid; a disabled user's fresh login; alg none and HS256 signed with the public key;
a key the realm never issued."""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from deploy.keycloak.admin import TokenRefused, client_credentials_grant, password_grant, refresh_grant
from deploy.keycloak.realm import (
    AUDIENCE,
    CLI_CLIENT,
    INTEGRATION_REALM,
    REALM,
    audience_mapper,
    province_mapper,
)
from services.registry.main import spec
from services.sales.identity import client_representation
from tests.conftest import bearer, forged, running_service, token_of
from tests.identity import accounts
from tests.issuer import rsa_key

pytestmark = pytest.mark.integration
PRODUCTS = "/provinces/72/products"


@pytest.fixture(scope="module")
async def registry(pg_server, kafka, keycloak):
    name = f"identity_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(pg_server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    async with running_service(spec, pg_server.rsplit("/", 1)[0] + f"/{name}", kafka) as http:
        yield http


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def public_client(client_id: str, mappers: list[dict], **attributes: str) -> dict:
    """A public client that allows the password grant (as otop-cli does), for tests that need another kind."""
    return {
        "clientId": client_id,
        "enabled": True,
        "publicClient": True,
        "directAccessGrantsEnabled": True,
        "standardFlowEnabled": False,
        "protocolMappers": mappers,
        "attributes": attributes,
    }


def ensure_client(realm: str, representation: dict) -> None:
    admin = accounts().admin
    if not admin.request("GET", f"/{realm}/clients", params={"clientId": representation["clientId"]}).json():
        admin.request("POST", f"/{realm}/clients", json=representation)


def person(username: str, role: str = "province_officer", province: str | None = "72") -> str:
    """A user of the otop realm; answers the password."""
    accounts().person(role, province, username)
    return accounts().password


async def test_a_keycloak_token_names_the_user_role_and_province(registry, keycloak):
    officer = bearer("province_officer", "72")
    token = token_of(officer)
    claims, key_id = claims_of(token), jwt.get_unverified_header(token)
    assert key_id["alg"] == "RS256" and claims["iss"] == keycloak.issuer() and AUDIENCE in claims["aud"]
    assert claims["province"] == "72" and "province_officer" in claims["realm_access"]["roles"]
    assert claims["exp"] - claims["iat"] == 300  # short-lived; sessions go on with refresh tokens
    assert (await registry.get(PRODUCTS, headers=officer)).status_code == 200
    assert (await registry.get("/provinces/10/products", headers=officer)).status_code == 403
    assert (await registry.get("/provinces/10/products", headers=bearer("department"))).status_code == 200
    created = await registry.post(
        "/provinces/72/producers",
        headers=officer,
        json={"name": "กลุ่มทดสอบ", "producer_type": "community_group", "experienced": True},
    )
    assert created.status_code == 201  # the username is the subject, e.g. in audit fields
    missing = await registry.get(PRODUCTS)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"


async def test_an_expired_token_is_refused(registry, keycloak):
    # A client whose tokens last one second (a realm's are five minutes); the service allows 5 s of clock
    # skew.
    ensure_client(
        REALM,
        public_client(
            "t-one-second", [province_mapper(), audience_mapper()], **{"access.token.lifespan": "1"}
        ),
    )
    password = person("t-expiring")
    token = password_grant(keycloak.token_url(), "t-one-second", "t-expiring", password)["access_token"]
    claims = claims_of(token)
    assert claims["exp"] - claims["iat"] == 1
    assert (await registry.get(PRODUCTS, headers=header(token))).status_code == 200
    await asyncio.sleep(claims["exp"] + 5 + 1.5 - time.time())
    expired = await registry.get(PRODUCTS, headers=header(token))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert expired.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_a_token_of_another_realm_is_refused(registry, keycloak):
    admin = accounts().admin
    if not any(r["realm"] == "t-other" for r in admin.request("GET", "").json()):
        # Everything the otop realm's tokens have, audience and role and province included: only the issuer
        # differs.
        admin.request(
            "POST",
            "",
            json={
                "realm": "t-other",
                "enabled": True,
                "roles": {"realm": [{"name": "department"}]},
                "clients": [public_client("otop-cli", [province_mapper(), audience_mapper()])],
                "users": [
                    {
                        "username": "t-stranger",
                        "enabled": True,
                        "firstName": "t",
                        "lastName": "t",
                        "email": "t-stranger@example.invalid",
                        "emailVerified": True,
                        "realmRoles": ["department"],
                        "credentials": [
                            {"type": "password", "value": accounts().password, "temporary": False}
                        ],
                    }
                ],
            },
        )
    token = password_grant(keycloak.token_url("t-other"), "otop-cli", "t-stranger", accounts().password)[
        "access_token"
    ]
    assert claims_of(token)["iss"] == keycloak.issuer("t-other") and AUDIENCE in claims_of(token)["aud"]
    refused = await registry.get(PRODUCTS, headers=header(token))
    assert refused.status_code == 401 and "not trusted" in refused.json()["detail"]


async def test_a_token_for_another_audience_is_refused(registry, keycloak):
    ensure_client(REALM, public_client("t-other-audience", [province_mapper()]))  # no otop-api audience
    password = person("t-audience")
    token = password_grant(keycloak.token_url(), "t-other-audience", "t-audience", password)["access_token"]
    assert AUDIENCE not in (claims_of(token).get("aud") or [])
    refused = await registry.get(PRODUCTS, headers=header(token))
    assert refused.status_code == 401 and "audience" in refused.json()["detail"].lower()


async def test_a_user_whose_province_is_missing_or_invalid_is_refused(registry, keycloak):
    password = person("t-no-province", province=None)
    token = password_grant(keycloak.token_url(), CLI_CLIENT, "t-no-province", password)["access_token"]
    assert "province" not in claims_of(token)
    refused = await registry.get(PRODUCTS, headers=header(token))
    assert refused.status_code == 403 and "no valid province" in refused.json()["detail"]
    # Keycloak itself refuses a province that is no DOPA code (the user profile's validator) ...
    with pytest.raises(httpx.HTTPStatusError) as invalid:
        accounts().admin.ensure_user(REALM, "t-no-province", password, province="99")
    assert invalid.value.response.status_code == 400 and "province" in invalid.value.response.text
    # ... and a token that names one anyway (here an integration's client, whose province is hard-coded) is
    # refused.
    ensure_client(
        INTEGRATION_REALM, client_representation("t-integration-99", "99", "bad province", password)
    )
    token = client_credentials_grant(keycloak.token_url(INTEGRATION_REALM), "t-integration-99", password)
    refused = await registry.get("/provinces/99/products", headers=header(token["access_token"]))
    assert refused.status_code == 403 and "no valid province" in refused.json()["detail"]


async def test_a_disabled_users_fresh_login_is_refused(registry, keycloak):
    password = person("t-leaving")
    tokens = password_grant(keycloak.token_url(), CLI_CLIENT, "t-leaving", password)
    assert (await registry.get(PRODUCTS, headers=header(tokens["access_token"]))).status_code == 200
    accounts().admin.set_enabled(REALM, "t-leaving", False)
    try:
        with pytest.raises(TokenRefused, match="disabled|invalid_grant"):
            password_grant(keycloak.token_url(), CLI_CLIENT, "t-leaving", password)
        with pytest.raises(TokenRefused):  # nor does the session go on: its refresh token is refused
            refresh_grant(keycloak.token_url(), CLI_CLIENT, tokens["refresh_token"])
    finally:
        accounts().admin.set_enabled(REALM, "t-leaving", True)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_alg_none_and_hs256_with_the_public_key_are_refused(registry, keycloak):
    token = token_of(bearer("department"))
    claims, kid = claims_of(token), jwt.get_unverified_header(token)["kid"]
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    refused = await registry.get(PRODUCTS, headers=header(unsigned))
    assert refused.status_code == 401 and "'none' is not accepted" in refused.json()["detail"]
    # HMAC with the realm's published RSA key as the secret (the classic confusion attack).
    [jwk] = [k for k in httpx.get(keycloak.jwks_url()).json()["keys"] if k["kid"] == kid]
    public_pem = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = (
        f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}."
        f"{_b64(json.dumps(claims).encode())}"
    )
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    refused = await registry.get(PRODUCTS, headers=header(f"{signing_input}.{_b64(mac)}"))
    assert refused.status_code == 401 and "'HS256' is not accepted" in refused.json()["detail"]


async def test_a_key_the_realm_never_issued_is_refused(registry, keycloak):
    officer = bearer("province_officer", "72")
    same_kid = forged(officer)  # the officer's own claims and key id, another key
    refused = await registry.get(PRODUCTS, headers=same_kid)
    assert refused.status_code == 401 and "ignature" in refused.json()["detail"]
    unknown_kid = jwt.encode(
        claims_of(token_of(officer)), rsa_key(), algorithm="RS256", headers={"kid": "never-issued"}
    )
    refused = await registry.get(PRODUCTS, headers=header(unknown_kid))
    assert refused.status_code == 401 and "does not publish" in refused.json()["detail"]
    assert (await registry.get(PRODUCTS, headers=officer)).status_code == 200  # the real one still works
