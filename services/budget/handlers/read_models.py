"""Scheduling's market days and invitations, from its events: a packing list needs the day and the size
of its lineup (invitations sent or accepted). Rows keep the newest state (shared.read_models), so
redelivered and reordered events leave them right."""

from services.budget import tables
from shared.contracts.scheduling import (
    InvitationAccepted,
    InvitationDeclined,
    InvitationSent,
    InvitationWithdrawn,
    MarketDayState,
)
from shared.events import Envelope
from shared.read_models import keep_newest
from shared.unit_of_work import UnitOfWork

INVITATION_STATUS = {
    InvitationSent: "sent",
    InvitationAccepted: "accepted",
    InvitationDeclined: "declined",
    InvitationWithdrawn: "withdrawn",
}
IN_LINEUP = ("sent", "accepted")


async def market_day_changed(uow: UnitOfWork, envelope: Envelope, event: MarketDayState) -> None:
    row = {
        "id": event.market_day_id,
        "province_code": envelope.province_code,
        **event.model_dump(include={"revision", "day", "venue_name", "status"}),
    }
    await keep_newest(uow.session, tables.market_days, [row])


async def invitation_changed(uow: UnitOfWork, envelope: Envelope, event: InvitationSent) -> None:
    row = {
        "id": event.invitation_id,
        "province_code": envelope.province_code,
        "market_day_id": event.market_day_id,
        "status": INVITATION_STATUS[type(event)],
        "as_of": envelope.occurred_at,
    }
    await keep_newest(uow.session, tables.invitations, [row], version="as_of")
