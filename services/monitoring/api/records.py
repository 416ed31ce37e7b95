"""Activities (meetings) and problems/recommendations: what officers add to the report."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from services.monitoring import tables
from services.monitoring.api.common import READ, WRITE, Caller, Db, MonthFilter, View
from services.monitoring.domain import IssueKind
from services.monitoring.handlers import records
from services.monitoring.inputs import ActivityIn, IssueIn
from shared.auth import province_access
from shared.errors import Conflict

router = APIRouter(prefix="/provinces/{province_code}")
activities, issues = tables.activities, tables.issues


class Activity(ActivityIn, View):
    id: UUID
    province_code: str
    created_at: datetime


class Issue(IssueIn, View):
    id: UUID
    province_code: str
    evaluation_id: UUID | None = None
    created_by: str
    created_at: datetime


@router.post("/activities", status_code=status.HTTP_201_CREATED, response_model=Activity, tags=["activities"])
async def add_activity(new: ActivityIn, db: Db, province_code: str = province_access(*WRITE)) -> dict:
    async with db.transaction() as session:
        return await records.create(session, activities, province_code, new.model_dump())


@router.get("/activities", response_model=list[Activity], tags=["activities"])
async def list_activities(
    db: Db, period: MonthFilter, province_code: str = province_access(*READ)
) -> list[dict]:
    """The province's activities, of one month with ?year=&month=."""
    async with db.sessions() as session:
        return await records.activities(session, province_code, period)


@router.get("/activities/{activity_id}", response_model=Activity, tags=["activities"])
async def get_activity(activity_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    async with db.sessions() as session:
        return await records.found(session, activities, province_code, activity_id)


@router.put("/activities/{activity_id}", response_model=Activity, tags=["activities"])
async def change_activity(
    activity_id: UUID, new: ActivityIn, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    async with db.transaction() as session:
        return await records.replace(session, activities, province_code, activity_id, new.model_dump())


@router.delete("/activities/{activity_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["activities"])
async def remove_activity(activity_id: UUID, db: Db, province_code: str = province_access(*WRITE)) -> None:
    async with db.transaction() as session:
        await records.remove(session, activities, province_code, activity_id)


@router.post("/issues", status_code=status.HTTP_201_CREATED, response_model=Issue, tags=["issues"])
async def add_issue(
    new: IssueIn, db: Db, caller: Caller, province_code: str = province_access(*WRITE)
) -> dict:
    """A problem/obstacle or a recommendation for the month's report (section ๓)."""
    async with db.transaction() as session:
        return records.issue_view(
            await records.create(
                session, issues, province_code, {**records.issue_values(new), "created_by": caller.subject}
            )
        )


@router.get("/issues", response_model=list[Issue], tags=["issues"])
async def list_issues(
    db: Db,
    period: MonthFilter,
    kind: Annotated[IssueKind | None, Query()] = None,
    province_code: str = province_access(*READ),
) -> list[dict]:
    """An officer's entries and those of evaluations (with their evaluation_id)."""
    async with db.sessions() as session:
        return [records.issue_view(row) for row in await records.issues(session, province_code, period, kind)]


async def _officers_own(session, province_code: str, issue_id: UUID) -> None:
    if (await records.found(session, issues, province_code, issue_id))["evaluation_id"]:
        raise Conflict("this entry comes from an evaluation and changes only with it")


@router.put("/issues/{issue_id}", response_model=Issue, tags=["issues"])
async def change_issue(
    issue_id: UUID, new: IssueIn, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    async with db.transaction() as session:
        await _officers_own(session, province_code, issue_id)
        return records.issue_view(
            await records.replace(session, issues, province_code, issue_id, records.issue_values(new))
        )


@router.delete("/issues/{issue_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["issues"])
async def remove_issue(issue_id: UUID, db: Db, province_code: str = province_access(*WRITE)) -> None:
    async with db.transaction() as session:
        await _officers_own(session, province_code, issue_id)
        await records.remove(session, issues, province_code, issue_id)
