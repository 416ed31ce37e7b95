"""Monitoring use cases: read models kept from other services' events, and queries over them."""

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.monitoring import tables
from shared.contracts.registry import ProductState
from shared.events import Envelope


async def product_changed(session: AsyncSession, envelope: Envelope, event: ProductState) -> None:
    """Keep the newest revision of each product (events may come again, or out of order)."""
    row = {
        "id": event.product_id,
        "province_code": envelope.province_code,
        "registered_at": envelope.occurred_at,
        **event.model_dump(include={"revision", "producer_id", "name", "category", "star_level", "quadrant",
                                    "nawatwithi", "price_thb", "unit", "status"}),
    }
    stmt = insert(tables.products).values(row)
    newer = {k: stmt.excluded[k] for k in row if k not in ("id", "registered_at")}
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["id"], set_=newer, where=tables.products.c.revision < stmt.excluded.revision))


async def list_products(session: AsyncSession, province_code: str, limit: int, offset: int) -> tuple[int, list[dict]]:
    where = tables.products.c.province_code == province_code
    total = await session.scalar(select(func.count()).select_from(tables.products).where(where))
    rows = await session.execute(
        select(tables.products).where(where).order_by(tables.products.c.registered_at, tables.products.c.id)
        .limit(limit).offset(offset)
    )
    return total, [dict(r) for r in rows.mappings()]
