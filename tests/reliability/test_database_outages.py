"""The PostgreSQL of a service stopped, or SIGKILLed, while events flow: a transient failure is waited
out, never dead-lettered. Every trial ends with every sale counted once everywhere, none on a dead-letter
topic, and every consumer caught up."""

import asyncio
import random
from datetime import date

import pytest

from tests.reliability.support import (
    Totals,
    create_catalogue,
    dead_lettered_sales,
    pos_stream,
    settled,
)
from tests.sales.support import publish_pos

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


async def test_sales_published_while_the_sales_database_is_stopped_are_all_recorded(running):
    """Issue 15's finding: the sales service's PostgreSQL stopped for 20 s while an integration published
    300 signed sales; before, the consumer gave up after 3 quick attempts and dead-lettered them."""
    catalogue = await create_catalogue(running, date(2019, 6, 2))
    stream = pos_stream(catalogue, 300, random.Random(15), resend_every=0)
    await asyncio.to_thread(running.postgres["sales"].stop)
    try:
        await publish_pos(running.kafka.bootstrap, stream.messages)
        await asyncio.sleep(20)
    finally:
        await asyncio.to_thread(running.postgres["sales"].start)

    try:
        found = await settled(running, catalogue, Totals(300, stream.amount_thb), timeout=120)
    finally:
        dead = await dead_lettered_sales(running, catalogue)
        print(f"\nsales PostgreSQL stopped 20 s under 300 sales: {len(dead)} dead-lettered")
    assert dead == []
    assert found == dict.fromkeys(found, Totals(300, stream.amount_thb))
