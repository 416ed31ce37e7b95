"""shared.failures: what is transient, the backoff, a worker's status (pure: no I/O)."""

import time

import asyncpg
import pytest
import sqlalchemy.exc
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    RequestTimedOutError,
)

from shared.failures import Backoff, Status, StillFailing, is_transient, until_done


def wrapped(error: Exception) -> Exception:
    """As SQLAlchemy raises an asyncpg error: a DBAPIError whose .orig is the driver's error."""
    return sqlalchemy.exc.DBAPIError("SELECT 1", {}, error)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
        KafkaTimeoutError(),
        KafkaConnectionError(),
        RequestTimedOutError(),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        wrapped(asyncpg.AdminShutdownError("terminating connection due to administrator command")),
        wrapped(asyncpg.SerializationError("could not serialize access")),
        wrapped(asyncpg.DeadlockDetectedError("deadlock detected")),
        wrapped(asyncpg.TooManyConnectionsError("too many clients")),
        sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")),
    ],
    ids=type,
)
def test_transient(error):
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad amount"),
        KeyError("product_id"),
        MessageSizeTooLargeError(),
        wrapped(asyncpg.UniqueViolationError("duplicate key")),
        wrapped(asyncpg.NumericValueOutOfRangeError("overflow")),
        wrapped(asyncpg.DivisionByZeroError("division by zero")),
    ],
    ids=type,
)
def test_not_transient(error):
    assert not is_transient(error)


def test_an_error_raised_while_handling_a_transient_one_is_not_transient():
    try:
        try:
            raise ConnectionResetError()
        except ConnectionResetError:
            raise ValueError("refused")  # noqa: B904 (the point of the test)
    except ValueError as error:
        assert not is_transient(error)
    try:
        raise ValueError("wrapped") from ConnectionResetError()
    except ValueError as error:
        assert is_transient(error)


def test_backoff_grows_to_its_cap_with_jitter_and_resets():
    backoff = Backoff(0.1, 2.0)
    delays = [backoff.next_delay() for _ in range(10)]
    assert 0.05 <= delays[0] <= 0.1 and 0.1 <= delays[1] <= 0.2 and all(1.0 <= d <= 2.0 for d in delays[6:])
    assert len(set(delays)) == 10  # jitter: no two alike
    backoff.reset()
    assert backoff.next_delay() <= 0.1


async def test_until_done_waits_out_transient_failures_and_reports_the_worker_not_ready():
    status, failures = Status("unit-test", "consumer"), [ConnectionResetError(), KafkaTimeoutError()]
    seen = []

    async def work():
        seen.append(status.ready)
        if failures:
            raise failures.pop(0)
        return "done"

    assert await until_done(work, status=status, backoff=Backoff(0.001, 0.01), label="unit") == "done"
    assert seen == [True, False, False] and status.ready


async def test_until_done_raises_other_errors_at_once_and_gives_back_in_time():
    status = Status("unit-test-2", "consumer")

    async def bad():
        raise ValueError("bad in itself")

    with pytest.raises(ValueError):
        await until_done(bad, status=status, backoff=Backoff(0.001, 0.01), label="unit")
    assert status.ready

    async def away():
        raise ConnectionRefusedError()

    started = time.monotonic()
    with pytest.raises(StillFailing):
        await until_done(
            away, status=status, backoff=Backoff(0.01, 0.02), label="unit", give_back_at=started + 0.1
        )
    assert not status.ready and 0.05 < time.monotonic() - started < 1
