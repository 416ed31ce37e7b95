"""Read models of the budget service's events (the report's budget section): each proposal's, purchase's and
packing list's newest state, kept by revision, so redelivered, reordered or replayed events leave the same
rows (tests/monitoring/test_budget_report.py replays them)."""

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.monitoring import tables
from services.monitoring.domain import Period
from services.monitoring.report.budget import BudgetData, BudgetRow, MarketDay, budget_row
from services.monitoring.report.build import MarketDayFacts
from shared import thai
from shared.contracts.budget import PackingListChanged, ProposalState, PurchaseState
from shared.events import Envelope
from shared.thailand import ce_year
from shared.unit_of_work import UnitOfWork


async def _keep(uow: UnitOfWork, table: Table, row: dict) -> None:
    """The row, unless the stored one is as new (JSON columns: one row, not shared.read_models' arrays)."""
    stmt = insert(table).values(row)
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={column: stmt.excluded[column] for column in row if column != "id"},
            where=table.c.revision < stmt.excluded.revision,
        )
    )


async def proposal_changed(uow: UnitOfWork, envelope: Envelope, event: ProposalState) -> None:
    state = event.model_dump(mode="json")
    await _keep(
        uow,
        tables.budget_proposals,
        {
            "id": event.proposal_id,
            "province_code": envelope.province_code,
            **event.model_dump(
                include={
                    "revision",
                    "fiscal_year",
                    "name",
                    "version",
                    "status",
                    "total_thb",
                    "approved_version",
                    "approved_total_thb",
                    "decided_by",
                    "decided_at",
                    "comment",
                }
            ),
            "activities": state["activities"],
            "approved_lines": state["approved_lines"],
        },
    )


async def purchase_changed(uow: UnitOfWork, envelope: Envelope, event: PurchaseState) -> None:
    await _keep(
        uow,
        tables.budget_purchases,
        {
            "id": event.purchase_id,
            "province_code": envelope.province_code,
            **event.model_dump(
                include={
                    "revision",
                    "proposal_id",
                    "category",
                    "name",
                    "kind",
                    "quantity",
                    "status",
                    "estimated_thb",
                    "amount_thb",
                    "bought_on",
                    "market_day_id",
                }
            ),
        },
    )


async def packing_list_changed(uow: UnitOfWork, envelope: Envelope, event: PackingListChanged) -> None:
    await _keep(
        uow,
        tables.budget_packing_lists,
        {
            "id": event.market_day_id,
            "province_code": envelope.province_code,
            "revision": event.revision,
            "day": event.day,
            "lineup_size": event.lineup_size,
            "items": event.model_dump(mode="json")["items"],
        },
    )


# --- the report's queries


async def _proposals(session: AsyncSession, fiscal_year: int, province_code: str | None) -> list[dict]:
    proposal = tables.budget_proposals
    query = select(proposal).where(proposal.c.fiscal_year == fiscal_year)
    if province_code is not None:
        query = query.where(proposal.c.province_code == province_code)
    return [dict(row) for row in (await session.execute(query)).mappings()]


async def _purchases(session: AsyncSession, proposal_ids: list[UUID]) -> list[dict]:
    purchase = tables.budget_purchases
    rows = await session.execute(select(purchase).where(purchase.c.proposal_id.in_(proposal_ids)))
    return [dict(row) for row in rows.mappings()]


def _fiscal_year_days(fiscal_year: int) -> tuple[date, date]:
    year = ce_year(fiscal_year)
    return date(year - 1, 10, 1), date(year, 9, 30)


async def budget_data(
    session: AsyncSession, province_code: str, period: Period, facts: Sequence[MarketDayFacts]
) -> BudgetData:
    """What the province's budget section is made of: its proposal for the period's fiscal year, the
    purchases against it, the packing lists of the period's market days."""
    fiscal_year = thai.fiscal_year(period.first_day)
    found = await _proposals(session, fiscal_year, province_code)  # one a province a fiscal year
    proposal = found[0] if found else None
    packing = tables.budget_packing_lists
    lists = await session.execute(
        select(packing).where(packing.c.id.in_([day.market_day_id for day in facts]))
    )
    md = tables.market_days
    first, last = _fiscal_year_days(fiscal_year)
    season = await session.scalar(
        select(func.count()).where(
            md.c.province_code == province_code, md.c.day.between(first, last), md.c.status != "cancelled"
        )
    )
    return BudgetData(
        fiscal_year=fiscal_year,
        first_day=period.first_day,
        last_day=period.last_day,
        proposal=proposal,
        purchases=await _purchases(session, [proposal["id"]]) if proposal else [],
        packing_lists={row["id"]: dict(row) for row in lists.mappings()},
        market_days=[
            MarketDay(day.market_day_id, day.day, day.venue_name, day.status, day.sales_thb) for day in facts
        ],
        season_market_days=season or 0,
    )


async def national_budgets(session: AsyncSession, period: Period) -> list[BudgetRow]:
    """Every province's budget for the period's fiscal year: approved against spent by its end."""
    proposals = await _proposals(session, thai.fiscal_year(period.first_day), None)
    purchases = await _purchases(session, [p["id"] for p in proposals])
    return [
        budget_row(
            p["province_code"],
            p,
            [each for each in purchases if each["proposal_id"] == p["id"]],
            period.last_day,
        )
        for p in sorted(proposals, key=lambda p: p["province_code"])
    ]
