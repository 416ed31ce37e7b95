"""The report as Markdown (plain text that reads well as is): the seed document's sections, from the
same model the DOCX/PDF renderers read."""

from decimal import Decimal

from services.monitoring import thai
from services.monitoring.report.model import PROJECT, IssueItem, NationalReport, ProvinceReport


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(row) for row in rows)]


def _numbered(items: list[str], thai_digits: bool, style: str) -> list[str]:
    return thai.ordinal_list(items, thai_digits, style)


def province_markdown(report: ProvinceReport) -> str:
    t = report.thai_digits

    def n(value: int | Decimal, places: int = 0) -> str:
        return thai.number(value, t, places)

    progress, plan, results, issues = report.progress, report.plan, report.results, report.issues
    lines = [f"# {report.heading}", "", f"## {report.subheading}", "",
             "การดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP)", "",
             f"## {progress.number} {progress.heading}", "", progress.intro, "",
             f"### {thai.digits('1)', t)} {progress.meetings_heading}", ""]
    lines += _paragraphs([a.text for a in progress.activities] or ["ยังไม่มีการบันทึกกิจกรรมในช่วงนี้"], t)
    lines += [f"### {thai.digits('2)', t)} {progress.monitoring_heading}", ""]
    lines += _paragraphs([c.text for c in progress.committees] + [progress.evaluations.text], t)

    lines += [f"## {plan.number} {plan.heading}", ""]
    lines += _table(plan.columns, [[n(row.number), row.project_name, row.target_group, row.period, row.place,
                                    row.budget_source] for row in plan.rows]) if plan.rows else \
        [f"ยังไม่มีแผน{PROJECT}ในช่วงนี้"]
    lines += ["", f"### {results.heading}", ""]
    lines += [f"- {line}" for line in results.text] + [""]
    if results.markets:
        lines += _table(["วันที่", "สถานที่", "สถานะ", "ผลิตภัณฑ์", "ผู้ผลิต", "ยอดจำหน่าย (บาท)", "การประเมิน"], [
            [thai.short_date(m.day, t), thai.digits(m.venue_name, t), STATUS_LABELS.get(m.status, m.status),
             "-" if m.products_shown is None else n(m.products_shown), "-" if m.producers is None else n(m.producers),
             n(m.sales_thb, 2), EVALUATION_LABELS.get(m.evaluation, m.evaluation)] for m in results.markets]) + [""]
    if results.sales_by_category:
        lines += ["ยอดจำหน่ายตามประเภทผลิตภัณฑ์", ""]
        lines += _table(["ประเภท", "จำนวนรายการขาย", "ยอดจำหน่าย (บาท)"],
                        [[c.label, n(c.sales), n(c.amount_thb, 2)] for c in results.sales_by_category]) + [""]
    if results.sales_by_product:
        lines += ["ยอดจำหน่ายตามผลิตภัณฑ์", ""]
        lines += _table(["ผลิตภัณฑ์", "ผู้ผลิต", "จำนวน", "ยอดจำหน่าย (บาท)"],
                        [[thai.digits(p.name, t), thai.digits(p.producer_name or "-", t), f"{n(p.quantity)} {p.unit}".strip(), n(p.amount_thb, 2)]
                         for p in results.sales_by_product]) + [""]

    lines += [f"## {issues.number} {issues.heading}", "", f"- {issues.problems_heading}", ""]
    lines += _issue_lines(issues.problems, t)
    lines += [f"- {issues.recommendations_heading}", ""]
    lines += _issue_lines(issues.recommendations, t)
    return "\n".join(lines).rstrip() + "\n"


def _paragraphs(texts: list[str], thai_digits: bool) -> list[str]:
    return [line for text in _numbered(texts, thai_digits, "({n})") for line in (text, "")]


def _issue_lines(items: list[IssueItem], thai_digits: bool) -> list[str]:
    if not items:
        return ["- ไม่มี", ""]
    return [f"- {line}" for line in _numbered([i.text for i in items], thai_digits, "{n})")] + [""]


STATUS_LABELS = {"held": "จัดแล้ว", "scheduled": "กำหนดจัด", "cancelled": "ยกเลิก"}
EVALUATION_LABELS = {"on_time": "ประเมินแล้ว", "late": "ประเมินล่าช้า", "missing": "ยังไม่ประเมิน",
                     "pending": "รอประเมิน", "not_expected": "-"}


def national_markdown(report: NationalReport) -> str:
    t = report.thai_digits

    def n(value: int | Decimal | None, places: int = 0) -> str:
        return "-" if value is None else thai.number(value, t, places)

    def cells(s) -> list[str]:
        return [n(s.market_days_planned), n(s.market_days_held), n(s.average_products_per_market, 2),
                n(s.markets_meeting_target), n(s.producers_taking_part), n(s.sales_thb, 2),
                f"{n(s.evaluations_on_time + s.evaluations_late)}/{n(s.evaluations_expected)}"]

    header = ["จังหวัด", "ตลาดตามแผน", "จัดแล้ว", "ผลิตภัณฑ์/ตลาด", "ตลาดถึงเป้า", "ผู้ผลิต", "ยอดจำหน่าย (บาท)",
              "ประเมินแล้ว/ที่ต้องประเมิน"]
    rows = [[f"{row.province_name} ({row.province_code})", *cells(row)] for row in report.provinces] + [["รวม", *cells(report.totals)]]
    return "\n".join([f"# {report.title}", "", *_table(header, rows)]) + "\n"
