"""The spreadsheet import: every row of the file, or nothing (Problems names each problem by row and
column). The domain plans it (domain/sheet.py: `plan_import`); this writes the plan with its events."""

from collections import Counter
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import tables
from services.registry.domain import sheet
from services.registry.handlers.aggregates import change, create, serialize
from shared.contracts.registry import ProducerRegistered, ProducerUpdated, ProductRegistered, ProductUpdated
from shared.unit_of_work import UnitOfWork

producers, products = tables.producers, tables.products
COUNTS = (
    "producers_created",
    "producers_updated",
    "products_created",
    "products_updated",
    "products_unchanged",
)


async def _locked_by_id(session: AsyncSession, query: Select) -> dict[UUID, dict]:
    return {row["id"]: dict(row) for row in (await session.execute(query.with_for_update())).mappings()}


async def import_products(uow: UnitOfWork, province_code: str, rows: list[sheet.SheetRow]) -> dict:
    """The rows' producers and products created or updated; each row's outcome and the counts."""
    await serialize(uow.session, "import", province_code)
    known = await _locked_by_id(
        uow.session, select(producers).where(producers.c.province_code == province_code)
    )
    named = {sheet_id for row in rows if (sheet_id := sheet.as_uuid(row.cells.get("product_id", "")))}
    current = await _locked_by_id(
        uow.session,
        select(products).where(products.c.province_code == province_code, products.c.id.in_(named)),
    )
    plan = sheet.plan_import(province_code, rows, known, current)

    counts: Counter[str] = Counter()
    new_producers = [{"id": producer.id, **producer.fields} for producer in plan.producers if producer.new]
    await create(uow, producers, ProducerRegistered, province_code, new_producers)
    counts["producers_created"] = len(new_producers)
    for producer in plan.producers:
        if not producer.new:
            was = known[producer.id]
            changed = await change(uow, producers, ProducerUpdated, was, producer.fields)
            counts["producers_updated"] += changed["revision"] != was["revision"]
    await create(
        uow,
        products,
        ProductRegistered,
        province_code,
        [{"id": product.id, **product.fields} for product in plan.products if product.new],
    )
    outcomes = []
    for product in plan.products:
        outcome = "created"
        if not product.new:
            was = current[product.id]
            changed = await change(uow, products, ProductUpdated, was, product.fields)
            outcome = "updated" if changed["revision"] != was["revision"] else "unchanged"
        counts[f"products_{outcome}"] += 1
        outcomes.append({"row": product.row, "product_id": product.id, "outcome": outcome})
    return {"rows": outcomes, **{key: counts[key] for key in COUNTS}}
