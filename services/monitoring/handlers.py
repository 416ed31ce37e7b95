"""Monitoring use cases: read models kept from other services' events, and queries over them."""

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.monitoring import tables
from shared.contracts.registry import ProductRegistered
from shared.events import Envelope


async def product_registered(session: AsyncSession, envelope: Envelope, event: ProductRegistered) -> None:
    row = {
        "id": event.product_id,
        "province_code": envelope.province_code,
        "registered_at": envelope.occurred_at,
        **event.model_dump(exclude={"product_id"}),
    }
    await session.execute(insert(tables.products).values(row).on_conflict_do_nothing(index_elements=["id"]))


async def list_products(session: AsyncSession, province_code: str, limit: int, offset: int) -> tuple[int, list[dict]]:
    where = tables.products.c.province_code == province_code
    total = await session.scalar(select(func.count()).select_from(tables.products).where(where))
    rows = await session.execute(
        select(tables.products).where(where).order_by(tables.products.c.registered_at, tables.products.c.id)
        .limit(limit).offset(offset)
    )
    return total, [dict(r) for r in rows.mappings()]
