"""The budget screens in Debian's Chromium against the real system behind the gateway: the officer proposes
the season's project, the department approves it from its queue, a purchase over its line is warned about
before it is sent, and at the market the officer checks the day's packing list off on a phone."""

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.web.conftest import DESKTOP, PHONE
from tests.web.seed import P, ok, until
from tests.web.stack import USERS
from tests.web.test_app import shot

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def _scan() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 90), "white").save(buffer, "PNG")
    return buffer.getvalue()


RECEIPT = _scan()


def test_a_proposal_is_approved_a_purchase_warned_and_a_packing_list_checked_off(web, session, shots):
    officer = session("officer", DESKTOP)
    page = officer.go("#/budget")
    page.get_by_role("heading", name="เสนอโครงการ").wait_for()
    page.get_by_label("จำนวนเงิน").fill("30000.00")
    page.get_by_role("button", name="เพิ่มรายการงบ").click()
    page.locator("input[name='amount-1']").fill("8000.50")
    page.get_by_text("รวม ฿38,000.50").wait_for()
    shot(officer, shots, "budget-proposal")
    page.get_by_role("button", name="ส่งให้กรมฯ พิจารณา").click()
    page.get_by_text("รออนุมัติ").first.wait_for()
    assert officer.axe() == []

    department = session("department", DESKTOP)
    department.go("#/national")
    queue = department.page.get_by_test_id("proposal-queue")
    queue.get_by_role("link", name="72").click()
    department.page.get_by_role("button", name="อนุมัติ").click()
    department.page.get_by_text("อนุมัติแล้ว").first.wait_for()
    shot(department, shots, "budget-approved")

    page.reload()
    page.get_by_role("heading", name="ขอซื้อวัสดุอุปกรณ์ / ค่าใช้จ่าย").wait_for()
    page.get_by_label("รายการ", exact=True).fill("ธงญี่ปุ่น ขนาด 150 × 50 ซม.")
    page.get_by_label("จำนวน", exact=True).first.fill("2")
    page.get_by_label("ราคาต่อหน่วย (บาท)").fill("15000.01")
    warning = page.get_by_role("alert").filter(has_text="เกินวงเงินของรายการนี้")
    warning.wait_for()  # before anything is sent
    assert page.get_by_role("button", name="บันทึกคำขอซื้อ").is_disabled()
    shot(officer, shots, "budget-over-line")
    page.get_by_label("ราคาต่อหน่วย (บาท)").fill("1250.25")
    page.get_by_role("button", name="บันทึกคำขอซื้อ").click()
    page.get_by_role("cell", name="฿2,500.50").first.wait_for()
    with web.client(USERS["officer"]) as api:
        [purchase] = ok(api.get(f"/budget{P}/purchases"))
    assert (purchase["estimated_thb"], purchase["kind"], purchase["status"]) == (
        "2500.50",
        "flag",
        "requested",
    )

    # Bought, with a scan of the receipt. A file that is no receipt is refused in Thai and the purchase kept;
    # the scan is attached again from the purchase's row, opened, and the flags received into the stock.
    page.get_by_role("button", name="บันทึกการซื้อ").click()
    bought = page.get_by_role("form", name="บันทึกการซื้อ")
    bought.get_by_label("ผู้ขาย").fill("ร้านสุพรรณป้าย")
    bought.get_by_label("จำนวนเงิน (บาท)").fill("2480.10")
    bought.get_by_label("ใบเสร็จ (รูปภาพหรือ PDF ไม่เกิน 5 MB)").set_input_files(
        {"name": "receipt.jpg", "mimeType": "image/jpeg", "buffer": b"MZ\x90\x00 not a receipt"}
    )
    bought.get_by_role("button", name="บันทึก", exact=True).click()
    page.get_by_role("alert").filter(has_text="ใบเสร็จต้องเป็นรูป JPEG, PNG, WebP หรือไฟล์ PDF").wait_for()
    page.get_by_role("cell", name="฿2,480.10").first.wait_for()  # the purchase itself is saved
    shot(officer, shots, "budget-receipt-refused")
    page.get_by_label("แนบใบเสร็จ", exact=True).set_input_files(
        {"name": "receipt.png", "mimeType": "image/png", "buffer": RECEIPT}
    )
    page.get_by_text("บันทึกการซื้อและแนบใบเสร็จแล้ว").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="ดูใบเสร็จ").click()
    assert download.value.suggested_filename == f"receipt-{purchase['id']}.png"
    assert Path(download.value.path()).read_bytes() == RECEIPT
    page.get_by_role("button", name="รับของแล้ว").click()
    with web.client(USERS["officer"]) as api:
        until(
            "the flags are received", lambda: ok(api.get(f"/budget{P}/purchases"))[0]["status"] == "received"
        )
        assert {s["kind"]: s["on_hand"] for s in ok(api.get(f"/budget{P}/stock"))}["flag"] == 2
    shot(officer, shots, "budget-received")

    # At the market, on a phone: the day's list with the lineup's tables, the shortfall, checked off.
    day = web.seeded["days"]["today"]
    market = session("officer", PHONE)
    phone = market.go(f"#/packing/{day}")
    phone.get_by_role("heading", name="รายการของที่ต้องนำไป").wait_for()
    phone.get_by_role("alert").filter(has_text="ของไม่พอ").wait_for()  # the province owns no tables yet
    tables = phone.locator("li", has_text="โต๊ะ").first
    assert re.search(r"โต๊ะ × \d+", tables.inner_text())
    phone.locator("li", has_text="ธงญี่ปุ่น").get_by_label("ขึ้นรถแล้ว").check()
    with web.client(USERS["officer"]) as api:
        until(
            "the flag is loaded",
            lambda: next(
                i["loaded"]
                for i in ok(api.get(f"/budget{P}/market-days/{day}/packing-list"))["items"]
                if i["kind"] == "flag"
            ),
        )
    assert market.axe() == []
    shot(market, shots, "packing-list")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The budget screen on a phone too: the approved budget, the request and the spending readable at 360 px.
    small = session("officer", PHONE)
    small.go("#/budget").get_by_role("heading", name="การใช้จ่ายตามรายการงบประมาณ").wait_for()
    assert small.axe() == []
    assert small.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(small, shots, "budget")
    for each in (officer, department, market, small):
        assert not [e for e in each.errors if "Failed to load resource" not in e], each.errors
