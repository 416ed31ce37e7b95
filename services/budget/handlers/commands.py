"""The budget's changes: each writes its state and emits its aggregate's full new state (revision + 1) in
the caller's unit of work. `by` is the caller's subject (the token's `sub`): who submitted, decided,
bought or wrote off, in the rows and the events (the audit trail)."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as upsert

from services.budget import domain, tables
from services.budget.handlers import queries
from services.budget.inputs import (
    BoughtIn,
    PackingCheckIn,
    ProposalIn,
    PurchaseIn,
    Receipt,
    ReceivedIn,
    StockIn,
    WriteOffIn,
)
from shared.contracts.budget import (
    BudgetCategory,
    MaterialKind,
    PackingItem,
    PackingListChanged,
    ProposalApproved,
    ProposalReturned,
    ProposalState,
    ProposalStatus,
    ProposalSubmitted,
    PurchaseBought,
    PurchaseReceiptAttached,
    PurchaseReceived,
    PurchaseRequested,
    PurchaseState,
    PurchaseStatus,
    StockAdded,
    StockWrittenOff,
)
from shared.db import one_row
from shared.errors import Conflict, Invalid, Refused
from shared.labels import MATERIAL_KIND_TH
from shared.unit_of_work import UnitOfWork

proposals, versions, purchases = tables.proposals, tables.proposal_versions, tables.purchases


# --- proposals


async def submit_proposal(
    uow: UnitOfWork, province_code: str, by: str, new: ProposalIn, proposal_id: UUID | None = None
) -> dict:
    """A new proposal (version 1), or the next version of one: after the department returned it, or to amend
    the approved budget (which stays in force until the new version is approved)."""
    amounts = domain.check_lines(new.lines)
    session = uow.session
    if proposal_id is None:
        taken = await session.scalar(
            select(proposals.c.id).where(
                proposals.c.province_code == province_code, proposals.c.fiscal_year == new.fiscal_year
            )
        )
        if taken is not None:
            raise Conflict(
                f"the province has a proposal for {new.fiscal_year} ({taken}): submit a new version of it"
            )
        proposal: dict = {
            "id": uuid4(),
            "province_code": province_code,
            "revision": 1,
            "fiscal_year": new.fiscal_year,
            "name": new.name,
            "version": 1,
            "approved_version": None,
        }
        await session.execute(insert(proposals).values(proposal))
    else:
        proposal = await queries.proposal_row(session, province_code, proposal_id, lock=True)
        newest = (await queries.version_rows(session, proposal["id"]))[-1]
        if newest["status"] == ProposalStatus.SUBMITTED:
            raise Conflict(f"version {newest['version']} is waiting for the department's decision")
        if new.fiscal_year != proposal["fiscal_year"]:
            raise Invalid.at(("body", "fiscal_year"), f"the proposal is for {proposal['fiscal_year']}")
        for category, line in (await queries.line_spending(session, proposal)).items():
            if amounts.get(category, domain.ZERO) < line.committed + line.spent:
                raise Refused(
                    "below_spending",
                    f"{category}: {line.committed + line.spent} บาท is already requested or spent",
                    409,
                )
        proposal = {**proposal, "revision": proposal["revision"] + 1, "version": proposal["version"] + 1}
        await session.execute(
            update(proposals)
            .where(proposals.c.id == proposal["id"])
            .values(revision=proposal["revision"], version=proposal["version"], name=new.name)
        )
    await session.execute(
        insert(versions).values(
            proposal_id=proposal["id"],
            version=proposal["version"],
            province_code=province_code,
            status=ProposalStatus.SUBMITTED,
            activities=[activity.model_dump(mode="json") for activity in new.activities],
            lines=[line.model_dump(mode="json") for line in new.lines],
            total_thb=domain.total(amounts.values()),
            submitted_by=by,
        )
    )
    return await _emit_proposal(uow, province_code, proposal["id"], ProposalSubmitted)


async def decide(
    uow: UnitOfWork,
    province_code: str,
    by: str,
    proposal_id: UUID,
    version: int,
    approve: bool,
    comment: str | None,
) -> dict:
    """The department approves the version waiting for it (its budget comes into force) or returns it with
    its comment. Only the newest version, and only once."""
    session = uow.session
    proposal = await queries.proposal_row(session, province_code, proposal_id, lock=True)
    newest = (await queries.version_rows(session, proposal_id))[-1]
    if version != newest["version"]:
        raise Conflict(f"version {version} is not the newest ({newest['version']})")
    if newest["status"] != ProposalStatus.SUBMITTED:
        raise Conflict(f"version {version} was already decided: {newest['status']}")
    status = ProposalStatus.APPROVED if approve else ProposalStatus.RETURNED
    await session.execute(
        update(versions)
        .where(versions.c.proposal_id == proposal_id, versions.c.version == version)
        .values(status=status, decided_by=by, decided_at=datetime.now(UTC), comment=comment)
    )
    await session.execute(
        update(proposals)
        .where(proposals.c.id == proposal_id)
        .values(
            revision=proposal["revision"] + 1,
            approved_version=version if approve else proposal["approved_version"],
        )
    )
    return await _emit_proposal(
        uow, province_code, proposal_id, ProposalApproved if approve else ProposalReturned
    )


async def _emit_proposal(
    uow: UnitOfWork, province_code: str, proposal_id: UUID, event: type[ProposalState]
) -> dict:
    proposal = await queries.proposal_row(uow.session, province_code, proposal_id)
    all_versions = await queries.version_rows(uow.session, proposal_id)
    newest = all_versions[-1]
    approved = next((v for v in all_versions if v["version"] == proposal["approved_version"]), None)
    approved_lines = queries.lines_of(approved)
    uow.emit(
        event(
            proposal_id=proposal_id,
            revision=proposal["revision"],
            name=proposal["name"],
            fiscal_year=proposal["fiscal_year"],
            version=newest["version"],
            status=newest["status"],
            activities=newest["activities"],
            lines=newest["lines"],
            total_thb=newest["total_thb"],
            submitted_by=newest["submitted_by"],
            submitted_at=newest["submitted_at"],
            decided_by=newest["decided_by"],
            decided_at=newest["decided_at"],
            comment=newest["comment"],
            approved_version=proposal["approved_version"],
            approved_lines=approved_lines,
            approved_total_thb=domain.total(line.amount_thb for line in approved_lines),
        ),
        province_code=province_code,
    )
    return {**proposal, "versions": all_versions}


# --- spending


async def request_purchase(
    uow: UnitOfWork, province_code: str, by: str, proposal_id: UUID, new: PurchaseIn
) -> dict:
    """Items requested under a line of the approved budget; their estimate is held on the line."""
    proposal = await queries.proposal_row(uow.session, province_code, proposal_id, lock=True)
    estimated = domain.baht(new.unit_cost_thb * new.quantity)
    lines = await queries.line_spending(uow.session, proposal)
    domain.within_line(lines.get(new.category), estimated)
    if new.kind is not None and new.category != BudgetCategory.MATERIALS:
        raise Invalid.at(("body", "kind"), "materials and equipment are requested under the materials line")
    if new.market_day_id is not None:
        await queries.market_day(uow.session, province_code, new.market_day_id)
    row = {
        "id": uuid4(),
        "province_code": province_code,
        "revision": 1,
        "proposal_id": proposal_id,
        **new.model_dump(),
        "reusable": new.kind in domain.REUSABLE,
        "estimated_thb": estimated,
        "status": PurchaseStatus.REQUESTED,
        "changed_by": by,
    }
    await uow.session.execute(insert(purchases).values(row))
    return await _emit_purchase(uow, province_code, row["id"], PurchaseRequested)


async def record_bought(
    uow: UnitOfWork, province_code: str, by: str, purchase_id: UUID, bought: BoughtIn
) -> dict:
    """What was paid: it must fit what the line has left (the request's own estimate released)."""
    purchase = await _purchase(uow, province_code, purchase_id)
    if purchase["status"] != PurchaseStatus.REQUESTED:
        raise Conflict(f"the purchase is already {purchase['status']}")
    proposal = await queries.proposal_row(uow.session, province_code, purchase["proposal_id"], lock=True)
    lines = await queries.line_spending(uow.session, proposal)
    domain.within_line(
        lines.get(BudgetCategory(purchase["category"])), bought.amount_thb, purchase["estimated_thb"]
    )
    await _change_purchase(uow, purchase, by, status=PurchaseStatus.BOUGHT, **bought.model_dump())
    return await _emit_purchase(uow, province_code, purchase_id, PurchaseBought)


async def attach_receipt(
    uow: UnitOfWork, province_code: str, by: str, purchase_id: UUID, receipt: Receipt
) -> dict:
    purchase = await _purchase(uow, province_code, purchase_id)
    if purchase["status"] == PurchaseStatus.REQUESTED:
        raise Conflict("record the purchase as bought before its receipt")
    values = {"content_type": receipt.content_type, "content": receipt.content, "sha256": receipt.sha256}
    stmt = upsert(tables.receipts).values(
        purchase_id=purchase_id, province_code=province_code, uploaded_by=by, **values
    )
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["purchase_id"],
            set_={**values, "uploaded_by": by, "uploaded_at": datetime.now(UTC)},
        )
    )
    await _change_purchase(uow, purchase, by)
    return await _emit_purchase(uow, province_code, purchase_id, PurchaseReceiptAttached)


async def record_received(
    uow: UnitOfWork, province_code: str, by: str, purchase_id: UUID, received: ReceivedIn
) -> dict:
    """The items arrived; reusable ones join the province's stock."""
    purchase = await _purchase(uow, province_code, purchase_id)
    if purchase["status"] != PurchaseStatus.BOUGHT:
        raise Conflict(f"only a bought purchase can be received (this one is {purchase['status']})")
    await _change_purchase(
        uow, purchase, by, status=PurchaseStatus.RECEIVED, received_on=received.received_on
    )
    if purchase["reusable"] and purchase["kind"] is not None:
        await _stock_change(
            uow,
            province_code,
            by,
            MaterialKind(purchase["kind"]),
            purchase["quantity"],
            purchase["name"],
            purchase_id,
        )
    return await _emit_purchase(uow, province_code, purchase_id, PurchaseReceived)


async def _purchase(uow: UnitOfWork, province_code: str, purchase_id: UUID) -> dict:
    return await one_row(
        uow.session,
        select(purchases)
        .where(purchases.c.province_code == province_code, purchases.c.id == purchase_id)
        .with_for_update(),
        "no such purchase in this province",
    )


async def _change_purchase(uow: UnitOfWork, purchase: dict, by: str, **values) -> None:
    await uow.session.execute(
        update(purchases)
        .where(purchases.c.id == purchase["id"])
        .values(**values, revision=purchase["revision"] + 1, changed_by=by)
    )


async def _emit_purchase(
    uow: UnitOfWork, province_code: str, purchase_id: UUID, event: type[PurchaseState]
) -> dict:
    [row] = await queries.list_purchases(uow.session, province_code, purchase_id=purchase_id)
    uow.emit(event.model_validate({**row, "purchase_id": row["id"]}), province_code=province_code)
    return row


# --- stock


async def add_stock(uow: UnitOfWork, province_code: str, by: str, new: StockIn) -> dict:
    """Reusable materials the province already owns."""
    if new.kind not in domain.REUSABLE:
        raise Invalid.at(("body", "kind"), f"{new.kind} is used up, not kept in stock")
    return await _stock_change(uow, province_code, by, new.kind, new.quantity, new.reason)


async def write_off(
    uow: UnitOfWork, province_code: str, by: str, kind: MaterialKind, lost: WriteOffIn
) -> dict:
    """Lost or broken: out of the stock, with the reason."""
    return await _stock_change(uow, province_code, by, kind, -lost.quantity, lost.reason)


async def _stock_change(
    uow: UnitOfWork,
    province_code: str,
    by: str,
    kind: MaterialKind,
    change: int,
    reason: str,
    purchase_id: UUID | None = None,
) -> dict:
    stock = tables.stock
    # The row of this kind, made at 0 if new, then locked: concurrent changes queue on it.
    await uow.session.execute(
        upsert(stock)
        .values(
            id=uuid4(),
            province_code=province_code,
            revision=0,
            kind=kind,
            name=MATERIAL_KIND_TH[kind],
            on_hand=0,
        )
        .on_conflict_do_nothing(index_elements=["province_code", "kind"])
    )
    current = (
        (
            await uow.session.execute(
                select(stock)
                .where(stock.c.province_code == province_code, stock.c.kind == kind)
                .with_for_update()
            )
        )
        .mappings()
        .one()
    )
    if current["on_hand"] + change < 0:
        raise Refused(
            "more_than_on_hand", f"only {current['on_hand']} {MATERIAL_KIND_TH[kind]} in stock", 409
        )
    written_off = current["written_off"] + max(-change, 0)
    row = dict(
        (
            await uow.session.execute(
                update(stock)
                .where(stock.c.id == current["id"])
                .values(
                    revision=current["revision"] + 1,
                    on_hand=current["on_hand"] + change,
                    written_off=written_off,
                )
                .returning(stock)
            )
        )
        .mappings()
        .one()
    )
    await uow.session.execute(
        insert(tables.stock_changes).values(
            stock_id=row["id"],
            revision=row["revision"],
            province_code=province_code,
            change=change,
            reason=reason,
            purchase_id=purchase_id,
            changed_by=by,
        )
    )
    event = StockAdded if change > 0 else StockWrittenOff
    uow.emit(
        event.model_validate(
            {
                **row,
                "stock_id": row["id"],
                "change": change,
                "reason": reason,
                "purchase_id": purchase_id,
                "changed_by": by,
            }
        ),
        province_code=province_code,
    )
    return row


# --- packing lists


async def check_packing(
    uow: UnitOfWork, province_code: str, by: str, market_day_id: UUID, check: PackingCheckIn
) -> dict:
    """An item of the market day's list checked off (or unchecked) as loaded, or as back."""
    packing = await queries.packing_list(uow.session, province_code, market_day_id)
    if not any(item["kind"] == check.kind for item in packing["items"]):
        raise Invalid.at(("body", "kind"), f"{check.kind} is not on this market day's list")
    if check.loaded is None and check.returned is None:
        raise Invalid.at(("body",), "say loaded or returned")
    lists = tables.packing_lists
    await uow.session.execute(
        upsert(lists)
        .values(market_day_id=market_day_id, province_code=province_code, revision=0, checks={})
        .on_conflict_do_nothing(index_elements=["market_day_id"])
    )
    current = (
        (
            await uow.session.execute(
                select(lists).where(lists.c.market_day_id == market_day_id).with_for_update()
            )
        )
        .mappings()
        .one()
    )
    checks = dict(current["checks"])
    mark = dict(checks.get(check.kind, {}))
    mark.update(
        {name: value for name in ("loaded", "returned") if (value := getattr(check, name)) is not None}
    )
    checks[check.kind] = mark
    await uow.session.execute(
        update(lists)
        .where(lists.c.market_day_id == market_day_id)
        .values(revision=current["revision"] + 1, checks=checks)
    )
    packing = await queries.packing_list(uow.session, province_code, market_day_id)
    uow.emit(
        PackingListChanged(
            market_day_id=market_day_id,
            revision=current["revision"] + 1,
            day=packing["day"],
            lineup_size=packing["lineup_size"],
            items=[PackingItem.model_validate(item) for item in packing["items"]],
            changed_by=by,
        ),
        province_code=province_code,
    )
    return packing
