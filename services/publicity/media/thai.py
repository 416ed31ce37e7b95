"""Thai wording of dates, times and prices on the printed and shared artefacts: Buddhist Era years, Thai
weekday and month names (shared.thai's), Arabic digits (what posters and news sites print). Pure."""

from datetime import date, time
from decimal import Decimal

from shared import thai


def month_year(year: int, month: int) -> str:
    """e.g. มิถุนายน 2562 for (2019, 6)."""
    return thai.month_year(year, month, thai=False)


def long_date(day: date) -> str:
    """e.g. วันเสาร์ที่ 15 มิถุนายน 2562."""
    return f"วัน{thai.weekday_name(day)}ที่ {day.day} {month_year(day.year, day.month)}"


UNANNOUNCED_HOURS = "เวลาแจ้งภายหลัง"


def hours(starts: time | None, ends: time | None) -> str:
    """e.g. เวลา 09.00–15.00 น. (Thai writes times with a dot); hours the officer has not set yet are said to
    be announced later, never invented."""
    if starts is None:
        return UNANNOUNCED_HOURS
    return f"เวลา {starts:%H.%M}{'' if ends is None else f'–{ends:%H.%M}'} น."


def price(amount: Decimal, unit: str) -> str:
    """e.g. 120 บาท / ขวด, 35.50 บาท / ชิ้น: satang shown only when there are some."""
    baht = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{baht} บาท / {unit}"


def province_title(name_th: str) -> str:
    """จังหวัดสุพรรณบุรี; Bangkok is not a จังหวัด."""
    return name_th if name_th.startswith("กรุงเทพ") else f"จังหวัด{name_th}"
