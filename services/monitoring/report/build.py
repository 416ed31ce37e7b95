"""Builds the report from read-model rows: pure, no I/O (the handlers query, this decides)."""

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from services.monitoring.domain import (
    CATEGORY_LABELS,
    DEFAULT_COMMITTEE_NAME,
    DEFAULT_PRODUCTS_PER_MARKET,
    ROLE_LABELS,
    CommitteeRole,
    EvaluationState,
    IssueKind,
    Period,
    evaluation_state,
    mean,
    place_of,
    planned_market_days,
    products_shown,
    ratio,
)
from services.monitoring.report.model import (
    PROJECT,
    REPORT_TITLE,
    ActivityItem,
    CommitteeItem,
    DeclineCount,
    EvaluationSummary,
    IssueItem,
    IssuesSection,
    MarketResult,
    MarketSummary,
    NationalReport,
    PlanRow,
    PlanSection,
    ProductRef,
    ProductSales,
    ProgressSection,
    ProvinceReport,
    ProvinceRow,
    ReportPeriod,
    ResultsSection,
    RoleCount,
    SalesLine,
    Scores,
)
from shared import thai
from shared.contracts.scheduling import MarketDayStatus
from shared.labels import DECLINE_REASON_TH, PRODUCT_CATEGORY_TH
from shared.thailand import THAILAND, be_year

BEST_SELLERS = 5
NAMES_LISTED = 10  # in a sentence; the model lists them all
SCORE_COLUMNS = {
    "display": "score_display",
    "variety": "score_variety",
    "customer_interest": "score_customer_interest",
    "organisation": "score_organisation",
    "overall": "overall_score",
}


@dataclass(frozen=True)
class MarketDayFacts:
    """One market day of the period, with what is known about it: attendance, evaluations, sales."""

    market_day_id: UUID
    province_code: str
    plan_id: UUID | None
    day: date
    venue_name: str
    venue_kind: str
    status: str
    product_ids: Sequence[UUID] | None = None  # attendance record, if any
    producer_ids: Sequence[UUID] | None = None
    evaluations: int = 0
    first_evaluated_at: datetime | None = None
    evaluated_products: int | None = None  # of the first evaluation
    evaluated_producers: int | None = None
    customers_estimate: int | None = None
    overall_score: Decimal | None = None  # mean of its evaluations
    sales: int = 0
    sales_thb: Decimal = Decimal("0.00")

    def evaluation_state(self, as_of: date, due_days: int) -> EvaluationState:
        submitted = self.first_evaluated_at.astimezone(THAILAND).date() if self.first_evaluated_at else None
        return evaluation_state(self.status, self.day, submitted, as_of, due_days)

    @property
    def products_shown(self) -> int | None:
        return products_shown(
            len(self.product_ids) if self.product_ids is not None else None, self.evaluated_products
        )


@dataclass(frozen=True)
class ReportData:
    """Everything the province report is made from: read-model and record rows of one province."""

    province_code: str
    period: Period
    as_of: date
    due_days: int
    thai_digits: bool = True
    activities: Sequence[Mapping] = ()
    committees: Sequence[Mapping] = ()  # each with "members": its member rows
    plans: Sequence[Mapping] = ()  # plans sharing a month with the period
    plan_venue_kinds: Mapping[UUID, set[str]] = field(default_factory=dict)
    market_days: Sequence[MarketDayFacts] = ()
    evaluation_scores: Sequence[Mapping] = ()  # score columns of every evaluation of the period
    product_sales: Sequence[Mapping] = ()  # product_id, sales, quantity, amount_thb
    products: Mapping[UUID, Mapping] = field(default_factory=dict)  # shown or sold, with producer_name
    experienced: Mapping[UUID, bool] = field(default_factory=dict)  # producers that took part
    invitations: Sequence[Mapping] = ()  # status, reason, invitations (a count)
    issues: Sequence[Mapping] = ()  # kind, category, text, evaluation_id, in entry order


class _Writer:
    """Numbers and dates in the report's digit style."""

    def __init__(self, thai_digits: bool) -> None:
        self.thai_digits = thai_digits

    def __call__(self, text: str) -> str:
        return thai.digits(text, self.thai_digits)

    def n(self, value: int | Decimal, places: int = 0) -> str:
        return thai.number(value, self.thai_digits, places)

    def date(self, day: date) -> str:
        return thai.long_date(day, self.thai_digits)


def report_period(period: Period, thai_digits: bool) -> ReportPeriod:
    return ReportPeriod(
        kind=period.kind,
        first_day=period.first_day,
        last_day=period.last_day,
        year_be=be_year(period.first_day.year),
        month=period.first_day.month if period.kind == "month" else None,
        fiscal_year_be=thai.fiscal_year(period.first_day),
        quarter=period.quarter,
        label=period.label(thai_digits),
    )


def build_report(data: ReportData) -> ProvinceReport:
    w = _Writer(data.thai_digits)
    province = thai.province_name(data.province_code)
    period = report_period(data.period, data.thai_digits)
    return ProvinceReport(
        province_code=data.province_code,
        province_name=province,
        period=period,
        thai_digits=data.thai_digits,
        as_of=data.as_of,
        title=f"{REPORT_TITLE} {period.label}",
        heading=REPORT_TITLE,
        subheading=period.label,
        progress=_progress(data, w, province),
        plan=_plan(data, w, province),
        results=_results(data, w),
        issues=_issues(data.issues, w),
    )


# --- section ๑


def _progress(data: ReportData, w: _Writer, province: str) -> ProgressSection:
    committees = [_committee(row, w, province) for row in data.committees]
    return ProgressSection(
        number=w("1"),
        heading="ผลความก้าวหน้าในการดำเนินงาน OTOP Mobile",
        intro=f"จังหวัด{province} ได้เตรียมความพร้อมดำเนินงาน{PROJECT} ดังนี้",
        meetings_heading="กิจกรรมประชุมกลไกการขับเคลื่อนการจัดแสดงและจำหน่ายผลิตภัณฑ์ OTOP",
        activities=[_activity(row, w) for row in data.activities],
        monitoring_heading=f"ดำเนินการติดตาม{PROJECT}",
        committees=committees,
        evaluations=_evaluation_summary(
            data, w, committees[0].name if committees else DEFAULT_COMMITTEE_NAME
        ),
    )


def _activity(row: Mapping, w: _Writer) -> ActivityItem:
    when = f" {thai.time_range(row['starts_at'], row['ends_at'], w.thai_digits)}" if row["starts_at"] else ""
    purpose = row["purpose"] if row["purpose"].startswith("เพื่อ") else f"เพื่อ{row['purpose']}"
    text = (
        f"{row['title']} ในวันที่ {w.date(row['held_on'])} ณ {row['venue']}{when} "
        f"กลุ่มเป้าหมาย ประกอบด้วย {row['target_group']} รวมทั้งหมดจำนวน {w.n(row['participants'])} คน "
        f"วัตถุประสงค์{purpose}"
    )
    return ActivityItem(
        activity_id=row["id"],
        **{
            k: row[k]
            for k in (
                "title",
                "held_on",
                "venue",
                "starts_at",
                "ends_at",
                "target_group",
                "participants",
                "purpose",
            )
        },
        text=w(text),
    )


def _joined(items: list[str]) -> str:
    """a, b และc — Thai lists join their last item with และ."""
    return items[0] if len(items) == 1 else f"{' , '.join(items[:-1])} และ{items[-1]}"


def _committee(row: Mapping, w: _Writer, province: str) -> CommitteeItem:
    counts = Counter(member["role"] for member in row["members"])
    roles = [
        RoleCount(role=role, label=ROLE_LABELS[role], members=counts[role])
        for role in CommitteeRole
        if counts[role]
    ]
    labels = [
        f"{ROLE_LABELS[r.role]} จังหวัด{province}"
        if r.role == CommitteeRole.PRACHARAT_WORKING_GROUP
        else ROLE_LABELS[r.role]
        for r in roles
    ]
    if {CommitteeRole.DISTRICT_CDD_OFFICER, CommitteeRole.PROVINCIAL_CDD_OFFICER} <= counts.keys():
        labels = labels[:-2] + ["เจ้าหน้าที่พัฒนาชุมชนอำเภอ/จังหวัด"]
    members = f" ประกอบด้วย{_joined(labels)}" if labels else ""
    order = f" ตาม{row['order_ref']}" if row["order_ref"] else ""
    text = (
        f"แต่งตั้ง{row['name']}{members} จำนวน {w.n(len(row['members']))} คน เมื่อวันที่ "
        f"{w.date(row['appointed_on'])}{order} เพื่อติดตาม สนับสนุน การขับเคลื่อนการจัดแสดง และจำหน่ายผลิตภัณฑ์ "
        f"OTOP และประเมินผลการดำเนินงานในแต่ละตลาด"
    )
    return CommitteeItem(
        committee_id=row["id"],
        name=row["name"],
        appointed_on=row["appointed_on"],
        order_ref=row["order_ref"],
        members=len(row["members"]),
        roles=roles,
        text=w(text),
    )


def _evaluation_summary(data: ReportData, w: _Writer, committee: str) -> EvaluationSummary:
    states = Counter(md.evaluation_state(data.as_of, data.due_days) for md in data.market_days)
    expected = sum(n for state, n in states.items() if state is not EvaluationState.NOT_EXPECTED)
    scores = Scores(
        **{
            name: mean([row[column] for row in data.evaluation_scores])
            for name, column in SCORE_COLUMNS.items()
        }
    )
    done = states[EvaluationState.ON_TIME] + states[EvaluationState.LATE]
    text = (
        f"{committee} รายงานผลให้กรมฯ ทราบ ประเมินผลตลาดแล้ว {w.n(done)} จาก {w.n(expected)} ครั้ง "
        f"(ภายใน {w.n(data.due_days)} วัน {w.n(states[EvaluationState.ON_TIME])} ครั้ง "
        f"ล่าช้า {w.n(states[EvaluationState.LATE])} ครั้ง "
        f"ยังไม่ประเมิน {w.n(states[EvaluationState.MISSING])} ครั้ง "
        f"อยู่ในกำหนด {w.n(states[EvaluationState.PENDING])} ครั้ง)"
    )
    if scores.overall is not None:
        text += f" คะแนนภาพรวมเฉลี่ย {w.n(scores.overall, 2)} จาก {w.n(5)}"
    return EvaluationSummary(
        due_days=data.due_days,
        expected=expected,
        on_time=states[EvaluationState.ON_TIME],
        late=states[EvaluationState.LATE],
        missing=states[EvaluationState.MISSING],
        pending=states[EvaluationState.PENDING],
        evaluations=len(data.evaluation_scores),
        average_scores=scores,
        text=w(text),
    )


# --- section ๒


PLAN_COLUMNS = ["ที่", "ชื่อโครงการ/กิจกรรม", "กลุ่มเป้าหมาย", "ระยะเวลาดำเนินการ", "สถานที่ดำเนินการ", "แหล่งงบประมาณ"]


def _plan(data: ReportData, w: _Writer, province: str) -> PlanSection:
    rows = [
        PlanRow(
            number=n,
            plan_id=plan["id"],
            project_name=w(plan["name"]),
            target_group=w(plan["target_group"] or f"{plan['products_per_market_day']} ผลิตภัณฑ์/ตลาด"),
            period=thai.quarter_span(plan["first_month"], plan["last_month"], w.thai_digits),
            place=place_of(data.plan_venue_kinds.get(plan["id"], set()), province),
            budget_source=w(plan["budget_source"] or "-"),
            **{
                k: plan[k]
                for k in ("first_month", "last_month", "market_days_per_month", "products_per_market_day")
            },
        )
        for n, plan in enumerate(data.plans, start=1)
    ]
    heading = "แผนการดำเนินงานตามโครงการ"
    if data.plans:
        first = min(plan["first_month"] for plan in data.plans)
        last = max(plan["last_month"] for plan in data.plans)
        quarters = sorted({thai.fiscal_quarter(first), thai.fiscal_quarter(last)})
        heading += w(f"ไตรมาส {' - '.join(map(str, quarters))} ({thai.month_span(first, last)})")
    return PlanSection(number=w("2"), heading=heading, columns=PLAN_COLUMNS, rows=rows)


def summarize(
    market_days: Sequence[MarketDayFacts],
    plans: Sequence[Mapping],
    period: Period,
    as_of: date,
    due_days: int,
) -> MarketSummary:
    """Market days held against the plan, products against the per-market target, producers, sales and
    evaluations of one province's period."""
    target = min((plan["products_per_market_day"] for plan in plans), default=DEFAULT_PRODUCTS_PER_MARKET)
    targets = {plan["id"]: plan["products_per_market_day"] for plan in plans}
    held = [md for md in market_days if md.status == MarketDayStatus.HELD]
    counted = [
        (md.products_shown, targets.get(md.plan_id, target)) for md in held if md.products_shown is not None
    ]
    taking_part = [md for md in market_days if md.status != MarketDayStatus.CANCELLED]
    states = Counter(md.evaluation_state(as_of, due_days) for md in market_days)
    return MarketSummary(
        market_days_planned=sum(
            planned_market_days(
                plan["market_days_per_month"], plan["first_month"], plan["last_month"], period
            )
            for plan in plans
        ),
        market_days_scheduled=len(taking_part),
        market_days_held=len(held),
        market_days_cancelled=len(market_days) - len(taking_part),
        products_target_per_market=target,
        markets_counted=len(counted),
        markets_meeting_target=sum(shown >= goal for shown, goal in counted),
        products_shown_total=sum(shown for shown, _ in counted),
        average_products_per_market=mean([shown for shown, _ in counted]),
        producers_taking_part=len({p for md in taking_part for p in md.producer_ids or ()}),
        products_taking_part=len({p for md in taking_part for p in md.product_ids or ()}),
        customers_estimate=sum(md.customers_estimate or 0 for md in market_days),
        sales=sum(md.sales for md in market_days),
        sales_thb=sum((md.sales_thb for md in market_days), Decimal("0.00")),
        evaluations_expected=sum(n for s, n in states.items() if s is not EvaluationState.NOT_EXPECTED),
        evaluations_on_time=states[EvaluationState.ON_TIME],
        evaluations_late=states[EvaluationState.LATE],
        evaluations_missing=states[EvaluationState.MISSING],
    )


def _market(md: MarketDayFacts, target: int, as_of: date, due_days: int) -> MarketResult:
    shown = md.products_shown
    producers = len(md.producer_ids) if md.producer_ids is not None else md.evaluated_producers
    return MarketResult(
        market_day_id=md.market_day_id,
        day=md.day,
        venue_name=md.venue_name,
        venue_kind=md.venue_kind,
        status=md.status,
        products_shown=shown,
        meets_target=None if shown is None else shown >= target,
        producers=producers,
        customers_estimate=md.customers_estimate,
        sales=md.sales,
        sales_thb=md.sales_thb,
        evaluation=md.evaluation_state(as_of, due_days),
        overall_score=md.overall_score,
    )


def _product_ref(product_id: UUID, products: Mapping[UUID, Mapping]) -> dict:
    product = products.get(product_id, {})
    return {
        "product_id": product_id,
        "name": product.get("name", "ผลิตภัณฑ์ที่ยังไม่มีข้อมูล"),
        "category": product.get("category", "unknown"),
        "producer_name": product.get("producer_name"),
    }


def _results(data: ReportData, w: _Writer) -> ResultsSection:
    summary = summarize(data.market_days, data.plans, data.period, data.as_of, data.due_days)
    targets = {plan["id"]: plan["products_per_market_day"] for plan in data.plans}
    by_product = sorted(
        (
            ProductSales(
                **_product_ref(row["product_id"], data.products),
                sales=row["sales"],
                quantity=row["quantity"],
                amount_thb=row["amount_thb"],
                unit=data.products.get(row["product_id"], {}).get("unit", ""),
            )
            for row in data.product_sales
        ),
        key=lambda p: (-p.amount_thb, -p.quantity, p.name),
    )
    by_category = _by_category(by_product)
    sold = {p.product_id for p in by_product if p.sales}
    shown = {p for md in data.market_days if md.status == MarketDayStatus.HELD for p in md.product_ids or ()}
    non_selling = sorted(
        (ProductRef(**_product_ref(p, data.products)) for p in shown - sold), key=lambda p: p.name
    )
    producers = {
        p for md in data.market_days if md.status != MarketDayStatus.CANCELLED for p in md.producer_ids or ()
    }
    new_producers = sum(1 for p in producers if data.experienced.get(p) is False)
    invitations: Counter[str] = Counter()
    declined: Counter[str] = Counter()  # by reason
    for row in data.invitations:
        invitations[row["status"]] += row["invitations"]
        if row["status"] == "declined":
            declined[row["reason"] or "other"] += row["invitations"]
    declines = [
        DeclineCount(reason=reason, label=DECLINE_REASON_TH.get(reason, reason), invitations=n)
        for reason, n in declined.most_common()
    ]
    best = [p for p in by_product if p.amount_thb > 0][:BEST_SELLERS]
    return ResultsSection(
        heading="ผลการดำเนินงาน",
        summary=summary,
        new_producers_taking_part=new_producers,
        markets=[
            _market(
                md, targets.get(md.plan_id, summary.products_target_per_market), data.as_of, data.due_days
            )
            for md in data.market_days
        ],
        sales_by_category=by_category,
        sales_by_product=by_product,
        best_sellers=best,
        non_selling_products=non_selling,
        invitations_sent=sum(invitations.values()),
        invitations_accepted=invitations["accepted"],
        invitations_declined=declines,
        text=[w(line) for line in _results_text(summary, new_producers, best, non_selling, declines, w)],
    )


def _by_category(products: Iterable[ProductSales]) -> list[SalesLine]:
    totals: dict[str, list] = {}
    for p in products:
        line = totals.setdefault(p.category, [0, Decimal(0), Decimal("0.00")])
        line[0] += p.sales
        line[1] += p.quantity
        line[2] += p.amount_thb
    return sorted(
        (
            SalesLine(
                key=category,
                label=PRODUCT_CATEGORY_TH.get(category, category),
                sales=n,
                quantity=quantity,
                amount_thb=amount,
            )
            for category, (n, quantity, amount) in totals.items()
        ),
        key=lambda line: -line.amount_thb,
    )


def _results_text(
    s: MarketSummary,
    new_producers: int,
    best: list[ProductSales],
    non_selling: list[ProductRef],
    declines: list[DeclineCount],
    w: _Writer,
) -> list[str]:
    lines = [
        f"จัดตลาดแล้ว {w.n(s.market_days_held)} ครั้ง จากแผน {w.n(s.market_days_planned)} ครั้ง "
        f"(กำหนดจัด {w.n(s.market_days_scheduled)} ครั้ง ยกเลิก {w.n(s.market_days_cancelled)} ครั้ง)"
    ]
    if s.average_products_per_market is not None:
        lines.append(
            f"ผลิตภัณฑ์ที่นำไปจัดแสดงและจำหน่ายเฉลี่ย {w.n(s.average_products_per_market, 2)} ผลิตภัณฑ์/ตลาด "
            f"(เป้าหมายอย่างน้อย {w.n(s.products_target_per_market)} ผลิตภัณฑ์/ตลาด "
            f"ถึงเป้าหมาย {w.n(s.markets_meeting_target)} จาก {w.n(s.markets_counted)} ตลาด)"
        )
    lines.append(
        f"ผู้ผลิต/ผู้ประกอบการเข้าร่วม {w.n(s.producers_taking_part)} ราย (รายใหม่ {w.n(new_producers)} ราย) "
        f"ผลิตภัณฑ์ {w.n(s.products_taking_part)} รายการ"
    )
    lines.append(
        f"ยอดจำหน่ายรวม {w.n(s.sales_thb, 2)} บาท ({w.n(s.sales)} รายการขาย) "
        f"ลูกค้าประมาณ {w.n(s.customers_estimate)} คน"
    )
    if best:
        lines.append("สินค้าขายดี: " + ", ".join(f"{p.name} ({w.n(p.amount_thb, 2)} บาท)" for p in best))
    if non_selling:
        more = len(non_selling) - NAMES_LISTED
        lines.append(
            f"ผลิตภัณฑ์ที่ยังจำหน่ายไม่ได้ {w.n(len(non_selling))} รายการ: "
            + ", ".join(p.name for p in non_selling[:NAMES_LISTED])
            + (f" และอีก {w.n(more)} รายการ" if more > 0 else "")
        )
    if declines:
        lines.append(
            f"ผู้ผลิตไม่สามารถเข้าร่วม {w.n(sum(d.invitations for d in declines))} ราย: "
            + ", ".join(f"{d.label} {w.n(d.invitations)} ราย" for d in declines)
        )
    return lines


# --- section ๓


def _normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _issue_items(rows: Iterable[Mapping], kind: IssueKind, w: _Writer) -> list[IssueItem]:
    """Entries saying the same thing (kind, category, text) count once; an officer's come first."""
    grouped: dict[tuple[str, str], list[Mapping]] = {}
    for row in sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["evaluation_id"] is not None):
        grouped.setdefault((row["category"], _normalized(row["text"])), []).append(row)
    return [
        IssueItem(
            category=category,
            category_label=CATEGORY_LABELS[kind].get(category, category),
            text=w(text),
            entries=len(entries),
            from_evaluations=sum(e["evaluation_id"] is not None for e in entries),
        )
        for (category, text), entries in grouped.items()
    ]


def _issues(rows: Sequence[Mapping], w: _Writer) -> IssuesSection:
    return IssuesSection(
        number=w("3"),
        heading="ปัญหา / อุปสรรค / ข้อเสนอแนะ",
        problems_heading="ปัญหา / อุปสรรค",
        problems=_issue_items(rows, IssueKind.PROBLEM, w),
        recommendations_heading="ข้อเสนอแนะ",
        recommendations=_issue_items(rows, IssueKind.RECOMMENDATION, w),
    )


# --- the national roll-up


def build_national(
    period: Period,
    as_of: date,
    due_days: int,
    thai_digits: bool,
    market_days: Sequence[MarketDayFacts],
    plans: Sequence[Mapping],
) -> NationalReport:
    """Every province with a plan or a market day in the period, and the totals."""
    provinces = sorted({md.province_code for md in market_days} | {plan["province_code"] for plan in plans})
    rows = [
        ProvinceRow(
            province_code=code,
            province_name=thai.province_name(code),
            **summarize(
                [md for md in market_days if md.province_code == code],
                [p for p in plans if p["province_code"] == code],
                period,
                as_of,
                due_days,
            ).model_dump(),
        )
        for code in provinces
    ]
    report = report_period(period, thai_digits)
    return NationalReport(
        period=report,
        thai_digits=thai_digits,
        as_of=as_of,
        title=f"{REPORT_TITLE} ภาพรวมทุกจังหวัด {report.label}",
        provinces=rows,
        totals=_totals(rows),
    )


def _totals(rows: Sequence[MarketSummary]) -> MarketSummary:
    summed = {
        name: sum(getattr(row, name) for row in rows)
        for name, info in MarketSummary.model_fields.items()
        if info.annotation in (int, Decimal)
    }
    counted, shown = summed["markets_counted"], summed["products_shown_total"]
    return MarketSummary(
        **{
            **summed,
            "sales_thb": Decimal(summed["sales_thb"]).quantize(Decimal("0.01")),
            "products_target_per_market": min(
                (r.products_target_per_market for r in rows), default=DEFAULT_PRODUCTS_PER_MARKET
            ),
            "average_products_per_market": ratio(shown, counted),
        }
    )
