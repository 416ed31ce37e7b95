"""What the public pages say and how: Thai first with English beside it, Buddhist Era dates, map links,
share links, and the schema.org `Event` of a market day as JSON-LD. Pure: no I/O."""

import json
from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from services.publicity.media.thai import UNANNOUNCED_HOURS
from shared import thai
from shared.contracts.registry import ProducerType, ProductCategory
from shared.contracts.scheduling import MarketDayStatus, VenueKind
from shared.labels import PRODUCER_TYPE_TH, PRODUCT_CATEGORY_TH

LANGUAGES = ("th", "en")
PROGRAMME = ("OTOP เคลื่อนที่", "OTOP Mobile")
ORGANIZER = {
    "@type": "GovernmentOrganization",
    "name": "กรมการพัฒนาชุมชน (Community Development Department)",
    "url": "https://www.cdd.go.th/",
}
# What a cancelled day says in public: a fixed label, never the officer's own reason.
CANCELLED = ("ยกเลิกการจัดตลาดครั้งนี้", "This market day is cancelled")

CATEGORY: dict[str, tuple[str, str]] = {
    code: (PRODUCT_CATEGORY_TH[code], english)
    for code, english in {
        ProductCategory.FOOD: "Food",
        ProductCategory.BEVERAGE: "Beverages",
        ProductCategory.TEXTILE: "Textiles and clothing",
        ProductCategory.HOUSEWARE: "Housewares, decorations, souvenirs",
        ProductCategory.HERBAL: "Herbal products (non-food)",
    }.items()
}
PRODUCER_TYPE: dict[str, tuple[str, str]] = {
    code: (PRODUCER_TYPE_TH[code], english)
    for code, english in {
        ProducerType.COMMUNITY_GROUP: "Community producer group",
        ProducerType.SINGLE_OWNER: "Community producer",
        ProducerType.SME: "Small enterprise",
    }.items()
}
VENUE_KIND: dict[str, tuple[str, str]] = {
    VenueKind.PRACHARAT_MARKET: ("ตลาดประชารัฐ คนไทยยิ้มได้", "Pracharat market"),
    VenueKind.TOURIST_SPOT: ("แหล่งท่องเที่ยว", "Tourist spot"),
}
STATUS: dict[str, tuple[str, str]] = {
    MarketDayStatus.SCHEDULED: ("กำหนดจัด", "On"),
    MarketDayStatus.HELD: ("จัดแล้ว", "Held"),
    MarketDayStatus.CANCELLED: ("ยกเลิก", "Cancelled"),
}
WEEKDAYS = (
    ("วันจันทร์", "Monday"),
    ("วันอังคาร", "Tuesday"),
    ("วันพุธ", "Wednesday"),
    ("วันพฤหัสบดี", "Thursday"),
    ("วันศุกร์", "Friday"),
    ("วันเสาร์", "Saturday"),
    ("วันอาทิตย์", "Sunday"),
)
WEEKDAYS_ABBR = ("จ.", "อ.", "พ.", "พฤ.", "ศ.", "ส.", "อา.")
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def language(asked: str | None) -> str:
    """The page's language: English only when asked for with ?lang=en, Thai otherwise."""
    return "en" if asked == "en" else "th"


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def long_day(day: date, lang: str) -> str:
    """e.g. วันเสาร์ที่ 15 มิถุนายน 2562 (Buddhist Era), or Saturday 15 June 2019."""
    weekday = pick(WEEKDAYS[day.weekday()], lang)
    if lang == "en":
        return f"{weekday} {day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{weekday}ที่ {thai.long_date(day, thai=False)}"


def short_day(day: date, lang: str) -> str:
    """e.g. ส. 15 มิ.ย. 62, or Sat 15 Jun 2019."""
    if lang == "en":
        return f"{WEEKDAYS[day.weekday()][1][:3]} {day.day} {MONTHS_EN[day.month - 1][:3]} {day.year}"
    return f"{WEEKDAYS_ABBR[day.weekday()]} {thai.short_date(day, thai=False)}"


def month_title(first_of_month: date, lang: str) -> str:
    if lang == "en":
        return f"{MONTHS_EN[first_of_month.month - 1]} {first_of_month.year}"
    return thai.month_year(first_of_month.year, first_of_month.month, thai=False)


def hours(starts: time | None, ends: time | None, lang: str) -> str:
    """e.g. 08.00–16.00 น., or 8:00–16:00; hours not set yet are announced later (never invented)."""
    if starts is None:
        return pick((UNANNOUNCED_HOURS, "Hours to be announced"), lang)
    if lang == "en":
        clock = f"{starts.hour}:{starts.minute:02d}"
        return clock if ends is None else f"{clock}–{ends.hour}:{ends.minute:02d}"
    clock = thai.clock(starts, thai=False)
    return f"{clock}{'' if ends is None else '–' + thai.clock(ends, thai=False)} น."


def price(value: Decimal, unit: str, lang: str) -> str:
    amount = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return f"{amount} {'THB' if lang == 'en' else 'บาท'} / {unit}"


def map_links(
    latitude: float | None, longitude: float | None, name: str, address: str | None
) -> dict[str, str | None]:
    """A `geo:` URI (RFC 5870; phones open their map app) when the venue's coordinates are known, and a
    maps URL always: at the coordinates, else a search for the venue's name and address."""
    if latitude is not None and longitude is not None:
        point = f"{latitude:.6f},{longitude:.6f}"
        return {
            "geo": f"geo:{point}?q={point}({quote(name)})",
            "maps": "https://www.google.com/maps/search/?" + urlencode({"api": "1", "query": point}),
        }
    where = ", ".join(filter(None, (name, address)))
    return {
        "geo": None,
        "maps": "https://www.google.com/maps/search/?" + urlencode({"api": "1", "query": where}),
    }


def share_links(url: str) -> dict[str, str]:
    return {
        "line": "https://social-plugins.line.me/lineit/share?" + urlencode({"url": url}),
        "facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
    }


def event_status(status: str, rescheduled: bool) -> str:
    if status == MarketDayStatus.CANCELLED:
        return "https://schema.org/EventCancelled"
    if rescheduled and status == MarketDayStatus.SCHEDULED:
        return "https://schema.org/EventRescheduled"
    return "https://schema.org/EventScheduled"


def _moment(day: date, at: time | None) -> str:
    return day.isoformat() if at is None else f"{day.isoformat()}T{at.isoformat(timespec='minutes')}:00+07:00"


def market_day_event(
    day: Mapping[str, Any], venue: Mapping[str, Any], place: Mapping[str, str | None], url: str, image: str
) -> dict[str, Any]:
    """The schema.org Event of a market day. `place`: the venue's district, province and postal code."""
    address = {
        "@type": "PostalAddress",
        "streetAddress": venue.get("address") or venue["name"],
        "addressLocality": place["district"],
        "addressRegion": place["province"],
        "postalCode": place["postal_code"],
        "addressCountry": "TH",
    }
    location: dict[str, Any] = {
        "@type": "Place",
        "name": venue["name"],
        "address": {k: v for k, v in address.items() if v is not None},
    }
    if venue.get("latitude") is not None and venue.get("longitude") is not None:
        location["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": venue["latitude"],
            "longitude": venue["longitude"],
        }
    event: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": f"{PROGRAMME[0]} ณ {venue['name']}",
        "description": f"ผลิตภัณฑ์ OTOP จากชุมชนจังหวัด{place['province']} ({PROGRAMME[1]})",
        "startDate": _moment(day["day"], day["starts_at"]),
        "eventStatus": event_status(day["status"], day["rescheduled"]),
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "isAccessibleForFree": True,
        "location": location,
        "organizer": ORGANIZER,
        "image": [image],
        "url": url,
    }
    if day["ends_at"] is not None:
        event["endDate"] = _moment(day["day"], day["ends_at"])
    if day["rescheduled"] and day.get("previous_day") is not None:
        event["previousStartDate"] = _moment(day["previous_day"], day.get("previous_starts_at"))
    return event


def json_ld(data: Any) -> str:
    """JSON for a <script type="application/ld+json"> element: `<`, `>` and `&` escaped, so no text in it
    (a venue's name, anything) can close the element or open another."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
