"""What officers and producers send: the request bodies, as pydantic models that validate them. An adapter
of the API; the domain never imports it."""

from datetime import date, time
from typing import Annotated, Self
from uuid import UUID

from pydantic import BeforeValidator, Field, model_validator

from services.scheduling.domain import (
    DEFAULT_MARKET_DAYS_PER_MONTH,
    DEFAULT_PLAN_NAME,
    DEFAULT_PRODUCTS_PER_MARKET_DAY,
    months,
)
from shared.contracts.scheduling import DeclineReason, VenueKind
from shared.errors import Invalid
from shared.inputs import Input


def _first_of_month(value: object) -> object:
    """A month as `YYYY-MM` or any ISO date in it: the first day of that month."""
    if isinstance(value, str) and len(value) == 7:
        value = f"{value}-01"
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return value.replace(day=1) if isinstance(value, date) else value


Month = Annotated[
    date, BeforeValidator(_first_of_month), Field(description="YYYY-MM (or a date in the month)")
]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class VenueIn(Input):
    """A Pracharat market (ตลาดประชารัฐ คนไทยยิ้มได้) or a tourist spot, and whom to contact there."""

    name: Text
    kind: VenueKind
    amphoe_code: str | None = Field(default=None, pattern=r"^[0-9]{4}$", description="DOPA district code")
    tambon_code: str | None = Field(default=None, pattern=r"^[0-9]{6}$", description="DOPA subdistrict code")
    address: str | None = Field(default=None, max_length=500)
    contact_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, pattern=r"^[0-9+\- ]{6,20}$")
    active: bool = True
    latitude: float | None = Field(default=None, ge=-90, le=90, description="WGS 84 degrees, for map links")
    longitude: float | None = Field(default=None, ge=-180, le=180, description="WGS 84 degrees")

    @model_validator(mode="after")
    def _tambon_in_amphoe(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        if self.tambon_code and self.amphoe_code and not self.tambon_code.startswith(self.amphoe_code):
            raise ValueError("tambon_code is not in amphoe_code")
        if self.tambon_code and not self.amphoe_code:
            raise ValueError("give the amphoe_code of the tambon_code")
        return self

    def check_province(self, province_code: str) -> None:
        """DOPA codes nest: a district code starts with its province code."""
        if self.amphoe_code and not self.amphoe_code.startswith(province_code):
            raise Invalid.at(("body", "amphoe_code"), f"not a district of province {province_code}")


class PlanIn(Input):
    """A province's plan for a period, e.g. June to September 2562 BE (2019): market days a month and
    products a market day."""

    name: Text = DEFAULT_PLAN_NAME
    first_month: Month
    last_month: Month
    market_days_per_month: int = Field(default=DEFAULT_MARKET_DAYS_PER_MONTH, ge=1, le=31)
    products_per_market_day: int = Field(default=DEFAULT_PRODUCTS_PER_MARKET_DAY, ge=1, le=1000)
    target_group: str | None = Field(default=None, max_length=300, description="e.g. ๒๐ ผลิตภัณฑ์/ตลาด")
    budget_source: str | None = Field(default=None, max_length=300, description="e.g. งบบุคลากรฯ")

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.last_month < self.first_month:
            raise ValueError("last_month is before first_month")
        if len(months(self.first_month, self.last_month)) > 24:
            raise ValueError("a plan spans at most 24 months")
        return self


class _Hours(Input):
    starts_at: time | None = Field(default=None, description="Local time (Asia/Bangkok)")
    ends_at: time | None = None

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if (self.starts_at is None) != (self.ends_at is None):
            raise ValueError("give both starts_at and ends_at, or neither")
        if self.starts_at is not None and self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class MarketDayIn(_Hours):
    venue_id: UUID
    day: date


class RescheduleIn(_Hours):
    """A new day and hours; the venue too, if it changes."""

    day: date
    venue_id: UUID | None = None


class CancelIn(Input):
    reason: Text


class LineupAdd(Input):
    product_id: UUID


class WithdrawIn(Input):
    note: str | None = Field(default=None, max_length=500)


class DeclineIn(Input):
    reason: DeclineReason
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _other_says_why(self) -> Self:
        if self.reason is DeclineReason.OTHER and not self.note:
            raise ValueError("say why in note when the reason is other")
        return self


class AnswerIn(Input):
    """A producer's answer to an invitation: accept, or decline with a reason (as DeclineIn)."""

    invitation_id: UUID
    accept: bool
    reason: DeclineReason | None = None
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _declined_says_why(self) -> Self:
        if self.accept and self.reason is not None:
            raise ValueError("an acceptance has no decline reason")
        if not self.accept and self.reason is None:
            raise ValueError("a decline says its reason")
        if self.reason is DeclineReason.OTHER and not self.note:
            raise ValueError("say why in note when the reason is other")
        return self


class AnswersIn(Input):
    """Answers to a market day's invitations, recorded together (an officer enters a round of calls)."""

    answers: list[AnswerIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _once_each(self) -> Self:
        if len({a.invitation_id for a in self.answers}) != len(self.answers):
            raise ValueError("an invitation is answered once a request")
        return self


class AttendanceIn(Input):
    """The products that came to the market day (their producers follow from the registry's events)."""

    product_ids: list[UUID] = Field(max_length=1000)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if len(set(self.product_ids)) != len(self.product_ids):
            raise ValueError("a product is named twice")
        return self
