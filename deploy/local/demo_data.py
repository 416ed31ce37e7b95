"""The demo province's data, generated from a seed (no I/O): Suphanburi (72), the OTOP Mobile season
June–September 2562 (2019), in the shape of the seed document's report.

`demo_province()` gives what officers would enter: producers and products (the registry's import
sheet), paused producers, venues, the plan, market days, the committee, meetings and the month's
problems and recommendations. What depends on the services' answers (which products the scheduling
service proposes, hence sales and evaluations) is drawn while loading, from `rng_for(...)`.
"""

import csv
import io
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import geothai

PROVINCE = "72"  # Suphanburi
YEAR_BE, YEAR = 2562, 2019
MONTHS = (6, 7, 8, 9)  # June to September
SEED = 2562
THAILAND = timezone(timedelta(hours=7))
PRODUCERS = 100

# category: (product names, unit, prices in baht)
CATALOGUE = {
    "food": (
        [
            "ข้าวเกรียบปลากราย",
            "กล้วยตาก",
            "ปลาร้าบอง",
            "น้ำพริกเผา",
            "ขนมสาลี่",
            "ข้าวตังหน้าธัญพืช",
            "หมูแผ่น",
            "ไข่เค็มใบเตย",
            "ปลาสลิดแดดเดียว",
            "ขนมผิง",
            "ทองม้วนกรอบ",
            "ข้าวหอมมะลิอินทรีย์",
        ],
        "ถุง",
        [25, 35, 45, 60, 80, 120],
    ),
    "beverage": (
        ["น้ำตาลสด", "ชาตะไคร้", "น้ำกระเจี๊ยบ", "กาแฟคั่วบด", "น้ำมะพร้าวน้ำหอม", "น้ำสมุนไพรใบเตย"],
        "ขวด",
        [15, 20, 25, 35, 150],
    ),
    "textile": (
        ["ผ้าขาวม้าทอมือ", "ผ้าซิ่นลาวครั่ง", "เสื้อผ้าฝ้ายย้อมคราม", "กระเป๋าผ้าทอ", "ผ้าพันคอมัดย้อม", "ผ้าทอลายโบราณ"],
        "ผืน",
        [150, 250, 390, 590, 1200],
    ),
    "houseware": (
        [
            "ตะกร้าสานผักตบชวา",
            "โคมไฟไม้ไผ่",
            "กระติบข้าว",
            "พวงกุญแจงานปั้น",
            "ของที่ระลึกดินเผา",
            "เครื่องจักสานไม้ไผ่",
            "หมวกสานใบลาน",
        ],
        "ชิ้น",
        [35, 60, 120, 250, 450],
    ),
    "herbal": (
        ["ยาหม่องสมุนไพร", "สบู่สมุนไพรขมิ้น", "ลูกประคบ", "น้ำมันไพล", "แชมพูมะกรูด", "ยาดมสมุนไพร"],
        "ชิ้น",
        [25, 40, 59, 89, 120],
    ),
}
CATEGORY_WEIGHTS = [4, 2, 2, 2, 1.5]  # food first, as in most provinces' OTOP lists
GROUP_NAMES = [
    "กลุ่มแม่บ้านเกษตรกร",
    "กลุ่มอาชีพสตรี",
    "วิสาหกิจชุมชน",
    "กลุ่มทอผ้า",
    "กลุ่มจักสาน",
    "กลุ่มผู้ผลิตสมุนไพร",
    "กลุ่มแปรรูปผลผลิตการเกษตร",
]
FIRST_NAMES = ["สมศรี", "บุญเรือน", "ประยูร", "มาลี", "สมชาย", "วันเพ็ญ", "ทองใบ", "สุนีย์", "ประเสริฐ", "อำไพ"]
LAST_NAMES = ["ใจดี", "ทองคำ", "ศรีสุข", "บุญมา", "แก้วประเสริฐ", "มีสุข", "รุ่งเรือง", "พูลผล"]
VENUES = [  # name, kind, amphoe, tambon
    ("ตลาดประชารัฐ คนไทยยิ้มได้ ศาลากลางจังหวัดสุพรรณบุรี", "pracharat_market", "7201", "720101"),
    ("ตลาดประชารัฐ คนไทยยิ้มได้ อำเภออู่ทอง", "pracharat_market", "7209", "720901"),
    ("ตลาดประชารัฐ คนไทยยิ้มได้ อำเภอสองพี่น้อง", "pracharat_market", "7207", "720701"),
    ("ตลาดสามชุก ตลาดร้อยปี", "tourist_spot", "7208", "720803"),
    ("บึงฉวาก", "tourist_spot", "7202", "720202"),
]
MEETING_PLACE = "โรงแรมเลิศธานี อ.เมืองฯ จ.สุพรรณบุรี"
COMMITTEE = [  # name, role, position
    ("นายวิชัย ศรีสุพรรณ", "provincial_cdd_officer", "ประธานกรรมการ"),
    ("นางสาวกัลยา บุญประเสริฐ", "otop_network", "รองประธานกรรมการ"),
    ("นายสมบัติ ทองดี", "otop_network", "กรรมการ"),
    ("นางวิไล แสงทอง", "pracharat_working_group", "กรรมการ"),
    ("นายชาญ มั่นคง", "pracharat_working_group", "กรรมการ"),
    ("นางสุดา พึ่งบุญ", "district_cdd_officer", "กรรมการ"),
    ("นายอนุชา ใจเย็น", "district_cdd_officer", "กรรมการ"),
    ("นางสาวพรทิพย์ ศรีเมือง", "provincial_cdd_officer", "กรรมการและเลขานุการ"),
]
# the demo committee member's login (deploy/local/accounts.py) evaluates as this member
COMMITTEE_ACCOUNT = "demo-committee-72"
PROBLEMS = {
    "producers_busy": "ผู้ผลิต/ผู้ประกอบการ OTOP บางรายติดภารกิจไม่สามารถเข้าร่วมโครงการฯ ได้",
    "has_market": "ผู้ประกอบการบางรายมีตลาดที่จำหน่ายเป็นประจำแล้ว",
    "worried_about_sales": "ผู้ประกอบการบางรายกังวลว่าจะจำหน่ายสินค้าไม่ได้",
    "raw_material_shortage": "การผลิตสินค้าของผู้ประกอบการบางรายขาดความต่อเนื่อง เนื่องจากขาดวัตถุดิบ",
    "new_producer": "ผู้ประกอบการบางรายเป็นรายใหม่หรือขาดประสบการณ์ในการนำสินค้าออกจำหน่าย",
}
RECOMMENDATIONS = {
    "publicity": "ประชาสัมพันธ์ทางช่องทางต่าง ๆ ให้หลากหลาย เช่น วิทยุกระจายเสียง หนังสือพิมพ์ท้องถิ่น สื่อออนไลน์",
    "mentoring": "สร้างกลุ่มแลกเปลี่ยนเรียนรู้ระหว่างผู้ประกอบการรายเก่าและรายใหม่ ให้คำแนะนำส่งเสริมกัน",
}
DECLINE_REASONS = {"busy": 4, "has_market": 3, "worried_about_sales": 2, "no_raw_material": 1}


def rng_for(*keys: object) -> random.Random:
    """A generator of its own for each thing drawn while loading (a market day's declines, a product's
    sales there), so one answer of the services does not shift everything drawn after it."""
    return random.Random("/".join(map(str, (SEED, *keys))))


@dataclass(frozen=True)
class Product:
    row: dict  # the import sheet's row (with its producer's columns)

    @property
    def name(self) -> str:
        return self.row["name"]

    @property
    def price(self) -> Decimal:
        return Decimal(self.row["price_thb"])


@dataclass(frozen=True)
class MarketDay:
    venue: int  # index in VENUES
    day: date
    starts_at: time
    ends_at: time

    def sold_at(self, rng: random.Random) -> datetime:
        """A moment during the market's hours (Thai time)."""
        start = datetime.combine(self.day, self.starts_at, THAILAND)
        span = datetime.combine(self.day, self.ends_at, THAILAND) - start
        return start + timedelta(minutes=rng.randrange(int(span.total_seconds() // 60)))


@dataclass
class DemoProvince:
    products: list[Product]
    paused: dict[str, dict]  # producer name -> availability
    venues: list[dict]
    plan: dict
    market_days: list[MarketDay]
    committee: dict
    activities: list[dict]
    issues: list[dict]

    def sheet_csv(self) -> bytes:
        """The registry's import file of every producer and product (services/registry/domain/sheet.py)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(self.products[0].row))
        writer.writeheader()
        writer.writerows(p.row for p in self.products)
        return out.getvalue().encode()

    def available(self, product: Product, day: date) -> bool:
        """Whether the product can be proposed for `day`: active, and its producer not paused then."""
        pause = self.paused.get(product.row["producer_name"])
        away = pause is not None and date.fromisoformat(
            pause["unavailable_from"]
        ) <= day < date.fromisoformat(pause["unavailable_until"])
        return product.row["status"] == "active" and not away


def _producers(rng: random.Random) -> list[dict]:
    districts = geothai.districts(PROVINCE)
    tambons = {d.code: geothai.subdistricts(d.code) for d in districts}
    producers: list[dict[str, Any]] = []
    names: set[str] = set()
    while len(producers) < PRODUCERS:
        amphoe = rng.choice(districts)
        tambon = rng.choice(tambons[amphoe.code])
        kind = rng.choices(["community_group", "single_owner", "sme"], weights=[6, 3, 1])[0]
        category = rng.choices(list(CATALOGUE), weights=CATEGORY_WEIGHTS)[0]
        if kind == "community_group":
            name = f"{rng.choice(GROUP_NAMES)}ตำบล{tambon.name_th}"
        elif kind == "single_owner":
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} ({tambon.name_th})"
        else:
            name = f"ห้างหุ้นส่วนจำกัด {tambon.name_th}โอทอป"
        if name in names:
            continue
        names.add(name)
        producers.append(
            {
                "producer_name": name,
                "producer_type": kind,
                "experienced": str(rng.random() > 0.25).lower(),
                "amphoe_code": amphoe.code,
                "tambon_code": tambon.code,
                "contact_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "phone": f"08{rng.randrange(10)}-{rng.randrange(1000):03d}-{rng.randrange(10000):04d}",
                "category": category,
                "nawatwithi": rng.random() < 0.35,
                "place": tambon.name_th,
            }
        )
    return producers


def _products(rng: random.Random, producers: list[dict]) -> list[Product]:
    products, names = [], set()
    for producer in producers:
        for _ in range(rng.choice([1, 2, 3, 3, 4, 4, 5])):
            category = (
                producer["category"]
                if rng.random() < 0.8
                else rng.choices(list(CATALOGUE), weights=CATEGORY_WEIGHTS)[0]
            )
            base_names, unit, prices = CATALOGUE[category]
            unused = [n for n in (f"{base} {producer['place']}" for base in base_names) if n not in names]
            name = rng.choice(unused) if unused else f"{rng.choice(base_names)} {producer['producer_name']}"
            if name in names:
                continue
            names.add(name)
            products.append(Product(product_row(rng, producer, category, name, unit, prices)))
    return products


def product_row(
    rng: random.Random, producer: dict, category: str, name: str, unit: str, prices: list[int]
) -> dict[str, Any]:
    """One row of the product sheet: the product's facts drawn from `rng`, then its producer's columns."""
    producer_columns = {k: v for k, v in producer.items() if k not in ("category", "nawatwithi", "place")}
    return {
        "name": name,
        "category": category,
        "star_level": rng.choices([1, 2, 3, 4, 5], weights=[3, 4, 4, 2, 1])[0],
        "star_year": rng.choice([2559, 2561]),
        "quadrant": rng.choices("ABCD", weights=[1, 2, 2, 5])[0],
        "nawatwithi": str(producer["nawatwithi"] or rng.random() < 0.1).lower(),
        "price_thb": f"{rng.choice(prices):.2f}",
        "unit": unit,
        "status": "withdrawn" if rng.random() < 0.02 else "active",
        **producer_columns,
    }


def paused_for_shortage(rng: random.Random, producers: list[dict]) -> dict[str, dict]:
    """These producers paused for a raw-material shortage (ขาดวัตถุดิบ) for 45 days from a date drawn in the
    season's first three months, by producer name."""
    paused = {}
    for producer in producers:
        start = date(YEAR, rng.choice(MONTHS[:3]), rng.choice([1, 15]))
        paused[producer["producer_name"]] = {
            "available": False,
            "unavailable_reason": rng.choice(["ขาดวัตถุดิบ", "ขาดวัตถุดิบ (ช่วงน้ำหลาก)"]),
            "unavailable_from": start.isoformat(),
            "unavailable_until": (start + timedelta(days=45)).isoformat(),
        }
    return paused


def _market_days() -> list[MarketDay]:
    """Four a month, on Saturdays (mornings or evenings), taking the venues in turn."""
    days: list[MarketDay] = []
    for month in MONTHS:
        saturdays = [date(YEAR, month, d) for d in range(1, 31) if date(YEAR, month, d).weekday() == 5]
        for day in saturdays[:4]:
            evening = day.day % 2 == 0
            days.append(
                MarketDay(
                    len(days) % len(VENUES),
                    day,
                    time(16) if evening else time(8),
                    time(21) if evening else time(15),
                )
            )
    return days


def _meetings(rng: random.Random) -> list[dict]:
    """The seed document's meeting of 24 June, then a follow-up at the end of each later month."""
    first = {
        "title": "การประชุมกลไกการขับเคลื่อนการจัดแสดงและจำหน่ายผลิตภัณฑ์ OTOP ภายใต้โครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
        "held_on": f"{YEAR}-06-24",
        "venue": MEETING_PLACE,
        "starts_at": "08:30",
        "ends_at": "16:30",
        "target_group": "คณะกรรมการเครือข่าย OTOP, คณะทำงานตลาดประชารัฐ คนไทยยิ้มได้ จังหวัดสุพรรณบุรี, "
        "เจ้าหน้าที่พัฒนาชุมชนอำเภอที่รับผิดชอบงานตลาดฯ",
        "participants": 40,
        "purpose": "เพื่อสร้างความเข้าใจเกี่ยวกับการดำเนินงานโครงการ OTOP เคลื่อนที่ (OTOP Mobile) "
        "และจัดทำแผนปฏิบัติงานขับเคลื่อนโครงการฯ",
    }
    return [first, *follow_up_meetings(rng, "สำนักงานพัฒนาชุมชนจังหวัดสุพรรณบุรี")]


def follow_up_meetings(rng: random.Random, venue: str) -> list[dict]:
    """The committee's follow-up meeting at the end of each month after the first."""
    return [
        {
            "title": "การประชุมติดตามผลการดำเนินงานโครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
            "held_on": f"{YEAR}-{month:02d}-{rng.choice([26, 27, 28])}",
            "venue": venue,
            "starts_at": "09:00",
            "ends_at": "12:00",
            "target_group": "คณะกรรมการติดตามโครงการ OTOP เคลื่อนที่ ระดับจังหวัด",
            "participants": rng.randrange(12, 25),
            "purpose": "เพื่อติดตามผลการจำหน่ายและปรับแผนการคัดเลือกผลิตภัณฑ์",
        }
        for month in MONTHS[1:]
    ]


def monthly_issues(problems_of: Callable[[int], list[str]]) -> list[dict]:
    """Each month: the problems `problems_of(month)` picks among the seed's, and both its recommendations."""
    issues = []
    for month in MONTHS:
        for category in problems_of(month):
            issues.append(
                {
                    "kind": "problem",
                    "category": category,
                    "text": PROBLEMS[category],
                    "year": YEAR_BE,
                    "month": month,
                }
            )
        for category, text in RECOMMENDATIONS.items():
            issues.append(
                {
                    "kind": "recommendation",
                    "category": category,
                    "text": text,
                    "year": YEAR_BE,
                    "month": month,
                }
            )
    return issues


def demo_province(seed: int = SEED) -> DemoProvince:
    rng = random.Random(seed)
    producers = _producers(rng)
    return DemoProvince(
        products=_products(rng, producers),
        paused=paused_for_shortage(rng, rng.sample(producers, 8)),
        market_days=_market_days(),
        plan={
            "first_month": f"{YEAR}-{MONTHS[0]:02d}",
            "last_month": f"{YEAR}-{MONTHS[-1]:02d}",
            "market_days_per_month": 4,
            "products_per_market_day": 20,
            "target_group": "๒๐ ผลิตภัณฑ์/ตลาด",
            "budget_source": "งบบุคลากรฯ",
        },
        committee={
            "appointed_on": (date(YEAR, MONTHS[0], 1) - timedelta(days=10)).isoformat(),
            "order_ref": f"คำสั่งจังหวัดสุพรรณบุรี ที่ 1520/{YEAR_BE}",
            "members": [
                {"name": n, "role": r, "position": p, **({"account": COMMITTEE_ACCOUNT} if i == 1 else {})}
                for i, (n, r, p) in enumerate(COMMITTEE)
            ],
        },
        activities=_meetings(rng),
        issues=monthly_issues(lambda month: rng.sample(list(PROBLEMS), 3)),
        venues=[
            {
                "name": n,
                "kind": k,
                "amphoe_code": a,
                "tambon_code": t,
                "contact_name": rng.choice(FIRST_NAMES),
                "phone": f"035-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
            }
            for n, k, a, t in VENUES
        ],
    )


def sent_totals(days: Iterable[dict]) -> dict[str, Any]:
    """What was sent for these market days (each one's facts: `sales`, `amount`, `evaluations`), as the
    month's report must count it."""
    days = list(days)
    return {
        "market_days": len(days),
        "sales": sum(day["sales"] for day in days),
        "amount_thb": sum((day["amount"] for day in days), Decimal(0)),
        "evaluations": sum(day.get("evaluations", 0) for day in days),
    }


def report_mismatch(report: dict, sent: dict) -> str | None:
    """None when a month's report counts every market day held, attendance, sale and evaluation `sent`
    (`sent_totals`); otherwise what it shows against what was sent."""
    summary = report["results"]["summary"]
    shown = (
        summary["market_days_held"],
        summary["markets_counted"],
        summary["sales"],
        Decimal(summary["sales_thb"]),
        report["progress"]["evaluations"]["evaluations"],
    )
    wanted = (
        sent["market_days"],
        sent["market_days"],
        sent["sales"],
        sent["amount_thb"],
        sent["evaluations"],
    )
    return None if shown == wanted else f"report {shown}, sent {wanted}"


def evaluation(rng: random.Random, market_day_id: object, member_id: object, day: dict) -> dict[str, Any]:
    """A committee member's evaluation of a held market day (`day`: its facts as loaded: producers, products
    attended, amount sold), its scores and notes drawn from `rng`."""
    problems = [{"category": c, "text": PROBLEMS[c]} for c in PROBLEMS if rng.random() < 0.15]
    suggestions = [{"category": c, "text": RECOMMENDATIONS[c]} for c in RECOMMENDATIONS if rng.random() < 0.2]
    return {
        "market_day_id": market_day_id,
        "member_id": member_id,
        "producers_attending": day["producers"],
        "products_shown": day["attended"],
        "customers_estimate": rng.randrange(150, 800, 10),
        "sales_observed_thb": str(day["amount"].quantize(Decimal("1"))),
        "scores": {k: rng.randint(3, 5) for k in ("display", "variety", "customer_interest", "organisation")},
        "overall_score": rng.randint(3, 5),
        "problems": problems,
        "suggestions": suggestions,
    }


# --- the budget (the budget service): the seed's proposal, what was bought in June, what each day took

BUDGET_PROPOSAL: dict[str, Any] = {
    "name": "โครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
    "fiscal_year": YEAR_BE,
    "activities": [
        {
            "activity": "นำผลิตภัณฑ์ OTOP จำหน่ายในตลาดประชารัฐ คนไทยยิ้มได้ และแหล่งท่องเที่ยว เดือนละ ๔ ครั้ง",
            "target_group": "๒๐ ผลิตภัณฑ์/ตลาด",
            "period": f"ไตรมาส ๓-๔ (มิ.ย.-ก.ย.{YEAR_BE % 100})",
            "places": "ตลาดประชารัฐและแหล่งท่องเที่ยวจังหวัดสุพรรณบุรี",
            "budget_source": "งบบุคลากรฯ",
        },
        {
            "activity": "เสนอโครงการเพื่อขออนุมัติ และออกแบบธงญี่ปุ่นและรูปแบบวัสดุอุปกรณ์",
            "target_group": "ร้านค้า OTOP เคลื่อนที่",
            "period": f"พ.ค.-มิ.ย. {YEAR_BE % 100}",
            "places": "สำนักงานพัฒนาชุมชนจังหวัดสุพรรณบุรี",
            "budget_source": "งบบุคลากรฯ",
        },
    ],
    "lines": [
        {"category": "materials", "amount_thb": "48000.00", "description": "ธง ป้าย เต็นท์ โต๊ะ ผ้าปูโต๊ะ ป้ายราคา"},
        {"category": "publicity", "amount_thb": "12000.00", "description": "ป้ายประชาสัมพันธ์ สื่อออนไลน์"},
        {"category": "transport", "amount_thb": "25600.00", "description": "ค่าเช่ารถขนวัสดุอุปกรณ์ ๑๖ ครั้ง"},
        {"category": "meetings", "amount_thb": "14400.00", "description": "ค่าอาหารว่าง การประชุมกลไกขับเคลื่อน"},
    ],
}
# (item, bought on, supplier, amount paid): all in June, before the first market day.
BUDGET_PURCHASES = [
    (
        {
            "category": "materials",
            "name": "ธงญี่ปุ่น ขนาด 150 × 50 ซม.",
            "kind": "flag",
            "quantity": 2,
            "unit_cost_thb": "1250.00",
        },
        f"{YEAR}-06-03",
        "ร้านสุพรรณป้ายและการพิมพ์",
        "2480.00",
    ),
    (
        {
            "category": "materials",
            "name": "ป้ายไวนิล OTOP เคลื่อนที่",
            "kind": "banner",
            "quantity": 2,
            "unit_cost_thb": "850.00",
        },
        f"{YEAR}-06-03",
        "ร้านสุพรรณป้ายและการพิมพ์",
        "1700.00",
    ),
    (
        {
            "category": "materials",
            "name": "เต็นท์ขนาด 3 × 3 เมตร",
            "kind": "tent",
            "quantity": 6,
            "unit_cost_thb": "2950.00",
        },
        f"{YEAR}-06-04",
        "หจก. สุพรรณเต็นท์",
        "17700.00",
    ),
    (
        {
            "category": "materials",
            "name": "โต๊ะพับ",
            "kind": "table",
            "quantity": 10,
            "unit_cost_thb": "1150.00",
        },
        f"{YEAR}-06-04",
        "ร้านเฟอร์นิเจอร์สามชุก",
        "11500.00",
    ),
    (
        {
            "category": "materials",
            "name": "ผ้าปูโต๊ะ",
            "kind": "tablecloth",
            "quantity": 10,
            "unit_cost_thb": "180.00",
        },
        f"{YEAR}-06-05",
        "ร้านผ้าศรีประจันต์",
        "1800.00",
    ),
    (
        {
            "category": "materials",
            "name": "ป้ายราคา",
            "kind": "price_tag",
            "quantity": 400,
            "unit_cost_thb": "2.50",
        },
        f"{YEAR}-06-05",
        "ร้านเครื่องเขียนสุพรรณ",
        "1000.00",
    ),
    (
        {
            "category": "publicity",
            "name": "ป้ายประชาสัมพันธ์และสื่อออนไลน์",
            "quantity": 1,
            "unit_cost_thb": "4500.00",
        },
        f"{YEAR}-06-06",
        "ร้านสุพรรณป้ายและการพิมพ์",
        "4500.00",
    ),
]
