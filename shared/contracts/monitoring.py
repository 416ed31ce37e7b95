"""Events published by the monitoring service."""

from datetime import date
from decimal import Decimal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared import topics
from shared.events import Payload, contract


@contract("monitoring.evaluation.submitted", 1, topics.MONITORING_EVALUATIONS)
class EvaluationSubmitted(Payload):
    """A committee member evaluated a market day. Fields after `overall_score` were added later and are
    optional: consumers of early events find them absent."""

    evaluation_id: UUID
    market_day_id: UUID
    overall_score: int = Field(ge=1, le=5)
    member_id: UUID | None = None
    member_role: str | None = Field(
        default=None,
        description="otop_network, pracharat_working_group, district_cdd_officer or provincial_cdd_officer",
    )
    market_day: date | None = None
    submitted_at: AwareDatetime | None = None
    on_time: bool | None = Field(
        default=None, description="Submitted within the days allowed after the market day"
    )
    producers_attending: int | None = Field(default=None, ge=0)
    products_shown: int | None = Field(default=None, ge=0)
    customers_estimate: int | None = Field(default=None, ge=0, description="Customer turnout (estimate)")
    sales_observed_thb: Decimal | None = Field(default=None, ge=0)
    scores: dict[str, int] | None = Field(
        default=None, description=("1-5 for display, variety, customer_interest, organisation")
    )
    problem_categories: list[str] = Field(default_factory=list)
    recommendation_categories: list[str] = Field(default_factory=list)

    def key(self) -> str:
        return str(self.evaluation_id)
