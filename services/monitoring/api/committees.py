"""Committees and their members: province officers keep them; committee members read them."""

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, status

from services.monitoring import tables
from services.monitoring.api.common import READ, WRITE, Db, View
from services.monitoring.handlers import records
from services.monitoring.inputs import CommitteeIn, MemberIn
from shared.auth import province_access

router = APIRouter(prefix="/provinces/{province_code}/committees", tags=["committees"])


class Member(MemberIn, View):
    id: UUID
    committee_id: UUID
    province_code: str
    created_at: datetime


class Committee(CommitteeIn, View):
    id: UUID
    province_code: str
    created_at: datetime
    members: list[Member]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Committee)
async def add_committee(new: CommitteeIn, db: Db, province_code: str = province_access(*WRITE)) -> dict:
    """Record the appointment of a monitoring committee (คณะกรรมการติดตามโครงการ ... ระดับจังหวัด)."""
    async with db.transaction() as session:
        return await records.add_committee(session, province_code, new)


@router.get("", response_model=list[Committee])
async def list_committees(db: Db, province_code: str = province_access(*READ)) -> list[dict]:
    async with db.sessions() as session:
        return await records.committees(session, province_code)


@router.get("/{committee_id}", response_model=Committee)
async def get_committee(committee_id: UUID, db: Db, province_code: str = province_access(*READ)) -> dict:
    async with db.sessions() as session:
        return await records.committee(session, province_code, committee_id)


@router.put("/{committee_id}", response_model=Committee)
async def change_committee(
    committee_id: UUID, new: CommitteeIn, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    async with db.transaction() as session:
        return await records.change_committee(session, province_code, committee_id, new)


@router.delete("/{committee_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_committee(committee_id: UUID, db: Db, province_code: str = province_access(*WRITE)) -> None:
    """The committee and its members go; evaluations they submitted stay, with the member's name."""
    async with db.transaction() as session:
        await records.remove(session, tables.committees, province_code, committee_id)


@router.post("/{committee_id}/members", status_code=status.HTTP_201_CREATED, response_model=Member)
async def add_member(
    committee_id: UUID, new: MemberIn, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    async with db.transaction() as session:
        return await records.add_member(session, province_code, committee_id, new)


@router.put("/{committee_id}/members/{member_id}", response_model=Member)
async def change_member(
    committee_id: UUID, member_id: UUID, new: MemberIn, db: Db, province_code: str = province_access(*WRITE)
) -> dict:
    async with db.transaction() as session:
        return await records.change_member(session, province_code, committee_id, member_id, new)


@router.delete("/{committee_id}/members/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    committee_id: UUID, member_id: UUID, db: Db, province_code: str = province_access(*WRITE)
) -> None:
    async with db.transaction() as session:
        await records.remove(
            session,
            tables.committee_members,
            province_code,
            member_id,
            tables.committee_members.c.committee_id == committee_id,
        )
