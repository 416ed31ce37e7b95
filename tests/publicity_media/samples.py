"""Sample inputs for the renderers' tests: Suphan Buri's market day as the seed describes one, with
product photos drawn here (no files shipped)."""

import io
from datetime import date, time
from decimal import Decimal

from PIL import Image, ImageDraw

from services.publicity.media.inputs import (
    DayAnnouncement,
    LineupItem,
    MarketDay,
    MonthDay,
    MonthProgramme,
    Province,
)

SUPHAN = Province("72", "สุพรรณบุรี", "Suphan Buri")
DAY_URL = "https://otop.example.go.th/p/72/days/4b7d2f0e-1c55-4a7e-9d1e-2f8a6c3b9e10"
PROVINCE_URL = "https://otop.example.go.th/p/72"


def photo(colour: str, label: str, size: tuple[int, int] = (640, 480)) -> bytes:
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4), fill="white")
    draw.text((20, 20), label, fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


MARKET_DAY = MarketDay(
    date(2019, 6, 15),
    time(9, 0),
    time(15, 0),
    "ตลาดประชารัฐ คนไทยยิ้มได้ หน้าศาลากลางจังหวัดสุพรรณบุรี",
    "ถนนสุพรรณบุรี-ชัยนาท ตำบลสนามชัย อำเภอเมืองสุพรรณบุรี",
)
LINEUP = (
    LineupItem("น้ำพริกเผากุ้งแม่น้ำ", Decimal("120"), "กระปุก", photo("#c0392b", "chili"), "กลุ่มแม่บ้านบางปลาม้า"),
    LineupItem("ผ้าไหมทอมือลายดอกพิกุล", Decimal("1850"), "ผืน", photo("#8e44ad", "silk"), "อ.ศรีประจันต์"),
    LineupItem("ข้าวเกรียบปลากรายสมุนไพร", Decimal("35.50"), "ถุง", None, "วิสาหกิจชุมชนบ้านสระ"),
    LineupItem("สบู่สมุนไพรขมิ้นชัน", Decimal("59"), "ก้อน", photo("#f1c40f", "soap"), "อ.อู่ทอง"),
    LineupItem("ตะกร้าสานผักตบชวา", Decimal("250"), "ใบ", photo("#27ae60", "basket"), "กลุ่มจักสานบ้านโพธิ์"),
)
ANNOUNCEMENT = DayAnnouncement(SUPHAN, DAY_URL, MARKET_DAY, LINEUP)
# a market's usual lineup (the seed: 20 products a market), for the screenshots
FULL_LINEUP = LINEUP + (
    LineupItem("ขนมหม้อแกงเผือก", Decimal("80"), "ถาด", photo("#d35400", "custard"), "อ.เมืองสุพรรณบุรี"),
    LineupItem("น้ำตาลโตนดแท้", Decimal("60"), "กิโลกรัม", photo("#a04000", "palm sugar"), "อ.อู่ทอง"),
    LineupItem("ปลาสลิดแดดเดียว", Decimal("150"), "แพ็ค", photo("#7f8c8d", "fish"), "อ.บางปลาม้า"),
    LineupItem("ผ้าขาวม้าทอมือ", Decimal("220"), "ผืน", photo("#2980b9", "pakama"), "อ.ด่านช้าง"),
    LineupItem("ชาตะไคร้ใบเตย", Decimal("45"), "กล่อง", photo("#16a085", "tea"), "อ.สองพี่น้อง"),
    LineupItem("เครื่องปั้นดินเผาลายโบราณ", Decimal("390"), "ใบ", None, "อ.ดอนเจดีย์"),
    LineupItem("กล้วยอบน้ำผึ้ง", Decimal("50"), "ถุง", photo("#f39c12", "banana"), "อ.หนองหญ้าไซ"),
    LineupItem("ยาหม่องสมุนไพร", Decimal("30"), "ขวด", photo("#1abc9c", "balm"), "อ.เดิมบางนางบวช"),
    LineupItem("หมอนอิงผ้าไหม", Decimal("350"), "ใบ", photo("#9b59b6", "pillow"), "อ.ศรีประจันต์"),
    LineupItem("ข้าวหอมสุพรรณ", Decimal("120"), "ถุง 5 กก.", photo("#bdc3c7", "rice"), "อ.สามชุก"),
    LineupItem("ไข่เค็มใบเตย", Decimal("65"), "แพ็ค 6 ฟอง", photo("#e67e22", "eggs"), "อ.บางปลาม้า"),
    LineupItem("กระเป๋าสานกระจูด", Decimal("280"), "ใบ", photo("#795548", "bag"), "อ.อู่ทอง"),
    LineupItem("น้ำพริกนรก", Decimal("40"), "กระปุก", photo("#b71c1c", "chili 2"), "อ.เมืองสุพรรณบุรี"),
    LineupItem("แชมพูมะกรูด", Decimal("89"), "ขวด", photo("#558b2f", "shampoo"), "อ.สองพี่น้อง"),
    LineupItem("ไม้กวาดดอกหญ้า", Decimal("70"), "ด้าม", None, "อ.ด่านช้าง"),
)
MONTH = MonthProgramme(
    SUPHAN,
    PROVINCE_URL,
    2019,
    6,
    (
        MonthDay(MARKET_DAY, 20, 14),
        MonthDay(MarketDay(date(2019, 6, 22), time(16, 0), time(21, 0), "ตลาดน้ำสามชุก", "อำเภอสามชุก"), 18, 12),
    ),
    contact="สำนักงานพัฒนาชุมชนจังหวัดสุพรรณบุรี โทร. 0 3553 5042",
)
