"""Products as monitoring knows them (read model of the registry's events)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.monitoring.api.common import READ, Db
from services.monitoring.handlers import read_models
from shared.auth import province_access

router = APIRouter(prefix="/provinces/{province_code}", tags=["products"])


class ProductView(BaseModel):
    id: UUID
    name: str
    category: str
    star_level: int
    quadrant: str
    nawatwithi: bool
    price_thb: Decimal
    unit: str
    status: str
    registered_at: datetime


class ProductPage(BaseModel):
    total: int
    items: list[ProductView]


@router.get("/products", response_model=ProductPage)
async def list_products(
    db: Db,
    province_code: str = province_access(*READ),  # not integrations: a POS needs no product list
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,  # bigger overflows the SQL OFFSET: a 500
) -> dict:
    async with db.sessions() as session:
        total, items = await read_models.list_products(session, province_code, limit, offset)
    return {"total": total, "items": items}
