"""Sales use cases: change state and stage the matching events in one transaction."""

import asyncio
import dataclasses
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any
from uuid import UUID, uuid4

from faststream.kafka import KafkaBroker
from sqlalchemy import BindParameter, String, Uuid, any_, bindparam, cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.sales import tables
from services.sales.config import SalesSettings
from services.sales.domain import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    Refusal,
    TotalsBy,
    Verdict,
    amount_thb,
    corrected,
    hold_expired,
    judge,
    missing,
    officer_sale_id,
    pos_sale_id,
    read_pos_sale,
    signing_key,
    verify_signature,
    voided,
)
from services.sales.identity import IntegrationClients
from services.sales.inputs import Correction, NewSale
from services.sales.kafka_principals import IntegrationPrincipals
from shared import faults
from shared.batch import Rejection, add_events
from shared.consumer import Record, count_applied, dead_letter
from shared.contracts.registry import ProductState
from shared.contracts.sales import PosSale, SaleChannel, SaleCorrected, SaleRecorded, SaleState, SaleVoided
from shared.contracts.scheduling import MarketDayState
from shared.db import arrays, unnested
from shared.errors import Conflict, Invalid, NotFound, Refused, field_error
from shared.events import Envelope
from shared.failures import Backoff, Status, until_done
from shared.secrets import hash_secret
from shared.service import Database
from shared.topics import SALES_INGRESS

log = logging.getLogger(__name__)
INGRESS_GROUP = "sales.ingress"  # the POS ingress's consumer group; it counts every POS sale recorded
HELD_SALES_GROUP = "sales.held"  # the dlq-consumer-group of sales dead-lettered when their hold ran out

# --- read models of other services' events


def product_row(envelope: Envelope, event: ProductState) -> dict:
    """The products read model's row of a product event (kept by shared.read_models.newest_state)."""
    return {
        "id": event.product_id,
        "province_code": envelope.province_code,
        **event.model_dump(
            include={"revision", "producer_id", "name", "category", "price_thb", "unit", "status"}
        ),
    }


async def products_arrived(session: AsyncSession, rows: list[dict]) -> None:
    await _retry_held_now(session, tables.held_sales.c.product_id == any_(_ids(rows)))


def market_day_row(envelope: Envelope, event: MarketDayState) -> dict:
    return {
        "id": event.market_day_id,
        "province_code": envelope.province_code,
        **event.model_dump(include={"revision", "venue_id", "venue_name", "day", "status"}),
    }


async def market_days_arrived(session: AsyncSession, rows: list[dict]) -> None:
    await _retry_held_now(session, tables.held_sales.c.market_day_id == any_(_ids(rows)))


def _ids(rows: list[dict]) -> BindParameter:
    """The rows' ids as one array parameter (the statement stays the same whatever the batch's size)."""
    return bindparam("ids", [row["id"] for row in rows], type_=ARRAY(Uuid()))


async def _retry_held_now(session: AsyncSession, waiting_on) -> None:
    """A reference arrived: the sales held for it are due for re-evaluation now."""
    await session.execute(update(tables.held_sales).where(waiting_on).values(next_retry_at=func.now()))


@dataclass(frozen=True)
class Judged:
    verdict: Verdict | Refused
    product: Mapping[str, Any] | None
    market_day: Mapping[str, Any] | None

    @property
    def known_product(self) -> Mapping[str, Any]:
        """The product of a sale judged RECORD (the read model knows it)."""
        assert self.product is not None, "a sale is recorded only with its product known"
        return self.product


async def _judge(session: AsyncSession, sales: Sequence[tuple[str, UUID, UUID]]) -> list[Judged]:
    """For each (province, product, market day): record, hold or refuse, by what the read models know."""
    products = await _by_id(session, tables.products, {product for _, product, _ in sales})
    days = await _by_id(session, tables.market_days, {day for _, _, day in sales})
    judged = []
    for province_code, product_id, market_day_id in sales:
        product, market_day = products.get(product_id), days.get(market_day_id)
        verdict: Verdict | Refused
        try:
            verdict = judge(province_code, product, market_day)
        except Refused as refused:
            verdict = refused
        judged.append(Judged(verdict, product, market_day))
    return judged


async def _by_id(session: AsyncSession, table, ids: set) -> dict:
    rows = await session.execute(select(table).where(table.c.id.in_(ids)))
    return {row["id"]: row for row in rows.mappings()}


# --- recording


def _sale_row(
    *,
    sale_id: UUID,
    province_code: str,
    product: Mapping,
    market_day_id: UUID,
    quantity,
    unit_price_thb,
    sold_at: datetime,
    channel: SaleChannel,
    recorded_by: str,
    integration_id: UUID | None = None,
    integration_sale_id: str | None = None,
) -> dict:
    return {
        "sale_id": sale_id,
        "province_code": province_code,
        "revision": 1,
        "market_day_id": market_day_id,
        "product_id": product["id"],
        "producer_id": product["producer_id"],
        "quantity": quantity,
        "unit_price_thb": unit_price_thb,
        "amount_thb": amount_thb(quantity, unit_price_thb),
        "sold_at": sold_at,
        "channel": channel,
        "voided": False,
        "integration_id": integration_id,
        "integration_sale_id": integration_sale_id,
        "recorded_by": recorded_by,
        "recorded_at": datetime.now(UTC),
    }


_SALE_COLUMNS = [column.name for column in tables.sales.c]
_INSERT_SALES = (
    insert(tables.sales)
    .from_select(_SALE_COLUMNS, unnested(tables.sales, _SALE_COLUMNS))
    .on_conflict_do_nothing()
    .returning(tables.sales)
)


async def _store(
    db: Database, session: AsyncSession, rows: Sequence[tuple[dict, UUID | None]]
) -> dict[UUID, dict]:
    """Insert sales in bulk, each (row, correlation id), skipping an integration's sale already stored,
    and stage a SaleRecorded for each one inserted. Returns the inserted sales as stored, by id."""
    unique = {row["sale_id"]: correlation for row, correlation in rows}
    if not unique:
        return {}
    inserted = {
        row["sale_id"]: dict(row)
        for row in (
            await session.execute(
                _INSERT_SALES, arrays({row["sale_id"]: row for row, _ in rows}.values(), _SALE_COLUMNS)
            )
        ).mappings()
    }
    await add_events(
        session,
        db.outbox,
        [
            (SaleRecorded.model_validate(row), row["province_code"], unique[sale_id])
            for sale_id, row in inserted.items()
        ],
        source=db.source,
    )
    return inserted


async def record_officer_sales(
    db: Database,
    session: AsyncSession,
    province_code: str,
    actor: str,
    new_sales: Sequence[NewSale],
    locate: Callable[[int], list[Any]],
) -> list[dict]:
    """Record sales entered by an officer: all of them, or none (Invalid, each refused sale at `locate(index)`
    of the request) if any names a product or market day the service does not know in this province, or a
    cancelled market day."""
    judged = await _judge(session, [(province_code, s.product_id, s.market_day_id) for s in new_sales])
    errors = []
    for index, (sale, verdict) in enumerate(zip(new_sales, judged, strict=True)):
        if isinstance(verdict.verdict, Refused):
            errors.append((index, verdict.verdict))
        elif verdict.verdict is Verdict.HOLD:
            errors.append(
                (
                    index,
                    Refused(
                        Refusal.UNKNOWN_REFERENCE,
                        "unknown "
                        + missing(sale.product_id, verdict.product, sale.market_day_id, verdict.market_day),
                    ),
                )
            )
    if errors:
        raise Invalid([field_error(locate(index), refused.reason, refused.code) for index, refused in errors])
    now = datetime.now(UTC)
    rows = [
        _sale_row(
            sale_id=officer_sale_id(province_code, s.client_sale_id) if s.client_sale_id else uuid4(),
            province_code=province_code,
            product=j.known_product,
            market_day_id=s.market_day_id,
            quantity=s.quantity,
            unit_price_thb=s.unit_price_thb if s.unit_price_thb is not None else j.known_product["price_thb"],
            sold_at=s.sold_at or now,
            channel=SaleChannel.OFFICER,
            recorded_by=actor,
        )
        for s, j in zip(new_sales, judged, strict=True)
    ]
    stored = await _store(db, session, [(row, None) for row in rows])
    sent_before = {row["sale_id"] for row in rows} - stored.keys()  # a device's resend: the sale as recorded
    if sent_before:
        stored |= {
            row["sale_id"]: dict(row)
            for row in (
                await session.execute(
                    select(tables.sales).where(
                        tables.sales.c.province_code == province_code, tables.sales.c.sale_id.in_(sent_before)
                    )
                )
            ).mappings()
        }
    return [stored[row["sale_id"]] for row in rows]


# --- corrections and voids


async def correct_sale(
    db: Database, session: AsyncSession, province_code: str, sale_id: UUID, actor: str, correction: Correction
) -> dict:
    sale = await _sale_for_update(session, province_code, sale_id)
    if sale is None:
        raise NotFound("no such sale in this province")
    return await _change(
        db,
        session,
        sale,
        corrected(sale, correction.quantity, correction.unit_price_thb),
        "corrected",
        correction.reason,
        actor,
        SaleCorrected,
    )


async def void_sale(
    db: Database, session: AsyncSession, province_code: str, sale_id: UUID, actor: str, reason: str
) -> dict:
    sale = await _sale_for_update(session, province_code, sale_id)
    if sale is None:
        raise NotFound("no such sale in this province")
    return await _change(db, session, sale, voided(sale), "voided", reason, actor, SaleVoided)


async def _sale_for_update(session: AsyncSession, province_code: str, sale_id: UUID) -> dict | None:
    found = await session.execute(
        select(tables.sales)
        .where(tables.sales.c.province_code == province_code, tables.sales.c.sale_id == sale_id)
        .with_for_update()
    )
    row = found.mappings().first()
    return dict(row) if row else None


async def _change(
    db: Database,
    session: AsyncSession,
    before: dict,
    after: dict,
    action: str,
    reason: str,
    actor: str,
    event_type: type[SaleCorrected] | type[SaleVoided],
) -> dict:
    """Apply a new revision of a sale, with its audit row and event."""
    changed = await session.execute(
        update(tables.sales)
        .where(tables.sales.c.sale_id == before["sale_id"])
        .values({k: after[k] for k in ("revision", "quantity", "unit_price_thb", "amount_thb", "voided")})
        .returning(tables.sales)
    )
    after = dict(changed.mappings().one())  # as stored (numeric scale applied)
    await session.execute(
        insert(tables.sale_audit).values(
            sale_id=before["sale_id"],
            province_code=before["province_code"],
            revision=after["revision"],
            action=action,
            reason=reason,
            actor=actor,
            before=_state_json(before),
            after=_state_json(after),
        )
    )
    await db.add_event(
        session, event_type.model_validate({**after, "reason": reason}), province_code=before["province_code"]
    )
    return after


def _state_json(sale: Mapping) -> dict:
    return SaleState.model_validate(sale).model_dump(mode="json")


# --- integrations


async def register_integration(
    db: Database,
    clients: IntegrationClients,
    principals: IntegrationPrincipals,
    province_code: str,
    name: str,
    actor: str,
    master_key: str,
) -> dict:
    """A new POS integration: its identity-provider client (for the HTTP ingress) and its Kafka principal
    (for the ingress topic), then its row and first signing key in one transaction. The answer carries
    every secret, once; the service keeps none.

    Nothing is half made: if the client or the principal cannot be made, nothing is stored
    (IdentityUnavailable, KafkaUnavailable); if the transaction does not commit, both are deleted again.
    Should even that fail, they are left without anyone ever having seen their secrets (generated here and
    never answered): unusable."""
    integration_id = uuid4()
    client = await clients.create(province_code, integration_id, name)
    try:
        kafka = await principals.create(province_code, integration_id)
        async with db.transaction() as session:
            await session.execute(
                insert(tables.integrations).values(
                    id=integration_id, province_code=province_code, name=name, created_by=actor
                )
            )
            key = await _issue_key(session, province_code, integration_id, master_key)
    except BaseException:
        for undo in (clients.delete, principals.delete):
            try:
                await undo(province_code, integration_id)
            except Exception:
                log.exception(
                    "a credential of the integration %s, whose registration failed, is left (never shown)",
                    integration_id,
                )
        raise
    return {"integration_id": integration_id, "name": name, **key, **client, **kafka}


async def revoke_integration(
    db: Database,
    clients: IntegrationClients,
    principals: IntegrationPrincipals,
    province_code: str,
    integration_id: UUID,
    actor: str,
) -> None:
    """The integration stops for good: its client is disabled (no new token; tokens already issued expire
    within minutes) and its Kafka principal deleted (writes refused within a second), then its keys are
    revoked and it is marked revoked. Idempotent; NotFound if there is no such integration in the province. If
    the identity provider or Kafka cannot be reached nothing is marked (IdentityUnavailable,
    KafkaUnavailable): a retry does it all."""
    integrations, keys = tables.integrations, tables.integration_keys
    async with db.sessions() as session:
        known = await session.scalar(
            select(integrations.c.id).where(
                integrations.c.id == integration_id, integrations.c.province_code == province_code
            )
        )
    if known is None:
        raise NotFound("no such integration in this province")
    await clients.set_enabled(province_code, integration_id, False)
    await principals.delete(province_code, integration_id)
    async with db.transaction() as session:
        await session.execute(
            update(integrations)
            .where(integrations.c.id == integration_id)
            .values(
                revoked_at=func.coalesce(integrations.c.revoked_at, func.now()),
                revoked_by=func.coalesce(integrations.c.revoked_by, actor),
            )
        )
        await session.execute(
            update(keys)
            .where(keys.c.integration_id == integration_id)
            .values(active=False, revoked_at=func.coalesce(keys.c.revoked_at, func.now()))
        )


async def check_active_integration(session: AsyncSession, province_code: str, integration_id: UUID) -> None:
    """NotFound unless the province has this integration; Conflict if it was revoked (it gets no new key and
    no new Kafka password)."""
    found = (
        await session.execute(
            select(tables.integrations.c.revoked_at).where(
                tables.integrations.c.id == integration_id,
                tables.integrations.c.province_code == province_code,
            )
        )
    ).first()
    if found is None:
        raise NotFound("no such integration in this province")
    if found.revoked_at is not None:
        raise Conflict(f"the integration was revoked at {found.revoked_at.isoformat()}")


async def add_key(session: AsyncSession, province_code: str, integration_id: UUID, master_key: str) -> dict:
    """A new key for an integration (rotation)."""
    await check_active_integration(session, province_code, integration_id)
    return {
        "integration_id": integration_id,
        **await _issue_key(session, province_code, integration_id, master_key),
    }


async def _issue_key(
    session: AsyncSession, province_code: str, integration_id: UUID, master_key: str
) -> dict:
    key_id = f"sk_{province_code}_{secrets.token_hex(8)}"
    key = signing_key(master_key, key_id)
    await session.execute(
        insert(tables.integration_keys).values(
            key_id=key_id,
            integration_id=integration_id,
            province_code=province_code,
            key_hash=hash_secret(key),
            active=True,
        )
    )
    return {"key_id": key_id, "signing_key": key}


async def revoke_key(session: AsyncSession, province_code: str, integration_id: UUID, key_id: str) -> None:
    keys = tables.integration_keys
    revoked = await session.execute(
        update(keys)
        .where(
            keys.c.key_id == key_id,
            keys.c.integration_id == integration_id,
            keys.c.province_code == province_code,
        )
        .values(active=False, revoked_at=func.coalesce(keys.c.revoked_at, func.now()))
        .returning(keys.c.key_id)
    )
    if revoked.first() is None:
        raise NotFound("no such key of this integration")


async def list_integrations(session: AsyncSession, province_code: str) -> list[dict]:
    integrations, keys = tables.integrations, tables.integration_keys
    found = {
        row["id"]: {**row, "keys": []}
        for row in (
            await session.execute(
                select(integrations)
                .where(integrations.c.province_code == province_code)
                .order_by(integrations.c.created_at)
            )
        ).mappings()
    }
    for key in (
        await session.execute(
            select(keys.c.key_id, keys.c.integration_id, keys.c.active, keys.c.created_at, keys.c.revoked_at)
            .where(keys.c.province_code == province_code)
            .order_by(keys.c.created_at)
        )
    ).mappings():
        found[key["integration_id"]]["keys"].append(key)
    return list(found.values())


# --- POS ingestion: Kafka batches, HTTP batches, held sales


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
    db: Database, settings: SalesSettings, session: AsyncSession, records: Sequence[Record]
) -> list[Rejection]:
    """The ingress batch handler: verify, deduplicate and record (or hold) signed POS messages in bulk;
    the refused ones are returned for the dead-letter topic."""
    master_key = _master_key(settings)
    key_ids = [_header(record, KEY_ID_HEADER) for record in records]
    keys = await _keys(session, {key_id for key_id in key_ids if key_id})
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
    judged = await _judge(session, [i.references for i in incoming])
    outcomes = await _settle(db, session, settings, incoming, judged)
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
    db: Database,
    settings: SalesSettings,
    session: AsyncSession,
    province_code: str,
    key_id: str | None,
    given_signature: str | None,
    body: bytes,
) -> list[dict]:
    """The HTTP form of the ingress: a signed JSON array of the same envelopes. All items are recorded
    (or held) or, if any is refused, none (Refused for the whole batch, Invalid naming each item). Returns
    each item's outcome."""
    key = (await _keys(session, {key_id})).get(key_id) if key_id else None
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
    judged = await _judge(session, [i.references for i in incoming])
    errors = [(index, j.verdict) for index, j in enumerate(judged) if isinstance(j.verdict, Refused)]
    if errors:
        raise _items_refused(errors)
    outcomes = await _settle(db, session, settings, incoming, judged)
    return [
        {"integration_sale_id": i.sale.integration_sale_id, "sale_id": i.sale_id, "status": outcome}
        for i, outcome in zip(incoming, outcomes, strict=True)
    ]


async def _settle(
    db: Database,
    session: AsyncSession,
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
    inserted = await _store(db, session, to_record)
    held = [i for i, j in zip(incoming, judged, strict=True) if j.verdict is Verdict.HOLD]
    if held:
        retry_at = datetime.now(UTC) + timedelta(seconds=settings.sales_hold_retry_s)
        await session.execute(
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
        session,
        INGRESS_GROUP,
        [i.message.partition for i, outcome in zip(incoming, outcomes, strict=True) if outcome == "recorded"],
    )
    return outcomes


def _pos_row(i: Incoming, product: Mapping) -> dict:
    return _sale_row(
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
    async with db.transaction() as session:
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
        judged = await _judge(session, [i.references for i in incoming])
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
        recorded = await _store(
            db,
            session,
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


# --- queries


async def get_sale(session: AsyncSession, province_code: str, sale_id: UUID) -> dict:
    row = (
        (
            await session.execute(
                select(tables.sales).where(
                    tables.sales.c.province_code == province_code, tables.sales.c.sale_id == sale_id
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("no such sale in this province")
    return dict(row)


async def list_sales(
    session: AsyncSession,
    province_code: str,
    market_day_id: UUID | None,
    product_id: UUID | None,
    limit: int,
    offset: int,
) -> tuple[int, list[dict]]:
    s = tables.sales
    where = [s.c.province_code == province_code]
    if market_day_id:
        where.append(s.c.market_day_id == market_day_id)
    if product_id:
        where.append(s.c.product_id == product_id)
    total = await session.scalar(select(func.count()).select_from(s).where(*where)) or 0
    rows = await session.execute(
        select(s).where(*where).order_by(s.c.recorded_at, s.c.sale_id).limit(limit).offset(offset)
    )
    return total, [dict(r) for r in rows.mappings()]


async def audit_trail(session: AsyncSession, province_code: str, sale_id: UUID) -> list[dict]:
    a = tables.sale_audit
    rows = await session.execute(
        select(a).where(a.c.province_code == province_code, a.c.sale_id == sale_id).order_by(a.c.revision)
    )
    return [dict(r) for r in rows.mappings()]


async def list_held(session: AsyncSession, province_code: str, limit: int, offset: int) -> list[dict]:
    h, p, m = tables.held_sales, tables.products, tables.market_days
    rows = await session.execute(
        select(
            h.c.integration_sale_id,
            h.c.key_id,
            h.c.product_id,
            h.c.market_day_id,
            h.c.held_at,
            h.c.attempts,
            h.c.next_retry_at,
            p.c.id.is_not(None).label("product_known"),
            m.c.id.is_not(None).label("market_day_known"),
        )
        .select_from(h.outerjoin(p, p.c.id == h.c.product_id).outerjoin(m, m.c.id == h.c.market_day_id))
        .where(h.c.province_code == province_code)
        .order_by(h.c.held_at, h.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(r) for r in rows.mappings()]


async def totals(
    session: AsyncSession, province_code: str, by: TotalsBy, first_day: date | None, last_day: date | None
) -> list[dict]:
    """Sales (voids excluded, corrections applied) per product, market day, producer, venue, month or
    category; market days dated within [first_day, last_day] if given."""
    s, p, m = tables.sales, tables.products, tables.market_days
    key, label = {
        TotalsBy.PRODUCT: (s.c.product_id, p.c.name),
        TotalsBy.MARKET_DAY: (
            s.c.market_day_id,
            func.concat(func.to_char(m.c.day, "YYYY-MM-DD"), " ", m.c.venue_name),
        ),
        TotalsBy.PRODUCER: (s.c.producer_id, None),
        TotalsBy.VENUE: (m.c.venue_id, m.c.venue_name),
        TotalsBy.MONTH: (func.to_char(m.c.day, "YYYY-MM"), None),
        TotalsBy.CATEGORY: (p.c.category, None),
    }[by]
    group: list[Any] = [key] if label is None else [key, label]
    where = [s.c.province_code == province_code, s.c.voided.is_(False)]
    if first_day:
        where.append(m.c.day >= first_day)
    if last_day:
        where.append(m.c.day <= last_day)
    rows = await session.execute(
        select(
            cast(key, String).label("key"),
            (label if label is not None else cast(None, String)).label("label"),
            func.count().label("sales"),
            func.sum(s.c.quantity).label("quantity"),
            func.sum(s.c.amount_thb).label("amount_thb"),
        )
        .select_from(s.outerjoin(p, p.c.id == s.c.product_id).outerjoin(m, m.c.id == s.c.market_day_id))
        .where(*where)
        .group_by(*group)
        .order_by(func.sum(s.c.amount_thb).desc(), cast(key, String))
    )
    return [dict(r) for r in rows.mappings()]
