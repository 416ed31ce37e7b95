"""Read models of other services' events. Each row holds the newest state of its aggregate: an event
applies only if its revision (or, for aggregates without one, its time) is newer than the row's, so
redelivered and reordered events leave the model correct. Handlers run in the consumer's unit of work
with its inbox claim (shared.read_models.in_order), which makes them idempotent; sales, the busiest
stream, are applied a batch at a time (`sales_changed`, shared.batch.BatchConsumer) with the same inbox
claim, and so are the registry's products and producers (`product_row`, `producer_row`:
shared.read_models)."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from uuid import UUID

from aiokafka import ConsumerRecord
from sqlalchemy import Table, Uuid, any_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.monitoring import tables
from shared.batch import Rejection, claimed_events
from shared.consumer import RejectEvent
from shared.contracts.registry import MentoringGroupState, ProducerState, ProductState
from shared.contracts.sales import SaleRecorded, SaleState, SaleVoided
from shared.contracts.scheduling import (
    AttendanceRecorded,
    InvitationAccepted,
    InvitationDeclined,
    InvitationSent,
    InvitationWithdrawn,
    MarketDayState,
    PlanSet,
    VenueRegistered,
)
from shared.db import arrays, unnested
from shared.events import Envelope
from shared.read_models import keep_newest
from shared.unit_of_work import UnitOfWork


def product_row(envelope: Envelope, event: ProductState) -> dict:
    """The products read model's row of a product event (kept a batch at a time: shared.read_models)."""
    return {
        "id": event.product_id,
        "province_code": envelope.province_code,
        "registered_at": envelope.occurred_at,
        **event.model_dump(
            include={
                "revision",
                "producer_id",
                "name",
                "category",
                "star_level",
                "quadrant",
                "nawatwithi",
                "price_thb",
                "unit",
                "status",
            }
        ),
    }


def producer_row(envelope: Envelope, event: ProducerState) -> dict:
    return {
        "id": event.producer_id,
        "province_code": envelope.province_code,
        **event.model_dump(
            include={"revision", "name", "producer_type", "experienced", "available", "unavailable_reason"}
        ),
    }


def mentoring_group_row(envelope: Envelope, event: MentoringGroupState) -> dict:
    return {
        "id": event.group_id,
        "province_code": envelope.province_code,
        **event.model_dump(include={"revision", "name", "category", "mentor_ids", "mentee_ids", "status"}),
    }


async def venue_changed(uow: UnitOfWork, envelope: Envelope, event: VenueRegistered) -> None:
    row = {
        "id": event.venue_id,
        "province_code": envelope.province_code,
        "as_of": envelope.occurred_at,
        **event.model_dump(include={"name", "kind", "amphoe_code"}),
    }
    await keep_newest(uow.session, tables.venues, [row], version="as_of")


async def plan_set(uow: UnitOfWork, envelope: Envelope, event: PlanSet) -> None:
    if event.last_month < event.first_month:
        raise RejectEvent(f"plan {event.plan_id}: last_month {event.last_month} is before first_month")
    row = {
        "id": event.plan_id,
        "province_code": envelope.province_code,
        **event.model_dump(
            include={
                "revision",
                "name",
                "first_month",
                "last_month",
                "market_days_per_month",
                "products_per_market_day",
                "target_group",
                "budget_source",
            }
        ),
    }
    await keep_newest(uow.session, tables.plans, [row])


async def market_day_changed(uow: UnitOfWork, envelope: Envelope, event: MarketDayState) -> None:
    row = {
        "id": event.market_day_id,
        "province_code": envelope.province_code,
        **event.model_dump(
            include={
                "revision",
                "plan_id",
                "venue_id",
                "venue_name",
                "venue_kind",
                "day",
                "starts_at",
                "ends_at",
                "status",
                "cancel_reason",
            }
        ),
    }
    await keep_newest(uow.session, tables.market_days, [row])


async def attendance_recorded(uow: UnitOfWork, envelope: Envelope, event: AttendanceRecorded) -> None:
    row = {
        "market_day_id": event.market_day_id,
        "province_code": envelope.province_code,
        "revision": event.revision,
        "product_ids": list(dict.fromkeys(event.product_ids)),
        "producer_ids": list(dict.fromkeys(event.producer_ids)),
    }
    await keep_newest(uow.session, tables.attendance, [row], key="market_day_id")
    await refresh_outcome_totals(uow.session, [event.market_day_id])


INVITATION_STATUS = {
    InvitationAccepted: "accepted",
    InvitationDeclined: "declined",
    InvitationSent: "sent",
    InvitationWithdrawn: "withdrawn",
}


async def invitation_changed(uow: UnitOfWork, envelope: Envelope, event: InvitationSent) -> None:
    row = {
        "id": event.invitation_id,
        "province_code": envelope.province_code,
        "as_of": envelope.occurred_at,
        "market_day_id": event.market_day_id,
        "product_id": event.product_id,
        "producer_id": event.producer_id,
        "status": INVITATION_STATUS[type(event)],
        "reason": getattr(event, "reason", None),
        "note": getattr(event, "note", None),
    }
    await keep_newest(uow.session, tables.invitations, [row], version="as_of")
    await refresh_outcome_totals(uow.session, [event.market_day_id])


def _sale_row(envelope: Envelope, event: SaleState) -> dict:
    return {
        "id": event.sale_id,
        "province_code": envelope.province_code,
        "voided": event.voided or isinstance(event, SaleVoided),
        **event.model_dump(
            include={
                "revision",
                "market_day_id",
                "product_id",
                "producer_id",
                "quantity",
                "unit_price_thb",
                "amount_thb",
                "sold_at",
            }
        ),
    }


# Statements built once; their SQL does not depend on the batch's size (arrays: shared.db.unnested).
_SALE_COLUMNS = [
    "id",
    "province_code",
    "voided",
    "revision",
    "market_day_id",
    "product_id",
    "producer_id",
    "quantity",
    "unit_price_thb",
    "amount_thb",
    "sold_at",
]  # the keys of _sale_row
_LOCK_SALES = (
    select(
        tables.sales.c.id,
        tables.sales.c.revision,
        tables.sales.c.market_day_id,
        tables.sales.c.product_id,
        tables.sales.c.amount_thb,
        tables.sales.c.voided,
    )
    .where(tables.sales.c.id == any_(bindparam("ids", type_=ARRAY(Uuid))))
    .order_by(tables.sales.c.id)
    .with_for_update()
)
_upsert = insert(tables.sales).from_select(_SALE_COLUMNS, unnested(tables.sales, _SALE_COLUMNS))
_UPSERT_SALES = _upsert.on_conflict_do_update(
    index_elements=["id"],
    set_={k: _upsert.excluded[k] for k in _SALE_COLUMNS if k != "id"},
    where=tables.sales.c.revision < _upsert.excluded.revision,
).returning(tables.sales.c.id)


async def sales_changed(
    inbox: Table, consumer: str, uow: UnitOfWork, records: Sequence[ConsumerRecord]
) -> list[Rejection]:
    """The sales read model, a batch of SaleRecorded/Corrected/Voided at a time (sales are the busiest
    stream), in the batch's transaction: the event ids are claimed in the inbox, the newest revision of
    each sale replaces an older stored one, and each market day's totals change by the difference.
    Unreadable records are returned to be dead-lettered."""
    events, rejections = await claimed_events(
        uow.session, inbox, consumer, records, SaleState, usual=SaleRecorded
    )
    newest: dict = {}
    for envelope, event in events:
        if event.revision > newest.get(event.sale_id, {}).get("revision", 0):
            newest[event.sale_id] = _sale_row(envelope, event)
    if not newest:
        return rejections
    stored = {row.id: row for row in await uow.session.execute(_LOCK_SALES, {"ids": list(newest)})}
    changed = [
        row
        for sale_id, row in newest.items()
        if sale_id not in stored or stored[sale_id].revision < row["revision"]
    ]
    if not changed:
        return rejections
    written = set((await uow.session.execute(_UPSERT_SALES, arrays(changed, _SALE_COLUMNS))).scalars())
    applied = [(stored.get(row["id"]), row) for row in changed if row["id"] in written]
    await _add_to_totals(uow.session, applied)
    await refresh_outcome_totals(
        uow.session,
        {after["market_day_id"] for _, after in applied}
        | {before.market_day_id for before, _ in applied if before is not None},
    )
    return rejections


async def _add_to_totals(session: AsyncSession, changes: Sequence[tuple]) -> None:
    """Each market day's totals, and each product's at each market day, change by what each sale counted
    before (nothing if new or voided) and what it counts now."""
    days: dict = defaultdict(lambda: [0, Decimal(0)])
    products: dict = defaultdict(lambda: [0, Decimal(0)])

    def count(day, product, amount: Decimal, sign: int) -> None:
        for total in (days[day], products[(day, product)]):
            total[0] += sign
            total[1] += sign * amount

    for before, after in changes:
        if before is not None and not before.voided:
            count(before.market_day_id, before.product_id, before.amount_thb, -1)
        if not after["voided"]:
            count(after["market_day_id"], after["product_id"], Decimal(after["amount_thb"]), 1)
    # In key order, so transactions that touch the same rows lock them in the same order.
    await _add(
        session,
        tables.market_day_sales,
        [
            {"market_day_id": day, "sales": n, "sales_thb": thb}
            for day, (n, thb) in sorted(days.items())
            if n or thb
        ],
    )
    await _add(
        session,
        tables.product_day_sales,
        [
            {"market_day_id": day, "product_id": product, "sales": n, "sales_thb": thb}
            for (day, product), (n, thb) in sorted(products.items())
            if n or thb
        ],
    )


# The outcomes view's totals (tables.producer_days, product_days, intended_products): functions of the
# read models above, recomputed in the same transaction for the market days (or provinces) an event
# touches, from the rows as they stand, so replays and reordered events leave them exact. The same
# definitions as domain.outcomes._Facts: a product's producer from the registry (the province's products),
# else the invitation's; withdrawn invitations are not in the lineup; a product named by the attendance
# record or with counted sales was at market, and so was its producer.
_INTENDED = "p.status = 'active' AND (p.quadrant = 'D' OR p.star_level <= 3 OR p.nawatwithi)"
_PRODUCER_DAYS = """
    INSERT INTO producer_days (market_day_id, producer_id, province_code, experienced, mentored, invited,
                               declined, decline_reasons, attended, sales_thb)
    SELECT f.market_day_id, f.producer_id, f.province_code,
           (SELECT experienced FROM producers pr WHERE pr.id = f.producer_id
                AND pr.province_code = f.province_code),
           EXISTS (SELECT FROM mentoring_groups g WHERE g.province_code = f.province_code
                AND f.producer_id = ANY(g.mentee_ids)),
           f.invited, f.declined, f.decline_reasons, f.attended, f.sales_thb
    FROM (
        SELECT market_day_id, producer_id, min(province_code) AS province_code,
               bool_or(invited) AS invited, bool_or(declined) AS declined,
               coalesce(array_agg(reason ORDER BY reason) FILTER (WHERE declined), '{}') AS decline_reasons,
               bool_or(attended) AS attended, sum(sales_thb) AS sales_thb
        FROM (
            SELECT i.market_day_id, coalesce(p.producer_id, i.producer_id) AS producer_id, i.province_code,
                   true AS invited, i.status = 'declined' AS declined, coalesce(i.reason, 'other') AS reason,
                   false AS attended, 0 AS sales_thb
            FROM invitations i
            LEFT JOIN products p ON p.id = i.product_id AND p.province_code = i.province_code
            WHERE i.status <> 'withdrawn' AND i.market_day_id {days}
            UNION ALL
            SELECT a.market_day_id, unnest(a.producer_ids), a.province_code, false, false, NULL, true, 0
            FROM attendance a WHERE a.market_day_id {days}
            UNION ALL
            SELECT s.market_day_id, p.producer_id, p.province_code, false, false, NULL, true, s.sales_thb
            FROM product_day_sales s JOIN products p ON p.id = s.product_id
            WHERE s.sales > 0 AND s.market_day_id {days}
        ) facts
        WHERE producer_id IS NOT NULL
        GROUP BY market_day_id, producer_id
    ) f"""
# A product's province where only its sales name it: that of its sales (the market day's).
_PRODUCT_DAYS = f"""
    INSERT INTO product_days (market_day_id, product_id, province_code, category, intended, lineup,
                              at_market, sales_thb)
    SELECT f.market_day_id, f.product_id, f.province_code, p.category, coalesce({_INTENDED}, false),
           f.lineup, f.at_market, f.sales_thb
    FROM (
        SELECT market_day_id, product_id,
               coalesce(min(province_code), (SELECT min(province_code) FROM sales x
                   WHERE x.market_day_id = facts.market_day_id AND x.product_id = facts.product_id)
               ) AS province_code,
               sum(lineup) AS lineup, bool_or(at_market) AS at_market, sum(sales_thb) AS sales_thb
        FROM (
            SELECT i.market_day_id, i.product_id, i.province_code, 1 AS lineup, false AS at_market,
                   0 AS sales_thb
            FROM invitations i WHERE i.status <> 'withdrawn' AND i.market_day_id {{days}}
            UNION ALL
            SELECT a.market_day_id, unnest(a.product_ids), a.province_code, 0, true, 0
            FROM attendance a WHERE a.market_day_id {{days}}
            UNION ALL
            SELECT s.market_day_id, s.product_id, NULL, 0, true, s.sales_thb
            FROM product_day_sales s WHERE s.sales > 0 AND s.market_day_id {{days}}
        ) facts
        GROUP BY market_day_id, product_id
    ) f
    LEFT JOIN products p ON p.id = f.product_id AND p.province_code = f.province_code"""
_INTENDED_PRODUCTS = f"""
    INSERT INTO intended_products (province_code, products)
    SELECT province_code, count(*) FROM products p WHERE {_INTENDED} AND province_code {{provinces}}
    GROUP BY province_code"""


def outcome_totals_sql(days: str) -> list[str]:
    """The `INSERT … SELECT`s of the producer_days and product_days rows of the market days `days` picks
    (an SQL condition on market_day_id: "= ANY(:days)"; the migration's backfill, "IS NOT NULL"), and of
    the intended products' counts of the provinces `days` picks."""
    return [
        _PRODUCER_DAYS.replace("{days}", days),
        _PRODUCT_DAYS.replace("{days}", days),
        _INTENDED_PRODUCTS.replace("{provinces}", days),
    ]


def _days_statements() -> list:
    producer_days, product_days, _ = outcome_totals_sql("= ANY(:days)")
    return [
        text(statement).bindparams(bindparam("days", type_=ARRAY(Uuid)))
        for statement in (
            "DELETE FROM producer_days WHERE market_day_id = ANY(:days)",
            "DELETE FROM product_days WHERE market_day_id = ANY(:days)",
            producer_days,
            product_days,
        )
    ]


# Two transactions recomputing the same day (say, an invitation's and a product's) would each miss the
# other's uncommitted change, and collide inserting: the day is locked first (until commit), so the later
# one waits and recomputes from what the first committed. In key order, as everywhere here.
_LOCK = """SELECT pg_advisory_xact_lock(hashtextextended('outcomes ' || key::text, 0))
           FROM (SELECT key FROM unnest(CAST(:keys AS {type}[])) AS key ORDER BY key) AS keys"""
_REFRESH_DAYS = [
    text(_LOCK.format(type="uuid")).bindparams(bindparam("keys", type_=ARRAY(Uuid))),
    *_days_statements(),
]
_REFRESH_PROVINCES = [
    text(_LOCK.format(type="text")),
    text("DELETE FROM intended_products WHERE province_code = ANY(:keys)"),
    text(_INTENDED_PRODUCTS.replace("{provinces}", "= ANY(:keys)")),
]
_DAYS_OF_PRODUCTS = text("SELECT DISTINCT market_day_id FROM product_days WHERE product_id = ANY(:ids)")
_DAYS_OF_PRODUCERS = text("SELECT DISTINCT market_day_id FROM producer_days WHERE producer_id = ANY(:ids)")
_DAYS_OF_PROVINCES = text(
    "SELECT DISTINCT market_day_id FROM producer_days WHERE province_code = ANY(:provinces)"
)


async def refresh_outcome_totals(session: AsyncSession, market_day_ids: Iterable[UUID]) -> None:
    """Recompute producer_days and product_days for these market days (in the caller's transaction), in
    key order so that transactions touching the same days lock them in the same order."""
    days = sorted(set(market_day_ids))
    if days:
        for statement in _REFRESH_DAYS:
            await session.execute(statement, {"keys": days, "days": days})


async def _days_of(session: AsyncSession, query, **params) -> list[UUID]:
    return list((await session.execute(query, params)).scalars())


async def products_changed(uow: UnitOfWork, rows: Sequence[dict]) -> None:
    """A product's producer, category and criteria are in the totals of the days it was invited or at
    market; its province's count of intended products changes with it."""
    ids = sorted({row["id"] for row in rows})
    await refresh_outcome_totals(uow.session, await _days_of(uow.session, _DAYS_OF_PRODUCTS, ids=ids))
    provinces = sorted({row["province_code"] for row in rows})
    for statement in _REFRESH_PROVINCES:
        await uow.session.execute(statement, {"keys": provinces})


async def producers_changed(uow: UnitOfWork, rows: Sequence[dict]) -> None:
    """Whether a producer is new or experienced is in their days' totals."""
    ids = sorted({row["id"] for row in rows})
    await refresh_outcome_totals(uow.session, await _days_of(uow.session, _DAYS_OF_PRODUCERS, ids=ids))


async def mentoring_changed(uow: UnitOfWork, rows: Sequence[dict]) -> None:
    """Who is mentored is in the totals of their province's days (a group's former mentees too)."""
    provinces = sorted({row["province_code"] for row in rows})
    days = await _days_of(uow.session, _DAYS_OF_PROVINCES, provinces=provinces)
    await refresh_outcome_totals(uow.session, days)


async def _add(session: AsyncSession, totals: Table, rows: list[dict]) -> None:
    if rows:
        stmt = insert(totals)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[c.name for c in totals.primary_key],
                set_={
                    "sales": totals.c.sales + stmt.excluded.sales,
                    "sales_thb": totals.c.sales_thb + stmt.excluded.sales_thb,
                },
            ),
            rows,
        )


async def list_products(
    session: AsyncSession, province_code: str, limit: int, offset: int
) -> tuple[int, list[dict]]:
    where = tables.products.c.province_code == province_code
    total = await session.scalar(select(func.count()).select_from(tables.products).where(where))
    rows = await session.execute(
        select(tables.products)
        .where(where)
        .order_by(tables.products.c.registered_at, tables.products.c.id)
        .limit(limit)
        .offset(offset)
    )
    return total or 0, [dict(row) for row in rows.mappings()]
