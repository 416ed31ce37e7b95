"""Changing venues, plans, market days, lineups (invitations, answers, replacements) and attendance: each
change is written with its event in the caller's unit of work."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Insert, Update, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.scheduling import tables
from services.scheduling.domain import (
    IN_LINEUP,
    Change,
    InvitationLink,
    InvitationStatus,
    Proposal,
    answers_close,
    check_answer,
    check_change,
    check_link_answer,
    month_end,
)
from services.scheduling.handlers.queries import (
    invitation,
    invitations_where,
    link_in_force,
    linked_invitation,
    market_day,
    plans,
    proposal,
    venues,
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
from shared.contracts.scheduling import (
    AttendanceRecorded,
    InvitationAccepted,
    InvitationDeclined,
    InvitationLinkIssued,
    InvitationLinkRevoked,
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
from shared.db import one_row
from shared.errors import Conflict, Invalid, NotFound, field_error
from shared.thailand import thai_today
from shared.unit_of_work import UnitOfWork


def _venue_event(row: Mapping[Any, Any], event_type: type[VenueRegistered]) -> VenueRegistered:
    return event_type(
        venue_id=row["id"], **{k: row[k] for k in VenueIn.model_fields}, revision=row["revision"]
    )


async def register_venue(uow: UnitOfWork, province_code: str, new: VenueIn) -> dict:
    new.check_province(province_code)
    row = (
        (
            await uow.session.execute(
                insert(tables.venues)
                .values(id=uuid4(), province_code=province_code, revision=1, **new.model_dump())
                .returning(tables.venues)
            )
        )
        .mappings()
        .one()
    )
    uow.emit(_venue_event(row, VenueRegistered), province_code=province_code)
    return dict(row)


async def update_venue(uow: UnitOfWork, province_code: str, venue_id: UUID, changed: VenueIn) -> dict:
    changed.check_province(province_code)
    row = await one_row(
        uow.session,
        update(tables.venues)
        .where(tables.venues.c.province_code == province_code, tables.venues.c.id == venue_id)
        .values(revision=tables.venues.c.revision + 1, **changed.model_dump())
        .returning(tables.venues),
        "no such venue in this province",
    )
    uow.emit(_venue_event(row, VenueUpdated), province_code=province_code)
    return row


async def _usable_venue(session: AsyncSession, province_code: str, venue_id: UUID) -> None:
    try:
        [venue] = await venues(session, province_code, venue_id)
    except NotFound as exc:
        raise Invalid.at(("body", "venue_id"), str(exc)) from exc
    if not venue["active"]:
        raise Conflict(f"the venue {venue['name']} is no longer in use")


async def set_plan(uow: UnitOfWork, province_code: str, plan: PlanIn, plan_id: UUID | None = None) -> dict:
    """Create a plan (plan_id None) or replace one. Plans of a province may not overlap (a market day counts
    towards the plan covering its month), and a new period may not leave out market days the plan has."""
    await uow.session.execute(select(func.pg_advisory_xact_lock(7203, func.hashtext(province_code))))
    others = select(tables.plans.c.name).where(
        tables.plans.c.province_code == province_code,
        tables.plans.c.first_month <= plan.last_month,
        tables.plans.c.last_month >= plan.first_month,
    )
    values = plan.model_dump()
    if plan_id is None:
        stmt: Insert | Update = insert(tables.plans).values(
            id=uuid4(), province_code=province_code, revision=1, **values
        )
    else:
        [before] = await plans(uow.session, province_code, plan_id)
        others = others.where(tables.plans.c.id != plan_id)
        stmt = (
            update(tables.plans)
            .where(tables.plans.c.id == plan_id)
            .values(revision=tables.plans.c.revision + 1, **values)
        )
        stranded = await uow.session.scalar(
            select(func.count()).where(
                tables.market_days.c.province_code == province_code,
                tables.market_days.c.status != MarketDayStatus.CANCELLED,
                tables.market_days.c.day.between(before["first_month"], month_end(before["last_month"])),
                or_(
                    tables.market_days.c.day < plan.first_month,
                    tables.market_days.c.day > month_end(plan.last_month),
                ),
            )
        )
        if stranded:
            raise Conflict(f"{stranded} market day(s) of this plan would fall outside the new period")
    overlapping = await uow.session.scalar(others)
    if overlapping is not None:
        raise Conflict(f"the period overlaps the plan {overlapping!r}")
    row = (await uow.session.execute(stmt.returning(tables.plans))).mappings().one()
    uow.emit(PlanSet(plan_id=row["id"], revision=row["revision"], **values), province_code=province_code)
    return dict(row)


async def _write_market_day(
    uow: UnitOfWork, province_code: str, stmt, event_type: type[MarketDayState]
) -> dict:
    """Apply an insert or update of one market day and stage its event with the full new state."""
    try:
        market_day_id = await uow.session.scalar(stmt.returning(tables.market_days.c.id))
    except IntegrityError as exc:
        raise Conflict("the venue already has a market day on that day") from exc
    state = await market_day(uow.session, province_code, market_day_id)
    uow.emit(
        event_type(
            market_day_id=market_day_id,
            **{k: state[k] for k in MarketDayState.model_fields if k != "market_day_id"},
        ),
        province_code=province_code,
    )
    return state


async def schedule(uow: UnitOfWork, province_code: str, new: MarketDayIn) -> dict:
    """A new market day, counted towards the province's plan for its month (if there is one)."""
    await _usable_venue(uow.session, province_code, new.venue_id)
    return await _write_market_day(
        uow,
        province_code,
        insert(tables.market_days).values(
            id=uuid4(),
            province_code=province_code,
            revision=1,
            status=MarketDayStatus.SCHEDULED,
            **new.model_dump(),
        ),
        MarketDayScheduled,
    )


async def _change(
    uow: UnitOfWork,
    province_code: str,
    market_day_id: UUID,
    change: Change,
    event_type: type[MarketDayState],
    **values,
) -> dict:
    current = await market_day(uow.session, province_code, market_day_id, lock=True)
    check_change(current["status"], current["day"], change, thai_today())
    return await _write_market_day(
        uow,
        province_code,
        update(tables.market_days)
        .where(tables.market_days.c.id == market_day_id)
        .values(revision=tables.market_days.c.revision + 1, **values),
        event_type,
    )


async def reschedule(uow: UnitOfWork, province_code: str, market_day_id: UUID, new: RescheduleIn) -> dict:
    venue_id = new.venue_id or (await market_day(uow.session, province_code, market_day_id))["venue_id"]
    await _usable_venue(uow.session, province_code, venue_id)
    return await _change(
        uow,
        province_code,
        market_day_id,
        Change.RESCHEDULE,
        MarketDayRescheduled,
        day=new.day,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        venue_id=venue_id,
    )


async def cancel(uow: UnitOfWork, province_code: str, market_day_id: UUID, reason: str) -> dict:
    return await _change(
        uow,
        province_code,
        market_day_id,
        Change.CANCEL,
        MarketDayCancelled,
        status=MarketDayStatus.CANCELLED,
        cancel_reason=reason,
    )


async def hold(uow: UnitOfWork, province_code: str, market_day_id: UUID) -> dict:
    return await _change(
        uow, province_code, market_day_id, Change.HOLD, MarketDayHeld, status=MarketDayStatus.HELD
    )


async def _lineup_changeable(session: AsyncSession, province_code: str, market_day_id: UUID) -> dict:
    day = await market_day(session, province_code, market_day_id, lock=True)  # one lineup change at a time
    check_change(day["status"], day["day"], Change.LINEUP, thai_today())
    return day


async def _invite(
    uow: UnitOfWork,
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
        await uow.session.execute(insert(tables.invitations), rows)
    for row in rows:
        uow.emit(_invitation_event(InvitationSent, row), province_code=province_code)
    return await invitations_where(
        uow.session, province_code, tables.invitations.c.id.in_([row["id"] for row in rows])
    )


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
    uow: UnitOfWork, province_code: str, market_day_id: UUID
) -> tuple[list[dict], Proposal]:
    """Invite the proposed products, so the lineup reaches the target (or falls short, said plainly)."""
    day = await _lineup_changeable(uow.session, province_code, market_day_id)
    proposed = await proposal(uow.session, province_code, market_day_id, day)
    invited = await _invite(
        uow,
        province_code,
        market_day_id,
        [(candidate.product_id, candidate.producer_id) for candidate in proposed.proposed],
    )
    return invited, proposed


async def add_to_lineup(uow: UnitOfWork, province_code: str, market_day_id: UUID, product_id: UUID) -> dict:
    """An officer's choice, outside the ranking: any active product of the province not yet in the lineup."""
    await _lineup_changeable(uow.session, province_code, market_day_id)
    product = (
        (
            await uow.session.execute(
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
    if await uow.session.scalar(
        select(func.count()).where(
            tables.invitations.c.market_day_id == market_day_id,
            tables.invitations.c.product_id == product_id,
            tables.invitations.c.status.in_(IN_LINEUP),
        )
    ):
        raise Conflict(f"the product {product['name']} is already in the lineup")
    [invitation] = await _invite(uow, province_code, market_day_id, [(product_id, product["producer_id"])])
    return invitation


async def _answer(
    uow: UnitOfWork,
    province_code: str,
    where,
    new: InvitationStatus,
    event_type: type[InvitationSent],
    values: dict | None = None,
    **event_fields,
) -> dict:
    """Move an invitation (the open one, if `where` names several) to `new`, checked against its market day
    and its current state, with its event."""
    found = await invitations_where(
        uow.session, province_code, where, tables.invitations.c.status.in_(IN_LINEUP)
    ) or await invitations_where(uow.session, province_code, where)
    if not found:
        raise NotFound("no such invitation in this province")
    current = found[-1]
    await _lineup_changeable(uow.session, province_code, current["market_day_id"])
    check_answer(InvitationStatus(current["status"]), new)
    row = (
        (
            await uow.session.execute(
                update(tables.invitations)
                .where(
                    tables.invitations.c.id == current["id"],
                    tables.invitations.c.revision == current["revision"],
                )
                .values(status=new, revision=tables.invitations.c.revision + 1, **(values or {}))
                .returning(tables.invitations)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise Conflict("the invitation changed meanwhile; try again")
    uow.emit(_invitation_event(event_type, row, **event_fields), province_code=province_code)
    [invitation] = await invitations_where(uow.session, province_code, tables.invitations.c.id == row["id"])
    return invitation


async def accept(uow: UnitOfWork, province_code: str, invitation_id: UUID) -> dict:
    return await _answer(
        uow,
        province_code,
        tables.invitations.c.id == invitation_id,
        InvitationStatus.ACCEPTED,
        InvitationAccepted,
    )


async def decline(
    uow: UnitOfWork, province_code: str, invitation_id: UUID, answer: DeclineIn
) -> tuple[dict, Proposal]:
    """The producer declines; the answer carries the replacements that would bring the lineup back to
    target."""
    invitation = await _answer(
        uow,
        province_code,
        tables.invitations.c.id == invitation_id,
        InvitationStatus.DECLINED,
        InvitationDeclined,
        {"decline_reason": answer.reason, "note": answer.note},
        reason=answer.reason,
        note=answer.note,
    )
    return invitation, await proposal(uow.session, province_code, invitation["market_day_id"])


# --- producers' links


async def issue_link(
    uow: UnitOfWork, province_code: str, invitation_id: UUID, key: str, now: datetime, actor: str
) -> dict:
    """The invitation's link in force, so the slip shows the same link each time; a new one (with its
    event) when there is none: never issued, expired or revoked."""
    found = await _locked_invitation(uow.session, province_code, invitation_id)
    day = await market_day(uow.session, province_code, found["market_day_id"])
    links = tables.invitation_links
    current = (
        (
            await uow.session.execute(
                select(links.c.id, links.c.expires_at)
                .where(links.c.invitation_id == invitation_id, links.c.revoked_at.is_(None))
                .where(links.c.expires_at > now)
                .order_by(links.c.issued_at.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    if current is not None:
        link = InvitationLink(current["id"], province_code, current["expires_at"])
    else:
        link = InvitationLink.expiring(uuid4(), province_code, day["day"], now)
        await uow.session.execute(
            insert(links).values(
                id=link.link_id,
                province_code=province_code,
                invitation_id=invitation_id,
                expires_at=link.expires_at,
                issued_by=actor,
            )
        )
        uow.emit(
            InvitationLinkIssued(
                link_id=link.link_id,
                invitation_id=invitation_id,
                market_day_id=found["market_day_id"],
                expires_at=link.expires_at,
            ),
            province_code=province_code,
        )
    return {
        "invitation_id": invitation_id,
        "token": link.token(key),
        "expires_at": link.expires_at,
        "answers_until": answers_close(day["day"]),
    }


async def revoke_link(
    uow: UnitOfWork, province_code: str, invitation_id: UUID, key: str, now: datetime, actor: str
) -> dict:
    """Revoke the invitation's links (a slip lost or sent to the wrong person: their tokens are refused
    from now on, each with its event) and issue a new one for a new slip. Other invitations' links stay."""
    found = await _locked_invitation(uow.session, province_code, invitation_id)
    links = tables.invitation_links
    revoked = await uow.session.execute(
        update(links)
        .where(links.c.invitation_id == invitation_id, links.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by=actor)
        .returning(links.c.id, links.c.expires_at)
    )
    for link_id, expires_at in revoked:
        uow.emit(
            InvitationLinkRevoked(
                link_id=link_id,
                invitation_id=invitation_id,
                market_day_id=found["market_day_id"],
                expires_at=expires_at,
            ),
            province_code=province_code,
        )
    return await issue_link(uow, province_code, invitation_id, key, now, actor)


async def _locked_invitation(session: AsyncSession, province_code: str, invitation_id: UUID) -> dict:
    """The invitation, locked: one change of its links at a time."""
    await session.execute(
        select(tables.invitations.c.id)
        .where(tables.invitations.c.province_code == province_code, tables.invitations.c.id == invitation_id)
        .with_for_update()
    )
    return await invitation(session, province_code, invitation_id)


async def answer_by_link(
    uow: UnitOfWork, link: InvitationLink, decline_with: DeclineIn | None, now: datetime
) -> dict:
    """The producer's yes (`decline_with` None) or no through the link, recorded as the officer's accept
    and decline would, while the link is in force and until answers close (domain.answers_close).
    Answers with what the producer's page shows."""
    issued = await link_in_force(uow.session, link, lock=True)  # a revocation meanwhile waits, or wins
    found = await invitation(uow.session, link.province_code, issued["invitation_id"])
    day = await market_day(uow.session, link.province_code, found["market_day_id"])
    check_link_answer(day["day"], now)
    if decline_with is None:
        await accept(uow, link.province_code, found["id"])
    else:
        await decline(uow, link.province_code, found["id"], decline_with)
    return await linked_invitation(uow.session, link)


async def answer_all(
    uow: UnitOfWork, province_code: str, market_day_id: UUID, answers: Sequence[AnswerIn]
) -> tuple[list[dict], Proposal]:
    """Several producers' answers to invitations of one market day, each as `accept` or `decline` records it,
    all or none; with the replacements that would bring the lineup back to target."""
    await _lineup_changeable(uow.session, province_code, market_day_id)
    invitations = []
    for answer in answers:
        where = and_(
            tables.invitations.c.id == answer.invitation_id,
            tables.invitations.c.market_day_id == market_day_id,
        )
        if answer.accept:
            invitations.append(
                await _answer(uow, province_code, where, InvitationStatus.ACCEPTED, InvitationAccepted)
            )
        else:
            invitations.append(
                await _answer(
                    uow,
                    province_code,
                    where,
                    InvitationStatus.DECLINED,
                    InvitationDeclined,
                    {"decline_reason": answer.reason, "note": answer.note},
                    reason=answer.reason,
                    note=answer.note,
                )
            )
    return invitations, await proposal(uow.session, province_code, market_day_id)


async def withdraw(
    uow: UnitOfWork,
    province_code: str,
    market_day_id: UUID,
    product_id: UUID,
    note: str | None,
) -> dict:
    """Take a product out of the lineup (its invitation is withdrawn)."""
    await market_day(uow.session, province_code, market_day_id)
    return await _answer(
        uow,
        province_code,
        and_(
            tables.invitations.c.market_day_id == market_day_id, tables.invitations.c.product_id == product_id
        ),
        InvitationStatus.WITHDRAWN,
        InvitationWithdrawn,
        {"note": note},
        note=note,
    )


async def record_attendance(
    uow: UnitOfWork,
    province_code: str,
    market_day_id: UUID,
    present: AttendanceIn,
    actor: str,
) -> dict:
    day = await market_day(uow.session, province_code, market_day_id, lock=True)
    check_change(day["status"], day["day"], Change.ATTENDANCE, thai_today())
    known = {
        row.id: row.producer_id
        for row in await uow.session.execute(
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
            await uow.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["market_day_id"],
                    set_={"revision": tables.attendance.c.revision + 1, **values},
                ).returning(tables.attendance)
            )
        )
        .mappings()
        .one()
    )
    uow.emit(
        AttendanceRecorded(
            market_day_id=market_day_id,
            revision=row["revision"],
            product_ids=row["product_ids"],
            producer_ids=row["producer_ids"],
        ),
        province_code=province_code,
    )
    return dict(row)
