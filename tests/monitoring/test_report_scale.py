"""The national roll-up and a province's report stay fast with many sales: totals are GROUP BYs in
PostgreSQL over the latest revision of each sale (the `sales_counted` index), not rows in Python.

The read-model rows are written straight into the service's database here (as its consumers would
leave them, bench.reports.fill) so that a few hundred thousand sales take seconds to set up; the reports
are read over HTTP. `bash bench/run.sh --report-sales 10000000` measures a bigger load
(docs/benchmarks.md)."""

import time

import asyncpg
import pytest
from alembic import command

from bench.reports import MARKET_DAYS_PER_PROVINCE, fill
from services.monitoring import tables
from services.monitoring.main import spec
from shared.db import make_engine
from shared.migrations import alembic_config, upgrade
from tests.conftest import running_service
from tests.monitoring.support import DEPARTMENT, OFFICER, report, skip_earlier_events

pytestmark = pytest.mark.integration


async def expected_total(database_url: str, province_code: str | None = None) -> str:
    db = await asyncpg.connect(database_url)
    try:
        total = await db.fetchval(
            "SELECT sum(amount_thb) FROM sales WHERE NOT voided AND ($1::text IS NULL OR province_code = $1)",
            province_code,
        )
        return f"{total:.2f}"
    finally:
        await db.close()


async def measure(database_url: str, kafka, sales: int) -> dict[str, float]:
    engine = make_engine(database_url)
    await upgrade(engine, "monitoring", tables.metadata)
    await engine.dispose()
    await fill(database_url, sales)
    await skip_earlier_events(kafka)  # only the rows written here
    timings = {}
    async with running_service(spec, database_url, kafka) as http:
        for name, path, headers in (
            ("national", "/national/reports/2019/6", DEPARTMENT),
            ("province", "/provinces/72/reports/2019/6", OFFICER),
        ):
            await report(http, path, headers)  # warm up (connections, plans)
            started = time.perf_counter()
            body = await report(http, path, headers)
            timings[name] = time.perf_counter() - started
            timings[f"{name}_body"] = body
    return timings


async def test_reports_over_many_sales_are_exact_and_fast(database_url, kafka):
    timings = await measure(database_url, kafka, 200_000)
    national, province = timings["national_body"], timings["province_body"]
    assert len(national["provinces"]) == 77
    assert national["totals"]["sales"] == 200_000 - 200_000 // 50
    assert national["totals"]["sales_thb"] == await expected_total(database_url)
    assert province["results"]["summary"]["sales_thb"] == await expected_total(database_url, "72")
    assert province["results"]["summary"]["market_days_held"] == MARKET_DAYS_PER_PROVINCE
    print(
        f"200k sales: national report {timings['national']:.3f}s, province report {timings['province']:.3f}s"
    )
    assert timings["national"] < 5 and timings["province"] < 5  # generous: a shared 2-core machine


async def test_a_database_from_before_the_market_day_totals_gets_them_once(database_url):
    engine = make_engine(database_url)
    await upgrade(engine, "monitoring", tables.metadata)
    await fill(database_url, 5_000)
    async with engine.begin() as conn:  # back to the revision before market_day_sales, sales kept
        await conn.run_sync(
            lambda sync: command.downgrade(alembic_config("monitoring", sync, tables.metadata), "-1")
        )
    await upgrade(engine, "monitoring", tables.metadata)
    await upgrade(engine, "monitoring", tables.metadata)  # at head now: nothing is added again
    await engine.dispose()
    db = await asyncpg.connect(database_url)
    try:
        totals = await db.fetch("SELECT market_day_id, sales, sales_thb FROM market_day_sales ORDER BY 1")
        expected = await db.fetch(
            "SELECT market_day_id, count(*) AS sales, sum(amount_thb) AS sales_thb FROM sales "
            "WHERE NOT voided GROUP BY 1 ORDER BY 1"
        )
    finally:
        await db.close()
    assert len(totals) == 77 * MARKET_DAYS_PER_PROVINCE
    assert [tuple(r) for r in totals] == [tuple(r) for r in expected]
    assert sum(r["sales"] for r in totals) == 5_000 - 5_000 // 50
