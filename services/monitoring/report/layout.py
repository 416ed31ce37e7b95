"""The report as a document outline: headings, paragraphs, bullet lists and tables in the seed document's
order. Markdown, DOCX and PDF each render this one outline, so they say the same thing in the same order."""

from dataclasses import dataclass

from services.monitoring.report.charts import Chart
from services.monitoring.report.model import PROJECT, NationalReport, ProvinceReport
from services.monitoring.report.outcomes import DOCUMENT_TABLES, charts
from services.monitoring.report.tables import Table, report_table
from shared import thai


@dataclass(frozen=True)
class Heading:
    level: int  # 1 the title, 2 a numbered section, 3 a part of one
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]


Block = Heading | Paragraph | Bullets | Table | Chart


@dataclass(frozen=True)
class Document:
    title: str
    thai_digits: bool
    blocks: list[Block]


RESULT_TABLES = (
    "summary",
    "markets",
    "sales_by_category",
    "sales_by_product",
    "best_sellers",
    "non_selling_products",
)


BUDGET_TABLES = ("budget_plan", "budget_lines", "budget_market_days")


def document(report: ProvinceReport | NationalReport) -> Document:
    if isinstance(report, NationalReport):
        budgets = report_table(report, "budgets")
        blocks: list[Block] = [Heading(1, report.title), report_table(report, "provinces")]
        blocks += [Heading(2, budgets.title), budgets] if budgets.rows else []
        return Document(report.title, report.thai_digits, blocks)
    return Document(report.title, report.thai_digits, _province_blocks(report))


def _province_blocks(report: ProvinceReport) -> list[Block]:
    t = report.thai_digits
    progress, plan, results, issues = report.progress, report.plan, report.results, report.issues

    def numbered(texts: list[str]) -> list[Block]:
        return [Paragraph(text) for text in thai.ordinal_list(texts, t, "({n})")]

    blocks: list[Block] = [
        Heading(1, report.heading),
        Heading(2, report.subheading),
        Paragraph("การดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP)"),
        Heading(2, f"{progress.number} {progress.heading}"),
        Paragraph(progress.intro),
        Heading(3, f"{thai.digits('1)', t)} {progress.meetings_heading}"),
        *numbered([a.text for a in progress.activities] or ["ยังไม่มีการบันทึกกิจกรรมในช่วงนี้"]),
        Heading(3, f"{thai.digits('2)', t)} {progress.monitoring_heading}"),
        *numbered([c.text for c in progress.committees] + [progress.evaluations.text]),
        Heading(2, f"{plan.number} {plan.heading}"),
        report_table(report, "plan") if plan.rows else Paragraph(f"ยังไม่มีแผน{PROJECT}ในช่วงนี้"),
        Heading(3, results.heading),
        Bullets(results.text),
    ]
    for table in (report_table(report, name) for name in RESULT_TABLES):
        blocks += [Paragraph(table.title), table] if table.rows else []
    blocks += [Heading(2, f"{issues.number} {issues.heading}")]
    for heading, items in (
        (issues.problems_heading, issues.problems),
        (issues.recommendations_heading, issues.recommendations),
    ):
        blocks += [Bullets([heading]), Bullets(thai.ordinal_list([i.text for i in items], t) or ["ไม่มี"])]
    return blocks + _budget_blocks(report) + _outcome_blocks(report)


def _budget_blocks(report: ProvinceReport) -> list[Block]:
    """Section ๔: the proposal's plan table with amounts and approval, its lines, each market day's cost."""
    if report.budget is None:
        return []
    blocks: list[Block] = [
        Heading(2, f"{report.budget.number} {report.budget.heading}"),
        Bullets(report.budget.text),
    ]
    for table in (report_table(report, name) for name in BUDGET_TABLES):
        blocks += [Paragraph(table.title), table] if table.rows else []
    return blocks


def _outcome_blocks(report: ProvinceReport) -> list[Block]:
    """Section ๕ ผลลัพธ์ต่อผู้ผลิต: its sentences, charts and tables, and the note on what they can say."""
    section = report.outcomes
    if section is None:
        return []
    blocks: list[Block] = [
        Heading(2, f"{section.number} {section.heading}"),
        Bullets(section.text),
        *charts(section.figures, report.thai_digits),
    ]
    for table in (report_table(report, name) for name in DOCUMENT_TABLES):
        blocks += [Paragraph(table.title), table] if table.rows else []
    return [*blocks, Paragraph(section.note)]
