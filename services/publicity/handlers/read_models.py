"""The public read models, from the registry's and scheduling's events. Each row holds the newest state of
its aggregate (a revision, or for invitations the event's time), so redelivered and reordered events leave
it correct; the consumers' inbox claim makes every handler idempotent (shared.read_models). Only what may be
shown is kept: a producer's contact only with their consent, never a cancel reason or a decline's note."""

from sqlalchemy import select

from services.publicity import tables
from shared.contracts.registry import ProducerState, ProductState, ProductStatus
from shared.contracts.scheduling import (
    InvitationAccepted,
    InvitationDeclined,
    InvitationSent,
    InvitationWithdrawn,
    MarketDayRescheduled,
    MarketDayState,
    PlanSet,
    VenueRegistered,
)
from shared.events import Envelope
from shared.read_models import keep_newest
from shared.unit_of_work import UnitOfWork


def producer_row(envelope: Envelope, event: ProducerState) -> dict:
    consent = event.public_contact_consent
    return {
        "id": event.producer_id,
        "revision": event.revision,
        "province_code": envelope.province_code,
        "name": event.name,
        "producer_type": event.producer_type,
        "amphoe_code": event.amphoe_code,
        "tambon_code": event.tambon_code,
        # Withdrawn consent clears what was stored: the newer revision overwrites both.
        "contact_name": event.contact_name if consent else None,
        "phone": event.phone if consent else None,
    }


def product_row(envelope: Envelope, event: ProductState) -> dict:
    return {
        "id": event.product_id,
        "province_code": envelope.province_code,
        "active": event.status == ProductStatus.ACTIVE,
        **event.model_dump(
            include={
                "revision",
                "producer_id",
                "name",
                "category",
                "star_level",
                "nawatwithi",
                "price_thb",
                "unit",
                "photo_id",
            }
        ),
    }


async def venue_changed(uow: UnitOfWork, envelope: Envelope, event: VenueRegistered) -> None:
    row = {
        "id": event.venue_id,
        "province_code": envelope.province_code,
        **event.model_dump(
            include={
                "revision",
                "name",
                "kind",
                "amphoe_code",
                "tambon_code",
                "address",
                "latitude",
                "longitude",
            }
        ),
    }
    await keep_newest(uow.session, tables.venues, [row])


async def plan_set(uow: UnitOfWork, envelope: Envelope, event: PlanSet) -> None:
    row = {
        "id": event.plan_id,
        "province_code": envelope.province_code,
        **event.model_dump(include={"revision", "name", "first_month", "last_month"}),
    }
    await keep_newest(uow.session, tables.plans, [row])


async def market_day_changed(uow: UnitOfWork, envelope: Envelope, event: MarketDayState) -> None:
    """The newest state; a reschedule also keeps where and when the day was before it (what the public
    pages show as changed), which only the stored row knows."""
    md = tables.market_days.c
    stored = (
        (
            await uow.session.execute(
                select(tables.market_days).where(md.id == event.market_day_id).with_for_update()
            )
        )
        .mappings()
        .one_or_none()
    )
    if stored is not None and stored["revision"] >= event.revision:
        return
    moved = isinstance(event, MarketDayRescheduled)
    before = {
        "previous_day": stored["day"] if stored else None,
        "previous_starts_at": stored["starts_at"] if stored else None,
        "previous_venue_name": stored["venue_name"] if stored else None,
    }
    if not moved:
        before = {name: stored[name] if stored else None for name in before}
    row = {
        "id": event.market_day_id,
        "province_code": envelope.province_code,
        "rescheduled": moved or bool(stored and stored["rescheduled"]),
        "changed_at": envelope.occurred_at,
        **before,
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
            }
        ),
    }
    await keep_newest(uow.session, tables.market_days, [row])


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
    }
    await keep_newest(uow.session, tables.lineup, [row], version="as_of")
