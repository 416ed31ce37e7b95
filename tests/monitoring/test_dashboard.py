"""The monitoring dashboard in a real headless browser (Debian's chromium and chromedriver, driven by
Selenium): the service runs for real over HTTP against Kafka and PostgreSQL, June 2562 in Suphanburi is
entered as production gets it (the seed's records over HTTP, the other services' events on Kafka), and the
test reads what the page shows: figures, chart bars, the report's Thai section titles, the errors.

Screenshots go to $OTOP_SCREENSHOT_DIR (else the test's tmp_path)."""

import asyncio
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from deploy.local.demo_data import demo_province
from services.monitoring.main import spec
from shared.contracts.registry import ProducerRegistered, ProductRegistered
from shared.contracts.sales import SaleRecorded
from shared.contracts.scheduling import (
    AttendanceRecorded,
    MarketDayCancelled,
    MarketDayHeld,
    MarketDayScheduled,
    VenueRegistered,
)
from tests.conftest import bearer, forged, serving_over_http, token_of
from tests.monitoring.support import DEPARTMENT, OFFICER, publish, report_shows, skip_earlier_events
from tests.monitoring.test_golden_report import PLAN, PROBLEMS, enter_the_seed

pytestmark = pytest.mark.integration
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"  # Debian's (scripts/setup.sh)

NEW, OLD = uuid4(), uuid4()
PRODUCTS = [ProductRegistered(product_id=uuid4(), revision=1, producer_id=NEW if i % 3 else OLD, star_level=2,
                              quadrant="D", nawatwithi=False, **{k: p[k] for k in ("name", "category", "unit")},
                              price_thb=Decimal(p["price_thb"]))
            for i, p in enumerate(product.row for product in demo_province().products[:24])]
MARKET = VenueRegistered(venue_id=uuid4(), name="ตลาดประชารัฐ คนไทยยิ้มได้ สุพรรณบุรี", kind="pracharat_market")
TOURIST = VenueRegistered(venue_id=uuid4(), name="ตลาดสามชุก ๑๐๐ ปี", kind="tourist_spot")
# June 2562: two market days held (21 products, then 12), one past its day without a record, one cancelled.
DAYS = [(date(2019, 6, 8), MARKET, MarketDayHeld, "held", PRODUCTS[0:21]),
        (date(2019, 6, 15), TOURIST, MarketDayHeld, "held", PRODUCTS[8:20]),
        (date(2019, 6, 22), MARKET, MarketDayScheduled, "scheduled", None),
        (date(2019, 6, 29), TOURIST, MarketDayCancelled, "cancelled", None)]
MARKET_DAYS = [cls(market_day_id=uuid4(), revision=1, plan_id=PLAN.plan_id, venue_id=venue.venue_id,
                   venue_name=venue.name, venue_kind=venue.kind, day=day, status=status)
               for day, venue, cls, status, _ in DAYS]
SOLD = {0: [(PRODUCTS[i], q) for i, q in ((0, 3), (1, 2), (2, 5), (3, 1), (4, 4), (5, 2))],
        1: [(PRODUCTS[i], q) for i, q in ((8, 6), (9, 1), (10, 2))]}


def sale(market_day, product, quantity: int, province: str = "72") -> SaleRecorded:
    return SaleRecorded(sale_id=uuid4(), revision=1, market_day_id=market_day.market_day_id,
                        product_id=product.product_id, producer_id=product.producer_id, quantity=Decimal(quantity),
                        unit_price_thb=product.price_thb, amount_thb=quantity * product.price_thb,
                        sold_at=datetime(2019, 6, 8, 4, tzinfo=UTC), channel="officer")


def baht(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def expected_amounts() -> list[Decimal]:
    """Sales per market day, in the order of the days."""
    return [sum((q * p.price_thb for p, q in SOLD.get(i, [])), Decimal("0.00")) for i in range(len(DAYS))]


async def enter_june(http, kafka) -> None:
    await enter_the_seed(http, kafka)
    await publish(kafka,
                  *(ProducerRegistered(producer_id=p, revision=1, name=f"กลุ่มวิสาหกิจชุมชน {n}",
                                       producer_type="community_group", experienced=p == OLD)
                    for n, p in enumerate((NEW, OLD), start=1)),
                  *PRODUCTS, MARKET, TOURIST, *MARKET_DAYS,
                  *(AttendanceRecorded(market_day_id=md.market_day_id, revision=1,
                                       product_ids=[p.product_id for p in shown],
                                       producer_ids=sorted({p.producer_id for p in shown}))
                    for md, (*_, shown) in zip(MARKET_DAYS, DAYS) if shown),
                  *(sale(MARKET_DAYS[i], product, q) for i, sold in SOLD.items() for product, q in sold))
    # Another province, for the department's national roll-up.
    bangkok = MarketDayHeld(market_day_id=uuid4(), revision=1, venue_id=uuid4(), venue_name="ตลาดประชารัฐ กรุงเทพฯ",
                            venue_kind="pracharat_market", day=date(2019, 6, 9), status="held")
    await publish(kafka, bangkok, sale(bangkok, PRODUCTS[0], 10), province="10")
    # A committee member's evaluation of the first market day, entered by an officer (late: it is long past due).
    [committee] = (await http.get("/provinces/72/committees", headers=OFFICER)).json()
    evaluation = await http.post("/provinces/72/evaluations", headers=OFFICER, json={
        "market_day_id": str(MARKET_DAYS[0].market_day_id), "member_id": committee["members"][0]["id"],
        "producers_attending": 2, "products_shown": 21, "customers_estimate": 300, "sales_observed_thb": "500",
        "scores": {"display": 4, "variety": 4, "customer_interest": 3, "organisation": 4}, "overall_score": 4})
    assert evaluation.status_code == 201, evaluation.text


def settled(report: dict) -> bool:
    s = report["results"]["summary"]
    return (s["sales"] == sum(len(sold) for sold in SOLD.values()) and s["products_taking_part"] == 21
            and s["market_days_held"] == 2 and s["market_days_cancelled"] == 1 and s["evaluations_late"] == 1
            and s["producers_taking_part"] == 2 and len(report["issues"]["problems"]) == 3)


def chrome() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--lang=th-TH"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})  # script errors, CSP violations
    # A driver path given: Selenium Manager stays out of it (it would download one).
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def state(driver) -> str:
    """loading, ready (everything drawn) or error (a message shown)."""
    return driver.find_element(By.TAG_NAME, "body").get_attribute("data-state")


def open_dashboard(driver, base_url: str, fragment: str) -> str:
    driver.get("about:blank")  # a new document: only a fragment changing would not reload the page
    driver.get(f"{base_url}/dashboard#{fragment}")
    return WebDriverWait(driver, 20).until(lambda d: state(d) if state(d) in ("ready", "error") else None)


def texts(driver, selector: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def values(driver, selector: str) -> list[Decimal]:
    return [Decimal(e.get_attribute("data-value")) for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def figure(driver, key: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f'[data-figure="{key}"] .value').text


def screenshot(driver, path: Path) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, height)
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)



def check_in_browser(driver, base_url: str, screenshots: Path) -> None:
    # The province officer's link, as the local stack prints it.
    assert open_dashboard(driver, base_url, f"province=72&year=2562&month=6&token={token_of(OFFICER)}") == "ready"
    assert driver.get_log("browser") == []
    assert "token" not in driver.execute_script("return location.hash")  # kept out of history
    amounts = expected_amounts()
    assert figure(driver, "sales") == baht(sum(amounts))
    assert figure(driver, "market-days") == "2 / 4"
    assert figure(driver, "products") == "16.50"  # (21 + 12) / 2, against the target of 20
    assert figure(driver, "evaluations") == "1 / 3"
    assert "เลยกำหนด 2" in driver.find_element(By.CSS_SELECTOR, '[data-figure="evaluations"] .detail').text

    assert values(driver, "#chart-market-days rect.bar") == amounts
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chart-market-days rect.bar.cancelled")) == 1
    sold = [p for day in SOLD.values() for p, _ in day]
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chart-categories rect.bar")) == len(
        {p.category for p in sold})
    best = sorted((q * p.price_thb for day in SOLD.values() for p, q in day), reverse=True)[:5]
    assert values(driver, "#chart-best-sellers rect.bar") == best
    assert len(texts(driver, "#non-selling li")) == 21 - len(sold)
    assert values(driver, "#chart-plan rect.bar") == [4, 3, 2, 1]  # planned, scheduled, held, cancelled
    assert values(driver, "#chart-products rect.bar") == [21, 12]
    assert [e.get_attribute("class") for e in driver.find_elements(By.CSS_SELECTOR, "#chart-products rect.bar")
            ] == ["bar met", "bar short"]
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chart-products line.target")) == 1
    assert {e.get_attribute("class").split()[-1]: e.get_attribute("data-value") for e in
            driver.find_elements(By.CSS_SELECTOR, "#chart-evaluations rect.segment")} == {"late": "1", "missing": "2"}
    states = [e.get_attribute("data-state") for e in
              driver.find_elements(By.CSS_SELECTOR, "#evaluation-table tbody tr")]
    assert states == ["late", "missing", "missing", "not_expected"]
    assert texts(driver, "#evaluation-table tbody tr td:first-child")[0] == "8 มิ.ย. 2562"  # Buddhist Era

    titles = texts(driver, "#report h4")
    assert titles[:2] == ["เดือนมิถุนายน ๒๕๖๒", "๑ ผลความก้าวหน้าในการดำเนินงาน OTOP Mobile"]
    assert "๒ แผนการดำเนินงานตามโครงการไตรมาส ๓ - ๔ (มิถุนายน ๒๕๖๒ - กันยายน ๒๕๖๒)" in titles
    assert titles[-1] == "๓ ปัญหา / อุปสรรค / ข้อเสนอแนะ"
    assert texts(driver, "#report ol li")[:3] == [f"{n}) {text}" for n, (_, text) in zip("๑๒๓", PROBLEMS)]
    assert not driver.find_element(By.ID, "province-control").is_displayed()
    assert driver.find_element(By.ID, "heading").text.startswith("จังหวัดสุพรรณบุรี (72) · เดือนมิถุนายน ๒๕๖๒")
    screenshot(driver, screenshots / "dashboard-officer.png")
    driver.find_element(By.ID, "english").click()  # Thai only
    assert not any(e.is_displayed() for e in driver.find_elements(By.CSS_SELECTOR, ".en"))
    driver.find_element(By.ID, "english").click()

    # A token of another province, and a token not signed by the service: a clear message, no data.
    other = bearer("province_officer", "10")
    assert open_dashboard(driver, base_url, f"province=72&year=2562&month=6&token={token_of(other)}") == "error"
    message = driver.find_element(By.ID, "message").text
    assert "ไม่มีสิทธิ์ดูข้อมูลนี้ (403)" in message and "no access to this province" in message
    assert driver.find_element(By.ID, "heading").text == "จังหวัด 72 · มิถุนายน 2562"
    assert not driver.find_element(By.ID, "province-view").is_displayed()
    screenshot(driver, screenshots / "dashboard-forbidden.png")
    signed_elsewhere = forged(OFFICER)  # the officer's claims, signed with a key Keycloak never issued
    assert open_dashboard(driver, base_url, f"province=72&year=2562&month=6&token={token_of(signed_elsewhere)}") == "error"
    assert "โทเค็นไม่ถูกต้องหรือหมดอายุ (401)" in driver.find_element(By.ID, "message").text
    driver.execute_script("sessionStorage.clear()")
    assert open_dashboard(driver, base_url, "province=72&year=2562&month=6") == "error"
    assert "ไม่พบโทเค็นสำหรับเข้าใช้งาน" in driver.find_element(By.ID, "message").text

    # The department: the national roll-up, then a province chosen from it.
    assert open_dashboard(driver, base_url, f"year=2562&month=6&token={token_of(DEPARTMENT)}") == "ready"
    assert not driver.find_element(By.ID, "province-view").is_displayed()
    rows = driver.find_elements(By.CSS_SELECTOR, "#national-table tbody tr")
    assert [row.get_attribute("data-province") for row in rows] == ["10", "72"]
    assert values(driver, "#chart-national rect.bar") == [10 * PRODUCTS[0].price_thb, sum(amounts)]
    Select(driver.find_element(By.ID, "province")).select_by_value("72")
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "province-view").is_displayed()
                                    and state(d) == "ready")
    assert figure(driver, "sales") == baht(sum(amounts))
    assert driver.find_element(By.ID, "national-view").is_displayed()
    screenshot(driver, screenshots / "dashboard-department.png")
    # The fiscal quarter holding June (Q3 2562, April-June): the same market days, evaluations of three months.
    Select(driver.find_element(By.ID, "period")).select_by_value("quarter-3")
    WebDriverWait(driver, 20).until(lambda d: "ไตรมาส ๓ ปีงบประมาณ ๒๕๖๒" in d.find_element(By.ID, "heading").text
                                    and state(d) == "ready")
    assert (figure(driver, "sales"), figure(driver, "evaluations")) == (baht(sum(amounts)), "1 / 3")
    assert values(driver, "#chart-national rect.bar") == [10 * PRODUCTS[0].price_thb, sum(amounts)]


def check_service_gone(driver) -> None:
    """Another month chosen once the service has stopped: the page says it cannot reach it."""
    Select(driver.find_element(By.ID, "period")).select_by_value("month-7")
    WebDriverWait(driver, 20).until(lambda d: state(d) == "error")
    assert "month=7" in driver.execute_script("return location.hash")
    assert "ติดต่อบริการติดตามผลไม่ได้" in driver.find_element(By.ID, "message").text


async def test_the_dashboard_shows_june_2562_in_a_browser(database_url, kafka, tmp_path):
    screenshots = Path(os.environ.get("OTOP_SCREENSHOT_DIR") or tmp_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    await skip_earlier_events(kafka)
    driver = await asyncio.to_thread(chrome)
    try:
        async with serving_over_http(spec, database_url, kafka) as http:
            page = await http.get("/dashboard")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "script-src 'self'" in page.headers["content-security-policy"]
            await enter_june(http, kafka)
            await report_shows(http, "/provinces/72/reports/2562/6", settled)
            await report_shows(http, "/national/reports/2562/6", lambda r: len(r["provinces"]) == 2,
                               headers=DEPARTMENT)
            await asyncio.to_thread(check_in_browser, driver, str(http.base_url).rstrip("/"), screenshots)
        await asyncio.to_thread(check_service_gone, driver)
    finally:
        await asyncio.to_thread(driver.quit)
