"""Committee members evaluate market days; each evaluation is stored with its problems and
suggestions, and EvaluationSubmitted goes out in the same transaction."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.monitoring import tables
from services.monitoring.domain import SCORES, Evaluator, Period, check_evaluable
from services.monitoring.handlers.records import fetch, member_of, rows
from services.monitoring.inputs import EvaluationIn
from shared.auth import Principal, Role
from shared.db import one_row
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.thailand import thai_today
from shared.unit_of_work import UnitOfWork


async def _evaluator(
    session: AsyncSession, province_code: str, caller: Principal, member_id: UUID | None
) -> dict:
    """A committee member evaluates as themselves; an officer names the member they enter it for."""
    if caller.role is Role.COMMITTEE_MEMBER:
        member = await member_of(session, province_code, caller.subject)
        if member is None:
            raise Forbidden("you are not a member of a committee of this province")
        if member_id not in (None, member["id"]):
            raise Forbidden("a committee member submits only their own evaluations")
        return member
    if member_id is None:
        raise Invalid.at(("body", "member_id"), "name the committee member whose evaluation this is")
    member = await fetch(session, tables.committee_members, province_code, member_id)
    if member is None:
        raise Invalid.at(("body", "member_id"), "no such committee member in this province")
    return member


async def submit(
    uow: UnitOfWork,
    province_code: str,
    caller: Principal,
    new: EvaluationIn,
    due_days: int,
) -> dict:
    market_days = tables.market_days
    market_day = await one_row(
        uow.session,
        select(market_days).where(
            market_days.c.province_code == province_code, market_days.c.id == new.market_day_id
        ),
        "no such market day in this province (or not heard of yet)",
    )
    now = datetime.now(UTC)
    check_evaluable(market_day["status"], market_day["day"], thai_today(now))
    member = await _evaluator(uow.session, province_code, caller, new.member_id)
    evaluations = tables.evaluations
    if await uow.session.scalar(
        select(evaluations.c.id).where(
            evaluations.c.market_day_id == new.market_day_id, evaluations.c.member_id == member["id"]
        )
    ):
        raise Conflict("this member already evaluated this market day")
    evaluation = new.evaluation(
        uuid4(),
        province_code,
        market_day["day"],
        Evaluator(member["id"], member["name"], member["role"]),
        submitted_by=caller.subject,
        submitted_at=now,
    )
    row, notes = evaluation.row(), evaluation.issue_rows()
    await uow.session.execute(insert(evaluations).values(row))
    if notes:
        await uow.session.execute(insert(tables.issues), notes)
    uow.emit(evaluation.submitted(due_days), province_code=province_code)
    return view(row, notes)


def view(row: dict, notes: list[dict]) -> dict:
    """An evaluation as the API shows it: scores together, its problems and suggestions."""
    mine = [note for note in notes if note["evaluation_id"] == row["id"]]
    return {
        **row,
        "scores": {name: row[f"score_{name}"] for name in SCORES},
        "problems": [note for note in mine if note["kind"] == "problem"],
        "suggestions": [note for note in mine if note["kind"] == "recommendation"],
    }


async def listing(
    session: AsyncSession,
    province_code: str,
    market_day_id: UUID | None,
    period: Period | None,
    evaluation_id: UUID | None = None,
) -> list[dict]:
    evaluation, market_day, issue = tables.evaluations, tables.market_days, tables.issues
    where = [evaluation.c.province_code == province_code]
    if market_day_id:
        where.append(evaluation.c.market_day_id == market_day_id)
    if evaluation_id:
        where.append(evaluation.c.id == evaluation_id)
    if period:
        where.append(
            evaluation.c.market_day_id.in_(
                select(market_day.c.id).where(
                    market_day.c.province_code == province_code,
                    market_day.c.day.between(period.first_day, period.last_day),
                )
            )
        )
    found = await rows(session, evaluation, *where, order=[evaluation.c.submitted_at, evaluation.c.id])
    notes = await rows(
        session,
        issue,
        issue.c.evaluation_id.in_([row["id"] for row in found]),
        order=[issue.c.created_at, issue.c.id],
    )
    return [view(row, notes) for row in found]


async def one(session: AsyncSession, province_code: str, evaluation_id: UUID) -> dict:
    found = await listing(session, province_code, None, None, evaluation_id)
    if not found:
        raise NotFound("no such evaluation in this province")
    return found[0]
