"""Reading sales, their audit trail, totals, held sales and integrations; every query is scoped to a
province."""

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.sales import tables
from services.sales.domain import (
    TotalsBy,
)
from shared.db import one_row


async def list_integrations(session: AsyncSession, province_code: str) -> list[dict]:
    integrations, keys = tables.integrations, tables.integration_keys
    found = {
        row["id"]: {**row, "keys": []}
        for row in (
            await session.execute(
                select(integrations)
                .where(integrations.c.province_code == province_code)
                .order_by(integrations.c.created_at)
            )
        ).mappings()
    }
    for key in (
        await session.execute(
            select(keys.c.key_id, keys.c.integration_id, keys.c.active, keys.c.created_at, keys.c.revoked_at)
            .where(keys.c.province_code == province_code)
            .order_by(keys.c.created_at)
        )
    ).mappings():
        found[key["integration_id"]]["keys"].append(key)
    return list(found.values())


async def get_sale(session: AsyncSession, province_code: str, sale_id: UUID) -> dict:
    return await one_row(
        session,
        select(tables.sales).where(
            tables.sales.c.province_code == province_code, tables.sales.c.sale_id == sale_id
        ),
        "no such sale in this province",
    )


async def list_sales(
    session: AsyncSession,
    province_code: str,
    market_day_id: UUID | None,
    product_id: UUID | None,
    limit: int,
    offset: int,
) -> tuple[int, list[dict]]:
    sales = tables.sales
    where = [sales.c.province_code == province_code]
    if market_day_id:
        where.append(sales.c.market_day_id == market_day_id)
    if product_id:
        where.append(sales.c.product_id == product_id)
    total = await session.scalar(select(func.count()).select_from(sales).where(*where)) or 0
    rows = await session.execute(
        select(sales).where(*where).order_by(sales.c.recorded_at, sales.c.sale_id).limit(limit).offset(offset)
    )
    return total, [dict(row) for row in rows.mappings()]


async def audit_trail(session: AsyncSession, province_code: str, sale_id: UUID) -> list[dict]:
    audit = tables.sale_audit
    rows = await session.execute(
        select(audit)
        .where(audit.c.province_code == province_code, audit.c.sale_id == sale_id)
        .order_by(audit.c.revision)
    )
    return [dict(row) for row in rows.mappings()]


async def list_held(
    session: AsyncSession, province_code: str, limit: int, offset: int, integration_id: UUID | None = None
) -> list[dict]:
    """The province's held sales, or those of one integration."""
    held, products, market_days = tables.held_sales, tables.products, tables.market_days
    rows = await session.execute(
        select(
            held.c.integration_sale_id,
            held.c.key_id,
            held.c.product_id,
            held.c.market_day_id,
            held.c.held_at,
            held.c.attempts,
            held.c.next_retry_at,
            products.c.id.is_not(None).label("product_known"),
            market_days.c.id.is_not(None).label("market_day_known"),
        )
        .select_from(
            held.outerjoin(products, products.c.id == held.c.product_id).outerjoin(
                market_days, market_days.c.id == held.c.market_day_id
            )
        )
        .where(
            held.c.province_code == province_code,
            *([held.c.integration_id == integration_id] if integration_id else []),
        )
        .order_by(held.c.held_at, held.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(row) for row in rows.mappings()]


async def totals(
    session: AsyncSession, province_code: str, by: TotalsBy, first_day: date | None, last_day: date | None
) -> list[dict]:
    """Sales (voids excluded, corrections applied) per product, market day, producer, venue, month or
    category; market days dated within [first_day, last_day] if given."""
    sales, products, market_days = tables.sales, tables.products, tables.market_days
    key, label = {
        TotalsBy.PRODUCT: (sales.c.product_id, products.c.name),
        TotalsBy.MARKET_DAY: (
            sales.c.market_day_id,
            func.concat(func.to_char(market_days.c.day, "YYYY-MM-DD"), " ", market_days.c.venue_name),
        ),
        TotalsBy.PRODUCER: (sales.c.producer_id, None),
        TotalsBy.VENUE: (market_days.c.venue_id, market_days.c.venue_name),
        TotalsBy.MONTH: (func.to_char(market_days.c.day, "YYYY-MM"), None),
        TotalsBy.CATEGORY: (products.c.category, None),
    }[by]
    group: list[Any] = [key] if label is None else [key, label]
    where = [sales.c.province_code == province_code, sales.c.voided.is_(False)]
    if first_day:
        where.append(market_days.c.day >= first_day)
    if last_day:
        where.append(market_days.c.day <= last_day)
    rows = await session.execute(
        select(
            cast(key, String).label("key"),
            (label if label is not None else cast(None, String)).label("label"),
            func.count().label("sales"),
            func.sum(sales.c.quantity).label("quantity"),
            func.sum(sales.c.amount_thb).label("amount_thb"),
        )
        .select_from(
            sales.outerjoin(products, products.c.id == sales.c.product_id).outerjoin(
                market_days, market_days.c.id == sales.c.market_day_id
            )
        )
        .where(*where)
        .group_by(*group)
        .order_by(func.sum(sales.c.amount_thb).desc(), cast(key, String))
    )
    return [dict(row) for row in rows.mappings()]
