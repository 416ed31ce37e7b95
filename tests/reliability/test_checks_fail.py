"""The trials' checks can fail: with a real fault injected into the running services (shared/faults.py,
OTOP_TEST_FAULTS, a test-only switch), one sale lost or one applied twice, the same checks every fault trial
ends with (support.Trial, Findings.problems) report it, where it happened and nowhere else."""

import asyncio
import random
from contextlib import asynccontextmanager
from datetime import date

import pytest

from tests.reliability.support import (
    Stack,
    Totals,
    Trial,
    assert_exact,
    create_catalogue,
    pos_stream,
    wait_caught_up,
)
from tests.sales.support import publish_pos

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]
SALES = 200


@asynccontextmanager
async def with_fault(stack: Stack, service: str, fault: str):
    """The service restarted with the fault armed, and again without it afterwards."""
    process = stack.services[service]
    try:
        process.stop()
        process.env["OTOP_TEST_FAULTS"] = fault
        process.start()
        await asyncio.to_thread(process.wait_ready, 120)
        yield
    finally:
        process.stop()
        process.env.pop("OTOP_TEST_FAULTS", None)
        process.start()
        await asyncio.to_thread(process.wait_ready, 120)


@pytest.mark.parametrize(
    "fault, service, wrong",
    [
        # monitoring's sales consumer skips one record of a batch and commits past it: a sale lost there.
        (
            "drop-one:monitoring.sales",
            "monitoring",
            {"holders": {"monitoring": -1, "monitoring report": -1}, "applied": {"monitoring.sales": -1}},
        ),
        # the ingress records one POS message as two sales: a double, everywhere downstream.
        (
            "apply-twice:sales.ingress",
            "sales",
            {
                "holders": {"sales": 1, "monitoring": 1, "scheduling": 1, "monitoring report": 1},
                "applied": {"sales.ingress": 1, "monitoring.sales": 1, "scheduling.sales": 1},
            },
        ),
    ],
    ids=["one-lost", "one-applied-twice"],
)
async def test_the_checks_fail_when_a_sale_is_lost_or_applied_twice(running, fault, service, wrong):
    async with with_fault(running, service, fault):
        catalogue = await create_catalogue(running, date(2019, 6, 27 if service == "monitoring" else 28))
        trial = await Trial.begin(running, catalogue)
        stream = pos_stream(catalogue, SALES, random.Random(fault), resend_every=0)
        await publish_pos(running.access, stream.messages)
        found = await trial.end(timeout=300)  # caught up: the lost record's offset was committed
    expected = Totals(SALES, stream.amount_thb)
    problems = found.problems(expected)
    print(f"\n{fault}: {problems}")
    with pytest.raises(AssertionError):
        assert_exact(found, expected)
    assert {holder: t.sales - SALES for holder, t in found.totals.items() if t != expected} == wrong[
        "holders"
    ]
    assert all(
        (t.amount_thb > expected.amount_thb) == (wrong["holders"][h] > 0)
        for h, t in found.totals.items()
        if h in wrong["holders"]
    )
    assert {group: n - SALES for group, n in found.applied.items() if n != SALES} == wrong["applied"]
    assert found.dead_lettered == 0


async def test_the_wait_for_consumers_fails_while_one_is_behind(running):
    """The trials wait by committed offsets: with monitoring stopped, sales it has not consumed keep its
    groups behind the end offsets, and the wait says which; once it runs again, it catches up."""
    catalogue = await create_catalogue(running, date(2019, 6, 24))
    trial = await Trial.begin(running, catalogue)
    stream = pos_stream(catalogue, 20, random.Random(24), resend_every=0)
    running.services["monitoring"].stop()
    try:
        await publish_pos(running.access, stream.messages)
        with pytest.raises(AssertionError, match="not caught up within 10 s: monitoring.sales at"):
            await wait_caught_up(running, timeout=10)
    finally:
        await running.ensure_running()
    assert_exact(await trial.end(timeout=120), Totals(20, stream.amount_thb))
