"""The POS ingress: signed sales from the Kafka ingress topic (a batch at a time), the HTTP ingress, and the
sales held until the product or market day they name is known."""

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.sales import tables
from services.sales.config import SalesSettings
from services.sales.domain import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    Refusal,
    Verdict,
    judge_held,
    pos_sale_id,
    read_pos_sale,
    verify_signature,
)
from services.sales.handlers.recording import Judged, judge_sales, known_references, sale_row, store_sales
from services.sales.identity import integration_of
from shared import faults
from shared.auth import Principal
from shared.batch import Rejection
from shared.consumer import Record, count_applied
from shared.contracts.sales import PosSale, SaleChannel
from shared.errors import Forbidden, Invalid, Refused, field_error
from shared.topics import SALES_INGRESS
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


INGRESS_GROUP = "sales.ingress"  # the POS ingress's consumer group; it counts every POS sale recorded
HELD_SALES_GROUP = "sales.held"  # the dlq-consumer-group of sales dead-lettered when their hold ran out


@dataclass(frozen=True)
class SaleOrigin:
    """Where a POS sale came from: a record of the ingress topic, an item of an HTTP ingress request, or a
    held sale (which keeps the origin it came with). It is what a refused sale is dead-lettered as, on the
    ingress topic's dead-letter topic (it reads as a shared.consumer.Record), whichever way it came."""

    topic: str
    partition: int | None  # Kafka's; None for an HTTP item
    offset: int | None
    key: bytes | None
    value: bytes  # the signed envelope
    headers: Sequence[tuple[str, bytes]]
    timestamp: int | None = None  # Kafka's, in ms (a dead letter's dlq-original-timestamp)

    @classmethod
    def kafka(cls, record: Record) -> "SaleOrigin":
        return cls(
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value or b"",
            tuple(record.headers or ()),
            getattr(record, "timestamp", None),
        )

    @classmethod
    def http(cls, key_id: str, item: bytes) -> "SaleOrigin":
        """An HTTP item, as if it had come on the ingress topic: signed with `key_id`, received via HTTP."""
        return cls(
            SALES_INGRESS, None, None, None, item, ((KEY_ID_HEADER, key_id.encode()), (RECEIVED_VIA, b"http"))
        )

    @classmethod
    def held(cls, row: Mapping[str, Any]) -> "SaleOrigin":
        """The origin a held sale's row keeps (`_held_row`)."""
        return cls(
            row["source_topic"],
            row["source_partition"],
            row["source_offset"],
            row["message_key"],
            row["message_value"],
            tuple((name, value.encode()) for name, value in row["message_headers"]),
        )


RECEIVED_VIA = "x-otop-received-via"


@dataclass(frozen=True)
class Incoming:
    """A POS sale whose signature and schema passed, on its way to be recorded or held."""

    province_code: str
    integration_id: UUID
    key_id: str
    sale: PosSale
    correlation_id: UUID | None
    origin: SaleOrigin

    @cached_property
    def sale_id(self) -> UUID:
        return pos_sale_id(self.province_code, self.integration_id, self.sale.integration_sale_id)

    @property
    def references(self) -> tuple[str, UUID, UUID]:
        return self.province_code, self.sale.product_id, self.sale.market_day_id


def _master_key(settings: SalesSettings) -> str:
    """The signing master key: the ingress runs only where it is set (consumers.py, api.py check)."""
    master_key = settings.master_key()
    assert master_key is not None, "the ingress needs OTOP_SALES_SIGNING_MASTER_KEY"
    return master_key


def _header(record: Record, name: str) -> str | None:
    return next(
        (value.decode(errors="replace") for key, value in record.headers or () if key.lower() == name), None
    )


async def _keys(session: AsyncSession, key_ids: set[str]) -> dict[str, Mapping[str, Any]]:
    keys = tables.integration_keys
    rows = await session.execute(select(keys).where(keys.c.key_id.in_(key_ids)))
    return {row["key_id"]: dict(row) for row in rows.mappings()}


def _admit(
    master_key: str,
    key: Mapping[str, Any] | None,
    key_id: str | None,
    given_signature: str | None,
    origin: SaleOrigin,
) -> Incoming:
    """Verify a sale's signature and read it; Refused says why not."""
    key = verify_signature(master_key, key_id, given_signature, key, origin.value)
    return _read(key, origin)


def _read(key: Mapping[str, Any], origin: SaleOrigin) -> Incoming:
    """A sale signed by the integration key `key` (its stored row), read; Refused says why not."""
    envelope, sale = read_pos_sale(origin.value, key["province_code"])
    return Incoming(
        envelope.province_code,
        key["integration_id"],
        key["key_id"],
        sale,
        envelope.correlation_id or envelope.event_id,
        origin,
    )


async def ingest_records(
    settings: SalesSettings, uow: UnitOfWork, records: Sequence[Record]
) -> list[Rejection]:
    """The ingress batch handler: verify, deduplicate and record (or hold) signed POS messages in bulk;
    the refused ones are returned for the dead-letter topic."""
    master_key = _master_key(settings)
    key_ids = [_header(record, KEY_ID_HEADER) for record in records]
    keys = await _keys(uow.session, {key_id for key_id in key_ids if key_id})
    incoming: list[Incoming] = []
    rejections: list[Rejection] = []
    for record, key_id in zip(records, key_ids, strict=True):
        try:
            incoming.append(
                _admit(
                    master_key,
                    keys.get(key_id) if key_id else None,
                    key_id,
                    _header(record, SIGNATURE_HEADER),
                    SaleOrigin.kafka(record),
                )
            )
        except Refused as refused:
            rejections.append(Rejection(record, refused.code, refused.reason))
    if incoming and faults.strike("apply-twice", INGRESS_GROUP):  # shared/faults.py: recorded as two sales
        twice = incoming[0]
        incoming.append(
            dataclasses.replace(
                twice,
                sale=twice.sale.model_copy(
                    update={"integration_sale_id": twice.sale.integration_sale_id + "+"}
                ),
            )
        )
    judged = await judge_sales(uow.session, [item.references for item in incoming])
    outcomes = await _settle(uow, settings, incoming, judged)
    rejections.extend(
        Rejection(item.origin, outcome.code, outcome.reason)
        for item, outcome in zip(incoming, outcomes, strict=True)
        if isinstance(outcome, Refused)
    )
    return rejections


# How the HTTP ingress answers a batch refused as a whole (README: 401 for a bad or missing signature,
# 403 for another province's key, 422 for a body that is not a JSON array of envelopes).
BATCH_REFUSAL_STATUS: dict[str, int] = {Refusal.PROVINCE_MISMATCH: 403, Refusal.MALFORMED: 422}


def _batch_refused(refused: Refused) -> Refused:
    return Refused(refused.code, refused.reason, BATCH_REFUSAL_STATUS.get(refused.code, 401))


def _items_refused(errors: Sequence[tuple[int, Refused]]) -> Invalid:
    return Invalid([field_error(["body", index], refused.reason, refused.code) for index, refused in errors])


async def ingest_http(
    uow: UnitOfWork,
    settings: SalesSettings,
    province_code: str,
    caller: Principal,
    key_id: str | None,
    given_signature: str | None,
    body: bytes,
) -> list[dict]:
    """The HTTP form of the ingress: a signed JSON array of the same envelopes. All items are recorded
    (or held) or, if any is refused, none (Refused for the whole batch, Invalid naming each item; Forbidden
    for a key of another integration than the caller's client's). Returns each item's outcome."""
    key = (await _keys(uow.session, {key_id})).get(key_id) if key_id else None
    try:
        key = verify_signature(_master_key(settings), key_id, given_signature, key, body)
        if key["province_code"] != province_code:
            raise Refused(Refusal.PROVINCE_MISMATCH, f"the key belongs to province {key['province_code']}")
        items = json.loads(body)
        if not isinstance(items, list) or not 1 <= len(items) <= 1000:
            raise Refused(Refusal.MALFORMED, "the body must be a JSON array of 1 to 1000 envelopes")
    except json.JSONDecodeError as exc:
        raise _batch_refused(Refused(Refusal.MALFORMED, f"not JSON: {exc}")) from exc
    except Refused as refused:
        raise _batch_refused(refused) from refused
    if key["integration_id"] != integration_of(caller):  # the token's client and the key: one integration's
        raise Forbidden("the signing key belongs to another integration than the calling client")
    incoming, errors = [], []
    for index, item in enumerate(items):
        origin = SaleOrigin.http(key["key_id"], json.dumps(item, ensure_ascii=False).encode())
        try:
            incoming.append(_read(key, origin))
        except Refused as refused:
            errors.append((index, refused))
    if errors:
        raise _items_refused(errors)
    judged = await judge_sales(uow.session, [item.references for item in incoming])
    errors = [
        (index, judgement.verdict)
        for index, judgement in enumerate(judged)
        if isinstance(judgement.verdict, Refused)
    ]
    if errors:
        raise _items_refused(errors)
    outcomes = await _settle(uow, settings, incoming, judged)
    return [
        {"integration_sale_id": item.sale.integration_sale_id, "sale_id": item.sale_id, "status": outcome}
        for item, outcome in zip(incoming, outcomes, strict=True)
    ]


async def _settle(
    uow: UnitOfWork,
    settings: SalesSettings,
    incoming: Sequence[Incoming],
    judged: Sequence[Judged],
) -> list[str | Refused]:
    """Record the sales judged RECORD and hold those judged HOLD, in bulk. Each item's outcome:
    'recorded', 'duplicate' (stored before, or earlier in this batch), 'held', or its Refused."""
    to_record = [
        (_pos_row(item, judgement.known_product), item.correlation_id)
        for item, judgement in zip(incoming, judged, strict=True)
        if judgement.verdict is Verdict.RECORD
    ]
    inserted = await store_sales(uow, to_record)
    held = [
        item for item, judgement in zip(incoming, judged, strict=True) if judgement.verdict is Verdict.HOLD
    ]
    if held:
        retry_at = datetime.now(UTC) + timedelta(seconds=settings.sales_hold_retry_s)
        await uow.session.execute(
            insert(tables.held_sales).on_conflict_do_nothing(),
            [_held_row(item, retry_at) for item in {item.sale_id: item for item in held}.values()],
        )
    outcomes: list[str | Refused] = []
    for item, judgement in zip(incoming, judged, strict=True):
        if isinstance(judgement.verdict, Refused):
            outcomes.append(judgement.verdict)
        elif judgement.verdict is Verdict.HOLD:
            outcomes.append("held")
        else:
            outcomes.append("recorded" if inserted.pop(item.sale_id, None) else "duplicate")
    await count_applied(
        uow.session,
        INGRESS_GROUP,
        [
            item.origin.partition
            for item, outcome in zip(incoming, outcomes, strict=True)
            if outcome == "recorded"
        ],
    )
    return outcomes


def _pos_row(item: Incoming, product: Mapping) -> dict:
    return sale_row(
        sale_id=item.sale_id,
        province_code=item.province_code,
        product=product,
        market_day_id=item.sale.market_day_id,
        quantity=item.sale.quantity,
        unit_price_thb=item.sale.unit_price_thb,
        sold_at=item.sale.sold_at,
        channel=SaleChannel.INTEGRATION,
        recorded_by=item.key_id,
        integration_id=item.integration_id,
        integration_sale_id=item.sale.integration_sale_id,
    )


def _held_row(item: Incoming, retry_at: datetime) -> dict:
    origin = item.origin
    return {
        "province_code": item.province_code,
        "integration_id": item.integration_id,
        "integration_sale_id": item.sale.integration_sale_id,
        "key_id": item.key_id,
        "product_id": item.sale.product_id,
        "market_day_id": item.sale.market_day_id,
        "sale": item.sale.model_dump(mode="json"),
        "correlation_id": item.correlation_id,
        "source_topic": origin.topic,
        "source_partition": origin.partition,
        "source_offset": origin.offset,
        "message_key": origin.key,
        "message_value": origin.value,
        "message_headers": [[name, value.decode(errors="replace")] for name, value in origin.headers],
        "next_retry_at": retry_at,
    }


@dataclass(frozen=True)
class HeldSale:
    """A held sale that is due: its row's id and attempts, the sale as it came, and what the read models
    know now of its product and market day."""

    id: int
    attempts: int
    held_at: datetime
    incoming: Incoming
    product: Mapping[str, Any] | None
    market_day: Mapping[str, Any] | None

    @classmethod
    def of(
        cls, row: Mapping, product: Mapping[str, Any] | None, market_day: Mapping[str, Any] | None
    ) -> "HeldSale":
        incoming = Incoming(
            row["province_code"],
            row["integration_id"],
            row["key_id"],
            PosSale.model_validate(row["sale"]),
            row["correlation_id"],
            SaleOrigin.held(row),
        )
        return cls(row["id"], row["attempts"], row["held_at"], incoming, product, market_day)


async def _due_held_sales(session: AsyncSession, limit: int) -> list[HeldSale]:
    """The held sales due for another look, oldest first, locked; replicas share them (SKIP LOCKED)."""
    held = tables.held_sales
    rows = await session.execute(
        select(held)
        .where(held.c.next_retry_at <= func.now())
        .order_by(held.c.next_retry_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    due = rows.mappings().all()
    found = await known_references(
        session, [(row["province_code"], row["product_id"], row["market_day_id"]) for row in due]
    )
    return [
        HeldSale.of(row, product, market_day) for row, (product, market_day) in zip(due, found, strict=True)
    ]


async def retry_held(
    uow: UnitOfWork, settings: SalesSettings, limit: int = 500
) -> tuple[int, list[Rejection]]:
    """Re-evaluate the held sales that are due (domain.judge_held): record those whose references arrived,
    hold the rest again, and take out of the held sales those refused now or held too long. Returns how many
    were re-evaluated and the refused ones, for the caller to dead-letter before the unit commits (so a
    failure loses nothing)."""
    due = await _due_held_sales(uow.session, limit)
    if not due:
        return 0, []
    keys = await _keys(uow.session, {sale.incoming.key_id for sale in due})
    now = datetime.now(UTC)
    to_record: list[tuple[dict, UUID | None]] = []  # the sales' rows and correlation ids
    again: list[int] = []
    refused: list[Rejection] = []
    for sale in due:
        key = keys.get(sale.incoming.key_id)
        try:
            verdict = judge_held(
                sale.incoming.province_code,
                sale.incoming.sale,
                sale.product,
                sale.market_day,
                key_id=sale.incoming.key_id,
                key_active=key is not None and key["active"],
                held_at=sale.held_at,
                now=now,
                hold_max_s=settings.sales_hold_max_s,
            )
        except Refused as refusal:
            refused.append(
                Rejection(sale.incoming.origin, refusal.code, refusal.reason, attempts=sale.attempts + 1)
            )
            continue
        if verdict is Verdict.HOLD:
            again.append(sale.id)
        else:
            assert sale.product is not None, "a sale is recorded only with its product known"
            to_record.append((_pos_row(sale.incoming, sale.product), sale.incoming.correlation_id))
    recorded = await store_sales(uow, to_record)
    await count_applied(
        uow.session,
        INGRESS_GROUP,
        [sale.incoming.origin.partition for sale in due if sale.incoming.sale_id in recorded],
    )
    held = tables.held_sales
    await uow.session.execute(delete(held).where(held.c.id.in_([s.id for s in due if s.id not in again])))
    await uow.session.execute(
        update(held)
        .where(held.c.id.in_(again))
        .values(
            attempts=held.c.attempts + 1,
            next_retry_at=now + timedelta(seconds=settings.sales_hold_retry_s),
        )
    )
    return len(due), refused
