"""Failure classes, the same for every consumer, the outbox relay, the held-sales retry and HTTP.

- Transient: the database unreachable, restarting or failing over, out of connections; a serialization
  failure or deadlock; Kafka timeouts and lost connections. Nothing is wrong with the work: it is retried,
  with capped exponential backoff and jitter, for as long as it takes, and never dead-lettered. Meanwhile
  the worker reports itself not ready (`Status`: /health/ready and the `otop_ready` metric); HTTP answers
  503 with Retry-After.
- Anything else fails on the message's own content (unreadable, failing the schema, refused by the domain,
  or an error the code raises for this message): a few attempts, then the dead-letter topic.

Classified by exception type, and for PostgreSQL by SQLSTATE, along the chain of errors an error wraps
(SQLAlchemy wraps asyncpg's errors).
"""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import sqlalchemy.exc
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.observability import READY, TRANSIENT_FAILURES

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLSTATE classes and codes of failures that pass: connection exceptions (08), the transaction's conflict
# with another (serialization failure, deadlock, lock not available), insufficient resources (53: too many
# connections, disk full), operator intervention (57: shutdown, crash, starting up, statement cancelled),
# system errors (58: I/O), the idle session ended by the server (25P03).
_TRANSIENT_SQLSTATES = ("08", "40001", "40P01", "55P03", "53", "57", "58", "25P03")
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    OSError,  # connection refused or reset, host unreachable (TimeoutError is one too)
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection came free in time
    KafkaTimeoutError,
    KafkaConnectionError,
)


def is_transient(error: BaseException) -> bool:
    """True if `error`, or an error it wraps, is a failure that passes by itself (see the module)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, _TRANSIENT_TYPES):
            return True
        if isinstance(error, KafkaError) and error.retriable:
            return True
        if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
            return True
        sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_TRANSIENT_SQLSTATES):
            return True
        # Only what the error wraps (SQLAlchemy's .orig, `raise ... from`), not what was being handled when
        # it was raised: an error raised in an `except OSError:` block is not an OSError.
        wrapped = getattr(error, "orig", None)
        cause = wrapped if isinstance(wrapped, BaseException) else error.__cause__
        if cause is None:
            return False
        error = cause
    return False


class Backoff:
    """Capped exponential backoff with jitter: base, 2 x base, 4 x base ... up to `cap` seconds, each delay
    drawn between half and all of that, so replicas that failed together do not retry together."""

    def __init__(self, base_s: float, cap_s: float) -> None:
        self.base_s, self.cap_s, self.failures = max(base_s, 0.01), cap_s, 0

    def next_delay(self) -> float:
        delay = min(self.cap_s, self.base_s * 2 ** min(self.failures, 30))
        self.failures += 1
        return random.uniform(delay / 2, delay)

    def reset(self) -> None:
        self.failures = 0


class Status:
    """Whether a worker (a consumer group, the outbox relay, the held-sales retry) is doing its work: not
    ready from its first transient failure until its next success. Exposed as `otop_ready{component, kind}`
    and in /health/ready; `gates_readiness` says whether it makes the service not ready."""

    def __init__(self, component: str, kind: str, *, gates_readiness: bool = True) -> None:
        self.component, self.kind, self.gates_readiness = component, kind, gates_readiness
        self.failing_since: float | None = None
        self.last_error: str | None = None
        READY.labels(component, kind).set(1)

    @property
    def ready(self) -> bool:
        return self.failing_since is None

    def failed(self, error: BaseException) -> None:
        TRANSIENT_FAILURES.labels(self.component, self.kind).inc()
        self.last_error = f"{type(error).__name__}: {error}"[:500]
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            READY.labels(self.component, self.kind).set(0)
            log.warning(
                "%s %s: transient failure, retrying until it passes: %s",
                self.kind,
                self.component,
                self.last_error,
            )

    def succeeded(self) -> None:
        if self.failing_since is not None:
            log.warning(
                "%s %s: working again after %.1f s",
                self.kind,
                self.component,
                time.monotonic() - self.failing_since,
            )
            self.failing_since = None
            READY.labels(self.component, self.kind).set(1)

    def as_dict(self) -> dict[str, Any]:
        failing_for_s = (
            None if self.failing_since is None else round(time.monotonic() - self.failing_since, 1)
        )
        return {
            "ready": self.ready,
            "kind": self.kind,
            "last_error": None if self.ready else self.last_error,
            "failing_for_s": None if self.ready else failing_for_s,
        }


class StillFailing(Exception):
    """A transient failure outlasted the time a consumer may hold its records (max.poll.interval): the
    records are given back (nack: seek to their offsets, fetch again) and the retrying goes on."""


async def until_done(
    work: Callable[[], Awaitable[T]],
    *,
    status: Status,
    backoff: Backoff,
    label: str,
    give_back_at: float | None = None,
) -> T:
    """Run `work` until it no longer fails transiently; a transient failure is retried after a backoff
    (status not ready meanwhile). Any other error propagates at once. With `give_back_at` (a time.monotonic()
    value), StillFailing is raised when transient failures go on past it."""
    while True:
        try:
            result = await work()
        except Exception as error:
            if not is_transient(error):
                status.succeeded()  # the database or broker answered: the failure is the work's own
                raise
            status.failed(error)
            delay = backoff.next_delay()
            if give_back_at is not None and time.monotonic() + delay > give_back_at:
                raise StillFailing(
                    f"{label}: still failing, records given back to be fetched again"
                ) from error
            await asyncio.sleep(delay)
            continue
        status.succeeded()
        backoff.reset()
        return result


RETRY_AFTER_S = 5


def answer_503_while_unavailable(app: FastAPI) -> None:
    """HTTP: a request that meets a transient failure (a write while the database is away) is answered 503
    with Retry-After, never 500; nothing was written (its transaction did not commit). Other errors go on
    to the usual 500."""

    async def unavailable(request: Request, error: Exception) -> JSONResponse:
        if not is_transient(error):
            raise error
        log.warning(
            "%s %s: unavailable: %s: %s", request.method, request.url.path, type(error).__name__, error
        )
        return JSONResponse(
            {"detail": "temporarily unavailable (database or Kafka away); nothing was changed, try again"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    for error_type in (*_TRANSIENT_TYPES, sqlalchemy.exc.DBAPIError, asyncpg.PostgresError, KafkaError):
        app.add_exception_handler(error_type, unavailable)
