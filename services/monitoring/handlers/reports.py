"""Reports and evaluation completeness: the queries that feed the pure builder (report.build).

Sales are many: each market day's totals are kept as sales arrive (`market_day_sales`), so a report
reads one row per market day, nationally too. A province's sales by product are totalled in SQL over
the latest revision of each sale, voided ones left out (`NOT voided`, the predicate of the partial
covering index `sales_counted`: an index-only scan from the province's market days). Everything else
of a period is a few rows per market day."""

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from services.monitoring import tables
from services.monitoring.domain import EvaluationState, Period, evaluation_due
from services.monitoring.handlers import budget
from services.monitoring.handlers.outcomes import season_outcomes
from services.monitoring.handlers.records import activities, committees, issues
from services.monitoring.report import (
    MarketDayFacts,
    NationalReport,
    ProvinceReport,
    ReportData,
    build_national,
    build_report,
)
from services.monitoring.report.budget import build_budget
from services.monitoring.report.outcomes import outcomes_section

market_day, sale, evaluation, attendance = (
    tables.market_days,
    tables.sales,
    tables.evaluations,
    tables.attendance,
)


def _in_period(period: Period, province_code: str | None) -> list[ColumnElement]:
    return [
        market_day.c.day.between(period.first_day, period.last_day),
        *([market_day.c.province_code == province_code] if province_code else []),
    ]


def _first(column: ColumnElement) -> ColumnElement:
    """The value of the first evaluation submitted for the market day."""
    return func.array_agg(aggregate_order_by(column, evaluation.c.submitted_at))[1]


async def market_day_facts(
    session: AsyncSession, period: Period, province_code: str | None
) -> list[MarketDayFacts]:
    where = _in_period(period, province_code)
    sales = tables.market_day_sales
    evaluated = (
        select(
            evaluation.c.market_day_id,
            func.count().label("evaluations"),
            func.min(evaluation.c.submitted_at).label("first_evaluated_at"),
            _first(evaluation.c.products_shown).label("evaluated_products"),
            _first(evaluation.c.producers_attending).label("evaluated_producers"),
            _first(evaluation.c.customers_estimate).label("customers_estimate"),
            func.round(func.avg(evaluation.c.overall_score), 2).label("overall_score"),
        )
        .select_from(evaluation.join(market_day, market_day.c.id == evaluation.c.market_day_id))
        .where(*where)
        .group_by(evaluation.c.market_day_id)
        .subquery()
    )
    query = (
        select(
            market_day.c.id.label("market_day_id"),
            market_day.c.province_code,
            market_day.c.plan_id,
            market_day.c.day,
            market_day.c.venue_name,
            market_day.c.venue_kind,
            market_day.c.status,
            attendance.c.product_ids,
            attendance.c.producer_ids,
            func.coalesce(evaluated.c.evaluations, 0).label("evaluations"),
            evaluated.c.first_evaluated_at,
            evaluated.c.evaluated_products,
            evaluated.c.evaluated_producers,
            evaluated.c.customers_estimate,
            evaluated.c.overall_score,
            func.coalesce(sales.c.sales, 0).label("sales"),
            func.coalesce(sales.c.sales_thb, 0).label("sales_thb"),
        )
        .select_from(
            market_day.outerjoin(attendance, attendance.c.market_day_id == market_day.c.id)
            .outerjoin(sales, sales.c.market_day_id == market_day.c.id)
            .outerjoin(evaluated, evaluated.c.market_day_id == market_day.c.id)
        )
        .where(*where)
        .order_by(market_day.c.province_code, market_day.c.day, market_day.c.venue_name, market_day.c.id)
    )
    return [MarketDayFacts(**row) for row in (await session.execute(query)).mappings()]


async def plans(session: AsyncSession, period: Period, province_code: str | None) -> list[dict]:
    plan = tables.plans
    where = [
        plan.c.first_month <= period.last_day,
        plan.c.last_month >= period.first_day,
        *([plan.c.province_code == province_code] if province_code else []),
    ]
    return [
        dict(row)
        for row in (
            await session.execute(
                select(plan).where(*where).order_by(plan.c.province_code, plan.c.first_month, plan.c.name)
            )
        ).mappings()
    ]


async def _venue_kinds(session: AsyncSession, plan_ids: Sequence[UUID]) -> dict[UUID, set[str]]:
    kinds: dict[UUID, set[str]] = {}
    for plan_id, kind in await session.execute(
        select(market_day.c.plan_id, market_day.c.venue_kind)
        .where(market_day.c.plan_id.in_(plan_ids), market_day.c.status != "cancelled")
        .distinct()
    ):
        kinds.setdefault(plan_id, set()).add(kind)
    return kinds


async def _product_sales(session: AsyncSession, period: Period, province_code: str) -> list[dict]:
    query = (
        select(
            sale.c.product_id,
            func.count().label("sales"),
            func.sum(sale.c.quantity).label("quantity"),
            func.sum(sale.c.amount_thb).label("amount_thb"),
        )
        .select_from(sale.join(market_day, market_day.c.id == sale.c.market_day_id))
        .where(~sale.c.voided, *_in_period(period, province_code))
        .group_by(sale.c.product_id)
    )
    return [dict(row) for row in (await session.execute(query)).mappings()]


async def _products(session: AsyncSession, product_ids: set[UUID]) -> dict[UUID, dict]:
    product, producer = tables.products, tables.producers
    query = (
        select(product, producer.c.name.label("producer_name"))
        .select_from(product.outerjoin(producer, producer.c.id == product.c.producer_id))
        .where(product.c.id.in_(product_ids))
    )
    return {row["id"]: dict(row) for row in (await session.execute(query)).mappings()}


async def _invitations(session: AsyncSession, period: Period, province_code: str) -> list[dict]:
    invitation = tables.invitations
    query = (
        select(invitation.c.status, invitation.c.reason, func.count().label("invitations"))
        .select_from(invitation.join(market_day, market_day.c.id == invitation.c.market_day_id))
        .where(*_in_period(period, province_code))
        .group_by(invitation.c.status, invitation.c.reason)
        .order_by(invitation.c.status, invitation.c.reason)
    )
    return [dict(row) for row in (await session.execute(query)).mappings()]


async def _evaluation_scores(session: AsyncSession, period: Period, province_code: str) -> list[dict]:
    query = (
        select(
            evaluation.c.score_display,
            evaluation.c.score_variety,
            evaluation.c.score_customer_interest,
            evaluation.c.score_organisation,
            evaluation.c.overall_score,
        )
        .select_from(evaluation.join(market_day, market_day.c.id == evaluation.c.market_day_id))
        .where(*_in_period(period, province_code))
    )
    return [dict(row) for row in (await session.execute(query)).mappings()]


async def province_report(
    session: AsyncSession, province_code: str, period: Period, as_of: date, due_days: int, thai_digits: bool
) -> ProvinceReport:
    facts = await market_day_facts(session, period, province_code)
    found_plans = await plans(session, period, province_code)
    product_sales = await _product_sales(session, period, province_code)
    shown = {each for day in facts for each in day.product_ids or ()}
    producers = {each for day in facts for each in day.producer_ids or ()}
    producer = tables.producers
    experienced: dict[UUID, bool] = {
        row.id: row.experienced
        for row in await session.execute(
            select(producer.c.id, producer.c.experienced).where(producer.c.id.in_(producers))
        )
    }
    report = build_report(
        ReportData(
            province_code=province_code,
            period=period,
            as_of=as_of,
            due_days=due_days,
            thai_digits=thai_digits,
            activities=await activities(session, province_code, period),
            committees=[
                committee
                for committee in await committees(session, province_code)
                if committee["appointed_on"] <= period.last_day
            ],
            plans=found_plans,
            plan_venue_kinds=await _venue_kinds(session, [each["id"] for each in found_plans]),
            market_days=facts,
            evaluation_scores=await _evaluation_scores(session, period, province_code),
            product_sales=product_sales,
            products=await _products(session, shown | {row["product_id"] for row in product_sales}),
            experienced=experienced,
            invitations=await _invitations(session, period, province_code),
            issues=await issues(session, province_code, period),
        )
    )
    # section ๔: the budget; section ๕: the season (the calendar year) up to the report's last day
    budget_section = build_budget(
        await budget.budget_data(session, province_code, period, facts), thai_digits
    )
    season = await season_outcomes(
        session, province_code, date(period.last_day.year, 1, 1), min(period.last_day, as_of)
    )
    return report.model_copy(
        update={"budget": budget_section, "outcomes": outcomes_section(season, thai_digits)}
    )


async def national_report(
    session: AsyncSession, period: Period, as_of: date, due_days: int, thai_digits: bool
) -> NationalReport:
    report = build_national(
        period,
        as_of,
        due_days,
        thai_digits,
        await market_day_facts(session, period, None),
        await plans(session, period, None),
    )
    return report.model_copy(update={"budgets": await budget.national_budgets(session, period)})


async def completeness(
    session: AsyncSession,
    province_code: str,
    period: Period,
    as_of: date,
    due_days: int,
    state: EvaluationState | None,
) -> dict:
    """The market days of the period, each with the evaluation it expects and how that stands."""
    items = [
        {
            "market_day_id": day.market_day_id,
            "day": day.day,
            "venue_name": day.venue_name,
            "status": day.status,
            "due_on": evaluation_due(day.day, due_days),
            "evaluations": day.evaluations,
            "first_evaluated_at": day.first_evaluated_at,
            "state": day.evaluation_state(as_of, due_days),
        }
        for day in await market_day_facts(session, period, province_code)
    ]
    counts = {each: sum(item["state"] is each for item in items) for each in EvaluationState}
    return {
        "due_days": due_days,
        "as_of": as_of,
        "first_day": period.first_day,
        "last_day": period.last_day,
        "expected": len(items) - counts[EvaluationState.NOT_EXPECTED],
        **counts,
        "items": [item for item in items if state is None or item["state"] is state],
    }
