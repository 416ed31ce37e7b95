"""Monitoring rules and value objects: no I/O here. Report periods, and the rules of evaluation
completeness and of counting market days and products."""

from calendar import monthrange
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID, uuid4

from pydantic import AfterValidator, Field

from shared import thai
from shared.contracts.monitoring import EvaluationSubmitted
from shared.contracts.scheduling import MarketDayStatus, VenueKind
from shared.errors import Conflict
from shared.thailand import be_year, ce_year, thai_today

DEFAULT_PRODUCTS_PER_MARKET = 20  # the programme's floor when no plan says otherwise
DEFAULT_COMMITTEE_NAME = "คณะกรรมการติดตามโครงการ OTOP เคลื่อนที่ (OTOP Mobile) ระดับจังหวัด"


def _year(value: int) -> int:
    """A year as CE, given as CE (2000-2100) or BE (2543-2643)."""
    if 2000 <= value <= 2100 or 2543 <= value <= 2643:
        return ce_year(value)
    raise ValueError("give a year CE (2000-2100) or BE (2543-2643)")


Year = Annotated[int, AfterValidator(_year)]
Month = Annotated[int, Field(ge=1, le=12)]
Quarter = Annotated[
    int, Field(ge=1, le=4, description="Quarter of the Thai fiscal year (1: Oct-Dec ... 4: Jul-Sep)")
]


class CommitteeRole(StrEnum):
    OTOP_NETWORK = "otop_network"  # คณะกรรมการเครือข่าย OTOP
    PRACHARAT_WORKING_GROUP = "pracharat_working_group"  # คณะทำงานตลาดประชารัฐ คนไทยยิ้มได้
    DISTRICT_CDD_OFFICER = "district_cdd_officer"  # เจ้าหน้าที่พัฒนาชุมชนอำเภอ
    PROVINCIAL_CDD_OFFICER = "provincial_cdd_officer"  # เจ้าหน้าที่พัฒนาชุมชนจังหวัด


ROLE_LABELS: dict[str, str] = {
    CommitteeRole.OTOP_NETWORK: "คณะกรรมการเครือข่าย OTOP",
    CommitteeRole.PRACHARAT_WORKING_GROUP: "คณะทำงานตลาดประชารัฐ คนไทยยิ้มได้",
    CommitteeRole.DISTRICT_CDD_OFFICER: "เจ้าหน้าที่พัฒนาชุมชนอำเภอ",
    CommitteeRole.PROVINCIAL_CDD_OFFICER: "เจ้าหน้าที่พัฒนาชุมชนจังหวัด",
}


class IssueKind(StrEnum):
    PROBLEM = "problem"  # ปัญหา / อุปสรรค
    RECOMMENDATION = "recommendation"  # ข้อเสนอแนะ


class ProblemCategory(StrEnum):
    PRODUCERS_BUSY = "producers_busy"
    HAS_MARKET = "has_market"
    WORRIED_ABOUT_SALES = "worried_about_sales"
    RAW_MATERIAL_SHORTAGE = "raw_material_shortage"
    NEW_PRODUCER = "new_producer"
    OTHER = "other"


class RecommendationCategory(StrEnum):
    PUBLICITY = "publicity"
    MENTORING = "mentoring"
    OTHER = "other"


CATEGORY_LABELS: dict[IssueKind, dict[str, str]] = {
    IssueKind.PROBLEM: {
        ProblemCategory.PRODUCERS_BUSY: "ผู้ผลิตติดภารกิจ",
        ProblemCategory.HAS_MARKET: "มีตลาดที่จำหน่ายเป็นประจำแล้ว",
        ProblemCategory.WORRIED_ABOUT_SALES: "กังวลว่าจะจำหน่ายสินค้าไม่ได้",
        ProblemCategory.RAW_MATERIAL_SHORTAGE: "ขาดวัตถุดิบ การผลิตไม่ต่อเนื่อง",
        ProblemCategory.NEW_PRODUCER: "ผู้ประกอบการรายใหม่หรือขาดประสบการณ์",
        ProblemCategory.OTHER: "อื่น ๆ",
    },
    IssueKind.RECOMMENDATION: {
        RecommendationCategory.PUBLICITY: "ประชาสัมพันธ์หลากหลายช่องทาง",
        RecommendationCategory.MENTORING: "กลุ่มแลกเปลี่ยนเรียนรู้ระหว่างผู้ประกอบการรายเก่าและรายใหม่",
        RecommendationCategory.OTHER: "อื่น ๆ",
    },
}


def place_of(venue_kinds: set[str], province_name: str) -> str:
    """Where a plan's markets are held, as the plan table says it."""
    if venue_kinds == {VenueKind.PRACHARAT_MARKET}:
        return f"ตลาดประชารัฐ คนไทยยิ้มได้ จังหวัด{province_name}"
    if venue_kinds == {VenueKind.TOURIST_SPOT}:
        return f"แหล่งท่องเที่ยวจังหวัด{province_name}"
    return f"ตลาดประชารัฐและแหล่งท่องเที่ยวจังหวัด{province_name}"


# --- periods


@dataclass(frozen=True)
class Period:
    """A month, or a quarter of the Thai fiscal year, reported on (or any span of days)."""

    kind: Literal["month", "quarter", "days"]
    first_day: date
    last_day: date
    quarter: int | None = None

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        """`year` CE or BE."""
        year = ce_year(year)
        return cls("month", date(year, month, 1), date(year, month, monthrange(year, month)[1]))

    @classmethod
    def fiscal_quarter(cls, fiscal_year: int, quarter: int) -> "Period":
        """`fiscal_year` CE or BE (2562 = 2019: October 2018 to September 2019)."""
        first, last = thai.fiscal_quarter_months(be_year(ce_year(fiscal_year)), quarter)
        return cls(
            "quarter", first, date(last.year, last.month, monthrange(last.year, last.month)[1]), quarter
        )

    @property
    def months(self) -> list[date]:
        """First days of the months of the period."""
        first, count = (
            self.first_day,
            (self.last_day.year - self.first_day.year) * 12 + self.last_day.month - self.first_day.month + 1,
        )
        return [
            date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
            for i in range(count)
        ]

    def label(self, thai_digits: bool) -> str:
        """e.g. เดือนมิถุนายน ๒๕๖๒, or ไตรมาส ๓ ปีงบประมาณ ๒๕๖๒ (เมษายน ๒๕๖๒ - มิถุนายน ๒๕๖๒)."""
        if self.kind == "month":
            return "เดือน" + thai.month_year(self.first_day.year, self.first_day.month, thai_digits)
        if self.kind == "days":
            first, last = (
                thai.long_date(self.first_day, thai_digits),
                thai.long_date(self.last_day, thai_digits),
            )
            return f"{first} - {last}"
        fiscal = thai.digits(
            f"ไตรมาส {self.quarter} ปีงบประมาณ {thai.fiscal_year(self.first_day)}", thai_digits
        )
        return f"{fiscal} ({thai.month_span(self.first_day, self.last_day, thai_digits)})"


def planned_market_days(
    market_days_per_month: int, first_month: date, last_month: date, period: Period
) -> int:
    """How many market days a plan sets for the months it shares with `period`."""
    return market_days_per_month * sum(first_month <= month <= last_month for month in period.months)


# --- completeness and timeliness of evaluations


class EvaluationState(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"  # none, and the time for it is over
    PENDING = "pending"  # none yet, still within the time for it
    NOT_EXPECTED = "not_expected"  # cancelled, or not held yet


def evaluation_due(day: date, due_days: int) -> date:
    return day + timedelta(days=due_days)


def evaluation_state(
    status: str, day: date, first_submitted_on: date | None, today: date, due_days: int
) -> EvaluationState:
    """Every market day that was held (or was scheduled for a day now past) expects an evaluation
    within `due_days` days after it; one submitted after that is late."""
    if status == MarketDayStatus.CANCELLED or (
        first_submitted_on is None and status != MarketDayStatus.HELD and day >= today
    ):
        return EvaluationState.NOT_EXPECTED
    if first_submitted_on is not None:
        on_time = submitted_on_time(day, first_submitted_on, due_days)
        return EvaluationState.ON_TIME if on_time else EvaluationState.LATE
    return EvaluationState.MISSING if today > evaluation_due(day, due_days) else EvaluationState.PENDING


def submitted_on_time(day: date, submitted_on: date, due_days: int) -> bool:
    return submitted_on <= evaluation_due(day, due_days)


def check_evaluable(status: str, day: date, today: date) -> None:
    if status == MarketDayStatus.CANCELLED:
        raise Conflict("the market day was cancelled")
    if status != MarketDayStatus.HELD and day > today:
        raise Conflict(f"the market day ({day.isoformat()}) has not been held yet")


# --- an evaluation

SCORES = ("display", "variety", "customer_interest", "organisation")  # what a member scores 1-5


@dataclass(frozen=True)
class Evaluator:
    """The committee member whose evaluation it is."""

    id: UUID
    name: str
    role: str


@dataclass(frozen=True)
class EvaluationNote:
    """A problem or a suggestion written in an evaluation: it becomes one of the month's issues."""

    kind: IssueKind
    category: str
    text: str


@dataclass(frozen=True)
class Evaluation:
    """A committee member's evaluation of one market day, as submitted: the row it is kept as, its notes
    as issue rows, and the event that announces it."""

    id: UUID
    province_code: str
    market_day_id: UUID
    market_day: date
    member: Evaluator
    submitted_by: str
    submitted_at: datetime
    producers_attending: int
    products_shown: int
    customers_estimate: int
    sales_observed_thb: Decimal
    scores: Mapping[str, int]  # one per SCORES
    overall_score: int
    note: str | None
    notes: Sequence[EvaluationNote]  # problems first, then suggestions

    def row(self) -> dict[str, object]:
        return {
            "id": self.id,
            "province_code": self.province_code,
            "market_day_id": self.market_day_id,
            "member_id": self.member.id,
            "member_name": self.member.name,
            "member_role": self.member.role,
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at,
            "producers_attending": self.producers_attending,
            "products_shown": self.products_shown,
            "customers_estimate": self.customers_estimate,
            "sales_observed_thb": self.sales_observed_thb,
            "overall_score": self.overall_score,
            "note": self.note,
            **{f"score_{name}": self.scores[name] for name in SCORES},
        }

    def issue_rows(self) -> list[dict[str, object]]:
        """Its notes, as issues of the market day's month."""
        return [
            {
                "id": uuid4(),
                "province_code": self.province_code,
                "kind": note.kind,
                "category": note.category,
                "text": note.text,
                "month": self.market_day.replace(day=1),
                "evaluation_id": self.id,
                "created_by": self.submitted_by,
            }
            for note in self.notes
        ]

    def submitted(self, due_days: int) -> EvaluationSubmitted:
        return EvaluationSubmitted(
            evaluation_id=self.id,
            market_day_id=self.market_day_id,
            overall_score=self.overall_score,
            member_id=self.member.id,
            member_role=self.member.role,
            market_day=self.market_day,
            submitted_at=self.submitted_at,
            on_time=submitted_on_time(self.market_day, thai_today(self.submitted_at), due_days),
            producers_attending=self.producers_attending,
            products_shown=self.products_shown,
            customers_estimate=self.customers_estimate,
            sales_observed_thb=self.sales_observed_thb,
            scores=dict(self.scores),
            problem_categories=[note.category for note in self.notes if note.kind is IssueKind.PROBLEM],
            recommendation_categories=[
                note.category for note in self.notes if note.kind is IssueKind.RECOMMENDATION
            ],
        )


def products_shown(attended: int | None, evaluated: int | None) -> int | None:
    """Products at a market day: the attendance record when there is one, else the committee's count."""
    return attended if attended is not None else evaluated


def ratio(total: int | Decimal, count: int) -> Decimal | None:
    """total / count to the satang (two places); None for nothing counted."""
    return (Decimal(total) / count).quantize(Decimal("0.01")) if count else None


def mean(values: list[int]) -> Decimal | None:
    return ratio(sum(values), len(values))
