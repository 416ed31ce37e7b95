"""The report to the department: per province and month or fiscal quarter, and the national roll-up.

Years may be given CE or BE (2019 or 2562). Quarters are those of the Thai government's fiscal year
(Q1 October-December ... Q4 July-September), named by the fiscal year: /reports/2562/quarters/3 is
April-June 2019. `?format=text` (or `markdown`) answers the report as Markdown, `docx`, `pdf` and `xlsx`
as a file, `csv` one of its tables (`?table=`); `?digits=thai` writes its numbers and dates with Thai
digits (๐-๙)."""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from services.monitoring.api.common import READ, Caller, Db, Settings
from services.monitoring.domain import Month, Period, Quarter, Year
from services.monitoring.handlers import reports
from services.monitoring.report import NationalReport, ProvinceReport, document, to_markdown
from services.monitoring.report.docx import to_docx
from services.monitoring.report.pdf import to_pdf
from services.monitoring.report.sheets import csv_bytes, xlsx
from services.monitoring.report.tables import report_table, report_tables, table_names
from shared.auth import Role, province_access
from shared.errors import Forbidden, Invalid
from shared.thailand import thai_today

router = APIRouter(tags=["reports"])
YearPath = Annotated[Year, Path(description="CE or BE, e.g. 2019 or 2562 (for a quarter: the fiscal year)")]
MonthPath = Annotated[Month, Path()]
QuarterPath = Annotated[Quarter, Path()]


class Format(StrEnum):
    JSON = "json"
    TEXT = "text"
    MARKDOWN = "markdown"
    DOCX = "docx"
    PDF = "pdf"
    XLSX = "xlsx"
    CSV = "csv"


FILES = {  # media type of each file format (its name ends with the format)
    Format.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Format.PDF: "application/pdf",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.CSV: "text/csv; charset=utf-8",
}


class Digits(StrEnum):
    ARABIC = "arabic"
    THAI = "thai"


FormatQuery = Annotated[
    Format,
    Query(
        description="json (the typed model), text or markdown (the same, as Markdown), "
        "docx, pdf, xlsx (every table a sheet), csv (one table: ?table=)"
    ),
]
DigitsQuery = Annotated[Digits, Query(description="thai: numbers and dates written with ๐-๙")]
TableQuery = Annotated[
    str | None,
    Query(
        description="with format=csv: which table, e.g. sales_by_product "
        "(province: " + ", ".join(table_names(False)) + "; national: " + ", ".join(table_names(True)) + ")"
    ),
]
TEXT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/markdown": {}, **{media: {} for media in FILES.values()}},
        "description": "The report (JSON, Markdown with ?format=text, or a file)",
    }
}


def _check_table(answer_as: Format, table: str | None, national: bool) -> None:
    """Before any work: a CSV names one of the report's tables."""
    if answer_as is Format.CSV and table not in table_names(national):
        raise Invalid(
            [
                {
                    "loc": ["query", "table"],
                    "input": table,
                    "type": "enum",
                    "msg": f"format=csv needs table, one of: {', '.join(table_names(national))}",
                }
            ]
        )


def _file(report: ProvinceReport | NationalReport, answer_as: Format, table: str | None) -> bytes:
    match answer_as:
        case Format.DOCX:
            return to_docx(document(report))
        case Format.PDF:
            return to_pdf(document(report))
        case Format.XLSX:
            return xlsx(report_tables(report), report.title, report.thai_digits)
        case Format.CSV:
            assert table is not None  # _check_table made sure of it
            return csv_bytes(report_table(report, table), report.thai_digits)
    raise ValueError(answer_as)


def file_name(report: ProvinceReport | NationalReport, answer_as: Format, table: str | None) -> str:
    """e.g. otop-report-72-2562-06.docx, otop-report-national-2562-q3-provinces.csv (Buddhist-Era periods)."""
    where = report.province_code if isinstance(report, ProvinceReport) else "national"
    period = report.period
    when = (
        f"{period.year_be}-{period.month:02d}"
        if period.kind == "month"
        else f"{period.fiscal_year_be}-q{period.quarter}"
    )
    return (
        "-".join(["otop-report", where, when, *([table] if table and answer_as is Format.CSV else [])])
        + f".{answer_as}"
    )


async def _answer(
    report: ProvinceReport | NationalReport, answer_as: Format, table: str | None
) -> ProvinceReport | NationalReport | Response:
    if answer_as is Format.JSON:
        return report
    if answer_as in (Format.TEXT, Format.MARKDOWN):
        return PlainTextResponse(to_markdown(document(report)), media_type="text/markdown; charset=utf-8")
    content = await run_in_threadpool(_file, report, answer_as, table)  # CPU work, off the event loop
    return Response(
        content,
        media_type=FILES[answer_as],
        headers={"Content-Disposition": f'attachment; filename="{file_name(report, answer_as, table)}"'},
    )


async def _province(
    db: Db,
    settings: Settings,
    province_code: str,
    period: Period,
    answer_as: Format,
    digits: Digits,
    table: str | None,
):
    _check_table(answer_as, table, national=False)
    async with db.sessions() as session:
        report = await reports.province_report(
            session,
            province_code,
            period,
            thai_today(),
            settings.monitoring_evaluation_due_days,
            digits is Digits.THAI,
        )
    return await _answer(report, answer_as, table)


@router.get(
    "/provinces/{province_code}/reports/{year}/{month}",
    response_model=ProvinceReport,
    responses=TEXT_RESPONSE,
)
async def month_report(
    year: YearPath,
    month: MonthPath,
    db: Db,
    settings: Settings,
    format: FormatQuery = Format.JSON,
    digits: DigitsQuery = Digits.ARABIC,
    table: TableQuery = None,
    province_code: str = province_access(*READ),
):
    """สรุปการดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP) of the province for one month."""
    return await _province(db, settings, province_code, Period.month(year, month), format, digits, table)


@router.get(
    "/provinces/{province_code}/reports/{year}/quarters/{quarter}",
    response_model=ProvinceReport,
    responses=TEXT_RESPONSE,
)
async def quarter_report(
    year: YearPath,
    quarter: QuarterPath,
    db: Db,
    settings: Settings,
    format: FormatQuery = Format.JSON,
    digits: DigitsQuery = Digits.ARABIC,
    table: TableQuery = None,
    province_code: str = province_access(*READ),
):
    """The province's report for a quarter of the fiscal year (`year` is the fiscal year)."""
    return await _province(
        db, settings, province_code, Period.fiscal_quarter(year, quarter), format, digits, table
    )


async def _national(
    db: Db,
    settings: Settings,
    caller: Caller,
    period: Period,
    answer_as: Format,
    digits: Digits,
    table: str | None,
):
    if caller.role is not Role.DEPARTMENT:
        raise Forbidden("the national report is for the department only")
    _check_table(answer_as, table, national=True)
    async with db.sessions() as session:
        report = await reports.national_report(
            session, period, thai_today(), settings.monitoring_evaluation_due_days, digits is Digits.THAI
        )
    return await _answer(report, answer_as, table)


@router.get("/national/reports/{year}/{month}", response_model=NationalReport, responses=TEXT_RESPONSE)
async def national_month_report(
    year: YearPath,
    month: MonthPath,
    db: Db,
    settings: Settings,
    caller: Caller,
    format: FormatQuery = Format.JSON,
    digits: DigitsQuery = Digits.ARABIC,
    table: TableQuery = None,
):
    """Every province's results of the month in one table, with the totals (department only)."""
    return await _national(db, settings, caller, Period.month(year, month), format, digits, table)


@router.get(
    "/national/reports/{year}/quarters/{quarter}", response_model=NationalReport, responses=TEXT_RESPONSE
)
async def national_quarter_report(
    year: YearPath,
    quarter: QuarterPath,
    db: Db,
    settings: Settings,
    caller: Caller,
    format: FormatQuery = Format.JSON,
    digits: DigitsQuery = Digits.ARABIC,
    table: TableQuery = None,
):
    """Every province's results of a quarter of the fiscal year (department only)."""
    return await _national(db, settings, caller, Period.fiscal_quarter(year, quarter), format, digits, table)
