"""The budget's Kafka subscribers: scheduling's market days and invitations (a packing list's day and
lineup size), a batch at a time."""

from services.budget.handlers import read_models as rm
from shared import topics
from shared.batch import BatchConsumer
from shared.consumer import Handler
from shared.contracts.scheduling import (
    InvitationAccepted,
    InvitationDeclined,
    InvitationSent,
    InvitationWithdrawn,
    MarketDayCancelled,
    MarketDayHeld,
    MarketDayRescheduled,
    MarketDayScheduled,
)
from shared.events import Payload
from shared.read_models import in_order
from shared.service import Database
from shared.settings import ServiceSettings

MARKET_DAYS = "budget.market_days"


def consumers(db: Database, settings: ServiceSettings) -> list[BatchConsumer]:
    handlers: dict[type[Payload], Handler] = {
        **{
            event: rm.market_day_changed
            for event in (MarketDayScheduled, MarketDayRescheduled, MarketDayCancelled, MarketDayHeld)
        },
        **{
            event: rm.invitation_changed
            for event in (InvitationSent, InvitationAccepted, InvitationDeclined, InvitationWithdrawn)
        },
    }
    return [
        BatchConsumer(
            group_id=MARKET_DAYS,
            topic=topics.SCHEDULING_MARKET_DAYS,
            unit_of_work=db.unit_of_work,
            handler=in_order(db.inbox, MARKET_DAYS, handlers),
            **settings.retry_options(),
        )
    ]
