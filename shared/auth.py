"""Province-scoped authentication for every HTTP call.

Callers present a bearer token (JWT, HS256) naming their role and, for all roles but the
department, their province. A caller never reaches another province's data: every route that
takes a province code in its path checks it against the token with `province_access`.
"""

import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from hashlib import sha256
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, model_validator

from shared.events import ProvinceCode


class Role(StrEnum):
    DEPARTMENT = "department"  # กรมการพัฒนาชุมชน: every province
    PROVINCE_OFFICER = "province_officer"  # สพจ./สพอ. officers of one province
    COMMITTEE_MEMBER = "committee_member"  # provincial monitoring committee
    INTEGRATION = "integration"  # an external system (e.g. POS) of one province


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


def issue_token(secret: str, principal: Principal, ttl: timedelta = timedelta(hours=12)) -> str:
    now = datetime.now(UTC)
    claims = {"sub": principal.subject, "role": principal.role.value, "iat": now, "exp": now + ttl}
    if principal.province_code:
        claims["province"] = principal.province_code
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(secret: str, token: str) -> Principal:
    """The token's principal; raises ValueError for a bad signature, an expired or malformed token."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "role", "exp"]})
        return Principal(subject=claims["sub"], role=claims["role"], province_code=claims.get("province"))
    except (jwt.PyJWTError, ValueError) as exc:
        raise ValueError(f"invalid token: {exc}") from exc


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Stored form of a high-entropy generated secret (never store the secret itself)."""
    return sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return secrets.compare_digest(hash_secret(secret), stored_hash)


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    try:
        return read_token(request.app.state.settings.jwt_secret, credentials.credentials)
    except ValueError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), {"WWW-Authenticate": "Bearer"}) from exc


def province_access(*roles: Role):
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
