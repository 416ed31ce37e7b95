"""What the printed and shared artefacts are made of: the renderers' inputs (media.inputs) built from the
same read-model queries as the pages, with the lineup's photos fetched from the registry's public photo
route. A photo that cannot be had leaves its product without one: an artefact never fails for a photo."""

import asyncio
import logging
from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

import geothai
import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.publicity import tables
from services.publicity.handlers import queries
from services.publicity.media.inputs import (
    DayAnnouncement,
    LineupItem,
    MarketDay,
    MonthDay,
    MonthProgramme,
    Province,
)
from services.publicity.media.poster import SHOWN
from services.publicity.pages import district_name
from shared.contracts.scheduling import MarketDayStatus
from shared.errors import NotFound

log = logging.getLogger(__name__)
PHOTO_TIMEOUT_S = 2.0
md, lu, p = tables.market_days.c, tables.lineup.c, tables.products.c


def province(province_code: str) -> Province:
    found = geothai.province(province_code)
    if found is None:
        raise NotFound("no such province")
    return Province(code=province_code, name_th=found.name_th, name_en=found.name_en)


def _market_day(row: Mapping[str, Any]) -> MarketDay:
    return MarketDay(
        day=row["day"],
        starts=row["starts_at"],  # a day without hours yet (scheduling allows it): "announced later"
        ends=row["ends_at"],
        venue_name=row["venue_name"],
        address=row["venue_address"] or "",
    )


async def _photo(client: httpx.AsyncClient, photo_id: UUID) -> bytes | None:
    try:
        response = await client.get(f"/photos/{photo_id}/card.jpg")
        response.raise_for_status()
        return response.content
    except httpx.HTTPError as error:
        log.warning("photo %s not fetched: %s", photo_id, error)
        return None


async def photos(photos_url: str | None, photo_ids: list[UUID | None]) -> list[bytes | None]:
    """The card-size JPEG of each photo id (None where there is none or it could not be fetched)."""
    wanted = [photo_id for photo_id in photo_ids if photo_id is not None]
    if not photos_url or not wanted:
        return [None] * len(photo_ids)
    async with httpx.AsyncClient(base_url=photos_url, timeout=PHOTO_TIMEOUT_S) as client:
        fetched = dict(
            zip(wanted, await asyncio.gather(*(_photo(client, each) for each in wanted)), strict=True)
        )
    return [fetched.get(photo_id) if photo_id else None for photo_id in photo_ids]


async def day_announcement(
    session: AsyncSession, province_code: str, market_day_id: UUID, page_url: str, photos_url: str | None
) -> DayAnnouncement:
    found = await queries.market_day(session, province_code, market_day_id)
    lineup = found["lineup"]
    jpegs = await photos(photos_url, [product["photo_id"] for product in lineup[:SHOWN]])
    jpegs += [None] * (len(lineup) - len(jpegs))
    items = tuple(
        LineupItem(
            product_name=product["name"],
            price_thb=product["price_thb"],
            unit=product["unit"],
            photo_jpeg=jpeg,
            producer=" ".join(
                part
                for part in (product["producer_name"], district_name(product["producer_amphoe_code"], "th"))
                if part
            )
            or None,
        )
        for product, jpeg in zip(lineup, jpegs, strict=True)
    )
    return DayAnnouncement(
        province=province(province_code), page_url=page_url, market_day=_market_day(found), lineup=items
    )


async def month_programme(
    session: AsyncSession, province_code: str, year: int, month: int, page_url: str
) -> MonthProgramme:
    """The province's market days of the month that are not cancelled, with their confirmed products and
    producers; NotFound if there is none."""
    first = date(year, month, 1)
    after = date(year + month // 12, month % 12 + 1, 1)
    accepted = (lu.market_day_id == md.id) & (lu.status == queries.ACCEPTED)
    products = select(func.count()).where(accepted).scalar_subquery().label("products")
    producers = (  # an invitation's producer_id is absent from early events: the product's is kept
        select(func.count(p.producer_id.distinct()))
        .select_from(tables.lineup.join(tables.products, p.id == lu.product_id))
        .where(accepted)
        .scalar_subquery()
        .label("producers")
    )
    rows = await session.execute(
        select(*queries.DAY_COLUMNS, products, producers)
        .select_from(queries.WITH_VENUE)
        .where(
            md.province_code == province_code,
            md.day >= first,
            md.day < after,
            md.status != MarketDayStatus.CANCELLED,
        )
        .order_by(md.day, md.starts_at)
    )
    days = tuple(
        MonthDay(market_day=_market_day(row), products=row["products"], producers=row["producers"])
        for row in map(dict, rows.mappings())
    )
    if not days:
        raise NotFound("no market days in this province that month")
    return MonthProgramme(
        province=province(province_code), page_url=page_url, year=year, month=month, days=days
    )
