"""Publicity's Kafka subscribers: thin, each keeps a public read model a batch of records at a time
(shared.batch.BatchConsumer, shared.read_models)."""

from sqlalchemy import Table

from services.publicity import tables
from services.publicity.handlers import read_models as rm
from shared import topics
from shared.batch import BatchConsumer
from shared.consumer import Handler
from shared.contracts.registry import ProducerState, ProductState
from shared.contracts.scheduling import (
    InvitationAccepted,
    InvitationDeclined,
    InvitationSent,
    InvitationWithdrawn,
    MarketDayCancelled,
    MarketDayHeld,
    MarketDayRescheduled,
    MarketDayScheduled,
    PlanSet,
    VenueRegistered,
    VenueUpdated,
)
from shared.events import Payload
from shared.read_models import RowOf, in_order, newest_state
from shared.service import Database
from shared.settings import ServiceSettings

# group id -> (topic, read-model table, state, row of an event): an import publishes thousands at once.
REGISTRY: dict[str, tuple[str, Table, type[Payload], RowOf]] = {
    "publicity.products": (topics.REGISTRY_PRODUCTS, tables.products, ProductState, rm.product_row),
    "publicity.producers": (topics.REGISTRY_PRODUCERS, tables.producers, ProducerState, rm.producer_row),
}
SUBSCRIPTIONS: dict[str, tuple[str, dict[type[Payload], Handler]]] = {
    "publicity.venues": (
        topics.SCHEDULING_VENUES,
        {VenueRegistered: rm.venue_changed, VenueUpdated: rm.venue_changed},
    ),
    "publicity.plans": (topics.SCHEDULING_PLANS, {PlanSet: rm.plan_set}),
    "publicity.market_days": (
        topics.SCHEDULING_MARKET_DAYS,
        {
            **{
                event: rm.market_day_changed
                for event in (MarketDayScheduled, MarketDayRescheduled, MarketDayCancelled, MarketDayHeld)
            },
            **{
                event: rm.invitation_changed
                for event in (InvitationSent, InvitationAccepted, InvitationDeclined, InvitationWithdrawn)
            },
        },
    ),
}
GROUPS: dict[str, str] = {
    **{group_id: topic for group_id, (topic, *_) in REGISTRY.items()},
    **{group_id: topic for group_id, (topic, _) in SUBSCRIPTIONS.items()},
}


def consumers(db: Database, settings: ServiceSettings) -> list[BatchConsumer]:
    retries = settings.retry_options()
    return [
        *(
            BatchConsumer(
                group_id=group_id,
                topic=topic,
                unit_of_work=db.unit_of_work,
                handler=in_order(db.inbox, group_id, handlers),
                **retries,
            )
            for group_id, (topic, handlers) in SUBSCRIPTIONS.items()
        ),
        *(
            BatchConsumer(
                group_id=group_id,
                topic=topic,
                unit_of_work=db.unit_of_work,
                handler=newest_state(db.inbox, group_id, table, state, row_of),
                **retries,
            )
            for group_id, (topic, table, state, row_of) in REGISTRY.items()
        ),
    ]
