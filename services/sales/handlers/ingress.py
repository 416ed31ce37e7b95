"""The POS ingress: signed sales from the Kafka ingress topic (a batch at a time), the HTTP ingress, and the
sales held until the product or market day they name is known."""

import asyncio
import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from uuid import UUID

from faststream.kafka import KafkaBroker
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
    hold_expired,
    missing,
    pos_sale_id,
    read_pos_sale,
    verify_signature,
)
from services.sales.handlers.recording import Judged, judge_sales, sale_row, store_sales
from shared import faults
from shared.batch import Rejection
from shared.consumer import Record, count_applied, dead_letter
from shared.contracts.sales import PosSale, SaleChannel
from shared.errors import Invalid, Refused, field_error
from shared.failures import Backoff, Status, until_done
from shared.service import Database
from shared.topics import SALES_INGRESS
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


INGRESS_GROUP = "sales.ingress"  # the POS ingress's consumer group; it counts every POS sale recorded
HELD_SALES_GROUP = "sales.held"  # the dlq-consumer-group of sales dead-lettered when their hold ran out


@dataclass(frozen=True)
class Message:
    """A POS message kept aside (a held sale), in the shape of the Kafka record it came as."""

    topic: str
    partition: int | None
    offset: int | None
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes]]


@dataclass(frozen=True)
class Incoming:
    """A POS sale whose signature and schema passed, on its way to be recorded or held."""

    province_code: str
    integration_id: UUID
    key_id: str
    sale: PosSale
    correlation_id: UUID | None
    message: Record

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
    body: bytes,
    message: Record,
) -> Incoming:
    """Verify a message's signature and read it; Refused says why not."""
    return _read(verify_signature(master_key, key_id, given_signature, key, body), body, message)


def _read(key: Mapping[str, Any], body: bytes, message: Record) -> Incoming:
    """A message signed by the integration key `key` (its stored row), read; Refused says why not."""
    envelope, sale = read_pos_sale(body, key["province_code"])
    return Incoming(
        envelope.province_code,
        key["integration_id"],
        key["key_id"],
        sale,
        envelope.correlation_id or envelope.event_id,
        message,
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
                    record.value or b"",
                    record,
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
    judged = await judge_sales(uow.session, [i.references for i in incoming])
    outcomes = await _settle(uow, settings, incoming, judged)
    rejections.extend(
        Rejection(i.message, outcome.code, outcome.reason)
        for i, outcome in zip(incoming, outcomes, strict=True)
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
    key_id: str | None,
    given_signature: str | None,
    body: bytes,
) -> list[dict]:
    """The HTTP form of the ingress: a signed JSON array of the same envelopes. All items are recorded
    (or held) or, if any is refused, none (Refused for the whole batch, Invalid naming each item). Returns
    each item's outcome."""
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
    incoming, errors = [], []
    for index, item in enumerate(items):
        value = json.dumps(item, ensure_ascii=False).encode()
        message = Message(
            SALES_INGRESS,
            None,
            None,
            None,
            value,
            [(KEY_ID_HEADER, key["key_id"].encode()), ("x-otop-received-via", b"http")],
        )
        try:
            incoming.append(_read(key, value, message))
        except Refused as refused:
            errors.append((index, refused))
    if errors:
        raise _items_refused(errors)
    judged = await judge_sales(uow.session, [i.references for i in incoming])
    errors = [(index, j.verdict) for index, j in enumerate(judged) if isinstance(j.verdict, Refused)]
    if errors:
        raise _items_refused(errors)
    outcomes = await _settle(uow, settings, incoming, judged)
    return [
        {"integration_sale_id": i.sale.integration_sale_id, "sale_id": i.sale_id, "status": outcome}
        for i, outcome in zip(incoming, outcomes, strict=True)
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
        (_pos_row(i, j.known_product), i.correlation_id)
        for i, j in zip(incoming, judged, strict=True)
        if j.verdict is Verdict.RECORD
    ]
    inserted = await store_sales(uow, to_record)
    held = [i for i, j in zip(incoming, judged, strict=True) if j.verdict is Verdict.HOLD]
    if held:
        retry_at = datetime.now(UTC) + timedelta(seconds=settings.sales_hold_retry_s)
        await uow.session.execute(
            insert(tables.held_sales).on_conflict_do_nothing(),
            [_held_row(i, retry_at) for i in {i.sale_id: i for i in held}.values()],
        )
    outcomes: list[str | Refused] = []
    for i, j in zip(incoming, judged, strict=True):
        if isinstance(j.verdict, Refused):
            outcomes.append(j.verdict)
        elif j.verdict is Verdict.HOLD:
            outcomes.append("held")
        else:
            outcomes.append("recorded" if inserted.pop(i.sale_id, None) else "duplicate")
    await count_applied(
        uow.session,
        INGRESS_GROUP,
        [i.message.partition for i, outcome in zip(incoming, outcomes, strict=True) if outcome == "recorded"],
    )
    return outcomes


def _pos_row(i: Incoming, product: Mapping) -> dict:
    return sale_row(
        sale_id=i.sale_id,
        province_code=i.province_code,
        product=product,
        market_day_id=i.sale.market_day_id,
        quantity=i.sale.quantity,
        unit_price_thb=i.sale.unit_price_thb,
        sold_at=i.sale.sold_at,
        channel=SaleChannel.INTEGRATION,
        recorded_by=i.key_id,
        integration_id=i.integration_id,
        integration_sale_id=i.sale.integration_sale_id,
    )


def _held_row(i: Incoming, retry_at: datetime) -> dict:
    m = i.message
    return {
        "province_code": i.province_code,
        "integration_id": i.integration_id,
        "integration_sale_id": i.sale.integration_sale_id,
        "key_id": i.key_id,
        "product_id": i.sale.product_id,
        "market_day_id": i.sale.market_day_id,
        "sale": i.sale.model_dump(mode="json"),
        "correlation_id": i.correlation_id,
        "source_topic": m.topic,
        "source_partition": m.partition,
        "source_offset": m.offset,
        "message_key": m.key,
        "message_value": m.value,
        "message_headers": [[name, value.decode(errors="replace")] for name, value in m.headers or ()],
        "next_retry_at": retry_at,
    }


def _incoming_from_held(row: Mapping) -> Incoming:
    message = Message(
        row["source_topic"],
        row["source_partition"],
        row["source_offset"],
        row["message_key"],
        row["message_value"],
        [(name, value.encode()) for name, value in row["message_headers"]],
    )
    return Incoming(
        row["province_code"],
        row["integration_id"],
        row["key_id"],
        PosSale.model_validate(row["sale"]),
        row["correlation_id"],
        message,
    )


async def retry_held(db: Database, broker: KafkaBroker, settings: SalesSettings, limit: int = 500) -> int:
    """Re-evaluate the held sales that are due: record those whose references arrived, dead-letter those
    refused now or held too long, hold the rest again. Replicas share the work (SKIP LOCKED). A dead
    letter is published before the held row's deletion commits, so a failure loses nothing."""
    held = tables.held_sales
    async with db.unit_of_work() as uow:
        session = uow.session
        rows = (
            (
                await session.execute(
                    select(held)
                    .where(held.c.next_retry_at <= func.now())
                    .order_by(held.c.next_retry_at)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            return 0
        incoming = [_incoming_from_held(row) for row in rows]
        judged = await judge_sales(session, [i.references for i in incoming])
        keys = await _keys(session, {row["key_id"] for row in rows})
        now = datetime.now(UTC)
        for index, (row, i, j) in enumerate(zip(rows, incoming, judged, strict=True)):
            key = keys.get(row["key_id"])
            if key is None or not key["active"]:  # revoked while the sale was held: it is not recorded
                judged[index] = Judged(
                    Refused(
                        Refusal.INACTIVE_KEY,
                        f"integration key {row['key_id']!r} was revoked while the sale was held",
                    ),
                    j.product,
                    j.market_day,
                )
            elif j.verdict is Verdict.HOLD and hold_expired(row["held_at"], now, settings.sales_hold_max_s):
                waiting = missing(i.sale.product_id, j.product, i.sale.market_day_id, j.market_day)
                judged[index] = Judged(
                    Refused(
                        Refusal.UNKNOWN_REFERENCE,
                        f"{waiting} still unknown after {settings.sales_hold_max_s:g}s",
                    ),
                    j.product,
                    j.market_day,
                )
        again = [row["id"] for row, j in zip(rows, judged, strict=True) if j.verdict is Verdict.HOLD]
        recorded = await store_sales(
            uow,
            [
                (_pos_row(i, j.known_product), i.correlation_id)
                for i, j in zip(incoming, judged, strict=True)
                if j.verdict is Verdict.RECORD
            ],
        )
        await count_applied(
            session, INGRESS_GROUP, [i.message.partition for i in incoming if i.sale_id in recorded]
        )
        for row, i, j in zip(rows, incoming, judged, strict=True):
            if isinstance(j.verdict, Refused):
                await dead_letter(
                    broker,
                    i.message,
                    j.verdict.reason,
                    code=j.verdict.code,
                    group_id=HELD_SALES_GROUP,
                    attempts=row["attempts"] + 1,
                    sessions=db.sessions,
                )
        await session.execute(
            delete(held).where(held.c.id.in_([r["id"] for r in rows if r["id"] not in again]))
        )
        await session.execute(
            update(held)
            .where(held.c.id.in_(again))
            .values(
                attempts=held.c.attempts + 1,
                next_retry_at=now + timedelta(seconds=settings.sales_hold_retry_s),
            )
        )
    return len(rows)


async def retry_held_forever(
    db: Database, broker: KafkaBroker, settings: SalesSettings, status: Status, poll_s: float = 1.0
) -> None:
    """Re-evaluates held sales while the service runs. The database or Kafka away (a transient failure) is
    waited out, backing off, with `status` not ready; any other failure is logged and tried again later. A
    held sale is dead-lettered only by its own verdict, never for a failure."""
    backoff = Backoff(poll_s, settings.consumer_max_backoff_s)
    while True:
        try:
            busy = (
                await until_done(
                    lambda: retry_held(db, broker, settings),
                    status=status,
                    backoff=backoff,
                    label="held sales",
                )
                > 0
            )
        except Exception:
            log.error("re-evaluating held sales failed; trying again", exc_info=True)
            busy = False
        if not busy:
            await asyncio.sleep(poll_s)
