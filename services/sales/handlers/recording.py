"""Recording sales, the same for every channel (officers, POS over Kafka or HTTP, held sales): judge each
sale by what the read models know, store the new ones in bulk with their SaleRecorded events."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.sales import tables
from services.sales.domain import (
    Verdict,
    amount_thb,
    judge,
)
from shared.contracts.sales import SaleChannel, SaleRecorded
from shared.db import arrays, unnested
from shared.errors import Refused
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Judged:
    verdict: Verdict | Refused
    product: Mapping[str, Any] | None
    market_day: Mapping[str, Any] | None

    @property
    def known_product(self) -> Mapping[str, Any]:
        """The product of a sale judged RECORD (the read model knows it)."""
        assert self.product is not None, "a sale is recorded only with its product known"
        return self.product


async def judge_sales(session: AsyncSession, sales: Sequence[tuple[str, UUID, UUID]]) -> list[Judged]:
    """For each (province, product, market day): record, hold or refuse, by what the read models know."""
    judged = []
    for (province_code, _, _), (product, market_day) in zip(
        sales, await known_references(session, sales), strict=True
    ):
        verdict: Verdict | Refused
        try:
            verdict = judge(province_code, product, market_day)
        except Refused as refused:
            verdict = refused
        judged.append(Judged(verdict, product, market_day))
    return judged


async def known_references(
    session: AsyncSession, sales: Sequence[tuple[str, UUID, UUID]]
) -> list[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]]:
    """For each (province, product, market day): the product's and the market day's read-model rows (None
    for one not known yet)."""
    products = await _by_id(session, tables.products, {product for _, product, _ in sales})
    days = await _by_id(session, tables.market_days, {day for _, _, day in sales})
    return [(products.get(product_id), days.get(market_day_id)) for _, product_id, market_day_id in sales]


async def _by_id(session: AsyncSession, table, ids: set) -> dict:
    rows = await session.execute(select(table).where(table.c.id.in_(ids)))
    return {row["id"]: row for row in rows.mappings()}


def sale_row(
    *,
    sale_id: UUID,
    province_code: str,
    product: Mapping,
    market_day_id: UUID,
    quantity,
    unit_price_thb,
    sold_at: datetime,
    channel: SaleChannel,
    recorded_by: str,
    integration_id: UUID | None = None,
    integration_sale_id: str | None = None,
) -> dict:
    return {
        "sale_id": sale_id,
        "province_code": province_code,
        "revision": 1,
        "market_day_id": market_day_id,
        "product_id": product["id"],
        "producer_id": product["producer_id"],
        "quantity": quantity,
        "unit_price_thb": unit_price_thb,
        "amount_thb": amount_thb(quantity, unit_price_thb),
        "sold_at": sold_at,
        "channel": channel,
        "voided": False,
        "integration_id": integration_id,
        "integration_sale_id": integration_sale_id,
        "recorded_by": recorded_by,
        "recorded_at": datetime.now(UTC),
    }


_SALE_COLUMNS = [column.name for column in tables.sales.c]


_INSERT_SALES = (
    insert(tables.sales)
    .from_select(_SALE_COLUMNS, unnested(tables.sales, _SALE_COLUMNS))
    .on_conflict_do_nothing()
    .returning(tables.sales)
)


async def store_sales(uow: UnitOfWork, rows: Sequence[tuple[dict, UUID | None]]) -> dict[UUID, dict]:
    """Insert sales in bulk, each (row, correlation id), skipping an integration's sale already stored,
    and stage a SaleRecorded for each one inserted. Returns the inserted sales as stored, by id."""
    unique = {row["sale_id"]: correlation for row, correlation in rows}
    if not unique:
        return {}
    inserted = {
        row["sale_id"]: dict(row)
        for row in (
            await uow.session.execute(
                _INSERT_SALES, arrays({row["sale_id"]: row for row, _ in rows}.values(), _SALE_COLUMNS)
            )
        ).mappings()
    }
    for sale_id, row in inserted.items():
        uow.emit(
            SaleRecorded.model_validate(row),
            province_code=row["province_code"],
            correlation_id=unique[sale_id],
        )
    return inserted
