"""What the renderers are given: plain, frozen values the public service fills from its read models.
Money is Decimal (baht, satang precise); dates and times are Thailand's."""

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal


@dataclass(frozen=True)
class Province:
    code: str  # DOPA code, e.g. "72"
    name_th: str  # e.g. "สุพรรณบุรี" (without "จังหวัด")
    name_en: str  # e.g. "Suphan Buri"


@dataclass(frozen=True)
class MarketDay:
    day: date
    starts: time | None  # None until the officer sets the hours
    ends: time | None
    venue_name: str
    address: str


@dataclass(frozen=True)
class LineupItem:
    product_name: str
    price_thb: Decimal
    unit: str
    photo_jpeg: bytes | None  # the registry's re-encoded photo (any size), or None
    producer: str | None  # the producer's community or district, e.g. "กลุ่มทอผ้าบ้านดอน อ.เมือง"


@dataclass(frozen=True)
class DayAnnouncement:
    """One market day as the public sees it: the poster and the share image."""

    province: Province
    page_url: str  # the day's public page, encoded in the QR code
    market_day: MarketDay
    lineup: tuple[LineupItem, ...] = ()


@dataclass(frozen=True)
class MonthDay:
    market_day: MarketDay
    products: int
    producers: int


@dataclass(frozen=True)
class MonthProgramme:
    """A province's market days of one month: the press release."""

    province: Province
    page_url: str  # the province's public page
    year: int  # Common Era
    month: int
    days: tuple[MonthDay, ...]
    contact: str | None = None  # e.g. "สำนักงานพัฒนาชุมชนจังหวัดสุพรรณบุรี โทร. 0 3553 5042"
