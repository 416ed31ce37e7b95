"""Reading venues, plans, market days, lineups, proposals, attendance and the public calendar."""

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Date, Select, and_, cast, func, select
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
    month_end,
    plan_progress,
    propose,
    recent_invitation_days,
    recent_sales_period,
)
from shared.contracts.scheduling import (
    MarketDayStatus,
)
from shared.errors import NotFound

V, P, M, I = tables.venues, tables.plans, tables.market_days, tables.invitations  # noqa: E741


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
        V,
        province_code,
        V.c.name,
        V.c.id,
        item_id=venue_id,
        missing="no such venue in this province",
    )


async def plans(session: AsyncSession, province_code: str, plan_id: UUID | None = None) -> list[dict]:
    return await _listed(
        session, P, province_code, P.c.first_month, item_id=plan_id, missing="no such plan in this province"
    )


async def progress(
    session: AsyncSession, province_code: str, plan_id: UUID
) -> tuple[dict, list[MonthProgress]]:
    """Plan against actual, month by month (every market day of the province in the plan's months)."""
    [plan] = await plans(session, province_code, plan_id)
    in_lineup = func.count(I.c.id).filter(I.c.status.in_(IN_LINEUP))
    accepted = func.count(I.c.id).filter(I.c.status == InvitationStatus.ACCEPTED)
    rows = await session.execute(
        select(
            M.c.id,
            M.c.day,
            M.c.status,
            V.c.name,
            in_lineup.label("in_lineup"),
            accepted.label("accepted"),
            func.cardinality(tables.attendance.c.product_ids).label("attended"),
        )
        .join(V, V.c.id == M.c.venue_id)
        .outerjoin(I, I.c.market_day_id == M.c.id)
        .outerjoin(tables.attendance, tables.attendance.c.market_day_id == M.c.id)
        .where(
            M.c.province_code == province_code,
            M.c.day >= plan["first_month"],
            M.c.day <= month_end(plan["last_month"]),
        )
        .group_by(M.c.id, V.c.name, tables.attendance.c.product_ids)
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
    M.c.id,
    M.c.province_code,
    M.c.revision,
    P.c.id.label("plan_id"),
    M.c.venue_id,
    V.c.name.label("venue_name"),
    V.c.kind.label("venue_kind"),
    V.c.address.label("venue_address"),
    M.c.day,
    M.c.starts_at,
    M.c.ends_at,
    M.c.status,
    M.c.cancel_reason,
    func.coalesce(P.c.products_per_market_day, DEFAULT_PRODUCTS_PER_MARKET_DAY).label("products_target"),
    M.c.updated_at,
)


_MONTH = cast(func.date_trunc("month", M.c.day), Date)


def _market_day_query(province_code: str) -> Select:
    """Market days with their venue and the plan covering their month (if any)."""
    return (
        select(*_STATE)
        .join(V, V.c.id == M.c.venue_id)
        .outerjoin(
            P, and_(P.c.province_code == M.c.province_code, _MONTH.between(P.c.first_month, P.c.last_month))
        )
        .where(M.c.province_code == province_code)
    )


async def market_day(
    session: AsyncSession, province_code: str, market_day_id: UUID, *, lock: bool = False
) -> dict:
    query = _market_day_query(province_code).where(M.c.id == market_day_id)
    row = (await session.execute(query.with_for_update(of=M) if lock else query)).mappings().first()
    if row is None:
        raise NotFound("no such market day in this province")
    return dict(row)


async def market_days(
    session: AsyncSession,
    province_code: str,
    first_day: date | None,
    last_day: date | None,
    status: MarketDayStatus | None = None,
) -> list[dict]:
    query = _market_day_query(province_code).order_by(M.c.day, M.c.starts_at, V.c.name, M.c.id)
    if first_day is not None:
        query = query.where(M.c.day >= first_day)
    if last_day is not None:
        query = query.where(M.c.day <= last_day)
    if status is not None:
        query = query.where(M.c.status == status)
    return [dict(row) for row in (await session.execute(query)).mappings()]


_INVITATION = (
    I.c.id,
    I.c.market_day_id,
    I.c.product_id,
    tables.products.c.name.label("product_name"),
    I.c.producer_id,
    tables.producers.c.name.label("producer_name"),
    I.c.revision,
    I.c.status,
    I.c.decline_reason,
    I.c.note,
    I.c.sent_at,
    I.c.updated_at,
)


async def invitations_where(session: AsyncSession, province_code: str, *where) -> list[dict]:
    rows = await session.execute(
        select(*_INVITATION)
        .outerjoin(tables.products, tables.products.c.id == I.c.product_id)
        .outerjoin(tables.producers, tables.producers.c.id == I.c.producer_id)
        .where(I.c.province_code == province_code, *where)
        .order_by(I.c.sent_at, I.c.id)
    )
    return [dict(row) for row in rows.mappings()]


async def lineup(session: AsyncSession, province_code: str, market_day_id: UUID) -> dict:
    day = await market_day(session, province_code, market_day_id)
    invitations = await invitations_where(session, province_code, I.c.market_day_id == market_day_id)
    in_lineup = sum(i["status"] in IN_LINEUP for i in invitations)
    return {
        "market_day_id": market_day_id,
        "products_target": day["products_target"],
        "in_lineup": in_lineup,
        "accepted": sum(i["status"] == InvitationStatus.ACCEPTED for i in invitations),
        "shortfall": max(0, day["products_target"] - in_lineup),
        "invitations": invitations,
    }


async def _candidates(session: AsyncSession, province_code: str, day: dict) -> list[Candidate]:
    """Every product of the province with its producer, its recent sales, its producer's recent invitations
    and
    whether its producer is in the lineup of another market day that day."""
    pr, pd, s = tables.products, tables.producers, tables.sales
    sold_from, sold_before = recent_sales_period(day["day"])
    sold = (
        select(s.c.product_id, func.sum(s.c.amount_thb).label("amount"))
        .where(
            s.c.province_code == province_code,
            ~s.c.voided,
            s.c.sold_at >= sold_from,
            s.c.sold_at < sold_before,
        )
        .group_by(s.c.product_id)
        .subquery()
    )
    first, last = recent_invitation_days(day["day"])
    invited = (
        select(I.c.producer_id, func.count().label("times"))
        .join(M, M.c.id == I.c.market_day_id)
        .where(
            I.c.province_code == province_code,
            I.c.status != InvitationStatus.WITHDRAWN,
            M.c.id != day["id"],
            M.c.status != MarketDayStatus.CANCELLED,
            M.c.day.between(first, last),
        )
        .group_by(I.c.producer_id)
        .subquery()
    )
    booked = (
        select(I.c.producer_id)
        .join(M, M.c.id == I.c.market_day_id)
        .where(
            I.c.province_code == province_code,
            I.c.status.in_(IN_LINEUP),
            M.c.id != day["id"],
            M.c.status != MarketDayStatus.CANCELLED,
            M.c.day == day["day"],
        )
        .distinct()
        .subquery()
    )
    rows = await session.execute(
        select(
            pr.c.id,
            pr.c.name,
            pr.c.quadrant,
            pr.c.star_level,
            pr.c.nawatwithi,
            pr.c.status,
            pr.c.producer_id,
            pd.c.name.label("producer_name"),
            pd.c.available,
            pd.c.unavailable_from,
            pd.c.unavailable_until,
            func.coalesce(sold.c.amount, 0).label("sales"),
            func.coalesce(invited.c.times, 0).label("times"),
            booked.c.producer_id.is_not(None).label("booked"),
        )
        .outerjoin(pd, pd.c.id == pr.c.producer_id)
        .outerjoin(sold, sold.c.product_id == pr.c.id)
        .outerjoin(invited, invited.c.producer_id == pr.c.producer_id)
        .outerjoin(booked, booked.c.producer_id == pr.c.producer_id)
        .where(pr.c.province_code == province_code)
    )
    return [
        Candidate(
            product_id=r.id,
            name=r.name,
            quadrant=r.quadrant,
            star_level=r.star_level,
            nawatwithi=r.nawatwithi,
            status=r.status,
            producer_id=r.producer_id,
            producer_name=r.producer_name,
            producer_available=r.available,
            unavailable_from=r.unavailable_from,
            unavailable_until=r.unavailable_until,
            recent_sales_thb=r.sales,
            producer_recent_invitations=r.times,
            producer_booked_that_day=r.booked,
        )
        for r in rows
    ]


async def proposal(
    session: AsyncSession, province_code: str, market_day_id: UUID, day: dict | None = None
) -> Proposal:
    """Which products to invite next, and the ranked pool they come from (see domain.propose)."""
    day = day or await market_day(session, province_code, market_day_id)
    entries = (
        await session.execute(
            select(I.c.product_id, I.c.producer_id, I.c.status).where(I.c.market_day_id == market_day_id)
        )
    ).all()
    return propose(
        await _candidates(session, province_code, day),
        [LineupEntry(e.product_id, e.producer_id, InvitationStatus(e.status)) for e in entries],
        day["day"],
        day["products_target"],
    )


async def invitation(session: AsyncSession, province_code: str, invitation_id: UUID) -> dict:
    found = await invitations_where(session, province_code, I.c.id == invitation_id)
    if not found:
        raise NotFound("no such invitation in this province")
    return found[0]


async def invitation_link(
    session: AsyncSession, province_code: str, invitation_id: UUID, key: str, now: datetime
) -> dict:
    """A signed link for the producer to answer the invitation, good until its market day begins."""
    found = await invitation(session, province_code, invitation_id)
    day = await market_day(session, province_code, found["market_day_id"])
    link = InvitationLink.expiring(invitation_id, province_code, day["day"], now)
    return {"invitation_id": invitation_id, "token": link.token(key), "expires_at": link.expires_at}


async def linked_invitation(session: AsyncSession, link: InvitationLink) -> dict:
    """What the producer sees: the invitation with its market day's venue, day and hours."""
    found = await invitation(session, link.province_code, link.invitation_id)
    day = await market_day(session, link.province_code, found["market_day_id"])
    return {
        **found,
        "province_code": link.province_code,
        "expires_at": link.expires_at,
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
        select(I.c.market_day_id, tables.products.c.name)
        .join(tables.products, tables.products.c.id == I.c.product_id)
        .where(
            I.c.province_code == province_code,
            I.c.status == InvitationStatus.ACCEPTED,
            I.c.market_day_id.in_([d["id"] for d in days]),
        )
        .order_by(tables.products.c.name)
    ):
        confirmed.setdefault(row.market_day_id, []).append(row.name)
    return [(day, confirmed.get(day["id"], [])) for day in days]
