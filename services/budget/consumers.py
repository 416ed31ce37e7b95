"""The budget's Kafka subscribers: scheduling's market days and invitations (a packing list's day and
lineup size), a batch at a time."""

from services.budget.handlers import read_models as rm
from shared import topics
from shared.batch import BatchConsumer
from shared.contracts.scheduling import InvitationSent, MarketDayState
from shared.read_models import Events, read_model_consumers
from shared.service import Database
from shared.settings import ServiceSettings

READ_MODELS = {
    "budget.market_days": Events(
        topics.SCHEDULING_MARKET_DAYS,
        # every market-day event (scheduled, rescheduled, cancelled, held), every invitation event
        {MarketDayState: rm.market_day_changed, InvitationSent: rm.invitation_changed},
    ),
}


def consumers(db: Database, settings: ServiceSettings) -> list[BatchConsumer]:
    return read_model_consumers(db.unit_of_work, db.inbox, settings.retry_options(), READ_MODELS)
