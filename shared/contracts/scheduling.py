"""Events published by the scheduling service. Market-day events share one topic keyed by the
market day, so a market day's lineup, invitations and attendance arrive in order."""

from datetime import date, datetime, time
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from shared import topics
from shared.events import Payload, contract


class VenueKind(StrEnum):
    PRACHARAT_MARKET = "pracharat_market"  # ตลาดประชารัฐ คนไทยยิ้มได้
    TOURIST_SPOT = "tourist_spot"  # แหล่งท่องเที่ยว / ชุมชนท่องเที่ยว


class DeclineReason(StrEnum):
    BUSY = "busy"  # ติดภารกิจ
    HAS_MARKET = "has_market"  # มีตลาดที่จำหน่ายเป็นประจำแล้ว
    WORRIED_ABOUT_SALES = "worried_about_sales"  # กังวลว่าจะจำหน่ายสินค้าไม่ได้
    NO_RAW_MATERIAL = "no_raw_material"  # ขาดวัตถุดิบ
    OTHER = "other"


@contract("scheduling.venue.registered", 1, topics.SCHEDULING_VENUES)
class VenueRegistered(Payload):
    venue_id: UUID
    name: str = Field(min_length=1)
    kind: VenueKind
    amphoe_code: str | None = Field(default=None, pattern=r"^[0-9]{4}$")
    # Optional since the first version: a venue's full state and its revision (1 when registered).
    revision: int = Field(default=1, ge=1)
    tambon_code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    address: str | None = Field(default=None, description="Where it is, e.g. หน้าศาลากลางจังหวัด")
    contact_name: str | None = Field(
        default=None, description="Who runs the venue, e.g. the market's manager"
    )
    phone: str | None = None
    active: bool = Field(default=True, description="False once no market day may be scheduled there")
    latitude: float | None = Field(default=None, ge=-90, le=90, description="WGS 84 degrees, for a map link")
    longitude: float | None = Field(default=None, ge=-180, le=180, description="WGS 84 degrees")

    def key(self) -> str:
        return str(self.venue_id)


@contract("scheduling.venue.updated", 1, topics.SCHEDULING_VENUES)
class VenueUpdated(VenueRegistered):
    """Any change, deactivation included: the full new state."""


@contract("scheduling.plan.set", 1, topics.SCHEDULING_PLANS)
class PlanSet(Payload):
    """A province's plan for a period: its target market days a month and products a market day."""

    plan_id: UUID
    revision: int = Field(ge=1)
    name: str = Field(min_length=1, description="e.g. โครงการ OTOP เคลื่อนที่ (OTOP Mobile)")
    first_month: date = Field(description="First day of the first month")
    last_month: date = Field(description="First day of the last month")
    market_days_per_month: int = Field(ge=1)
    products_per_market_day: int = Field(ge=1)
    target_group: str | None = None  # e.g. ๒๐ ผลิตภัณฑ์/ตลาด
    budget_source: str | None = None  # e.g. งบบุคลากรฯ

    def key(self) -> str:
        return str(self.plan_id)


class MarketDayStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    HELD = "held"


class MarketDayState(Payload):
    market_day_id: UUID
    revision: int = Field(ge=1)
    plan_id: UUID | None = None
    venue_id: UUID
    venue_name: str
    venue_kind: VenueKind
    day: date
    starts_at: time | None = None
    ends_at: time | None = None
    status: MarketDayStatus
    cancel_reason: str | None = None

    def key(self) -> str:
        return str(self.market_day_id)


@contract("scheduling.market_day.scheduled", 1, topics.SCHEDULING_MARKET_DAYS)
class MarketDayScheduled(MarketDayState):
    pass


@contract("scheduling.market_day.rescheduled", 1, topics.SCHEDULING_MARKET_DAYS)
class MarketDayRescheduled(MarketDayState):
    pass


@contract("scheduling.market_day.cancelled", 1, topics.SCHEDULING_MARKET_DAYS)
class MarketDayCancelled(MarketDayState):
    pass


@contract("scheduling.market_day.held", 1, topics.SCHEDULING_MARKET_DAYS)
class MarketDayHeld(MarketDayState):
    pass


@contract("scheduling.invitation.sent", 1, topics.SCHEDULING_MARKET_DAYS)
class InvitationSent(Payload):
    invitation_id: UUID
    market_day_id: UUID
    product_id: UUID
    producer_id: UUID | None = None
    revision: int | None = Field(
        default=None,
        ge=1,
        description="The invitation's revision: 1 when sent, "
        "one more for each answer or withdrawal (absent from early events)",
    )

    def key(self) -> str:
        return str(self.market_day_id)


@contract("scheduling.invitation.accepted", 1, topics.SCHEDULING_MARKET_DAYS)
class InvitationAccepted(InvitationSent):
    pass


@contract("scheduling.invitation.declined", 1, topics.SCHEDULING_MARKET_DAYS)
class InvitationDeclined(InvitationSent):
    reason: DeclineReason
    note: str | None = None


@contract("scheduling.attendance.recorded", 1, topics.SCHEDULING_MARKET_DAYS)
class AttendanceRecorded(Payload):
    """Who came with what on the day (replaces any earlier record for the market day)."""

    market_day_id: UUID
    revision: int = Field(ge=1)
    product_ids: list[UUID]
    producer_ids: list[UUID]

    def key(self) -> str:
        return str(self.market_day_id)


@contract("scheduling.invitation.withdrawn", 1, topics.SCHEDULING_MARKET_DAYS)
class InvitationWithdrawn(InvitationSent):
    """An officer took the product out of the market day's lineup."""

    note: str | None = None


@contract("scheduling.invitation.link_issued", 1, topics.SCHEDULING_MARKET_DAYS)
class InvitationLinkIssued(Payload):
    """An officer issued a producer's link to answer an invitation (the slip). The token itself, the
    producer's credential, is never in an event."""

    link_id: UUID
    invitation_id: UUID
    market_day_id: UUID
    expires_at: datetime

    def key(self) -> str:
        return str(self.market_day_id)


@contract("scheduling.invitation.link_revoked", 1, topics.SCHEDULING_MARKET_DAYS)
class InvitationLinkRevoked(InvitationLinkIssued):
    """An officer revoked a producer's link: its token is refused from now on."""
