"""Monitoring's Kafka subscribers: thin, each maps event types to a read-model handler."""

from functools import partial

from services.monitoring.handlers import read_models as rm
from shared import topics
from shared.batch import BatchConsumer
from shared.consumer import EventConsumer, Handler
from shared.contracts.registry import ProducerRegistered, ProducerUpdated, ProductRegistered, ProductUpdated
from shared.contracts.scheduling import (
    AttendanceRecorded,
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
from shared.service import Database
from shared.settings import ServiceSettings

SUBSCRIPTIONS: dict[str, tuple[str, dict[type[Payload], Handler]]] = {
    "monitoring.products": (
        topics.REGISTRY_PRODUCTS,
        {ProductRegistered: rm.product_changed, ProductUpdated: rm.product_changed},
    ),
    "monitoring.producers": (
        topics.REGISTRY_PRODUCERS,
        {ProducerRegistered: rm.producer_changed, ProducerUpdated: rm.producer_changed},
    ),
    "monitoring.venues": (
        topics.SCHEDULING_VENUES,
        {VenueRegistered: rm.venue_changed, VenueUpdated: rm.venue_changed},
    ),
    "monitoring.plans": (topics.SCHEDULING_PLANS, {PlanSet: rm.plan_set}),
    "monitoring.market_days": (
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
            AttendanceRecorded: rm.attendance_recorded,
        },
    ),
}
SALES_GROUP = "monitoring.sales"  # sales events come in batches (rm.sales_changed): the busiest stream
GROUPS = {
    **{group_id: topic for group_id, (topic, _) in SUBSCRIPTIONS.items()},
    SALES_GROUP: topics.SALES_RECORDED,
}


def consumers(db: Database, settings: ServiceSettings) -> list[EventConsumer | BatchConsumer]:
    retries = settings.retry_options()
    return [
        *(
            EventConsumer(
                group_id=group_id,
                topic=topic,
                handlers=handlers,
                sessions=db.sessions,
                inbox=db.inbox,
                **retries,
            )
            for group_id, (topic, handlers) in SUBSCRIPTIONS.items()
        ),
        # Up to 2000 sales events a transaction, like the sales ingress: its fixed costs spread further.
        BatchConsumer(
            group_id=SALES_GROUP,
            topic=topics.SALES_RECORDED,
            sessions=db.sessions,
            handler=partial(rm.sales_changed, db.inbox, SALES_GROUP),
            max_records=2000,
            **retries,
        ),
    ]
