"""Two sales replicas (same database, same consumer group) share the ingress partitions; one stops in
the middle of the stream: every sale is counted exactly once."""

from contextlib import AsyncExitStack
from decimal import Decimal
from uuid import uuid4

import asyncpg
import pytest

from services.sales.domain import pos_sale_id
from services.sales.main import spec
from shared.topics import SALES_INGRESS, SALES_RECORDED
from tests.conftest import eventually, running_service
from tests.sales.support import (
    market_day,
    pos_body,
    pos_sale,
    product,
    publish,
    publish_pos,
    read_models_know,
    read_until,
    register_integration,
    sales_env,
    signed,
    totals,
)

pytestmark = pytest.mark.integration
SALES = 3000


def ingress_partitions(http) -> set[int]:
    """The ingress partitions a running replica (in this process) holds now."""
    for subscriber in http._transport.app.state.broker.subscribers:
        consumer = getattr(subscriber, "consumer", None)
        if consumer is not None and SALES_INGRESS in consumer.subscription():
            return {tp.partition for tp in consumer.assignment()}
    return set()


async def stored_sales(database_url: str) -> int:
    db = await asyncpg.connect(database_url)
    try:
        return await db.fetchval("SELECT count(*) FROM sales")
    finally:
        await db.close()


async def test_two_replicas_share_the_ingress_without_loss_or_double_count(database_url, kafka, monkeypatch):
    sales_env(monkeypatch, ingest_max_records=200)
    async with AsyncExitStack() as first_replica:
        a = await first_replica.enter_async_context(running_service(spec, database_url, kafka))
        key = await register_integration(a)
        products, day = [product(price="10.00"), product(price="25.50"), product(price="99.00")], market_day()
        await publish(kafka, *products, day)
        await read_models_know(database_url, *products, day)
        run = uuid4().hex[:8]
        expected: dict[str, Decimal] = {str(p.product_id): Decimal(0) for p in products}
        messages = []
        for i in range(SALES):
            p = products[i % 3]
            sale = pos_sale(
                f"{run}-{i}", p.product_id, day.market_day_id, quantity=str(i % 5 + 1), price=str(p.price_thb)
            )
            body = pos_body(sale)
            messages.append(
                (sale.integration_sale_id.encode(), body, signed(body, key["key_id"], key["signing_key"]))
            )
            expected[str(p.product_id)] += sale.quantity * sale.unit_price_thb
        half = SALES // 2

        async with running_service(spec, database_url, kafka) as b:

            async def shared() -> tuple[set, set] | None:
                pa, pb = ingress_partitions(a), ingress_partitions(b)
                return (pa, pb) if pa and pb and len(pa | pb) == 6 else None

            pa, pb = await eventually(shared, timeout=60)
            assert not pa & pb
            # The first half, and every tenth of it again (an integration retrying).
            landed = await publish_pos(kafka, messages[:half] + messages[:half:10])
            assert {m.partition for m in landed} & pa and {m.partition for m in landed} & pb  # work for both
            await eventually(lambda: _stored_at_least(database_url, half // 3))
            await first_replica.aclose()  # the first replica leaves mid-stream; the second takes over
            await publish_pos(kafka, messages[half:] + messages[::7])
            await eventually(lambda: _stored_at_least(database_url, SALES), timeout=180)
            assert ingress_partitions(b) == pa | pb

            assert await stored_sales(database_url) == SALES
            by_product = await totals(b, "product")
            assert {k: Decimal(v["amount_thb"]) for k, v in by_product.items()} == expected
            assert sum(v["sales"] for v in by_product.values()) == SALES

            wanted = {
                str(pos_sale_id("72", key["integration_id"], f"{run}-{i}")).encode() for i in range(SALES)
            }
            events = await read_until(
                kafka,
                SALES_RECORDED,
                keep=lambda r: r.key in wanted,
                done=lambda rs: {r.key for r in rs} == wanted,
                timeout=120,
            )
            assert {r.key for r in events} == wanted  # a canonical event for every sale


async def _stored_at_least(database_url: str, n: int) -> bool:
    return await stored_sales(database_url) >= n
