"""Scheduling's Kafka subscribers: read models of the registry's producers and products and of the sales
service's sales (selection ranks from them; no synchronous calls to other services)."""

from functools import partial

from services.scheduling import handlers
from shared import topics
from shared.batch import BatchConsumer
from shared.consumer import EventConsumer
from shared.contracts.registry import ProducerRegistered, ProducerUpdated, ProductRegistered, ProductUpdated
from shared.service import Database
from shared.settings import ServiceSettings


def consumers(db: Database, settings: ServiceSettings) -> list[EventConsumer | BatchConsumer]:
    def consumer(purpose: str, topic: str, handler, *events) -> EventConsumer:
        return EventConsumer(
            group_id=f"scheduling.{purpose}",
            topic=topic,
            handlers=dict.fromkeys(events, handler),
            sessions=db.sessions,
            inbox=db.inbox,
            **settings.retry_options(),
        )

    return [
        consumer(
            "producers",
            topics.REGISTRY_PRODUCERS,
            handlers.producer_changed,
            ProducerRegistered,
            ProducerUpdated,
        ),
        consumer(
            "products", topics.REGISTRY_PRODUCTS, handlers.product_changed, ProductRegistered, ProductUpdated
        ),
        # Sales, the busiest stream, a batch at a time (one transaction, bulk claim and upsert).
        BatchConsumer(
            group_id="scheduling.sales",
            topic=topics.SALES_RECORDED,
            sessions=db.sessions,
            handler=partial(handlers.sales_changed, db.inbox, "scheduling.sales"),
            **settings.retry_options(),
        ),
    ]
