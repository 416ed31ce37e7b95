"""The report's tables, defined once: the documents (Markdown, DOCX, PDF) print them, the sheets (XLSX,
CSV) export them. Cells are typed (str, int, Decimal, date, None); each renderer writes them its way
(`cell_text` for documents: grouped numbers, Buddhist-Era dates, the report's digits)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.monitoring.report.model import MarketSummary, NationalReport, ProvinceReport
from shared import thai
from shared.labels import MARKET_DAY_STATUS_TH, PRODUCT_CATEGORY_TH


class Code(str):
    """Text written as is, whatever the digit style (a province code)."""


Cell = str | int | Decimal | date | None


@dataclass(frozen=True)
class Table:
    name: str  # machine name: the sheet's name, `?table=` of the CSV export
    title: str
    headers: list[str]
    rows: list[list[Cell]]


EVALUATION_LABELS = {
    "on_time": "ประเมินแล้ว",
    "late": "ประเมินล่าช้า",
    "missing": "ยังไม่ประเมิน",
    "pending": "รอประเมิน",
    "not_expected": "-",
}
MEETS_TARGET = {True: "ถึง", False: "ไม่ถึง", None: None}
ISSUE_KINDS = {"problem": "ปัญหา / อุปสรรค", "recommendation": "ข้อเสนอแนะ"}


def cell_text(value: Cell, thai_digits: bool) -> str:
    """A cell as the documents print it."""
    if value is None:
        return "-"
    if isinstance(value, Code):
        return str(value)
    if isinstance(value, str):
        return thai.digits(value, thai_digits)
    if isinstance(value, date):
        return thai.short_date(value, thai_digits)
    return thai.number(value, thai_digits, 2 if isinstance(value, Decimal) else 0)


def _amount(quantity: Decimal) -> int | Decimal:
    """A quantity as a whole number when it is one (4 กล่อง, not 4.00 กล่อง)."""
    return int(quantity) if quantity == quantity.to_integral_value() else quantity


def _summary(report: ProvinceReport) -> Table:
    summary, results = report.results.summary, report.results
    rows: list[list[Cell]] = [
        ["ตลาดที่จัดแล้ว", summary.market_days_held, summary.market_days_planned, "ครั้ง"],
        ["ตลาดที่ยกเลิก", summary.market_days_cancelled, None, "ครั้ง"],
        [
            "ผลิตภัณฑ์เฉลี่ยต่อตลาด (เป้าหมายอย่างน้อย)",
            summary.average_products_per_market,
            summary.products_target_per_market,
            "ผลิตภัณฑ์/ตลาด",
        ],
        ["ตลาดที่ผลิตภัณฑ์ถึงเป้าหมาย", summary.markets_meeting_target, summary.markets_counted, "ตลาด"],
        ["ผู้ผลิต/ผู้ประกอบการเข้าร่วม", summary.producers_taking_part, None, "ราย"],
        ["ผู้ผลิต/ผู้ประกอบการรายใหม่", results.new_producers_taking_part, None, "ราย"],
        ["ผลิตภัณฑ์เข้าร่วม", summary.products_taking_part, None, "รายการ"],
        ["ลูกค้า (ประมาณ)", summary.customers_estimate, None, "คน"],
        ["รายการขาย", summary.sales, None, "รายการ"],
        ["ยอดจำหน่ายรวม", summary.sales_thb, None, "บาท"],
        [
            "ประเมินผลตลาดแล้ว",
            summary.evaluations_on_time + summary.evaluations_late,
            summary.evaluations_expected,
            "ครั้ง",
        ],
    ]
    return Table("summary", "สรุปผลการดำเนินงาน", ["รายการ", "ผล", "แผน/เป้าหมาย", "หน่วย"], rows)


def _plan(report: ProvinceReport) -> Table:
    return Table(
        "plan",
        "แผนการดำเนินงาน",
        report.plan.columns,
        [
            [row.number, row.project_name, row.target_group, row.period, row.place, row.budget_source]
            for row in report.plan.rows
        ],
    )


def _markets(report: ProvinceReport) -> Table:
    return Table(
        "markets",
        "ผลการจัดตลาดแต่ละครั้ง",
        [
            "วันที่",
            "สถานที่",
            "สถานะ",
            "ผลิตภัณฑ์",
            "ถึงเป้าหมาย",
            "ผู้ผลิต",
            "ลูกค้า (ประมาณ)",
            "รายการขาย",
            "ยอดจำหน่าย (บาท)",
            "การประเมิน",
        ],
        [
            [
                market.day,
                market.venue_name,
                MARKET_DAY_STATUS_TH.get(market.status, market.status),
                market.products_shown,
                MEETS_TARGET[market.meets_target],
                market.producers,
                market.customers_estimate,
                market.sales,
                market.sales_thb,
                EVALUATION_LABELS.get(market.evaluation, market.evaluation),
            ]
            for market in report.results.markets
        ],
    )


def _sales_by_category(report: ProvinceReport) -> Table:
    return Table(
        "sales_by_category",
        "ยอดจำหน่ายตามประเภทผลิตภัณฑ์",
        ["ประเภท", "รายการขาย", "ยอดจำหน่าย (บาท)"],
        [
            [category.label, category.sales, category.amount_thb]
            for category in report.results.sales_by_category
        ],
    )


PRODUCT_HEADERS = ["ผลิตภัณฑ์", "ผู้ผลิต", "ประเภท"]


def _category(category: str) -> str | None:
    return PRODUCT_CATEGORY_TH.get(category)  # None ("-") for a product not heard of yet


def _sales_by_product(report: ProvinceReport) -> Table:
    return Table(
        "sales_by_product",
        "ยอดจำหน่ายตามผลิตภัณฑ์",
        [*PRODUCT_HEADERS, "จำนวน", "หน่วย", "รายการขาย", "ยอดจำหน่าย (บาท)"],
        [
            [
                p.name,
                p.producer_name,
                _category(p.category),
                _amount(p.quantity),
                p.unit or None,
                p.sales,
                p.amount_thb,
            ]
            for p in report.results.sales_by_product
        ],
    )


def _best_sellers(report: ProvinceReport) -> Table:
    return Table(
        "best_sellers",
        "สินค้าขายดี",
        ["อันดับ", *PRODUCT_HEADERS, "ยอดจำหน่าย (บาท)"],
        [
            [n, p.name, p.producer_name, _category(p.category), p.amount_thb]
            for n, p in enumerate(report.results.best_sellers, start=1)
        ],
    )


def _non_selling(report: ProvinceReport) -> Table:
    return Table(
        "non_selling_products",
        "ผลิตภัณฑ์ที่ยังจำหน่ายไม่ได้",
        PRODUCT_HEADERS,
        [[p.name, p.producer_name, _category(p.category)] for p in report.results.non_selling_products],
    )


def _issues(report: ProvinceReport) -> Table:
    issues = report.issues
    return Table(
        "issues",
        "ปัญหา / อุปสรรค / ข้อเสนอแนะ",
        ["ประเภท", "ที่", "หมวด", "รายละเอียด", "จำนวนที่บันทึก"],
        [
            [ISSUE_KINDS[kind], n, item.category_label, item.text, item.entries]
            for kind, items in (("problem", issues.problems), ("recommendation", issues.recommendations))
            for n, item in enumerate(items, start=1)
        ],
    )


# --- section ๔: the budget (report/budget.py)


def _budget_plan(report: ProvinceReport) -> Table:
    rows = report.budget.plan if report.budget else []
    return Table(
        "budget_plan",
        "แผนการดำเนินงานและงบประมาณ",
        ["ที่", "โครงการ/กิจกรรม", "กลุ่มเป้าหมาย", "ระยะเวลา", "สถานที่", "แหล่งงบประมาณ", "งบประมาณ (บาท)", "สถานะ"],
        [
            [
                r.number,
                r.activity,
                r.target_group,
                r.period,
                r.places,
                r.budget_source,
                r.amount_thb,
                r.status,
            ]
            for r in rows
        ],
    )


def _budget_lines(report: ProvinceReport) -> Table:
    budget = report.budget
    rows: list[list[Cell]] = [
        [line.label, line.approved_thb, line.spent_thb, line.spent_in_period_thb, line.remaining_thb]
        for line in (budget.lines if budget else [])
    ]
    if budget and rows:
        left = budget.approved_thb - budget.spent_thb
        rows.append(["รวม", budget.approved_thb, budget.spent_thb, budget.spent_in_period_thb, left])
    return Table(
        "budget_lines",
        "งบประมาณที่อนุมัติและการใช้จ่ายตามรายการ",
        ["รายการ", "อนุมัติ (บาท)", "ใช้จ่ายแล้ว (บาท)", "ใช้จ่ายในช่วงนี้ (บาท)", "คงเหลือ (บาท)"],
        rows,
    )


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else thai.number(value, False, 4)


def _budget_market_days(report: ProvinceReport) -> Table:
    return Table(
        "budget_market_days",
        "วัสดุอุปกรณ์และค่าใช้จ่ายต่อตลาด",
        [
            "วันที่",
            "สถานที่",
            "วัสดุอุปกรณ์ที่นำไป",
            "ค่าใช้จ่ายของวันนั้น (บาท)",
            "ส่วนเฉลี่ยค่าใช้จ่ายทั้งโครงการ (บาท)",
            "ค่าใช้จ่ายรวม (บาท)",
            "ยอดจำหน่าย (บาท)",
            "ค่าใช้จ่ายต่อยอดจำหน่าย 1 บาท",
        ],
        [
            [
                d.day,
                d.venue_name,
                d.materials,
                d.direct_cost_thb,
                d.shared_cost_thb,
                d.cost_thb,
                d.sales_thb,
                _ratio(d.cost_per_baht_sold),
            ]
            for d in (report.budget.market_days if report.budget else [])
        ],
    )


PROVINCE_TABLES: dict[str, Callable[[ProvinceReport], Table]] = {
    "summary": _summary,
    "plan": _plan,
    "markets": _markets,
    "sales_by_category": _sales_by_category,
    "sales_by_product": _sales_by_product,
    "best_sellers": _best_sellers,
    "non_selling_products": _non_selling,
    "issues": _issues,
    "budget_plan": _budget_plan,
    "budget_lines": _budget_lines,
    "budget_market_days": _budget_market_days,
}


def _national_cells(s: MarketSummary) -> list[Cell]:
    return [
        s.market_days_planned,
        s.market_days_held,
        s.average_products_per_market,
        s.markets_meeting_target,
        s.producers_taking_part,
        s.sales,
        s.sales_thb,
        s.evaluations_on_time + s.evaluations_late,
        s.evaluations_expected,
    ]


def _provinces(report: NationalReport) -> Table:
    return Table(
        "provinces",
        "ผลการดำเนินงานรายจังหวัด",
        [
            "จังหวัด",
            "รหัสจังหวัด",
            "ตลาดตามแผน",
            "จัดแล้ว",
            "ผลิตภัณฑ์เฉลี่ย/ตลาด",
            "ตลาดถึงเป้า",
            "ผู้ผลิต",
            "รายการขาย",
            "ยอดจำหน่าย (บาท)",
            "ประเมินแล้ว",
            "ที่ต้องประเมิน",
        ],
        [[row.province_name, Code(row.province_code), *_national_cells(row)] for row in report.provinces]
        + [["รวม", None, *_national_cells(report.totals)]],
    )


def _budgets(report: NationalReport) -> Table:
    rows: list[list[Cell]] = [
        [row.province_name, Code(row.province_code), row.status_label, row.approved_thb, row.spent_thb]
        for row in report.budgets
    ]
    approved = sum((row.approved_thb for row in report.budgets), Decimal("0.00"))
    spent = sum((row.spent_thb for row in report.budgets), Decimal("0.00"))
    return Table(
        "budgets",
        "งบประมาณที่อนุมัติและใช้จ่ายรายจังหวัด",
        ["จังหวัด", "รหัสจังหวัด", "สถานะโครงการ", "อนุมัติ (บาท)", "ใช้จ่ายแล้ว (บาท)"],
        rows + [["รวม", None, None, approved, spent]] if rows else [],
    )


NATIONAL_TABLES: dict[str, Callable[[NationalReport], Table]] = {"provinces": _provinces, "budgets": _budgets}


def _province_tables() -> dict[str, Callable[[ProvinceReport], Table]]:
    from services.monitoring.report.outcomes import OUTCOME_TABLES  # built with Table: imported when used

    return PROVINCE_TABLES | OUTCOME_TABLES


def table_names(national: bool) -> list[str]:
    return list(NATIONAL_TABLES if national else _province_tables())


def report_table(report: ProvinceReport | NationalReport, name: str) -> Table:
    if isinstance(report, NationalReport):
        return NATIONAL_TABLES[name](report)
    return _province_tables()[name](report)


def report_tables(report: ProvinceReport | NationalReport) -> list[Table]:
    return [report_table(report, name) for name in table_names(isinstance(report, NationalReport))]
