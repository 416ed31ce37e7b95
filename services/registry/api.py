"""Registry HTTP API."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, status

from services.registry import handlers
from services.registry.domain import NewProduct
from shared.auth import Role, province_access
from shared.service import Database, database

router = APIRouter(prefix="/provinces/{province_code}", tags=["products"])
Db = Annotated[Database, Depends(database)]


class Product(NewProduct):
    id: UUID
    province_code: str
    created_at: datetime | None = None


@router.post("/products", status_code=status.HTTP_201_CREATED, response_model=Product)
async def register_product(
    new: NewProduct, db: Db, province_code: str = province_access(Role.PROVINCE_OFFICER, Role.DEPARTMENT)
) -> dict:
    async with db.transaction() as session:
        return await handlers.register_product(db, session, province_code, new)


@router.get("/products/{product_id}", response_model=Product)
async def get_product(product_id: UUID, db: Db, province_code: str = province_access()) -> dict:
    async with db.sessions() as session:
        product = await handlers.get_product(session, province_code, product_id)
    if product is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such product in this province")
    return product
