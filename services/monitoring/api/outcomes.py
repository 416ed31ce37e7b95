"""Is the programme working? A province's season outcomes, a producer's own record, the department's
national view (domain.outcomes says how each figure is counted), and the latest month with market days
(where the report screen opens)."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from services.monitoring.api.common import READ, Caller, Db
from services.monitoring.domain import Year
from services.monitoring.domain.outcomes import NationalOutcomes, ProducerRecord, ProvinceOutcomes
from services.monitoring.handlers import outcomes
from shared.auth import Role, province_access
from shared.errors import Forbidden
from shared.thailand import thai_today

router = APIRouter(tags=["outcomes"])
SeasonYear = Annotated[Year, Path(description="The season's year, CE or BE (2019 or 2562)")]
Until = Annotated[
    date | None, Query(description="The season up to this day (default: today, or the year's end)")
]


def season_days(year: int, until: date | None) -> tuple[date, date]:
    last = min(date(year, 12, 31), until or thai_today(), thai_today())
    return date(year, 1, 1), last


class LatestMonth(BaseModel):
    year: int | None  # CE; None: no market day yet
    month: int | None


@router.get("/provinces/{province_code}/outcomes/{year}", response_model=ProvinceOutcomes)
async def province_season(
    year: SeasonYear,
    db: Db,
    until: Until = None,
    never_invited_offset: Annotated[int, Query(ge=0, description="The never-invited list from here")] = 0,
    never_invited_limit: Annotated[
        int, Query(ge=0, le=1000, description="At most this many never-invited products")
    ] = outcomes.FIRST_PAGE.limit or 0,
    province_code: str = province_access(*READ),
) -> ProvinceOutcomes:
    """ผลลัพธ์ต่อผู้ผลิต: the province's season, producer by producer, and the programme's questions; the
    intended products never invited a page at a time (fairness.never_invited_count says how many)."""
    page = outcomes.Page(limit=never_invited_limit, offset=never_invited_offset)
    async with db.sessions() as session:
        return await outcomes.season_outcomes(session, province_code, *season_days(year, until), page)


@router.get(
    "/provinces/{province_code}/outcomes/{year}/producers/{producer_id}", response_model=ProducerRecord
)
async def producer_season(
    year: SeasonYear,
    producer_id: UUID,
    db: Db,
    until: Until = None,
    province_code: str = province_access(*READ),
) -> ProducerRecord:
    """One producer's season: market days invited, attended, declined (why), sales per market day."""
    async with db.sessions() as session:
        return await outcomes.producer_outcomes(
            session, province_code, producer_id, *season_days(year, until)
        )


@router.get("/national/outcomes/{year}", response_model=NationalOutcomes)
async def national_season(year: SeasonYear, db: Db, caller: Caller, until: Until = None) -> NationalOutcomes:
    """Every province's outcomes in a row, and the country's pooled comparisons (department only)."""
    if caller.role is not Role.DEPARTMENT:
        raise Forbidden("the national outcomes are for the department only")
    async with db.sessions() as session:
        return await outcomes.country_outcomes(session, *season_days(year, until))


@router.get("/provinces/{province_code}/market-days/latest-month", response_model=LatestMonth)
async def latest_month(db: Db, province_code: str = province_access(*READ)) -> LatestMonth:
    """The latest month, up to this one, with a market day not cancelled: where the report screen opens."""
    async with db.sessions() as session:
        found = await outcomes.latest_month(session, province_code, thai_today())
    return LatestMonth(year=found and found.year, month=found and found.month)


@router.get("/national/market-days/latest-month", response_model=LatestMonth)
async def national_latest_month(db: Db, caller: Caller) -> LatestMonth:
    if caller.role is not Role.DEPARTMENT:
        raise Forbidden("the national view is for the department only")
    async with db.sessions() as session:
        found = await outcomes.latest_month(session, None, thai_today())
    return LatestMonth(year=found and found.year, month=found and found.month)
