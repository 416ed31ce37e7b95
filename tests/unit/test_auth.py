"""Token verification (shared/auth.py) against a local issuer whose keys a real HTTP server publishes as a
JWKS: real RS256 signatures, the services' own verification path. tests/integration/test_identity.py
checks the same with tokens Keycloak issued."""

import asyncio
import time
from types import SimpleNamespace

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI

from shared.auth import (
    AccessRefused,
    InvalidToken,
    KeysUnavailable,
    Principal,
    Role,
    TokenVerifier,
    province_access,
)
from shared.secrets import hash_secret, new_secret, secret_matches
from tests.issuer import LocalIssuer, rsa_key

POS_ISSUER = "https://login.otop.test/auth/realms/otop-integrations"
NEVER_PUBLISHED = rsa_key()


@pytest.fixture
def issuer():
    issuer = LocalIssuer()
    yield issuer
    issuer.close()


@pytest.fixture
def pos_issuer():
    issuer = LocalIssuer(POS_ISSUER)
    yield issuer
    issuer.close()


def settings_for(issuer: LocalIssuer, pos: LocalIssuer | None = None, **extra) -> SimpleNamespace:
    return SimpleNamespace(
        oidc_issuer=issuer.issuer,
        oidc_jwks_url=issuer.jwks_url,
        oidc_audience="otop-api",
        oidc_integration_issuer=pos.issuer if pos else None,
        oidc_integration_jwks_url=pos.jwks_url if pos else None,
        oidc_clock_skew_s=0,
        **extra,
    )


@pytest.fixture
async def verifier(issuer, pos_issuer):
    verifier = TokenVerifier.from_settings(settings_for(issuer, pos_issuer))
    yield verifier
    await verifier.aclose()


async def test_an_officer_token_names_the_officer_and_province(issuer, verifier):
    token = issuer.token("province_officer", "72", username="somchai.k")
    assert await verifier.verify(token) == Principal(
        subject="somchai.k", role=Role.PROVINCE_OFFICER, province_code="72"
    )


async def test_a_department_token_has_no_province_even_if_the_account_has_one(issuer, verifier):
    principal = await verifier.verify(issuer.token("department", "72", username="dept"))
    assert principal == Principal(subject="dept", role=Role.DEPARTMENT)
    assert principal.may_access("10") and principal.may_access("72")


async def test_an_expired_token_is_refused(issuer, verifier):
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(issuer.token("province_officer", "72", ttl_s=-1))


async def test_a_token_for_another_audience_is_refused(issuer, verifier):
    with pytest.raises(InvalidToken, match="[Aa]udience"):
        await verifier.verify(issuer.token("province_officer", "72", aud="account"))


async def test_a_token_of_another_issuer_is_refused_without_fetching_its_keys(issuer, verifier):
    foreign = LocalIssuer("https://login.otop.test/auth/realms/other")
    try:
        with pytest.raises(InvalidToken, match="not trusted"):
            await verifier.verify(foreign.token("department"))
        assert foreign.fetches == 0 and issuer.fetches == 0
    finally:
        foreign.close()


async def test_alg_none_is_refused(issuer, verifier):
    claims = issuer.claims("department")
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": issuer.kid})
    with pytest.raises(InvalidToken, match="'none' is not accepted"):
        await verifier.verify(unsigned)


async def test_hs256_signed_with_the_public_key_is_refused(issuer, verifier):
    public_pem = (
        issuer.keys[issuer.kid]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    # PyJWT itself will not HMAC-sign with a PEM key (the very attack): build the token by hand.
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": issuer.kid}).encode())
        + "."
        + b64(json.dumps(issuer.claims("department")).encode())
    )
    forged = signing_input + "." + b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    with pytest.raises(InvalidToken, match="'HS256' is not accepted"):
        await verifier.verify(forged)


async def test_a_key_the_issuer_never_published_is_refused(issuer, verifier):
    claims = issuer.claims("department")
    # Same key id as the issuer's, another key: the signature does not verify.
    same_kid = jwt.encode(claims, NEVER_PUBLISHED, algorithm="RS256", headers={"kid": issuer.kid})
    with pytest.raises(InvalidToken, match="[Ss]ignature"):
        await verifier.verify(same_kid)
    # A key id the issuer does not publish: one refetch of the keys, then refused.
    unknown = jwt.encode(claims, NEVER_PUBLISHED, algorithm="RS256", headers={"kid": "never-issued"})
    with pytest.raises(InvalidToken, match="does not publish"):
        await verifier.verify(unknown)


async def test_the_encryption_key_never_verifies_a_signature(issuer, verifier):
    with pytest.raises(InvalidToken, match="does not publish"):
        await verifier.verify(
            jwt.encode(
                issuer.claims("department"), NEVER_PUBLISHED, algorithm="RS256", headers={"kid": "enc-key"}
            )
        )


async def test_an_id_token_is_not_an_access_token(issuer, verifier):
    with pytest.raises(InvalidToken, match="ID token"):
        await verifier.verify(issuer.token("department", typ="ID"))


@pytest.mark.parametrize(
    ("roles", "province", "why"),
    [
        (["default-roles-otop"], "72", "exactly one of the roles"),
        (["province_officer", "committee_member"], "72", "exactly one of the roles"),
        (["province_officer"], None, "no valid province"),
        (["province_officer"], "99", "no valid province"),  # two digits, but no DOPA province
        (["committee_member"], "7", "no valid province"),
        (["integration"], "72", "exactly one of the roles"),  # people's realm issues no integration
    ],
)
async def test_accounts_without_one_role_and_a_valid_province_are_refused(
    issuer, verifier, roles, province, why
):
    token = issuer.token("province_officer", province, realm_access={"roles": roles})
    with pytest.raises(AccessRefused, match=why):
        await verifier.verify(token)


async def test_every_token_of_the_integrations_issuer_is_an_integration_of_its_province(pos_issuer, verifier):
    token = pos_issuer.token("integration", "72", azp="integration-72-abc")
    assert await verifier.verify(token) == Principal(
        subject="integration-72-abc", role=Role.INTEGRATION, province_code="72"
    )
    # Whoever may create clients there could make one claim the department role: it gives nothing.
    claiming = pos_issuer.token("department", "72", azp="integration-72-abc")
    with pytest.raises(AccessRefused):
        await verifier.verify(claiming)


async def test_keys_are_cached_and_a_rotated_key_is_fetched_once(issuer, verifier):
    for _ in range(20):
        await verifier.verify(issuer.token("department"))
    assert issuer.fetches == 1
    issuer.rotate()
    await asyncio.sleep(1.05)  # min_refresh_s after the last fetch
    await verifier.verify(issuer.token("department"))
    assert issuer.fetches == 2  # the new kid made one refetch
    for _ in range(5):  # made-up key ids make at most one fetch per min_refresh_s
        with pytest.raises(InvalidToken):
            await verifier.verify(
                jwt.encode(
                    issuer.claims("department"),
                    NEVER_PUBLISHED,
                    algorithm="RS256",
                    headers={"kid": f"made-up-{_}"},
                )
            )
    assert issuer.fetches == 2


async def test_keys_are_refetched_when_old_so_a_removed_key_stops_working(issuer):
    verifier = TokenVerifier.from_settings(settings_for(issuer))
    [jwks] = [t.jwks for t in verifier.issuers.values()]
    jwks.max_age_s = 0.2
    try:
        old_kid = issuer.kid
        token = issuer.token("department")
        await verifier.verify(token)
        issuer.rotate()
        del issuer.keys[old_kid]
        await asyncio.sleep(0.3)
        with pytest.raises(InvalidToken, match="does not publish"):
            await verifier.verify(token)
    finally:
        await verifier.aclose()


async def test_an_unreachable_issuer_is_a_503_until_it_answers_then_cached_keys_carry_on(issuer):
    verifier = TokenVerifier.from_settings(settings_for(issuer))
    [jwks] = [t.jwks for t in verifier.issuers.values()]
    try:
        issuer.down = True
        with pytest.raises(KeysUnavailable):
            await verifier.verify(issuer.token("department"))
        issuer.down = False
        await asyncio.sleep(1.05)  # a retry is allowed min_refresh_s after the last try
        await verifier.verify(issuer.token("department"))
        issuer.down, jwks.max_age_s = True, 0  # every call now tries a refetch, which fails
        assert (await verifier.verify(issuer.token("department"))).role is Role.DEPARTMENT
    finally:
        await verifier.aclose()


async def test_a_slow_key_fetch_does_not_stall_the_event_loop_and_is_made_once(issuer, verifier):
    issuer.delay_s = 0.5
    gaps, running = [], True

    async def ticker():
        last = time.monotonic()
        while running:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    principals = await asyncio.gather(*(verifier.verify(issuer.token("department")) for _ in range(20)))
    running = False
    await ticking
    assert len(principals) == 20 and issuer.fetches == 1
    assert max(gaps) < 0.2, f"the event loop stalled for {max(gaps):.3f}s"


async def test_http_answers_401_403_and_503_as_documented(issuer):
    app = FastAPI()

    @app.get("/provinces/{province_code}/things")
    async def things(province_code: str = province_access(Role.PROVINCE_OFFICER)) -> dict:
        return {"province": province_code}

    app.state.token_verifier = TokenVerifier.from_settings(settings_for(issuer))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            missing = await http.get("/provinces/72/things")
            assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
            expired = await http.get(
                "/provinces/72/things",
                headers={"Authorization": f"Bearer {issuer.token('province_officer', '72', ttl_s=-1)}"},
            )
            assert expired.status_code == 401 and "expired" in expired.json()["detail"]
            assert expired.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
            garbage = await http.get("/provinces/72/things", headers={"Authorization": "Bearer not.a.token"})
            assert garbage.status_code == 401
            ok = await http.get(
                "/provinces/72/things",
                headers={"Authorization": f"Bearer {issuer.token('province_officer', '72')}"},
            )
            assert ok.status_code == 200 and ok.json() == {"province": "72"}
            other = await http.get(
                "/provinces/10/things",
                headers={"Authorization": f"Bearer {issuer.token('province_officer', '72')}"},
            )
            assert other.status_code == 403
            role = await http.get(
                "/provinces/72/things",
                headers={"Authorization": f"Bearer {issuer.token('committee_member', '72')}"},
            )
            assert role.status_code == 403
            unusable = await http.get(
                "/provinces/72/things",
                headers={"Authorization": f"Bearer {issuer.token('province_officer', None)}"},
            )
            assert unusable.status_code == 403 and "province" in unusable.json()["detail"]
            issuer.down = True
            await app.state.token_verifier.aclose()
            app.state.token_verifier = TokenVerifier.from_settings(settings_for(issuer))
            down = await http.get(
                "/provinces/72/things",
                headers={"Authorization": f"Bearer {issuer.token('province_officer', '72')}"},
            )
            assert down.status_code == 503 and down.headers["retry-after"]
            assert issuer.jwks_url not in down.text and "127.0.0.1" not in down.text  # the address is logged
    finally:
        await app.state.token_verifier.aclose()


@pytest.mark.parametrize(
    ("role", "province"), [(Role.DEPARTMENT, "72"), (Role.PROVINCE_OFFICER, None), (Role.INTEGRATION, None)]
)
def test_role_and_province_must_agree(role, province):
    with pytest.raises(ValueError):
        Principal(subject="x", role=role, province_code=province)


def test_province_scope():
    officer = Principal(subject="o", role=Role.PROVINCE_OFFICER, province_code="72")
    department = Principal(subject="d", role=Role.DEPARTMENT)
    assert officer.may_access("72") and not officer.may_access("10")
    assert department.may_access("72") and department.may_access("10")


def test_secrets_are_stored_hashed():
    secret = new_secret()
    stored = hash_secret(secret)
    assert secret not in stored
    assert secret_matches(secret, stored) and not secret_matches(secret + "x", stored)
