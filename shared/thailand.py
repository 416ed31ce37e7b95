"""Facts of Thailand every service shares: its time zone and "today" there, and Buddhist Era years.
Framework-free, no I/O."""

from datetime import UTC, date, datetime, timedelta, timezone

THAILAND = timezone(timedelta(hours=7), "ICT")  # no daylight saving
BE_OFFSET = 543  # Buddhist Era year = Common Era year + 543 (2562 = 2019)


def thai_today(now: datetime | None = None) -> date:
    """The date in Thailand now (or at `now`)."""
    return (now or datetime.now(UTC)).astimezone(THAILAND).date()


def be_year(ce_year: int) -> int:
    return ce_year + BE_OFFSET


def ce_year(year: int) -> int:
    """A year given either way (2562 or 2019) as CE: years from 2400 on are read as BE."""
    return year - BE_OFFSET if year >= 2400 else year
