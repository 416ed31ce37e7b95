"""Thai presentation of dates and numbers for reports: Buddhist Era years (BE = CE + 543), Thai month
names, Thai digits (๐-๙) when asked, the Thai government's fiscal quarters (October to September).
Pure functions, no I/O."""

from datetime import date, time
from decimal import Decimal

import geothai

from shared.thailand import BE_OFFSET, be_year

_TO_THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
_TO_ARABIC = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
MONTHS = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
WEEKDAYS = ("จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์", "อาทิตย์")  # Monday first, as date.weekday()
MONTHS_ABBR = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)


def digits(text: str, thai: bool = True) -> str:
    """`text` with every digit written as a Thai digit (๐-๙), or with `thai` False as an Arabic one:
    a report is written in one style throughout, whatever was typed into its free-text fields."""
    return text.translate(_TO_THAI if thai else _TO_ARABIC)


def month_name(month: int, abbreviated: bool = False) -> str:
    return (MONTHS_ABBR if abbreviated else MONTHS)[month - 1]


def weekday_name(day: date) -> str:
    """e.g. เสาร์ for a Saturday (written after วัน: วันเสาร์)."""
    return WEEKDAYS[day.weekday()]


def month_year(year: int, month: int, thai: bool = True) -> str:
    """e.g. มิถุนายน ๒๕๖๒ for (2019, 6)."""
    return digits(f"{month_name(month)} {be_year(year)}", thai)


def long_date(day: date, thai: bool = True) -> str:
    """e.g. ๒๔ มิถุนายน ๒๕๖๒."""
    return digits(f"{day.day} {month_name(day.month)} {be_year(day.year)}", thai)


def short_date(day: date, thai: bool = True) -> str:
    """e.g. ๒๔ มิ.ย. ๖๒."""
    return digits(f"{day.day} {month_name(day.month, True)} {be_year(day.year) % 100:02d}", thai)


def clock(moment: time, thai: bool = True) -> str:
    """e.g. ๐๘.๓๐ (Thai documents separate hours and minutes with a dot)."""
    return digits(f"{moment.hour:02d}.{moment.minute:02d}", thai)


def time_range(starts: time, ends: time, thai: bool = True) -> str:
    """e.g. เวลา ๐๘.๓๐ - ๑๖.๓๐ น."""
    return f"เวลา {clock(starts, thai)} - {clock(ends, thai)} น."


def number(value: int | Decimal, thai: bool = True, places: int = 0) -> str:
    """Grouped by thousands, e.g. 12,345 or 1,234.50 with places=2."""
    return digits(f"{Decimal(value):,.{places}f}", thai)


def baht(value: Decimal, thai: bool = True) -> str:
    return number(value, thai, places=2)


def fiscal_year(day: date) -> int:
    """The Thai government fiscal year (BE) of `day`: October 2018 starts fiscal 2562."""
    return be_year(day.year + (1 if day.month >= 10 else 0))


def fiscal_quarter(day: date) -> int:
    """1 (Oct-Dec), 2 (Jan-Mar), 3 (Apr-Jun) or 4 (Jul-Sep)."""
    return (day.month - 10) % 12 // 3 + 1


def fiscal_quarter_months(fiscal_year_be: int, quarter: int) -> tuple[date, date]:
    """First days of the first and last month of a fiscal quarter."""
    year_ce = fiscal_year_be - BE_OFFSET - (1 if quarter == 1 else 0)
    first_month = (quarter * 3 + 6) % 12 + 1
    return date(year_ce, first_month, 1), date(year_ce, first_month + 2, 1)


def quarter_span(first_month: date, last_month: date, thai: bool = True) -> str:
    """The span of a plan as Thai documents write it, e.g. ไตรมาส ๓-๔ (มิ.ย.-ก.ย.๖๒)."""
    first_q, last_q = fiscal_quarter(first_month), fiscal_quarter(last_month)
    quarters = (
        f"{first_q}"
        if (first_q, fiscal_year(first_month)) == (last_q, fiscal_year(last_month))
        else f"{first_q}-{last_q}"
    )
    first_year = "" if first_month.year == last_month.year else f"{be_year(first_month.year) % 100:02d}"
    months = (
        f"{month_name(first_month.month, True)}{first_year}-{month_name(last_month.month, True)}"
        f"{be_year(last_month.year) % 100:02d}"
    )
    return digits(f"ไตรมาส {quarters} ({months})", thai)


def month_span(first_month: date, last_month: date, thai: bool = True) -> str:
    """e.g. มิถุนายน ๒๕๖๒ - กันยายน ๒๕๖๒."""
    first = month_year(first_month.year, first_month.month, thai)
    return f"{first} - {month_year(last_month.year, last_month.month, thai)}"


def province_name(province_code: str) -> str:
    """The province's Thai name from its DOPA code (72: สุพรรณบุรี); the code itself if unknown."""
    found = geothai.province(province_code)
    return found.name_th if found else province_code


def ordinal_list(items: list[str], thai: bool = True, style: str = "{n})") -> list[str]:
    """Items numbered as Thai reports number them: ๑) ... or (๑) ... with style "({n})"."""
    return [f"{digits(style.format(n=n), thai)} {item}" for n, item in enumerate(items, start=1)]
