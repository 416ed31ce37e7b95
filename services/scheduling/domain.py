"""Scheduling rules and value objects: no I/O here.

The life of a market day and of an invitation, which products are proposed for a market day
(`propose`), and the arithmetic of plan against actual (`plan_progress`). What callers send is validated
in inputs.py.
"""

import base64
import hashlib
import hmac
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Self
from uuid import UUID

from shared.contracts.registry import ProductStatus, Quadrant
from shared.contracts.scheduling import MarketDayStatus
from shared.errors import Conflict, Refused, ServiceError
from shared.thai import clock, long_date
from shared.thailand import THAILAND

DEFAULT_PLAN_NAME = "โครงการ OTOP เคลื่อนที่ (OTOP Mobile)"
DEFAULT_MARKET_DAYS_PER_MONTH = 4  # the programme: four times a month
DEFAULT_PRODUCTS_PER_MARKET_DAY = 20  # the programme: at least 20 products a market
RECENT_DAYS = 90  # how far back sales count, and how far either way earlier invitations count
MAX_PRODUCTS_PER_PRODUCER = 3  # per market day, when products are proposed


# --- the life of a market day


class Change(StrEnum):
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"
    HOLD = "hold"
    LINEUP = "change the lineup of"
    ATTENDANCE = "record attendance of"


def check_change(status: MarketDayStatus, day: date, change: Change, today: date) -> None:
    """Raise Refused unless a market day in `status` on `day` may undergo `change` today.

    A scheduled market day may be rescheduled, cancelled, and its lineup changed; once its day has come
    it may be marked held and its attendance recorded. A held one takes attendance only; a cancelled
    one nothing."""
    status = MarketDayStatus(status)
    allowed = {
        MarketDayStatus.SCHEDULED: set(Change),
        MarketDayStatus.HELD: {Change.ATTENDANCE},
        MarketDayStatus.CANCELLED: set(),
    }[status]
    if change not in allowed:
        raise Conflict(f"cannot {change.value} a {status.value} market day")
    if change in (Change.HOLD, Change.ATTENDANCE) and day > today:
        raise Conflict(f"the market day ({day.isoformat()}) has not come yet")


# --- invitations: one per product in a market day's lineup, sent to its producer


class InvitationStatus(StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # an officer took the product out of the lineup


IN_LINEUP = (InvitationStatus.SENT, InvitationStatus.ACCEPTED)
_NEXT = {
    InvitationStatus.SENT: {InvitationStatus.ACCEPTED, InvitationStatus.DECLINED, InvitationStatus.WITHDRAWN},
    InvitationStatus.ACCEPTED: {
        InvitationStatus.DECLINED,
        InvitationStatus.WITHDRAWN,
    },  # a producer may back out
}


def check_answer(current: InvitationStatus, new: InvitationStatus) -> None:
    if new not in _NEXT.get(current, set()):
        raise Conflict(f"an invitation that is {current.value} cannot become {new.value}")


# --- product selection


def producer_available(
    available: bool | None, unavailable_from: date | None, unavailable_until: date | None, day: date
) -> bool:
    """Whether a producer can come on `day`. An unavailable producer (e.g. ขาดวัตถุดิบ) is away from
    `unavailable_from` (or already) until `unavailable_until`, its expected return (or indefinitely).
    A producer the registry has not told us about (None) counts as available."""
    if available is None or available:
        return True
    return not (
        (unavailable_from is None or unavailable_from <= day)
        and (unavailable_until is None or day < unavailable_until)
    )


@dataclass(frozen=True)
class Candidate:
    """A product of the province as the read models know it, with what ranking needs."""

    product_id: UUID
    name: str
    quadrant: Quadrant
    star_level: int
    nawatwithi: bool
    status: ProductStatus = ProductStatus.ACTIVE
    producer_id: UUID | None = None
    producer_name: str | None = None
    producer_available: bool | None = None  # None: producer unknown
    unavailable_from: date | None = None
    unavailable_until: date | None = None
    recent_sales_thb: Decimal = Decimal(0)
    producer_recent_invitations: int = 0
    producer_booked_that_day: bool = False  # in the lineup of another market day on the same day

    @property
    def producer_key(self) -> UUID:
        """Whom the per-producer cap counts against (the product itself when it names no producer)."""
        return self.producer_id or self.product_id

    def eligible(self, day: date) -> bool:
        return (
            self.status == ProductStatus.ACTIVE
            and not self.producer_booked_that_day
            and producer_available(
                self.producer_available, self.unavailable_from, self.unavailable_until, day
            )
        )

    def priority(self) -> tuple[bool, bool, bool, Decimal, int, str]:
        """Smaller first: see `propose`."""
        return (
            self.quadrant != Quadrant.D,
            self.star_level > 3,
            not self.nawatwithi,
            self.recent_sales_thb,
            self.producer_recent_invitations,
            str(self.product_id),
        )


@dataclass(frozen=True)
class LineupEntry:
    """An invitation of the market day, as far as selection cares."""

    product_id: UUID
    producer_id: UUID | None
    status: InvitationStatus

    @property
    def producer_key(self) -> UUID:
        return self.producer_id or self.product_id


@dataclass(frozen=True)
class Proposal:
    target: int
    in_lineup: int
    ranked: list[Candidate]  # every candidate still open, best first
    proposed: list[Candidate]  # the ones to invite to reach the target
    shortfall: int  # products still missing after inviting all proposed ones

    @property
    def message(self) -> str | None:
        if not self.shortfall:
            return None
        return (
            f"the lineup has {self.in_lineup} of the {self.target} products wanted and only "
            f"{len(self.proposed)} more can be proposed: {self.shortfall} short"
        )


def propose(
    candidates: Iterable[Candidate],
    lineup: Sequence[LineupEntry],
    day: date,
    target: int,
    max_per_producer: int = MAX_PRODUCTS_PER_PRODUCER,
) -> Proposal:
    """Which products to invite so the market day's lineup reaches `target` products.

    Open candidates: active (not withdrawn) products whose producer is available on `day` and not already
    in the lineup of another market day that day, leaving out products already in this lineup (invitation
    sent or accepted), products an officer took out of it, and every product of a producer who declined
    this market day.

    Ranking, lexicographic, smaller first (the programme's priority, then fairness, then a fixed tie-break):
      1. Quadrant D (กลุ่มปรับตัวสู่การพัฒนา) before A/B/C;
      2. 1-3 stars before 4-5 stars;
      3. OTOP Nawatwithi community products before others;
      4. lowest sales in the RECENT_DAYS days before the market day first (no sales = 0);
      5. the producer invited to fewer other market days within RECENT_DAYS either side first;
      6. product id (so the same inputs always give the same answer).

    Spreading across producers: candidates are taken in ranked order in rounds; in round r a product is
    taken only if its producer has fewer than r products in the lineup (those already there included),
    so every producer gets a first product before any gets a second, and none gets more than
    `max_per_producer`. Taking stops at `target` products in the lineup; if the open candidates run out
    first, the rest is the shortfall."""
    in_lineup = [entry for entry in lineup if entry.status in IN_LINEUP]
    closed = {entry.product_id for entry in lineup}
    declined = {entry.producer_key for entry in lineup if entry.status == InvitationStatus.DECLINED}
    ranked = sorted(
        (
            c
            for c in candidates
            if c.product_id not in closed and c.producer_key not in declined and c.eligible(day)
        ),
        key=Candidate.priority,
    )
    wanted = max(0, target - len(in_lineup))
    per_producer = Counter(entry.producer_key for entry in in_lineup)
    proposed: dict[UUID, Candidate] = {}
    for round_ in range(1, max_per_producer + 1):
        for candidate in ranked:
            if (
                len(proposed) < wanted
                and candidate.product_id not in proposed
                and per_producer[candidate.producer_key] < round_
            ):
                proposed[candidate.product_id] = candidate
                per_producer[candidate.producer_key] += 1
    return Proposal(target, len(in_lineup), ranked, list(proposed.values()), wanted - len(proposed))


def recent_sales_period(day: date) -> tuple[datetime, datetime]:
    """Sales made in this period (from, before; Thai days) count as a product's recent sales: the
    RECENT_DAYS days before the market day."""
    return (
        datetime.combine(day - timedelta(days=RECENT_DAYS), time(), THAILAND),
        datetime.combine(day, time(), THAILAND),
    )


def recent_invitation_days(day: date) -> tuple[date, date]:
    """Invitations to market days in this range (inclusive) count as a producer's recent chances."""
    return day - timedelta(days=RECENT_DAYS), day + timedelta(days=RECENT_DAYS)


# --- plans against what happened


def months(first_month: date, last_month: date) -> list[date]:
    """First days of the months from first_month to last_month."""
    count = (last_month.year - first_month.year) * 12 + last_month.month - first_month.month + 1
    return [
        date(first_month.year + (first_month.month - 1 + i) // 12, (first_month.month - 1 + i) % 12 + 1, 1)
        for i in range(max(count, 0))
    ]


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class DayFacts:
    """A market day as plan-versus-actual needs it."""

    market_day_id: UUID
    day: date
    venue_name: str
    status: MarketDayStatus
    in_lineup: int  # invitations sent or accepted
    accepted: int
    attended: int | None  # products recorded as present, None before attendance was recorded

    @property
    def products(self) -> int:
        """Products of the market day: those that came once recorded, else the lineup."""
        return self.attended if self.attended is not None else self.in_lineup


@dataclass(frozen=True)
class MonthProgress:
    month: date
    planned: int
    scheduled: int
    held: int
    cancelled: int
    missing: int  # planned market days neither scheduled nor held
    products_target: int
    days_meeting_target: int  # scheduled or held market days with at least products_target products
    market_days: list[DayFacts] = field(default_factory=list)


def plan_progress(
    first_month: date,
    last_month: date,
    market_days_per_month: int,
    products_per_market_day: int,
    days: Iterable[DayFacts],
) -> list[MonthProgress]:
    """For each month of the plan: market days planned against scheduled, held and cancelled, and how many
    of the market days that go ahead reach the products target. Days outside the plan are ignored."""
    by_month: dict[date, list[DayFacts]] = {month: [] for month in months(first_month, last_month)}
    for day_facts in sorted(days, key=lambda f: (f.day, str(f.market_day_id))):
        by_month.get(day_facts.day.replace(day=1), []).append(day_facts)
    progress = []
    for month, facts in by_month.items():
        count = Counter(f.status for f in facts)
        going_ahead = [f for f in facts if f.status != MarketDayStatus.CANCELLED]
        progress.append(
            MonthProgress(
                month=month,
                planned=market_days_per_month,
                scheduled=count[MarketDayStatus.SCHEDULED],
                held=count[MarketDayStatus.HELD],
                cancelled=count[MarketDayStatus.CANCELLED],
                missing=max(0, market_days_per_month - len(going_ahead)),
                products_target=products_per_market_day,
                days_meeting_target=sum(f.products >= products_per_market_day for f in going_ahead),
                market_days=facts,
            )
        )
    return progress


# --- producers' signed invitation links


LINK_MAX_DAYS = 14  # a link never lives longer than this, even for a market day further ahead
ANSWERS_CLOSE_AT = time(18)  # Thai time, the day before the market day: see answers_close


class LinkRefused(ServiceError):
    """A producer's link that was not issued here (or was altered): 404; or has expired: 410 Gone."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired
        self.status_code = 410 if expired else 404


@dataclass(frozen=True)
class InvitationLink:
    """What a producer's link names: one issued link (its id; the link's row says which invitation, and
    whether the officer revoked it) of a province, until when it may be opened. The token is
    `<link id>.<province>.<expiry, unix s>.<HMAC-SHA256 of those three, base64url>`: an altered or expired
    one is refused with the key alone, before any lookup."""

    link_id: UUID
    province_code: str
    expires_at: datetime

    def _signed_part(self) -> str:
        return f"{self.link_id}.{self.province_code}.{int(self.expires_at.timestamp())}"

    def token(self, key: str) -> str:
        return f"{self._signed_part()}.{_link_signature(key, self._signed_part())}"

    @classmethod
    def expiring(cls, link_id: UUID, province_code: str, market_day: date, now: datetime) -> Self:
        """A link good until the market day is over (midnight after it, Thai time), and for LINK_MAX_DAYS
        at most. Answers through it close earlier (answers_close); until then it shows the invitation."""
        day_over = datetime.combine(market_day + timedelta(days=1), time(0), THAILAND)
        latest = now.replace(microsecond=0) + timedelta(days=LINK_MAX_DAYS)
        return cls(link_id, province_code, min(day_over, latest))

    @classmethod
    def read(cls, key: str, token: str, now: datetime) -> Self:
        """The link of a token signed with `key`; LinkRefused if it is altered, foreign or expired."""
        parts = token.split(".")
        if len(parts) != 4 or not hmac.compare_digest(parts[3], _link_signature(key, ".".join(parts[:3]))):
            raise LinkRefused("this invitation link is not valid")
        try:
            link = cls(UUID(parts[0]), parts[1], datetime.fromtimestamp(int(parts[2]), UTC))
        except ValueError as exc:  # signed by us, so only a key shared with a broken issuer gets here
            raise LinkRefused("this invitation link is not valid") from exc
        if now >= link.expires_at:
            raise LinkRefused(
                "this invitation link has expired; ask the provincial officer for a new one", expired=True
            )
        return link


def _link_signature(key: str, signed: str) -> str:
    digest = hmac.new(key.encode(), signed.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def answers_close(market_day: date) -> datetime:
    """Until when a producer may answer, or change an answer, through the link: 18:00 Thai time the day
    before the market day, so that the evening before the officer knows who comes and can still call
    replacements. After it the link only shows the invitation; the officer records any change."""
    return datetime.combine(market_day - timedelta(days=1), ANSWERS_CLOSE_AT, THAILAND)


def check_link_answer(market_day: date, now: datetime) -> None:
    """Refused (409, said in Thai for the producer's page) once answers through the link have closed."""
    closes = answers_close(market_day)
    if now >= closes:
        raise Refused(
            "link_answers_closed",
            f"ตอบหรือเปลี่ยนคำตอบผ่านลิงก์ได้ถึงวันที่ {long_date(closes.date(), thai=False)} "
            f"เวลา {clock(closes.timetz(), thai=False)} น. เท่านั้น "
            "หากต้องการเปลี่ยนคำตอบ กรุณาติดต่อเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด",
            status_code=409,
        )


def check_link_in_force(revoked_at: datetime | None) -> None:
    """Refused (410, in Thai) for a link the officer revoked: a new slip carries its new link."""
    if revoked_at is not None:
        raise Refused(
            "link_revoked",
            "ลิงก์นี้ถูกยกเลิกแล้ว กรุณาใช้ลิงก์ในใบเชิญฉบับใหม่จากเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด",
            status_code=410,
        )
