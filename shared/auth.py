"""Province-scoped authentication for every HTTP call.

Callers present a bearer access token that the identity provider (Keycloak, deploy/keycloak/) issued and
signed with RS256. The services hold no signing secret: they check each token against the issuer's
published public keys (JWKS), its issuer, audience (`otop-api`) and expiry, and read from it the caller's
role and, for every role but the department, their province. A caller never reaches another province's
data: every route that takes a province code in its path checks it against the token with `province_access`.

Two issuers are trusted, each for its own roles (see deploy/keycloak/realm.py):
- people (realm `otop`): department, province_officer, committee_member, from `realm_access.roles`, and the
  `province` claim from the user's attribute; the subject is the username;
- integrations (realm `otop-integrations`, optional): every token is an integration of the province in its
  `province` claim, whatever else it claims; the subject is its client id.

A missing or invalid token is a 401 with `WWW-Authenticate: Bearer`; a valid token whose role or province
does not allow the call is a 403; an issuer whose keys cannot be fetched (and none cached) is a 503.
"""

import asyncio
import base64
import json
import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Protocol

import geothai
import httpx
import jwt
from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, model_validator

from shared.events import ProvinceCode

log = logging.getLogger(__name__)
ALGORITHM = (
    "RS256"  # the only one accepted: never "none", never HMAC (which would take a public key as secret)
)


class Role(StrEnum):
    DEPARTMENT = "department"  # กรมการพัฒนาชุมชน: every province
    PROVINCE_OFFICER = "province_officer"  # สพจ./สพอ. officers of one province
    COMMITTEE_MEMBER = "committee_member"  # provincial monitoring committee
    INTEGRATION = "integration"  # an external system (e.g. POS) of one province


PEOPLE_ROLES = frozenset({Role.DEPARTMENT, Role.PROVINCE_OFFICER, Role.COMMITTEE_MEMBER})


class Principal(BaseModel):
    subject: str
    role: Role
    province_code: ProvinceCode | None = None

    @model_validator(mode="after")
    def _province_matches_role(self) -> "Principal":
        if (self.role is Role.DEPARTMENT) != (self.province_code is None):
            raise ValueError("the department has no province; every other role has exactly one")
        return self

    def may_access(self, province_code: str) -> bool:
        return self.role is Role.DEPARTMENT or self.province_code == province_code


class InvalidToken(Exception):
    """No token, or one that is not a valid token of a trusted issuer for this API (401)."""


class AccessRefused(Exception):
    """A valid token whose account cannot act here: no OTOP role, or no valid province (403)."""


class KeysUnavailable(Exception):
    """The issuer's keys could not be fetched and none are cached (503: try again)."""


class Jwks:
    """One issuer's signing keys, fetched without blocking the event loop (httpx, async) and cached.

    A token naming a key id not in the cache makes one refetch (key rotation), at most every
    `min_refresh_s`, so tokens with made-up key ids cannot make the service hammer the issuer. The keys
    are refetched every `max_age_s` too, so a key the issuer removed stops being trusted. When a refetch
    fails the cached keys go on being used."""

    def __init__(self, url: str, http: httpx.AsyncClient, min_refresh_s: float = 1, max_age_s: float = 600):
        self.url, self._http = url, http
        self.min_refresh_s, self.max_age_s = min_refresh_s, max_age_s
        self._keys: dict[str, Any] = {}
        self._fetched_at = -float("inf")  # time.monotonic() of the last fetch attempt
        self._lock = asyncio.Lock()

    def has(self, kid: str) -> bool:
        return kid in self._keys

    async def key(self, kid: str) -> Any | None:
        """The public key with this id, or None if the issuer does not publish it."""
        if self._lock.locked():  # a fetch is under way: wait for its keys rather than start another
            async with self._lock:
                pass
        age = time.monotonic() - self._fetched_at
        if age >= self.max_age_s or (kid not in self._keys and age >= self.min_refresh_s):
            await self._refresh(self._fetched_at)
        if not self._keys:
            raise KeysUnavailable(f"the signing keys of {self.url} could not be fetched")
        return self._keys.get(kid)

    async def _refresh(self, seen: float) -> None:
        async with self._lock:  # one fetch at a time; whoever waited uses its result
            if self._fetched_at != seen:
                return
            self._fetched_at = time.monotonic()
            try:
                answer = await self._http.get(self.url)
                answer.raise_for_status()
                keys = jwt.PyJWKSet.from_dict(answer.json()).keys
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                log.warning("could not fetch the signing keys at %s: %s", self.url, exc)
                return
            # Keycloak also publishes an encryption key (use "enc", alg RSA-OAEP): signature keys only.
            self._keys = {
                k.key_id: k.key
                for k in keys
                if k.key_id and k.public_key_use in (None, "sig") and k.algorithm_name == ALGORITHM
            }


@dataclass
class TrustedIssuer:
    issuer: str
    jwks: Jwks
    roles: frozenset[Role]  # the roles its tokens may carry
    subject_claim: str  # the claim that names the caller


class OidcSettings(Protocol):
    """What the verifier reads of the settings (shared.settings.ServiceSettings has it)."""

    @property
    def oidc_issuer(self) -> str: ...
    @property
    def oidc_jwks_url(self) -> str | None: ...
    @property
    def oidc_integration_issuer(self) -> str | None: ...
    @property
    def oidc_integration_jwks_url(self) -> str | None: ...
    @property
    def oidc_audience(self) -> str: ...
    @property
    def oidc_clock_skew_s(self) -> float: ...


@dataclass
class TokenVerifier:
    """Checks bearer tokens against the trusted issuers and turns them into principals."""

    issuers: dict[str, TrustedIssuer]
    audience: str
    leeway_s: float
    http: httpx.AsyncClient

    @classmethod
    def from_settings(cls, settings: OidcSettings) -> "TokenVerifier":
        http = httpx.AsyncClient(timeout=10)
        trusted = [
            TrustedIssuer(
                settings.oidc_issuer,
                Jwks(settings.oidc_jwks_url or _jwks_url(settings.oidc_issuer), http),
                PEOPLE_ROLES,
                "preferred_username",
            )
        ]
        if settings.oidc_integration_issuer:
            jwks = settings.oidc_integration_jwks_url or _jwks_url(settings.oidc_integration_issuer)
            trusted.append(
                TrustedIssuer(
                    settings.oidc_integration_issuer, Jwks(jwks, http), frozenset({Role.INTEGRATION}), "azp"
                )
            )
        return cls({t.issuer: t for t in trusted}, settings.oidc_audience, settings.oidc_clock_skew_s, http)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def verify(self, token: str) -> Principal:
        """The caller the token names; raises InvalidToken, AccessRefused or KeysUnavailable."""
        header = _header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"token algorithm {header.get('alg')!r} is not accepted (only {ALGORITHM})")
        kid = str(header.get("kid"))
        # Usually the key id is a cached key's, whose issuer then must be the token's (checked below). Else
        # the token's claimed issuer says whose keys to fetch again: an untrusted one makes no fetch at all.
        trusted = next((t for t in self.issuers.values() if t.jwks.has(kid)), None) or self._claimed_issuer(
            token
        )
        key = await trusted.jwks.key(kid)
        if key is None:
            raise InvalidToken(
                f"token signed with a key {trusted.issuer} does not publish (kid {header.get('kid')!r})"
            )
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=trusted.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid token: {exc}") from exc
        if claims.get("typ", "Bearer") != "Bearer":
            raise InvalidToken(f"a {claims.get('typ')} token is not an access token")
        return _principal(trusted, claims)

    def _claimed_issuer(self, token: str) -> TrustedIssuer:
        try:
            claimed = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        trusted = self.issuers.get(claimed) if isinstance(claimed, str) else None
        if trusted is None:
            raise InvalidToken(f"token issuer {claimed!r} is not trusted here")
        return trusted


def _header(token: str) -> dict[str, Any]:
    """The token's header, unverified, only to choose the key: jwt.decode checks the whole token after.
    (PyJWT's get_unverified_header parses all three parts, as long again as the verification itself.)"""
    try:
        segment = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError as exc:  # bad base64 (binascii.Error), bad UTF-8 or JSON
        raise InvalidToken(f"malformed token: {exc}") from exc
    if not isinstance(header, dict):
        raise InvalidToken("malformed token: its header is no JSON object")
    return header


def _jwks_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/protocol/openid-connect/certs"  # Keycloak's layout


def _principal(trusted: TrustedIssuer, claims: dict[str, Any]) -> Principal:
    realm_access = claims.get("realm_access")
    granted = realm_access.get("roles", []) if isinstance(realm_access, dict) else []
    roles = {role for role in trusted.roles if role.value in granted}
    if len(roles) != 1:
        raise AccessRefused(
            f"the account needs exactly one of the roles {sorted(trusted.roles)}, it has "
            f"{sorted(roles) or 'none'}: ask the department to fix it"
        )
    [role] = roles
    subject = claims.get(trusted.subject_claim)
    if not isinstance(subject, str) or not subject:
        raise InvalidToken(f"token without {trusted.subject_claim}")
    if role is Role.DEPARTMENT:
        return Principal(subject=subject, role=role)  # a province attribute, if any, narrows nothing
    province = claims.get("province")
    if not isinstance(province, str) or geothai.province(province) is None:
        raise AccessRefused(
            f"the account has no valid province (DOPA code), it has {province!r}: "
            "ask the department to set it"
        )
    return Principal(subject=subject, role=role, province_code=province)


_bearer = HTTPBearer(auto_error=False)


def _unauthorized(description: str) -> HTTPException:
    # Parts of the description come from the token: printable ASCII only in the header, and short.
    quoted = "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in description[:300])
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        description,
        {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{quoted}"'},
    )


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer token", {"WWW-Authenticate": "Bearer"}
        )
    try:
        verifier: TokenVerifier = request.app.state.token_verifier
        return await verifier.verify(credentials.credentials)
    except InvalidToken as exc:
        raise _unauthorized(str(exc)) from exc
    except AccessRefused as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except KeysUnavailable as exc:
        log.warning("%s", exc)  # names the internal address of the keys: the log's, not the caller's
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the identity provider's keys cannot be fetched; try again",
            {"Retry-After": "5"},
        ) from exc


def province_access(*roles: Role) -> Any:
    """Dependency for /provinces/{province_code}/... routes: the caller holds one of `roles`
    (any role if none named) and may act in that province. Returns the province code."""

    def check(
        province_code: Annotated[ProvinceCode, Path(description="DOPA province code, e.g. 72")],
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> str:
        if roles and principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
        if not principal.may_access(province_code):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "no access to this province")
        return province_code

    return Depends(check)
