"""The national roll-up and a province's report stay fast with many sales: totals are GROUP BYs in
PostgreSQL over the latest revision of each sale (the `sales_counted` index), not rows in Python.

The read-model rows are written straight into the service's database here (as its consumers would
leave them) so that a few hundred thousand sales take seconds to set up; the reports are read over HTTP.
`python -m tests.monitoring.test_report_scale 2000000` measures a bigger load by hand."""

import asyncio
import os
import sys
import time

import asyncpg
import geothai
import pytest

from services.monitoring import tables
from services.monitoring.main import spec
from shared.db import make_engine
from shared.migrations import upgrade
from tests.conftest import running_service
from tests.monitoring.support import DEPARTMENT, OFFICER, report, skip_earlier_events

pytestmark = pytest.mark.integration
MARKET_DAYS_PER_PROVINCE = 8


async def fill(database_url: str, sales: int) -> None:
    """77 provinces, 8 market days each in June 2019, `sales` sales over them (every 50th voided)."""
    codes = [p.code for p in geothai.provinces()]
    db = await asyncpg.connect(database_url)
    try:
        await db.execute("""
            INSERT INTO market_days (id, revision, province_code, venue_id, venue_name, venue_kind, day, status)
            SELECT gen_random_uuid(), 1, code, gen_random_uuid(), 'ตลาด ' || n, 'pracharat_market',
                   DATE '2019-06-01' + (n * 3), 'held'
            FROM unnest($1::text[]) AS code, generate_series(1, $2) AS n""", codes, MARKET_DAYS_PER_PROVINCE)
        await db.execute("""
            WITH days AS (SELECT id, province_code, row_number() OVER (ORDER BY id) - 1 AS k FROM market_days),
                 counted AS (SELECT count(*) AS c FROM days)
            INSERT INTO sales (id, revision, province_code, market_day_id, product_id, quantity, unit_price_thb,
                               amount_thb, voided, sold_at)
            SELECT gen_random_uuid(), 1 + (i % 3), d.province_code, d.id,
                   ('00000000-0000-4000-8000-' || lpad(to_hex(i % 5000), 12, '0'))::uuid,
                   1 + i % 4, 45.50, (1 + i % 4) * 45.50, i % 50 = 0, TIMESTAMPTZ '2019-06-15 10:00+07'
            FROM counted CROSS JOIN generate_series(0, $1 - 1) AS i
            JOIN days d ON d.k = i % counted.c""", sales)
        await db.execute("ANALYZE")
    finally:
        await db.close()


async def expected_total(database_url: str, province_code: str | None = None) -> str:
    db = await asyncpg.connect(database_url)
    try:
        total = await db.fetchval("SELECT sum(amount_thb) FROM sales WHERE NOT voided "
                                  "AND ($1::text IS NULL OR province_code = $1)", province_code)
        return f"{total:.2f}"
    finally:
        await db.close()


async def measure(database_url: str, kafka_bootstrap: str, sales: int) -> dict[str, float]:
    engine = make_engine(database_url)
    await upgrade(engine, "monitoring", tables.metadata)
    await engine.dispose()
    await fill(database_url, sales)
    await skip_earlier_events(kafka_bootstrap)  # only the rows written here
    timings = {}
    async with running_service(spec, database_url, kafka_bootstrap) as http:
        for name, path, headers in (("national", "/national/reports/2019/6", DEPARTMENT),
                                    ("province", "/provinces/72/reports/2019/6", OFFICER)):
            await report(http, path, headers)  # warm up (connections, plans)
            started = time.perf_counter()
            body = await report(http, path, headers)
            timings[name] = time.perf_counter() - started
            timings[f"{name}_body"] = body
    return timings


async def test_reports_over_many_sales_are_exact_and_fast(database_url, kafka_bootstrap):
    timings = await measure(database_url, kafka_bootstrap, 200_000)
    national, province = timings["national_body"], timings["province_body"]
    assert len(national["provinces"]) == 77
    assert national["totals"]["sales"] == 200_000 - 200_000 // 50
    assert national["totals"]["sales_thb"] == await expected_total(database_url)
    assert province["results"]["summary"]["sales_thb"] == await expected_total(database_url, "72")
    assert province["results"]["summary"]["market_days_held"] == MARKET_DAYS_PER_PROVINCE
    print(f"200k sales: national report {timings['national']:.3f}s, province report {timings['province']:.3f}s")
    assert timings["national"] < 5 and timings["province"] < 5  # generous: a shared 2-core machine


if __name__ == "__main__":
    async def main(count: int) -> None:
        url, bootstrap = os.environ["OTOP_TEST_DATABASE_URL"], os.environ["OTOP_TEST_KAFKA_BOOTSTRAP"]
        name = f"bench_{int(time.time())}"
        admin = await asyncpg.connect(url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        timings = await measure(url.rsplit("/", 1)[0] + f"/{name}", bootstrap, count)
        print({k: round(v, 3) for k, v in timings.items() if not k.endswith("_body")})

    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
