"""The report to the department: per province and month or fiscal quarter, and the national roll-up.

Years may be given CE or BE (2019 or 2562). Quarters are those of the Thai government's fiscal year
(Q1 October-December ... Q4 July-September), named by the fiscal year: /reports/2562/quarters/3 is
April-June 2019. `?format=text` (or `markdown`) answers the report as Markdown; `?digits=thai` writes
its numbers and dates with Thai digits (๐-๙)."""

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import PlainTextResponse, Response

from services.monitoring.api.common import READ, Caller, Db, Settings
from services.monitoring.domain import Month, Period, Quarter, Year, thai_today
from services.monitoring.handlers import reports
from services.monitoring.report import NationalReport, ProvinceReport, national_markdown, province_markdown
from shared.auth import Role, province_access

router = APIRouter(tags=["reports"])
YearPath = Annotated[Year, Path(description="CE or BE, e.g. 2019 or 2562 (for a quarter: the fiscal year)")]
MonthPath = Annotated[Month, Path()]
QuarterPath = Annotated[Quarter, Path()]


class Format(StrEnum):
    JSON = "json"
    TEXT = "text"
    MARKDOWN = "markdown"


class Digits(StrEnum):
    ARABIC = "arabic"
    THAI = "thai"


FormatQuery = Annotated[Format, Query(description="json (the typed model), text or markdown (the same, as Markdown)")]
DigitsQuery = Annotated[Digits, Query(description="thai: numbers and dates written with ๐-๙")]
TEXT_RESPONSE = {200: {"content": {"text/markdown": {}}, "description": "The report (JSON, or Markdown with ?format=text)"}}


def _answer(report: ProvinceReport | NationalReport, answer_as: Format, render) -> ProvinceReport | NationalReport | Response:
    if answer_as is Format.JSON:
        return report
    return PlainTextResponse(render(report), media_type="text/markdown; charset=utf-8")


async def _province(db: Db, settings: Settings, province_code: str, period: Period, answer_as: Format,
                    digits: Digits):
    async with db.sessions() as session:
        report = await reports.province_report(session, province_code, period, thai_today(),
                                               settings.monitoring_evaluation_due_days, digits is Digits.THAI)
    return _answer(report, answer_as, province_markdown)


@router.get("/provinces/{province_code}/reports/{year}/{month}", response_model=ProvinceReport, responses=TEXT_RESPONSE)
async def month_report(year: YearPath, month: MonthPath, db: Db, settings: Settings, format: FormatQuery = Format.JSON,
                       digits: DigitsQuery = Digits.ARABIC, province_code: str = province_access(*READ)):
    """สรุปการดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP) of the province for one month."""
    return await _province(db, settings, province_code, Period.month(year, month), format, digits)


@router.get("/provinces/{province_code}/reports/{year}/quarters/{quarter}", response_model=ProvinceReport,
            responses=TEXT_RESPONSE)
async def quarter_report(year: YearPath, quarter: QuarterPath, db: Db, settings: Settings,
                         format: FormatQuery = Format.JSON, digits: DigitsQuery = Digits.ARABIC,
                         province_code: str = province_access(*READ)):
    """The province's report for a quarter of the fiscal year (`year` is the fiscal year)."""
    return await _province(db, settings, province_code, Period.fiscal_quarter(year, quarter), format, digits)


async def _national(db: Db, settings: Settings, caller: Caller, period: Period, answer_as: Format, digits: Digits):
    if caller.role is not Role.DEPARTMENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the national report is for the department only")
    async with db.sessions() as session:
        report = await reports.national_report(session, period, thai_today(), settings.monitoring_evaluation_due_days,
                                               digits is Digits.THAI)
    return _answer(report, answer_as, national_markdown)


@router.get("/national/reports/{year}/{month}", response_model=NationalReport, responses=TEXT_RESPONSE)
async def national_month_report(year: YearPath, month: MonthPath, db: Db, settings: Settings, caller: Caller,
                                format: FormatQuery = Format.JSON, digits: DigitsQuery = Digits.ARABIC):
    """Every province's results of the month in one table, with the totals (department only)."""
    return await _national(db, settings, caller, Period.month(year, month), format, digits)


@router.get("/national/reports/{year}/quarters/{quarter}", response_model=NationalReport, responses=TEXT_RESPONSE)
async def national_quarter_report(year: YearPath, quarter: QuarterPath, db: Db, settings: Settings, caller: Caller,
                                  format: FormatQuery = Format.JSON, digits: DigitsQuery = Digits.ARABIC):
    """Every province's results of a quarter of the fiscal year (department only)."""
    return await _national(db, settings, caller, Period.fiscal_quarter(year, quarter), format, digits)
