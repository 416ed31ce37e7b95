"""The public pages (/p/, the publicity service behind the gateway and its 10 s cache) in Debian's Chromium at
phone size, as a buyer uses them: the province's next market first, a market day's lineup, a producer, the
English toggle, the Thai 404 page; a cancellation reaching the public page within seconds; no producer's
phone (none agreed) on any page. Screenshots of each page go to $OTOP_SCREENSHOT_DIR (docs/publicity/)."""

import time
from datetime import timedelta

import httpx
import pytest

from deploy.local.demo_data import demo_province
from tests.publicity.support import Crawled
from tests.web.conftest import DESKTOP
from tests.web.seed import P, ok, until
from tests.web.stack import USERS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]  # the first test waits for the stack
BUYER = {"width": 390, "height": 844}
CRAWLERS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
)


def shot(session, shots, name: str) -> None:
    width = session.page.viewport_size["width"]
    session.page.screenshot(
        path=shots / f"public-{name}-{'phone' if width < 500 else 'desktop'}.png", full_page=True
    )


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_buyer_finds_the_next_market_and_what_is_sold_there(web, session, shots):
    today_id = web.seeded["days"]["today"]
    public = httpx.Client(base_url=web.url, timeout=30)
    # The publicity service learns the seeded days and lineup from Kafka.
    until(
        "the lineup on the public page",
        lambda: public.get(f"/p/72/days/{today_id}").text.count('class="product"') >= 20,
    )

    # A search engine's and a share preview's first response through the gateway (they run no script).
    for agent in CRAWLERS:
        for path in ("/p/72", f"/p/72/days/{today_id}"):
            first = public.get(path, headers={"User-Agent": agent})
            assert first.status_code == 200, (agent, path)
            crawled = Crawled(first.text)
            assert crawled.canonical == crawled.meta["og:url"] == web.url + path
            assert crawled.title and crawled.meta["og:title"] == crawled.title
            assert (
                crawled.meta["description"] and crawled.meta["og:description"] == crawled.meta["description"]
            )
            image = public.get(crawled.meta["og:image"], headers={"User-Agent": agent})  # absolute
            assert image.status_code == 200 and image.headers["content-type"] == "image/png", path
    [event] = crawled.json_ld
    assert event["@type"] == "Event" and event["eventStatus"] == "https://schema.org/EventScheduled"
    assert event["startDate"].startswith(web.seeded["today"].isoformat())
    assert event["location"]["@type"] == "Place" and event["location"]["address"]["addressRegion"]

    buyer = session(None, BUYER)
    page = buyer.page
    page.goto(f"{web.url}/p/72")
    assert page.locator("h1").inner_text() == "OTOP เคลื่อนที่ จังหวัดสุพรรณบุรี"
    next_market = page.locator("section.next")
    assert next_market.locator("h2").inner_text() == "ตลาดครั้งถัดไป"
    assert str(web.seeded["today"].year + 543) in next_market.locator(".date").inner_text()  # Buddhist Era
    assert next_market.is_visible() and next_market.bounding_box()["y"] < 400  # first thing on a phone
    assert (
        page.locator("a", has_text="ดูแผนที่")
        .first.get_attribute("href")
        .startswith("https://www.google.com/maps")
    )
    assert fits_the_screen(page)
    shot(buyer, shots, "province")

    next_market.locator("a.primary").click()
    page.wait_for_url(f"**/p/72/days/{today_id}")
    products = page.locator("li.product")
    assert products.count() >= 20
    first = products.first
    assert "บาท /" in first.locator(".price").inner_text() and "★" in first.locator(".stars").inner_text()
    assert fits_the_screen(page)
    shot(buyer, shots, "market-day")

    first.locator(".maker a").click()
    page.wait_for_url("**/p/72/producers/*")
    assert page.locator("h2#products").is_visible() and page.locator("li.product").count() >= 1
    phones = {p.row["phone"] for p in demo_province().products if p.row.get("phone")}
    assert phones
    body = page.content()
    assert not [phone for phone in phones if phone in body]  # no producer agreed to show one
    shot(buyer, shots, "producer")

    page.locator("a.lang").click()
    assert page.locator("html").get_attribute("lang") == "en" and page.locator(
        "h2#products"
    ).inner_text().startswith("Products")
    assert buyer.errors == [], buyer.errors
    page.goto(f"{web.url}/p/72/days/00000000-0000-0000-0000-000000000000")
    assert page.locator("h1").inner_text() == "ไม่พบหน้าที่ต้องการ"
    shot(buyer, shots, "not-found")
    assert buyer.errors == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]

    desktop = session(None, DESKTOP)
    desktop.page.goto(f"{web.url}/p/72/days/{today_id}")
    shot(desktop, shots, "market-day")


def test_a_cancelled_market_shows_as_cancelled_within_seconds(web, session, shots):
    today = web.seeded["today"]
    public = httpx.Client(base_url=web.url, timeout=30)
    with web.client(USERS["officer"]) as api:
        venue = ok(api.get(f"/scheduling{P}/venues"))[1]["id"]
        day_id = ok(
            api.post(
                f"/scheduling{P}/market-days",
                json={
                    "venue_id": venue,
                    "day": (today + timedelta(days=21)).isoformat(),
                    "starts_at": "09:00",
                    "ends_at": "15:00",
                },
            )
        )["id"]
        until("the new day on the public page", lambda: public.get(f"/p/72/days/{day_id}").status_code == 200)
        assert "ยกเลิกการจัดตลาดครั้งนี้" not in public.get(f"/p/72/days/{day_id}").text
        cancelled_at = time.monotonic()
        ok(api.post(f"/scheduling{P}/market-days/{day_id}/cancel", json={"reason": "ผู้ว่าฯ ติดราชการ"}))
    until(
        "cancelled on the public page",
        lambda: "ยกเลิกการจัดตลาดครั้งนี้" in public.get(f"/p/72/days/{day_id}").text,
        timeout=30,
    )
    seconds = time.monotonic() - cancelled_at
    assert seconds < 20, seconds  # the gateway keeps a page 10 s at most; the event arrives in about a second
    [event] = Crawled(public.get(f"/p/72/days/{day_id}", headers={"User-Agent": CRAWLERS[0]}).text).json_ld
    assert event["eventStatus"] == "https://schema.org/EventCancelled"
    buyer = session(None, BUYER)
    buyer.page.goto(f"{web.url}/p/72/days/{day_id}")
    assert buyer.page.locator(".notice.cancelled").inner_text() == "ยกเลิกการจัดตลาดครั้งนี้"
    assert "ผู้ว่าฯ" not in buyer.page.content()  # the officer's reason stays inside
    shot(buyer, shots, "cancelled")
    buyer.page.goto(f"{web.url}/p/72")
    assert buyer.page.locator(f"li.day.cancelled a[href='/p/72/days/{day_id}']").count() == 1
