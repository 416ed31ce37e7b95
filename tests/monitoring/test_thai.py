"""Thai presentation: Buddhist Era, Thai digits, month names, fiscal quarters."""

from datetime import date, time
from decimal import Decimal

import pytest

from shared import thai, thailand


def test_digits_both_ways():
    assert thai.digits("24 มิถุนายน 2562 เวลา 08.30") == "๒๔ มิถุนายน ๒๕๖๒ เวลา ๐๘.๓๐"
    assert thai.digits("๒๐ ผลิตภัณฑ์/ตลาด", thai=False) == "20 ผลิตภัณฑ์/ตลาด"
    assert thai.digits("OTOP Mobile") == "OTOP Mobile"


def test_buddhist_era_years():
    assert thailand.be_year(2019) == 2562
    assert thailand.ce_year(2562) == 2019 and thailand.ce_year(2019) == 2019


def test_dates_and_times_as_thai_reports_write_them():
    day = date(2019, 6, 24)
    assert thai.long_date(day) == "๒๔ มิถุนายน ๒๕๖๒"
    assert thai.long_date(day, thai=False) == "24 มิถุนายน 2562"
    assert thai.short_date(day) == "๒๔ มิ.ย. ๖๒"
    assert thai.month_year(2019, 6) == "มิถุนายน ๒๕๖๒"
    assert thai.time_range(time(8, 30), time(16, 30)) == "เวลา ๐๘.๓๐ - ๑๖.๓๐ น."
    assert thai.month_span(date(2019, 6, 1), date(2019, 9, 1)) == "มิถุนายน ๒๕๖๒ - กันยายน ๒๕๖๒"


def test_weekday_names_monday_first():
    assert thai.weekday_name(date(2019, 6, 15)) == "เสาร์"  # a Saturday
    assert thai.weekday_name(date(2019, 6, 17)) == "จันทร์"
    assert thai.weekday_name(date(2019, 6, 16)) == "อาทิตย์"


def test_numbers_and_baht():
    assert thai.number(12345) == "๑๒,๓๔๕"
    assert thai.baht(Decimal("1234.5"), thai=False) == "1,234.50"


@pytest.mark.parametrize(
    ("day", "fiscal_year", "quarter"),
    [
        (date(2018, 10, 1), 2562, 1),
        (date(2018, 12, 31), 2562, 1),
        (date(2019, 1, 1), 2562, 2),
        (date(2019, 6, 30), 2562, 3),
        (date(2019, 7, 1), 2562, 4),
        (date(2019, 9, 30), 2562, 4),
        (date(2019, 10, 1), 2563, 1),
    ],
)
def test_thai_fiscal_year_runs_october_to_september(day, fiscal_year, quarter):
    assert (thai.fiscal_year(day), thai.fiscal_quarter(day)) == (fiscal_year, quarter)
    first, last = thai.fiscal_quarter_months(fiscal_year, quarter)
    assert first <= day.replace(day=1) <= last and (last.month - first.month) % 12 == 2


def test_plan_span_as_the_seed_writes_it():
    assert thai.quarter_span(date(2019, 6, 1), date(2019, 9, 1)) == "ไตรมาส ๓-๔ (มิ.ย.-ก.ย.๖๒)"
    assert thai.quarter_span(date(2019, 7, 1), date(2019, 8, 1), thai=False) == "ไตรมาส 4 (ก.ค.-ส.ค.62)"
    assert thai.quarter_span(date(2019, 12, 1), date(2020, 1, 1), thai=False) == "ไตรมาส 1-2 (ธ.ค.62-ม.ค.63)"


def test_province_names_from_dopa_codes():
    assert thai.province_name("72") == "สุพรรณบุรี"
    assert thai.province_name("10") == "กรุงเทพมหานคร"
    assert thai.province_name("99") == "99"


def test_ordinal_lists():
    assert thai.ordinal_list(["ก", "ข"], style="({n})") == ["(๑) ก", "(๒) ข"]
    assert thai.ordinal_list(["ก"], thai=False) == ["1) ก"]
