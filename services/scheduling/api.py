"""Scheduling HTTP API: venues, plans and plan-versus-actual, market days and their calendar, the lineup of
each market day (proposal, invitations, replacements) and attendance.

Roles: the department (every province) and province officers (their own) change things; committee
members read their own province. The iCalendar feed `GET /provinces/{code}/calendar.ics` is public on
purpose: it is publicity (the seed asks for more channels), subscribed to by calendar apps that cannot
send a bearer token, and carries only what is published anyway (venue, day, hours, product names)."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import geothai
from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, Field

from services.scheduling.config import SchedulingSettings, scheduling_settings
from services.scheduling.domain import InvitationLink, Proposal, month_end
from services.scheduling.handlers import commands, queries
from services.scheduling.ical import market_days_ics
from services.scheduling.inputs import (
    AnswersIn,
    AttendanceIn,
    CancelIn,
    DeclineIn,
    LineupAdd,
    MarketDayIn,
    Month,
    PlanIn,
    RescheduleIn,
    VenueIn,
)
from shared.auth import Principal, Role, current_principal, province_access
from shared.contracts.scheduling import DeclineReason, MarketDayStatus, VenueKind
from shared.events import ProvinceCode
from shared.service import Database, database

router = APIRouter(prefix="/provinces/{province_code}", tags=["scheduling"])
public = APIRouter(prefix="/public/invitations", tags=["producers' links"])
Db = Annotated[Database, Depends(database)]
Caller = Annotated[Principal, Depends(current_principal)]
Settings = Annotated[SchedulingSettings, Depends(scheduling_settings)]
WRITE = (Role.PROVINCE_OFFICER, Role.DEPARTMENT)
READ = (Role.DEPARTMENT, Role.PROVINCE_OFFICER, Role.COMMITTEE_MEMBER)
CALENDAR_PAST_DAYS = 400  # the feed shows market days from about a year back


# --- answers


class Venue(VenueIn):
    id: UUID
    province_code: str
    revision: int
    updated_at: datetime


class Plan(PlanIn):
    id: UUID
    province_code: str
    revision: int
    updated_at: datetime


class MarketDay(BaseModel):
    id: UUID
    province_code: str
    revision: int
    plan_id: UUID | None
    venue_id: UUID
    venue_name: str
    venue_kind: VenueKind
    day: date
    starts_at: time | None
    ends_at: time | None
    status: MarketDayStatus
    cancel_reason: str | None
    products_target: int = Field(
        description="Products wanted at this market day (its plan's target, else 20)"
    )
    updated_at: datetime


class Invitation(BaseModel):
    id: UUID
    market_day_id: UUID
    product_id: UUID
    product_name: str | None
    producer_id: UUID | None
    producer_name: str | None
    revision: int
    status: str
    decline_reason: DeclineReason | None
    note: str | None
    sent_at: datetime
    updated_at: datetime


class Lineup(BaseModel):
    market_day_id: UUID
    products_target: int
    in_lineup: int = Field(description="Invitations sent or accepted")
    accepted: int
    shortfall: int = Field(description="Products missing to reach the target")
    invitations: list[Invitation]


class CandidateView(BaseModel):
    rank: int
    product_id: UUID
    name: str
    producer_id: UUID | None
    producer_name: str | None
    quadrant: str
    star_level: int
    nawatwithi: bool
    recent_sales_thb: Decimal
    producer_recent_invitations: int
    proposed: bool = Field(description="Among those to invite to reach the target")


class ProposalView(BaseModel):
    products_target: int
    in_lineup: int
    shortfall: int = Field(description="Products still missing after inviting every proposed one")
    message: str | None = Field(description="Says plainly when the pool of eligible products is too small")
    candidates: list[CandidateView]


class Filled(ProposalView):
    invited: list[Invitation]


class Declined(BaseModel):
    invitation: Invitation
    replacements: ProposalView = Field(
        description="Next-ranked products that bring the lineup back to target"
    )


class Answered(BaseModel):
    invitations: list[Invitation]
    replacements: ProposalView = Field(
        description="Next-ranked products that bring the lineup back to target"
    )


class Attendance(BaseModel):
    market_day_id: UUID
    revision: int
    product_ids: list[UUID]
    producer_ids: list[UUID]
    recorded_by: str
    updated_at: datetime


class MonthRow(BaseModel):
    month: str = Field(description="YYYY-MM")
    planned: int
    scheduled: int
    held: int
    cancelled: int
    missing: int = Field(description="Planned market days neither scheduled nor held")
    products_target: int
    days_meeting_target: int
    market_days: list[dict]


class Progress(BaseModel):
    plan: Plan
    months: list[MonthRow]


def _proposal(proposal: Proposal, *, limit: int | None = None, only_proposed: bool = False) -> dict:
    proposed = {c.product_id for c in proposal.proposed}
    rank = {c.product_id: n for n, c in enumerate(proposal.ranked, start=1)}
    shown = proposal.proposed if only_proposed else proposal.ranked[:limit]
    return {
        "products_target": proposal.target,
        "in_lineup": proposal.in_lineup,
        "shortfall": proposal.shortfall,
        "message": proposal.message,
        "candidates": [
            {**vars(c), "rank": rank[c.product_id], "proposed": c.product_id in proposed} for c in shown
        ],
    }


# --- venues


@router.post("/venues", status_code=status.HTTP_201_CREATED, response_model=Venue)
async def register_venue(new: VenueIn, db: Db, province_code: str = province_access(*WRITE)) -> dict:
    async with db.unit_of_work() as uow:
        return await commands.register_venue(uow, province_code, new)


@router.put("/venues/{venue_id}", response_model=Venue)
async def update_venue(
    venue_id: UUID, changed: VenueIn, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    """The venue's full new state (set `active` false to stop scheduling there)."""
    async with db.unit_of_work() as uow:
        return await commands.update_venue(uow, province_code, venue_id, changed)


@router.get("/venues", response_model=list[Venue])
async def list_venues(db: Db, province_code: str = province_access(*READ)) -> list[dict]:
    async with db.sessions() as session:
        return await queries.venues(session, province_code)


@router.get("/venues/{venue_id}", response_model=Venue)
async def get_venue(venue_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    async with db.sessions() as session:
        [venue] = await queries.venues(session, province_code, venue_id)
    return venue


# --- plans


@router.post("/plans", status_code=status.HTTP_201_CREATED, response_model=Plan)
async def create_plan(plan: PlanIn, db: Db, province_code: str = province_access(*WRITE)) -> dict:
    """A plan for a period, e.g. `{"first_month": "2019-06", "last_month": "2019-09"}`: 4 market days a month
    and 20 products a market day unless said otherwise. Plans of a province may not overlap."""
    async with db.unit_of_work() as uow:
        return await commands.set_plan(uow, province_code, plan)


@router.put("/plans/{plan_id}", response_model=Plan)
async def replace_plan(
    plan_id: UUID, plan: PlanIn, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    async with db.unit_of_work() as uow:
        return await commands.set_plan(uow, province_code, plan, plan_id)


@router.get("/plans", response_model=list[Plan])
async def list_plans(db: Db, province_code: str = province_access(*READ)) -> list[dict]:
    async with db.sessions() as session:
        return await queries.plans(session, province_code)


@router.get("/plans/{plan_id}", response_model=Plan)
async def get_plan(plan_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    async with db.sessions() as session:
        [plan] = await queries.plans(session, province_code, plan_id)
    return plan


@router.get("/plans/{plan_id}/progress", response_model=Progress)
async def plan_progress(plan_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    """Plan against actual, month by month: market days planned, scheduled, held, cancelled and missing, and
    each market day's products (attended once recorded, else the lineup) against the target."""
    async with db.sessions() as session:
        plan, months = await queries.progress(session, province_code, plan_id)
    return {
        "plan": plan,
        "months": [
            {
                **vars(m),
                "month": m.month.strftime("%Y-%m"),
                "market_days": [{**vars(d), "products": d.products} for d in m.market_days],
            }
            for m in months
        ],
    }


# --- market days


@router.post("/market-days", status_code=status.HTTP_201_CREATED, response_model=MarketDay)
async def schedule(new: MarketDayIn, db: Db, province_code: str = province_access(*WRITE)) -> dict:
    """Schedule a market day at a venue; it counts towards the province's plan for its month, if any."""
    async with db.unit_of_work() as uow:
        return await commands.schedule(uow, province_code, new)


@router.get("/market-days", response_model=list[MarketDay])
async def list_market_days(
    db: Db,
    month: Annotated[Month | None, Query(description="YYYY-MM: the calendar of one month")] = None,
    first_day: Annotated[date | None, Query(alias="from")] = None,
    last_day: Annotated[date | None, Query(alias="to")] = None,
    status_: Annotated[MarketDayStatus | None, Query(alias="status")] = None,
    province_code: str = province_access(*READ),
) -> list[dict]:
    """The province's market days by day (a month's calendar with `month`, or a `from`/`to` range)."""
    if month is not None:
        first_day, last_day = (
            max(month, first_day or month),
            min(month_end(month), last_day or month_end(month)),
        )
    async with db.sessions() as session:
        return await queries.market_days(session, province_code, first_day, last_day, status_)


@router.get("/market-days/{market_day_id}", response_model=MarketDay)
async def get_market_day(market_day_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    async with db.sessions() as session:
        return await queries.market_day(session, province_code, market_day_id)


@router.post("/market-days/{market_day_id}/reschedule", response_model=MarketDay)
async def reschedule(
    market_day_id: UUID, new: RescheduleIn, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    async with db.unit_of_work() as uow:
        return await commands.reschedule(uow, province_code, market_day_id, new)


@router.post("/market-days/{market_day_id}/cancel", response_model=MarketDay)
async def cancel(
    market_day_id: UUID, body: CancelIn, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    async with db.unit_of_work() as uow:
        return await commands.cancel(uow, province_code, market_day_id, body.reason)


@router.post("/market-days/{market_day_id}/held", response_model=MarketDay)
async def held(market_day_id: UUID, db: Db, province_code: str = province_access(*WRITE)) -> dict:
    """The market day took place (on or after its day)."""
    async with db.unit_of_work() as uow:
        return await commands.hold(uow, province_code, market_day_id)


# --- lineup and invitations


@router.get("/market-days/{market_day_id}/lineup", response_model=Lineup)
async def get_lineup(market_day_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    """Every invitation of the market day (sent, accepted, declined, withdrawn) and the count against
    target."""
    async with db.sessions() as session:
        return await queries.lineup(session, province_code, market_day_id)


@router.get("/market-days/{market_day_id}/proposal", response_model=ProposalView)
async def get_proposal(
    market_day_id: UUID,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    province_code: str = province_access(*READ),
) -> dict:
    """The ranked pool of products not yet in the lineup, best first, marking those to invite to reach the
    target (the rule: domain.propose)."""
    async with db.sessions() as session:
        return _proposal(await queries.proposal(session, province_code, market_day_id), limit=limit)


@router.post("/market-days/{market_day_id}/lineup/fill", response_model=Filled)
async def fill_lineup(market_day_id: UUID, db: Db, province_code: str = province_access(*WRITE)) -> dict:
    """Invite the proposed products: the lineup reaches the target, or `shortfall` says by how much it
    cannot."""
    async with db.unit_of_work() as uow:
        invited, proposal = await commands.fill_lineup(uow, province_code, market_day_id)
    return {**_proposal(proposal, only_proposed=True), "invited": invited}


@router.post(
    "/market-days/{market_day_id}/lineup", status_code=status.HTTP_201_CREATED, response_model=Invitation
)
async def add_to_lineup(
    market_day_id: UUID, body: LineupAdd, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    """An officer adds a product by hand (its producer is invited)."""
    async with db.unit_of_work() as uow:
        return await commands.add_to_lineup(uow, province_code, market_day_id, body.product_id)


@router.delete("/market-days/{market_day_id}/lineup/{product_id}", response_model=Invitation)
async def remove_from_lineup(
    market_day_id: UUID,
    product_id: UUID,
    db: Db,
    note: Annotated[str | None, Query(max_length=500)] = None,
    province_code: str = province_access(*WRITE),
) -> dict:
    """An officer takes a product out (its invitation is withdrawn; it is not proposed again for this day)."""
    async with db.unit_of_work() as uow:
        return await commands.withdraw(uow, province_code, market_day_id, product_id, note)


@router.post("/invitations/{invitation_id}/accept", response_model=Invitation)
async def accept(invitation_id: UUID, db: Db, province_code: str = province_access(*WRITE)) -> dict:
    """The producer's yes, as an officer records it."""
    async with db.unit_of_work() as uow:
        return await commands.accept(uow, province_code, invitation_id)


@router.post("/invitations/{invitation_id}/decline", response_model=Declined)
async def decline(
    invitation_id: UUID, answer: DeclineIn, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    """The producer's no and why (busy, already has a market, worried about sales, no raw material, other);
    the answer proposes replacements to keep the lineup at target (invite them with .../lineup/fill)."""
    async with db.unit_of_work() as uow:
        invitation, proposal = await commands.decline(uow, province_code, invitation_id, answer)
    return {"invitation": invitation, "replacements": _proposal(proposal, only_proposed=True)}


@router.post("/market-days/{market_day_id}/answers", response_model=Answered)
async def answer_invitations(
    market_day_id: UUID, body: AnswersIn, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    """Producers' answers to this market day's invitations in one go (an officer's round of calls): each
    `{"invitation_id": ..., "accept": true}` or `{"invitation_id": ..., "accept": false, "reason": "busy"}`,
    recorded as .../accept and .../decline would, all or none. Answers with the invitations as they are now
    and the replacements that bring the lineup back to target (invite them with .../lineup/fill)."""
    async with db.unit_of_work() as uow:
        invitations, proposal = await commands.answer_all(uow, province_code, market_day_id, body.answers)
    return {"invitations": invitations, "replacements": _proposal(proposal, only_proposed=True)}


# --- attendance


@router.put("/market-days/{market_day_id}/attendance", response_model=Attendance)
async def record_attendance(
    market_day_id: UUID,
    present: AttendanceIn,
    db: Db,
    caller: Caller,
    province_code: str = province_access(*WRITE),
) -> dict:
    """Who came with what, on or after the day (replaces an earlier record)."""
    async with db.unit_of_work() as uow:
        return await commands.record_attendance(uow, province_code, market_day_id, present, caller.subject)


@router.get("/market-days/{market_day_id}/attendance", response_model=Attendance)
async def get_attendance(market_day_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    async with db.sessions() as session:
        return await queries.attendance(session, province_code, market_day_id)


# --- publicity


@router.get(
    "/calendar.ics",
    response_class=Response,
    tags=["publicity"],
    responses={200: {"content": {"text/calendar": {}}, "description": "iCalendar (RFC 5545)"}},
)
async def calendar_feed(
    province_code: Annotated[ProvinceCode, Path(description="DOPA province code, e.g. 72")],
    db: Db,
    since: Annotated[date | None, Query(alias="from")] = None,
) -> Response:
    """Public, no token: the province's market days (from `from`, by default about a year back, and all
    ahead) for calendar apps, websites and local media. Cancelled ones stay in the feed as cancelled."""
    now = datetime.now(UTC)
    async with db.sessions() as session:
        days = await queries.calendar(
            session, province_code, since or now.date() - timedelta(days=CALENDAR_PAST_DAYS)
        )
    province = geothai.province(province_code)
    body = market_days_ics(province_code, province.name_th if province else province_code, days, now)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=300",
            "Content-Disposition": f'inline; filename="otop-mobile-{province_code}.ics"',
        },
    )


# --- producers' links: answer an invitation without a login


class Link(BaseModel):
    invitation_id: UUID
    token: str = Field(description="Put it in the app's address: <app>/#/i/<token> (the producer's page)")
    expires_at: datetime
    answers_until: datetime = Field(
        description="The cut-off: answers (and changed answers) through the link until then, 18:00 Thai "
        "time the day before the market day; after it only the officer changes them"
    )


class LinkedInvitation(BaseModel):
    """What the producer's page needs, nothing of the officer's (no note, no internal ids or revisions)."""

    id: UUID
    market_day_id: UUID  # the market day is public (the calendar); the printed slip links back to it
    product_name: str | None
    producer_name: str | None
    status: str
    decline_reason: DeclineReason | None
    province_code: str
    venue_name: str
    day: date
    starts_at: time | None
    ends_at: time | None
    market_day_status: MarketDayStatus
    expires_at: datetime
    answers_until: datetime


@router.post("/invitations/{invitation_id}/link", response_model=Link)
async def invitation_link(
    invitation_id: UUID,
    db: Db,
    settings: Settings,
    caller: Caller,
    province_code: str = province_access(*WRITE),
) -> dict:
    """The signed link for the producer to accept or decline without a login (send it by any channel, or
    print the slip with its QR code): the invitation's link in force, the same each time, or a new one. It
    answers until `answers_until` (18:00 the day before the market day) and shows the invitation until the
    market day is over (14 days at most)."""
    async with db.unit_of_work() as uow:
        return await commands.issue_link(
            uow, province_code, invitation_id, settings.link_key(), datetime.now(UTC), caller.subject
        )


@router.post("/invitations/{invitation_id}/link/revoke", response_model=Link)
async def revoke_invitation_link(
    invitation_id: UUID,
    db: Db,
    settings: Settings,
    caller: Caller,
    province_code: str = province_access(*WRITE),
) -> dict:
    """Revoke the invitation's link (a lost slip, a wrong recipient): its token is refused (410) from now on;
    answers with a new link to print a new slip. Other invitations' links are untouched."""
    async with db.unit_of_work() as uow:
        return await commands.revoke_link(
            uow, province_code, invitation_id, settings.link_key(), datetime.now(UTC), caller.subject
        )


def _link(token: str, settings: SchedulingSettings) -> InvitationLink:
    """The link the token names (LinkRefused, 404 or 410, if it is not one of ours or has expired)."""
    return InvitationLink.read(settings.link_key(), token, datetime.now(UTC))


@public.get("/{token}", response_model=LinkedInvitation)
async def linked_invitation(token: str, db: Db, settings: Settings) -> dict:
    """Public, the link is the credential: the invitation, its venue, day and hours."""
    async with db.sessions() as session:
        return await queries.linked_invitation(session, _link(token, settings))


@public.post("/{token}/accept", response_model=LinkedInvitation)
async def accept_by_link(token: str, db: Db, settings: Settings) -> dict:
    """The producer's yes, until answers close (409 after; 410 for a revoked link)."""
    link = _link(token, settings)
    async with db.unit_of_work() as uow:
        return await commands.answer_by_link(uow, link, None, datetime.now(UTC))


@public.post("/{token}/decline", response_model=LinkedInvitation)
async def decline_by_link(token: str, answer: DeclineIn, db: Db, settings: Settings) -> dict:
    """The producer's no and why; the officer's lineup shows it with the replacements to invite."""
    link = _link(token, settings)
    async with db.unit_of_work() as uow:
        return await commands.answer_by_link(uow, link, answer, datetime.now(UTC))
