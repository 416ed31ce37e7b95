"""The budget's reads, each filtered on the caller's province (the national ones are the department's)."""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.budget import domain, tables
from services.budget.handlers.read_models import IN_LINEUP
from shared.contracts.budget import BudgetCategory, BudgetLine, MaterialKind, PurchaseStatus
from shared.db import one_row
from shared.errors import NotFound
from shared.labels import BUDGET_CATEGORY_TH, MATERIAL_KIND_TH

proposals, versions, purchases = tables.proposals, tables.proposal_versions, tables.purchases


async def proposal_row(
    session: AsyncSession, province_code: str, proposal_id: UUID, lock: bool = False
) -> dict:
    query = select(proposals).where(proposals.c.province_code == province_code, proposals.c.id == proposal_id)
    return await one_row(
        session, query.with_for_update() if lock else query, "no such proposal in this province"
    )


async def version_rows(session: AsyncSession, proposal_id: UUID) -> list[dict]:
    rows = await session.execute(
        select(versions).where(versions.c.proposal_id == proposal_id).order_by(versions.c.version)
    )
    return [dict(row) for row in rows.mappings()]


def lines_of(version: dict | None) -> list[BudgetLine]:
    return [BudgetLine.model_validate(line) for line in version["lines"]] if version else []


async def get_proposal(session: AsyncSession, province_code: str, proposal_id: UUID) -> dict:
    """The proposal, every version (newest last) and the spending against the version in force."""
    proposal = await proposal_row(session, province_code, proposal_id)
    return {
        **proposal,
        "versions": await version_rows(session, proposal_id),
        "spending": await spending(session, province_code, proposal_id),
    }


async def list_proposals(session: AsyncSession, province_code: str) -> list[dict]:
    return await _proposals(session, proposals.c.province_code == province_code)


async def proposal_queue(session: AsyncSession, status: str | None) -> list[dict]:
    """Every province's proposals with their newest version (the department's queue: status=submitted)."""
    return await _proposals(session, versions.c.status == status if status else None)


async def _proposals(session: AsyncSession, where: Any) -> list[dict]:
    query = (
        select(
            proposals,
            versions.c.status,
            versions.c.total_thb,
            versions.c.submitted_by,
            versions.c.submitted_at,
            versions.c.comment,
        )
        .join(
            versions,
            (versions.c.proposal_id == proposals.c.id) & (versions.c.version == proposals.c.version),
        )
        .order_by(versions.c.submitted_at)
    )
    rows = await session.execute(query if where is None else query.where(where))
    return [dict(row) for row in rows.mappings()]


async def line_spending(session: AsyncSession, proposal: dict) -> dict[BudgetCategory, domain.LineSpending]:
    """Each line of the version in force: approved, committed (requested, not yet bought) and spent."""
    approved: dict[BudgetCategory, Decimal] = {}
    if proposal["approved_version"] is not None:
        version = (
            await session.execute(
                select(versions.c.lines).where(
                    versions.c.proposal_id == proposal["id"],
                    versions.c.version == proposal["approved_version"],
                )
            )
        ).scalar_one()
        approved = {line.category: domain.baht(line.amount_thb) for line in lines_of({"lines": version})}
    committed: dict[BudgetCategory, Decimal] = defaultdict(lambda: domain.ZERO)
    spent: dict[BudgetCategory, Decimal] = defaultdict(lambda: domain.ZERO)
    rows = await session.execute(
        select(
            purchases.c.category,
            purchases.c.status,
            func.sum(purchases.c.estimated_thb).label("estimated"),
            func.sum(purchases.c.amount_thb).label("amount"),
        )
        .where(purchases.c.proposal_id == proposal["id"])
        .group_by(purchases.c.category, purchases.c.status)
    )
    for row in rows:
        category = BudgetCategory(row.category)
        if row.status == PurchaseStatus.REQUESTED:
            committed[category] += row.estimated
        else:
            spent[category] += row.amount
    return {
        category: domain.LineSpending(
            category, approved.get(category, domain.ZERO), committed[category], spent[category]
        )
        for category in BudgetCategory
        if category in approved or committed[category] or spent[category]
    }


async def spending(session: AsyncSession, province_code: str, proposal_id: UUID) -> dict:
    proposal = await proposal_row(session, province_code, proposal_id)
    lines = await line_spending(session, proposal)
    rows = [
        {
            "category": line.category,
            "label": BUDGET_CATEGORY_TH[line.category],
            "approved_thb": line.approved,
            "committed_thb": line.committed,
            "spent_thb": line.spent,
            "remaining_thb": line.remaining,
        }
        for line in lines.values()
    ]
    return {
        "approved_version": proposal["approved_version"],
        "lines": rows,
        **{
            f"{name}_thb": domain.total(getattr(line, name) for line in lines.values())
            for name in ("approved", "committed", "spent")
        },
        "remaining_thb": domain.total(line.remaining for line in lines.values()),
    }


async def list_purchases(
    session: AsyncSession,
    province_code: str,
    proposal_id: UUID | None = None,
    purchase_id: UUID | None = None,
) -> list[dict]:
    query = select(purchases, tables.receipts.c.content_type.label("receipt_type")).outerjoin(
        tables.receipts, tables.receipts.c.purchase_id == purchases.c.id
    )
    query = query.where(purchases.c.province_code == province_code)
    if proposal_id is not None:
        query = query.where(purchases.c.proposal_id == proposal_id)
    if purchase_id is not None:
        query = query.where(purchases.c.id == purchase_id)
    rows = await session.execute(query.order_by(purchases.c.updated_at.desc()))
    return [{**row, "receipt": row["receipt_type"] is not None} for row in map(dict, rows.mappings())]


async def receipt(session: AsyncSession, province_code: str, purchase_id: UUID) -> dict:
    row = (
        (
            await session.execute(
                select(tables.receipts).where(
                    tables.receipts.c.province_code == province_code,
                    tables.receipts.c.purchase_id == purchase_id,
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("no receipt for this purchase in this province")
    return dict(row)


async def on_hand(session: AsyncSession, province_code: str) -> dict[MaterialKind, int]:
    rows = await session.execute(
        select(tables.stock.c.kind, tables.stock.c.on_hand).where(
            tables.stock.c.province_code == province_code
        )
    )
    return {MaterialKind(kind): count for kind, count in rows}


async def list_stock(session: AsyncSession, province_code: str) -> list[dict]:
    stock, changes = tables.stock, tables.stock_changes
    rows = await session.execute(
        select(stock).where(stock.c.province_code == province_code).order_by(stock.c.kind)
    )
    items = [dict(row) for row in rows.mappings()]
    history = await session.execute(
        select(changes).where(changes.c.province_code == province_code).order_by(changes.c.changed_at)
    )
    by_stock: dict[UUID, list[dict]] = defaultdict(list)
    for change in history.mappings():
        by_stock[change["stock_id"]].append(dict(change))
    return [
        {**item, "label": MATERIAL_KIND_TH[item["kind"]], "history": by_stock[item["id"]]} for item in items
    ]


async def market_day(session: AsyncSession, province_code: str, market_day_id: UUID) -> dict:
    md = tables.market_days
    row = (
        (
            await session.execute(
                select(md).where(md.c.province_code == province_code, md.c.id == market_day_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("no such market day in this province (yet)")
    return dict(row)


async def lineup_sizes(session: AsyncSession, market_day_ids: list[UUID]) -> dict[UUID, int]:
    inv = tables.invitations
    rows = await session.execute(
        select(inv.c.market_day_id, func.count())
        .where(inv.c.market_day_id.in_(market_day_ids), inv.c.status.in_(IN_LINEUP))
        .group_by(inv.c.market_day_id)
    )
    return {market_day_id: count for market_day_id, count in rows}


async def packing_lists(
    session: AsyncSession, province_code: str, start: date | None = None, end: date | None = None
) -> list[dict]:
    """Each market day's packing list (cancelled days left out), with any shortfall, day by day."""
    md = tables.market_days
    query = select(md).where(md.c.province_code == province_code, md.c.status != "cancelled")
    if start is not None:
        query = query.where(md.c.day >= start)
    if end is not None:
        query = query.where(md.c.day <= end)
    days = [dict(row) for row in (await session.execute(query.order_by(md.c.day))).mappings()]
    if not days:
        return []
    sizes = await lineup_sizes(session, [day["id"] for day in days])
    owned = await on_hand(session, province_code)
    lists = tables.packing_lists
    found = await session.execute(
        select(lists.c.market_day_id, lists.c.checks).where(
            lists.c.market_day_id.in_([d["id"] for d in days])
        )
    )
    checks: dict[UUID, dict] = {market_day_id: marks for market_day_id, marks in found}
    return [packing_list_of(day, sizes.get(day["id"], 0), owned, checks.get(day["id"], {})) for day in days]


def packing_list_of(day: dict, lineup_size: int, owned: dict[MaterialKind, int], checks: dict) -> dict:
    needed = domain.packing_needs(lineup_size)
    short = domain.shortfall(needed, owned)
    items = [
        {
            "kind": kind,
            "label": MATERIAL_KIND_TH[kind],
            "needed": count,
            "on_hand": owned.get(kind, 0),
            "short": short.get(kind, 0),
            "reusable": kind in domain.REUSABLE,
            "loaded": checks.get(kind, {}).get("loaded", False),
            "returned": checks.get(kind, {}).get("returned", False),
        }
        for kind, count in needed.items()
    ]
    return {
        "market_day_id": day["id"],
        "day": day["day"],
        "venue_name": day["venue_name"],
        "status": day["status"],
        "lineup_size": lineup_size,
        "items": items,
        "shortfall": bool(short),
    }


async def packing_list(session: AsyncSession, province_code: str, market_day_id: UUID) -> dict:
    day = await market_day(session, province_code, market_day_id)
    checks = (
        await session.execute(
            select(tables.packing_lists.c.checks).where(tables.packing_lists.c.market_day_id == market_day_id)
        )
    ).scalar()
    sizes = await lineup_sizes(session, [market_day_id])
    return packing_list_of(
        day, sizes.get(market_day_id, 0), await on_hand(session, province_code), checks or {}
    )


async def national_budgets(session: AsyncSession) -> list[dict]:
    """Every province's budgets in force: approved against spent (and requested), per fiscal year."""
    result = []
    rows = await session.execute(
        select(proposals).order_by(proposals.c.fiscal_year, proposals.c.province_code)
    )
    for proposal in map(dict, rows.mappings()):
        lines = await line_spending(session, proposal)
        result.append(
            {
                "province_code": proposal["province_code"],
                "proposal_id": proposal["id"],
                "fiscal_year": proposal["fiscal_year"],
                "name": proposal["name"],
                "approved_version": proposal["approved_version"],
                "approved_thb": domain.total(line.approved for line in lines.values()),
                "committed_thb": domain.total(line.committed for line in lines.values()),
                "spent_thb": domain.total(line.spent for line in lines.values()),
            }
        )
    return result
