"""Registry use cases: change state and stage the matching event in one transaction."""

from uuid import UUID, uuid4

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import tables
from services.registry.domain import NewProduct
from shared.contracts.registry import ProductRegistered
from shared.service import Database


async def register_product(db: Database, session: AsyncSession, province_code: str, new: NewProduct) -> dict:
    product_id = uuid4()
    row = {"id": product_id, "province_code": province_code, **new.model_dump()}
    await session.execute(insert(tables.products).values(row))
    await db.add_event(session, ProductRegistered(product_id=product_id, **new.model_dump()), province_code=province_code)
    return row


async def get_product(session: AsyncSession, province_code: str, product_id: UUID) -> dict | None:
    found = await session.execute(
        select(tables.products).where(
            tables.products.c.province_code == province_code, tables.products.c.id == product_id
        )
    )
    row = found.mappings().first()
    return dict(row) if row else None
