"""The outcomes screens in Chromium, in Thai: the province officer's season (with the intended products never
invited, a to-do for the next plan) and a producer's own record on a phone, the department's national view,
and the report screen opening on the latest month that has market days."""

import re
from datetime import date

import pytest

from tests.web.conftest import DESKTOP, PHONE
from tests.web.seed import ok, until
from tests.web.stack import USERS
from tests.web.test_app import shot

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def test_the_officer_sees_the_season_and_a_producers_record(web, session, shots):
    for viewport in (PHONE, DESKTOP):
        s = session("officer", viewport)
        page = s.go("#/outcomes")
        page.get_by_role("heading", name=re.compile("^ผลลัพธ์ต่อผู้ผลิต")).wait_for()
        figures = page.get_by_test_id("outcome-figures")
        figures.wait_for()
        assert page.locator("main form select").first.input_value() == str(web.seeded["today"].year + 543)
        assert re.fullmatch(r"\d+\.\d\d%", page.get_by_test_id("intended-share").inner_text())
        assert "ไม่ได้มีกลุ่มเปรียบเทียบที่สุ่มไว้" in page.get_by_test_id("note").inner_text()
        todo = page.get_by_test_id("never-invited").locator("li")
        assert todo.count() > 0 and "ดาว" in todo.first.inner_text()  # 2 days' lineups of ~300 products
        # the list comes 100 at a time; the figure counts them all
        never = int(page.get_by_test_id("never-invited-count").inner_text().replace(",", ""))
        assert todo.count() == min(never, 100)
        if never > 100:
            page.get_by_test_id("more-never-invited").click()
            page.wait_for_function(
                "n => document.querySelectorAll('[data-testid=never-invited] li').length === n",
                arg=min(never, 200),
            )
        comparisons = page.get_by_test_id("comparisons").locator("section")
        assert comparisons.first.inner_text().startswith("ยอดขายต่อวันตลาด ทั้งฤดูกาล")
        assert "n=" in comparisons.first.inner_text()
        shot(s, shots, "outcomes")
        assert s.axe() == []
    link = page.get_by_test_id("producers").locator("tbody tr a").first
    name = link.inner_text()
    link.click()
    page.get_by_test_id("producer-name").filter(has_text=name).wait_for()
    figures = page.get_by_test_id("producer-figures").inner_text()
    assert "วันตลาดที่ได้รับเชิญ" in figures and "ยอดขายต่อวันตลาด" in figures
    shot(s, shots, "outcomes-producer")


def test_the_department_sees_the_national_outcomes(web, session, shots):
    s = session("department", DESKTOP)
    page = s.go("#/national-outcomes")
    row = page.get_by_test_id("national-outcomes").locator("tbody tr").filter(has_text="สุพรรณบุรี")
    row.wait_for()
    assert page.get_by_test_id("national-figures").inner_text().count("%") >= 1
    shot(s, shots, "national-outcomes")
    assert s.axe() == []
    row.get_by_role("link").click()
    page.get_by_test_id("outcome-figures").wait_for()
    assert page.locator("nav select").input_value() == "72"


def test_the_report_opens_on_the_latest_month_with_market_days(web, session, shots):
    """Province 73 (Nakhon Pathom) has one market day, in July 2562: its report opens there, not on this
    month (empty out of season)."""
    with web.client(USERS["department"]) as api:
        venue = ok(
            api.post(
                "/scheduling/provinces/73/venues",
                json={"name": "ตลาดประชารัฐ คนไทยยิ้มได้ นครปฐม", "kind": "pracharat_market"},
            )
        )["id"]
        ok(
            api.post(
                "/scheduling/provinces/73/market-days",
                json={"venue_id": venue, "day": date(2019, 7, 6).isoformat()},
            )
        )
        until(
            "monitoring knows 73's market day",
            lambda: ok(api.get("/monitoring/provinces/73/market-days/latest-month"))["month"] == 7,
        )
    s = session("department", PHONE)
    page = s.go("#/report?province=73")
    page.get_by_role("heading", level=2, name="เดือนกรกฎาคม 2562").wait_for()
    period = page.locator("main form select")  # kind, year, month
    assert (period.nth(1).input_value(), period.nth(2).input_value()) == ("2562", "7")
    shot(s, shots, "report-latest-month")
