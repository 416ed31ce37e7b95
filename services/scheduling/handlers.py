"""Scheduling use cases: change state and stage the matching events in one transaction; read models of
the registry's and the sales service's events; queries. Rules live in domain.py."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from aiokafka import ConsumerRecord
from sqlalchemy import Date, Insert, Select, Table, Update, and_, cast, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling import tables
from services.scheduling.domain import (
    DEFAULT_PRODUCTS_PER_MARKET_DAY,
    IN_LINEUP,
    Candidate,
    Change,
    DayFacts,
    InvitationLink,
    InvitationStatus,
    LineupEntry,
    MonthProgress,
    Proposal,
    check_answer,
    check_change,
    month_end,
    plan_progress,
    propose,
    recent_invitation_days,
    recent_sales_period,
)
from services.scheduling.inputs import (
    AnswerIn,
    AttendanceIn,
    DeclineIn,
    MarketDayIn,
    PlanIn,
    RescheduleIn,
    VenueIn,
)
from shared.batch import Rejection, add_events, claimed_events
from shared.contracts.registry import ProducerState, ProductState
from shared.contracts.sales import SaleState, SaleVoided
from shared.contracts.scheduling import (
    AttendanceRecorded,
    InvitationAccepted,
    InvitationDeclined,
    InvitationSent,
    InvitationWithdrawn,
    MarketDayCancelled,
    MarketDayHeld,
    MarketDayRescheduled,
    MarketDayScheduled,
    MarketDayState,
    MarketDayStatus,
    PlanSet,
    VenueRegistered,
    VenueUpdated,
)
from shared.errors import Conflict, Invalid, NotFound, field_error
from shared.events import Envelope
from shared.service import Database
from shared.thailand import thai_today

V, P, M, I = tables.venues, tables.plans, tables.market_days, tables.invitations  # noqa: E741

# --- read models of other services' events


def producer_row(envelope: Envelope, event: ProducerState) -> dict:
    """The producers read model's row of a producer event (kept by shared.read_models.newest_state)."""
    return {
        "id": event.producer_id,
        "province_code": envelope.province_code,
        **event.model_dump(
            include={
                "revision",
                "name",
                "available",
                "unavailable_reason",
                "unavailable_from",
                "unavailable_until",
            }
        ),
    }


def product_row(envelope: Envelope, event: ProductState) -> dict:
    return {
        "id": event.product_id,
        "province_code": envelope.province_code,
        **event.model_dump(
            include={
                "revision",
                "producer_id",
                "name",
                "category",
                "star_level",
                "quadrant",
                "nawatwithi",
                "status",
            }
        ),
    }


async def sales_changed(
    inbox: Table, consumer: str, session: AsyncSession, records: Sequence[ConsumerRecord]
) -> list[Rejection]:
    """The recent-sales read model, a batch of sale events at a time (the busiest stream): each sale's
    newest revision (corrections and voids replace it), so recent totals stay exact."""
    events, rejections = await claimed_events(session, inbox, consumer, records, SaleState)
    newest: dict = {}
    for envelope, event in events:
        if event.revision > newest.get(event.sale_id, {}).get("revision", 0):
            newest[event.sale_id] = {
                "id": event.sale_id,
                "province_code": envelope.province_code,
                "voided": event.voided or isinstance(event, SaleVoided),
                **event.model_dump(
                    include={"revision", "product_id", "market_day_id", "amount_thb", "sold_at"}
                ),
            }
    if newest:
        rows = [newest[sale_id] for sale_id in sorted(newest)]  # one lock order for overlapping batches
        stmt = insert(tables.sales)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={k: stmt.excluded[k] for k in rows[0] if k != "id"},
                where=tables.sales.c.revision < stmt.excluded.revision,
            ),
            rows,
        )
    return rejections


# --- venues


def _venue_event(row: Mapping[Any, Any], event_type: type[VenueRegistered]) -> VenueRegistered:
    return event_type(
        venue_id=row["id"], **{k: row[k] for k in VenueIn.model_fields}, revision=row["revision"]
    )


async def register_venue(db: Database, session: AsyncSession, province_code: str, new: VenueIn) -> dict:
    new.check_province(province_code)
    row = (
        (
            await session.execute(
                insert(V)
                .values(id=uuid4(), province_code=province_code, revision=1, **new.model_dump())
                .returning(V)
            )
        )
        .mappings()
        .one()
    )
    await db.add_event(session, _venue_event(row, VenueRegistered), province_code=province_code)
    return dict(row)


async def update_venue(
    db: Database, session: AsyncSession, province_code: str, venue_id: UUID, changed: VenueIn
) -> dict:
    changed.check_province(province_code)
    row = (
        (
            await session.execute(
                update(V)
                .where(V.c.province_code == province_code, V.c.id == venue_id)
                .values(revision=V.c.revision + 1, **changed.model_dump())
                .returning(V)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("no such venue in this province")
    await db.add_event(session, _venue_event(row, VenueUpdated), province_code=province_code)
    return dict(row)


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


async def _usable_venue(session: AsyncSession, province_code: str, venue_id: UUID) -> None:
    try:
        [venue] = await venues(session, province_code, venue_id)
    except NotFound as exc:
        raise Invalid.at(("body", "venue_id"), str(exc)) from exc
    if not venue["active"]:
        raise Conflict(f"the venue {venue['name']} is no longer in use")


# --- plans


async def set_plan(
    db: Database, session: AsyncSession, province_code: str, plan: PlanIn, plan_id: UUID | None = None
) -> dict:
    """Create a plan (plan_id None) or replace one. Plans of a province may not overlap (a market day counts
    towards the plan covering its month), and a new period may not leave out market days the plan has."""
    await session.execute(select(func.pg_advisory_xact_lock(7203, func.hashtext(province_code))))
    others = select(P.c.name).where(
        P.c.province_code == province_code,
        P.c.first_month <= plan.last_month,
        P.c.last_month >= plan.first_month,
    )
    values = plan.model_dump()
    if plan_id is None:
        stmt: Insert | Update = insert(P).values(
            id=uuid4(), province_code=province_code, revision=1, **values
        )
    else:
        [before] = await plans(session, province_code, plan_id)
        others = others.where(P.c.id != plan_id)
        stmt = update(P).where(P.c.id == plan_id).values(revision=P.c.revision + 1, **values)
        stranded = await session.scalar(
            select(func.count()).where(
                M.c.province_code == province_code,
                M.c.status != MarketDayStatus.CANCELLED,
                M.c.day.between(before["first_month"], month_end(before["last_month"])),
                or_(M.c.day < plan.first_month, M.c.day > month_end(plan.last_month)),
            )
        )
        if stranded:
            raise Conflict(f"{stranded} market day(s) of this plan would fall outside the new period")
    overlapping = await session.scalar(others)
    if overlapping is not None:
        raise Conflict(f"the period overlaps the plan {overlapping!r}")
    row = (await session.execute(stmt.returning(P))).mappings().one()
    await db.add_event(
        session, PlanSet(plan_id=row["id"], revision=row["revision"], **values), province_code=province_code
    )
    return dict(row)


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


# --- market days

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


async def _write_market_day(
    db: Database, session: AsyncSession, province_code: str, stmt, event_type: type[MarketDayState]
) -> dict:
    """Apply an insert or update of one market day and stage its event with the full new state."""
    try:
        market_day_id = await session.scalar(stmt.returning(M.c.id))
    except IntegrityError as exc:
        raise Conflict("the venue already has a market day on that day") from exc
    state = await market_day(session, province_code, market_day_id)
    await db.add_event(
        session,
        event_type(
            market_day_id=market_day_id,
            **{k: state[k] for k in MarketDayState.model_fields if k != "market_day_id"},
        ),
        province_code=province_code,
    )
    return state


async def schedule(db: Database, session: AsyncSession, province_code: str, new: MarketDayIn) -> dict:
    """A new market day, counted towards the province's plan for its month (if there is one)."""
    await _usable_venue(session, province_code, new.venue_id)
    return await _write_market_day(
        db,
        session,
        province_code,
        insert(M).values(
            id=uuid4(),
            province_code=province_code,
            revision=1,
            status=MarketDayStatus.SCHEDULED,
            **new.model_dump(),
        ),
        MarketDayScheduled,
    )


async def _change(
    db: Database,
    session: AsyncSession,
    province_code: str,
    market_day_id: UUID,
    change: Change,
    event_type: type[MarketDayState],
    **values,
) -> dict:
    current = await market_day(session, province_code, market_day_id, lock=True)
    check_change(current["status"], current["day"], change, thai_today())
    return await _write_market_day(
        db,
        session,
        province_code,
        update(M).where(M.c.id == market_day_id).values(revision=M.c.revision + 1, **values),
        event_type,
    )


async def reschedule(
    db: Database, session: AsyncSession, province_code: str, market_day_id: UUID, new: RescheduleIn
) -> dict:
    venue_id = new.venue_id or (await market_day(session, province_code, market_day_id))["venue_id"]
    await _usable_venue(session, province_code, venue_id)
    return await _change(
        db,
        session,
        province_code,
        market_day_id,
        Change.RESCHEDULE,
        MarketDayRescheduled,
        day=new.day,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        venue_id=venue_id,
    )


async def cancel(
    db: Database, session: AsyncSession, province_code: str, market_day_id: UUID, reason: str
) -> dict:
    return await _change(
        db,
        session,
        province_code,
        market_day_id,
        Change.CANCEL,
        MarketDayCancelled,
        status=MarketDayStatus.CANCELLED,
        cancel_reason=reason,
    )


async def hold(db: Database, session: AsyncSession, province_code: str, market_day_id: UUID) -> dict:
    return await _change(
        db, session, province_code, market_day_id, Change.HOLD, MarketDayHeld, status=MarketDayStatus.HELD
    )


# --- the lineup: invitations, selection, replacements

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


async def _invitations(session: AsyncSession, province_code: str, *where) -> list[dict]:
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
    invitations = await _invitations(session, province_code, I.c.market_day_id == market_day_id)
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


async def _lineup_changeable(session: AsyncSession, province_code: str, market_day_id: UUID) -> dict:
    day = await market_day(session, province_code, market_day_id, lock=True)  # one lineup change at a time
    check_change(day["status"], day["day"], Change.LINEUP, thai_today())
    return day


async def _invite(
    db: Database,
    session: AsyncSession,
    province_code: str,
    market_day_id: UUID,
    products: Sequence[tuple[UUID, UUID | None]],
) -> list[dict]:
    rows = [
        {
            "id": uuid4(),
            "province_code": province_code,
            "market_day_id": market_day_id,
            "product_id": product,
            "producer_id": producer,
            "revision": 1,
            "status": InvitationStatus.SENT,
        }
        for product, producer in products
    ]
    if rows:
        await session.execute(insert(I), rows)
    await add_events(
        session,
        db.outbox,
        [(_invitation_event(InvitationSent, row), province_code, None) for row in rows],
        source=db.source,
    )
    return await _invitations(session, province_code, I.c.id.in_([row["id"] for row in rows]))


def _invitation_event(
    event_type: type[InvitationSent], row: Mapping[Any, Any], **extra: Any
) -> InvitationSent:
    return event_type(
        invitation_id=row["id"],
        market_day_id=row["market_day_id"],
        product_id=row["product_id"],
        producer_id=row["producer_id"],
        revision=row["revision"],
        **extra,
    )


async def fill_lineup(
    db: Database, session: AsyncSession, province_code: str, market_day_id: UUID
) -> tuple[list[dict], Proposal]:
    """Invite the proposed products, so the lineup reaches the target (or falls short, said plainly)."""
    day = await _lineup_changeable(session, province_code, market_day_id)
    proposed = await proposal(session, province_code, market_day_id, day)
    invited = await _invite(
        db, session, province_code, market_day_id, [(c.product_id, c.producer_id) for c in proposed.proposed]
    )
    return invited, proposed


async def add_to_lineup(
    db: Database, session: AsyncSession, province_code: str, market_day_id: UUID, product_id: UUID
) -> dict:
    """An officer's choice, outside the ranking: any active product of the province not yet in the lineup."""
    await _lineup_changeable(session, province_code, market_day_id)
    product = (
        (
            await session.execute(
                select(tables.products).where(
                    tables.products.c.province_code == province_code, tables.products.c.id == product_id
                )
            )
        )
        .mappings()
        .first()
    )
    if product is None:
        raise Invalid.at(
            ("body", "product_id"), "no such product in this province (not yet heard from the registry)"
        )
    if product["status"] != "active":
        raise Conflict(f"the product {product['name']} is {product['status']}")
    if await session.scalar(
        select(func.count()).where(
            I.c.market_day_id == market_day_id, I.c.product_id == product_id, I.c.status.in_(IN_LINEUP)
        )
    ):
        raise Conflict(f"the product {product['name']} is already in the lineup")
    [invitation] = await _invite(
        db, session, province_code, market_day_id, [(product_id, product["producer_id"])]
    )
    return invitation


async def _answer(
    db: Database,
    session: AsyncSession,
    province_code: str,
    where,
    new: InvitationStatus,
    event_type: type[InvitationSent],
    values: dict | None = None,
    **event_fields,
) -> dict:
    """Move an invitation (the open one, if `where` names several) to `new`, checked against its market day
    and its current state, with its event."""
    found = await _invitations(
        session, province_code, where, I.c.status.in_(IN_LINEUP)
    ) or await _invitations(session, province_code, where)
    if not found:
        raise NotFound("no such invitation in this province")
    current = found[-1]
    await _lineup_changeable(session, province_code, current["market_day_id"])
    check_answer(InvitationStatus(current["status"]), new)
    row = (
        (
            await session.execute(
                update(I)
                .where(I.c.id == current["id"], I.c.revision == current["revision"])
                .values(status=new, revision=I.c.revision + 1, **(values or {}))
                .returning(I)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise Conflict("the invitation changed meanwhile; try again")
    await db.add_event(
        session, _invitation_event(event_type, row, **event_fields), province_code=province_code
    )
    [invitation] = await _invitations(session, province_code, I.c.id == row["id"])
    return invitation


async def accept(db: Database, session: AsyncSession, province_code: str, invitation_id: UUID) -> dict:
    return await _answer(
        db, session, province_code, I.c.id == invitation_id, InvitationStatus.ACCEPTED, InvitationAccepted
    )


async def decline(
    db: Database, session: AsyncSession, province_code: str, invitation_id: UUID, answer: DeclineIn
) -> tuple[dict, Proposal]:
    """The producer declines; the answer carries the replacements that would bring the lineup back to
    target."""
    invitation = await _answer(
        db,
        session,
        province_code,
        I.c.id == invitation_id,
        InvitationStatus.DECLINED,
        InvitationDeclined,
        {"decline_reason": answer.reason, "note": answer.note},
        reason=answer.reason,
        note=answer.note,
    )
    return invitation, await proposal(session, province_code, invitation["market_day_id"])


async def answer_all(
    db: Database, session: AsyncSession, province_code: str, market_day_id: UUID, answers: Sequence[AnswerIn]
) -> tuple[list[dict], Proposal]:
    """Several producers' answers to invitations of one market day, each as `accept` or `decline` records it,
    all or none; with the replacements that would bring the lineup back to target."""
    await _lineup_changeable(session, province_code, market_day_id)
    invitations = []
    for answer in answers:
        where = and_(I.c.id == answer.invitation_id, I.c.market_day_id == market_day_id)
        if answer.accept:
            invitations.append(
                await _answer(
                    db, session, province_code, where, InvitationStatus.ACCEPTED, InvitationAccepted
                )
            )
        else:
            invitations.append(
                await _answer(
                    db,
                    session,
                    province_code,
                    where,
                    InvitationStatus.DECLINED,
                    InvitationDeclined,
                    {"decline_reason": answer.reason, "note": answer.note},
                    reason=answer.reason,
                    note=answer.note,
                )
            )
    return invitations, await proposal(session, province_code, market_day_id)


async def withdraw(
    db: Database,
    session: AsyncSession,
    province_code: str,
    market_day_id: UUID,
    product_id: UUID,
    note: str | None,
) -> dict:
    """Take a product out of the lineup (its invitation is withdrawn)."""
    await market_day(session, province_code, market_day_id)
    return await _answer(
        db,
        session,
        province_code,
        and_(I.c.market_day_id == market_day_id, I.c.product_id == product_id),
        InvitationStatus.WITHDRAWN,
        InvitationWithdrawn,
        {"note": note},
        note=note,
    )


async def invitation(session: AsyncSession, province_code: str, invitation_id: UUID) -> dict:
    found = await _invitations(session, province_code, I.c.id == invitation_id)
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


# --- attendance


async def record_attendance(
    db: Database,
    session: AsyncSession,
    province_code: str,
    market_day_id: UUID,
    present: AttendanceIn,
    actor: str,
) -> dict:
    day = await market_day(session, province_code, market_day_id, lock=True)
    check_change(day["status"], day["day"], Change.ATTENDANCE, thai_today())
    known = {
        row.id: row.producer_id
        for row in await session.execute(
            select(tables.products.c.id, tables.products.c.producer_id).where(
                tables.products.c.province_code == province_code,
                tables.products.c.id.in_(present.product_ids),
            )
        )
    }
    unknown = [
        field_error(("body", "product_ids", i), "no such product in this province")
        for i, product in enumerate(present.product_ids)
        if product not in known
    ]
    if unknown:
        raise Invalid(unknown)
    values = {
        "product_ids": present.product_ids,
        "recorded_by": actor,
        "producer_ids": sorted({p for p in known.values() if p is not None}, key=str),
    }
    stmt = insert(tables.attendance).values(
        market_day_id=market_day_id, province_code=province_code, revision=1, **values
    )
    row = (
        (
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["market_day_id"],
                    set_={"revision": tables.attendance.c.revision + 1, **values},
                ).returning(tables.attendance)
            )
        )
        .mappings()
        .one()
    )
    await db.add_event(
        session,
        AttendanceRecorded(
            market_day_id=market_day_id,
            revision=row["revision"],
            product_ids=row["product_ids"],
            producer_ids=row["producer_ids"],
        ),
        province_code=province_code,
    )
    return dict(row)


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


# --- the public calendar


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
