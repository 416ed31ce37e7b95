"""Crashes with real processes: the four services run as uvicorn processes on their own databases and a
Kafka broker of their own. A stream of signed POS sales flows ingress -> sales -> otop.sales.recorded ->
monitoring (and scheduling's read model); services and the broker are SIGKILLed at points a seed
chooses and started again. Every holder must end with exactly the sales sent: none lost, none doubled.

Sizes: OTOP_FAULT_SALES (default 2000), OTOP_FAULT_SEEDS (default 2), OTOP_FAULT_KILLS (per trial, default
3)."""

import asyncio
import random
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import httpx
import pytest

from tests.conftest import eventually
from tests.reliability.support import (
    OFFICER,
    Totals,
    Trial,
    assert_exact,
    create_catalogue,
    env_int,
    paced_by_progress,
    pos_stream,
    reaches,
    scalar,
)
from tests.sales.support import publish_pos

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]
SALES = env_int("OTOP_FAULT_SALES", 2_000)
SEEDS = range(env_int("OTOP_FAULT_SEEDS", 2))
KILLS = env_int("OTOP_FAULT_KILLS", 3)
# Services on the path of a sale; the registry only made the products and is not.
VICTIMS = ("sales", "monitoring", "scheduling")


@pytest.mark.parametrize("seed", SEEDS)
async def test_services_killed_mid_stream_lose_and_double_nothing(running, seed):
    rng = random.Random(seed)
    catalogue = await create_catalogue(running, date(2019, 6, 1 + seed % 28))
    trial = await Trial.begin(running, catalogue)
    stream = pos_stream(catalogue, SALES, rng)
    plan = sorted((rng.uniform(0.05, 0.9), rng.choice(VICTIMS)) for _ in range(KILLS))
    publishing = asyncio.create_task(
        paced_by_progress(running, stream.messages, catalogue.market_day_id, SALES)
    )
    mid_stream = 0
    for fraction, victim in plan:
        held = await reaches(running, victim, catalogue.market_day_id, int(fraction * SALES))
        mid_stream += held < SALES
        await running.crash_and_restart(victim, down_s=rng.uniform(0.1, 2.0))
    await publishing

    found = await trial.end()
    print(
        f"\nseed {seed}: {SALES} sales ({len(stream.messages)} messages), {stream.amount_thb:,.2f} THB; "
        f"SIGKILLs {[(v, round(f, 2)) for f, v in plan]}, {mid_stream} mid-stream; found {found}"
    )
    assert_exact(found, Totals(SALES, stream.amount_thb))
    assert mid_stream >= 1


async def test_kafka_broker_killed_mid_stream_loses_nothing(running):
    rng = random.Random(1000)
    catalogue = await create_catalogue(running, date(2019, 6, 29))
    trial = await Trial.begin(running, catalogue)
    count = max(SALES // 2, 1000)
    stream = pos_stream(catalogue, count, rng)
    half = len(stream.messages) // 2
    await publish_pos(running.access, stream.messages[:half])
    held = await reaches(running, "sales", catalogue.market_day_id, int(rng.uniform(0.1, 0.4) * count))
    await asyncio.to_thread(running.kafka.kill)
    await asyncio.sleep(rng.uniform(1, 4))
    await asyncio.to_thread(running.kafka.start)
    await publish_pos(running.access, stream.messages[half:])

    found = await trial.end()
    print(f"\nbroker SIGKILLed with {held}/{count} sales stored; found {found}")
    assert_exact(found, Totals(count, stream.amount_thb))


async def test_http_writes_are_accepted_while_kafka_is_down_and_delivered_after(running):
    catalogue = await create_catalogue(running, date(2019, 6, 30))
    trial = await Trial.begin(running, catalogue)
    product = catalogue.products[0]
    await asyncio.to_thread(running.kafka.kill)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            sale = await http.post(
                f"{running.url('sales')}/provinces/72/sales",
                headers=OFFICER,
                json={
                    "product_id": product["id"],
                    "market_day_id": catalogue.market_day_id,
                    "quantity": "3",
                    "sold_at": datetime(2019, 6, 30, 5, 0, tzinfo=UTC).isoformat(),
                },
            )
            new_product = await http.post(
                f"{running.url('registry')}/provinces/72/products",
                headers=OFFICER,
                json={
                    "name": "ผลิตภัณฑ์ระหว่าง Kafka ล่ม",
                    "category": "herbal",
                    "star_level": 1,
                    "quadrant": "D",
                    "nawatwithi": False,
                    "price_thb": "80.00",
                    "unit": "ขวด",
                },
            )
        assert (sale.status_code, new_product.status_code) == (201, 201), (sale.text, new_product.text)
        await asyncio.sleep(2)  # the relays keep failing against the absent broker...
        for service in ("sales", "registry"):  # ...and keep the events
            assert await scalar(running.db(service), "SELECT count(*) FROM outbox") >= 1
    finally:
        await asyncio.to_thread(running.kafka.start)

    expected = Totals(1, Decimal(product["price_thb"]) * 3)
    assert_exact(await trial.end(timeout=180), expected, pos_sales=0)
    product_id = UUID(new_product.json()["id"])

    async def monitoring_knows_product() -> bool:
        return (
            await scalar(running.db("monitoring"), "SELECT count(*) FROM products WHERE id = $1", product_id)
            == 1
        )

    await eventually(monitoring_knows_product, timeout=120)
