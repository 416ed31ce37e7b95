"""What province officers record here: committees and their members, activities (meetings), and
problems/recommendations. Every query is scoped to one province."""

from collections.abc import Sequence
from datetime import date
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.monitoring import tables
from services.monitoring.domain import Period
from services.monitoring.inputs import CommitteeIn, IssueIn, MemberIn
from shared.db import one_row
from shared.errors import Conflict, NotFound
from shared.unit_of_work import UnitOfWork

# --- the same four operations for every record


async def create(uow: UnitOfWork, table: Table, province_code: str, values: dict) -> dict:
    row = {"id": uuid4(), "province_code": province_code, **values}
    return dict((await uow.session.execute(insert(table).values(row).returning(table))).mappings().one())


async def fetch(
    session: AsyncSession, table: Table, province_code: str, record_id: UUID, *where: ColumnElement
) -> dict | None:
    query = select(table).where(table.c.province_code == province_code, table.c.id == record_id, *where)
    found = (await session.execute(query)).mappings().first()
    return dict(found) if found else None


async def replace(
    uow: UnitOfWork,
    table: Table,
    province_code: str,
    record_id: UUID,
    values: dict,
    *where: ColumnElement,
) -> dict:
    return await one_row(
        uow.session,
        update(table)
        .where(table.c.province_code == province_code, table.c.id == record_id, *where)
        .values(values)
        .returning(table),
        _missing(table),
    )


async def remove(
    uow: UnitOfWork, table: Table, province_code: str, record_id: UUID, *where: ColumnElement
) -> None:
    await one_row(
        uow.session,
        delete(table)
        .where(table.c.province_code == province_code, table.c.id == record_id, *where)
        .returning(table.c.id),
        _missing(table),
    )


async def found(
    session: AsyncSession, table: Table, province_code: str, record_id: UUID, *where: ColumnElement
) -> dict:
    return await one_row(
        session,
        select(table).where(table.c.province_code == province_code, table.c.id == record_id, *where),
        _missing(table),
    )


def _missing(table: Table) -> str:
    name = table.name[:-3] + "y" if table.name.endswith("ies") else table.name.removesuffix("s")
    return f"no such {name.replace('_', ' ')} in this province"


async def rows(
    session: AsyncSession, table: Table, *where: ColumnElement, order: Sequence[ColumnElement]
) -> list[dict]:
    return [
        dict(row) for row in (await session.execute(select(table).where(*where).order_by(*order))).mappings()
    ]


# --- committees and members


async def committees(
    session: AsyncSession, province_code: str, committee_id: UUID | None = None
) -> list[dict]:
    """The province's committees, each with its members."""
    committee_table, member_table = tables.committees, tables.committee_members
    only = [committee_table.c.id == committee_id] if committee_id else []
    found_committees = await rows(
        session,
        committee_table,
        committee_table.c.province_code == province_code,
        *only,
        order=[committee_table.c.appointed_on, committee_table.c.created_at],
    )
    members = await rows(
        session,
        member_table,
        member_table.c.province_code == province_code,
        member_table.c.committee_id.in_([row["id"] for row in found_committees]),
        order=[member_table.c.created_at, member_table.c.id],
    )
    for committee in found_committees:
        committee["members"] = [member for member in members if member["committee_id"] == committee["id"]]
    return found_committees


async def committee(session: AsyncSession, province_code: str, committee_id: UUID) -> dict:
    found_committees = await committees(session, province_code, committee_id)
    if not found_committees:
        raise NotFound("no such committee in this province")
    return found_committees[0]


async def add_committee(uow: UnitOfWork, province_code: str, new: CommitteeIn) -> dict:
    return {**await create(uow, tables.committees, province_code, new.model_dump()), "members": []}


async def change_committee(uow: UnitOfWork, province_code: str, committee_id: UUID, new: CommitteeIn) -> dict:
    await replace(uow, tables.committees, province_code, committee_id, new.model_dump())
    return await committee(uow.session, province_code, committee_id)


async def add_member(uow: UnitOfWork, province_code: str, committee_id: UUID, new: MemberIn) -> dict:
    await found(uow.session, tables.committees, province_code, committee_id)
    await _account_free(uow.session, committee_id, new.account)
    return await create(
        uow, tables.committee_members, province_code, {"committee_id": committee_id, **new.model_dump()}
    )


async def change_member(
    uow: UnitOfWork, province_code: str, committee_id: UUID, member_id: UUID, new: MemberIn
) -> dict:
    members = tables.committee_members
    await found(uow.session, members, province_code, member_id, members.c.committee_id == committee_id)
    await _account_free(uow.session, committee_id, new.account, members.c.id != member_id)
    return await replace(uow, members, province_code, member_id, new.model_dump())


async def _account_free(session: AsyncSession, committee_id: UUID, account: str | None, *where) -> None:
    members = tables.committee_members
    if account and await session.scalar(
        select(members.c.id).where(
            members.c.committee_id == committee_id, members.c.account == account, *where
        )
    ):
        raise Conflict(f"account {account!r} already belongs to a member of this committee")


async def member_of(session: AsyncSession, province_code: str, account: str) -> dict | None:
    """The committee member who signs in as `account`, in this province."""
    members = tables.committee_members
    return next(
        iter(
            await rows(
                session,
                members,
                members.c.province_code == province_code,
                members.c.account == account,
                order=[members.c.created_at],
            )
        ),
        None,
    )


# --- activities and issues


async def activities(session: AsyncSession, province_code: str, period: Period | None) -> list[dict]:
    activity = tables.activities
    within = [activity.c.held_on.between(period.first_day, period.last_day)] if period else []
    return await rows(
        session,
        activity,
        activity.c.province_code == province_code,
        *within,
        order=[activity.c.held_on, activity.c.created_at],
    )


def issue_values(new: IssueIn) -> dict:
    return {
        "kind": new.kind,
        "category": new.category,
        "text": new.text,
        "month": date(new.year, new.month, 1),
    }


def issue_view(row: dict) -> dict:
    return {**row, "year": row["month"].year, "month": row["month"].month}


async def issues(
    session: AsyncSession, province_code: str, period: Period | None, kind: str | None = None
) -> list[dict]:
    issue = tables.issues
    where = [
        issue.c.province_code == province_code,
        *([issue.c.month.between(period.first_day, period.last_day)] if period else []),
        *([issue.c.kind == kind] if kind else []),
    ]
    return await rows(session, issue, *where, order=[issue.c.month, issue.c.created_at, issue.c.id])
