"""The products and market days this service knows, from the registry's and scheduling's
events."""

from sqlalchemy import BindParameter, Uuid, any_, bindparam, func, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.sales import tables
from shared.contracts.registry import ProductState
from shared.contracts.scheduling import MarketDayState
from shared.events import Envelope
from shared.unit_of_work import UnitOfWork


def product_row(envelope: Envelope, event: ProductState) -> dict:
    """The products read model's row of a product event (kept by shared.read_models.newest_state)."""
    return {
        "id": event.product_id,
        "province_code": envelope.province_code,
        **event.model_dump(
            include={"revision", "producer_id", "name", "category", "price_thb", "unit", "status"}
        ),
    }


async def products_arrived(uow: UnitOfWork, rows: list[dict]) -> None:
    await _retry_held_now(uow.session, tables.held_sales.c.product_id == any_(_ids(rows)))


def market_day_row(envelope: Envelope, event: MarketDayState) -> dict:
    return {
        "id": event.market_day_id,
        "province_code": envelope.province_code,
        **event.model_dump(include={"revision", "venue_id", "venue_name", "day", "status"}),
    }


async def market_days_arrived(uow: UnitOfWork, rows: list[dict]) -> None:
    await _retry_held_now(uow.session, tables.held_sales.c.market_day_id == any_(_ids(rows)))


def _ids(rows: list[dict]) -> BindParameter:
    """The rows' ids as one array parameter (the statement stays the same whatever the batch's size)."""
    return bindparam("ids", [row["id"] for row in rows], type_=ARRAY(Uuid()))


async def _retry_held_now(session: AsyncSession, waiting_on) -> None:
    """A reference arrived: the sales held for it are due for re-evaluation now."""
    await session.execute(update(tables.held_sales).where(waiting_on).values(next_retry_at=func.now()))
