"""The outcomes view's queries: a season's facts from the read models, for one province or all, handed to
the pure computations (domain.outcomes).

A season is the market days of a calendar year (not cancelled) up to a last day. Sales are read totalled
per market day and product over the partial covering index `sales_counted` (voided sales left out), so
the national season's ~370,000 sales come back as one row per product at a market day."""

from collections import defaultdict
from datetime import date
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Uuid,
    and_,
    any_,
    bindparam,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from services.monitoring import tables
from services.monitoring.domain.outcomes import (
    NOT_IN_LINEUP,
    Attendance,
    Invitation,
    MarketDay,
    MentoringGroup,
    NationalOutcomes,
    Producer,
    ProducerRecord,
    Product,
    ProductDaySales,
    ProvinceOutcomes,
    Season,
    national_outcomes,
    producer_record,
    province_outcomes,
)
from shared.errors import NotFound

market_day, invitation, attendance, day_sales = (
    tables.market_days,
    tables.invitations,
    tables.attendance,
    tables.product_day_sales,
)
product, producer, group = tables.products, tables.producers, tables.mentoring_groups


def _days(first_day: date, last_day: date, province_code: str | None) -> list[ColumnElement]:
    return [
        market_day.c.day.between(first_day, last_day),
        market_day.c.status != "cancelled",
        *([market_day.c.province_code == province_code] if province_code else []),
    ]


def _intended() -> ColumnElement:
    """domain.outcomes.Product.intended, in SQL."""
    return and_(
        product.c.status == "active",
        or_(product.c.quadrant == "D", product.c.star_level <= 3, product.c.nawatwithi),
    )


def _raw(column) -> ColumnElement:
    """A uuid (or uuid[]) column as the driver gives it (asyncpg's UUID, a uuid.UUID): SQLAlchemy's
    conversion of each of the country's ~250,000 ids took seconds."""
    return type_coerce(column, NullType()).label(column.name)


def _any_of(ids: set[UUID]) -> ColumnElement:
    """= ANY(one array parameter): the country's tens of thousands of ids, not a parameter each."""
    return any_(bindparam("ids", value=sorted(ids), type_=ARRAY(Uuid)))


async def _seasons(
    session: AsyncSession, first_day: date, last_day: date, province_code: str | None
) -> dict[str, Season]:
    """Each province's season (one province's, or every one's when province_code is None). A province
    reads all its products and producers (the never-invited among them); the country reads only those
    the season touched."""
    where = _days(first_day, last_day, province_code)
    days = (
        await session.execute(
            select(
                _raw(market_day.c.id), market_day.c.province_code, market_day.c.day, market_day.c.venue_kind
            ).where(*where)
        )
    ).all()
    on_day = market_day.c.id == invitation.c.market_day_id
    invitations = (
        await session.execute(
            select(
                _raw(invitation.c.market_day_id),
                _raw(invitation.c.product_id),
                _raw(invitation.c.producer_id),
                invitation.c.status,
                invitation.c.reason,
            )
            .select_from(invitation.join(market_day, on_day))
            .where(*where)
        )
    ).all()
    attended = (
        await session.execute(
            select(
                _raw(attendance.c.market_day_id),
                _raw(attendance.c.producer_ids),
                _raw(attendance.c.product_ids),
            )
            .select_from(attendance.join(market_day, market_day.c.id == attendance.c.market_day_id))
            .where(*where)
        )
    ).all()
    sold = (
        await session.execute(
            select(
                _raw(day_sales.c.market_day_id),
                _raw(day_sales.c.product_id),
                day_sales.c.sales_thb.label("amount"),
            )
            .select_from(day_sales.join(market_day, market_day.c.id == day_sales.c.market_day_id))
            .where(day_sales.c.sales > 0, *where)
        )
    ).all()
    if province_code:
        product_where = [product.c.province_code == province_code]
        producer_where = [producer.c.province_code == province_code]
    else:
        touched = {row.product_id for row in invitations} | {row.product_id for row in sold}
        touched |= {each for row in attended for each in row.product_ids}
        product_where = [product.c.id == _any_of(touched)]
    # In the order of Product's fields; the country's view shows no product or producer names.
    name = product.c.name if province_code else literal("").label("name")
    columns = [_raw(product.c.id), _raw(product.c.producer_id), name]
    columns += [product.c[c] for c in ("category", "star_level", "quadrant", "nawatwithi")]
    columns += [(product.c.status == "active").label("active"), product.c.province_code]
    products = {
        row[0]: Product(*row) for row in (await session.execute(select(*columns).where(*product_where))).all()
    }
    if not province_code:
        people = {p.producer_id for p in products.values() if p.producer_id}
        people |= {each for row in attended for each in row.producer_ids}
        producer_where = [producer.c.id == _any_of(people)]
    producer_name = producer.c.name if province_code else literal("").label("name")
    producers = {
        row[0]: (row[3], Producer(*row[:3]))
        for row in (
            await session.execute(
                select(
                    _raw(producer.c.id), producer_name, producer.c.experienced, producer.c.province_code
                ).where(*producer_where)
            )
        ).all()
    }
    groups = (
        await session.execute(
            select(group).where(*([group.c.province_code == province_code] if province_code else []))
        )
    ).all()

    province_of = {row.id: row.province_code for row in days}
    facts: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for row in days:
        facts[row.province_code]["days"].append(MarketDay(row.id, row.day, row.venue_kind))
    for row in invitations:  # its columns in Invitation's order
        facts[province_of[row[0]]]["invitations"].append(Invitation(*row))
    for row in attended:
        facts[province_of[row.market_day_id]]["attendance"].append(
            Attendance(row.market_day_id, frozenset(row.producer_ids), frozenset(row.product_ids))
        )
    for row in sold:  # its columns in ProductDaySales' order
        facts[province_of[row[0]]]["sales"].append(ProductDaySales(*row))
    for row in groups:
        facts[row.province_code]["groups"].append(
            MentoringGroup(row.id, row.name, frozenset(row.mentor_ids), frozenset(row.mentee_ids))
        )
    by_province: dict[str, dict] = defaultdict(dict)
    for each in products.values():
        by_province[each.province_code][each.id] = each
    people_of: dict[str, dict] = defaultdict(dict)
    for producer_id, (province, person) in producers.items():
        people_of[province][producer_id] = person
    provinces = set(facts) | ({province_code} if province_code else set())
    return {
        province: Season(
            province_code=province,
            market_days=facts[province]["days"],
            products=by_province[province],
            producers=people_of[province],
            invitations=facts[province]["invitations"],
            attendance=facts[province]["attendance"],
            sales=facts[province]["sales"],
            groups=facts[province]["groups"],
        )
        for province in provinces
    }


async def province_season(
    session: AsyncSession, province_code: str, first_day: date, last_day: date
) -> Season:
    return (await _seasons(session, first_day, last_day, province_code))[province_code]


async def season_outcomes(
    session: AsyncSession, province_code: str, first_day: date, last_day: date
) -> ProvinceOutcomes:
    return province_outcomes(await province_season(session, province_code, first_day, last_day))


async def producer_outcomes(
    session: AsyncSession, province_code: str, producer_id: UUID, first_day: date, last_day: date
) -> ProducerRecord:
    season = await province_season(session, province_code, first_day, last_day)
    if producer_id not in season.producers:
        raise NotFound(f"no producer {producer_id} in province {province_code}")
    return producer_record(season, producer_id)


async def _eligible(session: AsyncSession, first_day: date, last_day: date) -> dict[str, tuple[int, int]]:
    """Each province's intended products, and how many of them no lineup of the season invited."""
    invited = (
        select(invitation.c.product_id)
        .distinct()
        .select_from(invitation.join(market_day, market_day.c.id == invitation.c.market_day_id))
        .where(invitation.c.status != NOT_IN_LINEUP, *_days(first_day, last_day, None))
        .subquery()
    )
    # A join, not NOT EXISTS per product: the planner's estimate of that (millions) switched on JIT
    # compilation, which alone took seconds.
    rows = await session.execute(
        select(product.c.province_code, func.count(), func.count().filter(invited.c.product_id.is_(None)))
        .select_from(product.outerjoin(invited, invited.c.product_id == product.c.id))
        .where(_intended())
        .group_by(product.c.province_code)
    )
    return {province: (count, never) for province, count, never in rows}


async def country_outcomes(session: AsyncSession, first_day: date, last_day: date) -> NationalOutcomes:
    seasons = await _seasons(session, first_day, last_day, None)
    return national_outcomes(
        first_day, last_day, list(seasons.values()), await _eligible(session, first_day, last_day)
    )


async def latest_month(session: AsyncSession, province_code: str | None, today: date) -> date | None:
    """The first day of the latest month, up to today's, with a market day not cancelled."""
    last = await session.scalar(
        select(func.max(market_day.c.day)).where(
            market_day.c.day <= today,
            market_day.c.status != "cancelled",
            *([market_day.c.province_code == province_code] if province_code else []),
        )
    )
    return last.replace(day=1) if last else None
