"""The report builder is pure: rows in, the typed report (and its Markdown) out."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import uuid4

from services.monitoring.domain import Period
from services.monitoring.report import (
    MarketDayFacts,
    ReportData,
    build_national,
    build_report,
    document,
    to_markdown,
)

PLAN = {
    "id": uuid4(),
    "province_code": "72",
    "name": "โครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
    "first_month": date(2019, 6, 1),
    "last_month": date(2019, 9, 1),
    "market_days_per_month": 4,
    "products_per_market_day": 20,
    "target_group": "20 ผลิตภัณฑ์/ตลาด",
    "budget_source": "งบบุคลากรฯ",
}
RICE, SOAP, CLOTH, HONEY = (uuid4() for _ in range(4))
NEW_PRODUCER, OLD_PRODUCER = uuid4(), uuid4()
PRODUCTS = {
    RICE: {"name": "ข้าวตังหน้าธัญพืช", "category": "food", "unit": "กล่อง", "producer_name": "กลุ่มแม่บ้านสามชุก"},
    SOAP: {"name": "สบู่สมุนไพร", "category": "herbal", "unit": "ก้อน", "producer_name": None},
    CLOTH: {"name": "ผ้าขาวม้าทอมือ", "category": "textile", "unit": "ผืน", "producer_name": "กลุ่มทอผ้า"},
    HONEY: {"name": "น้ำผึ้งดอกลำไย", "category": "food", "unit": "ขวด", "producer_name": None},
}


def markdown(report) -> str:
    return to_markdown(document(report))


def market_day(day: int, status: str = "held", **facts) -> MarketDayFacts:
    return MarketDayFacts(
        market_day_id=uuid4(),
        province_code="72",
        plan_id=PLAN["id"],
        day=date(2019, 6, day),
        venue_name=f"ตลาดประชารัฐ {day}",
        venue_kind="pracharat_market",
        status=status,
        **facts,
    )


def data(**changes) -> ReportData:
    markets = [
        market_day(
            8,
            product_ids=[RICE, SOAP, CLOTH] + [uuid4() for _ in range(19)],
            producer_ids=[NEW_PRODUCER, OLD_PRODUCER],
            evaluations=1,
            first_evaluated_at=datetime(2019, 6, 10, 3, tzinfo=UTC),
            customers_estimate=150,
            overall_score=Decimal("4.00"),
            sales=3,
            sales_thb=Decimal("560.00"),
        ),
        market_day(
            15,
            evaluations=1,
            first_evaluated_at=datetime(2019, 6, 25, 3, tzinfo=UTC),
            evaluated_products=18,
            evaluated_producers=12,
            customers_estimate=80,
            sales=1,
            sales_thb=Decimal("250.00"),
        ),
        market_day(22),  # held, never evaluated
        market_day(29, status="cancelled"),
    ]
    return ReportData(
        **{
            "province_code": "72",
            "period": Period.month(2019, 6),
            "as_of": date(2019, 7, 1),
            "due_days": 3,
            "thai_digits": True,
            "plans": [PLAN],
            "plan_venue_kinds": {PLAN["id"]: {"pracharat_market", "tourist_spot"}},
            "activities": [
                {
                    "id": uuid4(),
                    "title": "การประชุมกลไกการขับเคลื่อน",
                    "held_on": date(2019, 6, 24),
                    "venue": "โรงแรมเลิศธานี อ.เมืองฯ จ.สุพรรณบุรี",
                    "starts_at": time(8, 30),
                    "ends_at": time(16, 30),
                    "target_group": "คณะกรรมการเครือข่าย OTOP",
                    "participants": 40,
                    "purpose": "เพื่อสร้างความเข้าใจ",
                }
            ],
            "committees": [
                {
                    "id": uuid4(),
                    "name": "คณะกรรมการติดตาม",
                    "appointed_on": date(2019, 6, 24),
                    "order_ref": None,
                    "members": [
                        {"role": r}
                        for r in (
                            "otop_network",
                            "pracharat_working_group",
                            "district_cdd_officer",
                            "provincial_cdd_officer",
                        )
                    ],
                }
            ],
            "market_days": markets,
            "evaluation_scores": [
                {
                    "score_display": 4,
                    "score_variety": 3,
                    "score_customer_interest": 5,
                    "score_organisation": 4,
                    "overall_score": 4,
                },
                {
                    "score_display": 3,
                    "score_variety": 3,
                    "score_customer_interest": 4,
                    "score_organisation": 4,
                    "overall_score": 3,
                },
            ],
            "product_sales": [
                {"product_id": RICE, "sales": 2, "quantity": Decimal("4"), "amount_thb": Decimal("180.00")},
                {"product_id": CLOTH, "sales": 1, "quantity": Decimal("1"), "amount_thb": Decimal("380.00")},
                {"product_id": HONEY, "sales": 1, "quantity": Decimal("2"), "amount_thb": Decimal("250.00")},
            ],
            "products": PRODUCTS,
            "experienced": {NEW_PRODUCER: False, OLD_PRODUCER: True},
            "invitations": [
                {"status": "accepted", "reason": None, "invitations": 20},
                {"status": "declined", "reason": "busy", "invitations": 3},
                {"status": "declined", "reason": "has_market", "invitations": 1},
            ],
            "issues": [
                {
                    "kind": "problem",
                    "category": "raw_material_shortage",
                    "text": "ขาดวัตถุดิบ",
                    "evaluation_id": uuid4(),
                },
                {
                    "kind": "problem",
                    "category": "producers_busy",
                    "text": "ผู้ผลิตติดภารกิจ",
                    "evaluation_id": None,
                },
                {
                    "kind": "problem",
                    "category": "raw_material_shortage",
                    "text": " ขาดวัตถุดิบ ",
                    "evaluation_id": None,
                },
                {
                    "kind": "recommendation",
                    "category": "publicity",
                    "text": "ประชาสัมพันธ์ทางวิทยุ 2 สถานี",
                    "evaluation_id": None,
                },
            ],
            **changes,
        }
    )


def test_results_against_the_plan():
    results = build_report(data()).results
    s = results.summary
    assert (s.market_days_planned, s.market_days_scheduled, s.market_days_held, s.market_days_cancelled) == (
        4,
        3,
        3,
        1,
    )
    # 22 products from attendance, 18 from the committee's count; the third held market day is unknown.
    assert (s.markets_counted, s.markets_meeting_target, s.average_products_per_market) == (
        2,
        1,
        Decimal("20.00"),
    )
    assert [m.meets_target for m in results.markets] == [True, False, None, None]
    assert (s.producers_taking_part, results.new_producers_taking_part, s.products_taking_part) == (2, 1, 22)
    assert (s.sales, s.sales_thb, s.customers_estimate) == (4, Decimal("810.00"), 230)
    assert (s.evaluations_expected, s.evaluations_on_time, s.evaluations_late, s.evaluations_missing) == (
        3,
        1,
        1,
        1,
    )


def test_sales_by_category_and_product_best_sellers_and_products_that_did_not_sell():
    results = build_report(data()).results
    assert [(c.key, c.amount_thb, c.sales) for c in results.sales_by_category] == [
        ("food", Decimal("430.00"), 3),
        ("textile", Decimal("380.00"), 1),
    ]
    assert results.sales_by_category[0].label == "อาหาร"
    assert [p.name for p in results.best_sellers] == ["ผ้าขาวม้าทอมือ", "น้ำผึ้งดอกลำไย", "ข้าวตังหน้าธัญพืช"]
    non_selling = [p.name for p in results.non_selling_products]
    assert "สบู่สมุนไพร" in non_selling and len(non_selling) == 20  # 22 shown, 2 of them sold
    assert [(d.reason, d.invitations) for d in results.invitations_declined] == [
        ("busy", 3),
        ("has_market", 1),
    ]
    assert results.invitations_sent == 24 and results.invitations_accepted == 20


def test_progress_section_sentences_in_thai_digits():
    report = build_report(data())
    assert report.title == "สรุปการดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP) เดือนมิถุนายน ๒๕๖๒"
    [activity] = report.progress.activities
    assert "ในวันที่ ๒๔ มิถุนายน ๒๕๖๒ ณ โรงแรมเลิศธานี อ.เมืองฯ จ.สุพรรณบุรี เวลา ๐๘.๓๐ - ๑๖.๓๐ น." in activity.text
    assert "รวมทั้งหมดจำนวน ๔๐ คน วัตถุประสงค์เพื่อสร้างความเข้าใจ" in activity.text
    [committee] = report.progress.committees
    assert (
        "ประกอบด้วยคณะกรรมการเครือข่าย OTOP , คณะทำงานตลาดประชารัฐ คนไทยยิ้มได้ จังหวัดสุพรรณบุรี "
        "และเจ้าหน้าที่พัฒนาชุมชนอำเภอ/จังหวัด"
    ) in committee.text
    evaluations = report.progress.evaluations
    assert (evaluations.expected, evaluations.on_time, evaluations.late, evaluations.missing) == (3, 1, 1, 1)
    assert evaluations.average_scores.overall == Decimal(
        "3.50"
    ) and evaluations.average_scores.variety == Decimal("3.00")
    assert "คะแนนภาพรวมเฉลี่ย ๓.๕๐ จาก ๕" in evaluations.text


def test_plan_table_and_issues():
    report = build_report(data())
    assert report.plan.heading == "แผนการดำเนินงานตามโครงการไตรมาส ๓ - ๔ (มิถุนายน ๒๕๖๒ - กันยายน ๒๕๖๒)"
    [row] = report.plan.rows
    assert (row.target_group, row.period, row.place, row.budget_source) == (
        "๒๐ ผลิตภัณฑ์/ตลาด",
        "ไตรมาส ๓-๔ (มิ.ย.-ก.ย.๖๒)",
        "ตลาดประชารัฐและแหล่งท่องเที่ยวจังหวัดสุพรรณบุรี",
        "งบบุคลากรฯ",
    )
    problems = report.issues.problems
    # The officer's entries first; the same problem from an evaluation and an officer counts once.
    assert [(p.category, p.entries, p.from_evaluations) for p in problems] == [
        ("producers_busy", 1, 0),
        ("raw_material_shortage", 2, 1),
    ]
    assert report.issues.recommendations[0].text == "ประชาสัมพันธ์ทางวิทยุ ๒ สถานี"


def test_arabic_digits_when_not_asked_for_thai():
    report = build_report(data(thai_digits=False))
    assert report.subheading == "เดือนมิถุนายน 2562"
    assert report.plan.rows[0].period == "ไตรมาส 3-4 (มิ.ย.-ก.ย.62)"
    assert "๒" not in markdown(report) and "๑" not in markdown(report)


def test_markdown_has_the_seed_sections_in_order():
    text = markdown(build_report(data()))
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# สรุปการดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP)",
        "## เดือนมิถุนายน ๒๕๖๒",
        "## ๑ ผลความก้าวหน้าในการดำเนินงาน OTOP Mobile",
        "### ๑) กิจกรรมประชุมกลไกการขับเคลื่อนการจัดแสดงและจำหน่ายผลิตภัณฑ์ OTOP",
        "### ๒) ดำเนินการติดตามโครงการ OTOP เคลื่อนที่ (OTOP Mobile)",
        "## ๒ แผนการดำเนินงานตามโครงการไตรมาส ๓ - ๔ (มิถุนายน ๒๕๖๒ - กันยายน ๒๕๖๒)",
        "### ผลการดำเนินงาน",
        "## ๓ ปัญหา / อุปสรรค / ข้อเสนอแนะ",
    ]
    assert "| ๑ | โครงการ OTOP เคลื่อนที่ (OTOP Mobile) | ๒๐ ผลิตภัณฑ์/ตลาด | ไตรมาส ๓-๔ (มิ.ย.-ก.ย.๖๒) |" in text
    assert "- ๑) ผู้ผลิตติดภารกิจ" in text and "- ๒) ขาดวัตถุดิบ" in text
    assert "จัดตลาดแล้ว ๓ ครั้ง จากแผน ๔ ครั้ง" in text
    assert "ยอดจำหน่ายรวม ๘๑๐.๐๐ บาท" in text


def test_an_empty_month_still_has_every_section():
    report = build_report(
        ReportData(
            province_code="72",
            period=Period.month(2019, 5),
            as_of=date(2019, 7, 1),
            due_days=3,
            thai_digits=False,
        )
    )
    assert (
        report.results.summary.market_days_planned == 0
        and report.results.summary.average_products_per_market is None
    )
    assert report.plan.rows == [] and report.issues.problems == []
    text = markdown(report)
    assert "## 3 ปัญหา / อุปสรรค / ข้อเสนอแนะ" in text and "- ไม่มี" in text


def test_national_rollup_rows_and_totals():
    other = MarketDayFacts(
        market_day_id=uuid4(),
        province_code="10",
        plan_id=None,
        day=date(2019, 6, 9),
        venue_name="ตลาด",
        venue_kind="tourist_spot",
        status="held",
        product_ids=[uuid4()] * 0 + [uuid4() for _ in range(25)],
        producer_ids=[uuid4()],
        sales=10,
        sales_thb=Decimal("1000.50"),
    )
    report = build_national(
        Period.month(2019, 6), date(2019, 7, 1), 3, False, [*data().market_days, other], [PLAN]
    )
    assert [(r.province_code, r.province_name) for r in report.provinces] == [
        ("10", "กรุงเทพมหานคร"),
        ("72", "สุพรรณบุรี"),
    ]
    bangkok, suphanburi = report.provinces
    assert (bangkok.market_days_planned, bangkok.markets_meeting_target, bangkok.sales_thb) == (
        0,
        1,
        Decimal("1000.50"),
    )
    totals = report.totals
    assert (totals.market_days_planned, totals.market_days_held, totals.sales, totals.sales_thb) == (
        4,
        4,
        14,
        Decimal("1810.50"),
    )
    assert (totals.markets_counted, totals.products_shown_total, totals.average_products_per_market) == (
        3,
        65,
        Decimal("21.67"),
    )
    assert totals.producers_taking_part == suphanburi.producers_taking_part + 1
