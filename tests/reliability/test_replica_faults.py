"""Two replicas of every service (separate processes, the same consumer groups, the same database) during a
stream of signed POS sales; one replica of each service is SIGKILLed mid-stream and started again. The
report's totals, and every other holder's, must be exactly the sales sent: lost 0, doubled 0.

Sizes as the other fault trials: OTOP_FAULT_SALES (default 2000)."""

import asyncio
import random
from datetime import date

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from deploy.local.processes import ServiceProcess
from tests import harness
from tests.reliability.support import (
    SERVICES,
    Stack,
    Totals,
    Trial,
    assert_exact,
    create_catalogue,
    env_int,
    paced_by_progress,
    pos_stream,
    reaches,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]
SALES = env_int("OTOP_FAULT_SALES", 2_000)


async def consumed(process: ServiceProcess, group: str) -> float:
    """Records the process's consumers of `group` took (applied, duplicate or in batches), from its
    metrics."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"{process.url}/internal/metrics")).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "otop_events_consumed_total"
        and s.labels["consumer"] == group
        and s.labels["outcome"] in ("applied", "duplicate", "batched")
    )


async def test_two_replicas_of_each_service_one_killed_mid_stream_lose_and_double_nothing(
    running: Stack, tmp_path
):
    rng = random.Random(16)
    second = {
        name: ServiceProcess(
            name, harness.free_port(), running.services[name].env, tmp_path / f"{name}-2.log"
        )
        for name in SERVICES
    }
    replicas = {name: [running.services[name], second[name]] for name in SERVICES}
    try:
        for process in second.values():
            process.start()
        await asyncio.gather(*(asyncio.to_thread(p.wait_ready, 120) for p in second.values()))
        catalogue = await create_catalogue(running, date(2019, 6, 20))
        trial = await Trial.begin(running, catalogue)
        stream = pos_stream(catalogue, SALES, rng)
        before = [await consumed(p, "sales.ingress") for p in replicas["sales"]]
        publishing = asyncio.create_task(
            paced_by_progress(running, stream.messages, catalogue.market_day_id, SALES)
        )
        killed = []
        for name in ("sales", "monitoring", "scheduling", "registry"):
            await reaches(
                running,
                "sales" if name == "registry" else name,
                catalogue.market_day_id,
                int(rng.uniform(0.1, 0.6) * SALES),
            )
            if (
                name == "sales"
            ):  # both replicas take part of the stream: one consumer group, its partitions shared
                took = [
                    await consumed(p, "sales.ingress") - n
                    for p, n in zip(replicas["sales"], before, strict=True)
                ]
            victim = rng.choice(replicas[name])
            victim.kill()
            killed.append((name, victim.port))
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            victim.start()
            await asyncio.to_thread(victim.wait_ready, 120)
        await publishing

        found = await trial.end()
        print(
            f"\n{SALES} sales ({len(stream.messages)} messages), {stream.amount_thb:,.2f} THB; "
            "two replicas each, "
            f"SIGKILLed {killed}; the sales replicas took {took} records before the kill; found {found}"
        )
        assert_exact(found, Totals(SALES, stream.amount_thb))
        assert all(n > 0 for n in took), (
            f"records of the stream each sales replica took before the kill: {took}"
        )
    finally:
        for process in second.values():
            process.stop()
