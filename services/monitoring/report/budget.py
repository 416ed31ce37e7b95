"""The report's budget section (section ๔): the season's proposal as the seed's plan table with its amount
and approval, each budget line approved against spent, and each market day's materials and cost, per
market day and per baht sold. Built from the budget read models (handlers/budget.py) and the period's
market days; pure, no I/O. Money is Decimal to the satang; a ratio to four places."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared import thai
from shared.contracts.budget import BudgetCategory, PurchaseStatus
from shared.labels import BUDGET_CATEGORY_TH, MATERIAL_KIND_TH, PROPOSAL_STATUS_TH

SATANG, RATIO = Decimal("0.01"), Decimal("0.0001")
ZERO = Decimal("0.00")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class BudgetPlanRow(_Model):
    number: int
    activity: str
    target_group: str
    period: str
    places: str
    budget_source: str
    amount_thb: Decimal | None  # the project's budget, on its first row
    status: str  # อนุมัติแล้ว / รออนุมัติ / ส่งกลับแก้ไข


class BudgetLineRow(_Model):
    category: str
    label: str
    approved_thb: Decimal
    spent_thb: Decimal  # to the end of the period
    spent_in_period_thb: Decimal
    remaining_thb: Decimal


class MarketDayCost(_Model):
    market_day_id: UUID
    day: date
    venue_name: str
    status: str
    materials: str  # what was loaded: ธงญี่ปุ่น 150 × 50 ซม. 1, โต๊ะ 11, ...
    direct_cost_thb: Decimal  # bought for this market day
    shared_cost_thb: Decimal  # its share of what was bought for the season
    cost_thb: Decimal
    sales_thb: Decimal
    cost_per_baht_sold: Decimal | None


class BudgetSection(_Model):
    number: str  # ๔
    heading: str
    proposal_name: str | None
    fiscal_year: int
    version: int | None
    status: str | None
    status_label: str
    approved_version: int | None
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
    plan: list[BudgetPlanRow]
    lines: list[BudgetLineRow]
    approved_thb: Decimal
    spent_thb: Decimal
    spent_in_period_thb: Decimal
    market_days: list[MarketDayCost]
    cost_per_market_day_thb: Decimal | None
    cost_per_baht_sold: Decimal | None
    text: list[str]


class BudgetRow(_Model):
    """One province of the national roll-up."""

    province_code: str
    province_name: str
    status_label: str
    approved_thb: Decimal
    spent_thb: Decimal


@dataclass(frozen=True)
class MarketDay:
    market_day_id: UUID
    day: date
    venue_name: str
    status: str
    sales_thb: Decimal


@dataclass(frozen=True)
class BudgetData:
    fiscal_year: int
    first_day: date
    last_day: date
    proposal: Mapping | None
    purchases: Sequence[Mapping]  # of the proposal
    packing_lists: Mapping[UUID, Mapping]  # by market day
    market_days: Sequence[MarketDay]  # of the period
    season_market_days: int  # not cancelled, in the fiscal year: what season-wide spending is shared by


def _baht(value: Decimal) -> Decimal:
    return value.quantize(SATANG, ROUND_HALF_UP)


def _ratio(cost: Decimal, sales: Decimal) -> Decimal | None:
    return (cost / sales).quantize(RATIO, ROUND_HALF_UP) if sales > 0 else None


def _spent(purchase: Mapping, until: date) -> Decimal:
    bought = purchase["status"] != PurchaseStatus.REQUESTED and purchase["bought_on"] <= until
    return purchase["amount_thb"] if bought else ZERO


def status_label(proposal: Mapping | None) -> str:
    return PROPOSAL_STATUS_TH[proposal["status"]] if proposal else "ยังไม่เสนอโครงการ"


def build_budget(data: BudgetData, thai_digits: bool) -> BudgetSection:
    proposal, w = data.proposal, (lambda text: thai.digits(text, thai_digits))
    approved = {
        line["category"]: Decimal(line["amount_thb"]) for line in (proposal or {}).get("approved_lines", [])
    }
    spent: dict[str, Decimal] = defaultdict(lambda: ZERO)
    in_period: dict[str, Decimal] = defaultdict(lambda: ZERO)
    direct: dict[UUID, Decimal] = defaultdict(lambda: ZERO)
    shared = ZERO
    for purchase in data.purchases:
        amount = _spent(purchase, data.last_day)
        spent[purchase["category"]] += amount
        if purchase["bought_on"] and purchase["bought_on"] >= data.first_day:
            in_period[purchase["category"]] += amount
        if purchase["market_day_id"] is not None:
            direct[purchase["market_day_id"]] += amount
        else:
            shared += amount
    lines = [
        BudgetLineRow(
            category=category,
            label=BUDGET_CATEGORY_TH[category],
            approved_thb=_baht(approved.get(category, ZERO)),
            spent_thb=_baht(spent[category]),
            spent_in_period_thb=_baht(in_period[category]),
            remaining_thb=_baht(approved.get(category, ZERO) - spent[category]),
        )
        for category in BudgetCategory
        if category in approved or spent[category]
    ]
    share = _baht(shared / data.season_market_days) if data.season_market_days else ZERO
    days = []
    for day in data.market_days:
        if day.status == "cancelled":
            continue
        cost = _baht(direct[day.market_day_id] + share)
        loaded = [
            i for i in (data.packing_lists.get(day.market_day_id) or {}).get("items", []) if i["loaded"]
        ]
        days.append(
            MarketDayCost(
                market_day_id=day.market_day_id,
                day=day.day,
                venue_name=day.venue_name,
                status=day.status,
                materials=w(", ".join(f"{MATERIAL_KIND_TH[i['kind']]} {i['needed']}" for i in loaded)) or "-",
                direct_cost_thb=_baht(direct[day.market_day_id]),
                shared_cost_thb=share,
                cost_thb=cost,
                sales_thb=_baht(day.sales_thb),
                cost_per_baht_sold=_ratio(cost, day.sales_thb),
            )
        )
    held = [day for day in days if day.status == "held"]
    held_cost, held_sales = sum((d.cost_thb for d in held), ZERO), sum((d.sales_thb for d in held), ZERO)
    activities = (proposal or {}).get("activities", [])
    section = BudgetSection(
        number=w("4"),
        heading="งบประมาณและวัสดุอุปกรณ์",
        proposal_name=proposal["name"] if proposal else None,
        fiscal_year=data.fiscal_year,
        version=proposal["version"] if proposal else None,
        status=proposal["status"] if proposal else None,
        status_label=status_label(proposal),
        approved_version=proposal["approved_version"] if proposal else None,
        decided_by=proposal["decided_by"] if proposal else None,
        decided_at=proposal["decided_at"] if proposal else None,
        comment=proposal["comment"] if proposal else None,
        plan=[
            BudgetPlanRow(
                number=n,
                activity=w(a["activity"]),
                target_group=w(a.get("target_group") or "-"),
                period=w(a.get("period") or "-"),
                places=w(a.get("places") or "-"),
                budget_source=w(a.get("budget_source") or "-"),
                amount_thb=(
                    _baht(proposal["approved_total_thb"] or proposal["total_thb"]) if n == 1 else None
                )
                if proposal
                else None,
                status=status_label(proposal),
            )
            for n, a in enumerate(activities, start=1)
        ],
        lines=lines,
        approved_thb=_baht(sum(approved.values(), ZERO)),
        spent_thb=_baht(sum(spent.values(), ZERO)),
        spent_in_period_thb=_baht(sum(in_period.values(), ZERO)),
        market_days=days,
        cost_per_market_day_thb=_baht(held_cost / len(held)) if held else None,
        cost_per_baht_sold=_ratio(held_cost, held_sales),
        text=[],
    )
    return section.model_copy(update={"text": _text(section, thai_digits)})


def _text(section: BudgetSection, thai_digits: bool) -> list[str]:
    """The section as sentences (numbers in the report's digits)."""
    if section.status is None:
        text = [f"ปีงบประมาณ {section.fiscal_year} จังหวัดยังไม่ได้เสนอโครงการ"]
    else:
        comment = f" ความเห็นกรมฯ: {section.comment}" if section.comment else ""
        left = section.approved_thb - section.spent_thb
        text = [
            f"{section.proposal_name} ฉบับที่ {section.version}: {section.status_label}{comment}",
            f"งบประมาณที่อนุมัติ {thai.baht(section.approved_thb, False)} บาท "
            f"ใช้จ่ายแล้ว {thai.baht(section.spent_thb, False)} บาท "
            f"(ในช่วงนี้ {thai.baht(section.spent_in_period_thb, False)} บาท) "
            f"คงเหลือ {thai.baht(left, False)} บาท",
        ]
        if section.cost_per_market_day_thb is not None:
            text.append(f"ค่าใช้จ่ายเฉลี่ยต่อตลาดที่จัดแล้ว {thai.baht(section.cost_per_market_day_thb, False)} บาท")
        if section.cost_per_baht_sold is not None:
            ratio = thai.number(section.cost_per_baht_sold, False, 4)
            text.append(f"ค่าใช้จ่ายต่อยอดจำหน่าย 1 บาท: {ratio} บาท")
    return [thai.digits(sentence, thai_digits) for sentence in text]


def budget_row(
    province_code: str, proposal: Mapping | None, purchases: Sequence[Mapping], until: date
) -> BudgetRow:
    return BudgetRow(
        province_code=province_code,
        province_name=thai.province_name(province_code),
        status_label=status_label(proposal),
        approved_thb=_baht(proposal["approved_total_thb"] if proposal else ZERO),
        spent_thb=_baht(sum((_spent(p, until) for p in purchases), ZERO)),
    )
