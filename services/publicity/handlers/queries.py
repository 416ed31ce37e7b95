"""What each public page reads: a few indexed queries of the read models, province by province. An unknown
province, market day or producer is NotFound (the pages answer it with the Thai 404 page)."""

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.publicity import tables
from shared.contracts.scheduling import MarketDayStatus
from shared.db import one_row
from shared.errors import NotFound

RECENT_DAYS = 8  # past market days a province page lists
md, v, p, pr, lu = (
    tables.market_days.c,
    tables.venues.c,
    tables.products.c,
    tables.producers.c,
    tables.lineup.c,
)
ACCEPTED = "accepted"
DAY_COLUMNS: list[Any] = [
    tables.market_days,
    v.address.label("venue_address"),
    v.amphoe_code.label("venue_amphoe_code"),
    v.tambon_code.label("venue_tambon_code"),
    v.latitude,
    v.longitude,
]
WITH_VENUE = tables.market_days.outerjoin(tables.venues, v.id == md.venue_id)


async def provinces(session: AsyncSession, today: date) -> list[dict]:
    """Every province with a market day ahead: its next day and how many are ahead."""
    rows = await session.execute(
        select(md.province_code, func.min(md.day).label("next_day"), func.count().label("ahead"))
        .where(md.day >= today, md.status == MarketDayStatus.SCHEDULED)
        .group_by(md.province_code)
    )
    return [dict(row._mapping) for row in rows]


async def known_provinces(session: AsyncSession) -> list[str]:
    """Provinces with any market day (the sitemap's)."""
    return list((await session.execute(select(md.province_code).distinct())).scalars())


async def province(session: AsyncSession, province_code: str, today: date) -> dict:
    """The province's market days (ahead, recent) with their confirmed products' counts, and its seasons."""
    confirmed = (
        select(func.count())
        .where(lu.market_day_id == md.id, lu.status == ACCEPTED)
        .scalar_subquery()
        .label("confirmed")
    )
    days = [
        dict(row._mapping)
        for row in await session.execute(
            select(*DAY_COLUMNS, confirmed)
            .select_from(WITH_VENUE)
            .where(md.province_code == province_code)
            .order_by(md.day, md.starts_at)
        )
    ]
    if not days:
        raise NotFound("no market days in this province")
    plans = [
        dict(row._mapping)
        for row in await session.execute(
            select(tables.plans).where(tables.plans.c.province_code == province_code).order_by("first_month")
        )
    ]
    ahead = [day for day in days if day["day"] >= today]
    past = [day for day in days if day["day"] < today]
    return {"ahead": ahead, "recent": past[-RECENT_DAYS:][::-1], "all": days, "plans": plans}


async def market_day(session: AsyncSession, province_code: str, market_day_id: UUID) -> dict:
    """A market day with its venue and its lineup (the products confirmed to come, with their producers)."""
    found = await one_row(
        session,
        select(*DAY_COLUMNS)
        .select_from(WITH_VENUE)
        .where(md.id == market_day_id, md.province_code == province_code),
        "no such market day in this province",
    )
    lineup = await session.execute(
        select(
            p.id,
            p.name,
            p.category,
            p.star_level,
            p.nawatwithi,
            p.price_thb,
            p.unit,
            p.photo_id,
            p.producer_id,
            pr.name.label("producer_name"),
            pr.amphoe_code.label("producer_amphoe_code"),
        )
        .select_from(
            tables.lineup.join(tables.products, p.id == lu.product_id).outerjoin(
                tables.producers, pr.id == p.producer_id
            )
        )
        .where(lu.market_day_id == market_day_id, lu.status == ACCEPTED)
        .order_by(p.category, p.name)
    )
    return {**found, "lineup": [dict(row._mapping) for row in lineup]}


async def producer(session: AsyncSession, province_code: str, producer_id: UUID, today: date) -> dict:
    """A producer (their contact only if stored, that is agreed to), their products on sale, and the market
    days ahead where their products are confirmed."""
    found = await one_row(
        session,
        select(tables.producers).where(pr.id == producer_id, pr.province_code == province_code),
        "no such producer in this province",
    )
    products = await session.execute(
        select(tables.products).where(p.producer_id == producer_id, p.active).order_by(p.category, p.name)
    )
    markets = await session.execute(
        select(*DAY_COLUMNS)
        .select_from(WITH_VENUE)
        .where(
            md.id.in_(
                select(lu.market_day_id).where(
                    lu.status == ACCEPTED,
                    lu.product_id.in_(select(p.id).where(p.producer_id == producer_id)),
                )
            ),
            md.day >= today,
        )
        .order_by(md.day)
    )
    return {
        **found,
        "products": [dict(row._mapping) for row in products],
        "markets": [dict(row._mapping) for row in markets],
    }


async def sitemap(session: AsyncSession, province_code: str) -> dict:
    """The province's public addresses: its market days (newest change first) and its producers with a
    product on sale."""
    days = await session.execute(
        select(md.id, md.changed_at).where(md.province_code == province_code).order_by(md.changed_at.desc())
    )
    producers = await session.execute(
        select(pr.id)
        .where(
            pr.province_code == province_code,
            select(p.id).where(and_(p.producer_id == pr.id, p.active)).exists(),
        )
        .order_by(pr.id)
    )
    return {"days": [dict(row._mapping) for row in days], "producers": list(producers.scalars())}
