"""The outcomes view at the whole country's size: `python -m bench.outcomes [--database-url URL]`.

Not through the loaded stack (loading the national demo through the services takes ~30 minutes): a
national-size read model is bulk-inserted (COPY) straight into a scratch monitoring database built by the
service's own migrations, from deploy/local/national_data.py's generators (77 provinces, their producers,
products, venues and 16 market days each). What the scheduling, sales and registry services would have
sent is drawn here, seeded: each market day's lineup (the province's lineup target, four in five from
the programme's intended products), about one invitation in eight declined with a reason and replaced,
attendance (nineteen in twenty of those who accepted), sales per product present (national_data.sales_for,
one sale per draw), and mentoring groups (an experienced producer with three new ones of the same category).
The totals the consumers keep (market_day_sales, product_day_sales, and the outcomes view's
producer_days, product_days, intended_products) are filled by the
same INSERT … SELECT as their migrations' backfills, not through the consumers. `--time-only` times a
database filled before (upgraded by the service's migrations first: a database filled by an older
revision gets the newer tables' backfills).
Then the outcome queries and computations (handlers.outcomes, the routes' code without HTTP) are timed,
answers serialised to JSON as the API would (a province's with the first page of its never-invited
products, as the route answers by default): median of 5 after a warm-up, in wall time and in this
process's CPU time (the Python side only, PostgreSQL's excluded; it hardly moves when the machine is
shared, unlike wall time)."""

import argparse
import asyncio
import json
import random
import statistics
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from deploy.local.national_data import lineup_target, national_season, sales_for
from services.monitoring import tables
from services.monitoring.handlers import outcomes
from services.monitoring.handlers.read_models import outcome_totals_sql
from shared.contracts.scheduling import DeclineReason
from shared.migrations import upgrade

SEASON = (date(2019, 1, 1), date(2019, 12, 31))
INTENDED_SHARE, DECLINE_SHARE, SHOW_UP = 0.8, 0.125, 0.95


def uid(*keys: object) -> UUID:
    return uuid5(NAMESPACE_URL, "/".join(map(str, keys)))


def _intended(row: dict) -> bool:
    return row["status"] == "active" and (
        row["quadrant"] == "D" or int(row["star_level"]) <= 3 or row["nawatwithi"] == "true"
    )


def province_rows(province) -> dict[str, list[tuple]]:
    """One province's read-model rows, by table."""
    code, rng = province.code, random.Random(f"bench-outcomes/{province.code}")
    out: dict[str, list[tuple]] = defaultdict(list)
    now = datetime(2019, 5, 1, tzinfo=UTC)
    producers: dict[str, tuple[UUID, bool, str]] = {}
    products = []
    for n, row in enumerate(province.rows):
        name = row["producer_name"]
        if name not in producers:
            producers[name] = (uid(code, name), row["experienced"] == "true", row["category"])
            out["producers"].append(
                (producers[name][0], 1, code, name, row["producer_type"], producers[name][1], True, None)
            )
        price = Decimal(row["price_thb"])
        product = (uid(code, "product", n), producers[name][0], price, _intended(row), row)
        products.append(product)
        out["products"].append(
            (
                product[0],
                1,
                code,
                product[1],
                row["name"],
                row["category"],
                int(row["star_level"]),
                row["quadrant"],
                row["nawatwithi"] == "true",
                product[2],
                row["unit"],
                row["status"],
                now,
            )
        )
    active = [p for p in products if p[4]["status"] == "active"]
    intended, others = [p for p in active if p[3]], [p for p in active if not p[3]]
    target = lineup_target(len(province.rows))
    for md in province.market_days:
        day_id, venue = uid(code, "day", md.index), province.venues[md.venue]
        out["market_days"].append(
            (
                day_id,
                3,
                code,
                None,
                uid(code, "venue", md.venue),
                venue["name"],
                venue["kind"],
                md.day,
                md.starts_at,
                md.ends_at,
                "held",
                None,
            )
        )
        wanted = round(target * INTENDED_SHARE)
        lineup = rng.sample(intended, min(wanted, len(intended)))
        lineup += rng.sample(others, min(target - len(lineup), len(others)))
        spare = [p for p in active if p not in lineup]
        came = []
        for n, product in enumerate(lineup):
            if rng.random() < DECLINE_SHARE and spare:
                reason = rng.choice(list(DeclineReason))
                declined = (uid(day_id, "declined", n), code, day_id, product[0], product[1], "declined")
                out["invitations"].append((*declined, reason, None, now))
                product = spare.pop(rng.randrange(len(spare)))
            out["invitations"].append(
                (uid(day_id, n), code, day_id, product[0], product[1], "accepted", None, None, now)
            )
            if rng.random() < SHOW_UP:
                came.append(product)
        out["attendance"].append(
            (day_id, 1, code, [p[0] for p in came], list(dict.fromkeys(p[1] for p in came)))
        )
        sold_at = datetime.combine(md.day, md.starts_at, UTC)
        for product in came:
            for n, items in enumerate(sales_for(product[2], rng)):
                amount = product[2] * items
                out["sales"].append(
                    (
                        uid(day_id, product[0], n),
                        1,
                        code,
                        day_id,
                        product[0],
                        product[1],
                        Decimal(items),
                        product[2],
                        amount,
                        False,
                        sold_at,
                    )
                )
    new = [p for p in producers.values() if not p[1]]
    old = [p for p in producers.values() if p[1]]
    for n in range(len(new) // 10):
        category = new[n * 3][2]
        mentor = next((p for p in old if p[2] == category), old[n % len(old)])
        mentees = [p[0] for p in new[n * 3 : n * 3 + 3]]
        name = f"กลุ่มแลกเปลี่ยนเรียนรู้ {n + 1}"
        out["mentoring_groups"].append(
            (uid(code, "group", n), 1, code, name, category, [mentor[0]], mentees, "active")
        )
    return out


COLUMNS = {
    "producers": [
        "id",
        "revision",
        "province_code",
        "name",
        "producer_type",
        "experienced",
        "available",
        "unavailable_reason",
    ],
    "products": [
        "id",
        "revision",
        "province_code",
        "producer_id",
        "name",
        "category",
        "star_level",
        "quadrant",
        "nawatwithi",
        "price_thb",
        "unit",
        "status",
        "registered_at",
    ],
    "market_days": [
        "id",
        "revision",
        "province_code",
        "plan_id",
        "venue_id",
        "venue_name",
        "venue_kind",
        "day",
        "starts_at",
        "ends_at",
        "status",
        "cancel_reason",
    ],
    "invitations": [
        "id",
        "province_code",
        "market_day_id",
        "product_id",
        "producer_id",
        "status",
        "reason",
        "note",
        "as_of",
    ],
    "attendance": ["market_day_id", "revision", "province_code", "product_ids", "producer_ids"],
    "sales": [
        "id",
        "revision",
        "province_code",
        "market_day_id",
        "product_id",
        "producer_id",
        "quantity",
        "unit_price_thb",
        "amount_thb",
        "voided",
        "sold_at",
    ],
    "mentoring_groups": [
        "id",
        "revision",
        "province_code",
        "name",
        "category",
        "mentor_ids",
        "mentee_ids",
        "status",
    ],
}


async def fill(database_url: str, scale: float, provinces: list[str] | None) -> dict[str, int]:
    await migrate(database_url)
    counts: dict[str, int] = defaultdict(int)
    db = await asyncpg.connect(database_url)
    try:
        for province in national_season(scale, provinces):
            for table, rows in province_rows(province).items():
                await db.copy_records_to_table(table, records=rows, columns=COLUMNS[table])
                counts[table] += len(rows)
        await db.execute(
            """INSERT INTO market_day_sales (market_day_id, sales, sales_thb)
               SELECT market_day_id, count(*), sum(amount_thb) FROM sales WHERE NOT voided GROUP BY 1"""
        )
        await db.execute(
            """INSERT INTO product_day_sales (market_day_id, product_id, sales, sales_thb)
               SELECT market_day_id, product_id, count(*), sum(amount_thb) FROM sales WHERE NOT voided
               GROUP BY 1, 2"""
        )
        for statement in outcome_totals_sql("IS NOT NULL"):  # as the migration's backfill: every day
            await db.execute(statement)
        await db.execute("VACUUM ANALYZE")
    finally:
        await db.close()
    return dict(counts)


async def time_outcomes(database_url: str, province_codes: list[str], repeats: int = 5) -> dict:
    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    sessions = async_sessionmaker(engine)
    results: dict = {}

    async def national() -> str:
        async with sessions() as session:
            return (await outcomes.country_outcomes(session, *SEASON)).model_dump_json()

    def province(code: str):
        async def run() -> str:
            async with sessions() as session:
                season = await outcomes.season_outcomes(session, code, *SEASON, outcomes.FIRST_PAGE)
                return season.model_dump_json()

        return run

    try:
        for name, run in [("national", national), *((f"province {c}", province(c)) for c in province_codes)]:
            body = await run()  # warm-up: connections, plans
            times, cpu = [], []
            for _ in range(repeats):
                started, cpu_started = time.perf_counter(), time.process_time()
                body = await run()
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
            results[name] = {
                "median_ms": round(statistics.median(times) * 1000, 1),
                "best_ms": round(min(times) * 1000, 1),
                "cpu_median_ms": round(statistics.median(cpu) * 1000, 1),
                "bytes": len(body),
            }
    finally:
        await engine.dispose()
    return results


async def migrate(database_url: str) -> None:
    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    await upgrade(engine, "monitoring", tables.metadata)
    await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    if args.time_only:
        await migrate(args.database_url)
        counts: dict[str, int] = {}
    else:
        counts = await fill(args.database_url, args.scale, args.provinces)
    load_s = time.perf_counter() - started
    sizes = {}
    db = await asyncpg.connect(args.database_url)
    try:
        for row in await db.fetch(
            "SELECT province_code, count(*) AS n FROM products GROUP BY 1 ORDER BY n DESC LIMIT 1"
        ):
            sizes["largest"] = row["province_code"]
    finally:
        await db.close()
    codes = list(dict.fromkeys([sizes["largest"], *args.time_provinces]))
    timings = await time_outcomes(args.database_url, codes)
    print(json.dumps({"rows": counts, "load_s": round(load_s, 1), "timings": timings}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty scratch database (postgresql://...)")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: the whole country")
    parser.add_argument("--provinces", nargs="*", default=None, help="only these provinces (default: all 77)")
    parser.add_argument("--time-only", action="store_true", help="a database filled before: time only")
    parser.add_argument("--time-provinces", nargs="*", default=["72"], help="timed besides the largest")
    asyncio.run(main(parser.parse_args()))
