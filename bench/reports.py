"""Report generation time over many stored sales: the rows are written straight into monitoring's
read-model tables (as its consumers would leave them), not sent through Kafka, so ten million sales
take minutes to set up; the reports are then read over HTTP from the running service."""

import time
from collections.abc import Mapping

import asyncpg
import geothai
import httpx

MARKET_DAYS_PER_PROVINCE = 8
NATIONAL_PATH, PROVINCE_PATH = "/national/reports/2019/6", "/provinces/72/reports/2019/6"


async def fill(database_url: str, sales: int) -> None:
    """77 provinces, 8 market days each in June 2019, `sales` sales over them (every 50th voided), and
    each market day's totals (`market_day_sales`), as the service's consumer would have left them.
    One INSERT ... SELECT over generate_series per table: the rows are made in the server, so none
    cross the wire (faster than COPY from a client)."""
    codes = [p.code for p in geothai.provinces()]
    db = await asyncpg.connect(database_url)
    try:
        days = await db.fetch(
            """
            INSERT INTO market_days (id, revision, province_code, venue_id, venue_name, venue_kind, day,
                                     status)
            SELECT gen_random_uuid(), 1, code, gen_random_uuid(), 'ตลาด ' || n, 'pracharat_market',
                   DATE '2019-06-01' + (n * 3), 'held'
            FROM unnest($1::text[]) AS code, generate_series(1, $2) AS n
            RETURNING id, province_code""",
            codes,
            MARKET_DAYS_PER_PROVINCE,
        )
        await db.execute(
            """
            WITH days AS (SELECT * FROM unnest($2::uuid[], $3::text[])
                          WITH ORDINALITY AS d (id, province_code, k))
            INSERT INTO sales (id, revision, province_code, market_day_id, product_id, quantity,
                               unit_price_thb, amount_thb, voided, sold_at)
            SELECT gen_random_uuid(), 1 + (i % 3), d.province_code, d.id,
                   ('00000000-0000-4000-8000-' || lpad(to_hex(i % 5000), 12, '0'))::uuid,
                   1 + i % 4, 45.50, (1 + i % 4) * 45.50, i % 50 = 0, TIMESTAMPTZ '2019-06-15 10:00+07'
            FROM generate_series(0, $1 - 1) AS i JOIN days d ON d.k = 1 + i % $4""",
            sales,
            [d["id"] for d in days],
            [d["province_code"] for d in days],
            len(days),
        )
        await db.execute(
            """
            INSERT INTO market_day_sales (market_day_id, sales, sales_thb)
            SELECT market_day_id, count(*), sum(amount_thb) FROM sales
            WHERE NOT voided AND market_day_id = ANY($1::uuid[]) GROUP BY market_day_id""",
            [d["id"] for d in days],
        )
        await db.execute("VACUUM ANALYZE")  # what autovacuum does soon after: index-only scans need it
    finally:
        await db.close()


async def timed_get(http: httpx.AsyncClient, path: str, headers: Mapping[str, str]) -> tuple[float, dict]:
    started = time.perf_counter()
    answer = await http.get(path, headers=headers)
    elapsed = time.perf_counter() - started
    answer.raise_for_status()
    return elapsed, answer.json()


async def time_reports(
    http: httpx.AsyncClient, department: Mapping[str, str], officer: Mapping[str, str], repeats: int = 5
) -> dict:
    """The national roll-up and one province-month: the best and median of `repeats` timed reads after a
    warm-up read (connections, plans), and the last bodies."""
    timings: dict = {}
    for name, path, headers in (
        ("national", NATIONAL_PATH, department),
        ("province", PROVINCE_PATH, officer),
    ):
        await timed_get(http, path, headers)
        runs = []
        for _ in range(repeats):
            elapsed, body = await timed_get(http, path, headers)
            runs.append(elapsed)
        runs.sort()
        timings[name] = {"median_s": runs[len(runs) // 2], "best_s": runs[0], "body": body}
    return timings
