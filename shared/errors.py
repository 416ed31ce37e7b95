"""What a use case raises when it cannot do what was asked: one vocabulary for every service.

A use case (handlers, domain) raises these and knows nothing of HTTP; `create_app` (shared/service.py)
installs the one exception handler that answers each with its status and `{"detail": ...}`, the body
FastAPI gives an HTTPException, so clients see the same answers as before. Framework-free: the domain
may raise them too.
"""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """The base: an HTTP status, the `detail` of the answer's body and its headers."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def detail(self) -> Any:
        return self.message

    def headers(self) -> dict[str, str] | None:
        return None


class NotFound(ServiceError):
    """Nothing of that id here (in this province): 404."""

    status_code = 404


class Conflict(ServiceError):
    """Not possible in the current state (or a concurrent change got there first): 409."""

    status_code = 409


class Forbidden(ServiceError):
    """The caller may not do this: 403."""

    status_code = 403


class UnsupportedMediaType(ServiceError):
    """An upload in a format the route does not take (its Content-Type): 415."""

    status_code = 415


class Unavailable(ServiceError):
    """A system this request needs (the identity provider, Kafka) is away; nothing was changed: 503 with
    Retry-After. `why` (the other system's own words: its answer, its exception) goes to the log only, never
    into the answer, which says `message`."""

    status_code = 503

    def __init__(self, message: str, retry_after_s: int = 10, why: str = "") -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        if why:
            log.warning("%s: %s", message, why)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class Refused(ServiceError):
    """Refused for a reason a machine can act on: its `code` (e.g. a POS message's bad_signature, which
    is also the dead letter's reason code) and `reason`. Answered {"code", "msg"} with `status_code`."""

    def __init__(self, code: str, reason: str, status_code: int = 422) -> None:
        super().__init__(reason)
        self.code, self.reason, self.status_code = code, reason, status_code

    def detail(self) -> dict[str, str]:
        return {"code": self.code, "msg": self.reason}


class Invalid(ServiceError):
    """Input that is well-formed but wrong, field by field: 422 with every error, in FastAPI's shape
    ({"loc": [...], "msg": ..., "type": ...})."""

    status_code = 422

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in errors))
        self.errors = [dict(error) for error in errors]

    @classmethod
    def at(cls, loc: Sequence[str | int], msg: str, type: str = "value_error") -> "Invalid":
        """One wrong field."""
        return cls([field_error(loc, msg, type)])

    def detail(self) -> list[dict[str, Any]]:
        return self.errors


def field_error(loc: Sequence[str | int], msg: str, type: str = "value_error") -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": type}
