"""Monitoring's Kafka subscribers: thin, each maps an event type to a handler."""

from services.monitoring import handlers
from shared import topics
from shared.consumer import EventConsumer
from shared.contracts.registry import ProductRegistered, ProductUpdated
from shared.service import Database
from shared.settings import ServiceSettings


def consumers(db: Database, settings: ServiceSettings) -> list[EventConsumer]:
    return [
        EventConsumer(
            group_id="monitoring.products",
            topic=topics.REGISTRY_PRODUCTS,
            handlers={ProductRegistered: handlers.product_changed, ProductUpdated: handlers.product_changed},
            sessions=db.sessions,
            inbox=db.inbox,
            max_attempts=settings.consumer_max_attempts,
            retry_backoff_s=settings.consumer_retry_backoff_s,
        )
    ]
