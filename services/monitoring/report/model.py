"""The report to the department, typed: the shape of the seed document (the monthly report of
Suphanburi, June 2562). JSON, Markdown, DOCX, PDF, XLSX and CSV are all made from this model.

Facts are typed (dates, counts, baht); what the report prints as sentences is given ready in `text`
fields, written with Thai digits when the report was asked for them (`thai_digits`)."""

from datetime import date, time
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from services.monitoring.domain.outcomes import ProvinceOutcomes
from services.monitoring.report.budget import BudgetRow, BudgetSection

REPORT_TITLE = "สรุปการดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP)"
PROJECT = "โครงการ OTOP เคลื่อนที่ (OTOP Mobile)"


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ReportPeriod(Model):
    kind: Literal["month", "quarter", "days"]
    first_day: date
    last_day: date
    year_be: int  # of the first day
    month: int | None  # for a month
    fiscal_year_be: int
    quarter: int | None  # for a quarter of the fiscal year
    label: str  # เดือนมิถุนายน ๒๕๖๒


# --- section ๑: progress


class ActivityItem(Model):
    activity_id: UUID
    title: str
    held_on: date
    venue: str
    starts_at: time | None
    ends_at: time | None
    target_group: str
    participants: int
    purpose: str
    text: str  # (๑) การประชุม... ในวันที่ ๒๔ มิถุนายน ๒๕๖๒ ณ ... เวลา ๐๘.๓๐ - ๑๖.๓๐ น. ... จำนวน ๔๐ คน วัตถุประสงค์...


class RoleCount(Model):
    role: str
    label: str
    members: int


class CommitteeItem(Model):
    committee_id: UUID
    name: str
    appointed_on: date
    order_ref: str | None
    members: int
    roles: list[RoleCount]
    text: str  # แต่งตั้ง... ประกอบด้วย... เพื่อติดตาม สนับสนุน ...


class Scores(Model):
    display: Decimal | None
    variety: Decimal | None
    customer_interest: Decimal | None
    organisation: Decimal | None
    overall: Decimal | None


class EvaluationSummary(Model):
    due_days: int
    expected: int  # market days that call for an evaluation
    on_time: int
    late: int
    missing: int  # past due and none
    pending: int  # none yet, still within the time for it
    evaluations: int  # submitted (several members may evaluate one market day)
    average_scores: Scores
    text: str  # คณะกรรมการ... รายงานผลให้กรมฯ ทราบ: ...


class ProgressSection(Model):
    number: str  # ๑
    heading: str
    intro: str
    meetings_heading: str
    activities: list[ActivityItem]
    monitoring_heading: str
    committees: list[CommitteeItem]
    evaluations: EvaluationSummary


# --- section ๒: the plan, and results against it


class PlanRow(Model):
    number: int
    plan_id: UUID
    project_name: str
    target_group: str
    period: str  # ไตรมาส ๓-๔ (มิ.ย.-ก.ย.๖๒)
    place: str  # ตลาดประชารัฐและแหล่งท่องเที่ยวจังหวัดสุพรรณบุรี
    budget_source: str
    first_month: date
    last_month: date
    market_days_per_month: int
    products_per_market_day: int


class PlanSection(Model):
    number: str  # ๒
    heading: str  # แผนการดำเนินงานตามโครงการไตรมาส ๓ - ๔ (มิถุนายน ๒๕๖๒ - กันยายน ๒๕๖๒)
    columns: list[str]
    rows: list[PlanRow]


class MarketResult(Model):
    market_day_id: UUID
    day: date
    venue_name: str
    venue_kind: str
    status: str
    products_shown: int | None  # attendance record, else the committee's count; None: not known
    meets_target: bool | None
    producers: int | None
    customers_estimate: int | None
    sales: int
    sales_thb: Decimal
    evaluation: str  # EvaluationState
    overall_score: Decimal | None


class SalesLine(Model):
    key: str  # category, or product id
    label: str
    sales: int
    quantity: Decimal
    amount_thb: Decimal


class ProductRef(Model):
    product_id: UUID
    name: str
    category: str
    producer_name: str | None


class ProductSales(ProductRef):
    sales: int
    quantity: Decimal
    unit: str
    amount_thb: Decimal


class DeclineCount(Model):
    reason: str
    label: str
    invitations: int


class MarketSummary(Model):
    """Market days, products, producers and sales of a period: a province's results, or one row of the
    national roll-up."""

    market_days_planned: int
    market_days_scheduled: int  # not cancelled
    market_days_held: int
    market_days_cancelled: int
    products_target_per_market: int
    markets_counted: int  # held market days whose products are known
    markets_meeting_target: int
    products_shown_total: int  # over the markets counted
    average_products_per_market: Decimal | None
    producers_taking_part: int
    products_taking_part: int
    customers_estimate: int
    sales: int
    sales_thb: Decimal
    evaluations_expected: int
    evaluations_on_time: int
    evaluations_late: int
    evaluations_missing: int


class ResultsSection(Model):
    heading: str
    summary: MarketSummary
    new_producers_taking_part: int
    markets: list[MarketResult]
    sales_by_category: list[SalesLine]
    sales_by_product: list[ProductSales]
    best_sellers: list[ProductSales]
    non_selling_products: list[ProductRef]
    invitations_sent: int
    invitations_accepted: int
    invitations_declined: list[DeclineCount]
    text: list[str]  # the results as sentences


# --- section ๓: problems / obstacles / recommendations


class IssueItem(Model):
    category: str
    category_label: str
    text: str
    entries: int  # how many entries say this (an officer's, evaluations')
    from_evaluations: int


class IssuesSection(Model):
    number: str  # ๓
    heading: str
    problems_heading: str
    problems: list[IssueItem]
    recommendations_heading: str
    recommendations: list[IssueItem]


class OutcomesSection(Model):
    """ผลลัพธ์ต่อผู้ผลิต: the season up to the report's last day (report.outcomes builds it)."""

    number: str  # ๕
    heading: str
    season: str  # e.g. ฤดูกาล ๒๕๖๒ (๘ มิ.ย. ๖๒ - ๒๘ ก.ย. ๖๒)
    text: list[str]
    note: str
    figures: ProvinceOutcomes


class ProvinceReport(Model):
    province_code: str
    province_name: str
    period: ReportPeriod
    thai_digits: bool
    as_of: date  # the day (in Thailand) the report was made: evaluations due later are pending
    title: str  # สรุปการดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP) เดือนมิถุนายน ๒๕๖๒
    heading: str  # สรุปการดำเนินงานโครงการหนึ่งตำบล หนึ่งผลิตภัณฑ์ (OTOP)
    subheading: str  # เดือนมิถุนายน ๒๕๖๒
    progress: ProgressSection
    plan: PlanSection
    results: ResultsSection
    issues: IssuesSection
    budget: BudgetSection | None = None  # section ๔ (report/budget.py)
    outcomes: OutcomesSection | None = None


# --- the national roll-up


class ProvinceRow(MarketSummary):
    province_code: str
    province_name: str


class NationalReport(Model):
    period: ReportPeriod
    thai_digits: bool
    as_of: date
    title: str
    provinces: list[ProvinceRow]
    totals: MarketSummary  # producers and products counted once per province
    budgets: list[
        BudgetRow
    ] = []  # each province's budget in force: approved against spent (report/budget.py)
