"""Ingestion throughput of one in-process sales replica (a measurement, not a test: run it by hand).

    OTOP_TEST_KAFKA_BOOTSTRAP=host:port OTOP_TEST_DATABASE_URL=postgresql://postgres@host:port/postgres \\
        .venv/bin/python -m tests.sales.bench_ingest 20000

Registers an integration and its product and market day, stops the service, publishes N signed POS
messages, then starts the service again and times how long it takes until all N sales are stored
(sales and outbox rows committed) and until the outbox relay has published every SaleRecorded.
"""

import asyncio
import os
import sys
import time
import uuid

import asyncpg
import pytest

from services.sales.main import spec
from tests.conftest import running_service
from tests.sales.support import (
    market_day,
    pos_body,
    pos_sale,
    product,
    publish,
    publish_pos,
    read_models_know,
    register_integration,
    sales_env,
    signed,
)


async def scalar(url: str, sql: str) -> int:
    db = await asyncpg.connect(url)
    try:
        return await db.fetchval(sql)
    finally:
        await db.close()


async def main(n: int) -> None:
    bootstrap, server = os.environ["OTOP_TEST_KAFKA_BOOTSTRAP"], os.environ["OTOP_TEST_DATABASE_URL"]
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = server.rsplit("/", 1)[0] + f"/{name}"
    with pytest.MonkeyPatch.context() as env:
        sales_env(env)
        async with running_service(spec, url, bootstrap) as http:
            key = await register_integration(http)
            p, day = product(), market_day()
            await publish(bootstrap, p, day)
            await read_models_know(url, 1, 1)
        run = uuid.uuid4().hex[:8]
        bodies = [pos_body(pos_sale(f"{run}-{i}", p.product_id, day.market_day_id)) for i in range(n)]
        await publish_pos(bootstrap, [(f"{run}-{i}".encode(), body, signed(body, key["key_id"], key["signing_key"]))
                                      for i, body in enumerate(bodies)])
        print(f"published {n} messages; starting the service", flush=True)
        async with running_service(spec, url, bootstrap):
            started = time.perf_counter()
            while await scalar(url, "SELECT count(*) FROM sales") < n:
                await asyncio.sleep(0.2)
            stored = time.perf_counter() - started
            while await scalar(url, "SELECT count(*) FROM outbox") > 0:
                await asyncio.sleep(0.2)
            published = time.perf_counter() - started
    print(f"stored {n} sales in {stored:.1f}s ({n / stored:.0f}/s); "
          f"SaleRecorded all published after {published:.1f}s ({n / published:.0f}/s)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000))
