"""Events published by the budget service: the season's project proposal (every version, its submission
and the department's decision), spending against its budget lines (purchases of materials and
equipment, from request to receipt), the province's stock of reusable materials and each market day's
packing list. Each event is its aggregate's full state at its revision. Money is a decimal string in
baht with satang (two places), never a float."""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared import topics
from shared.events import Payload, contract

# Baht with satang: positive, at most two decimal places.
Baht = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]


class BudgetCategory(StrEnum):
    MATERIALS = "materials"  # ค่าวัสดุอุปกรณ์
    PUBLICITY = "publicity"  # ค่าประชาสัมพันธ์
    TRANSPORT = "transport"  # ค่าพาหนะและขนส่ง
    MEETINGS = "meetings"  # ค่าประชุมและเบี้ยเลี้ยง
    OTHER = "other"  # อื่น ๆ


class ProposalStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for the department
    APPROVED = "approved"
    RETURNED = "returned"  # with the department's comment; the officer resubmits


class Activity(BaseModel):
    """One row of the seed's plan table."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    activity: str = Field(min_length=1, max_length=500)
    target_group: str | None = Field(default=None, max_length=500)
    period: str | None = Field(default=None, max_length=200)
    places: str | None = Field(default=None, max_length=500)
    budget_source: str | None = Field(default=None, max_length=200, description="e.g. งบบุคลากรฯ")


class BudgetLine(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    category: BudgetCategory
    amount_thb: Baht
    description: str | None = Field(default=None, max_length=500)


class ProposalState(Payload):
    """A proposal at one revision: its newest version and, apart from it, the version in force (the newest
    approved one: spending is counted against its lines while an amendment waits)."""

    proposal_id: UUID
    revision: int = Field(ge=1)
    name: str = Field(min_length=1)
    fiscal_year: int = Field(ge=2500, le=2700, description="Buddhist Era, e.g. 2562")
    version: int = Field(ge=1)
    status: ProposalStatus
    activities: list[Activity]
    lines: list[BudgetLine]
    total_thb: Decimal
    submitted_by: str
    submitted_at: AwareDatetime
    decided_by: str | None = None
    decided_at: AwareDatetime | None = None
    comment: str | None = None
    approved_version: int | None = None
    approved_lines: list[BudgetLine] = Field(default_factory=list)
    approved_total_thb: Decimal = Decimal("0.00")

    def key(self) -> str:
        return str(self.proposal_id)


@contract("budget.proposal.submitted", 1, topics.BUDGET_PROPOSALS)
class ProposalSubmitted(ProposalState):
    pass


@contract("budget.proposal.approved", 1, topics.BUDGET_PROPOSALS)
class ProposalApproved(ProposalState):
    pass


@contract("budget.proposal.returned", 1, topics.BUDGET_PROPOSALS)
class ProposalReturned(ProposalState):
    pass


class MaterialKind(StrEnum):
    FLAG = "flag"  # ธงญี่ปุ่น 150 × 50 ซม.
    BANNER = "banner"  # ป้ายไวนิล
    TENT = "tent"  # เต็นท์
    TABLE = "table"  # โต๊ะ
    TABLECLOTH = "tablecloth"  # ผ้าปูโต๊ะ
    PRICE_TAG = "price_tag"  # ป้ายราคา
    OTHER = "other"


class PurchaseStatus(StrEnum):
    REQUESTED = "requested"
    BOUGHT = "bought"
    RECEIVED = "received"


class PurchaseState(Payload):
    """Spending against a budget line: items requested (quantity × unit cost), then bought (date, supplier,
    amount), then received. `kind` is set for materials and equipment."""

    purchase_id: UUID
    revision: int = Field(ge=1)
    proposal_id: UUID
    category: BudgetCategory
    name: str = Field(min_length=1)
    kind: MaterialKind | None = None
    reusable: bool = False
    quantity: int = Field(ge=1)
    unit_cost_thb: Decimal
    estimated_thb: Decimal
    market_day_id: UUID | None = None
    status: PurchaseStatus
    bought_on: date | None = None
    supplier: str | None = None
    amount_thb: Decimal | None = None
    receipt: bool = False
    received_on: date | None = None
    changed_by: str

    def key(self) -> str:
        return str(self.purchase_id)


@contract("budget.purchase.requested", 1, topics.BUDGET_SPENDING)
class PurchaseRequested(PurchaseState):
    pass


@contract("budget.purchase.bought", 1, topics.BUDGET_SPENDING)
class PurchaseBought(PurchaseState):
    pass


@contract("budget.purchase.receipt_attached", 1, topics.BUDGET_SPENDING)
class PurchaseReceiptAttached(PurchaseState):
    pass


@contract("budget.purchase.received", 1, topics.BUDGET_SPENDING)
class PurchaseReceived(PurchaseState):
    pass


class StockState(Payload):
    """The province's stock of one kind of reusable material, and the change that made this revision."""

    stock_id: UUID
    revision: int = Field(ge=1)
    kind: MaterialKind
    name: str
    on_hand: int = Field(ge=0)
    written_off: int = Field(ge=0)
    change: int
    reason: str | None = None
    purchase_id: UUID | None = None
    changed_by: str

    def key(self) -> str:
        return str(self.stock_id)


@contract("budget.stock.added", 1, topics.BUDGET_MATERIALS)
class StockAdded(StockState):
    pass


@contract("budget.stock.written_off", 1, topics.BUDGET_MATERIALS)
class StockWrittenOff(StockState):
    pass


class PackingItem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: MaterialKind
    needed: int = Field(ge=0)
    on_hand: int = Field(ge=0)
    loaded: bool = False
    returned: bool = False


@contract("budget.packing_list.changed", 1, topics.BUDGET_MATERIALS)
class PackingListChanged(Payload):
    """A market day's packing list as it was checked off: what goes, loaded and back."""

    market_day_id: UUID
    revision: int = Field(ge=1)
    day: date
    lineup_size: int = Field(ge=0)
    items: list[PackingItem]
    changed_by: str

    def key(self) -> str:
        return str(self.market_day_id)
