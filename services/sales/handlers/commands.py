"""Officers' commands: record, correct and void sales; register and revoke POS integrations and their
signing keys. Registering and revoking an integration reach the identity provider and Kafka around their
database change (and undo a registration whose unit of work failed), so those two open their unit of work
themselves; every other command runs in the caller's."""

import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.sales import tables
from services.sales.domain import (
    Refusal,
    Verdict,
    corrected,
    missing,
    officer_sale_id,
    signing_key,
    voided,
)
from services.sales.handlers.recording import judge_sales, sale_row, store_sales
from services.sales.identity import IntegrationClients
from services.sales.inputs import Correction, NewSale
from services.sales.kafka_principals import IntegrationPrincipals
from shared.contracts.sales import SaleChannel, SaleCorrected, SaleState, SaleVoided
from shared.errors import Conflict, Invalid, NotFound, Refused, field_error
from shared.secrets import hash_secret
from shared.service import Database
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def record_officer_sales(
    uow: UnitOfWork,
    province_code: str,
    actor: str,
    new_sales: Sequence[NewSale],
    locate: Callable[[int], list[Any]],
) -> list[dict]:
    """Record sales entered by an officer: all of them, or none (Invalid, each refused sale at `locate(index)`
    of the request) if any names a product or market day the service does not know in this province, or a
    cancelled market day."""
    judged = await judge_sales(
        uow.session, [(province_code, sale.product_id, sale.market_day_id) for sale in new_sales]
    )
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
        sale_row(
            sale_id=officer_sale_id(province_code, sale.client_sale_id) if sale.client_sale_id else uuid4(),
            province_code=province_code,
            product=judgement.known_product,
            market_day_id=sale.market_day_id,
            quantity=sale.quantity,
            unit_price_thb=(
                sale.unit_price_thb
                if sale.unit_price_thb is not None
                else judgement.known_product["price_thb"]
            ),
            sold_at=sale.sold_at or now,
            channel=SaleChannel.OFFICER,
            recorded_by=actor,
        )
        for sale, judgement in zip(new_sales, judged, strict=True)
    ]
    stored = await store_sales(uow, [(row, None) for row in rows])
    sent_before = {row["sale_id"] for row in rows} - stored.keys()  # a device's resend: the sale as recorded
    if sent_before:
        stored |= {
            row["sale_id"]: dict(row)
            for row in (
                await uow.session.execute(
                    select(tables.sales).where(
                        tables.sales.c.province_code == province_code, tables.sales.c.sale_id.in_(sent_before)
                    )
                )
            ).mappings()
        }
    return [stored[row["sale_id"]] for row in rows]


async def correct_sale(
    uow: UnitOfWork, province_code: str, sale_id: UUID, actor: str, correction: Correction
) -> dict:
    sale = await _sale_for_update(uow.session, province_code, sale_id)
    if sale is None:
        raise NotFound("no such sale in this province")
    return await _change(
        uow,
        sale,
        corrected(sale, correction.quantity, correction.unit_price_thb),
        "corrected",
        correction.reason,
        actor,
        SaleCorrected,
    )


async def void_sale(uow: UnitOfWork, province_code: str, sale_id: UUID, actor: str, reason: str) -> dict:
    sale = await _sale_for_update(uow.session, province_code, sale_id)
    if sale is None:
        raise NotFound("no such sale in this province")
    return await _change(uow, sale, voided(sale), "voided", reason, actor, SaleVoided)


async def _sale_for_update(session: AsyncSession, province_code: str, sale_id: UUID) -> dict | None:
    found = await session.execute(
        select(tables.sales)
        .where(tables.sales.c.province_code == province_code, tables.sales.c.sale_id == sale_id)
        .with_for_update()
    )
    row = found.mappings().first()
    return dict(row) if row else None


async def _change(
    uow: UnitOfWork,
    before: dict,
    after: dict,
    action: str,
    reason: str,
    actor: str,
    event_type: type[SaleCorrected] | type[SaleVoided],
) -> dict:
    """Apply a new revision of a sale, with its audit row and event."""
    changed = await uow.session.execute(
        update(tables.sales)
        .where(tables.sales.c.sale_id == before["sale_id"])
        .values({k: after[k] for k in ("revision", "quantity", "unit_price_thb", "amount_thb", "voided")})
        .returning(tables.sales)
    )
    after = dict(changed.mappings().one())  # as stored (numeric scale applied)
    await uow.session.execute(
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
    uow.emit(event_type.model_validate({**after, "reason": reason}), province_code=before["province_code"])
    return after


def _state_json(sale: Mapping) -> dict:
    return SaleState.model_validate(sale).model_dump(mode="json")


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
        async with db.unit_of_work() as uow:
            await uow.session.execute(
                insert(tables.integrations).values(
                    id=integration_id, province_code=province_code, name=name, created_by=actor
                )
            )
            key = await _issue_key(uow.session, province_code, integration_id, master_key)
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
    async with db.unit_of_work() as uow:
        await uow.session.execute(
            update(integrations)
            .where(integrations.c.id == integration_id)
            .values(
                revoked_at=func.coalesce(integrations.c.revoked_at, func.now()),
                revoked_by=func.coalesce(integrations.c.revoked_by, actor),
            )
        )
        await uow.session.execute(
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


async def add_key(uow: UnitOfWork, province_code: str, integration_id: UUID, master_key: str) -> dict:
    """A new key for an integration (rotation)."""
    await check_active_integration(uow.session, province_code, integration_id)
    return {
        "integration_id": integration_id,
        **await _issue_key(uow.session, province_code, integration_id, master_key),
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


async def revoke_key(uow: UnitOfWork, province_code: str, integration_id: UUID, key_id: str) -> None:
    keys = tables.integration_keys
    revoked = await uow.session.execute(
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
