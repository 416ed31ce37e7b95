"""Publicity's Kafka subscribers: thin, each keeps a public read model a batch of records at a time
(shared.batch.BatchConsumer, shared.read_models)."""

from services.publicity import tables
from services.publicity.handlers import read_models as rm
from shared import topics
from shared.batch import BatchConsumer
from shared.contracts.registry import ProducerState, ProductState
from shared.contracts.scheduling import (
    InvitationSent,
    MarketDayState,
    PlanSet,
    VenueRegistered,
    VenueUpdated,
)
from shared.read_models import Events, States, read_model_consumers
from shared.service import Database
from shared.settings import ServiceSettings

# group id -> what it keeps: an import publishes thousands of products at once, a season thousands of
# invitations; every group a batch at a time.
READ_MODELS: dict[str, States | Events] = {
    "publicity.products": States(topics.REGISTRY_PRODUCTS, tables.products, ProductState, rm.product_row),
    "publicity.producers": States(
        topics.REGISTRY_PRODUCERS, tables.producers, ProducerState, rm.producer_row
    ),
    "publicity.venues": Events(
        topics.SCHEDULING_VENUES,
        {VenueRegistered: rm.venue_changed, VenueUpdated: rm.venue_changed},
    ),
    "publicity.plans": Events(topics.SCHEDULING_PLANS, {PlanSet: rm.plan_set}),
    "publicity.market_days": Events(
        topics.SCHEDULING_MARKET_DAYS,
        # every market-day event (scheduled, rescheduled, cancelled, held), every invitation event
        {MarketDayState: rm.market_day_changed, InvitationSent: rm.invitation_changed},
    ),
}
GROUPS: dict[str, str] = {group_id: model.topic for group_id, model in READ_MODELS.items()}


def consumers(db: Database, settings: ServiceSettings) -> list[BatchConsumer]:
    return read_model_consumers(db.unit_of_work, db.inbox, settings.retry_options(), READ_MODELS)
