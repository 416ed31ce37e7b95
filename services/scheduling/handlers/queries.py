"""Reading venues, plans, market days, lineups, proposals, attendance and the public calendar."""

from datetime import date
from uuid import UUID

from sqlalchemy import Date, Select, Subquery, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling import tables
from services.scheduling.domain import (
    DEFAULT_PRODUCTS_PER_MARKET_DAY,
    IN_LINEUP,
    Candidate,
    DayFacts,
    InvitationLink,
    InvitationStatus,
    LineupEntry,
    MonthProgress,
    Proposal,
    answers_close,
    check_link_in_force,
    month_end,
    plan_progress,
    propose,
    recent_invitation_days,
    recent_sales_period,
)
from shared.contracts.scheduling import (
    MarketDayStatus,
)
from shared.db import one_row
from shared.errors import NotFound


async def _listed(
    session: AsyncSession,
    table,
    province_code: str,
    *order_by,
    item_id: UUID | None = None,
    missing: str = "",
) -> list[dict]:
    """A province's rows of `table`; with `item_id`, that one row (NotFound(missing) if there is none)."""
    query = select(table).where(table.c.province_code == province_code).order_by(*order_by)
    found = [
        dict(row)
        for row in (
            await session.execute(query if item_id is None else query.where(table.c.id == item_id))
        ).mappings()
    ]
    if item_id is not None and not found:
        raise NotFound(missing)
    return found


async def venues(session: AsyncSession, province_code: str, venue_id: UUID | None = None) -> list[dict]:
    return await _listed(
        session,
        tables.venues,
        province_code,
        tables.venues.c.name,
        tables.venues.c.id,
        item_id=venue_id,
        missing="no such venue in this province",
    )


async def plans(session: AsyncSession, province_code: str, plan_id: UUID | None = None) -> list[dict]:
    return await _listed(
        session,
        tables.plans,
        province_code,
        tables.plans.c.first_month,
        item_id=plan_id,
        missing="no such plan in this province",
    )


async def progress(
    session: AsyncSession, province_code: str, plan_id: UUID
) -> tuple[dict, list[MonthProgress]]:
    """Plan against actual, month by month (every market day of the province in the plan's months)."""
    [plan] = await plans(session, province_code, plan_id)
    in_lineup = func.count(tables.invitations.c.id).filter(tables.invitations.c.status.in_(IN_LINEUP))
    accepted = func.count(tables.invitations.c.id).filter(
        tables.invitations.c.status == InvitationStatus.ACCEPTED
    )
    rows = await session.execute(
        select(
            tables.market_days.c.id,
            tables.market_days.c.day,
            tables.market_days.c.status,
            tables.venues.c.name,
            in_lineup.label("in_lineup"),
            accepted.label("accepted"),
            func.cardinality(tables.attendance.c.product_ids).label("attended"),
        )
        .join(tables.venues, tables.venues.c.id == tables.market_days.c.venue_id)
        .outerjoin(tables.invitations, tables.invitations.c.market_day_id == tables.market_days.c.id)
        .outerjoin(tables.attendance, tables.attendance.c.market_day_id == tables.market_days.c.id)
        .where(
            tables.market_days.c.province_code == province_code,
            tables.market_days.c.day >= plan["first_month"],
            tables.market_days.c.day <= month_end(plan["last_month"]),
        )
        .group_by(tables.market_days.c.id, tables.venues.c.name, tables.attendance.c.product_ids)
    )
    days = [
        DayFacts(
            market_day_id=row.id,
            day=row.day,
            venue_name=row.name,
            status=MarketDayStatus(row.status),
            in_lineup=row.in_lineup,
            accepted=row.accepted,
            attended=row.attended,
        )
        for row in rows
    ]
    return plan, plan_progress(
        plan["first_month"],
        plan["last_month"],
        plan["market_days_per_month"],
        plan["products_per_market_day"],
        days,
    )


_STATE = (
    tables.market_days.c.id,
    tables.market_days.c.province_code,
    tables.market_days.c.revision,
    tables.plans.c.id.label("plan_id"),
    tables.market_days.c.venue_id,
    tables.venues.c.name.label("venue_name"),
    tables.venues.c.kind.label("venue_kind"),
    tables.venues.c.address.label("venue_address"),
    tables.market_days.c.day,
    tables.market_days.c.starts_at,
    tables.market_days.c.ends_at,
    tables.market_days.c.status,
    tables.market_days.c.cancel_reason,
    func.coalesce(tables.plans.c.products_per_market_day, DEFAULT_PRODUCTS_PER_MARKET_DAY).label(
        "products_target"
    ),
    tables.market_days.c.updated_at,
)


_MONTH = cast(func.date_trunc("month", tables.market_days.c.day), Date)


def _market_day_query(province_code: str) -> Select:
    """Market days with their venue and the plan covering their month (if any)."""
    return (
        select(*_STATE)
        .join(tables.venues, tables.venues.c.id == tables.market_days.c.venue_id)
        .outerjoin(
            tables.plans,
            and_(
                tables.plans.c.province_code == tables.market_days.c.province_code,
                _MONTH.between(tables.plans.c.first_month, tables.plans.c.last_month),
            ),
        )
        .where(tables.market_days.c.province_code == province_code)
    )


async def market_day(
    session: AsyncSession, province_code: str, market_day_id: UUID, *, lock: bool = False
) -> dict:
    query = _market_day_query(province_code).where(tables.market_days.c.id == market_day_id)
    return await one_row(
        session,
        query.with_for_update(of=tables.market_days) if lock else query,
        "no such market day in this province",
    )


async def market_days(
    session: AsyncSession,
    province_code: str,
    first_day: date | None,
    last_day: date | None,
    status: MarketDayStatus | None = None,
) -> list[dict]:
    query = _market_day_query(province_code).order_by(
        tables.market_days.c.day,
        tables.market_days.c.starts_at,
        tables.venues.c.name,
        tables.market_days.c.id,
    )
    if first_day is not None:
        query = query.where(tables.market_days.c.day >= first_day)
    if last_day is not None:
        query = query.where(tables.market_days.c.day <= last_day)
    if status is not None:
        query = query.where(tables.market_days.c.status == status)
    return [dict(row) for row in (await session.execute(query)).mappings()]


_INVITATION = (
    tables.invitations.c.id,
    tables.invitations.c.market_day_id,
    tables.invitations.c.product_id,
    tables.products.c.name.label("product_name"),
    tables.invitations.c.producer_id,
    tables.producers.c.name.label("producer_name"),
    tables.invitations.c.revision,
    tables.invitations.c.status,
    tables.invitations.c.decline_reason,
    tables.invitations.c.note,
    tables.invitations.c.sent_at,
    tables.invitations.c.updated_at,
)


async def invitations_where(session: AsyncSession, province_code: str, *where) -> list[dict]:
    rows = await session.execute(
        select(*_INVITATION)
        .outerjoin(tables.products, tables.products.c.id == tables.invitations.c.product_id)
        .outerjoin(tables.producers, tables.producers.c.id == tables.invitations.c.producer_id)
        .where(tables.invitations.c.province_code == province_code, *where)
        .order_by(tables.invitations.c.sent_at, tables.invitations.c.id)
    )
    return [dict(row) for row in rows.mappings()]


async def lineup(session: AsyncSession, province_code: str, market_day_id: UUID) -> dict:
    day = await market_day(session, province_code, market_day_id)
    invitations = await invitations_where(
        session, province_code, tables.invitations.c.market_day_id == market_day_id
    )
    in_lineup = sum(invitation["status"] in IN_LINEUP for invitation in invitations)
    return {
        "market_day_id": market_day_id,
        "products_target": day["products_target"],
        "in_lineup": in_lineup,
        "accepted": sum(invitation["status"] == InvitationStatus.ACCEPTED for invitation in invitations),
        "shortfall": max(0, day["products_target"] - in_lineup),
        "invitations": invitations,
    }


async def _candidates(session: AsyncSession, province_code: str, day: dict) -> list[Candidate]:
    """Every product of the province with what domain.propose selects and ranks by: its producer's
    availability, its recent sales, its producer's recent invitations and whether its producer is in the
    lineup of another market day that day."""
    products, producers = tables.products, tables.producers
    sales = _recent_sales(province_code, day["day"])
    invited = _recent_invitations(province_code, day)
    booked = _booked_elsewhere_that_day(province_code, day)
    rows = await session.execute(
        select(  # labelled as Candidate's fields
            products.c.id.label("product_id"),
            products.c.name,
            products.c.quadrant,
            products.c.star_level,
            products.c.nawatwithi,
            products.c.status,
            products.c.producer_id,
            producers.c.name.label("producer_name"),
            producers.c.available.label("producer_available"),
            producers.c.unavailable_from,
            producers.c.unavailable_until,
            func.coalesce(sales.c.amount, 0).label("recent_sales_thb"),
            func.coalesce(invited.c.times, 0).label("producer_recent_invitations"),
            booked.c.producer_id.is_not(None).label("producer_booked_that_day"),
        )
        .outerjoin(producers, producers.c.id == products.c.producer_id)
        .outerjoin(sales, sales.c.product_id == products.c.id)
        .outerjoin(invited, invited.c.producer_id == products.c.producer_id)
        .outerjoin(booked, booked.c.producer_id == products.c.producer_id)
        .where(products.c.province_code == province_code)
    )
    return [Candidate(**row) for row in rows.mappings()]


def _recent_sales(province_code: str, day: date) -> Subquery:
    """Each product's sales (`amount`) in the recent_sales_period before the market day, voided ones left
    out."""
    sales = tables.sales
    sold_from, sold_before = recent_sales_period(day)
    return (
        select(sales.c.product_id, func.sum(sales.c.amount_thb).label("amount"))
        .where(
            sales.c.province_code == province_code,
            ~sales.c.voided,
            sales.c.sold_at >= sold_from,
            sales.c.sold_at < sold_before,
        )
        .group_by(sales.c.product_id)
        .subquery()
    )


def _invitations_to_other_days(province_code: str, day: dict) -> Select:
    """The producers invited to the province's other market days, cancelled days left out."""
    invitations, market_days = tables.invitations, tables.market_days
    return (
        select(invitations.c.producer_id)
        .join(market_days, market_days.c.id == invitations.c.market_day_id)
        .where(
            invitations.c.province_code == province_code,
            market_days.c.id != day["id"],
            market_days.c.status != MarketDayStatus.CANCELLED,
        )
    )


def _recent_invitations(province_code: str, day: dict) -> Subquery:
    """How many times (`times`) each producer was invited, and not withdrawn, to another market day within
    the recent_invitation_days around this one."""
    invitations, market_days = tables.invitations, tables.market_days
    first, last = recent_invitation_days(day["day"])
    return (
        _invitations_to_other_days(province_code, day)
        .add_columns(func.count().label("times"))
        .where(invitations.c.status != InvitationStatus.WITHDRAWN, market_days.c.day.between(first, last))
        .group_by(invitations.c.producer_id)
        .subquery()
    )


def _booked_elsewhere_that_day(province_code: str, day: dict) -> Subquery:
    """The producers in the lineup (invited or accepted) of another market day on the same day."""
    invitations, market_days = tables.invitations, tables.market_days
    return (
        _invitations_to_other_days(province_code, day)
        .where(invitations.c.status.in_(IN_LINEUP), market_days.c.day == day["day"])
        .distinct()
        .subquery()
    )


async def proposal(
    session: AsyncSession, province_code: str, market_day_id: UUID, day: dict | None = None
) -> Proposal:
    """Which products to invite next, and the ranked pool they come from (see domain.propose)."""
    day = day or await market_day(session, province_code, market_day_id)
    entries = (
        await session.execute(
            select(
                tables.invitations.c.product_id, tables.invitations.c.producer_id, tables.invitations.c.status
            ).where(tables.invitations.c.market_day_id == market_day_id)
        )
    ).all()
    return propose(
        await _candidates(session, province_code, day),
        [
            LineupEntry(entry.product_id, entry.producer_id, InvitationStatus(entry.status))
            for entry in entries
        ],
        day["day"],
        day["products_target"],
    )


async def invitation(session: AsyncSession, province_code: str, invitation_id: UUID) -> dict:
    found = await invitations_where(session, province_code, tables.invitations.c.id == invitation_id)
    if not found:
        raise NotFound("no such invitation in this province")
    return found[0]


async def link_in_force(session: AsyncSession, link: InvitationLink, *, lock: bool = False) -> dict:
    """The issued link a token names (NotFound if it was never issued here; Refused if it was revoked)."""
    query = select(tables.invitation_links).where(
        tables.invitation_links.c.id == link.link_id,
        tables.invitation_links.c.province_code == link.province_code,
    )
    row = (await session.execute(query.with_for_update() if lock else query)).mappings().first()
    if row is None:
        raise NotFound("this invitation link is not valid")
    check_link_in_force(row["revoked_at"])
    return dict(row)


async def linked_invitation(session: AsyncSession, link: InvitationLink) -> dict:
    """What the producer sees: the invitation with its market day's venue, day and hours, and until when
    the link answers."""
    issued = await link_in_force(session, link)
    found = await invitation(session, link.province_code, issued["invitation_id"])
    day = await market_day(session, link.province_code, found["market_day_id"])
    return {
        **found,
        "province_code": link.province_code,
        "expires_at": link.expires_at,
        "answers_until": answers_close(day["day"]),
        **{k: day[k] for k in ("venue_name", "day", "starts_at", "ends_at")},
        "market_day_status": day["status"],
    }


async def attendance(session: AsyncSession, province_code: str, market_day_id: UUID) -> dict:
    await market_day(session, province_code, market_day_id)
    row = (
        (
            await session.execute(
                select(tables.attendance).where(tables.attendance.c.market_day_id == market_day_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("no attendance recorded for this market day yet")
    return dict(row)


async def calendar(session: AsyncSession, province_code: str, since: date) -> list[tuple[dict, list[str]]]:
    """Market days from `since` on, each with the names of the products confirmed for it (accepted)."""
    days = await market_days(session, province_code, since, None)
    confirmed: dict[UUID, list[str]] = {}
    for row in await session.execute(
        select(tables.invitations.c.market_day_id, tables.products.c.name)
        .join(tables.products, tables.products.c.id == tables.invitations.c.product_id)
        .where(
            tables.invitations.c.province_code == province_code,
            tables.invitations.c.status == InvitationStatus.ACCEPTED,
            tables.invitations.c.market_day_id.in_([day["id"] for day in days]),
        )
        .order_by(tables.products.c.name)
    ):
        confirmed.setdefault(row.market_day_id, []).append(row.name)
    return [(day, confirmed.get(day["id"], [])) for day in days]
