"""Monitoring's Kafka subscribers: thin, each maps event types to a read-model handler."""

from services.monitoring.handlers import read_models as rm
from shared import topics
from shared.consumer import EventConsumer
from shared.contracts.registry import ProducerRegistered, ProducerUpdated, ProductRegistered, ProductUpdated
from shared.contracts.sales import SaleCorrected, SaleRecorded, SaleVoided
from shared.contracts.scheduling import (
    AttendanceRecorded,
    InvitationAccepted,
    InvitationDeclined,
    InvitationSent,
    MarketDayCancelled,
    MarketDayHeld,
    MarketDayRescheduled,
    MarketDayScheduled,
    PlanSet,
    VenueRegistered,
)
from shared.service import Database
from shared.settings import ServiceSettings

SUBSCRIPTIONS = {
    "monitoring.products": (topics.REGISTRY_PRODUCTS, {ProductRegistered: rm.product_changed,
                                                       ProductUpdated: rm.product_changed}),
    "monitoring.producers": (topics.REGISTRY_PRODUCERS, {ProducerRegistered: rm.producer_changed,
                                                         ProducerUpdated: rm.producer_changed}),
    "monitoring.venues": (topics.SCHEDULING_VENUES, {VenueRegistered: rm.venue_changed}),
    "monitoring.plans": (topics.SCHEDULING_PLANS, {PlanSet: rm.plan_set}),
    "monitoring.market_days": (topics.SCHEDULING_MARKET_DAYS, {
        **{event: rm.market_day_changed for event in (MarketDayScheduled, MarketDayRescheduled, MarketDayCancelled,
                                                      MarketDayHeld)},
        **{event: rm.invitation_changed for event in (InvitationSent, InvitationAccepted, InvitationDeclined)},
        AttendanceRecorded: rm.attendance_recorded}),
    "monitoring.sales": (topics.SALES_RECORDED, {event: rm.sale_changed for event in (SaleRecorded, SaleCorrected,
                                                                                      SaleVoided)}),
}


def consumers(db: Database, settings: ServiceSettings) -> list[EventConsumer]:
    return [EventConsumer(group_id=group_id, topic=topic, handlers=handlers, sessions=db.sessions, inbox=db.inbox,
                          max_attempts=settings.consumer_max_attempts, retry_backoff_s=settings.consumer_retry_backoff_s)
            for group_id, (topic, handlers) in SUBSCRIPTIONS.items()]
