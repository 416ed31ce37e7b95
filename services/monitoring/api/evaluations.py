"""Evaluations of market days by committee members, and whether each market day got its evaluation in time."""

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from services.monitoring.api.common import READ, Caller, Db, MonthFilter, Settings, View
from services.monitoring.domain import EvaluationState, Period
from services.monitoring.handlers import evaluations, reports
from services.monitoring.inputs import EvaluationIn
from shared.auth import Role, province_access
from shared.thailand import thai_today

router = APIRouter(prefix="/provinces/{province_code}/evaluations", tags=["evaluations"])
SUBMIT = (Role.COMMITTEE_MEMBER, Role.PROVINCE_OFFICER, Role.DEPARTMENT)


class Note(View):
    id: UUID
    category: str
    text: str


class Evaluation(EvaluationIn, View):
    id: UUID
    province_code: str
    member_id: UUID | None
    member_name: str
    member_role: str
    submitted_by: str
    submitted_at: datetime
    # answered with each note's id (the input's category is checked on the way in)
    problems: list[Note]  # type: ignore[assignment]
    suggestions: list[Note]  # type: ignore[assignment]


class CompletenessItem(BaseModel):
    market_day_id: UUID
    day: date
    venue_name: str
    status: str
    due_on: date
    evaluations: int
    first_evaluated_at: datetime | None
    state: EvaluationState


class Completeness(BaseModel):
    due_days: int
    as_of: date
    first_day: date
    last_day: date
    expected: int
    on_time: int
    late: int
    missing: int
    pending: int
    not_expected: int
    items: list[CompletenessItem]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Evaluation)
async def submit_evaluation(
    new: EvaluationIn,
    db: Db,
    caller: Caller,
    settings: Settings,
    province_code: str = province_access(*SUBMIT),
) -> dict:
    """A committee member's evaluation of a market day that was held (or whose day has passed); an officer
    may enter one for a member (member_id). Its problems and suggestions join the month's section ๓."""
    async with db.unit_of_work() as uow:
        return await evaluations.submit(
            uow, province_code, caller, new, settings.monitoring_evaluation_due_days
        )


@router.get("/completeness", response_model=Completeness)
async def evaluation_completeness(
    db: Db,
    settings: Settings,
    period: MonthFilter,
    state: Annotated[EvaluationState | None, Query(description="Only market days in this state")] = None,
    province_code: str = province_access(*READ),
) -> dict:
    """Every held (or past scheduled) market day expects an evaluation within the configured days
    (OTOP_MONITORING_EVALUATION_DUE_DAYS, 3): which are on time, late, missing or still pending.
    All market days of the province, or one month's with ?year=&month=."""
    async with db.sessions() as session:
        return await reports.completeness(
            session,
            province_code,
            period or Period("days", date.min, date.max),
            thai_today(),
            settings.monitoring_evaluation_due_days,
            state,
        )


@router.get("", response_model=list[Evaluation])
async def list_evaluations(
    db: Db,
    period: MonthFilter,
    market_day_id: UUID | None = None,
    province_code: str = province_access(*READ),
) -> list[dict]:
    async with db.sessions() as session:
        return await evaluations.listing(session, province_code, market_day_id, period)


@router.get("/{evaluation_id}", response_model=Evaluation)
async def get_evaluation(evaluation_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    async with db.sessions() as session:
        return await evaluations.one(session, province_code, evaluation_id)
