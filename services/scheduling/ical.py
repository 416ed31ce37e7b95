"""A province's market days as an iCalendar feed (RFC 5545) for publicity: calendar apps, websites and
local media subscribe to it. Pure: no I/O.

Each market day is one VEVENT whose UID never changes and whose SEQUENCE is its revision, so subscribers
move a rescheduled market day and strike out a cancelled one (STATUS:CANCELLED) instead of duplicating it.
It carries only what is public anyway: venue, day, hours and the names of the products confirmed to come;
no producer names or phone numbers, and for a cancelled day a fixed label, never the officer's own reason
(free text meant for colleagues)."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from shared.contracts.scheduling import MarketDayStatus, VenueKind

BANGKOK = ZoneInfo("Asia/Bangkok")
PROGRAMME = "OTOP เคลื่อนที่ (OTOP Mobile)"
VENUE_KINDS = {VenueKind.PRACHARAT_MARKET: "ตลาดประชารัฐ คนไทยยิ้มได้", VenueKind.TOURIST_SPOT: "แหล่งท่องเที่ยว"}
_STATUS = {
    MarketDayStatus.SCHEDULED: "CONFIRMED",
    MarketDayStatus.HELD: "CONFIRMED",
    MarketDayStatus.CANCELLED: "CANCELLED",
}
CANCELLED_LABEL = "ยกเลิกการจัดตลาดครั้งนี้ (market day cancelled)"


def _description(day: dict, products: Sequence[str]) -> str:
    lines = [f"{PROGRAMME}: ผลิตภัณฑ์ OTOP จากชุมชน จำหน่ายที่{VENUE_KINDS[day['venue_kind']]}"]
    if day["status"] == MarketDayStatus.CANCELLED:
        lines.append(CANCELLED_LABEL)
    elif products:
        lines.append(f"ผลิตภัณฑ์ที่ยืนยันแล้ว {len(products)} รายการ: " + ", ".join(products))
    return "\n".join(lines)


def market_days_ics(
    province_code: str, province_name: str, days: Sequence[tuple[dict, Sequence[str]]], now: datetime
) -> bytes:
    """`days`: market-day views (see handlers.market_days) with the product names confirmed for each."""
    calendar = Calendar()
    calendar.add("prodid", "-//OTOP Mobile//scheduling//TH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{PROGRAMME} จังหวัด{province_name}")
    calendar.add("x-wr-timezone", "Asia/Bangkok")
    for day, products in days:
        event = Event()
        event.add("uid", f"{day['id']}@otop-mobile.{province_code}")
        event.add("sequence", day["revision"] - 1)
        event.add("dtstamp", now)
        event.add("last-modified", day["updated_at"])
        event.add("summary", f"{PROGRAMME} ณ {day['venue_name']}")
        event.add("location", ", ".join(filter(None, (day["venue_name"], day["venue_address"]))))
        event.add("description", _description(day, products))
        event.add("status", _STATUS[day["status"]])
        event.add("categories", ["OTOP", VENUE_KINDS[day["venue_kind"]]])
        if day["starts_at"] is None:  # all day
            event.add("dtstart", day["day"])
            event.add("dtend", day["day"] + timedelta(days=1))
        else:
            event.add("dtstart", datetime.combine(day["day"], day["starts_at"], BANGKOK))
            event.add("dtend", datetime.combine(day["day"], day["ends_at"], BANGKOK))
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
