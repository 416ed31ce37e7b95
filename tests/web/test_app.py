"""The officers' web application in Debian's Chromium (Playwright), against the real system behind the nginx
gateway: Keycloak's login page, the four services over Kafka and PostgreSQL. Each role's main flow, the
offline
sales queue, a producer's decline through the signed link, tenancy, the import, accessibility (axe-core),
the budgets, and a screenshot of each main screen on a phone (360 px) and a desktop."""

import csv
import gzip
import io
import re
import time
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest

from deploy.local.demo_data import demo_province
from tests.registry.support import phone_photo
from tests.web.conftest import DESKTOP, PHONE
from tests.web.seed import P, ok, until
from tests.web.stack import USERS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]  # the first test waits for the stack


def report_totals(web, month_of) -> tuple[int, Decimal]:
    with web.client(USERS["officer"]) as api:
        summary = ok(api.get(f"/monitoring{P}/reports/{month_of.year}/{month_of.month}"))["results"][
            "summary"
        ]
    return summary["sales"], Decimal(summary["sales_thb"])


def shot(session, shots, name: str) -> None:
    width = session.page.viewport_size["width"]
    session.page.screenshot(
        path=shots / f"{name}-{'phone' if width < 500 else 'desktop'}.png", full_page=True
    )


# --- the officer at the market: sales capture, offline


QUEUE_JS = """async (put) => {
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open('otop-sales-queue'); r.onsuccess = () => ok(r.result); r.onerror = no;
  });
  const store = db.transaction('sales', 'readwrite').objectStore('sales');
  if (put) {
    for (const sale of put) store.put(sale);
    await new Promise((ok) => (store.transaction.oncomplete = ok));
    return put.length;
  }
  return await new Promise((ok) => { const r = store.getAll(); r.onsuccess = () => ok(r.result); });
}"""


def test_offline_sales_are_kept_through_a_reload_and_count_once_each(web, session, shots):
    today, day_id = web.seeded["today"], web.seeded["days"]["today"]
    sales_before, amount_before = report_totals(web, today)
    s = session("officer")
    page = s.go(f"#/sales/{day_id}")
    buttons = page.locator(".products button")
    buttons.first.wait_for()
    page.wait_for_function("navigator.serviceWorker.controller !== null")  # the app's files are kept

    s.context.set_offline(True)
    expected = Decimal(0)
    for n in range(50):
        buttons.nth(n % buttons.count()).click()
        quantity = n % 3 + 1
        page.get_by_label("จำนวน", exact=True).fill(str(quantity))
        expected += quantity * Decimal(page.get_by_label("ราคาต่อหน่วย (บาท)").input_value())
        page.get_by_role("button", name="บันทึก", exact=True).click()
        page.get_by_role("heading", name=f"รอส่ง ({n + 1})").wait_for()  # kept on the device before the next
    page.get_by_role("heading", name="รอส่ง (50)").wait_for()
    shot(s, shots, "sales-offline")

    page.reload()  # still offline: the service worker serves the app, IndexedDB still holds the queue
    page.get_by_role("heading", name="รอส่ง (50)").wait_for()
    assert page.get_by_text("ออฟไลน์").first.is_visible()
    queued = page.evaluate(QUEUE_JS, None)
    assert len(queued) == 50 and len({q["client_sale_id"] for q in queued}) == 50

    s.context.set_offline(False)  # back online: the queue is sent
    page.get_by_role("heading", name="รอส่ง (0)").wait_for(timeout=60_000)
    assert page.evaluate(QUEUE_JS, None) == []
    page.evaluate(QUEUE_JS, queued)  # the same queue again, as if the answer had been lost: it counts once
    page.reload()
    page.get_by_role("heading", name="รอส่ง (0)").wait_for(timeout=60_000)

    with web.client(USERS["officer"]) as api:
        day = until(
            "the sales service's totals",
            lambda: next(
                (
                    i
                    for i in ok(api.get(f"/sales{P}/sales/totals", params={"by": "market_day"}))["items"]
                    if i["key"] == day_id
                ),
                None,
            ),
        )
        assert (day["sales"], Decimal(day["amount_thb"])) == (50, expected)
    until(
        "the report counts the 50 sales",
        lambda: report_totals(web, today) == (sales_before + 50, amount_before + expected),
        90,
    )
    time.sleep(2)  # and no more arrive later
    assert report_totals(web, today) == (sales_before + 50, amount_before + expected)
    page.get_by_test_id("day-total").filter(has_text=f"฿{expected:,.2f}").wait_for()


def test_a_sale_queued_by_another_officer_waits_for_its_owner(web, session, shots):
    """Issue 21: on a shared phone, the sales another officer queued are not sent under the name of the one
    logged in now; they wait for their owner. The officer's own sale goes at once."""
    day_id = web.seeded["days"]["today"]
    s = session("officer")
    page = s.go(f"#/sales/{day_id}")
    page.locator(".products button").first.wait_for()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    s.context.set_offline(True)
    page.locator(".products button").first.click()
    page.get_by_label("จำนวน", exact=True).fill("1")
    page.get_by_role("button", name="บันทึก", exact=True).click()
    page.get_by_role("heading", name="รอส่ง (1)").wait_for()
    [mine] = page.evaluate(QUEUE_JS, None)
    assert mine["owner"]  # the subject of the officer logged in
    theirs = {**mine, "client_sale_id": str(uuid4()), "owner": "another-officer-subject"}
    page.evaluate(QUEUE_JS, [theirs])
    page.reload()
    page.get_by_role("heading", name="รอส่ง (2)").wait_for()
    waiting = page.get_by_test_id("queued-sale").filter(has_text="รอเจ้าหน้าที่ผู้บันทึกเข้าสู่ระบบ")
    assert waiting.count() == 1  # the other officer's sale says whom it waits for
    shot(s, shots, "sales-queue-two-officers")

    s.context.set_offline(False)  # back online: only the officer's own sale is sent
    page.get_by_role("heading", name="รอส่ง (1)").wait_for(timeout=60_000)
    time.sleep(3)  # a flush more, and it is still there
    page.get_by_role("button", name="ส่งตอนนี้").click()
    time.sleep(2)
    assert [q["client_sale_id"] for q in page.evaluate(QUEUE_JS, None)] == [theirs["client_sale_id"]]
    assert page.get_by_test_id("queued-sale").filter(has_text="รอเจ้าหน้าที่ผู้บันทึกเข้าสู่ระบบ").count() == 1
    page.set_viewport_size(DESKTOP)
    shot(s, shots, "sales-queue-two-officers")


def test_a_sale_refused_for_good_stays_on_the_device_with_its_reason(web, session):
    """Recorded offline for a market day that is cancelled meanwhile: back online, the sales service refuses
    it,
    and the screen says so (the sale stays on the device, marked, until removed)."""
    with web.client(USERS["officer"]) as api:
        venue = ok(api.get(f"/scheduling{P}/venues"))[0]["id"]
        day = ok(
            api.post(
                f"/scheduling{P}/market-days",
                json={
                    "venue_id": venue,
                    "day": web.seeded["today"].isoformat(),
                    "starts_at": "17:00",
                    "ends_at": "20:00",
                },
            )
        )["id"]
        ok(api.post(f"/scheduling{P}/market-days/{day}/lineup/fill"))
    s = session("officer")
    page = s.go(f"#/sales/{day}")
    page.locator(".products button").first.wait_for()  # the lineup and prices are kept on the device
    s.context.set_offline(True)
    page.locator(".products button").first.click()
    page.get_by_role("button", name="บันทึก", exact=True).click()
    page.get_by_role("heading", name="รอส่ง (1)").wait_for()
    with web.client(USERS["officer"]) as api:
        ok(api.post(f"/scheduling{P}/market-days/{day}/cancel", json={"reason": "พายุฝนฟ้าคะนอง"}))
        sale = {
            "product_id": str(uuid4()),
            "market_day_id": day,
            "quantity": "1",
        }  # refused either way: no side effect
        until(
            "the sales service knows the cancellation",
            lambda: [
                e
                for e in api.post(f"/sales{P}/sales", json=sale).json().get("detail", [])
                if e.get("type") == "market_day_cancelled"
            ],
        )
    s.context.set_offline(False)
    refused = page.get_by_test_id("queued-sale").filter(has_text="ถูกปฏิเสธ")
    refused.wait_for(timeout=60_000)
    assert "วันตลาดนี้ถูกยกเลิกแล้ว" in refused.inner_text()
    page.get_by_role("heading", name="รอส่ง (0)").wait_for()
    refused.get_by_role("button", name="ลบ").click()
    refused.wait_for(state="detached")


def test_a_sale_is_corrected_and_another_voided(web, session):
    s = session("officer", DESKTOP)
    page = s.go(f"#/sales/{web.seeded['days']['past']}")
    rows = (
        page.get_by_role("table", name="ยอดขายที่บันทึกแล้ว")
        .locator("tbody tr")
        .filter(has=page.get_by_role("button", name="แก้ไข"))
    )
    rows.first.wait_for()

    def total():
        return Decimal(re.sub(r"[^\d.]", "", page.get_by_test_id("day-total").inner_text()))

    before = total()
    first_price = Decimal(re.sub(r"[^\d.]", "", rows.nth(0).locator("td").nth(2).inner_text()))
    first_amount = Decimal(re.sub(r"[^\d.]", "", rows.nth(0).locator("td").nth(3).inner_text()))
    rows.nth(0).get_by_role("button", name="แก้ไข").click()
    page.get_by_label("จำนวนใหม่").fill("5")
    page.get_by_role("button", name="ยืนยัน").click()
    page.get_by_role("alert").filter(has_text="ข้อมูลยังไม่ถูกต้อง").wait_for()  # no reason given: refused
    assert page.get_by_label("จำนวนใหม่").input_value() == "5"  # what was typed stays
    page.get_by_label("เหตุผล").fill("นับจำนวนผิด")
    page.get_by_role("button", name="ยืนยัน").click()
    page.get_by_text("แก้ไขรายการขายแล้ว").wait_for()
    voided_amount = Decimal(re.sub(r"[^\d.]", "", rows.nth(1).locator("td").nth(3).inner_text()))
    rows.nth(1).get_by_role("button", name="ยกเลิก").click()
    page.get_by_label("เหตุผล").fill("ลูกค้าคืนสินค้า")
    page.get_by_role("button", name="ยืนยัน").click()
    page.get_by_text("ยกเลิกรายการขายแล้ว").wait_for()
    expected = before - first_amount + 5 * first_price - voided_amount
    page.get_by_test_id("day-total").filter(has_text=f"฿{expected:,.2f}").wait_for()
    assert total() == expected


# --- the province officer: the lineup, a producer's decline through the link


def test_a_producer_declines_through_the_link_and_the_lineup_is_back_at_20(web, session, shots):
    s = session("officer", DESKTOP)
    page = s.go(f"#/market-days/{web.seeded['days']['future']}")
    page.get_by_test_id("in-lineup").filter(has_text="0 / 20").wait_for()
    shot(s, shots, "market-day-proposal")
    page.get_by_role("button", name="เชิญตามที่แนะนำ (20)").click()
    page.get_by_test_id("in-lineup").filter(has_text="20 / 20").wait_for()
    assert page.get_by_test_id("shortfall").inner_text() == "0"
    declining = page.get_by_test_id("lineup").locator("tbody tr").nth(3)
    product = declining.locator("td").first.inner_text()
    declining.get_by_role("link", name="ใบเชิญ/ลิงก์").click()
    page.get_by_test_id("qr").locator("svg").wait_for()
    link = page.get_by_test_id("link").get_attribute("href")
    assert link.startswith(f"{web.url}/#/i/") and product in page.get_by_test_id("slip").inner_text()
    shot(s, shots, "invitation-slip")

    producer = session(None, PHONE)  # the producer's phone: no login, the link is enough
    phone = producer.page
    phone.goto(link)
    phone.get_by_text(product).first.wait_for()
    shot(producer, shots, "producer-invitation")
    phone.get_by_role("button", name="แจ้งไม่เข้าร่วม").click()
    phone.get_by_text("กรุณาเลือกเหตุผล").wait_for()  # no reason chosen: said beside the field
    phone.locator("select[name=reason]").select_option("no_raw_material")
    phone.get_by_label("รายละเอียดเพิ่มเติม").fill("วัตถุดิบหมดช่วงนี้")
    phone.get_by_role("button", name="แจ้งไม่เข้าร่วม").click()
    phone.get_by_text("บันทึกการปฏิเสธแล้ว").wait_for()
    assert "ปฏิเสธ" in phone.locator(".status").inner_text()

    page.go_back()
    page.reload()
    row = page.get_by_test_id("lineup").locator("tr[data-status=declined]")
    row.wait_for()
    assert (
        product in row.inner_text() and "ขาดวัตถุดิบ" in row.inner_text() and "วัตถุดิบหมดช่วงนี้" in row.inner_text()
    )
    page.get_by_test_id("in-lineup").filter(has_text="19 / 20").wait_for()
    assert page.get_by_test_id("shortfall").inner_text() == "1"
    replacement = page.get_by_test_id("proposal").locator("tbody tr").filter(has_text="แนะนำให้เชิญ")
    assert replacement.count() == 1
    replacement_name = replacement.locator("td").nth(1).inner_text().split("\n")[0]
    shot(s, shots, "market-day-declined")
    page.get_by_role("button", name="เชิญตามที่แนะนำ (1)").click()
    page.get_by_test_id("in-lineup").filter(has_text="20 / 20").wait_for()
    invited = page.get_by_test_id("lineup").locator("tr[data-status=sent]").filter(has_text=replacement_name)
    assert invited.count() == 1


def test_an_officer_revokes_a_link_and_answers_close_the_evening_before(web, session, shots):
    """Issue 21: the slip says until when the link takes answers; revoking it shows a new link, and the old
    one is refused in Thai on the producer's phone. A market day whose answers closed (today's) shows the
    invitation and no answer buttons."""
    days = web.seeded["days"]
    # A market day of its own (+22 days; test_public's is +21): the others' lineups stay as they are.
    with web.client(USERS["officer"]) as api:
        [today, *_] = ok(api.get(f"/scheduling{P}/market-days/{days['today']}/lineup"))["invitations"]
        venue_id = ok(api.get(f"/scheduling{P}/market-days/{days['future']}"))["venue_id"]
        own_day = (web.seeded["today"] + timedelta(days=22)).isoformat()
        own = ok(api.post(f"/scheduling{P}/market-days", json={"venue_id": venue_id, "day": own_day}))
        invitation = ok(
            api.post(
                f"/scheduling{P}/market-days/{own['id']}/lineup", json={"product_id": today["product_id"]}
            )
        )
    s = session("officer", DESKTOP)
    page = s.go(f"#/slip/{invitation['id']}")
    page.get_by_test_id("qr").locator("svg").wait_for()
    assert "18:00" in page.get_by_test_id("answers-until").inner_text()
    old = page.get_by_test_id("link").get_attribute("href")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="ยกเลิกลิงก์เดิมและออกลิงก์ใหม่").click()
    page.get_by_text("ยกเลิกลิงก์เดิมแล้ว").wait_for()
    new = page.get_by_test_id("link").get_attribute("href")
    assert new != old and new.startswith(f"{web.url}/#/i/")
    shot(s, shots, "invitation-slip-revoked")

    producer = session(None, PHONE)
    phone = producer.page
    phone.goto(old)
    phone.get_by_text("ลิงก์นี้ถูกยกเลิกแล้ว").wait_for()
    shot(producer, shots, "producer-invitation-revoked")
    phone.goto(new)
    phone.reload()
    phone.get_by_role("button", name="ตอบรับเข้าร่วม").wait_for()

    with web.client(USERS["officer"]) as api:
        closed = ok(api.post(f"/scheduling{P}/invitations/{today['id']}/link"))["token"]
    phone.goto(f"{web.url}/#/i/{closed}")
    phone.reload()
    phone.get_by_text("หมดเวลาตอบผ่านลิงก์แล้ว").wait_for()
    assert phone.get_by_role("button", name="ตอบรับเข้าร่วม").count() == 0
    assert phone.get_by_role("button", name="แจ้งไม่เข้าร่วม").count() == 0
    shot(producer, shots, "producer-invitation-closed")


# --- the product-sheet import


def sheet(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_the_import_shows_each_bad_row_and_changes_nothing_until_fixed(web, session, shots):
    tag = uuid4().hex[:4]
    good = [
        {**p.row, "name": f"ผลิตภัณฑ์ทดลอง {tag} {n}", "producer_name": f"กลุ่มทดลอง {tag} {n}"}
        for n, p in enumerate(demo_province().products[:10])
    ]
    bad = [dict(r) for r in good]
    bad[2]["star_level"], bad[5]["category"], bad[8]["price_thb"] = "9", "ของเล่น", "ราคาไม่ทราบ"

    def count():
        return ok(api.get(f"/registry{P}/products", params={"limit": 1}))["total"]

    with web.client(USERS["officer"]) as api:
        before = count()
        s = session("officer", DESKTOP)
        page = s.go("#/import")
        page.get_by_label("เลือกแฟ้ม").set_input_files(
            {"name": "products.csv", "mimeType": "text/csv", "buffer": sheet(bad)}
        )
        page.get_by_role("button", name="ตรวจสอบแฟ้ม").click()
        page.get_by_role("alert").filter(has_text="ข้อมูลยังไม่ถูกต้อง 3 จุด").wait_for()
        marked = page.get_by_test_id("sheet-rows").locator("tr.bad")
        assert [marked.nth(i).get_attribute("data-row") for i in range(marked.count())] == ["4", "7", "10"]
        for i, field in enumerate(("ระดับดาว", "ประเภทผลิตภัณฑ์", "ราคา (บาท)")):  # the columns' Thai names
            assert field in marked.nth(i).locator(".field-error").inner_text()
        assert page.get_by_role("button", name="นำเข้า", exact=True).is_disabled()
        shot(s, shots, "import-errors")
        assert count() == before  # nothing changed

        page.get_by_label("เลือกแฟ้ม").set_input_files(
            {"name": "products.csv", "mimeType": "text/csv", "buffer": sheet(good)}
        )
        page.get_by_role("button", name="ตรวจสอบแฟ้ม").click()
        page.get_by_test_id("dry-run").filter(has_text="จะเพิ่มผลิตภัณฑ์ 10").wait_for()
        assert count() == before  # a dry run writes nothing
        page.get_by_role("button", name="นำเข้า", exact=True).click()
        page.get_by_text("นำเข้าแล้ว: ผลิตภัณฑ์ใหม่ 10").wait_for()
        assert count() == before + 10


# --- tenancy: an officer of 72 never reaches province 10; a committee member does not edit the registry


def test_an_officer_of_72_cannot_reach_province_10_anywhere(web, session):
    s = session("officer")
    page = s.page
    assert page.locator("nav select").count() == 0  # no province picker
    assert "72" in page.locator(".who").inner_text()
    for route in (
        "report",
        "sales",
        "products",
        "producers",
        "mentoring",
        "import",
        "calendar",
        "integrations",
        "evaluation",
        "activities",
        "issues",
        f"market-days/{web.seeded['days']['today']}",
        f"sales/{web.seeded['days']['today']}",
    ):
        s.go(f"#/{route}?province=10")
        page.get_by_role("alert").filter(has_text="ทำงานได้เฉพาะจังหวัดของคุณ (72)").wait_for()
    s.go("#/national")
    page.get_by_text("สำหรับกรมการพัฒนาชุมชนเท่านั้น").wait_for()
    s.go("#/report")  # and its own province works
    page.get_by_test_id("figures").wait_for()
    assert not [u for u in s.requests if "/provinces/10" in u or "/national/" in u]


def test_a_committee_member_reads_the_registry_but_cannot_edit_it(web, session):
    s = session("committee")
    page = s.go("#/products")
    page.locator("tbody tr").first.wait_for()
    assert page.get_by_role("link", name="เพิ่มผลิตภัณฑ์").count() == 0
    assert page.locator("tbody a").count() == 0  # names are not links to an edit form
    for route in ("products/new", "producers/new", "import", "integrations"):
        s.go(f"#/{route}")
        page.get_by_role("alert").filter(has_text="ไม่มีสิทธิ์").wait_for()
    s.go(f"#/market-days/{web.seeded['days']['later']}")
    page.get_by_test_id("lineup").wait_for()
    assert page.get_by_role("button", name=re.compile("เชิญตามที่แนะนำ")).count() == 0
    assert page.get_by_role("link", name="บันทึกยอดขาย").count() == 0


# --- the committee: the evaluation form, activities, problems and recommendations


def test_a_committee_member_evaluates_a_market_day(web, session, shots):
    s = session("committee")
    page = s.go("#/evaluation")
    page.get_by_label("วันตลาด").locator("option").nth(1).wait_for(state="attached")
    page.get_by_label("จำนวนลูกค้า (ประมาณ)").fill("420")
    page.get_by_role("button", name="ส่งแบบประเมิน").click()
    page.get_by_role("alert").filter(has_text="ข้อมูลยังไม่ถูกต้อง").wait_for()
    assert page.get_by_label("จำนวนลูกค้า (ประมาณ)").input_value() == "420"  # kept
    assert page.locator("#e-pa").inner_text()  # said beside "producers attending"
    page.get_by_label("วันตลาด").select_option(web.seeded["days"]["today"])
    page.get_by_label("จำนวนผู้ผลิตที่มาร่วม").fill("19")
    page.get_by_label("จำนวนผลิตภัณฑ์ที่จัดแสดง").fill("20")
    page.get_by_label("ยอดขายที่สังเกตได้ (บาท)").fill("12500")
    page.get_by_label("การจัดแสดงสินค้า").select_option("5")
    page.get_by_role("button", name="เพิ่มปัญหา").click()
    page.get_by_label("รายละเอียด 1").first.fill("ที่จอดรถไม่เพียงพอ")
    shot(s, shots, "evaluation")
    page.get_by_role("button", name="ส่งแบบประเมิน").click()
    page.get_by_text("ส่งแบบประเมินแล้ว").wait_for()
    s.go("#/activities")
    page.get_by_text("การประชุมกลไกการขับเคลื่อน").first.wait_for()
    assert page.get_by_role("button", name="บันทึก").count() == 0  # reads the log
    s.go("#/issues")
    page.get_by_text("ที่จอดรถไม่เพียงพอ").wait_for()  # the evaluation's problem joins the month's list


# --- the department


def test_the_department_sees_every_province_and_each_report(web, session, shots):
    s = session("department", DESKTOP)
    page = s.go("#/national")
    row = page.get_by_test_id("national").locator("tbody tr").filter(has_text="สุพรรณบุรี (72)")
    row.wait_for()
    page.get_by_test_id("completeness-national").locator("tbody tr").filter(has_text="สุพรรณบุรี").wait_for()
    shot(s, shots, "national")
    with page.expect_download() as download:
        page.get_by_role("button", name="ดาวน์โหลด XLSX").click()
    assert download.value.suggested_filename.startswith("otop-report-national-")
    row.get_by_role("link").click()
    page.get_by_test_id("figures").wait_for()
    page.get_by_test_id("preview").get_by_text("ปัญหา / อุปสรรค / ข้อเสนอแนะ").first.wait_for()
    assert page.locator("nav select").input_value() == "72"
    shot(s, shots, "report")


def test_an_account_administrator_uses_the_admin_console_on_keycloaks_own_address(web, session, shots):
    """Issue 21: the gateway does not route Keycloak's admin console; operators and account administrators
    reach it on Keycloak's own address (here its loopback port), logging in with their one-time password."""
    assert httpx.get(f"{web.url}/auth/admin/otop/console/", timeout=30).status_code == 404
    s = session("accounts", DESKTOP, login=None)
    page = s.page
    page.goto(f"{web.keycloak.url}/admin/otop/console/")
    page.locator("#username").wait_for(timeout=90_000)
    s.sign_in()
    page.get_by_role("link", name="Users").first.wait_for(timeout=90_000)
    page.get_by_role("link", name="Users").first.click()
    page.get_by_text(USERS["officer"].username).first.wait_for(timeout=60_000)
    assert page.url.startswith(web.keycloak.url)
    page.screenshot(path=shots / "admin-console-users.png")


# --- the province officer's other work


def test_the_province_officers_other_flows(web, session, shots):
    s = session("officer", DESKTOP)
    page = s.page

    # A product: refused input keeps what was typed, then saved.
    s.go("#/products/new")
    page.get_by_label("ชื่อผลิตภัณฑ์").fill("น้ำพริกนรกทดสอบ")
    page.get_by_role("button", name="บันทึก").click()
    page.get_by_role("alert").filter(has_text="ข้อมูลยังไม่ถูกต้อง").wait_for()
    assert page.get_by_label("ชื่อผลิตภัณฑ์").input_value() == "น้ำพริกนรกทดสอบ"
    assert page.locator("#e-price").inner_text() and page.locator("#e-unit").inner_text()
    page.get_by_label("ราคา (บาท)").fill("45")
    page.get_by_label("หน่วย").fill("กระปุก")
    page.get_by_role("button", name="บันทึก").click()
    page.get_by_text("บันทึก น้ำพริกนรกทดสอบ แล้ว").wait_for()
    s.go("#/products")
    page.get_by_label("ค้นหาชื่อผลิตภัณฑ์หรือผู้ผลิต").fill("นรกทดสอบ")
    page.get_by_role("button", name="ค้นหา").click()
    page.get_by_text("พบ 1 รายการ").wait_for()
    shot(s, shots, "products")

    # A producer paused for a raw-material shortage, then resumed.
    s.go("#/producers")
    page.locator("tbody tr a").first.click()
    page.get_by_role("heading", name="การเข้าร่วม").wait_for()
    page.get_by_role("button", name="พักผู้ผลิต").click()
    page.get_by_text("พักอยู่: ขาดวัตถุดิบ").wait_for()
    page.get_by_role("button", name="กลับมาเข้าร่วม").click()
    page.get_by_text("พร้อมเข้าร่วมตลาด").wait_for()

    # Mentoring: a suggested pair formed.
    s.go("#/mentoring")
    page.get_by_role("heading", name=re.compile("คู่ที่ระบบแนะนำ")).wait_for()
    page.get_by_role("button", name="ตั้งกลุ่มนี้").first.click()  # the demo's new producers have pairs
    page.get_by_text(re.compile("ตั้งกลุ่ม .* แล้ว")).wait_for()
    page.get_by_role("heading", name=re.compile(r"กลุ่มที่มีอยู่ \([1-9]")).wait_for()

    # The month calendar: schedule a market day on a day of this month, reschedule and cancel another.
    s.go("#/calendar")
    page.get_by_role("table", name="ปฏิทินวันตลาด").wait_for()
    shot(s, shots, "calendar")
    day = page.get_by_role("button", name=re.compile(r"^กำหนดวันตลาด")).last
    day.click()
    page.get_by_role("button", name="บันทึก", exact=True).click()
    page.get_by_text("กำหนดวันตลาดแล้ว").wait_for()
    s.go(f"#/market-days/{web.seeded['days']['later']}")
    page.get_by_role("button", name="เลื่อนวัน").click()
    new_day = web.seeded["today"].toordinal() + 15
    from datetime import date

    page.get_by_label("วันที่ใหม่").fill(date.fromordinal(new_day).isoformat())
    page.get_by_role("button", name="บันทึก", exact=True).click()
    page.get_by_text("เลื่อนวันตลาดแล้ว").wait_for()
    page.get_by_label("เหตุผลที่ยกเลิก").fill("ฝนตกหนัก น้ำท่วมพื้นที่ตลาด")
    page.get_by_role("button", name="ยกเลิกวันตลาด").click()
    page.get_by_text("ยกเลิกวันตลาดแล้ว").wait_for()
    page.locator("main p .status").filter(has_text="ยกเลิก").wait_for()

    # Integrations: the key is shown once; rotate; revoke the first key.
    s.go("#/integrations")
    page.get_by_label("ชื่อระบบ (ผู้ให้บริการ POS และสถานที่)").fill("POS ตลาดสามชุก")
    page.get_by_role("button", name="ลงทะเบียน").click()
    first_key = page.get_by_test_id("signing-key").inner_text()
    assert len(first_key) >= 32
    shot(s, shots, "integrations")
    page.get_by_role("button", name="เก็บแล้ว ปิด").click()
    assert page.get_by_test_id("signing-key").count() == 0 and first_key not in page.content()
    page.get_by_role("button", name="ออกกุญแจใหม่ (หมุนเวียน)").click()
    assert page.get_by_test_id("signing-key").inner_text() not in ("", first_key)
    page.get_by_role("button", name="เก็บแล้ว ปิด").click()
    page.get_by_role("button", name="เพิกถอน").first.click()
    page.get_by_text("เพิกถอนแล้ว").wait_for()

    # The activity log and the month's problems.
    s.go("#/activities")
    page.get_by_label("ชื่อกิจกรรม/การประชุม").fill("ประชุมคณะทำงานตลาดประชารัฐ")
    page.get_by_label("วันที่").fill(web.seeded["today"].isoformat())
    page.get_by_label("สถานที่").fill("สำนักงานพัฒนาชุมชนจังหวัดสุพรรณบุรี")
    page.get_by_label("กลุ่มเป้าหมาย").fill("คณะทำงานตลาดประชารัฐ")
    page.get_by_label("จำนวนผู้เข้าร่วม (คน)").fill("15")
    page.get_by_label("วัตถุประสงค์").fill("เพื่อเตรียมตลาดเดือนหน้า")
    page.get_by_role("button", name="บันทึก").click()
    page.get_by_text("บันทึกกิจกรรมแล้ว").wait_for()

    # The report of the month: preview and the three files.
    s.go("#/report")
    page.get_by_test_id("preview").wait_for()
    for kind, magic in (("DOCX", b"PK"), ("PDF", b"%PDF"), ("XLSX", b"PK")):
        with page.expect_download(timeout=120_000) as download:
            page.get_by_role("button", name=f"ดาวน์โหลด {kind}").click()
        assert download.value.suggested_filename.endswith(f".{kind.lower()}")
        assert open(download.value.path(), "rb").read(4).startswith(magic)
    assert not [e for e in s.errors if "Failed to load resource" not in e]


def test_an_officer_photographs_a_product_and_records_a_producers_consent(web, session, shots):
    s = session("officer", PHONE)
    page = s.page
    s.go("#/products")
    page.locator("tbody tr a").first.click()
    page.get_by_role("heading", name="รูปผลิตภัณฑ์").wait_for()
    camera = page.locator('input[name="photo-camera"]')
    assert (camera.get_attribute("accept"), camera.get_attribute("capture")) == ("image/*", "environment")

    # A text file named .jpg: refused with a sentence, nothing shown.
    page.locator('input[name="photo"]').set_input_files(
        {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture at all"}
    )
    page.get_by_role("alert").filter(has_text="ไฟล์นี้ไม่ใช่รูปภาพ").wait_for()
    assert page.locator("img.product-photo").count() == 0

    # A phone's portrait photo with GPS: stored upright, shown from the public /p/photos/ URL.
    page.locator('input[name="photo"]').set_input_files(
        {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    page.get_by_text("บันทึกรูปแล้ว").wait_for()
    photo = page.locator("img.product-photo")
    photo.wait_for()
    assert re.fullmatch(r"/p/photos/[0-9a-f-]{36}/card\.jpg", photo.get_attribute("src"))
    page.wait_for_function("() => document.querySelector('img.product-photo').naturalWidth > 0")
    assert photo.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [480, 640]
    served = httpx.get(f"{web.url}{photo.get_attribute('src')}")
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert b"Exif" not in served.content
    shot(s, shots, "product-photo")

    # A producer's consent to show the contact on the public pages: off until ticked, kept once saved.
    s.go("#/producers")
    page.locator("tbody tr a").first.click()
    page.get_by_role("heading", name="การเข้าร่วม").wait_for()  # the producer is loaded into the form
    consent = page.get_by_label(re.compile("ผู้ผลิตยินยอมให้แสดงชื่อผู้ติดต่อ"))
    assert not consent.is_checked()
    consent.check()
    page.get_by_role("button", name="บันทึก", exact=True).click()
    page.get_by_text(re.compile("^บันทึก .* แล้ว$")).wait_for()
    page.reload()
    page.get_by_role("heading", name="การเข้าร่วม").wait_for()
    assert page.get_by_label(re.compile("ผู้ผลิตยินยอมให้แสดงชื่อผู้ติดต่อ")).is_checked()

    # The printed and shared artefacts are linked from the market day and the calendar.
    s.go(f"#/market-days/{web.seeded['days']['future']}")
    poster = page.get_by_role("link", name="ดาวน์โหลดโปสเตอร์ A4 (PDF)")
    assert poster.get_attribute("href") == f"/p/72/days/{web.seeded['days']['future']}/poster.pdf"
    s.go("#/calendar")
    publicity = page.get_by_test_id("publicity")
    hrefs = [link.get_attribute("href") for link in publicity.get_by_role("link").all()]
    assert "/p/72/flag.pdf" in hrefs
    assert any(re.fullmatch(r"/p/72/press/\d{4}-\d{2}\.docx", h) for h in hrefs)
    assert any(re.fullmatch(r"/p/72/press/\d{4}-\d{2}\.txt", h) for h in hrefs)
    shot(s, shots, "calendar-publicity")
    assert not [e for e in s.errors if "Failed to load resource" not in e]


def test_a_401_leads_to_the_login_page_and_back(web, session):
    s = session("officer")
    page = s.go("#/producers")
    page.locator("tbody tr").first.wait_for()
    # The kept access token is spoilt (as one revoked or signed by an old key): the service answers 401.
    page.evaluate("""() => {
        for (const key of Object.keys(localStorage).filter((k) => k.startsWith('oidc.user:'))) {
        const user = JSON.parse(localStorage.getItem(key));
        user.access_token = 'x' + user.access_token.slice(1);
        localStorage.setItem(key, JSON.stringify(user)); } }""")
    s.go("#/report")
    page.wait_for_url(
        re.compile(r".*#/report$"), timeout=60_000
    )  # Keycloak (its session still open), and back
    page.get_by_test_id("figures").wait_for()
    assert any("/auth/realms/otop/protocol/openid-connect/auth" in u for u in s.requests)


# --- every main screen: phone and desktop, axe-core, Thai and English


SCREENS = [
    ("officer", "home", "#/"),
    ("officer", "sales-days", "#/sales"),
    ("officer", "sales", "#/sales/{today}"),
    ("officer", "market-day", "#/market-days/{future}"),
    ("officer", "calendar", "#/calendar"),
    ("officer", "report", "#/report"),
    ("officer", "products", "#/products"),
    ("officer", "producer-form", "#/producers/new"),
    ("officer", "import", "#/import"),
    ("officer", "integrations", "#/integrations"),
    ("officer", "mentoring", "#/mentoring"),
    ("committee", "evaluation", "#/evaluation"),
    ("committee", "activities", "#/activities"),
    ("committee", "issues", "#/issues"),
    ("department", "national", "#/national"),
]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_screen_passes_axe_in_thai_and_english(web, session, shots, viewport):
    sessions = {}
    for who, name, route in SCREENS:
        if who not in sessions:
            sessions[who] = session(who, viewport)
        s = sessions[who]
        s.go(route.format(**web.seeded["days"]))
        s.page.locator("main h1").first.wait_for()
        s.page.wait_for_load_state("networkidle")
        problems = s.axe()
        assert problems == [], f"{name}: {problems}"
        shot(s, shots, f"screen-{name}")
    s = sessions["officer"]
    s.go("#/report")
    s.page.get_by_role("button", name="English").click()
    s.page.get_by_role("link", name="Record sales").wait_for()
    s.page.get_by_role("heading", name=re.compile("^Programme report")).wait_for()
    assert s.axe() == []
    s.page.get_by_role("button", name="ภาษาไทย").click()
    s.page.get_by_role("link", name="บันทึกยอดขาย").wait_for()
    for who, each in sessions.items():
        assert not [e for e in each.errors if "Failed to load resource" not in e], (who, each.errors)


# --- budgets


def test_budgets_first_load_interactive_and_a_tap(web, session, browser):
    logged_in = session("officer", PHONE)
    # A cold load of a logged-in user: an empty HTTP cache and no service worker, only the kept login.
    cold = browser.new_context(
        storage_state=logged_in.context.storage_state(),
        viewport=PHONE,
        service_workers="block",
        locale="th-TH",
    )
    try:
        page = cold.new_page()
        scripts: list[str] = []
        page.on("response", lambda r: scripts.append(r.url) if r.request.resource_type == "script" else None)
        page.goto(f"{web.url}/#/")
        page.wait_for_selector("nav")
        interactive = page.evaluate("""() => new Promise((done) => requestAnimationFrame(() =>
            done(performance.now() - performance.getEntriesByType('navigation')[0].startTime)))""")
    finally:
        cold.close()
    loaded = list(dict.fromkeys(scripts))
    gzipped = sum(len(gzip.compress(httpx.get(u).content, 9)) for u in loaded)

    page = logged_in.go(f"#/sales/{web.seeded['days']['today']}")
    page.locator(".products button").first.wait_for()
    # Each tap: the app's own work (click to the screen's state in the DOM: Svelte flushes in a microtask),
    # and to the next frame painted. 20 taps on different products.
    taps = page.evaluate("""async () => {
        const found = [];
        const buttons = [...document.querySelectorAll('.products button')];
        for (let i = 0; i < 20; i++) {
          const button = buttons[i % buttons.length];
          const name = button.firstChild.textContent.trim();
          const shown = () => document.querySelector('[data-testid=selected-product]')?.textContent === name;
          const start = performance.now();
          button.click();
          await Promise.resolve();
          while (!shown()) await new Promise((done) => setTimeout(done, 0));
          const updated = performance.now();
          await new Promise((done) => requestAnimationFrame(() => done()));
          found.push([updated - start, performance.now() - start]);
          await new Promise((done) => setTimeout(done, 50));
        }
        return found; }""")
    work, paint = sorted(t[0] for t in taps), sorted(t[1] for t in taps)
    print(
        f"\nbudgets: first-load JS {gzipped / 1024:.1f} KB gzipped ({len(loaded)} files), interactive "
        f"{interactive:.0f} ms; a tap: the app's work {work[0]:.1f}-{work[-1]:.1f} ms (median "
        f"{work[len(work) // 2]:.1f}), to the next frame {paint[0]:.1f}-{paint[-1]:.1f} ms (median "
        f"{paint[len(paint) // 2]:.1f})"
    )
    assert loaded and gzipped <= 300 * 1024
    assert interactive < 2000
    # The frame itself waits on the machine's compositor (other processes share its two cores), so the budget
    # holds the app's work to every tap, and the typical (median) tap to its painted frame.
    assert len(taps) == 20 and work[-1] < 100 and paint[len(paint) // 2] < 100
