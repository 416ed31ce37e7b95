"""Budget HTTP API: the season's proposal and its versions, the department's decisions, spending against
the approved lines (purchases and their receipts), the stock of reusable materials and each market day's
packing list. Money is a decimal string of baht with satang, never a float.

Roles: a province officer writes its province's proposal, purchases, stock and packing lists and reads
them; a committee member reads them; the department reads every province, and only the department
approves or returns a proposal (its queue and the national budgets are under /national).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from services.budget import inputs
from services.budget.handlers import commands, queries
from shared.auth import Principal, Role, current_principal, province_access
from shared.contracts.budget import (
    Activity,
    BudgetCategory,
    BudgetLine,
    MaterialKind,
    ProposalStatus,
    PurchaseStatus,
)
from shared.errors import Forbidden
from shared.service import Database, database

router = APIRouter(prefix="/provinces/{province_code}")
national = APIRouter(prefix="/national", tags=["national"])
Db = Annotated[Database, Depends(database)]
Caller = Annotated[Principal, Depends(current_principal)]
WRITE = (Role.PROVINCE_OFFICER, Role.DEPARTMENT)
READ = (*WRITE, Role.COMMITTEE_MEMBER)
Writer = Annotated[str, province_access(*WRITE)]
Reader = Annotated[str, province_access(*READ)]
Department = Annotated[str, province_access(Role.DEPARTMENT)]


class View(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Version(View):
    version: int
    status: ProposalStatus
    activities: list[Activity]
    lines: list[BudgetLine]
    total_thb: Decimal
    submitted_by: str
    submitted_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None


class LineSpending(View):
    category: BudgetCategory
    label: str
    approved_thb: Decimal
    committed_thb: Decimal
    spent_thb: Decimal
    remaining_thb: Decimal


class Spending(View):
    approved_version: int | None
    lines: list[LineSpending]
    approved_thb: Decimal
    committed_thb: Decimal
    spent_thb: Decimal
    remaining_thb: Decimal


class ProposalSummary(View):
    id: UUID
    province_code: str
    revision: int
    fiscal_year: int
    name: str
    version: int
    approved_version: int | None
    status: ProposalStatus
    total_thb: Decimal
    submitted_by: str
    submitted_at: datetime
    comment: str | None


class Proposal(View):
    id: UUID
    province_code: str
    revision: int
    fiscal_year: int
    name: str
    version: int
    approved_version: int | None
    versions: list[Version]
    spending: Spending | None = None


class Purchase(View):
    id: UUID
    province_code: str
    revision: int
    proposal_id: UUID
    category: BudgetCategory
    name: str
    kind: MaterialKind | None
    reusable: bool
    quantity: int
    unit_cost_thb: Decimal
    estimated_thb: Decimal
    market_day_id: UUID | None
    status: PurchaseStatus
    bought_on: date | None
    supplier: str | None
    amount_thb: Decimal | None
    received_on: date | None
    receipt: bool
    changed_by: str


class StockChange(View):
    revision: int
    change: int
    reason: str | None
    purchase_id: UUID | None
    changed_by: str
    changed_at: datetime


class StockItem(View):
    id: UUID
    kind: MaterialKind
    label: str
    on_hand: int
    written_off: int
    revision: int
    history: list[StockChange]


class PackingLine(View):
    kind: MaterialKind
    label: str
    needed: int
    on_hand: int
    short: int
    reusable: bool
    loaded: bool
    returned: bool


class PackingList(View):
    market_day_id: UUID
    day: date
    venue_name: str
    status: str
    lineup_size: int
    items: list[PackingLine]
    shortfall: bool


class NationalBudget(View):
    province_code: str
    proposal_id: UUID
    fiscal_year: int
    name: str
    approved_version: int | None
    approved_thb: Decimal
    committed_thb: Decimal
    spent_thb: Decimal


# --- proposals


@router.get("/proposals", response_model=list[ProposalSummary], tags=["proposals"])
async def list_proposals(db: Db, province_code: Reader) -> list[dict]:
    async with db.sessions() as session:
        return await queries.list_proposals(session, province_code)


@router.post("/proposals", response_model=Proposal, status_code=201, tags=["proposals"])
async def submit_proposal(new: inputs.ProposalIn, db: Db, province_code: Writer, caller: Caller) -> dict:
    """The season's proposal (plan table and budget lines), submitted to the department as version 1."""
    async with db.unit_of_work() as uow:
        return await commands.submit_proposal(uow, province_code, caller.subject, new)


@router.get("/proposals/{proposal_id}", response_model=Proposal, tags=["proposals"])
async def get_proposal(proposal_id: UUID, db: Db, province_code: Reader) -> dict:
    """The proposal with every version (newest last) and the spending against the version in force."""
    async with db.sessions() as session:
        return await queries.get_proposal(session, province_code, proposal_id)


@router.post(
    "/proposals/{proposal_id}/versions", response_model=Proposal, status_code=201, tags=["proposals"]
)
async def resubmit_proposal(
    proposal_id: UUID, new: inputs.ProposalIn, db: Db, province_code: Writer, caller: Caller
) -> dict:
    """The next version: after the department returned the last one, or to amend the approved budget (which
    stays in force until this one is approved). Not while a version waits for a decision (409)."""
    async with db.unit_of_work() as uow:
        return await commands.submit_proposal(uow, province_code, caller.subject, new, proposal_id)


@router.post(
    "/proposals/{proposal_id}/versions/{version}/approve", response_model=Proposal, tags=["proposals"]
)
async def approve(
    proposal_id: UUID,
    version: int,
    decision: inputs.DecisionIn,
    db: Db,
    province_code: Department,
    caller: Caller,
) -> dict:
    """The department only: the version's budget comes into force."""
    async with db.unit_of_work() as uow:
        return await commands.decide(
            uow, province_code, caller.subject, proposal_id, version, True, decision.comment
        )


@router.post(
    "/proposals/{proposal_id}/versions/{version}/return", response_model=Proposal, tags=["proposals"]
)
async def return_proposal(
    proposal_id: UUID,
    version: int,
    decision: inputs.ReturnIn,
    db: Db,
    province_code: Department,
    caller: Caller,
) -> dict:
    """The department only: back to the province with what to change."""
    async with db.unit_of_work() as uow:
        return await commands.decide(
            uow, province_code, caller.subject, proposal_id, version, False, decision.comment
        )


@router.get("/proposals/{proposal_id}/spending", response_model=Spending, tags=["spending"])
async def spending(proposal_id: UUID, db: Db, province_code: Reader) -> dict:
    """Each line of the budget in force: approved, requested (not yet bought), spent and left."""
    async with db.sessions() as session:
        return await queries.spending(session, province_code, proposal_id)


# --- purchases


@router.get("/purchases", response_model=list[Purchase], tags=["spending"])
async def list_purchases(db: Db, province_code: Reader, proposal_id: UUID | None = None) -> list[dict]:
    async with db.sessions() as session:
        return await queries.list_purchases(session, province_code, proposal_id)


@router.post(
    "/proposals/{proposal_id}/purchases", response_model=Purchase, status_code=201, tags=["spending"]
)
async def request_purchase(
    proposal_id: UUID, new: inputs.PurchaseIn, db: Db, province_code: Writer, caller: Caller
) -> dict:
    """Items requested under a line of the approved budget (409 `exceeds_line` if their estimate is more than
    the line has left)."""
    async with db.unit_of_work() as uow:
        return await commands.request_purchase(uow, province_code, caller.subject, proposal_id, new)


@router.post("/purchases/{purchase_id}/bought", response_model=Purchase, tags=["spending"])
async def record_bought(
    purchase_id: UUID, bought: inputs.BoughtIn, db: Db, province_code: Writer, caller: Caller
) -> dict:
    """What was paid, when and to whom (409 `exceeds_line` if more than the line has left)."""
    async with db.unit_of_work() as uow:
        return await commands.record_bought(uow, province_code, caller.subject, purchase_id, bought)


@router.post("/purchases/{purchase_id}/received", response_model=Purchase, tags=["spending"])
async def record_received(
    purchase_id: UUID, received: inputs.ReceivedIn, db: Db, province_code: Writer, caller: Caller
) -> dict:
    """The items arrived; reusable materials join the province's stock."""
    async with db.unit_of_work() as uow:
        return await commands.record_received(uow, province_code, caller.subject, purchase_id, received)


@router.put(
    "/purchases/{purchase_id}/receipt",
    response_model=Purchase,
    tags=["spending"],
    max_body_size=inputs.RECEIPT_MAX_BYTES + 1,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ("image/jpeg", "image/png", "image/webp", "application/pdf")
            },
        }
    },
)
async def attach_receipt(
    purchase_id: UUID, request: Request, db: Db, province_code: Writer, caller: Caller
) -> dict:
    """A scan of the receipt: a JPEG, PNG or WebP image or a PDF, up to 5 MB (checked by its bytes)."""
    receipt = inputs.read_receipt(await request.body())
    async with db.unit_of_work() as uow:
        return await commands.attach_receipt(uow, province_code, caller.subject, purchase_id, receipt)


@router.get("/purchases/{purchase_id}/receipt", tags=["spending"], response_class=Response)
async def get_receipt(purchase_id: UUID, db: Db, province_code: Reader) -> Response:
    async with db.sessions() as session:
        receipt = await queries.receipt(session, province_code, purchase_id)
    extension = receipt["content_type"].rsplit("/", 1)[-1]  # jpeg, png, webp, pdf
    return Response(
        receipt["content"],
        media_type=receipt["content_type"],
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="receipt-{purchase_id}.{extension}"',
        },
    )


# --- stock


@router.get("/stock", response_model=list[StockItem], tags=["materials"])
async def list_stock(db: Db, province_code: Reader) -> list[dict]:
    """The province's reusable materials, with each change (who, how many, why)."""
    async with db.sessions() as session:
        return await queries.list_stock(session, province_code)


@router.post("/stock", response_model=StockItem, status_code=201, tags=["materials"])
async def add_stock(new: inputs.StockIn, db: Db, province_code: Writer, caller: Caller) -> dict:
    """Reusable materials the province already owns."""
    async with db.unit_of_work() as uow:
        await commands.add_stock(uow, province_code, caller.subject, new)
    return await _stock_item(db, province_code, new.kind)


@router.post("/stock/{kind}/write-off", response_model=StockItem, tags=["materials"])
async def write_off(
    kind: MaterialKind, lost: inputs.WriteOffIn, db: Db, province_code: Writer, caller: Caller
) -> dict:
    """Lost or broken, with the reason (409 for more than the province has)."""
    async with db.unit_of_work() as uow:
        await commands.write_off(uow, province_code, caller.subject, kind, lost)
    return await _stock_item(db, province_code, kind)


async def _stock_item(db: Database, province_code: str, kind: MaterialKind) -> dict:
    async with db.sessions() as session:
        stock = await queries.list_stock(session, province_code)
    return next(item for item in stock if item["kind"] == kind)


# --- packing lists


@router.get("/packing-lists", response_model=list[PackingList], tags=["materials"])
async def packing_lists(
    db: Db, province_code: Reader, start: Annotated[date | None, "from"] = None, end: date | None = None
) -> list[dict]:
    """Every market day's packing list, day by day, each with its shortfall (more needed than owned)."""
    async with db.sessions() as session:
        return await queries.packing_lists(session, province_code, start, end)


@router.get("/market-days/{market_day_id}/packing-list", response_model=PackingList, tags=["materials"])
async def packing_list(market_day_id: UUID, db: Db, province_code: Reader) -> dict:
    async with db.sessions() as session:
        return await queries.packing_list(session, province_code, market_day_id)


@router.post("/market-days/{market_day_id}/packing-list", response_model=PackingList, tags=["materials"])
async def check_packing(
    market_day_id: UUID, check: inputs.PackingCheckIn, db: Db, province_code: Writer, caller: Caller
) -> dict:
    """Check an item off as loaded (`loaded`) or back (`returned`), or undo it (false)."""
    async with db.unit_of_work() as uow:
        return await commands.check_packing(uow, province_code, caller.subject, market_day_id, check)


# --- the department


def _department(caller: Caller) -> Principal:
    if caller.role is not Role.DEPARTMENT:
        raise Forbidden("the department's view")
    return caller


DepartmentCaller = Annotated[Principal, Depends(_department)]


@national.get("/proposals", response_model=list[ProposalSummary])
async def proposal_queue(
    db: Db, caller: DepartmentCaller, status: ProposalStatus | None = None
) -> list[dict]:
    """Every province's proposals, oldest submission first (`status=submitted`: waiting for a decision)."""
    async with db.sessions() as session:
        return await queries.proposal_queue(session, status)


@national.get("/budgets", response_model=list[NationalBudget])
async def national_budgets(db: Db, caller: DepartmentCaller) -> list[dict]:
    """Every province's budget in force: approved against requested and spent."""
    async with db.sessions() as session:
        return await queries.national_budgets(session)
