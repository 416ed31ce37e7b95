"""What officers and committee members send: the request bodies, as pydantic models that validate them.
An adapter of the API; the domain never imports it."""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import Field, ValidationInfo, field_validator

from services.monitoring.domain import (
    CATEGORY_LABELS,
    DEFAULT_COMMITTEE_NAME,
    CommitteeRole,
    Evaluation,
    EvaluationNote,
    Evaluator,
    IssueKind,
    Month,
    ProblemCategory,
    RecommendationCategory,
    Year,
)
from shared.inputs import Input

Score = Annotated[int, Field(ge=1, le=5)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=300)]


class CommitteeIn(Input):
    name: Name = DEFAULT_COMMITTEE_NAME
    appointed_on: date = Field(description="Date of the appointment order")
    order_ref: str | None = Field(default=None, max_length=200, description="e.g. คำสั่งจังหวัดสุพรรณบุรี ที่ ...")


class MemberIn(Input):
    name: Name
    role: CommitteeRole
    position: str | None = Field(default=None, max_length=200, description="e.g. ประธาน, เลขานุการ")
    account: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description=(
            "Subject of the member's access token (role committee_member), so their evaluations are theirs"
        ),
    )


class ActivityIn(Input):
    """A meeting or other activity of the programme (the report's section ๑)."""

    title: Text = Field(description="e.g. การประชุมกลไกการขับเคลื่อนการจัดแสดงและจำหน่ายผลิตภัณฑ์ OTOP ...")
    held_on: date
    venue: Text = Field(description="e.g. โรงแรมเลิศธานี อ.เมืองฯ จ.สุพรรณบุรี")
    starts_at: time | None = None
    # validate_default: the rule below must also run when ends_at is left out (else starts_at alone is stored,
    # and every later read of the activities fails its response model: a 500)
    ends_at: time | None = Field(default=None, validate_default=True)
    target_group: Text
    participants: int = Field(ge=0, le=100_000)
    purpose: Text = Field(description="e.g. เพื่อสร้างความเข้าใจ ...")

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, ends_at: time | None, info: ValidationInfo) -> time | None:
        starts_at = info.data.get("starts_at")
        if (starts_at is None) != (ends_at is None):
            raise ValueError("give both starts_at and ends_at, or neither")
        if starts_at is not None and ends_at <= starts_at:
            raise ValueError("must be after starts_at")
        return ends_at


class IssueIn(Input):
    """A problem/obstacle or a recommendation an officer adds to a month's report."""

    kind: IssueKind
    category: str = Field(
        description="A ProblemCategory for a problem, a RecommendationCategory for a recommendation"
    )
    text: Text
    year: Year
    month: Month

    @field_validator("category")
    @classmethod
    def _category_of_kind(cls, category: str, info: ValidationInfo) -> str:
        allowed = CATEGORY_LABELS.get(info.data["kind"]) if "kind" in info.data else None
        if allowed is not None and category not in allowed:
            raise ValueError(f"for a {info.data['kind']}, one of: {', '.join(allowed)}")
        return category


class Scores(Input):
    display: Score = Field(description="การจัดแสดงสินค้า")
    variety: Score = Field(description="ความหลากหลายของผลิตภัณฑ์")
    customer_interest: Score = Field(description="ความสนใจของลูกค้า")
    organisation: Score = Field(description="การบริหารจัดการตลาด")


class ProblemNote(Input):
    category: ProblemCategory
    text: Text


class RecommendationNote(Input):
    category: RecommendationCategory
    text: Text


class EvaluationIn(Input):
    """A committee member's evaluation of one market day."""

    market_day_id: UUID
    member_id: UUID | None = Field(
        default=None,
        description=(
            "The evaluating member: required when an officer enters it; a committee member's own otherwise"
        ),
    )
    producers_attending: int = Field(ge=0, le=10_000)
    products_shown: int = Field(ge=0, le=100_000)
    customers_estimate: int = Field(ge=0, le=10_000_000, description="Customer turnout (estimate)")
    sales_observed_thb: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    scores: Scores
    overall_score: Score
    problems: list[ProblemNote] = Field(default_factory=list, max_length=20)
    suggestions: list[RecommendationNote] = Field(default_factory=list, max_length=20)
    note: str | None = Field(default=None, max_length=4000)

    def evaluation(
        self,
        evaluation_id: UUID,
        province_code: str,
        market_day: date,
        member: Evaluator,
        submitted_by: str,
        submitted_at: datetime,
    ) -> Evaluation:
        """This evaluation as the domain knows it, by `member`, of the market day on `market_day`."""
        return Evaluation(
            id=evaluation_id,
            province_code=province_code,
            market_day_id=self.market_day_id,
            market_day=market_day,
            member=member,
            submitted_by=submitted_by,
            submitted_at=submitted_at,
            producers_attending=self.producers_attending,
            products_shown=self.products_shown,
            customers_estimate=self.customers_estimate,
            sales_observed_thb=self.sales_observed_thb,
            scores=self.scores.model_dump(),
            overall_score=self.overall_score,
            note=self.note,
            notes=[EvaluationNote(IssueKind.PROBLEM, n.category, n.text) for n in self.problems]
            + [EvaluationNote(IssueKind.RECOMMENDATION, n.category, n.text) for n in self.suggestions],
        )
