"""The outcomes view's queries: a season's facts from the read models, handed to the pure computations
(domain.outcomes).

A season is the market days of a calendar year (not cancelled) up to a last day. A province's season
reads its facts (sales totalled per market day and product: product_day_sales), the products and
producers they touched, and a page of the intended products never invited. The national view reads
totals instead (each producer's season from producer_days, the lineup's counts per province), so it
handles tens of thousands of rows, not the country's facts."""

from collections import defaultdict
from datetime import date
from typing import NamedTuple
from uuid import UUID

from sqlalchemy import ARRAY, ColumnElement, Uuid, any_, bindparam, func, select, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from services.monitoring import tables
from services.monitoring.domain.outcomes import (
    Attendance,
    Invitation,
    MarketDay,
    MentoringGroup,
    NationalOutcomes,
    NeverInvited,
    NeverInvitedPage,
    Producer,
    ProducerRecord,
    ProducerSeason,
    Product,
    ProductDaySales,
    ProvinceOutcomes,
    ProvinceSeason,
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


_INTENDED = "p.status = 'active' AND (p.quadrant = 'D' OR p.star_level <= 3 OR p.nawatwithi)"
NEVER_INVITED_FIELDS = list(NeverInvited.model_fields)


class Page(NamedTuple):
    """Which of the never-invited products to list: `limit` (None: all, as the report lists them) from
    `offset`."""

    limit: int | None = None
    offset: int = 0


EVERY = Page()
FIRST_PAGE = Page(limit=100)  # what the screen asks for first


def _days(first_day: date, last_day: date, province_code: str | None) -> list[ColumnElement]:
    return [
        market_day.c.day.between(first_day, last_day),
        market_day.c.status != "cancelled",
        *([market_day.c.province_code == province_code] if province_code else []),
    ]


def _raw(column) -> ColumnElement:
    """A uuid (or uuid[]) column as the driver gives it (asyncpg's UUID, a uuid.UUID): SQLAlchemy's
    conversion of each of the country's ~250,000 ids took seconds."""
    return type_coerce(column, NullType()).label(column.name)


def _any_of(ids: set[UUID]) -> ColumnElement:
    """= ANY(one array parameter): the country's tens of thousands of ids, not a parameter each."""
    return any_(bindparam("ids", value=sorted(ids), type_=ARRAY(Uuid)))


_NEVER_INVITED = f"""
    WITH invited AS (
        SELECT DISTINCT i.product_id FROM invitations i JOIN market_days d ON d.id = i.market_day_id
        WHERE d.province_code = :province_code AND d.day BETWEEN :first_day AND :last_day
          AND d.status <> 'cancelled' AND i.status <> 'withdrawn'
    ),
    never AS (
        SELECT p.* FROM products p LEFT JOIN invited ON invited.product_id = p.id
        WHERE p.province_code = :province_code AND {_INTENDED} AND invited.product_id IS NULL
    )"""
_NEVER_INVITED_COUNTS = text(f"""{_NEVER_INVITED}
    SELECT (SELECT count(*) FROM products p WHERE p.province_code = :province_code AND {_INTENDED}),
           (SELECT count(*) FROM never)""")
_NEVER_INVITED_PAGE = text(f"""{_NEVER_INVITED}
    SELECT never.id, never.name, never.producer_id, pr.name, never.category, never.star_level,
           never.quadrant, never.nawatwithi
    FROM never LEFT JOIN producers pr ON pr.id = never.producer_id AND pr.province_code = :province_code
    ORDER BY never.category COLLATE "C", never.name COLLATE "C", never.id
    LIMIT :limit OFFSET :offset""")


async def _never_invited(
    session: AsyncSession, province_code: str, first_day: date, last_day: date, page: Page
) -> NeverInvitedPage:
    """A page of the province's intended products no lineup of the season invited (in the order of
    category, name, id, as Python orders strings), with the counts."""
    season = {"province_code": province_code, "first_day": first_day, "last_day": last_day}
    eligible, never = (await session.execute(_NEVER_INVITED_COUNTS, season)).one()
    rows = await session.execute(_NEVER_INVITED_PAGE, {**season, "limit": page.limit, "offset": page.offset})
    return NeverInvitedPage(
        eligible=eligible,
        count=never,
        offset=page.offset,
        products=[NeverInvited(**dict(zip(NEVER_INVITED_FIELDS, row, strict=True))) for row in rows],
    )


async def province_season(
    session: AsyncSession,
    province_code: str,
    first_day: date,
    last_day: date,
    page: Page = EVERY,
    producer_id: UUID | None = None,
) -> Season:
    """The province's season: its market days and their facts, the products and producers they touched
    (and `producer_id`), and a page of the intended products never invited."""
    where = _days(first_day, last_day, province_code)
    days = (
        await session.execute(
            select(_raw(market_day.c.id), market_day.c.day, market_day.c.venue_kind).where(*where)
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
    touched = {row.product_id for row in invitations} | {row.product_id for row in sold}
    touched |= {each for row in attended for each in row.product_ids}
    # In the order of Product's fields.
    columns = [_raw(product.c.id), _raw(product.c.producer_id), product.c.name]
    columns += [product.c[c] for c in ("category", "star_level", "quadrant", "nawatwithi")]
    columns += [(product.c.status == "active").label("active"), product.c.province_code]
    products = {
        row[0]: Product(*row)
        for row in (
            await session.execute(
                select(*columns).where(
                    product.c.province_code == province_code, product.c.id == _any_of(touched)
                )
            )
        ).all()
    }
    people = {p.producer_id for p in products.values() if p.producer_id}
    people |= {each for row in attended for each in row.producer_ids}
    people |= {row.producer_id for row in invitations if row.producer_id} | (
        {producer_id} if producer_id else set()
    )
    producers = {
        row[0]: Producer(*row)
        for row in (
            await session.execute(
                select(_raw(producer.c.id), producer.c.name, producer.c.experienced).where(
                    producer.c.province_code == province_code, producer.c.id == _any_of(people)
                )
            )
        ).all()
    }
    groups = (await session.execute(select(group).where(group.c.province_code == province_code))).all()
    return Season(
        province_code=province_code,
        market_days=[MarketDay(*row) for row in days],
        products=products,
        producers=producers,
        invitations=[Invitation(*row) for row in invitations],
        attendance=[
            Attendance(row.market_day_id, frozenset(row.producer_ids), frozenset(row.product_ids))
            for row in attended
        ],
        sales=[ProductDaySales(*row) for row in sold],
        groups=[
            MentoringGroup(row.id, row.name, frozenset(row.mentor_ids), frozenset(row.mentee_ids))
            for row in groups
        ],
        never_invited=await _never_invited(session, province_code, first_day, last_day, page),
    )


async def season_outcomes(
    session: AsyncSession, province_code: str, first_day: date, last_day: date, page: Page = EVERY
) -> ProvinceOutcomes:
    return province_outcomes(await province_season(session, province_code, first_day, last_day, page))


async def producer_outcomes(
    session: AsyncSession, province_code: str, producer_id: UUID, first_day: date, last_day: date
) -> ProducerRecord:
    season = await province_season(
        session, province_code, first_day, last_day, Page(limit=0), producer_id=producer_id
    )
    if producer_id not in season.producers:
        raise NotFound(f"no producer {producer_id} in province {province_code}")
    return producer_record(season, producer_id)


# The national view reads the totals the consumers keep (producer_days, product_days, intended_products:
# handlers.read_models), never the products, producers or facts themselves.
_SEASON_DAYS = """
    days AS (
        SELECT id, province_code, venue_kind, date_trunc('month', day) AS month FROM market_days
        WHERE day BETWEEN :first_day AND :last_day AND status <> 'cancelled'
    )"""
# Per producer: _Tally.per_day and _rate, rounded as cents() rounds (half up; the figures are >= 0).
_NATIONAL_PRODUCERS = text(f"""
    WITH {_SEASON_DAYS}
    SELECT d.province_code, bool_and(pd.experienced) AS experienced, bool_or(pd.mentored) AS mentored,
           round(sum(pd.sales_thb) FILTER (WHERE pd.attended)
                 / nullif(count(*) FILTER (WHERE pd.attended), 0), 2) AS sales_per_market_day,
           round(100.0 * count(*) FILTER (WHERE pd.invited AND pd.attended)
                 / nullif(count(*) FILTER (WHERE pd.invited), 0), 2) AS attendance_percent,
           round(100.0 * count(*) FILTER (WHERE pd.declined)
                 / nullif(count(*) FILTER (WHERE pd.invited), 0), 2) AS decline_percent
    FROM producer_days pd JOIN days d ON d.id = pd.market_day_id
    GROUP BY d.province_code, pd.producer_id
    ORDER BY d.province_code, pd.producer_id""")
_NATIONAL_LINEUP = text(f"""
    WITH {_SEASON_DAYS}
    SELECT d.province_code, d.market_days, coalesce(sum(pd.lineup), 0) AS lineup,
           coalesce(sum(pd.lineup) FILTER (WHERE pd.intended), 0) AS intended,
           count(DISTINCT pd.product_id) FILTER (WHERE pd.intended AND pd.lineup > 0) AS intended_invited
    FROM (SELECT province_code, count(*) AS market_days FROM days GROUP BY province_code) d
    LEFT JOIN (product_days pd JOIN days x ON x.id = pd.market_day_id) ON x.province_code = d.province_code
    GROUP BY d.province_code, d.market_days""")
# The products at market in each province's first month of the season (low sellers: domain.low_sellers),
# with their lineup invitations over the season (counted only for the province's own products).
_NATIONAL_FIRST_MONTH = text(f"""
    WITH {_SEASON_DAYS},
    first_days AS (
        SELECT id, province_code FROM days
        WHERE (province_code, month) IN (SELECT province_code, min(month) FROM days GROUP BY province_code)
    ),
    lineup AS (
        SELECT pd.product_id, d.province_code, sum(pd.lineup) AS n
        FROM product_days pd JOIN days d ON d.id = pd.market_day_id
        WHERE pd.lineup > 0 AND pd.category IS NOT NULL
        GROUP BY pd.product_id, d.province_code
    )
    SELECT f.province_code, pd.product_id, sum(pd.sales_thb) AS sales, count(*) AS days,
           coalesce(max(l.n), 0) AS lineup
    FROM product_days pd JOIN first_days f ON f.id = pd.market_day_id
    LEFT JOIN lineup l ON l.product_id = pd.product_id AND l.province_code = f.province_code
    WHERE pd.at_market
    GROUP BY f.province_code, pd.product_id""")
_NATIONAL_VENUES = text(f"""
    WITH {_SEASON_DAYS}
    SELECT pd.category, d.venue_kind,
           array_agg(pd.sales_thb ORDER BY d.province_code, pd.product_id, pd.market_day_id) AS amounts
    FROM product_days pd JOIN days d ON d.id = pd.market_day_id
    WHERE pd.at_market AND pd.category IS NOT NULL
    GROUP BY pd.category, d.venue_kind""")


async def country_outcomes(session: AsyncSession, first_day: date, last_day: date) -> NationalOutcomes:
    season = {"first_day": first_day, "last_day": last_day}

    async def rows(query):
        return (await session.execute(query, season)).all()

    producers: defaultdict[str, list[ProducerSeason]] = defaultdict(list)
    for row in await rows(_NATIONAL_PRODUCERS):
        producers[row[0]].append(ProducerSeason(*row[1:]))
    lineup = {row.province_code: row for row in await rows(_NATIONAL_LINEUP)}
    eligible: dict[str, int] = {
        row.province_code: row.products for row in await session.execute(select(tables.intended_products))
    }
    first_month: defaultdict[str, dict] = defaultdict(dict)
    for row in await rows(_NATIONAL_FIRST_MONTH):
        first_month[row.province_code][row.product_id] = (row.sales, row.days, row.lineup)
    venues = {(row.category, row.venue_kind): row.amounts for row in await rows(_NATIONAL_VENUES)}
    columns = [_raw(group.c.id), group.c.name, _raw(group.c.mentor_ids), _raw(group.c.mentee_ids)]
    group_rows = (await session.execute(select(group.c.province_code, *columns))).all()
    groups = [MentoringGroup(row[1], row[2], frozenset(row[3]), frozenset(row[4])) for row in group_rows]
    provinces = set(lineup) | {row.province_code for row in group_rows}

    def season_of(code: str) -> ProvinceSeason:
        found = lineup.get(code)
        return ProvinceSeason(
            province_code=code,
            market_days=found.market_days if found else 0,
            producers=producers[code],
            lineup=found.lineup if found else 0,
            intended=found.intended if found else 0,
            first_month=first_month[code],
            eligible=eligible.get(code, 0),
            never_invited=eligible.get(code, 0) - (found.intended_invited if found else 0),
        )

    return national_outcomes(first_day, last_day, [season_of(code) for code in provinces], venues, groups)


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
